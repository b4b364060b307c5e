/* The local backend: a scan master started as the unprivileged user (a fresh exec of
 * this binary) that loads the signatures once, and the sandboxed scanner processes it
 * forks. One thread per process hands it a message through a memfd and waits for the
 * verdict. A process that dies on a message, or is killed past scan_timeout, fails that
 * message only (on_crash) and is replaced at once by a fork of the loaded engine. A
 * reload starts a new master; the threads move to its processes as they go idle and the
 * old master exits after its last one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "log.h"
#include "scanproc.h"

#define KILL_GRACE_MS 2000  /* past scan_timeout: libclamav's own limit had its chance */
#define READY_MS      30000 /* a new process confines itself (namespaces, tmpfs, filter) */

struct master {
	int chan;
	pid_t pid;
	unsigned int sigs;
	uint64_t loaded_ms;
	unsigned int refs; /* the current one's, one per process forked from it */
	int broken;	   /* its channel failed: the next process comes from a new one */
};

/* the kind's state: the current master */
struct scanlocal {
	const struct backend_env *env;
	pthread_mutex_t load_lock; /* one load of a master at a time */
	pthread_mutex_t mlock;	   /* cur and the masters' references and channels */
	struct master *cur;
};

/* a slot's: its scanner process */
struct local_slot {
	struct master *m; /* the process's master; NULL while there is no process */
	int sock, pidfd;  /* the process */
	pid_t pid;
	uint64_t backoff_ms; /* no master could start: when to try again */
	int tmp_failed;	     /* the last process could not set up its temporary space */
};

/* --- masters --- */

/* The master is a new program image (fork, exec of this binary), never a copy of the
 * packet engine's memory; a second fork leaves it no zombie to reap. */
static pid_t master_exec(const struct backend_env *env, int fd)
{
	char *const argv[] = { "mailscand", SCANPROC_ARG, NULL };
	const struct privsep_id *id = &env->id;
	pid_t pid = fork();
	int st;

	if (pid) {
		if (pid > 0 && (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)))
			pid = -1;
		return pid;
	}
	if (fork())
		_exit(0);
	if (fd == SCANPROC_CHAN_FD ? fcntl(fd, F_SETFD, 0) : dup2(fd, SCANPROC_CHAN_FD) < 0)
		_exit(127);
	close_range(SCANPROC_CHAN_FD + 1, ~0U, 0);
	/* systemd's ambient capabilities stay with the packet engine */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (geteuid() == 0 && id->uid != 0 &&
	    (setgroups(1, &id->gid) || setresgid(id->gid, id->gid, id->gid) ||
	     setresuid(id->uid, id->uid, id->uid)))
		_exit(127);
	execv("/proc/self/exe", argv);
	_exit(127);
}

/* Starts a master and waits until it has loaded the database. */
static struct master *master_start(const struct backend_env *env, char *err, size_t errlen)
{
	struct scanproc_loaded hello;
	struct master *m = calloc(1, sizeof(*m));
	const struct config *c;
	unsigned int nfds;
	int sv[2];
	ssize_t n;

	if (!m || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "scan master: %s", strerror(errno));
		free(m);
		return NULL;
	}
	c = live_slot_get(&env->cfg);
	if (master_exec(env, sv[1]) < 0) {
		snprintf(err, errlen, "scan master: cannot start: %s", strerror(errno));
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	if (scanproc_send(sv[0], c, sizeof(*c), NULL, 0) < 0) {
		snprintf(err, errlen, "scan master: %s", strerror(errno));
		goto fail;
	}
	n = scanproc_recv(sv[0], &hello, sizeof(hello), NULL, 0, &nfds);
	if (n != (ssize_t)sizeof(hello)) {
		snprintf(err, errlen, "scan master exited while loading the engine");
		goto fail;
	}
	if (!hello.ok) {
		snprintf(err, errlen, "%s", hello.err);
		goto fail;
	}
	m->chan = sv[0];
	m->pid = hello.pid;
	m->sigs = hello.sigs;
	m->loaded_ms = now_ms();
	m->refs = 1;
	STATS_ADD(env->st, scan_masters_started, 1);
	log_info("scan master %d loaded %u signatures from %s as %s", (int)m->pid, m->sigs,
		 c->database, c->user);
	live_put(c);
	return m;
fail:
	live_put(c);
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(m);
	return NULL;
}

/* under mlock: a master no one uses is told so (end of file); it waits for its
 * processes and exits */
