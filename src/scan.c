/* libclamav: the only file that sees clamav.h. The engine is reference-counted: each
 * scan holds a reference on the engine it started with, so a reload swaps the pointer
 * and the old engine is freed after its last scan. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <clamav.h>

#include "daemon.h"
#include "log.h"
#include "scan.h"

#define TEST_MARKER  "MAILSCAN-TEST-SIGNATURES"
#define LIMIT_PREFIX "Heuristics.Limits.Exceeded"
#define MAX_WORKERS  64

struct scanner {
	const struct config *cfg;
	struct stats *st;
	pthread_mutex_t engine_lock;
	struct cl_engine *engine;
	unsigned int sigs;
	uint64_t loaded_ms;
	pthread_mutex_t reload_lock; /* one reload at a time */
	/* jobs waiting for a scan thread */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct scan_job *head, *tail;
	int stop;
	pthread_t workers[MAX_WORKERS];
	unsigned int nworkers;
	uint64_t qseq;	  /* quarantine file names */
	uint64_t dbprint; /* the database directory at the last load (database_check) */
};

static const char *const result_names[] = {
	[SCAN_CLEAN] = "clean", [SCAN_INFECTED] = "infected", [SCAN_LIMIT] = "limit",
	[SCAN_ERROR] = "error", [SCAN_TIMEOUT] = "timeout",
};

const char *scan_result_name(enum scan_result r)
{
	return result_names[r];
}

/* --- engine --- */

static int mkdir_private(const char *dir)
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
	return chmod(tmp, 0700);
}

static struct cl_engine *engine_build(const struct config *c, unsigned int *sigs, char *err,
				      size_t errlen)
{
	char marker[PATH_MAX + 32];
	struct cl_engine *e;
	struct stat sb;
	cl_error_t r;
	int is_test;

	if (stat(c->database, &sb) || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "signature database %s: %s", c->database,
			 errno ? strerror(errno) : "not a directory");
		return NULL;
	}
	snprintf(marker, sizeof(marker), "%s/%s", c->database, TEST_MARKER);
	is_test = access(marker, F_OK) == 0;
	if (is_test && !c->test_signatures) {
		snprintf(err, errlen,
			 "signature database %s holds mailscan's TEST signatures; "
			 "set test_signatures = yes to use them",
			 c->database);
		return NULL;
	}
	if (!is_test && c->test_signatures) {
		snprintf(err, errlen, "test_signatures = yes, but %s is not the test database",
			 c->database);
		return NULL;
	}
	e = cl_engine_new();
	if (!e) {
		snprintf(err, errlen, "cl_engine_new failed");
		return NULL;
	}
	cl_engine_set_num(e, CL_ENGINE_MAX_SCANSIZE, (long long)c->scan_max_size);
	cl_engine_set_num(e, CL_ENGINE_MAX_FILESIZE, (long long)c->scan_max_filesize);
	cl_engine_set_num(e, CL_ENGINE_MAX_RECURSION, c->scan_max_recursion);
	cl_engine_set_num(e, CL_ENGINE_MAX_FILES, c->scan_max_files);
	cl_engine_set_num(e, CL_ENGINE_MAX_SCANTIME, (long long)c->scan_timeout * 1000);
	cl_engine_set_str(e, CL_ENGINE_TMPDIR, c->tmpdir);
	*sigs = 0;
	r = cl_load(c->database, e, sigs, CL_DB_STDOPT);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "signature database %s: %s", c->database, cl_strerror(r));
		goto err;
	}
	if (*sigs == 0) {
		snprintf(err, errlen, "signature database %s holds no signatures (run freshclam)",
			 c->database);
		goto err;
	}
	r = cl_engine_compile(e);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "compiling %s: %s", c->database, cl_strerror(r));
		goto err;
	}
	return e;
err:
	cl_engine_free(e);
	return NULL;
}

static struct cl_engine *engine_get(struct scanner *s)
{
	struct cl_engine *e;

	pthread_mutex_lock(&s->engine_lock);
	e = s->engine;
	cl_engine_addref(e);
	pthread_mutex_unlock(&s->engine_lock);
	return e;
}

void scanner_update_gauges(struct scanner *s)
{
	STATS_SET(s->st, signatures, s->sigs);
	STATS_SET(s->st, test_signatures, (uint64_t)s->cfg->test_signatures);
	STATS_SET(s->st, engine_age_s, (now_ms() - s->loaded_ms) / 1000);
}

/* The database directory's files (names, sizes, times, inodes), in any order: a new,
 * changed, replaced or removed file changes it. */
static uint64_t dir_fingerprint(const char *dir)
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
	r = dir_fingerprint(s->cfg->database) != s->dbprint;
	pthread_mutex_unlock(&s->reload_lock);
	return r;
}

