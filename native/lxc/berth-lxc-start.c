// berth-lxc-start: runs one LXC container in the foreground through liblxc and exits with its
// init's exit status (128 + signal when killed), which lxc-start(1) does not report.
//
//   berth-lxc-start [--console-socket SOCKET] NAME LXCPATH LOGFILE
//   berth-lxc-start --ns-type PATH...
//
// --console-socket (process.terminal): the init opens the terminal itself, in the container's
// own devpts (so that ttyname() and `tty` work there, as with runc and crun), and sends its
// master over fd 6, one end of a socket pair, to a relay this process forks before starting
// the container; the relay passes it on to SOCKET (SCM_RIGHTS) and exits.
//
// --ns-type: prints one line per PATH: the namespace type it is (as named in /proc/PID/ns:
// net, ipc, ...), or "error: why" when it is not a namespace; for the lxc backend's check of
// linux.namespaces[].path before anything is made (the kernel's ioctl NS_GET_NSTYPE).
//
// liblxc's own messages go to LOGFILE, never to the stdio berth was given: that belongs to the
// container. liblxc writes some errors to stderr whatever its log settings (and the monitor keeps
// running for the container's whole life), so this process moves its stdio to fds 3, 4 and 5,
// which the container's init inherits (liblxc does not close inherited fds in the foreground)
// and berth-lxc-init (--stdio 3) moves back to 0, 1 and 2; its own 0, 1 and 2 become /dev/null
// and LOGFILE. Exit 125 with "berth-lxc-start: ..." as the last line of LOGFILE when the
// container could not be started at all.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <lxc/lxccontainer.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include "berth-fd.h"
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static int failed(const char *logfile, const char *what, const char *name) {
	FILE *f = fopen(logfile, "a");
	if (f) {
		fprintf(f, "berth-lxc-start: %s (container %s)\n", what, name);
		fclose(f);
	}
	return 125;
}

static const char *ns_name(int type) {
	switch (type) {
	case CLONE_NEWNET: return "net";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNS: return "mnt";
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWCGROUP: return "cgroup";
#ifdef CLONE_NEWTIME
	case CLONE_NEWTIME: return "time";
#endif
	default: return "unknown";
	}
}

static int ns_types(int n, char **paths) {
	for (int i = 0; i < n; i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			printf("error: %s\n", strerror(errno));
			continue;
		}
		int type = ioctl(fd, NS_GET_NSTYPE);
		if (type < 0) printf("error: %s\n", errno == ENOTTY || errno == EINVAL ? "not a namespace file" : strerror(errno));
		else printf("%s\n", ns_name(type));
		close(fd);
	}
	return fflush(stdout) == 0 ? 0 : 125;
}

/** The fd the init takes the terminal's socket from (berth-lxc-init --console 6). */
#define CONSOLE_FD 6

/**
 * Connects to SOCKET and forks the relay (double fork: it is not liblxc's child, and this
 * process reaps the middle one now); leaves fd 6 as the init's end of the socket pair.
 */
static const char *start_relay(const char *socket_path) {
	int out = berth_connect(socket_path);
	if (out < 0) return "cannot connect to the console socket";
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) return "cannot make a socket pair";
	pid_t pid = fork();
	if (pid < 0) return "cannot fork the console relay";
	if (pid == 0) {
		if (fork() != 0) _exit(0);
		close(sp[1]);
		for (int fd = 0; fd < 7; fd++)
			if (fd != sp[0] && fd != out) close(fd);
		char name[256];
		int master = berth_recv_fd(sp[0], name, sizeof name);
		if (master >= 0) berth_send_fd(out, master, name);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	close(sp[0]);
	close(out);
	if (dup2(sp[1], CONSOLE_FD) < 0) return "cannot pass the console socket on";
	close(sp[1]);
	return NULL;
}

int main(int argc, char **argv) {
	if (argc >= 2 && strcmp(argv[1], "--ns-type") == 0) return ns_types(argc - 2, argv + 2);
	const char *console = NULL;
	if (argc >= 3 && strcmp(argv[1], "--console-socket") == 0) {
		console = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: berth-lxc-start [--console-socket SOCKET] NAME LXCPATH LOGFILE | --ns-type PATH...\n");
		return 125;
	}
	const char *name = argv[1], *lxcpath = argv[2], *logfile = argv[3];
	// Above the fds the init inherits (3-6).
	int logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0) {
		perror("berth-lxc-start: cannot open the log or /dev/null");
		return 125;
	}
	int highlog = fcntl(logfd, F_DUPFD_CLOEXEC, 10), highnull = fcntl(nullfd, F_DUPFD_CLOEXEC, 10);
	if (highlog < 0 || highnull < 0) return failed(logfile, "cannot move the log's fd", name);
	close(logfd);
	close(nullfd);
	logfd = highlog;
	nullfd = highnull;
	for (int fd = 0; fd < 3; fd++)
		if (dup2(fd, fd + 3) < 0) return failed(logfile, "cannot keep the container's stdio", name);
	if (console) {
		const char *why = start_relay(console);
		if (why) return failed(logfile, why, name);
	}
	if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0) return failed(logfile, "cannot redirect liblxc's output", name);
	struct lxc_log log = { .name = name, .lxcpath = lxcpath, .file = logfile, .level = "ERROR", .prefix = "berth-lxc-start", .quiet = true };
	if (lxc_log_init(&log) != 0) return failed(logfile, "cannot open the LXC log", name);
	struct lxc_container *c = lxc_container_new(name, lxcpath);
	if (!c) return failed(logfile, "cannot load the container", name);
	if (!c->is_defined(c)) {
		lxc_container_put(c);
		return failed(logfile, "no LXC config for the container", name);
	}
	c->daemonize = false;
	if (!c->start(c, 0, NULL)) {
		lxc_container_put(c);
		return failed(logfile, "LXC could not start the container", name);
	}
	int status = c->error_num;
	lxc_container_put(c);
	if (WIFEXITED(status)) return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
	// liblxc 5.0 reports an init killed by signal n as (n << 8) | 0x7f, the shape of a
	// stopped-by status (it builds it from the SIGCHLD siginfo): still a death by signal n.
	if ((status & 0xff) == 0x7f && WSTOPSIG(status) > 0) return 128 + WSTOPSIG(status);
	char what[64];
	snprintf(what, sizeof what, "unknown exit status %#x", (unsigned)status);
	return failed(logfile, what, name);
}
