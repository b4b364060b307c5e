/* The packet engine's side of scanning: the backends of `scanners` and their queues,
 * dispatch by outstanding scans, the threads that feed them, failover and the health
 * checks of remote scanners, a reload of the list and of the signatures, the counters.
 * The dispatcher sees a backend only through its operations (backend.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "log.h"

#define MAX_SLOTS      256
#define MAX_BACKENDS   32    /* the configured ones, and those reloads add */
#define MAX_WORKERS    64    /* local scanner processes */
#define REMOTE_MAX     4     /* scans at once on a remote scanner unless max= says */
#define CHECK_MS       5000  /* health checks while up */
#define BACKOFF_MAX_MS 30000 /* between health checks while down, at most */
#define KINDS	       (SCANNER_ICAP + 1)

/* per kind of `scanners` entry: its backend */
static const struct backend_ops *const backend_kinds[KINDS] = {
	[SCANNER_LOCAL] = &scanlocal_ops,
	[SCANNER_CLAMD_UNIX] = &clamd_ops,
	[SCANNER_CLAMD_TCP] = &clamd_ops,
	[SCANNER_ICAP] = &icap_ops,
};

/* A scanner from the `scanners` list. Its threads take its jobs; a job goes to the
 * backend that is up, has not failed it yet, and has the fewest outstanding scans for
 * its `max`. */
struct backend {
	struct scanner_spec spec;
	const struct backend_ops *ops;
	unsigned int idx, max;
	pthread_cond_t cond; /* its threads wait here; the rest is under the scanner's lock */
	struct scan_job *head, *tail;
	unsigned int outstanding; /* queued to it and being scanned */
	int up;
	int retired; /* gone from `scanners` by a reload: its threads finish and exit */
	uint64_t next_check_ms, backoff_ms; /* health checks */
	struct backend_stats st;
};

struct slot {
	struct scanner *s;
	struct backend *b;
	pthread_t tid;
	int done; /* the scanner stops, or the backend is retired and has nothing left */
	struct backend_slot bs;
};

struct scanner {
	struct stats *st;
	struct backend_env env;
	void *kinds[KINDS];		       /* each kind's state, once started */
	pthread_mutex_t reload_lock;	       /* one reload at a time */
	pthread_mutex_t lock;		       /* the backends' queues and states, parked jobs */
	struct backend backends[MAX_BACKENDS]; /* stable: a job's tried bits index them */
	unsigned int nb;
	char scanners[sizeof(((struct config *)0)->scanners)]; /* the list in use */
	struct scan_job *parked, *parked_tail; /* no backend up that has not failed them */
	int stop;
	uint64_t gen; /* bumped by a reload of signatures: idle threads move to the new engine */
	struct slot slots[MAX_SLOTS];
	unsigned int nslots;
	uint64_t qseq;	  /* quarantine file names */
	uint64_t dbprint; /* the database directory at the last load (database_check) */
};

/* per result: its counter */
static const size_t result_counters[SCAN_RESULT_COUNT] = {
	[SCAN_CLEAN] = offsetof(struct stats, scans_clean),
	[SCAN_INFECTED] = offsetof(struct stats, scans_infected),
	[SCAN_LIMIT] = offsetof(struct stats, scans_limits),
	[SCAN_ERROR] = offsetof(struct stats, scans_errors),
	[SCAN_TIMEOUT] = offsetof(struct stats, scans_timeouts),
	[SCAN_CRASHED] = offsetof(struct stats, scans_crashed),
	[SCAN_KILLED] = offsetof(struct stats, scans_killed),
	[SCAN_OVERSIZE] = offsetof(struct stats, scans_oversize),
};

/* the quarantine and the temporary directory: private, the scanning user's */
static int mkdir_private(const char *dir, const struct privsep_id *id)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -1;
	if (geteuid() == 0 && chown(tmp, id->uid, id->gid))
		return -1;
	return chmod(tmp, 0700);
}

