/* The scan master and its scanner processes. The master is started (fork and exec,
 * never a copy of the packet engine's memory) as the unprivileged user with no
 * capabilities, loads the engine once and forks scanners that share it copy-on-write.
 * A scanner gets one message at a time through a memfd, answers a verdict, and runs
 * under seccomp in its own temporary directory. A crashed scanner costs its message:
 * the engine asks for a new one, forked from the loaded engine at once. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
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

#define SCANNER_NOFILE 128 /* libclamav's temporary files, nested archives, its channel */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static const uint8_t *has(const uint8_t *msg, size_t len, const char *pattern)
{
	return pattern[0] ? memmem(msg, len, pattern, strlen(pattern)) : NULL;
}

/* --- test_sandbox: each way out a taken-over process could try, and its errno --- */

struct probe_env {
	pid_t engine, master;
	int sock, memfd; /* the scanner's channel and the message; -1 in the master */
	const struct config *c;
};

static int probe_socket(const struct probe_env *p)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)p;
	if (fd >= 0)
		close(fd);
	return fd;
}

static int probe_connect(const struct probe_env *p)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memcpy(a.sun_path, p->c->control_socket,
	       strnlen(p->c->control_socket, sizeof(a.sun_path) - 1));
	return connect(0, (struct sockaddr *)&a, sizeof(a));
}

static int probe_exec(const struct probe_env *p)
{
	char *const argv[] = { "true", NULL };

	(void)p;
	return execv("/bin/true", argv);
}

static int probe_fork(const struct probe_env *p)
{
	pid_t pid = fork();

	(void)p;
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

static int probe_ptrace(const struct probe_env *p)
{
	long r = ptrace(PTRACE_ATTACH, p->engine, NULL, NULL);

	if (r == 0)
		ptrace(PTRACE_DETACH, p->engine, NULL, NULL);
	return (int)r;
}

static int probe_prlimit(const struct probe_env *p)
{
	struct rlimit old;

	return prlimit(p->engine, RLIMIT_CORE, NULL, &old);
}

static int probe_kill(const struct probe_env *p)
{
	return kill(p->engine, 0); /* the permission check only: no signal is sent */
}

static int probe_setown(const struct probe_env *p)
{
	return fcntl(p->sock >= 0 ? p->sock : 0, F_SETOWN, p->engine);
}

static int probe_setsig(const struct probe_env *p)
{
	return fcntl(p->sock >= 0 ? p->sock : 0, F_SETSIG, SIGKILL);
}

static int probe_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == EISDIR)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

static int probe_master_mem(const struct probe_env *p)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->master);
	return probe_open(path);
}

static int probe_engine_mem(const struct probe_env *p)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->engine);
	return probe_open(path);
}

static int probe_quarantine(const struct probe_env *p)
{
	return probe_open(p->c->quarantine);
}

static int probe_control(const struct probe_env *p)
{
	return probe_open(p->c->control_socket);
}

static int probe_passwd(const struct probe_env *p)
{
	(void)p;
	return probe_open("/etc/passwd");
}

static int probe_exec_memory(const struct probe_env *p)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int r;

	(void)p;
	if (m == MAP_FAILED)
		return -1;
	r = mprotect(m, 4096, PROT_READ | PROT_EXEC);
	munmap(m, 4096);
	return r;
}

static int probe_memfd_write(const struct probe_env *p)
{
	return (int)pwrite(p->memfd, "X", 1, 0);
}

static int probe_memfd_map(const struct probe_env *p)
{
	void *m = mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0);

	if (m == MAP_FAILED)
		return -1;
	munmap(m, 1);
	return 0;
}

static int probe_memfd_truncate(const struct probe_env *p)
{
	return ftruncate(p->memfd, 0);
}

enum { IN_SCANNER = 1, IN_MASTER = 2 };

