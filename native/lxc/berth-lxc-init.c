// berth-lxc-init: the first process of a berth LXC container (built static: the image may have no
// libc and no shell). LXC starts it as lxc.init.cmd, which LXC splits on spaces without any
// quoting, so every argument arrives percent-encoded (src/backends/lxc/lxc-mapping.ts encodes):
//
//   berth-lxc-init [--stdio FD] [--console FD [--console-size RxC]] [--wait DIR] [--report FIFO] [--unset NAME]... [--cwd DIR] [--env NAME=VALUE]... -- ARG...
//
// --stdio FD: fds FD, FD+1 and FD+2 become stdin, stdout and stderr (berth-lxc-start keeps the
// stdio berth was given there, away from liblxc's messages).
// --console FD: process.terminal: open a terminal in the container's devpts (/dev/ptmx), send its
// master over the unix socket FD (berth-lxc-start relays it to the console socket), and make the
// slave the controlling terminal and stdin, stdout and stderr. --console-size ROWSxCOLS: its size.
// --wait DIR: before running ARG..., report on the FIFO DIR/report ("ok" or "error: why") and
// then block on the FIFO DIR/start until `berth start` writes a byte to it (OCI created → running).
// --report FIFO: for `berth exec --detach`: an error is written to FIFO ("error: why") instead
// of stderr; before the exec "ok", and FIFO stays open close-on-exec, so berth reads end-of-file
// once ARG... runs (an exec that fails after "ok" still adds its "error: why").
// --unset NAME: drop NAME from the environment (LXC itself adds container=lxc).
// --cwd DIR, --env NAME=VALUE: for `berth exec` through lxc-attach, which has neither; with any
// --env the environment is exactly the --env list.
// Then it execs ARG... in place: the user process keeps the init's pid, as OCI requires.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "berth-fd.h"

static int hex(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

// Decodes in place; "%00" alone is the empty argument. Returns 0, or -1 on a malformed escape.
static int decode(char *s) {
	if (strcmp(s, "%00") == 0) {
		s[0] = '\0';
		return 0;
	}
	char *out = s;
	for (char *in = s; *in; in++) {
		if (*in != '%') {
			*out++ = *in;
			continue;
		}
		int hi = hex(in[1]), lo = hi < 0 ? -1 : hex(in[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
		*out++ = (char)(hi * 16 + lo);
		in += 2;
	}
	*out = '\0';
	return 0;
}

static const char *wait_dir;
static const char *report_fifo;

// Reports to berth (when it waits for us) or to stderr, then exits.
static void fail(int code, const char *fmt, const char *a, const char *b) {
	char msg[1024];
	snprintf(msg, sizeof msg, fmt, a, b);
	if (wait_dir || report_fifo) {
		char path[4096];
		if (report_fifo) snprintf(path, sizeof path, "%s", report_fifo);
		else snprintf(path, sizeof path, "%s/report", wait_dir);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			dprintf(fd, "error: %s\n", msg);
			close(fd);
			_exit(code);
		}
	}
	dprintf(2, "berth-lxc-init: %s\n", msg);
	_exit(code);
}

// execvp's lookup, done before waiting so that a missing program fails `create`, as in runc.
static int findable(const char *file) {
	if (strchr(file, '/')) return access(file, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path) path = "/bin:/usr/bin"; /* glibc execvp's default */
	char buf[4096];
	for (const char *p = path;; p = strchr(p, ':') + 1) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0) n = 1, p = ".";
		if (n + strlen(file) + 2 <= sizeof buf) {
			memcpy(buf, p, n);
			buf[n] = '/';
			strcpy(buf + n + 1, file);
			struct stat st;
			if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return 1;
		}
		if (!end) return 0;
	}
}

// The terminal, opened inside the container so that its slave is one of the container's /dev/pts.
static void take_terminal(int sock, const char *size) {
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0) fail(125, "process.terminal: cannot open /dev/ptmx in the container (it needs a devpts mount at /dev/pts): %s%s", strerror(errno), "");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(125, "process.terminal: cannot unlock the terminal: %s%s", strerror(errno), "");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0) fail(125, "process.terminal: cannot open the terminal's slave: %s%s", strerror(errno), "");
	if (size) {
		unsigned rows, cols;
		if (sscanf(size, "%ux%u", &rows, &cols) != 2) fail(125, "bad --console-size %s%s", size, "");
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail(125, "process.consoleSize: %s%s", strerror(errno), "");
	}
	unsigned n = 0;
	char name[64] = "/dev/pts/?";
	if (ioctl(master, TIOCGPTN, &n) == 0) snprintf(name, sizeof name, "/dev/pts/%u", n);
	if (berth_send_fd(sock, master, name) < 0) fail(125, "process.terminal: cannot send the terminal to the console socket: %s%s", strerror(errno), "");
	close(master);
	close(sock);
	setsid(); // fails only when this is a session leader already, which is as good
	if (ioctl(slave, TIOCSCTTY, 0) < 0) fail(125, "process.terminal: cannot make %s the controlling terminal: %s", name, strerror(errno));
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0) fail(125, "process.terminal: dup2: %s%s", strerror(errno), "");
	if (slave > 2) close(slave);
}

