/* The packet engine's side of scanning: jobs, the backends of `scanners` and their
 * queues, dispatch by outstanding scans, remote scanners (health checks, failover),
 * a reload of the list, the counters. The local backend lives in scanlocal.c. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "scanner_impl.h"

static const char *const result_names[SCAN_RESULT_COUNT] = {
	[SCAN_CLEAN] = "clean",	  [SCAN_INFECTED] = "infected", [SCAN_LIMIT] = "limit",
	[SCAN_ERROR] = "error",	  [SCAN_TIMEOUT] = "timeout",	[SCAN_CRASHED] = "crashed",
	[SCAN_KILLED] = "killed", [SCAN_OVERSIZE] = "oversize",
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

const char *scan_result_name(enum scan_result r)
{
	return (unsigned int)r < SCAN_RESULT_COUNT ? result_names[r] : "error";
}

/* --- directories --- */

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

/* --- counting and the quarantine --- */

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

/* --- the threads --- */

static void queue_push(struct scan_job **head, struct scan_job **tail, struct scan_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct scan_job *queue_pop(struct scan_job **head, struct scan_job **tail)
{
	struct scan_job *j = *head;

	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void sink_push(struct scan_sink *k, struct scan_job *j)
{
	uint64_t one = 1;

	pthread_mutex_lock(&k->lock);
	queue_push(&k->head, &k->tail, j);
	pthread_mutex_unlock(&k->lock);
	if (write(k->efd, &one, sizeof(one)) < 0)
		log_warn("scan sink eventfd");
}

/* --- dispatch: under the scanner's lock --- */

/* a job no scanner will take: on_error */
static void fail_job(struct scanner *s, struct scan_job *j, const char *why)
{
	STATS_ADD(s->st, scan_queue_current, (uint64_t)-1);
	j->result = SCAN_ERROR;
	snprintf(j->virus, sizeof(j->virus), "%s", why);
	count_scan(s->st, j);
	sink_push(j->sink, j);
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
		queue_push(&best->head, &best->tail, j);
		best->outstanding++;
		pthread_cond_signal(&best->cond);
	} else if (untried) {
		queue_push(&s->parked, &s->parked_tail, j);
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
			queue_push(&s->parked, &s->parked_tail, j);
	}
}

/* --- the threads --- */

/* The next job of the slot's backend; NULL when a second has passed (a process killed
 * while idle is replaced within it, health checks run), when a local thread should move
 * to a new master, or when the scanner stops. */
struct scan_job *scanner_take(struct slot *sl, uint64_t *gen)
{
	struct scanner *s = sl->s;
	struct backend *b = sl->b;
	struct scan_job *j = NULL;
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&s->lock);
	while (!b->head && !s->stop && !b->retired &&
	       (b->spec.kind != SCANNER_LOCAL || (sl->m && sl->gen == s->gen)))
		if (pthread_cond_timedwait(&b->cond, &s->lock, &until) == ETIMEDOUT)
			break;
	expire_parked(s, now_ms());
	*gen = s->gen;
	if (!s->stop && (j = queue_pop(&b->head, &b->tail)))
		STATS_ADD(s->st, scan_queue_current, (uint64_t)-1);
	sl->done = s->stop || (b->retired && !j);
	pthread_mutex_unlock(&s->lock);
	return j;
}

void scanner_count_backend(struct backend *b, const struct scan_job *j, enum remote_rc rc)
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
void scanner_done(struct slot *sl, struct scan_job *j)
{
	struct scanner *s = sl->s;

	pthread_mutex_lock(&s->lock);
	sl->b->outstanding--;
	pthread_mutex_unlock(&s->lock);
	count_scan(s->st, j);
	if (j->result == SCAN_INFECTED)
		quarantine_write(s->cfg, s->st, &s->qseq, j);
	sink_push(j->sink, j);
}

/* --- remote scanners --- */

static enum remote_rc remote_check(struct slot *sl, uint64_t deadline)
{
	const struct scanner_spec *sp = &sl->b->spec;
	enum remote_rc rc;