int scanner_reload(struct scanner *s, char *err, size_t errlen)
{
	struct cl_engine *e, *old;
	unsigned int sigs, was;

	pthread_mutex_lock(&s->reload_lock);
	was = s->sigs;
	/* a failed load is remembered too: only a later change is worth another try */
	s->dbprint = dir_fingerprint(s->cfg->database);
	e = engine_build(s->cfg, &sigs, err, errlen);
	if (!e) {
		pthread_mutex_unlock(&s->reload_lock);
		STATS_ADD(s->st, reloads_failed, 1);
		log_warnx("reload failed, the running engine stays: %s", err);
		return -1;
	}
	pthread_mutex_lock(&s->engine_lock);
	old = s->engine;
	s->engine = e;
	s->sigs = sigs;
	s->loaded_ms = now_ms();
	pthread_mutex_unlock(&s->engine_lock);
	cl_engine_free(old); /* the scanner's reference; scans still running hold theirs */
	pthread_mutex_unlock(&s->reload_lock);
	STATS_ADD(s->st, reloads_ok, 1);
	scanner_update_gauges(s);
	log_info("reloaded signatures=%u previous=%u database=%s", sigs, was, s->cfg->database);
	return 0;
}

/* --- scanning --- */

static void count_time(struct stats *st, uint64_t us)
{
	STATS_ADD(st, scan_time_us_total, us);
	STATS_MAX(st, scan_time_us_max, us);
	if (us <= 10000)
		STATS_ADD(st, scan_time_le_10ms, 1);
	if (us <= 100000)
		STATS_ADD(st, scan_time_le_100ms, 1);
	if (us <= 1000000)
		STATS_ADD(st, scan_time_le_1s, 1);
	if (us <= 10000000)
		STATS_ADD(st, scan_time_le_10s, 1);
}

void scanner_scan(struct scanner *s, struct scan_job *j)
{
	struct cl_scan_options opts = { 0 };
	struct cl_engine *e = engine_get(s);
	const char *virname = NULL;
	unsigned long scanned = 0;
	uint64_t t0 = now_us();
	cl_fmap_t *map;
	cl_error_t r;

	/* every parser (mail, archives, documents); limit hits are reported as such */
	opts.parse = ~0u;
	opts.general = CL_SCAN_GENERAL_HEURISTICS;
	opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	j->virus[0] = '\0';
	map = cl_fmap_open_memory(j->msg, j->len);
	if (!map) {
		r = CL_EMEM;
	} else {
		r = cl_scanmap_callback(map, NULL, &virname, &scanned, e, &opts, NULL);
		cl_fmap_close(map);
	}
	cl_engine_free(e);
	j->scan_us = now_us() - t0;
	/* a signature always names itself; libclamav reports some limit hits (the
	 * message over the scan size) as a detection without a name */
	if (r == CL_VIRUS && !virname)
		virname = LIMIT_PREFIX;
	if (r == CL_VIRUS && !strncmp(virname, LIMIT_PREFIX, strlen(LIMIT_PREFIX)))
		j->result = SCAN_LIMIT;
	else if (r == CL_VIRUS)
		j->result = SCAN_INFECTED;
	else if (r == CL_CLEAN)
		j->result = SCAN_CLEAN;
	else if (r == CL_ETIMEOUT)
		j->result = SCAN_TIMEOUT;
	else
		j->result = SCAN_ERROR;
	if (virname)
		snprintf(j->virus, sizeof(j->virus), "%s", virname);
	else if (j->result == SCAN_ERROR)
		snprintf(j->virus, sizeof(j->virus), "%s", cl_strerror(r));
	STATS_ADD(s->st, scans, 1);
	STATS_ADD(s->st, scan_bytes, j->len);
	count_time(s->st, j->scan_us);
	switch (j->result) {
	case SCAN_CLEAN:
		STATS_ADD(s->st, scans_clean, 1);
		break;
	case SCAN_INFECTED:
		STATS_ADD(s->st, scans_infected, 1);
		break;
	case SCAN_LIMIT:
		STATS_ADD(s->st, scans_limits, 1);
		break;
	case SCAN_ERROR:
		STATS_ADD(s->st, scans_errors, 1);
		break;
	case SCAN_TIMEOUT:
		STATS_ADD(s->st, scans_timeouts, 1);
		break;
	}
}

