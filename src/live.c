/* The running configuration's snapshots (live.h). A slot's pointer changes under its
 * mutex only at a reload; the queue threads look at the generation (one atomic load)
 * and take the mutex only when it moved. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

struct live {
	struct live_slot cur;
	unsigned long gen;
};

const struct config *live_ref(const struct config *c)
{
	struct config *m = (struct config *)c; /* the count is the one mutable field */

	if (m && __atomic_load_n(&m->snap_refs, __ATOMIC_RELAXED))
		__atomic_fetch_add(&m->snap_refs, 1, __ATOMIC_RELAXED);
	return c;
}

void live_put(const struct config *c)
{
	struct config *m = (struct config *)c;

	if (!m || !__atomic_load_n(&m->snap_refs, __ATOMIC_RELAXED))
		return;
	if (__atomic_sub_fetch(&m->snap_refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(m);
}

void live_slot_init(struct live_slot *s, const struct config *c)
{
	pthread_mutex_init(&s->lock, NULL);
	s->cfg = live_ref(c);
}

const struct config *live_slot_get(const struct live_slot *s)
{
	struct live_slot *m = (struct live_slot *)s; /* its lock is its own business */
	const struct config *c;

	pthread_mutex_lock(&m->lock);
	c = live_ref(m->cfg);
	pthread_mutex_unlock(&m->lock);
	return c;
}

void live_slot_set(struct live_slot *s, const struct config *c)
{
	const struct config *old;

	live_ref(c);
	pthread_mutex_lock(&s->lock);
	old = s->cfg;
	s->cfg = c;
	pthread_mutex_unlock(&s->lock);
	live_put(old);
}

void live_slot_destroy(struct live_slot *s)
{
	live_put(s->cfg);
	s->cfg = NULL;
	pthread_mutex_destroy(&s->lock);
}

static struct config *snapshot(const struct config *c)
{
	struct config *s = malloc(sizeof(*s));

	if (!s)
		return NULL;
	memcpy(s, c, sizeof(*s));
	s->snap_refs = 1;
	return s;
}

struct live *live_new(const struct config *c)
{
	struct live *l = calloc(1, sizeof(*l));
	struct config *first = snapshot(c);

	if (!l || !first) {
		free(l);
		free(first);
		errno = ENOMEM;
		return NULL;
	}
	live_slot_init(&l->cur, first);
	live_put(first); /* the slot has it */
	return l;
}

void live_free(struct live *l)
{
	if (!l)
		return;
	live_slot_destroy(&l->cur);
	free(l);
}

const struct config *live_get(struct live *l)
{
	return live_slot_get(&l->cur);
}

unsigned long live_generation(struct live *l)
{
	return __atomic_load_n(&l->gen, __ATOMIC_ACQUIRE);
}

int live_publish(struct live *l, const struct config *next)
{
	struct config *s = snapshot(next);

	if (!s)
		return -ENOMEM;
	live_slot_set(&l->cur, s);
	live_put(s);
	__atomic_add_fetch(&l->gen, 1, __ATOMIC_RELEASE);
	return 0;
}