/* The database directory's files (names, sizes, times, inodes), in any order: a new,
 * changed, replaced or removed file changes it. */
static uint64_t database_fingerprint(const char *dir)
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

/* the configuration in force, with a reference: live_put gives it back */
static const struct config *conf(struct scanner *s)
{
	return live_slot_get(&s->env.cfg);
}

int scanner_database_changed(struct scanner *s)
{
	const struct config *c;
	int r;

	pthread_mutex_lock(&s->reload_lock);
	c = conf(s);
	r = database_fingerprint(c->database) != s->dbprint;
	live_put(c);
	pthread_mutex_unlock(&s->reload_lock);
	return r;
}

/* the histogram buckets (at most 10 ms, 100 ms, 1 s, 10 s) a scan of US falls in */
static void count_latency(uint64_t us, uint64_t *const le[4])
{
	uint64_t bound = 10000;
	int i;

	for (i = 0; i < 4; i++, bound *= 10)
		if (us <= bound)
			__atomic_fetch_add(le[i], 1, __ATOMIC_RELAXED);
}

static void count_scan(struct stats *st, const struct scan_job *j)
{
	uint64_t us = j->scan_us;

	STATS_ADD(st, scans, 1);
	STATS_ADD(st, scan_bytes, j->len);
	stats_add_at(st, result_counters[j->result], 1);
	STATS_ADD(st, scan_time_us_total, us);
	STATS_MAX(st, scan_time_us_max, us);
	count_latency(us, (uint64_t *[]){ &st->scan_time_le_10ms, &st->scan_time_le_100ms,
					  &st->scan_time_le_1s, &st->scan_time_le_10s });
}

/* a job no scanner will take: on_error */
static void fail_job(struct scanner *s, struct scan_job *j, const char *why)
{
	STATS_ADD(s->st, scan_queue_current, (uint64_t)-1);
	j->result = SCAN_ERROR;
	snprintf(j->virus, sizeof(j->virus), "%s", why);
	count_scan(s->st, j);
	scan_sink_push(j->sink, j);
}

/* To the backend that is up, has not failed the job, and has the fewest outstanding
 * scans for its max; parked while every such backend is down. */
static void dispatch(struct scanner *s, struct scan_job *j)
{
	struct backend *best = NULL;
	int untried = 0;
	unsigned int i;

	for (i = 0; i < s->nb; i++) {
		struct backend *b = &s->backends[i];

		if (b->retired || (j->tried & (1u << i)))
			continue;
		untried = 1;
		if (!b->up)
			continue;
		if (!best ||
		    (uint64_t)b->outstanding * best->max < (uint64_t)best->outstanding * b->max)
			best = b;
	}
	if (best) {
		scan_jobs_push(&best->head, &best->tail, j);
		best->outstanding++;
		pthread_cond_signal(&best->cond);
	} else if (untried) {
		scan_jobs_push(&s->parked, &s->parked_tail, j);
	} else {
		fail_job(s, j, "no scanner could answer");
	}
}

static void backend_state(struct scanner *s, struct backend *b, int up, const char *why)
{
	struct scan_job *j, *q;

	if (b->up == up)
		return;
	b->up = up;
	if (up) {
		log_info("scanner %s is up", b->spec.name);
		q = s->parked; /* their chance */
		s->parked = s->parked_tail = NULL;
	} else {
		log_warnx("scanner %s is down: %s", b->spec.name, why);
		q = b->head; /* never sent to it: not counted as tried */
		b->head = b->tail = NULL;
		for (j = q; j; j = j->next)
			b->outstanding--;
	}
	while ((j = q)) {
		q = j->next;
		dispatch(s, j);
	}
}