/* --- quarantine --- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest files (names start with the time) until the directory fits. */
static void quarantine_trim(struct scanner *s)
{
	const char *dir = s->cfg->quarantine;
	char **names = NULL, path[PATH_MAX + 300];
	size_t n = 0, cap = 0, i;
	uint64_t total = 0;
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue;
		total += (uint64_t)sb.st_size;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn)
				break;
			names = nn;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && total > s->cfg->quarantine_max; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &sb) == 0 && unlink(path) == 0) {
			total -= (uint64_t)sb.st_size;
			STATS_ADD(s->st, quarantine_removed, 1);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

static void quarantine(struct scanner *s, const struct scan_job *j)
{
	char base[PATH_MAX + 64], path[PATH_MAX + 80], stamp[32], *meta = NULL;
	time_t now = time(NULL);
	struct tm tm;
	uint64_t seq = __atomic_add_fetch(&s->qseq, 1, __ATOMIC_RELAXED);
	int len;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(base, sizeof(base), "%s/%s-%d-%06llu", s->cfg->quarantine, stamp, (int)getpid(),
		 (unsigned long long)seq);
	len = asprintf(&meta, "time=%s\nvirus=%s\naction=%s\nsize=%zu\n%s\n", stamp, j->virus,
		       j->action ? j->action : "-", j->len, j->meta);
	snprintf(path, sizeof(path), "%s.eml", base);
	if (len < 0 || write_file(path, j->msg, j->len)) {
		STATS_ADD(s->st, quarantine_errors, 1);
		log_warn("quarantine %s", path);
		free(meta);
		return;
	}
	snprintf(path, sizeof(path), "%s.meta", base);
	if (write_file(path, meta, (size_t)len))
		log_warn("quarantine %s", path);
	free(meta);
	STATS_ADD(s->st, quarantined, 1);
	quarantine_trim(s);
}

/* --- the pool --- */

static void sink_push(struct scan_sink *k, struct scan_job *j)
{
	uint64_t one = 1;

	j->next = NULL;
	pthread_mutex_lock(&k->lock);
	if (k->tail)
		k->tail->next = j;
	else
		k->head = j;
	k->tail = j;
	pthread_mutex_unlock(&k->lock);
	if (write(k->efd, &one, sizeof(one)) < 0)
		log_warn("scan sink eventfd");
}

static void *worker_main(void *arg)
{
	struct scanner *s = arg;
	struct scan_job *j;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->head && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->head) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		j = s->head;
		s->head = j->next;
		if (!s->head)
			s->tail = NULL;
		STATS_ADD(s->st, scan_queue_current, (uint64_t)-1);
		pthread_mutex_unlock(&s->lock);
		STATS_ADD(s->st, scan_wait_us_total, now_us() - j->submit_us);
		scanner_scan(s, j);
		if (j->result == SCAN_INFECTED)
			quarantine(s, j);
		sink_push(j->sink, j);
	}
}

void scanner_submit(struct scanner *s, struct scan_job *j, struct scan_sink *k)
{
	j->sink = k;
	j->next = NULL;
	j->submit_us = now_us();
	pthread_mutex_lock(&s->lock);
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	STATS_ADD(s->st, scan_queue_current, 1);
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

struct scanner *scanner_new(const struct config *c, struct stats *st, char *err, size_t errlen)
{
	struct scanner *s;
	cl_error_t r;

	r = cl_init(CL_INIT_DEFAULT);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: %s", cl_strerror(r));
		return NULL;
	}
	if (mkdir_private(c->tmpdir) || mkdir_private(c->quarantine)) {
		snprintf(err, errlen, "%s or %s: %s", c->tmpdir, c->quarantine, strerror(errno));
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = c;
	s->st = st;
	pthread_mutex_init(&s->engine_lock, NULL);
	pthread_mutex_init(&s->reload_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->engine = engine_build(c, &s->sigs, err, errlen);
	if (!s->engine) {
		free(s);
		return NULL;
	}
	s->loaded_ms = now_ms();
	s->dbprint = dir_fingerprint(c->database);
	if (c->test_signatures)
		log_warnx("using mailscan's TEST signatures from %s: not for production",
			  c->database);
	log_info("loaded %u signatures from %s", s->sigs, c->database);
	scanner_update_gauges(s);
	return s;
}

int scanner_start(struct scanner *s)
{
	unsigned int i, n = s->cfg->workers < MAX_WORKERS ? s->cfg->workers : MAX_WORKERS;

	for (i = 0; i < n; i++) {
		char name[16];

		if (pthread_create(&s->workers[i], NULL, worker_main, s))
			return -1;
		snprintf(name, sizeof(name), "ms-scan%u", i);
		pthread_setname_np(s->workers[i], name); /* top, ps -L and per-thread CPU */
		s->nworkers++;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

void scanner_free(struct scanner *s)
{
	struct scan_job *j, *n;
	unsigned int i;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	for (j = s->head; j; j = n) {
		n = j->next;
		scan_job_free(j);
	}
	cl_engine_free(s->engine);
	/* libclamav's private temporary directory is emptied at exit */
	nftw(s->cfg->tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&s->engine_lock);
	pthread_mutex_destroy(&s->reload_lock);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
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
