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

#include "daemon.h"
#include "log.h"
#include "scanner_impl.h"
#include "scanproc.h"

/* The database directory's files (names, sizes, times, inodes), in any order: a new,
 * changed, replaced or removed file changes it. */
uint64_t scanlocal_fingerprint(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0, n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		uint64_t h = 1469598103934665603ULL;
		const char *p;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st))
			continue;
		for (p = de->d_name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h ^= (uint64_t)st.st_size * 0x9e3779b97f4a7c15ULL;
		h ^= ((uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec) *
		     0xc2b2ae3d27d4eb4fULL;
		h ^= (uint64_t)st.st_ino * 0x165667b19e3779f9ULL;
		sum += h;
		n++;
	}
	closedir(d);
	return sum + n;
}

int scanner_database_changed(struct scanner *s)
{
	int r;

	pthread_mutex_lock(&s->reload_lock);
	r = scanlocal_fingerprint(s->cfg->database) != s->dbprint;
	pthread_mutex_unlock(&s->reload_lock);
	return r;
}

/* --- masters --- */

/* The master is a new program image (fork, exec of this binary), never a copy of the
 * packet engine's memory; a second fork leaves it no zombie to reap. */
static pid_t master_exec(struct scanner *s, int fd)
{
	char *const argv[] = { "mailscand", SCANPROC_ARG, NULL };
	const struct privsep_id *id = &s->id;
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
struct master *scanlocal_master_start(struct scanner *s, char *err, size_t errlen)
{
	struct scanproc_loaded hello;
	struct master *m = calloc(1, sizeof(*m));
	unsigned int nfds;
	int sv[2];
	ssize_t n;

	if (!m || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "scan master: %s", strerror(errno));
		free(m);
		return NULL;
	}
	if (master_exec(s, sv[1]) < 0) {
		snprintf(err, errlen, "scan master: cannot start: %s", strerror(errno));
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	if (scanproc_send(sv[0], s->cfg, sizeof(*s->cfg), NULL, 0) < 0) {
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
	STATS_ADD(s->st, scan_masters_started, 1);
	log_info("scan master %d loaded %u signatures from %s as %s", (int)m->pid, m->sigs,
		 s->cfg->database, s->cfg->user);
	return m;
fail:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(m);
	return NULL;
}

/* under mlock: a master no one uses is told so (end of file); it waits for its
 * processes and exits */
void scanlocal_master_put(struct master *m)
{
	if (m && --m->refs == 0) {
		close(m->chan);
		free(m);
	}
}

/* A new master in place of one that died. The load runs outside mlock, so status,
 * stats and the scanners that still run never wait for it; reload_lock keeps it from
 * racing a reload or another restart. */
static int master_restart(struct scanner *s, char *err, size_t errlen)
{
	struct master *m;
	int r = 0;

	pthread_mutex_lock(&s->reload_lock);
	pthread_mutex_lock(&s->mlock);
	m = s->cur;
	if (m && !m->broken) { /* another thread has started one */
		pthread_mutex_unlock(&s->mlock);
		pthread_mutex_unlock(&s->reload_lock);
		return 0;
	}
	if (m)
		log_warnx("scan master %d is gone; starting a new one", (int)m->pid);
	pthread_mutex_unlock(&s->mlock);
	m = scanlocal_master_start(s, err, errlen);
	pthread_mutex_lock(&s->mlock);
	if (m) {
		scanlocal_master_put(s->cur);
		s->cur = m;
	} else {
		r = -1;
	}
	pthread_mutex_unlock(&s->mlock);
	pthread_mutex_unlock(&s->reload_lock);
	return r;
}

/* --- scanner processes --- */

static void slot_detach(struct slot *sl)
{
	struct scanner *s = sl->s;

	if (!sl->m)
		return;
	close(sl->sock); /* the process sees end of file and exits */
	close(sl->pidfd);
	pthread_mutex_lock(&s->mlock);
	scanlocal_master_put(sl->m);
	sl->m = NULL;
	sl->pid = 0;
	pthread_mutex_unlock(&s->mlock);
	STATS_ADD(s->st, scanner_processes, (uint64_t)-1);
}

/* a process forked from the current master, which is started again if it died */
static int slot_attach(struct slot *sl, uint64_t gen, char *err, size_t errlen)
{
	struct scanproc_spawn req = { .slot = sl->idx };
	struct scanproc_spawned r;
	struct scanner *s = sl->s;
	unsigned int nfds, tries;
	int fds[2];

	snprintf(err, errlen, "scan master keeps failing");
	for (tries = 0; tries < 3; tries++) {
		struct master *m;
		ssize_t n;

		pthread_mutex_lock(&s->mlock);
		m = s->cur;
		if (!m || m->broken) {
			pthread_mutex_unlock(&s->mlock);
			if (master_restart(s, err, errlen))
				return -1;
			continue;
		}
		/* one request and its answer at a time on the master's channel */
		if (scanproc_send(m->chan, &req, sizeof(req), NULL, 0) < 0 ||
		    (n = scanproc_recv(m->chan, &r, sizeof(r), fds, 2, &nfds)) <= 0) {
			m->broken = 1;
			pthread_mutex_unlock(&s->mlock);
			continue;
		}
		if (n != sizeof(r) || r.err || nfds != 2) {
			snprintf(err, errlen, "scan master %d cannot fork: %s", (int)m->pid,
				 strerror(r.err ? r.err : EPROTO));
			while (nfds)
				close(fds[--nfds]);
			pthread_mutex_unlock(&s->mlock);
			return -1;
		}
		m->refs++;
		sl->m = m;
		sl->sock = fds[0];
		sl->pidfd = fds[1];
		sl->pid = r.pid;
		sl->gen = gen;
		pthread_mutex_unlock(&s->mlock);
		STATS_ADD(s->st, scanner_processes, 1);
		STATS_ADD(s->st, scanner_forks, 1);
		return 0;
	}
	return -1;
}

static int write_all_at(int fd, const uint8_t *p, size_t len)
{
	off_t off = 0;

	if (ftruncate(fd, (off_t)len))
		return -1;
	while (len) {
		ssize_t w = pwrite(fd, p, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		off += w;
		len -= (size_t)w;
	}
	return 0;
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

/* One message through the slot's process. A process that dies, or does not answer by
 * scan_timeout plus a grace, costs this message and is detached. */
static void slot_scan(struct slot *sl, struct scan_job *j)
{
	struct scanner *s = sl->s;
	struct scanproc_job req = { .len = j->len };
	struct scanproc_verdict v;
	unsigned int nfds;
	int timeout = (int)s->cfg->scan_timeout * 1000 + KILL_GRACE_MS;
	uint64_t t0 = now_us();
	ssize_t n = -1;

	if (write_all_at(sl->memfd, j->msg, j->len)) {
		j->result = SCAN_ERROR;
		snprintf(j->virus, sizeof(j->virus), "memfd: %s", strerror(errno));
		return;
	}
	if (scanproc_send(sl->sock, &req, sizeof(req), &sl->memfd, 1) == sizeof(req)) {
		int r = wait_readable(sl->sock, timeout);

		if (r == 0) {
			pidfd_send_signal(sl->pidfd, SIGKILL, NULL, 0);
			wait_readable(sl->sock, 5000); /* its end closes as it dies */
			j->result = SCAN_KILLED;
			snprintf(j->virus, sizeof(j->virus), "scanner process %d killed after %u s",
				 (int)sl->pid, s->cfg->scan_timeout);
			log_warnx("scanner %d killed: no verdict after %d ms %s", (int)sl->pid,
				  timeout, j->meta);
			slot_detach(sl);
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
		slot_detach(sl);
		return;
	}
	j->result = (enum scan_result)v.result;
	v.virus[sizeof(v.virus) - 1] = '\0';
	snprintf(j->virus, sizeof(j->virus), "%s", v.virus);
	j->scan_us = v.scan_us ? v.scan_us : now_us() - t0;
}

/* an idle process has nothing to say: anything readable is its end of file */
static int slot_alive(struct slot *sl)
{
	struct pollfd p = { .fd = sl->sock, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* A process that dies on a message may have been killed from outside (the OOM killer,
 * an administrator): the message is tried once more in a fresh process, and only
 * content that kills two is on_crash. A process killed past scan_timeout is not
 * tried again: that would double the wait. */
static void slot_run(struct slot *sl, struct scan_job *j, uint64_t gen)
{
	struct scanner *s = sl->s;
	char err[512];
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (sl->m && !slot_alive(sl))
			slot_detach(sl);
		if (!sl->m && slot_attach(sl, gen, err, sizeof(err))) {
			log_warnx("no scanner process: %s", err);
			j->result = SCAN_ERROR;
			snprintf(j->virus, sizeof(j->virus), "no scanner process");
			return;
		}
		slot_scan(sl, j);
		if (j->result != SCAN_CRASHED)
			return;
		if (tries == 0)
			STATS_ADD(s->st, scans_retried, 1);
	}
}

void *scanlocal_main(void *arg)
{
	struct slot *sl = arg;
	struct scanner *s = sl->s;
	char err[512];

	for (;;) {
		uint64_t gen;
		struct scan_job *j = scanner_take(sl, &gen);

		if (sl->done)
			break;
		if (sl->m && (sl->gen != gen || (!j && !slot_alive(sl))))
			slot_detach(sl); /* a reload, or the process died: a new one takes over */
		if (!j) {
			if (sl->m || s->stop)
				continue;
			/* idle without a process: fork one now, not when a message waits */
			if (now_ms() >= sl->backoff_ms && slot_attach(sl, gen, err, sizeof(err))) {
				log_warnx("no scanner process: %s", err);
				sl->backoff_ms = now_ms() + 1000;
			}
			if (!sl->m)
				usleep(100000);
			continue;
		}
		STATS_ADD(s->st, scan_wait_us_total, now_us() - j->submit_us);
		slot_run(sl, j, gen);
		scanner_count_backend(sl->b, j, REMOTE_OK);
		scanner_done(sl, j);
	}
	slot_detach(sl);
	return NULL;
}

/* the signatures: a new master, whose scanners take over as the old ones go idle */
int scanlocal_reload(struct scanner *s, char *err, size_t errlen)
{
	struct master *m;
	unsigned int was;

	pthread_mutex_lock(&s->reload_lock);
	/* a failed load is remembered too: only a later change is worth another try */
	s->dbprint = scanlocal_fingerprint(s->cfg->database);
	m = scanlocal_master_start(s, err, errlen);
	if (!m) {
		pthread_mutex_unlock(&s->reload_lock);
		STATS_ADD(s->st, reloads_failed, 1);
		log_warnx("reload failed, the running engine stays: %s", err);
		return -1;
	}
	pthread_mutex_lock(&s->mlock);
	was = s->cur ? s->cur->sigs : 0;
	scanlocal_master_put(s->cur);
	s->cur = m;
	pthread_mutex_unlock(&s->mlock);
	pthread_mutex_lock(&s->lock);
	s->gen++;
	if (s->local)
		pthread_cond_broadcast(&s->local->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->reload_lock);
	STATS_ADD(s->st, reloads_ok, 1);
	scanner_update_gauges(s);
	log_info("reloaded signatures=%u previous=%u database=%s", m->sigs, was, s->cfg->database);
	return 0;
}

void scanner_update_gauges(struct scanner *s)
{
	unsigned int sigs;
	uint64_t loaded;

	pthread_mutex_lock(&s->mlock);
	sigs = s->cur ? s->cur->sigs : 0;
	loaded = s->cur ? s->cur->loaded_ms : now_ms();
	pthread_mutex_unlock(&s->mlock);
	STATS_SET(s->st, signatures, sigs);
	STATS_SET(s->st, test_signatures, (uint64_t)s->cfg->test_signatures);
	STATS_SET(s->st, engine_age_s, (now_ms() - loaded) / 1000);
}

int scanner_master_pid(struct scanner *s)
{
	int pid;

	pthread_mutex_lock(&s->mlock);
	pid = s->cur ? (int)s->cur->pid : 0;
	pthread_mutex_unlock(&s->mlock);
	return pid;
}

unsigned int scanner_pids(struct scanner *s, int *pids, unsigned int n)
{
	unsigned int i, k = 0;

	pthread_mutex_lock(&s->mlock);
	for (i = 0; i < s->nslots && k < n; i++)
		if (s->slots[i].m)
			pids[k++] = (int)s->slots[i].pid;
	pthread_mutex_unlock(&s->mlock);
	return k;
}