/* parked past hold_timeout: no scanner could answer in time */
static void expire_parked(struct scanner *s, uint64_t now)
{
	struct scan_job *j, *q = s->parked;

	s->parked = s->parked_tail = NULL;
	while ((j = q)) {
		q = j->next;
		if (now >= j->deadline_ms)
			fail_job(s, j, "no scanner answered within hold_timeout");
		else
			scan_jobs_push(&s->parked, &s->parked_tail, j);
	}
}

/* The next job of the slot's backend; NULL when a second has passed (a process killed
 * while idle is replaced within it, health checks run), when the slot has work between
 * jobs (a new engine to move to), or when the scanner stops. */
static struct scan_job *take(struct slot *sl, uint64_t *gen)
{
	struct scanner *s = sl->s;
	struct backend *b = sl->b;
	struct scan_job *j = NULL;
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&s->lock);
	while (!b->head && !s->stop && !b->retired &&
	       (!b->ops->idle || (sl->bs.settled && sl->bs.gen == s->gen)))
		if (pthread_cond_timedwait(&b->cond, &s->lock, &until) == ETIMEDOUT)
			break;
	expire_parked(s, now_ms());
	*gen = s->gen;
	while (!s->stop && (j = scan_jobs_pop(&b->head, &b->tail))) {
		if (now_ms() < j->deadline_ms) {
			STATS_ADD(s->st, scan_queue_current, (uint64_t)-1);
			break;
		}
		/* its packet's hold is over (on_error decided): a scan would change nothing */
		STATS_ADD(s->st, scans_expired, 1);
		fail_job(s, j, "held past hold_timeout before a scanner was free");
		j = NULL;
	}
	sl->done = s->stop || (b->retired && !j);
	pthread_mutex_unlock(&s->lock);
	return j;
}

static void count_backend(struct backend *b, const struct scan_job *j, enum remote_rc rc)
{
	struct backend_stats *st = &b->st;
	uint64_t us = j->scan_us;

	if (rc != REMOTE_OK) {
		STATS_ADD(st, errors, 1);
		if (rc == REMOTE_TIMEOUT)
			STATS_ADD(st, timeouts, 1);
		return;
	}
	STATS_ADD(st, scans, 1);
	STATS_ADD(st, bytes, j->len);
	STATS_ADD(st, time_us_total, us);
	count_latency(us, (uint64_t *[]){ &st->le_10ms, &st->le_100ms, &st->le_1s, &st->le_10s });
}

/* a scan is over: the backend's count goes down, the submitter gets the job */
static void done(struct slot *sl, struct scan_job *j)
{
	struct scanner *s = sl->s;

	pthread_mutex_lock(&s->lock);
	sl->b->outstanding--;
	pthread_mutex_unlock(&s->lock);
	count_scan(s->st, j);
	if (j->result == SCAN_INFECTED) {
		const struct config *c = conf(s);

		quarantine_write(c, s->st, &s->qseq, j);
		live_put(c);
	}
	scan_sink_push(j->sink, j);
}

/* the first thread of a backend that can be down checks its health: every CHECK_MS
 * while it is up, with a doubling backoff while it is down */
static void health(struct slot *sl)
{
	struct scanner *s = sl->s;
	struct backend *b = sl->b;
	uint64_t now = now_ms(), due;
	enum remote_rc rc;

	pthread_mutex_lock(&s->lock);
	due = b->next_check_ms;
	pthread_mutex_unlock(&s->lock);
	if (sl->bs.idx != 0 || now < due)
		return;
	rc = b->ops->health(&sl->bs, now + 2000);
	pthread_mutex_lock(&s->lock);
	if (rc == REMOTE_OK) {
		b->backoff_ms = 0;
		b->next_check_ms = now + CHECK_MS;
	} else {
		b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : 1000;
		if (b->backoff_ms > BACKOFF_MAX_MS)
			b->backoff_ms = BACKOFF_MAX_MS;
		b->next_check_ms = now + b->backoff_ms;
	}
	backend_state(s, b, rc == REMOTE_OK,
		      rc == REMOTE_TIMEOUT ? "health check timed out" : "health check failed");
	pthread_mutex_unlock(&s->lock);
}

