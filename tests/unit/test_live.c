/* The running configuration's snapshots: references, publication, and readers that keep
 * the snapshot they took while reloads replace it (run under the sanitizers, a freed
 * snapshot still read or one never freed is a failure). */
#include <pthread.h>
#include <stdlib.h>

#include "live.h"
#include "unit.h"

static void test_refs(void)
{
	struct config c, next;
	const struct config *a, *b;
	struct live *l;
	unsigned long g;

	config_defaults(&c);
	l = live_new(&c);
	CHECK(l != NULL);
	a = live_get(l);
	CHECK(a != &c); /* a copy */
	CHECK_INT(a->hold_timeout, 120);
	g = live_generation(l);
	next = c;
	next.hold_timeout = 30;
	CHECK_INT(live_publish(l, &next), 0);
	CHECK(live_generation(l) != g);
	b = live_get(l);
	CHECK_INT(b->hold_timeout, 30);
	/* the old snapshot stays whole for the reader that has it */
	CHECK_INT(a->hold_timeout, 120);
	CHECK(live_ref(a) == a);
	live_put(a);
	live_put(a);
	live_put(b);
	live_put(NULL);
	/* a plain configuration passes through */
	CHECK(live_ref(&c) == &c);
	live_put(&c);
	CHECK_INT(c.snap_refs, 0);
	live_free(l);
	live_free(NULL);
}

struct reader {
	struct live *l;
	unsigned long seen;
	int bad;
};

/* a queue thread's pattern: look at the generation, take the new snapshot, read it */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	const struct config *c = live_get(r->l);
	unsigned long gen = live_generation(r->l);
	int i;

	for (i = 0; i < 200000; i++) {
		if (live_generation(r->l) != gen) {
			gen = live_generation(r->l);
			live_put(c);
			c = live_get(r->l);
			r->seen++;
		}
		/* every snapshot was published whole: the two values always agree */
		if (c->hold_timeout != c->scan_timeout)
			r->bad++;
	}
	live_put(c);
	return NULL;
}

static void test_readers_during_reloads(void)
{
	struct reader r[2];
	pthread_t t[2];
	struct config c;
	unsigned int i;

	config_defaults(&c);
	c.scan_timeout = c.hold_timeout;
	r[0].l = r[1].l = live_new(&c);
	for (i = 0; i < 2; i++) {
		r[i].seen = 0;
		r[i].bad = 0;
		pthread_create(&t[i], NULL, reader_main, &r[i]);
	}
	for (i = 1; i <= 2000; i++) {
		c.hold_timeout = c.scan_timeout = i;
		if (live_publish(r[0].l, &c))
			CHECK(0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(r[i].bad, 0);
	}
	CHECK_INT(live_generation(r[0].l), 2000);
	live_free(r[0].l);
}

int main(void)
{
	test_refs();
	test_readers_during_reloads();
	return unit_report("test_live");
}
