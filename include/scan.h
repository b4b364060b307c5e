/* Scanning. Three layers, each in its own file:
 *  - scan.c: libclamav, the only file that sees clamav.h: load an engine, scan a buffer;
 *  - scanproc.c: the scan master (loads the engine as the unprivileged user) and the
 *    scanner processes it forks (no capabilities, seccomp), one message at a time;
 *  - scanner.c: the packet engine's side: the backends of `scanners` (backend.h), their
 *    threads and queues, dispatch and failover, reload, quarantine; scanjob.c: the jobs.
 * Queue threads submit jobs and get them back through a sink (a locked list and an
 * eventfd), so they never block on a scan. */
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
	SCAN_LIMIT,    /* a ClamAV limit was hit: on_limit */
	SCAN_ERROR,    /* on_error */
	SCAN_TIMEOUT,  /* libclamav gave up at scan_timeout: on_error */
	SCAN_CRASHED,  /* the scanner process died on the message: on_crash */
	SCAN_KILLED,   /* the scanner process was killed past scan_timeout: on_crash */
	SCAN_OVERSIZE, /* over a remote scanner's size limit (clamd's StreamMaxLength): oversize */
	SCAN_RESULT_COUNT
};

/* --- scan.c: the libclamav engine --- */

struct scan_engine;

/* libclamav's one-time setup; -1 with a reason in ERR */
int scan_engine_init(char *err, size_t errlen);
/* Loads and compiles the database of C; NULL with a reason in ERR (a missing or empty
 * database names its directory). */
struct scan_engine *scan_engine_load(const struct config *, char *err, size_t errlen);
unsigned int scan_engine_signatures(const struct scan_engine *);
/* Where libclamav writes its temporary files from now on (this process's copy). */
int scan_engine_set_tmpdir(struct scan_engine *, const char *dir);
/* Scans MSG; the virus name, a limit's name or an error's text goes to VIRUS. */
enum scan_result scan_engine_scan(struct scan_engine *, const uint8_t *msg, size_t len, char *virus,
				  size_t viruslen);
void scan_engine_free(struct scan_engine *);

/* --- scanproc.c: the processes --- */

/* When ARGV asks for a scan master (how scanlocal.c starts one), runs it and exits;
 * otherwise returns. Every program that starts a scanner calls this first. */
void scanproc_dispatch(int argc, char **argv);

/* --- scanner.c: the packet engine's side --- */

struct scan_job {
	struct scan_job *next;
	/* in: the message, written once into a sealed memfd (owned by the job) that the
	 * local scanners get as it is, MSG its read-only mapping; what logs and quarantine
	 * say of it */
	const uint8_t *msg;
	int memfd;
	size_t len;
	char meta[512];	    /* "flow=... proto=... from=..." */
	const char *action; /* what happens if infected, for the quarantine record */
	int candidate;	    /* an ambiguous reading of a message, not the message */
	void *owner;	    /* the submitter's */
	/* the submitter's: where a POP3 body lies in its stream, [from, to), its number */
	int placed;
	uint32_t from, to;
	unsigned long msgno;
	int top;
	struct scan_sink *sink;
	uint64_t submit_us;   /* when it was queued for a scanner */
	uint64_t deadline_ms; /* past it, no scanner left: on_error */
	uint32_t tried;	      /* backends that could not answer it */
	/* out */
	enum scan_result result;
	char virus[128];
	char qid[64]; /* the quarantine's name for it, "" if not kept */
	uint64_t scan_us;
};

struct scan_sink {
	pthread_mutex_t lock;
	struct scan_job *head, *tail;
	int efd; /* readable when jobs are done */
};

struct scanner;

/* Starts a scan master, which loads the engine as cfg->user; NULL with a reason in ERR
 * (a missing or empty database names its directory). STATS receives the counters.
 * Call before the packet engine drops its privileges (it creates the directories). */
struct scanner *scanner_new(const struct config *, struct stats *, char *err, size_t errlen);
/* Forks the scanner processes (cfg->workers) and the threads that feed them. */
int scanner_start(struct scanner *);
void scanner_free(struct scanner *);

/* Hands JOB to a scanner; when scanned it is appended to SINK. */
void scanner_submit(struct scanner *, struct scan_job *, struct scan_sink *);
/* Have files in the database directory changed since the last load? */
int scanner_database_changed(struct scanner *);
/* Starts a new master on the database; once it has loaded, new scanner processes take
 * over and the old ones finish their scans and exit. -1 with a reason in ERR keeps the
 * running ones. */
int scanner_reload(struct scanner *, char *err, size_t errlen);
/* A reload's new configuration (a snapshot, live.h): scan limits, timeouts and the
 * quarantine from now on, the next master's engine settings, and the `scanners` list
 * (new backends start, removed ones finish what they have). -1 with a reason in ERR
 * when the list cannot change (the rest is in force). */
int scanner_configure(struct scanner *, const struct config *next, char *err, size_t errlen);
/* Refreshes the gauges (signatures, engine age) in the stats. */
void scanner_update_gauges(struct scanner *);
/* The scanner processes' pids (at most N); how many there are. */
unsigned int scanner_pids(struct scanner *, int *pids, unsigned int n);
/* The current scan master's pid (0 without a local scanner). */
int scanner_master_pid(struct scanner *);
/* The `scanners` backends, their state and counters (at most CAP); how many. */
unsigned int scanner_backends(struct scanner *, struct backend_report *, unsigned int cap);

/* quarantine.c: writes an infected message and its record (names start with the
 * time, then the pid and SEQ), then trims the directory to quarantine_max */
void quarantine_write(const struct config *, struct stats *, uint64_t *seq, struct scan_job *);

/* --- scanjob.c: jobs, their queues, the sinks --- */

/* A job for a copy of MSG in a new memfd, sealed (F_SEAL_WRITE, F_SEAL_GROW,
 * F_SEAL_SHRINK): no process it is passed to can change what it or another sees.
 * NULL with errno. */
struct scan_job *scan_job_new(const uint8_t *msg, size_t len);
/* A job for the message already in FD (msgfd.h: a memfd sealed so, of LEN bytes), its
 * descriptor duplicated: no copy. NULL with errno (EPERM: FD is not sealed so). */
struct scan_job *scan_job_from_fd(int fd, size_t len);
void scan_job_free(struct scan_job *);
/* J and every job after it */
void scan_jobs_free(struct scan_job *);
/* a queue of jobs, oldest first: J at its tail, the oldest off its head (NULL: empty) */
void scan_jobs_push(struct scan_job **head, struct scan_job **tail, struct scan_job *j);
struct scan_job *scan_jobs_pop(struct scan_job **head, struct scan_job **tail);
const char *scan_result_name(enum scan_result);

int scan_sink_init(struct scan_sink *);
void scan_sink_destroy(struct scan_sink *);
/* Appends a finished job and wakes the sink's queue thread. */
void scan_sink_push(struct scan_sink *, struct scan_job *);
/* Takes every finished job (oldest first); the caller frees them. */
struct scan_job *scan_sink_take(struct scan_sink *);

#endif