/* A backend's thread. A scan a remote scanner cannot answer (connection refused or
 * lost, no answer by scan_timeout) marks it down and goes to another scanner; only
 * when none is left does on_error apply. */
static void *slot_main(void *arg)
{
	struct slot *sl = arg;
	struct scanner *s = sl->s;
	struct backend *b = sl->b;
	const struct backend_ops *ops = b->ops;

	for (;;) {
		uint64_t gen, deadline;
		struct scan_job *j = take(sl, &gen);
		const struct config *c;
		enum remote_rc rc;

		if (sl->done)
			break;
		if (ops->idle)
			ops->idle(&sl->bs, gen, j != NULL, s->stop);
		if (ops->health)
			health(sl);
		if (!j)
			continue;
		STATS_ADD(s->st, scan_wait_us_total, now_us() - j->submit_us);
		c = conf(s);
		deadline = now_ms() + (uint64_t)c->scan_timeout * 1000;
		live_put(c);
		if (deadline > j->deadline_ms)
			deadline = j->deadline_ms;
		rc = ops->scan(&sl->bs, j, gen, deadline);
		count_backend(b, j, rc);
		if (rc == REMOTE_OK) {
			done(sl, j);
			continue;
		}
		STATS_ADD(s->st, scans_failed_over, 1);
		pthread_mutex_lock(&s->lock);
		b->outstanding--;
		b->backoff_ms = 1000;
		b->next_check_ms = now_ms() + b->backoff_ms;
		backend_state(s, b, 0, rc == REMOTE_TIMEOUT ? "no answer in time" : "no answer");
		j->tried |= 1u << b->idx;
		STATS_ADD(s->st, scan_queue_current, 1);
		dispatch(s, j);
		pthread_mutex_unlock(&s->lock);
	}
	ops->close(&sl->bs);
	return NULL;
}

void scanner_submit(struct scanner *s, struct scan_job *j, struct scan_sink *k)
{
	const struct config *c = conf(s);
	unsigned int hold = c->hold_timeout;

	live_put(c);
	j->sink = k;
	j->next = NULL;
	j->submit_us = now_us();
	j->tried = 0;
	/* answered a little before the held packet's own limit, with the reason */
	j->deadline_ms = now_ms() + (uint64_t)hold * 1000 - (hold > 1 ? 500 : 0);
	pthread_mutex_lock(&s->lock);
	STATS_ADD(s->st, scan_queue_current, 1);
	dispatch(s, j);
	pthread_mutex_unlock(&s->lock);
}

/* scans at once: local takes `workers` unless max= says, a remote scanner REMOTE_MAX */
static unsigned int backend_max(struct scanner *s, const struct scanner_spec *sp)
{
	const struct config *c = conf(s);
	unsigned int max = sp->max ? sp->max : sp->kind == SCANNER_LOCAL ? c->workers : REMOTE_MAX;

	live_put(c);
	return sp->kind == SCANNER_LOCAL && max > MAX_WORKERS ? MAX_WORKERS : max;
}

/* under the lock, or before any thread: a new backend, up until it fails */
static struct backend *backend_add(struct scanner *s, const struct scanner_spec *sp)
{
	struct backend *b = &s->backends[s->nb];
	pthread_condattr_t ca;

	memset(b, 0, sizeof(*b));
	b->spec = *sp;
	b->ops = backend_kinds[sp->kind];
	b->idx = s->nb++;
	b->max = backend_max(s, sp);
	b->up = 1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	return b;
}

