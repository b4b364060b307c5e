/* The scanner: libclamav engine, a pool of scan threads, reload without pause,
 * quarantine. Queue threads submit jobs and get them back through a sink (a locked
 * list and an eventfd), so they never block on a scan. */
#ifndef MAILSCAN_SCAN_H
#define MAILSCAN_SCAN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "stats.h"

enum scan_result {
	SCAN_CLEAN,
	SCAN_INFECTED,
	SCAN_LIMIT,   /* a ClamAV limit was hit: on_limit */
	SCAN_ERROR,   /* on_error */
	SCAN_TIMEOUT, /* on_error */
};

struct scan_job {
	struct scan_job *next;
	/* in: the message (owned by the job), and what logs and quarantine say of it */
	uint8_t *msg;
	size_t len;
	char meta[512];	    /* "flow=... proto=... from=..." */
	const char *action; /* what happens if infected, for the quarantine record */
	int candidate;	    /* an ambiguous reading of a message, not the message */
	void *owner;	    /* the submitter's */
	struct scan_sink *sink;
	uint64_t submit_us; /* when it was queued for a scan thread */
	/* out */
	enum scan_result result;
	char virus[128];
	uint64_t scan_us;
};

struct scan_sink {
	pthread_mutex_t lock;
	struct scan_job *head, *tail;
	int efd; /* readable when jobs are done */
};

struct scanner;

/* Loads and compiles the engine; NULL with a reason in ERR (a missing or empty
 * database names its directory). STATS receives the scanner's counters. */
struct scanner *scanner_new(const struct config *, struct stats *, char *err, size_t errlen);
int scanner_start(struct scanner *);
void scanner_free(struct scanner *);

/* Hands JOB to a scan thread; when scanned it is appended to SINK. */
void scanner_submit(struct scanner *, struct scan_job *, struct scan_sink *);
/* Scans in the calling thread (tests, benchmarks). */
void scanner_scan(struct scanner *, struct scan_job *);
/* Builds a new engine from the database directory and swaps it in; scans already
 * running finish on the old one. -1 with a reason in ERR keeps the running engine. */
/* Have files in the database directory changed since the last load (cl_statchkdir)? */
int scanner_database_changed(struct scanner *);
int scanner_reload(struct scanner *, char *err, size_t errlen);
/* Refreshes the gauges (signatures, engine age) in the stats. */
void scanner_update_gauges(struct scanner *);

struct scan_job *scan_job_new(const uint8_t *msg, size_t len);
void scan_job_free(struct scan_job *);
const char *scan_result_name(enum scan_result);

int scan_sink_init(struct scan_sink *);
void scan_sink_destroy(struct scan_sink *);
/* Takes every finished job (oldest first); the caller frees them. */
struct scan_job *scan_sink_take(struct scan_sink *);

#endif