static const struct probe {
	const char *name;
	int (*try)(const struct probe_env *);
	unsigned int where;
} probes[] = {
	{ "socket", probe_socket, IN_SCANNER | IN_MASTER },
	{ "connect", probe_connect, IN_SCANNER | IN_MASTER },
	{ "execve", probe_exec, IN_SCANNER | IN_MASTER },
	{ "fork", probe_fork, IN_SCANNER },
	{ "ptrace", probe_ptrace, IN_SCANNER | IN_MASTER },
	{ "prlimit64-engine", probe_prlimit, IN_SCANNER | IN_MASTER },
	{ "kill-engine", probe_kill, IN_SCANNER | IN_MASTER },
	{ "fcntl-F_SETOWN", probe_setown, IN_SCANNER | IN_MASTER },
	{ "fcntl-F_SETSIG", probe_setsig, IN_SCANNER | IN_MASTER },
	{ "open-master-mem", probe_master_mem, IN_SCANNER },
	{ "open-engine-mem", probe_engine_mem, IN_SCANNER | IN_MASTER },
	{ "open-quarantine", probe_quarantine, IN_SCANNER },
	{ "open-control-socket", probe_control, IN_SCANNER },
	{ "open-etc-passwd", probe_passwd, IN_SCANNER },
	{ "mprotect-PROT_EXEC", probe_exec_memory, IN_SCANNER | IN_MASTER },
	{ "memfd-write", probe_memfd_write, IN_SCANNER },
	{ "memfd-mmap-shared", probe_memfd_map, IN_SCANNER },
	{ "memfd-truncate", probe_memfd_truncate, IN_SCANNER },
};

/* "name=ERRNO ..." into REPORT; the names of what was allowed into ALLOWED; how many
 * were tried */
static unsigned int probe_run(const struct probe_env *p, unsigned int where, char *report,
			      size_t cap, char *allowed, size_t acap)
{
	size_t i, o = 0, ao = 0;
	unsigned int n = 0;

	report[0] = allowed[0] = '\0';
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		int r, e;

		if (!(probes[i].where & where))
			continue;
		errno = 0;
		r = probes[i].try(p);
		e = errno;
		n++;
		if (r >= 0 && ao < acap)
			ao += (size_t)snprintf(allowed + ao, acap - ao, "-%s", probes[i].name);
		if (o < cap)
			o += (size_t)snprintf(report + o, cap - o, "%s%s=%s", o ? " " : "",
					      probes[i].name,
					      r >= 0 ? "ALLOWED" : strerrorname_np(e));
	}
	return n;
}

static void probe_scanner(struct scanproc_verdict *v, const struct probe_env *p)
{
	char allowed[96];
	unsigned int n =
		probe_run(p, IN_SCANNER, v->probe, sizeof(v->probe), allowed, sizeof(allowed));

	v->result = SCAN_INFECTED;
	if (allowed[0])
		snprintf(v->virus, sizeof(v->virus), "Mailscan.Test.Sandbox.ALLOWED%s", allowed);
	else
		snprintf(v->virus, sizeof(v->virus), "Mailscan.Test.Sandbox.refused-%u-of-%u", n,
			 n);
}

/* --- the scanner's temporary space --- */

/* test_tmp: the scanner's own temporary space made unusable (PATTERN:removed,
 * :readonly, :full, or with a dash) before the check, or removed after it (:late),
 * where only libclamav's own report can tell */
static int tmp_sabotage(const uint8_t *msg, size_t len, const char *pattern)
{
	static const char *const how[] = { "removed", "readonly", "full", "late" };
	const uint8_t *at = has(msg, len, pattern);
	size_t i, rest;

	if (!at)
		return -1;
	at += strlen(pattern);
	rest = len - (size_t)(at - msg);
	if (rest && (*at == ':' || *at == '-')) {
		at++;
		rest--;
	}
	for (i = 0; i < sizeof(how) / sizeof(how[0]); i++)
		if (rest >= strlen(how[i]) &&
		    !strncasecmp((const char *)at, how[i], strlen(how[i])))
			return (int)i;
	return -1;
}