/* its threads: a scanner process each for local, a connection each for a remote one */
static int slots_start(struct scanner *s, struct backend *b)
{
	unsigned int k;

	for (k = 0; k < b->max && s->nslots < MAX_SLOTS; k++) {
		struct slot *sl = &s->slots[s->nslots];
		char name[16];

		sl->s = s;
		sl->b = b;
		sl->bs = (struct backend_slot){
			.env = &s->env, .spec = &b->spec, .kind = s->kinds[b->spec.kind], .idx = k
		};
		if (b->ops->open(&sl->bs))
			return -1;
		if (pthread_create(&sl->tid, NULL, slot_main, sl)) {
			b->ops->close(&sl->bs);
			return -1;
		}
		/* top, ps -L and per-thread CPU */
		snprintf(name, sizeof(name), "%s%u", b->ops->thread, s->nslots);
		pthread_setname_np(sl->tid, name);
		s->nslots++;
	}
	return 0;
}

/* is a backend of KIND listed? */
static int kind_listed(const struct scanner *s, unsigned int kind)
{
	unsigned int i;

	for (i = 0; i < s->nb; i++)
		if (!s->backends[i].retired && s->backends[i].spec.kind == kind)
			return 1;
	return 0;
}

/* the kinds of SPECS that have something to start (a local engine): started, or -1
 * with a reason */
static int kinds_start(struct scanner *s, const struct scanner_spec *specs, int n, char *err,
		       size_t errlen)
{
	int i;

	for (i = 0; i < n; i++) {
		const struct backend_ops *ops = backend_kinds[specs[i].kind];

		if (ops->start && ops->start(&s->kinds[specs[i].kind], &s->env, err, errlen))
			return -1;
	}
	return 0;
}

/* the kinds no longer listed let their state go (the local engine's master) */
static void kinds_stop(struct scanner *s)
{
	unsigned int k;

	for (k = 0; k < KINDS; k++)
		if (s->kinds[k] && backend_kinds[k]->stop && !kind_listed(s, k))
			backend_kinds[k]->stop(s->kinds[k], 0);
}

/* which of the running backends SPECS keeps (KEEP) and which of SPECS are new (FRESH);
 * -1 with a reason when there is no room for the new ones and their threads */
static int plan(struct scanner *s, const struct scanner_spec *specs, int n, int *keep, int *fresh,
		char *err, size_t errlen)
{
	unsigned int add = 0, slots = 0, k;
	int i;

	for (i = 0; i < n; i++) {
		int found = 0;

		for (k = 0; k < s->nb && !found; k++) {
			const struct backend *b = &s->backends[k];

			if (!b->retired && !strcmp(b->spec.name, specs[i].name) &&
			    b->spec.max == specs[i].max)
				found = keep[k] = 1;
		}
		fresh[i] = !found;
		if (!found) {
			add++;
			slots += backend_max(s, &specs[i]);
		}
	}
	if (s->nb + add > MAX_BACKENDS || s->nslots + slots > MAX_SLOTS) {
		snprintf(err, errlen, "scanners: no room for %u more backends (restart mailscand)",
			 add);
		return -1;
	}
	return 0;
}

/* `scanners` as a reload's configuration says: new backends start, those no longer
 * listed finish the scan they have and stop (what was queued to them goes to the
 * others), those in both keep their state and counters */
