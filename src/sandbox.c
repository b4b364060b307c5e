/* The scan master's and the scanners' confinement: libseccomp (the only file that sees
 * seccomp.h), Landlock scopes, namespaces, resource limits.
 *
 * The filters are one table: a call off the list fails with EPERM rather than killing
 * the process (libclamav treats a failed call as a failed scan, and the refusal is easy
 * to see in strace). Calls whose arguments decide are checked in code below the table,
 * as OpenSSH's sandbox-seccomp-filter.c does. A scanner inherits its master's filter and
 * adds its own: both apply, so the master's list holds what a scanner needs too. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

enum { SCANNER = 1, MASTER = 2, BOTH = SCANNER | MASTER };

static const struct {
	int nr;
	unsigned int who;
} allowed[] = {
	/* the message, libclamav's temporary files in the scanner's private tmpfs */
	{ SCMP_SYS(read), BOTH },
	{ SCMP_SYS(write), BOTH },
	{ SCMP_SYS(readv), BOTH },
	{ SCMP_SYS(writev), BOTH },
	{ SCMP_SYS(pread64), BOTH },
	{ SCMP_SYS(pwrite64), BOTH },
	{ SCMP_SYS(lseek), BOTH },
	{ SCMP_SYS(close), BOTH },
	{ SCMP_SYS(fstat), BOTH },
	{ SCMP_SYS(stat), BOTH },
	{ SCMP_SYS(lstat), BOTH },
	{ SCMP_SYS(newfstatat), BOTH },
	{ SCMP_SYS(statx), BOTH },
	{ SCMP_SYS(statfs), BOTH },
	{ SCMP_SYS(fstatfs), BOTH },
	{ SCMP_SYS(open), BOTH },
	{ SCMP_SYS(openat), BOTH },
	{ SCMP_SYS(access), BOTH },
	{ SCMP_SYS(faccessat), BOTH },
	{ SCMP_SYS(faccessat2), BOTH },
	{ SCMP_SYS(unlink), BOTH },
	{ SCMP_SYS(unlinkat), BOTH },
	{ SCMP_SYS(mkdir), BOTH },
	{ SCMP_SYS(mkdirat), BOTH },
	{ SCMP_SYS(rmdir), BOTH },
	{ SCMP_SYS(rename), BOTH },
	{ SCMP_SYS(renameat), BOTH },
	{ SCMP_SYS(getdents64), BOTH },
	{ SCMP_SYS(ftruncate), BOTH },
	{ SCMP_SYS(fsync), BOTH },
	{ SCMP_SYS(fdatasync), BOTH },
	{ SCMP_SYS(dup), BOTH },
	{ SCMP_SYS(readlink), BOTH },
	{ SCMP_SYS(getcwd), BOTH },
	{ SCMP_SYS(umask), BOTH },
	{ SCMP_SYS(fchmod), BOTH },
	/* memory (executable mappings are refused below) */
	{ SCMP_SYS(brk), BOTH },
	{ SCMP_SYS(munmap), BOTH },
	{ SCMP_SYS(mremap), BOTH },
	{ SCMP_SYS(madvise), BOTH },
	/* the socketpairs to the packet engine: messages in, verdicts out */
	{ SCMP_SYS(recvmsg), BOTH },
	{ SCMP_SYS(sendmsg), BOTH },
	{ SCMP_SYS(poll), BOTH },
	{ SCMP_SYS(ppoll), BOTH },
	/* time, identity, randomness, locks */
	{ SCMP_SYS(clock_gettime), BOTH },
	{ SCMP_SYS(gettimeofday), BOTH },
	{ SCMP_SYS(time), BOTH },
	{ SCMP_SYS(nanosleep), BOTH },
	{ SCMP_SYS(clock_nanosleep), BOTH },
	{ SCMP_SYS(futex), BOTH },
	{ SCMP_SYS(sched_yield), BOTH },
	{ SCMP_SYS(getpid), BOTH },
	{ SCMP_SYS(getppid), BOTH },
	{ SCMP_SYS(gettid), BOTH },
	{ SCMP_SYS(getuid), BOTH },
	{ SCMP_SYS(geteuid), BOTH },
	{ SCMP_SYS(getgid), BOTH },
	{ SCMP_SYS(getegid), BOTH },
	{ SCMP_SYS(getrandom), BOTH },
	{ SCMP_SYS(uname), BOTH },
	{ SCMP_SYS(getrlimit), BOTH },
	{ SCMP_SYS(getrusage), BOTH },
	/* signal handlers: its own */
	{ SCMP_SYS(rt_sigaction), BOTH },
	{ SCMP_SYS(rt_sigprocmask), BOTH },
	{ SCMP_SYS(rt_sigreturn), BOTH },
	{ SCMP_SYS(sigaltstack), BOTH },
	{ SCMP_SYS(exit), BOTH },
	{ SCMP_SYS(exit_group), BOTH },
	/* the master: fork scanners, reap them, log to syslog's socket */
	{ SCMP_SYS(clone), MASTER },
	{ SCMP_SYS(wait4), MASTER },
	{ SCMP_SYS(waitid), MASTER },
	{ SCMP_SYS(pidfd_open), MASTER },
	{ SCMP_SYS(close_range), MASTER },
	{ SCMP_SYS(sendto), MASTER },
	/* what a new scanner does to itself before its own filter (sandbox_scanner_fs) */
	{ SCMP_SYS(prctl), MASTER },
	{ SCMP_SYS(mount), MASTER },
	{ SCMP_SYS(umount2), MASTER },
	{ SCMP_SYS(pivot_root), MASTER },
	{ SCMP_SYS(chdir), MASTER },
	{ SCMP_SYS(capget), MASTER },
	{ SCMP_SYS(capset), MASTER },
	{ SCMP_SYS(seccomp), MASTER },
	{ SCMP_SYS(landlock_create_ruleset), MASTER },
	{ SCMP_SYS(landlock_restrict_self), MASTER },
};