int main(int argc, char **argv) {
	int i, nenv = 0, console = -1;
	const char *cwd = NULL, *console_size = NULL;
	char **env = calloc((size_t)argc + 1, sizeof(char *));
	if (!env) fail(125, "out of memory%s%s", "", "");
	for (i = 1; i < argc; i++)
		if (decode(argv[i]) < 0) fail(125, "malformed (percent-encoded) argument %s%s", argv[i], "");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--stdio") == 0 && i + 1 < argc) {
			int from = atoi(argv[++i]);
			if (from < 3) fail(125, "bad --stdio %s%s", argv[i], "");
			for (int fd = 0; fd < 3; fd++) {
				if (dup2(from + fd, fd) < 0) fail(125, "cannot take stdio from fd %s: %s", argv[i], strerror(errno));
				close(from + fd);
			}
		} else if (strcmp(argv[i], "--console") == 0 && i + 1 < argc) {
			console = atoi(argv[++i]);
			if (console < 3) fail(125, "bad --console %s%s", argv[i], "");
		} else if (strcmp(argv[i], "--console-size") == 0 && i + 1 < argc) {
			console_size = argv[++i];
		} else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc) {
			wait_dir = argv[++i];
		} else if (strcmp(argv[i], "--report") == 0 && i + 1 < argc) {
			report_fifo = argv[++i];
		} else if (strcmp(argv[i], "--unset") == 0 && i + 1 < argc) {
			unsetenv(argv[++i]);
		} else if (strcmp(argv[i], "--cwd") == 0 && i + 1 < argc) {
			cwd = argv[++i];
		} else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) {
			env[nenv++] = argv[++i];
		} else {
			fail(125, "unknown option %s%s", argv[i], "");
		}
	}
	if (i >= argc) fail(125, "no program to run%s%s", "", "");
	if (console >= 0) take_terminal(console, console_size);
	char **args = argv + i;
	if (nenv > 0) {
		clearenv();
		for (int e = 0; e < nenv; e++)
			if (putenv(env[e]) != 0) fail(125, "cannot set %s: %s", env[e], strerror(errno));
	}
	if (cwd && chdir(cwd) != 0) fail(126, "cannot change to directory %s: %s", cwd, strerror(errno));
	// In runc's words, which Docker and Podman match to exit 126 or 127.
	if (!findable(args[0])) {
		if (!strchr(args[0], '/')) fail(127, "exec: \"%s\": executable file not found in $PATH%s", args[0], "");
		if (access(args[0], F_OK) == 0) fail(126, "exec: \"%s\": permission denied%s", args[0], "");
		fail(127, "exec: \"%s\": stat %s: no such file or directory", args[0], args[0]);
	}

	if (wait_dir) {
		char path[4096];
		snprintf(path, sizeof path, "%s/report", wait_dir);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) fail(125, "cannot open %s: %s", path, strerror(errno));
		dprintf(fd, "ok\n");
		close(fd);
		snprintf(path, sizeof path, "%s/start", wait_dir);
		// An open without a byte (a prober) is not a start: wait for the byte.
		for (;;) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				if (errno == EINTR) continue;
				fail(125, "cannot open %s: %s", path, strerror(errno));
			}
			char byte;
			ssize_t n;
			do n = read(fd, &byte, 1);
			while (n < 0 && errno == EINTR);
			close(fd);
			if (n == 1) break;
		}
	}
	if (report_fifo) {
		int fd = open(report_fifo, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || dprintf(fd, "ok\n") < 0) fail(125, "cannot write %s: %s", report_fifo, strerror(errno));
	}
	execvp(args[0], args);
	if (report_fifo) fail(errno == ENOENT ? 127 : 126, "cannot run %s: %s", args[0], strerror(errno));
	dprintf(2, "berth-lxc-init: cannot run %s: %s\n", args[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