static void master_put(struct master *m)
{
	if (m && --m->refs == 0) {
		close(m->chan);
		free(m);
	}
}

/* A new master in place of one that died. The load runs outside mlock, so status,
 * stats and the scanners that still run never wait for it; load_lock keeps it from
 * racing a reload or another restart. */
static int master_restart(struct scanlocal *l, char *err, size_t errlen)
{
	struct master *m;
	int r = 0;

	pthread_mutex_lock(&l->load_lock);
	pthread_mutex_lock(&l->mlock);
	m = l->cur;
	if (m && !m->broken) { /* another thread has started one */
		pthread_mutex_unlock(&l->mlock);
		pthread_mutex_unlock(&l->load_lock);
		return 0;
	}
	if (m)
		log_warnx("scan master %d is gone; starting a new one", (int)m->pid);
	pthread_mutex_unlock(&l->mlock);
	m = master_start(l->env, err, errlen);
	pthread_mutex_lock(&l->mlock);
	if (m) {
		master_put(l->cur);
		l->cur = m;
	} else {
		r = -1;
	}
	pthread_mutex_unlock(&l->mlock);
	pthread_mutex_unlock(&l->load_lock);
	return r;
}

/* --- scanner processes --- */

static void slot_detach(struct backend_slot *bs)
{
	struct scanlocal *l = bs->kind;
	struct local_slot *sl = bs->priv;

	if (!sl->m)
		return;
	close(sl->sock); /* the process sees end of file and exits */
	close(sl->pidfd);
	pthread_mutex_lock(&l->mlock);
	master_put(sl->m);
	sl->m = NULL;
	sl->pid = 0;
	bs->settled = 0;
	__atomic_store_n(&bs->pid, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->mlock);
	STATS_ADD(bs->env->st, scanner_processes, (uint64_t)-1);
}

/* waits up to MS for the process to answer; the poll result */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r;
}

/* A new process says once it is confined, or why it could not be (its temporary space:
 * sl->tmp_failed); then it is detached. */
static int slot_ready(struct backend_slot *bs, char *err, size_t errlen)
{
	struct local_slot *sl = bs->priv;
	struct scanproc_ready r = { 0 };
	unsigned int nfds;
	ssize_t n = -1;

	sl->tmp_failed = 0;
	if (wait_readable(sl->sock, READY_MS) > 0)
		n = scanproc_recv(sl->sock, &r, sizeof(r), NULL, 0, &nfds);
	if (n == (ssize_t)sizeof(r) && r.ok)
		return 0;
	r.err[sizeof(r.err) - 1] = '\0';
	snprintf(err, errlen, "scanner %d: %s", (int)sl->pid,
		 n == (ssize_t)sizeof(r) ? r.err : "no answer to its setup");
	sl->tmp_failed = n == (ssize_t)sizeof(r) && (r.flags & SCANPROC_TMP_ERROR);
	slot_detach(bs);
	return -1;
}

/* a process forked from the current master, which is started again if it died */
static int slot_attach(struct backend_slot *bs, uint64_t gen, char *err, size_t errlen)
{
	struct scanproc_spawn req = { .slot = bs->idx };
	struct scanproc_spawned r;
	struct scanlocal *l = bs->kind;
	struct local_slot *sl = bs->priv;
	unsigned int nfds, tries;
	int fds[2];

	snprintf(err, errlen, "scan master keeps failing");
	for (tries = 0; tries < 3; tries++) {
		struct master *m;
		ssize_t n;

		pthread_mutex_lock(&l->mlock);
		m = l->cur;
		if (!m || m->broken) {
			pthread_mutex_unlock(&l->mlock);
			if (master_restart(l, err, errlen))
				return -1;
			continue;
		}
		/* one request and its answer at a time on the master's channel */
		if (scanproc_send(m->chan, &req, sizeof(req), NULL, 0) < 0 ||
		    (n = scanproc_recv(m->chan, &r, sizeof(r), fds, 2, &nfds)) <= 0) {
			m->broken = 1;
			pthread_mutex_unlock(&l->mlock);
			continue;
		}
		if (n != sizeof(r) || r.err || nfds != 2) {
			snprintf(err, errlen, "scan master %d cannot fork: %s", (int)m->pid,
				 strerror(r.err ? r.err : EPROTO));
			while (nfds)
				close(fds[--nfds]);
			pthread_mutex_unlock(&l->mlock);
			return -1;
		}
		m->refs++;
		sl->m = m;
		sl->sock = fds[0];
		sl->pidfd = fds[1];
		sl->pid = r.pid;
		bs->gen = gen;
		bs->settled = 1;
		__atomic_store_n(&bs->pid, (int)r.pid, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&l->mlock);
		STATS_ADD(bs->env->st, scanner_processes, 1);
		STATS_ADD(bs->env->st, scanner_forks, 1);
		return slot_ready(bs, err, errlen);
	}
	return -1;
}