static int reload_backends(struct scanner *s, const char *list, char *err, size_t errlen)
{
	struct scanner_spec specs[SCANNERS_MAX];
	struct backend *added[SCANNERS_MAX];
	struct scan_job *moved = NULL, *moved_tail = NULL, *j;
	int keep[MAX_BACKENDS] = { 0 }, fresh[SCANNERS_MAX], n, i;
	unsigned int k, nadd = 0;

	if (!strcmp(list, s->scanners))
		return 0;
	n = scanners_parse(list, specs, SCANNERS_MAX, err, errlen);
	pthread_mutex_lock(&s->lock);
	i = n < 0 ? -1 : plan(s, specs, n, keep, fresh, err, errlen);
	pthread_mutex_unlock(&s->lock);
	if (i < 0 || kinds_start(s, specs, n, err, errlen))
		return -1;
	pthread_mutex_lock(&s->lock);
	for (k = 0; k < s->nb; k++) {
		struct backend *b = &s->backends[k];

		if (keep[k] || b->retired)
			continue;
		b->retired = 1;
		while ((j = scan_jobs_pop(&b->head, &b->tail))) {
			b->outstanding--;
			scan_jobs_push(&moved, &moved_tail, j);
		}
		pthread_cond_broadcast(&b->cond);
		log_info("scanner %s: removed; it finishes what it has", b->spec.name);
	}
	for (i = 0; i < n; i++) /* reload_lock held: nothing changed since the plan */
		if (fresh[i])
			added[nadd++] = backend_add(s, &specs[i]);
	while ((j = scan_jobs_pop(&moved, &moved_tail)))
		dispatch(s, j);
	pthread_mutex_unlock(&s->lock);
	kinds_stop(s);
	for (k = 0; k < nadd; k++) {
		if (slots_start(s, added[k])) {
			snprintf(err, errlen, "scanner %s: cannot start its threads",
				 added[k]->spec.name);
			return -1;
		}
		log_info("scanner %s: added", added[k]->spec.name);
	}
	snprintf(s->scanners, sizeof(s->scanners), "%s", list);
	log_info("scanners = %s", s->scanners);
	return 0;
}

/* the engines' gauges: signatures, when loaded, the local master */
static void gauges(struct scanner *s, struct backend_gauges *g)
{
	unsigned int k;

	*g = (struct backend_gauges){ .loaded_ms = now_ms() };
	for (k = 0; k < KINDS; k++)
		if (s->kinds[k] && backend_kinds[k]->counters)
			backend_kinds[k]->counters(s->kinds[k], g);
}

void scanner_update_gauges(struct scanner *s)
{
	struct backend_gauges g;

	const struct config *c = conf(s);

	gauges(s, &g);
	STATS_SET(s->st, signatures, g.signatures);
	STATS_SET(s->st, test_signatures, (uint64_t)c->test_signatures);
	live_put(c);
	STATS_SET(s->st, engine_age_s, (now_ms() - g.loaded_ms) / 1000);
}

int scanner_master_pid(struct scanner *s)
{
	struct backend_gauges g;

	gauges(s, &g);
	return g.master_pid;
}

unsigned int scanner_pids(struct scanner *s, int *pids, unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < s->nslots && k < n; i++) {
		int pid = __atomic_load_n(&s->slots[i].bs.pid, __ATOMIC_RELAXED);

		if (pid)
			pids[k++] = pid;
	}
	return k;
}

/* The signatures of the kinds that have their own (a new local engine); once one has
 * loaded, the threads of its kind move to it as they go idle. */
static int reload_signatures(struct scanner *s, char *err, size_t errlen)
{
	struct backend_gauges was, now;
	unsigned int k, i, n = 0;
	const struct config *c;
	int r = 0;

	pthread_mutex_lock(&s->reload_lock);
	c = conf(s);
	for (k = 0; k < KINDS; k++) {
		const struct backend_ops *ops = backend_kinds[k];

		if (!ops->reload || !kind_listed(s, k))
			continue;
		if (!n++) {
			/* a failed load is remembered too: only a later change is worth
			 * another try */
			s->dbprint = database_fingerprint(c->database);
			gauges(s, &was);
		}
		if (ops->reload(s->kinds[k], err, errlen)) {
			r = -1;
			continue;
		}
		pthread_mutex_lock(&s->lock);
		s->gen++;
		for (i = 0; i < s->nb; i++)
			if (s->backends[i].spec.kind == k && !s->backends[i].retired)
				pthread_cond_broadcast(&s->backends[i].cond);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&s->reload_lock);
	if (r) {
		live_put(c);
		STATS_ADD(s->st, reloads_failed, 1);
		log_warnx("reload failed, the running engine stays: %s", err);
		return -1;
	}
	STATS_ADD(s->st, reloads_ok, 1);
	if (n) {
		scanner_update_gauges(s);
		gauges(s, &now);
		log_info("reloaded signatures=%u previous=%u database=%s", now.signatures,
			 was.signatures, c->database);
	}
	live_put(c);
	return 0;
}

