// subreaper: runs a command as a child subreaper (as conmon and containerd's shim are) and
// reports every process it reaps, so a test can see who ends up reparented to it and with what
// status. Built by test/helpers/subreaper.ts.
//
//   subreaper OUTFILE PROGRAM ARG...
//
// Writes "PID exit N" or "PID signal N" to OUTFILE for each reaped process (PID "cmd" for the
// command itself); exits once it has no children left (0, or 125 when it cannot start).
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 3) return 125;
	FILE *out = fopen(argv[1], "w");
	if (!out || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return 125;
	pid_t child = fork();
	if (child < 0) return 125;
	if (child == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR) continue;
			break;
		}
		char who[16];
		if (pid == child) snprintf(who, sizeof who, "cmd");
		else snprintf(who, sizeof who, "%d", (int)pid);
		if (WIFEXITED(status)) fprintf(out, "%s exit %d\n", who, WEXITSTATUS(status));
		else if (WIFSIGNALED(status)) fprintf(out, "%s signal %d\n", who, WTERMSIG(status));
		fflush(out);
	}
	return fclose(out) == 0 ? 0 : 125;
}