/* fcntl: what libc and libclamav ask of a descriptor; never F_SETOWN, F_SETSIG, leases
 * or notifications (signals to other processes) */
static const int fcntl_cmds[] = {
	F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_GET_SEALS
};

static int rule(scmp_filter_ctx ctx, int nr, unsigned int n, struct scmp_arg_cmp a)
{
	return n ? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, a)
		 : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int load(unsigned int who, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	scmp_datum_t self = (scmp_datum_t)getpid();
	size_t i;
	int r = 0;

	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !r; i++)
		if (allowed[i].who & who)
			r = rule(ctx, allowed[i].nr, 0, SCMP_A0(SCMP_CMP_EQ, 0));
	for (i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]) && !r; i++)
		r = rule(ctx, SCMP_SYS(fcntl), 1,
			 SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmds[i]));
	/* resource limits: its own only (pid 0); what glibc's setrlimit sends */
	if (!r)
		r = rule(ctx, SCMP_SYS(prlimit64), 1, SCMP_A0(SCMP_CMP_EQ, 0));
	/* data, never code */
	if (!r)
		r = rule(ctx, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!r)
		r = rule(ctx, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (who == SCANNER) {
		/* abort() and a crash signal the scanner itself; no other process */
		if (!r)
			r = rule(ctx, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_EQ, self));
		if (!r)
			r = rule(ctx, SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_EQ, self));
	} else {
		/* the scanners' own signals pass here (their pids are not known yet); the
		 * master's Landlock scope keeps every signal inside its own processes */
		if (!r)
			r = rule(ctx, SCMP_SYS(tgkill), 0, SCMP_A0(SCMP_CMP_EQ, 0));
		if (!r)
			r = rule(ctx, SCMP_SYS(kill), 0, SCMP_A0(SCMP_CMP_EQ, 0));
		if (!r)
			r = rule(ctx, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		if (!r)
			r = rule(ctx, SCMP_SYS(unshare), 1,
				 SCMP_A0(SCMP_CMP_EQ, CLONE_NEWUSER | CLONE_NEWNS));
	}
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r) {
		snprintf(err, errlen, "seccomp: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/* --- Landlock scopes (ABI 6): signals and abstract sockets stay inside the domain --- */

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SCOPE_SIGNAL		   (1ULL << 1)

struct scope_attr { /* struct landlock_ruleset_attr as of ABI 6 */
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* 0; 1 when the kernel has no scopes (Landlock ABI below 6, or Landlock off: the
 * seccomp filters still hold); -1 with errno */
static int landlock_scope(void)
{
	struct scope_attr a = { .scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL };
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	int fd, r;

	if (abi < 6)
		return 1;
	fd = (int)syscall(SYS_landlock_create_ruleset, &a, sizeof(a), 0);
	if (fd < 0)
		return -1;
	r = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
	return r;
}

int sandbox_master(int *scoped, char *err, size_t errlen)
{
	int r;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		snprintf(err, errlen, "not dumpable: %s", strerror(errno));
		return -1;
	}
	r = landlock_scope();
	if (r < 0) {
		snprintf(err, errlen, "landlock scopes: %s", strerror(errno));
		return -1;
	}
	*scoped = r == 0;
	return load(MASTER, err, errlen);
}

int sandbox_scanner(char *err, size_t errlen)
{
	if (landlock_scope() < 0) {
		snprintf(err, errlen, "landlock scopes: %s", strerror(errno));
		return -1;
	}
	return load(SCANNER, err, errlen);
}

/* --- the scanner's own filesystem: a private tmpfs as its root --- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Nothing attached while the process was dumpable: a tracer stays attached after
 * PR_SET_DUMPABLE 0. -1 with errno EPERM when one did. */
static int untraced(void)
{
	char line[128];
	int pid = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &pid) == 1)
			break;
	if (f)
		fclose(f);
	if (pid != 0) {
		errno = pid < 0 ? EIO : EPERM;
		return -1;
	}
	return 0;
}