/* One message through the slot's process. A process that dies, or does not answer by
 * scan_timeout plus a grace, costs this message and is detached. */
static void slot_scan(struct backend_slot *bs, struct scan_job *j)
{
	struct local_slot *sl = bs->priv;
	const struct config *c = live_slot_get(&bs->env->cfg);
	struct scanproc_job req = { .len = j->len, .engine = getpid() };
	struct scanproc_verdict v;
	unsigned int nfds, scan_timeout = c->scan_timeout;
	int timeout = (int)scan_timeout * 1000 + KILL_GRACE_MS;
	uint64_t t0 = now_us();
	ssize_t n;

	live_put(c);

	/* the job's sealed memfd as it is: no copy, nothing the scanner can change */
	n = scanproc_send(sl->sock, &req, sizeof(req), &j->memfd, 1);
	if (n == sizeof(req)) {
		int r = wait_readable(sl->sock, timeout);

		n = -1;
		if (r == 0) {
			pidfd_send_signal(sl->pidfd, SIGKILL, NULL, 0);
			wait_readable(sl->sock, 5000); /* its end closes as it dies */
			j->result = SCAN_KILLED;
			snprintf(j->virus, sizeof(j->virus), "scanner process %d killed after %u s",
				 (int)sl->pid, scan_timeout);
			log_warnx("scanner %d killed: no verdict after %d ms %s", (int)sl->pid,
				  timeout, j->meta);
			slot_detach(bs);
			return;
		}
		if (r > 0)
			n = scanproc_recv(sl->sock, &v, sizeof(v), NULL, 0, &nfds);
	}
	if (n != (ssize_t)sizeof(v) || (unsigned int)v.result >= SCAN_RESULT_COUNT) {
		j->result = SCAN_CRASHED;
		snprintf(j->virus, sizeof(j->virus), "scanner process %d died on the message",
			 (int)sl->pid);
		log_warnx("scanner %d died scanning %s", (int)sl->pid, j->meta);
		slot_detach(bs);
		return;
	}
	j->result = (enum scan_result)v.result;
	v.virus[sizeof(v.virus) - 1] = '\0';
	v.probe[sizeof(v.probe) - 1] = '\0';
	snprintf(j->virus, sizeof(j->virus), "%s", v.virus);
	j->scan_us = v.scan_us ? v.scan_us : now_us() - t0;
	if (v.probe[0])
		log_info("sandbox probe: scanner %d: %s", (int)sl->pid, v.probe);
	if (v.flags & SCANPROC_TMP_ERROR) {
		STATS_ADD(bs->env->st, scans_tmp_errors, 1);
		log_warnx("scanner %d: %s %s", (int)sl->pid, v.virus, j->meta);
	}
	if (v.flags & SCANPROC_RECYCLED) { /* it exits: the next message gets a new one */
		STATS_ADD(bs->env->st, scanner_recycled, 1);
		slot_detach(bs);
	}
}

