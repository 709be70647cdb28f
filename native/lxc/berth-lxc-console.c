// berth-lxc-console: connects to a console socket and runs PROGRAM with the connection at FD, for
// `berth exec` with a terminal on the lxc backend.
//
//   berth-lxc-console SOCKET FD PROGRAM ARG...
//
// PROGRAM is lxc-attach running berth-lxc-init --console FD, which inherits the connection (lxc-attach
// keeps inherited fds), opens the terminal in the container's own devpts and sends its master
// over it (SCM_RIGHTS), as runc's --console-socket has it. Execs in place, so a pid file naming
// this process names lxc-attach. Exit 125 with the reason on stderr before PROGRAM runs.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include "berth-fd.h"

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "usage: berth-lxc-console SOCKET FD PROGRAM ARG...\n");
		return 125;
	}
	int want = atoi(argv[2]);
	int sock = berth_connect(argv[1]);
	if (want < 3 || sock < 0) {
		fprintf(stderr, "berth-lxc-console: cannot connect to the console socket %s: %s\n", argv[1], want < 3 ? "bad fd" : strerror(errno));
		return 125;
	}
	// dup2 clears close-on-exec on the copy; the original is close-on-exec.
	if (sock != want && dup2(sock, want) < 0) {
		fprintf(stderr, "berth-lxc-console: dup2: %s\n", strerror(errno));
		return 125;
	}
	execv(argv[3], argv + 3);
	fprintf(stderr, "berth-lxc-console: cannot run %s: %s\n", argv[3], strerror(errno));
	return 125;
}