/* the capabilities the new user namespace gave, all of them, gone */
static int drop_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	int c;

	for (c = 0; c <= 63; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return -1;
	return (int)syscall(SYS_capset, &h, d);
}

#define STEP(what, call)                                                                           \
	do {                                                                                       \
		if ((call) < 0) {                                                                  \
			snprintf(err, errlen, "%s: %s", what, strerror(errno));                    \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

int sandbox_scanner_fs(const char *mountpoint, uint64_t bytes, unsigned int inodes, char *err,
		       size_t errlen)
{
	char map[64], opts[96];
	unsigned int uid = (unsigned int)getuid(), gid = (unsigned int)getgid();

	/* a process writes its own id maps only while dumpable: for these few calls. No
	 * same-uid process outside the sandboxes runs but the packet engine. */
	STEP("dumpable", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	STEP("user and mount namespace", unshare(CLONE_NEWUSER | CLONE_NEWNS));
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	STEP("setgroups", write_file("/proc/self/setgroups", "deny"));
	STEP("uid_map", write_file("/proc/self/uid_map", map));
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	STEP("gid_map", write_file("/proc/self/gid_map", map));
	STEP("not dumpable", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	STEP("traced while dumpable", untraced());
	STEP("private mounts", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	snprintf(opts, sizeof(opts), "size=%llu,nr_inodes=%u,mode=0700", (unsigned long long)bytes,
		 inodes);
	STEP(mountpoint, mount("mailscan-scanner", mountpoint, "tmpfs",
			       MS_NOSUID | MS_NODEV | MS_NOEXEC, opts));
	/* the tmpfs becomes the whole view: the rest of the tree is detached */
	STEP("chdir", chdir(mountpoint));
	STEP("mkdir", mkdir("old", 0700));
	STEP("pivot_root", (int)syscall(SYS_pivot_root, ".", "old"));
	STEP("chdir /", chdir("/"));
	STEP("umount", umount2("/old", MNT_DETACH));
	STEP("rmdir", rmdir("/old"));
	STEP("mkdir " SANDBOX_TMP, mkdir(SANDBOX_TMP, 0700));
	STEP("capabilities", drop_caps());
	return 0;
}

/* the address space in use now: the engine shared with the master, libraries */
static uint64_t vm_bytes(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%llu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

int sandbox_scanner_limits(uint64_t memory, uint64_t fsize, unsigned int nofile, char *err,
			   size_t errlen)
{
	static const struct {
		int res;
		const char *name;
	} names[] = {
		{ RLIMIT_AS, "address space" },	 { RLIMIT_FSIZE, "file size" },
		{ RLIMIT_NOFILE, "open files" }, { RLIMIT_NPROC, "processes" },
		{ RLIMIT_CORE, "core size" },
	};
	uint64_t vals[] = { vm_bytes() + memory, fsize, nofile, 0, 0 };
	size_t i;

	/* a file over the limit is a failed write (a scan error), not a SIGXFSZ death */
	signal(SIGXFSZ, SIG_IGN);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct rlimit rl = { (rlim_t)vals[i], (rlim_t)vals[i] };

		if (setrlimit(names[i].res, &rl)) {
			snprintf(err, errlen, "limit %s: %s", names[i].name, strerror(errno));
			return -1;
		}
	}
	return 0;
}