int scanner_reload(struct scanner *s, char *err, size_t errlen)
{
	return reload_signatures(s, err, errlen);
}

int scanner_configure(struct scanner *s, const struct config *next, char *err, size_t errlen)
{
	int r;

	/* one change at a time; the new values are in place before a new engine loads */
	pthread_mutex_lock(&s->reload_lock);
	live_slot_set(&s->env.cfg, next);
	r = reload_backends(s, next->scanners, err, errlen);
	pthread_mutex_unlock(&s->reload_lock);
	return r;
}

struct scanner *scanner_new(const struct config *c, struct stats *st, char *err, size_t errlen)
{
	struct scanner_spec specs[SCANNERS_MAX];
	struct scanner *s = calloc(1, sizeof(*s));
	int i, n;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->st = st;
	s->qseq = now_us() % 1000000000; /* names unique across restarts within a second */
	live_slot_init(&s->env.cfg, c);
	s->env.st = st;
	s->env.id.uid = getuid();
	s->env.id.gid = getgid();
	n = scanners_parse(c->scanners, specs, SCANNERS_MAX, err, errlen);
	if (n < 0 || (geteuid() == 0 && privsep_lookup(c->user, &s->env.id, err, errlen)))
		goto fail;
	if (mkdir_private(c->tmpdir, &s->env.id) || mkdir_private(c->quarantine, &s->env.id)) {
		snprintf(err, errlen, "%s or %s: %s", c->tmpdir, c->quarantine, strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&s->reload_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i < n; i++)
		backend_add(s, &specs[i]);
	snprintf(s->scanners, sizeof(s->scanners), "%s", c->scanners);
	s->dbprint = database_fingerprint(c->database);
	if (kinds_start(s, specs, n, err, errlen)) {
		scanner_free(s);
		return NULL;
	}
	scanner_update_gauges(s);
	return s;
fail:
	live_slot_destroy(&s->env.cfg);
	free(s);
	return NULL;
}

int scanner_start(struct scanner *s)
{
	unsigned int i;

	for (i = 0; i < s->nb; i++)
		if (slots_start(s, &s->backends[i]))
			return -1;
	return 0;
}

unsigned int scanner_backends(struct scanner *s, struct backend_report *r, unsigned int cap)
{
	unsigned int i, k = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nb && k < cap; i++) {
		const struct backend *b = &s->backends[i];

		if (b->retired)
			continue;
		snprintf(r[k].name, sizeof(r[k].name), "%s", b->spec.name);
		r[k].kind = scanners_kind_name(b->spec.kind);
		r[k].up = b->up;
		r[k].max = b->max;
		r[k].outstanding = b->outstanding;
		r[k].st = b->st;
		k++;
	}
	pthread_mutex_unlock(&s->lock);
	return k;
}

void scanner_free(struct scanner *s)
{
	unsigned int i;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	for (i = 0; i < s->nb; i++)
		pthread_cond_broadcast(&s->backends[i].cond);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->nslots; i++)
		pthread_join(s->slots[i].tid, NULL);
	for (i = 0; i < s->nb; i++) {
		scan_jobs_free(s->backends[i].head);
		pthread_cond_destroy(&s->backends[i].cond);
	}
	scan_jobs_free(s->parked);
	for (i = 0; i < KINDS; i++)
		if (s->kinds[i] && backend_kinds[i]->stop)
			backend_kinds[i]->stop(s->kinds[i], 1);
	/* nothing to clean: each scanner's temporary space was a tmpfs of its own */
	live_slot_destroy(&s->env.cfg);
	pthread_mutex_destroy(&s->reload_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
