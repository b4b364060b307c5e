/* The scan master and its scanner processes. The master is started (fork and exec,
 * never a copy of the packet engine's memory) as the unprivileged user with no
 * capabilities, loads the engine once and forks scanners that share it copy-on-write.
 * A scanner gets one message at a time through a memfd, answers a verdict, and runs
 * under seccomp in its own temporary directory. A crashed scanner costs its message:
 * the engine asks for a new one, forked from the loaded engine at once. */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "scan.h"
#include "scanproc.h"

ssize_t scanproc_send(int fd, const void *rec, size_t len, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)rec, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds > 2) {
		errno = EINVAL;
		return -1;
	}
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

ssize_t scanproc_recv(int fd, void *rec, size_t len, int *fds, unsigned int maxfds,
		      unsigned int *nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = rec, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	*nfds = 0;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		unsigned int k, got;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		got = (unsigned int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < got; k++) {
			int d;

			memcpy(&d, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			if (*nfds < maxfds)
				fds[(*nfds)++] = d;
			else
				close(d);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		while (*nfds)
			close(fds[--*nfds]);
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

/* --- a scanner --- */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int has(const uint8_t *msg, size_t len, const char *pattern)
{
	return pattern[0] && memmem(msg, len, pattern, strlen(pattern));
}

/* test_sandbox: what the filter answers to a socket and an exec */
static void probe_sandbox(struct scanproc_verdict *v)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), se = errno, xe;
	char *const argv[] = { "true", NULL };

	if (fd >= 0)
		close(fd);
	execv("/bin/true", argv);
	xe = errno;
	v->result = SCAN_INFECTED;
	snprintf(v->virus, sizeof(v->virus), "Mailscan.Test.Sandbox.socket-%s.exec-%s",
		 fd >= 0 ? "ALLOWED" : strerrorname_np(se), strerrorname_np(xe));
}

static void scan_one(struct scan_engine *e, const struct config *c, int memfd, size_t len,
		     struct scanproc_verdict *v)
{
	static const uint8_t empty[1];
	const uint8_t *msg = empty;
	uint64_t t0 = mono_us();

	memset(v, 0, sizeof(*v));
	if (len) {
		void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, memfd, 0);

		if (p == MAP_FAILED) {
			v->result = SCAN_ERROR;
			snprintf(v->virus, sizeof(v->virus), "mmap: %s", strerror(errno));
			return;
		}
		msg = p;
	}
	if (has(msg, len, c->test_crash)) {
		signal(SIGSEGV, SIG_DFL); /* the death a real crash gets, sanitizers or not */
		raise(SIGSEGV);
	}
	while (has(msg, len, c->test_spin))
		;
	if (has(msg, len, c->test_sandbox))
		probe_sandbox(v);
	else
		v->result = (int)scan_engine_scan(e, msg, len, v->virus, sizeof(v->virus));
	v->scan_us = mono_us() - t0;
	if (len)
		munmap((void *)(uintptr_t)msg, len);
}