/* an idle process has nothing to say: anything readable is its end of file */
static int slot_alive(const struct local_slot *sl)
{
	struct pollfd p = { .fd = sl->sock, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* A process that dies on a message may have been killed from outside (the OOM killer,
 * an administrator): the message is tried once more in a fresh process, and only
 * content that kills two is on_crash. A process killed past scan_timeout is not
 * tried again: that would double the wait. Always answered: a failure is a result. */
static enum remote_rc local_scan(struct backend_slot *bs, struct scan_job *j, uint64_t gen,
				 uint64_t deadline_ms)
{
	struct local_slot *sl = bs->priv;
	char err[512];
	int tries;

	(void)deadline_ms; /* scan_timeout, and the kill after it, bound the scan */
	for (tries = 0; tries < 2; tries++) {
		if (sl->m && !slot_alive(sl))
			slot_detach(bs);
		if (!sl->m && slot_attach(bs, gen, err, sizeof(err))) {
			log_warnx("no scanner process: %s", err);
			j->result = SCAN_ERROR;
			snprintf(j->virus, sizeof(j->virus), "no scanner process");
			if (sl->tmp_failed) {
				STATS_ADD(bs->env->st, scans_tmp_errors, 1);
				snprintf(j->virus, sizeof(j->virus), "no scanner process: %.100s",
					 err);
			}
			return REMOTE_OK;
		}
		slot_scan(bs, j);
		if (j->result != SCAN_CRASHED)
			return REMOTE_OK;
		if (tries == 0)
			STATS_ADD(bs->env->st, scans_retried, 1);
	}
	return REMOTE_OK;
}

/* Between jobs: a reload, or a process that died, hands over to a new process; idle
 * without a process, one is forked now, not when a message waits. */
static void local_idle(struct backend_slot *bs, uint64_t gen, int has_job, int stopping)
{
	struct local_slot *sl = bs->priv;
	char err[512];

	if (sl->m && (bs->gen != gen || (!has_job && !slot_alive(sl))))
		slot_detach(bs);
	if (has_job || sl->m || stopping)
		return;
	if (now_ms() >= sl->backoff_ms && slot_attach(bs, gen, err, sizeof(err))) {
		log_warnx("no scanner process: %s", err);
		sl->backoff_ms = now_ms() + 1000;
	}
	if (!sl->m)
		usleep(100000);
}

static int local_open(struct backend_slot *bs)
{
	struct local_slot *sl = calloc(1, sizeof(*sl));

	if (!sl)
		return -1;
	bs->priv = sl;
	return 0;
}

static void local_close(struct backend_slot *bs)
{
	struct local_slot *sl = bs->priv;

	slot_detach(bs);
	free(sl);
	bs->priv = NULL;
}

/* listed: the kind's state, and a master once it has loaded the database */
static int local_start(void **kind, const struct backend_env *env, char *err, size_t errlen)
{
	struct scanlocal *l = *kind;
	struct master *m;
	int r = 0;

	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		l->env = env;
		pthread_mutex_init(&l->load_lock, NULL);
		pthread_mutex_init(&l->mlock, NULL);
		*kind = l;
	}
	pthread_mutex_lock(&l->load_lock);
	if (!l->cur) {
		m = master_start(env, err, errlen);
		pthread_mutex_lock(&l->mlock);
		l->cur = m;
		pthread_mutex_unlock(&l->mlock);
		r = m ? 0 : -1;
		const struct config *c = live_slot_get(&env->cfg);

		if (m && c->test_signatures)
			log_warnx("using mailscan's TEST signatures from %s: not for production",
				  c->database);
		live_put(c);
	}
	pthread_mutex_unlock(&l->load_lock);
	return r;
}

/* listed no more: the master goes once its last process has; LAST frees the state */
static void local_stop(void *kind, int last)
{
	struct scanlocal *l = kind;

	pthread_mutex_lock(&l->mlock);
	master_put(l->cur);
	l->cur = NULL;
	pthread_mutex_unlock(&l->mlock);
	if (!last)
		return;
	pthread_mutex_destroy(&l->load_lock);
	pthread_mutex_destroy(&l->mlock);
	free(l);
}

/* the signatures: a new master, whose scanners take over as the old ones go idle */
static int local_reload(void *kind, char *err, size_t errlen)
{
	struct scanlocal *l = kind;
	struct master *m;

	pthread_mutex_lock(&l->load_lock);
	m = master_start(l->env, err, errlen);
	if (m) {
		pthread_mutex_lock(&l->mlock);
		master_put(l->cur);
		l->cur = m;
		pthread_mutex_unlock(&l->mlock);
	}
	pthread_mutex_unlock(&l->load_lock);
	return m ? 0 : -1;
}

static void local_counters(void *kind, struct backend_gauges *g)
{
	struct scanlocal *l = kind;

	pthread_mutex_lock(&l->mlock);
	if (l->cur) {
		g->signatures = l->cur->sigs;
		g->loaded_ms = l->cur->loaded_ms;
		g->master_pid = (int)l->cur->pid;
	}
	pthread_mutex_unlock(&l->mlock);
}

const struct backend_ops scanlocal_ops = {
	.thread = "ms-scan",
	.start = local_start,
	.stop = local_stop,
	.reload = local_reload,
	.counters = local_counters,
	.open = local_open,
	.close = local_close,
	.idle = local_idle,
	.scan = local_scan,
};
