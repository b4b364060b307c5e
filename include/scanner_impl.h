/* The scanner's insides, shared by scanner.c (jobs, dispatch to backends, remote
 * scanners, reload of the list) and scanlocal.c (the local backend: the scan master and
 * the sandboxed processes it forks). Not for other files. */
#ifndef MAILSCAN_SCANNER_IMPL_H
#define MAILSCAN_SCANNER_IMPL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "privsep.h"
#include "remote.h"
#include "scan.h"
#include "scanners.h"

#define MAX_WORKERS    64
#define KILL_GRACE_MS  2000 /* past scan_timeout: libclamav's own limit had its chance */
#define MAX_SLOTS      256
#define MAX_BACKENDS   32    /* the configured ones, and those reloads add */
#define REMOTE_MAX     4     /* scans at once on a remote scanner unless max= says */
#define CHECK_MS       5000  /* health checks while up */
#define BACKOFF_MAX_MS 30000 /* between health checks while down, at most */

struct master {
	int chan;
	pid_t pid;
	unsigned int sigs;
	uint64_t loaded_ms;
	unsigned int refs; /* the scanner's while current, one per process forked from it */
	int broken;	   /* its channel failed: the next process comes from a new one */
};

/* A scanner from the `scanners` list. Its threads take its jobs; a job goes to the
 * backend that is up, has not failed it yet, and has the fewest outstanding scans for
 * its `max`. */
struct backend {
	struct scanner_spec spec;
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
	unsigned int idx; /* within its backend */
	pthread_t tid;
	/* local: a scanner process */
	uint64_t gen;	  /* the scanner's generation when the process was forked */
	struct master *m; /* the process's master; NULL while there is no process */
	int sock, pidfd;  /* the process */
	pid_t pid;
	int memfd;	     /* the messages, one at a time */
	uint64_t backoff_ms; /* no master could start: when to try again */
	int done;	     /* the scanner stops, or the backend is retired and has nothing left */
	/* remote: clamd's session, the ICAP service's options */
	int conn;
	int icap_known;
	struct icap_service icap;
};

struct scanner {
	const struct config *cfg;
	struct stats *st;
	struct privsep_id id;
	pthread_mutex_t mlock; /* cur and the masters' references and channels */
	struct master *cur;
	pthread_mutex_t reload_lock;	       /* one reload at a time */
	pthread_mutex_t lock;		       /* the backends' queues and states, parked jobs */
	struct backend backends[MAX_BACKENDS]; /* stable: a job's tried bits index them */
	unsigned int nb;
	char scanners[sizeof(((struct config *)0)->scanners)]; /* the list in use */
	struct backend *local;		       /* NULL when `scanners` has no local */
	struct scan_job *parked, *parked_tail; /* no backend up that has not failed them */
	int stop;
	uint64_t gen; /* bumped by a reload: idle threads move to the new master */
	struct slot slots[MAX_SLOTS];
	unsigned int nslots;
	uint64_t qseq;	  /* quarantine file names */
	uint64_t dbprint; /* the database directory at the last load (database_check) */
};

/* scanner.c: the next job of a slot's backend (NULL: a second passed, a reload, or
 * sl->done), the end of a scan, the backend's counters */
struct scan_job *scanner_take(struct slot *, uint64_t *gen);
void scanner_done(struct slot *, struct scan_job *);
void scanner_count_backend(struct backend *, const struct scan_job *, enum remote_rc);

/* scanlocal.c */
/* a new master, once it has loaded the database; NULL with a reason in ERR */
struct master *scanlocal_master_start(struct scanner *, char *err, size_t errlen);
/* under mlock: one reference less; the last one tells the master to finish */
void scanlocal_master_put(struct master *);
/* the signatures again: a new master whose processes take over */
int scanlocal_reload(struct scanner *, char *err, size_t errlen);
/* the database directory's files, as one number */
uint64_t scanlocal_fingerprint(const char *dir);
/* a local slot's thread */
void *scanlocal_main(void *slot);

#endif