static void scanner_tmpdir(const struct config *c, char *dir, size_t cap)
{
	snprintf(dir, cap, "%s/scanner-%d", c->tmpdir, (int)getpid());
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void __attribute__((noreturn))
scanner_main(int sock, struct scan_engine *e, const struct config *c)
{
	char dir[PATH_MAX + 32], err[256];

	prctl(PR_SET_NAME, "ms-scanner");
	/* nothing of the master's: its channel, its other scanners' sockets */
	close_range(3, (unsigned int)sock - 1, 0);
	close_range((unsigned int)sock + 1, ~0U, 0);
	scanner_tmpdir(c, dir, sizeof(dir));
	if (mkdir(dir, 0700) || scan_engine_set_tmpdir(e, dir)) {
		fprintf(stderr, "mailscand: scanner %s: %s\n", dir, strerror(errno));
		_exit(1);
	}
	if (sandbox_scanner(err, sizeof(err))) {
		fprintf(stderr, "mailscand: scanner: %s\n", err);
		_exit(1);
	}
	for (;;) {
		struct scanproc_job job;
		struct scanproc_verdict v;
		unsigned int nfds;
		int memfd = -1;
		ssize_t n = scanproc_recv(sock, &job, sizeof(job), &memfd, 1, &nfds);

		if (n <= 0)
			break; /* the packet engine closed its end: done */
		if (n != sizeof(job) || nfds != 1) {
			memset(&v, 0, sizeof(v));
			v.result = SCAN_ERROR;
			snprintf(v.virus, sizeof(v.virus), "malformed request");
		} else {
			scan_one(e, c, memfd, (size_t)job.len, &v);
		}
		if (nfds)
			close(memfd);
		if (scanproc_send(sock, &v, sizeof(v), NULL, 0) < 0)
			break;
	}
	rmdir(dir);
	_exit(0);
}

/* --- the master --- */

static unsigned int children;

static void reap(const struct config *c)
{
	char dir[PATH_MAX + 32];
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		children--;
		if (WIFSIGNALED(st))
			log_warnx("scanner %d killed by signal %d (%s)", (int)pid, WTERMSIG(st),
				  strsignal(WTERMSIG(st)));
		else if (WEXITSTATUS(st))
			log_warnx("scanner %d exited with status %d", (int)pid, WEXITSTATUS(st));
		/* what libclamav left behind when its scanner died */
		snprintf(dir, sizeof(dir), "%s/scanner-%d", c->tmpdir, (int)pid);
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
}

static void spawn(int chan, struct scan_engine *e, const struct config *c)
{
	struct scanproc_spawned r = { 0 };
	int sv[2], fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		r.err = errno;
		scanproc_send(chan, &r, sizeof(r), NULL, 0);
		return;
	}
	pid = fork();
	if (pid == 0)
		scanner_main(sv[1], e, c);
	close(sv[1]);
	if (pid < 0 || (fds[1] = pidfd_open(pid, 0)) < 0) {
		r.err = errno;
		if (pid > 0)
			kill(pid, SIGKILL);
		close(sv[0]);
		scanproc_send(chan, &r, sizeof(r), NULL, 0);
		return;
	}
	children++;
	r.pid = pid;
	fds[0] = sv[0];
	if (scanproc_send(chan, &r, sizeof(r), fds, 2) < 0)
		kill(pid, SIGKILL);
	close(fds[0]);
	close(fds[1]);
}

static int master_main(int chan)
{
	static struct config c;
	struct scanproc_loaded hello = { 0 };
	struct privsep_id self = { getuid(), getgid() };
	struct scan_engine *e = NULL;
	unsigned int nfds;
	ssize_t n;

	prctl(PR_SET_NAME, "ms-master");
	signal(SIGPIPE, SIG_IGN);
	n = scanproc_recv(chan, &c, sizeof(c), NULL, 0, &nfds);
	if (n != (ssize_t)sizeof(c))
		return 2;
	log_init("mailscand", 0);
	log_open((enum log_target)c.log_target, c.log_facility, c.syslog_socket, hello.err,
		 sizeof(hello.err));
	hello.pid = getpid();
	if (privsep_none(&self, hello.err, sizeof(hello.err)) == 0 &&
	    scan_engine_init(hello.err, sizeof(hello.err)) == 0)
		e = scan_engine_load(&c, hello.err, sizeof(hello.err));
	if (e) {
		hello.ok = 1;
		hello.sigs = scan_engine_signatures(e);
	}
	if (scanproc_send(chan, &hello, sizeof(hello), NULL, 0) < 0 || !e) {
		scan_engine_free(e);
		return 1;
	}
	for (;;) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		struct scanproc_spawn req;

		poll(&p, 1, 1000);
		reap(&c);
		if (!p.revents)
			continue;
		n = scanproc_recv(chan, &req, sizeof(req), NULL, 0, &nfds);
		if (n <= 0)
			break; /* the engine is done with this master */
		if (n == sizeof(req))
			spawn(chan, e, &c);
	}
	close(chan);
	/* the scanners end when the engine closes their sockets */
	while (children) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);

		if (pid < 0)
			break;
		children--;
	}
	scan_engine_free(e);
	return 0;
}

void scanproc_dispatch(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], SCANPROC_ARG))
		return;
	exit(master_main(SCANPROC_CHAN_FD));
}
