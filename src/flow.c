/* Flow table: pure, libc only. */
#include <stdlib.h>
#include <string.h>

#include "flow.h"

struct flow_table {
	struct flow **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	size_t max;
	uint32_t seed;
	struct flow *newest, *oldest;
};

struct flow_table *flow_table_new(size_t max_flows, uint32_t seed)
{
	struct flow_table *t = calloc(1, sizeof(*t));
	size_t n = 64;

	if (!t)
		return NULL;
	while (n < max_flows)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->nbuckets = n;
	t->max = max_flows;
	t->seed = seed;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	struct flow *f, *n;

	if (!t)
		return;
	for (f = t->newest; f; f = n) {
		n = f->older;
		flow_free(f);
	}
	free(t->buckets);
	free(t);
}

size_t flow_table_count(const struct flow_table *t)
{
	return t->count;
}

/* FNV-1a over the key, seeded, so a peer cannot aim at one bucket */
static uint32_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u ^ t->seed;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h ^ (h >> 16);
}

static void key_from(struct flow_key *k, const struct pkt *p, int reverse)
{
	memset(k, 0, sizeof(*k));
	k->family = p->family;
	memcpy(k->caddr, reverse ? p->daddr : p->saddr, 16);
	memcpy(k->saddr, reverse ? p->saddr : p->daddr, 16);
	k->cport = reverse ? p->dport : p->sport;
	k->sport = reverse ? p->sport : p->dport;
}

static struct flow *find(struct flow_table *t, const struct flow_key *k)
{
	struct flow *f;

	for (f = t->buckets[key_hash(t, k) & (t->nbuckets - 1)]; f; f = f->hnext) {
		if (!memcmp(&f->key, k, sizeof(*k)))
			return f;
	}
	return NULL;
}

struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, enum flow_dir *dir)
{
	struct flow_key k;
	struct flow *f;

	key_from(&k, p, 0);
	f = find(t, &k);
	if (f) {
		*dir = DIR_TO_SERVER;
		return f;
	}
	key_from(&k, p, 1);
	f = find(t, &k);
	if (f)
		*dir = DIR_TO_CLIENT;
	return f;
}

static void list_unlink(struct flow_table *t, struct flow *f)
{
	if (f->newer)
		f->newer->older = f->older;
	else
		t->newest = f->older;
	if (f->older)
		f->older->newer = f->newer;
	else
		t->oldest = f->newer;
	f->newer = f->older = NULL;
}

static void list_push(struct flow_table *t, struct flow *f)
{
	f->older = t->newest;
	f->newer = NULL;
	if (t->newest)
		t->newest->newer = f;
	else
		t->oldest = f;
	t->newest = f;
}

struct flow *flow_insert(struct flow_table *t, const struct pkt *p, uint64_t now_ms)
{
	struct flow *f;
	size_t b;

	if (t->count >= t->max)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	key_from(&f->key, p, 0);
	b = key_hash(t, &f->key) & (t->nbuckets - 1);
	f->hnext = t->buckets[b];
	t->buckets[b] = f;
	f->last_ms = now_ms;
	f->linked = 1;
	list_push(t, f);
	t->count++;
	return f;
}

void flow_touch(struct flow_table *t, struct flow *f, uint64_t now_ms)
{
	f->last_ms = now_ms;
	if (t->newest != f) {
		list_unlink(t, f);
		list_push(t, f);
	}
}

void flow_unlink(struct flow_table *t, struct flow *f)
{
	struct flow **pp;

	if (!f->linked)
		return;
	for (pp = &t->buckets[key_hash(t, &f->key) & (t->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	}
	list_unlink(t, f);
	f->hnext = NULL;
	f->linked = 0;
	t->count--;
}

void flow_free(struct flow *f)
{
	free(f);
}

struct flow *flow_oldest(struct flow_table *t)
{
	return t->oldest;
}
