// A console socket receiver for tests, as conmon or containerd's shim use --console-socket:
//
//   console SOCKET OUTFILE INPUT -- PROGRAM ARG...
//
// Listens on the unix socket SOCKET, runs PROGRAM (a runtime given --console-socket SOCKET),
// takes the one pty master sent over it (SCM_RIGHTS), sets its window size to 33 rows and 101
// columns (the resize path), writes INPUT to it, and copies everything read from it to OUTFILE
// until the terminal's last slave is closed (EIO) and PROGRAM has exited. Prints "exit N" or
// "signal N" for PROGRAM, and "got-terminal NAME" when a master arrived (NAME: the message's data).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: console SOCKET OUTFILE INPUT -- PROGRAM ARG...\n");
		return 2;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 1) < 0) {
		perror("console: listen");
		return 2;
	}
	FILE *out = fopen(argv[2], "we");
	if (!out) {
		perror("console: OUTFILE");
		return 2;
	}
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[5], argv + 5);
		perror("console: exec");
		_exit(127);
	}
	int master = -1, status = -1;
	char name[256] = "";
	for (;;) {
		if (status == -1) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) status = st;
		}
		if (master < 0) {
			struct pollfd p = { .fd = ls, .events = POLLIN };
			if (poll(&p, 1, 50) > 0) {
				int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
				char cbuf[CMSG_SPACE(sizeof(int))];
				struct iovec iov = { .iov_base = name, .iov_len = sizeof name - 1 };
				struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
				ssize_t n = c < 0 ? -1 : recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
				struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
				if (cm && cm->cmsg_type == SCM_RIGHTS) {
					name[n] = '\0';
					memcpy(&master, CMSG_DATA(cm), sizeof(int));
					struct winsize ws = { .ws_row = 33, .ws_col = 101 };
					if (ioctl(master, TIOCSWINSZ, &ws) < 0) perror("console: TIOCSWINSZ");
					if (write(master, argv[3], strlen(argv[3])) < 0) perror("console: write");
					printf("got-terminal %s\n", name);
				}
				if (c >= 0) close(c);
			} else if (status != -1) break; // PROGRAM is done and sent nothing
			continue;
		}
		char buf[4096];
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0) continue;
		ssize_t n = read(master, buf, sizeof buf);
		if (n <= 0) break; // EIO: no slave is open any more
		fwrite(buf, 1, (size_t)n, out);
		fflush(out);
	}
	if (status == -1) waitpid(pid, &status, 0);
	fclose(out);
	unlink(argv[1]);
	if (WIFEXITED(status)) printf("exit %d\n", WEXITSTATUS(status));
	else printf("signal %d\n", WTERMSIG(status));
	return 0;
}
