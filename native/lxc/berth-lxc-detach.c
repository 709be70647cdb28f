// berth-lxc-detach: starts PROGRAM as an orphan and prints its pid.
//
//   berth-lxc-detach OUTFILE PROGRAM ARG...
//
// Forks; the child execs PROGRAM; this process writes the child's pid to OUTFILE once the exec
// succeeded (a close-on-exec pipe tells) and exits 0, so the child is reparented to the nearest
// subreaper (conmon, containerd's shim) and berth, which runs this, never reaps it: that
// subreaper sees PROGRAM's exit status. The child keeps this process's stdio (which is the
// exec'd process's) and signal dispositions. Exit 125 with the reason on stderr when PROGRAM
// cannot run.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: berth-lxc-detach OUTFILE PROGRAM ARG...\n");
		return 125;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		fprintf(stderr, "berth-lxc-detach: pipe: %s\n", strerror(errno));
		return 125;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "berth-lxc-detach: fork: %s\n", strerror(errno));
		return 125;
	}
	if (pid == 0) {
		close(p[0]);
		execv(argv[2], argv + 2);
		int e = errno;
		if (write(p[1], &e, sizeof e) < 0) _exit(125);
		_exit(125);
	}
	close(p[1]);
	int e;
	ssize_t n;
	do n = read(p[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof e) {
		waitpid(pid, NULL, 0);
		fprintf(stderr, "berth-lxc-detach: cannot run %s: %s\n", argv[2], strerror(e));
		return 125;
	}
	FILE *out = fopen(argv[1], "we");
	if (!out || fprintf(out, "%d\n", (int)pid) < 0 || fclose(out) != 0) {
		fprintf(stderr, "berth-lxc-detach: cannot write %s: %s\n", argv[1], strerror(errno));
		return 125;
	}
	return 0;
}
