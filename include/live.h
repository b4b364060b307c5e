/* The running configuration: an immutable, reference-counted snapshot that a reload
 * replaces whole. Readers take a reference and keep the snapshot they have for as long
 * as they need consistent values (a queue thread between packets, a scan job); a
 * reload publishes a new one and the old one goes with its last reference. */
#ifndef MAILSCAN_LIVE_H
#define MAILSCAN_LIVE_H

#include <pthread.h>

#include "config.h"

/* One pointer to a configuration that a reload replaces while other threads read it:
 * readers take a reference (live_slot_get, then live_put). */
struct live_slot {
	pthread_mutex_t lock;
	const struct config *cfg;
};

/* C is referenced (a configuration that is not a snapshot is used as it is). */
void live_slot_init(struct live_slot *, const struct config *c);
const struct config *live_slot_get(const struct live_slot *);
/* C in place of the one there; that one loses the slot's reference. */
void live_slot_set(struct live_slot *, const struct config *c);
void live_slot_destroy(struct live_slot *);

struct live;

/* The first snapshot, a copy of C; NULL with errno set. */
struct live *live_new(const struct config *c);
void live_free(struct live *);
/* A reference to the current snapshot; live_put gives it back. */
const struct config *live_get(struct live *);
/* Bumped by each live_publish: a reader that saw the same number has the newest. */
unsigned long live_generation(struct live *);
/* Makes a copy of NEXT the current snapshot; -ENOMEM. */
int live_publish(struct live *, const struct config *next);

/* Another reference to C, returned. A configuration that is not a snapshot (a test's,
 * a tool's) passes through: references to it cost nothing and free nothing. */
const struct config *live_ref(const struct config *c);
/* Gives back a reference; the last one frees the snapshot. NULL is a no-op. */
void live_put(const struct config *c);

#endif
