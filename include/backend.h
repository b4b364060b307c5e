/* A scanner backend as the dispatcher (scanner.c) sees it: one table of operations per
 * kind of `scanners` entry. The dispatcher owns the threads, the queues and the
 * failover; a backend scans one message at a time in a slot (a thread's scanner
 * process or connection) and keeps the state of its kind (the local scan master).
 * Adding a backend is one file and one entry in backend_kinds. */
#ifndef MAILSCAN_BACKEND_H
#define MAILSCAN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "live.h"
#include "privsep.h"
#include "remote.h"
#include "scan.h"
#include "scanners.h"

/* what every backend is given, for the life of the scanner */
struct backend_env {
	/* the configuration in force: a reload replaces it; read it with live_slot_get
	 * (and live_put) */
	struct live_slot cfg;
	struct stats *st;
	struct privsep_id id; /* the scanning user */
};

/* one thread's part of a backend */
struct backend_slot {
	const struct backend_env *env;
	const struct scanner_spec *spec;
	void *kind;	  /* the kind's state (start's) */
	void *priv;	  /* the slot's state (open's) */
	unsigned int idx; /* within its backend */
	/* written by the backend in the slot's own thread: the slot has what it needs to
	 * scan, made for generation GEN; and the pid of its process (atomic, 0: none) */
	int settled;
	uint64_t gen;
	int pid;
};

/* the kind's gauges: the engine in use */
struct backend_gauges {
	unsigned int signatures;
	uint64_t loaded_ms;
	int master_pid;
};

struct backend_ops {
	const char *thread; /* its threads' names, a number follows */
	/* The kind is listed: its state in *KIND (made when NULL), ready to scan; -1 with
	 * a reason in ERR. NULL: nothing to start. */
	int (*start)(void **kind, const struct backend_env *, char *err, size_t errlen);
	/* The kind is listed no more (LAST: the scanner goes, the state is freed once
	 * every slot is closed). */
	void (*stop)(void *kind, int last);
	/* The signatures again; -1 with a reason in ERR keeps the running ones. */
	int (*reload)(void *kind, char *err, size_t errlen);
	void (*counters)(void *kind, struct backend_gauges *);
	/* A slot before its thread runs, and after it ends. */
	int (*open)(struct backend_slot *);
	void (*close)(struct backend_slot *);
	/* Between jobs, in the slot's thread (GEN: the generation wanted); NULL: nothing
	 * to do. */
	void (*idle)(struct backend_slot *, uint64_t gen, int has_job, int stopping);
	/* Is the scanner there? NULL: it always is. */
	enum remote_rc (*health)(struct backend_slot *, uint64_t deadline_ms);
	/* One message: RESULT, VIRUS and SCAN_US of J; REMOTE_OK when answered. */
	enum remote_rc (*scan)(struct backend_slot *, struct scan_job *, uint64_t gen,
			       uint64_t deadline_ms);
};

/* scanlocal.c, clamd.c, icap.c */
extern const struct backend_ops scanlocal_ops, clamd_ops, icap_ops;

#endif
