/* The queue threads, as the daemon starts, watches and ends them: one per NFQUEUE
 * queue, each with its own flows, holds and counters. */
#ifndef MAILSCAN_QUEUE_H
#define MAILSCAN_QUEUE_H

#include <stdint.h>

#include "stats.h"

struct config;
struct live;
struct qthread;
struct scanner;

/* what the queue threads read of the daemon's state, owned by the daemon */
struct queue_shared {
	/* the configuration the daemon started with: its restart keys (the live keys
	 * come from LIVE's snapshots) */
	const struct config *cfg;
	struct live *live;
	/* server port -> 1 + enum ports_proto, 0 unprotected; written by the control
	 * thread (byte stores are atomic) */
	const uint8_t *port_proto;
	struct scanner *scanner;
	const volatile int *stop; /* set: the threads return */
};

struct qthread *qthread_new(const struct queue_shared *, uint16_t queue);
int qthread_start(struct qthread *);
void qthread_join(struct qthread *);
void qthread_free(struct qthread *);
const struct stats *qthread_stats(const struct qthread *);
/* when the thread last went round its loop (now_ms), for the watchdog */
uint64_t qthread_last_sweep(const struct qthread *);

#endif