	if (sp->kind != SCANNER_ICAP)
		return clamd_ping(sp, deadline);
	rc = icap_options(sp, &sl->icap, deadline);
	sl->icap_known = rc == REMOTE_OK;
	return rc;
}

static enum remote_rc remote_scan(struct slot *sl, struct scan_job *j, uint64_t deadline)
{
	const struct scanner_spec *sp = &sl->b->spec;

	if (sp->kind != SCANNER_ICAP)
		return clamd_scan(sp, &sl->conn, j->msg, j->len, deadline, &j->result, j->virus,
				  sizeof(j->virus));
	if (!sl->icap_known && remote_check(sl, deadline) != REMOTE_OK)
		return remote_failed();
	return icap_scan(sp, &sl->icap, j->msg, j->len, deadline, &j->result, j->virus,
			 sizeof(j->virus));
}

/* the backend's first thread checks its health: every CHECK_MS while it is up, with a
 * doubling backoff while it is down */
static void health(struct slot *sl)
{
	struct scanner *s = sl->s;
	struct backend *b = sl->b;
	uint64_t now = now_ms(), due;
	enum remote_rc rc;

	pthread_mutex_lock(&s->lock);
	due = b->next_check_ms;
	pthread_mutex_unlock(&s->lock);
	if (sl->idx != 0 || now < due)
		return;
	rc = remote_check(sl, now + 2000);
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

/* A remote scanner's thread. A scan it cannot answer (connection refused or lost, no
 * answer by scan_timeout) marks it down and goes to another scanner; only when none
 * is left does on_error apply. */
static void *slot_main_remote(void *arg)
{
	struct slot *sl = arg;
	struct scanner *s = sl->s;
	struct backend *b = sl->b;

	for (;;) {
		uint64_t gen, deadline, t0;
		struct scan_job *j = scanner_take(sl, &gen);
		enum remote_rc rc;

		if (sl->done)
			break;
		health(sl);
		if (!j)
			continue;
		STATS_ADD(s->st, scan_wait_us_total, now_us() - j->submit_us);
		t0 = now_us();
		deadline = now_ms() + (uint64_t)s->cfg->scan_timeout * 1000;
		if (deadline > j->deadline_ms)
			deadline = j->deadline_ms;
		rc = remote_scan(sl, j, deadline);
		j->scan_us = now_us() - t0;
		scanner_count_backend(b, j, rc);
		if (rc == REMOTE_OK) {
			scanner_done(sl, j);
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
	if (sl->conn >= 0)
		close(sl->conn);
	return NULL;
}

void scanner_submit(struct scanner *s, struct scan_job *j, struct scan_sink *k)
{
	unsigned int hold = s->cfg->hold_timeout;

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

/* --- the scanner --- */

/* scans at once: local takes `workers` unless max= says, a remote scanner REMOTE_MAX */
static unsigned int backend_max(const struct scanner *s, const struct scanner_spec *sp)
{
	unsigned int max = sp->max		       ? sp->max
			   : sp->kind == SCANNER_LOCAL ? s->cfg->workers
						       : REMOTE_MAX;

	return sp->kind == SCANNER_LOCAL && max > MAX_WORKERS ? MAX_WORKERS : max;
}

/* under the lock, or before any thread: a new backend, up until it fails */
static struct backend *backend_add(struct scanner *s, const struct scanner_spec *sp)
{
	struct backend *b = &s->backends[s->nb];
	pthread_condattr_t ca;

	memset(b, 0, sizeof(*b));
	b->spec = *sp;
	b->idx = s->nb++;
	b->max = backend_max(s, sp);
	b->up = 1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (sp->kind == SCANNER_LOCAL)
		s->local = b;
	return b;
}

/* its threads: a scanner process each for local, a connection each for a remote one */
static int slots_start(struct scanner *s, struct backend *b)
{
	unsigned int k;

	for (k = 0; k < b->max && s->nslots < MAX_SLOTS; k++) {
		struct slot *sl = &s->slots[s->nslots];
		int local = b->spec.kind == SCANNER_LOCAL;
		char name[16];

		sl->s = s;
		sl->b = b;
		sl->idx = k;
		sl->conn = -1;
		sl->memfd = local ? memfd_create("mailscan-message", MFD_CLOEXEC) : -1;
		if ((local && sl->memfd < 0) ||
		    pthread_create(&sl->tid, NULL, local ? scanlocal_main : slot_main_remote, sl))
			return -1;
		/* top, ps -L and per-thread CPU */
		snprintf(name, sizeof(name), local ? "ms-scan%u" : "ms-remote%u", s->nslots);
		pthread_setname_np(sl->tid, name);
		s->nslots++;
	}
	return 0;
}

/* which of the running backends SPECS keeps (KEEP) and which of SPECS are new (FRESH);
 * -1 with a reason when there is no room for the new ones and their threads */
static int plan(struct scanner *s, const struct scanner_spec *specs, int n, int *keep, int *fresh,
		int *need_local, char *err, size_t errlen)
{
	unsigned int add = 0, slots = 0, k;
	int i;

	*need_local = 0;
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
			*need_local |= specs[i].kind == SCANNER_LOCAL;
		}
	}
	if (s->nb + add > MAX_BACKENDS || s->nslots + slots > MAX_SLOTS) {
		snprintf(err, errlen, "scanners: no room for %u more backends (restart mailscand)",
			 add);
		return -1;
	}
	return 0;
}

/* `scanners` as the configuration file says now: new backends start, those no longer
 * listed finish the scan they have and stop (what was queued to them goes to the
 * others), those in both keep their state and counters */
static int reload_backends(struct scanner *s, char *err, size_t errlen)
{
	struct scanner_spec specs[SCANNERS_MAX];
	struct backend *added[SCANNERS_MAX];
	struct scan_job *moved = NULL, *moved_tail = NULL, *j;
	int keep[MAX_BACKENDS] = { 0 }, fresh[SCANNERS_MAX], need_local, n, i, r = -1;
	struct master *m = NULL, *drop = NULL;
	unsigned int k, nadd = 0;
	struct config *c = malloc(sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!s->cfg->path[0]) { /* built-in defaults: nothing to read again */
		r = 0;
		goto out;
	}
	if (config_load(c, s->cfg->path, err, errlen))
		goto out;
	if (!strcmp(c->scanners, s->scanners)) {
		r = 0;
		goto out;
	}
	n = scanners_parse(c->scanners, specs, SCANNERS_MAX, err, errlen);
	pthread_mutex_lock(&s->lock);
	i = n < 0 ? -1 : plan(s, specs, n, keep, fresh, &need_local, err, errlen);
	pthread_mutex_unlock(&s->lock);
	if (i < 0)
		goto out;
	if (need_local && !s->cur && !(m = scanlocal_master_start(s, err, errlen)))
		goto out;
	pthread_mutex_lock(&s->lock);
	for (k = 0; k < s->nb; k++) {
		struct backend *b = &s->backends[k];

		if (keep[k] || b->retired)
			continue;
		b->retired = 1;
		if (b == s->local)
			s->local = NULL;
		while ((j = queue_pop(&b->head, &b->tail))) {
			b->outstanding--;
			queue_push(&moved, &moved_tail, j);
		}
		pthread_cond_broadcast(&b->cond);
		log_info("scanner %s: removed; it finishes what it has", b->spec.name);
	}
	for (i = 0; i < n; i++) /* reload_lock held: nothing changed since the plan */
		if (fresh[i])
			added[nadd++] = backend_add(s, &specs[i]);
	while ((j = queue_pop(&moved, &moved_tail)))
		dispatch(s, j);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->mlock);
	if (m)
		s->cur = m;
	if (!s->local && s->cur) { /* no local scanner any more: its master goes */
		drop = s->cur;
		s->cur = NULL;
	}
	scanlocal_master_put(drop);
	pthread_mutex_unlock(&s->mlock);
	for (k = 0; k < nadd; k++) {
		if (slots_start(s, added[k])) {
			snprintf(err, errlen, "scanner %s: cannot start its threads",
				 added[k]->spec.name);
			goto out;
		}
		log_info("scanner %s: added", added[k]->spec.name);
	}
	snprintf(s->scanners, sizeof(s->scanners), "%s", c->scanners);
	log_info("scanners = %s", s->scanners);
	r = 0;
out:
	free(c);
	return r;
}

int scanner_reload(struct scanner *s, char *err, size_t errlen)
{
	int r;

	/* one change of the list at a time; a mistake in the file must not stop signature
	 * updates: said, and left */
	pthread_mutex_lock(&s->reload_lock);
	r = reload_backends(s, err, errlen);
	pthread_mutex_unlock(&s->reload_lock);
	if (r)
		log_warnx("scanners unchanged: %s", err);
	if (s->local)
		return scanlocal_reload(s, err, errlen);
	STATS_ADD(s->st, reloads_ok, 1);
	return 0;
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
	s->cfg = c;
	s->st = st;
	s->qseq = now_us() % 1000000000; /* names unique across restarts within a second */
	s->id.uid = getuid();
	s->id.gid = getgid();
	n = scanners_parse(c->scanners, specs, SCANNERS_MAX, err, errlen);
	if (n < 0 || (geteuid() == 0 && privsep_lookup(c->user, &s->id, err, errlen)))
		goto fail;
	if (mkdir_private(c->tmpdir, &s->id) || mkdir_private(c->quarantine, &s->id)) {
		snprintf(err, errlen, "%s or %s: %s", c->tmpdir, c->quarantine, strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&s->mlock, NULL);
	pthread_mutex_init(&s->reload_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i < n; i++)
		backend_add(s, &specs[i]);
	snprintf(s->scanners, sizeof(s->scanners), "%s", c->scanners);
	s->dbprint = scanlocal_fingerprint(c->database);
	if (s->local) {
		s->cur = scanlocal_master_start(s, err, errlen);
		if (!s->cur) {
			scanner_free(s);
			return NULL;
		}
		if (c->test_signatures)
			log_warnx("using mailscan's TEST signatures from %s: not for production",
				  c->database);
	}
	scanner_update_gauges(s);
	return s;
fail:
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

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void jobs_free(struct scan_job *j)
{
	struct scan_job *n;

	for (; j; j = n) {
		n = j->next;
		scan_job_free(j);
	}
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
	for (i = 0; i < s->nslots; i++) {
		pthread_join(s->slots[i].tid, NULL);
		if (s->slots[i].memfd >= 0)
			close(s->slots[i].memfd);
	}
	for (i = 0; i < s->nb; i++) {
		jobs_free(s->backends[i].head);
		pthread_cond_destroy(&s->backends[i].cond);
	}
	jobs_free(s->parked);
	pthread_mutex_lock(&s->mlock);
	scanlocal_master_put(s->cur);
	pthread_mutex_unlock(&s->mlock);
	/* libclamav's private temporary directory is emptied at exit */
	nftw(s->cfg->tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&s->mlock);
	pthread_mutex_destroy(&s->reload_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* --- jobs and sinks --- */

struct scan_job *scan_job_new(const uint8_t *msg, size_t len)
{
	struct scan_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->msg = malloc(len ? len : 1);
	if (!j->msg) {
		free(j);
		return NULL;
	}
	memcpy(j->msg, msg, len);
	j->len = len;
	return j;
}

void scan_job_free(struct scan_job *j)
{
	if (!j)
		return;
	free(j->msg);
	free(j);
}

int scan_sink_init(struct scan_sink *k)
{
	memset(k, 0, sizeof(*k));
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0)
		return -1;
	pthread_mutex_init(&k->lock, NULL);
	return 0;
}

void scan_sink_destroy(struct scan_sink *k)
{
	struct scan_job *j, *n;

	for (j = k->head; j; j = n) {
		n = j->next;
		scan_job_free(j);
	}
	if (k->efd >= 0)
		close(k->efd);
	pthread_mutex_destroy(&k->lock);
}

struct scan_job *scan_sink_take(struct scan_sink *k)
{
	struct scan_job *j;
	uint64_t v;

	if (read(k->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("scan sink eventfd");
	pthread_mutex_lock(&k->lock);
	j = k->head;
	k->head = k->tail = NULL;
	pthread_mutex_unlock(&k->lock);
	return j;
}