static void tmp_break(int how)
{
	static const char chunk[65536];
	int fd;

	if (how == 0 || how == 3)
		rmdir(SANDBOX_TMP);
	else if (how == 1 && (fd = open(SANDBOX_TMP, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fchmod(fd, 0500);
		close(fd);
	} else if (how == 2 && (fd = open("/filler", O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
		while (write(fd, chunk, sizeof(chunk)) > 0)
			;
		close(fd);
	}
}

/* Can libclamav write, and does the space hold what the engine may extract (its max
 * scan size)? -1 with the reason in WHY. */
static int tmp_check(uint64_t need, char *why, size_t cap)
{
	struct statvfs vs;
	struct stat sb;
	uint64_t avail;

	if (stat(SANDBOX_TMP, &sb) || !S_ISDIR(sb.st_mode)) {
		snprintf(why, cap, "temporary space: %s",
			 errno ? strerror(errno) : "not a directory");
		return -1;
	}
	if (access(SANDBOX_TMP, W_OK | X_OK) || statvfs(SANDBOX_TMP, &vs)) {
		snprintf(why, cap, "temporary space: %s", strerror(errno));
		return -1;
	}
	avail = (uint64_t)vs.f_bavail * vs.f_frsize;
	if (avail < need) {
		snprintf(why, cap, "temporary space: %llu bytes free, a scan may need %llu",
			 (unsigned long long)avail, (unsigned long long)need);
		return -1;
	}
	return 0;
}

static void scan_one(struct scan_engine *e, const struct config *c, const struct probe_env *p,
		     size_t len, struct scanproc_verdict *v)
{
	static const uint8_t empty[1];
	const uint8_t *msg = empty;
	uint64_t t0 = mono_us();
	int sab;

	memset(v, 0, sizeof(*v));
	if (len) {
		void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, p->memfd, 0);

		if (m == MAP_FAILED) {
			v->result = SCAN_ERROR;
			snprintf(v->virus, sizeof(v->virus), "mmap: %s", strerror(errno));
			return;
		}
		msg = m;
	}
	if (has(msg, len, c->test_crash)) {
		signal(SIGSEGV, SIG_DFL); /* the death a real crash gets, sanitizers or not */
		raise(SIGSEGV);
	}
	while (has(msg, len, c->test_spin))
		;
	sab = c->test_tmp[0] ? tmp_sabotage(msg, len, c->test_tmp) : -1;
	if (sab >= 0 && sab != 3)
		tmp_break(sab);
	if (tmp_check(c->scan_max_size, v->virus, sizeof(v->virus))) {
		v->result = SCAN_ERROR;
		v->flags |= SCANPROC_TMP_ERROR;
	} else if (has(msg, len, c->test_sandbox)) {
		probe_scanner(v, p);
	} else {
		if (sab == 3)
			tmp_break(sab);
		v->result = (int)scan_engine_scan(e, msg, len, v->virus, sizeof(v->virus));
	}
	v->scan_us = mono_us() - t0;
	if (len)
		munmap((void *)(uintptr_t)msg, len);
}

/* the private tmpfs: what the engine may extract from one message, and room for the
 * largest file it may write beside that */
static uint64_t tmp_bytes(const struct config *c)
{
	return c->scan_max_size + c->scan_max_filesize + (1 << 20);
}

/* A scanner that failed, hit a limit or ran out of time may be in a state no one knows;
 * a scanner that has scanned many messages may have been taken over by one of them.
 * Either way the next message gets a fresh copy of the engine. */
static int recycle(const struct config *c, const struct scanproc_verdict *v, unsigned int done)
{
	return v->result == SCAN_ERROR || v->result == SCAN_TIMEOUT || v->result == SCAN_LIMIT ||
	       (c->scanner_max_scans && done >= c->scanner_max_scans);
}

/* A scanner that could not confine itself scans nothing: it says why (the message
 * waiting for it gets on_error, not a crash) and exits. */
static void __attribute__((noreturn)) scanner_refuse(int sock, const char *err, int tmp)
{
	struct scanproc_ready r = { .ok = 0, .flags = tmp ? SCANPROC_TMP_ERROR : 0 };

	fprintf(stderr, "mailscand: scanner %d: %s\n", (int)getpid(), err);
	snprintf(r.err, sizeof(r.err), "%s", err);
	scanproc_send(sock, &r, sizeof(r), NULL, 0);
	_exit(1);
}

static void __attribute__((noreturn))
scanner_main(int sock, struct scan_engine *e, const struct config *c)
{
	struct probe_env p = { .master = getppid(), .sock = sock, .c = c };
	unsigned int done = 0;
	char err[256];

	prctl(PR_SET_NAME, "ms-scanner");
	/* nothing of the master's: its channel, its other scanners' sockets */
	close_range(3, (unsigned int)sock - 1, 0);
	close_range((unsigned int)sock + 1, ~0U, 0);
	if (sandbox_scanner_limits(c->scanner_memory, tmp_bytes(c), SCANNER_NOFILE, err,
				   sizeof(err)))
		scanner_refuse(sock, err, 0);
	/* as many files as a message may hold, and libclamav's own beside them */
	if (sandbox_scanner_fs(c->tmpdir, tmp_bytes(c), c->scan_max_files + 1024, err, sizeof(err)))
		scanner_refuse(sock, err, 1);
	if (scan_engine_set_tmpdir(e, SANDBOX_TMP))
		scanner_refuse(sock, "libclamav: cannot set its temporary directory", 1);
	if (sandbox_scanner(err, sizeof(err)))
		scanner_refuse(sock, err, 0);
	{
		struct scanproc_ready r = { .ok = 1 };

		if (scanproc_send(sock, &r, sizeof(r), NULL, 0) < 0)
			_exit(1);
	}
	for (;;) {
		struct scanproc_job job;
		struct scanproc_verdict v;
		unsigned int nfds;
		ssize_t n = scanproc_recv(sock, &job, sizeof(job), &p.memfd, 1, &nfds);

		if (n <= 0)
			break; /* the packet engine closed its end: done */
		if (n != sizeof(job) || nfds != 1) {
			memset(&v, 0, sizeof(v));
			v.result = SCAN_ERROR;
			snprintf(v.virus, sizeof(v.virus), "malformed request");
		} else {
			p.engine = job.engine;
			scan_one(e, c, &p, (size_t)job.len, &v);
		}
		if (nfds)
			close(p.memfd);
		if (recycle(c, &v, ++done))
			v.flags |= SCANPROC_RECYCLED;
		if (scanproc_send(sock, &v, sizeof(v), NULL, 0) < 0 ||
		    (v.flags & SCANPROC_RECYCLED))
			break;
		/* what libclamav took for this message goes back before the next: an idle
		 * scanner would otherwise keep its largest message's worth (glibc keeps
		 * freed heap), and every scanner would at once */
		malloc_trim(0);
	}
	_exit(0);
}

/* --- the master --- */

/* test_sandbox: the probes that apply to the master (it forks and opens files by
 * design), run in its own code path once it is confined, logged */
static void probe_master(const struct config *c, pid_t engine)
{
	struct probe_env p = {
		.engine = engine, .master = getpid(), .sock = -1, .memfd = -1, .c = c
	};
	char report[448], allowed[128];

	probe_run(&p, IN_MASTER, report, sizeof(report), allowed, sizeof(allowed));
	log_info("sandbox probe: scan master %d: %s%s%s", (int)getpid(), report,
		 allowed[0] ? " ALLOWED" : "", allowed);
}

static unsigned int children;

static void reap(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		children--;
		if (WIFSIGNALED(st))
			log_warnx("scanner %d killed by signal %d (%s)", (int)pid, WTERMSIG(st),
				  strsignal(WTERMSIG(st)));
		else if (WEXITSTATUS(st))
			log_warnx("scanner %d exited with status %d", (int)pid, WEXITSTATUS(st));
		/* its tmpfs went with it */
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
	if (pid > 0)
		children++;
	/* on a failure below, closing its socket ends the new scanner */
	if (pid < 0 || (fds[1] = pidfd_open(pid, 0)) < 0) {
		r.err = errno;
		close(sv[0]);
		scanproc_send(chan, &r, sizeof(r), NULL, 0);
		return;
	}
	r.pid = pid;
	fds[0] = sv[0];
	scanproc_send(chan, &r, sizeof(r), fds, 2);
	close(fds[0]);
	close(fds[1]);
}

static int master_main(int chan)
{
	static struct config c;
	struct scanproc_loaded hello = { 0 };
	struct privsep_id self = { getuid(), getgid() };
	struct scan_engine *e = NULL;
	struct ucred peer = { 0 };
	socklen_t plen = sizeof(peer);
	unsigned int nfds;
	int scoped = 0;
	pid_t engine;
	ssize_t n;

	prctl(PR_SET_NAME, "ms-master");
	/* the packet engine made the socketpair */
	engine = getsockopt(chan, SOL_SOCKET, SO_PEERCRED, &peer, &plen) ? 0 : peer.pid;
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
	if (e && sandbox_master(&scoped, hello.err, sizeof(hello.err)) == 0) {
		hello.ok = 1;
		hello.sigs = scan_engine_signatures(e);
		if (!scoped)
			log_warnx("scan master %d: this kernel has no Landlock scopes (ABI 6): "
				  "signals are limited by seccomp only",
				  (int)getpid());
	}
	if (hello.ok && c.test_sandbox[0])
		probe_master(&c, engine);
	if (scanproc_send(chan, &hello, sizeof(hello), NULL, 0) < 0 || !hello.ok) {
		scan_engine_free(e);
		return 1;
	}
	for (;;) {
		struct pollfd p = { .fd = chan, .events = POLLIN };
		struct scanproc_spawn req;

		poll(&p, 1, 1000);
		reap();
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
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer's check at exit stops the process with ptrace, which the master's
	 * filter refuses: the master leaves without it */
	fflush(NULL);
	_exit(master_main(SCANPROC_CHAN_FD));
#else
	exit(master_main(SCANPROC_CHAN_FD));
#endif
}
