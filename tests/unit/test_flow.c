/* Flow table: both directions find one flow, activity order, caps, unlink. */
#include "flow.h"
#include "unit.h"

static struct pkt mk(uint8_t family, uint8_t c, uint16_t cport, uint16_t sport, int reverse)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.family = family;
	p.saddr[0] = reverse ? 200 : c;
	p.daddr[0] = reverse ? c : 200;
	p.sport = reverse ? sport : cport;
	p.dport = reverse ? cport : sport;
	return p;
}

static void test_lookup(void)
{
	struct flow_table *t = flow_table_new(4, 1234);
	struct pkt a = mk(4, 1, 40000, 25, 0), ar = mk(4, 1, 40000, 25, 1);
	struct pkt b = mk(6, 1, 40000, 25, 0), c = mk(4, 2, 40000, 25, 0);
	enum flow_dir d;
	struct flow *f, *g;

	CHECK(flow_lookup(t, &a, &d) == NULL);
	f = flow_insert(t, &a, 100);
	CHECK(f != NULL);
	CHECK(flow_lookup(t, &a, &d) == f);
	CHECK_INT(d, DIR_TO_SERVER);
	CHECK(flow_lookup(t, &ar, &d) == f);
	CHECK_INT(d, DIR_TO_CLIENT);
	CHECK(flow_lookup(t, &b, &d) == NULL); /* same bytes, other family */
	CHECK(flow_lookup(t, &c, &d) == NULL);
	g = flow_insert(t, &b, 200);
	CHECK(flow_lookup(t, &b, &d) == g);
	CHECK_INT(flow_table_count(t), 2);
	/* activity order */
	CHECK(flow_oldest(t) == f);
	flow_touch(t, f, 300);
	CHECK(flow_oldest(t) == g);
	CHECK_INT(f->last_ms, 300);
	/* unlink: gone from lookups and the list */
	flow_unlink(t, g);
	flow_unlink(t, g);
	CHECK(flow_lookup(t, &b, &d) == NULL);
	CHECK(flow_oldest(t) == f);
	CHECK_INT(flow_table_count(t), 1);
	flow_free(g);
	flow_table_free(t);
}

static void test_cap(void)
{
	struct flow_table *t = flow_table_new(1000, 99);
	enum flow_dir d;
	unsigned int i, found = 0;

	for (i = 0; i < 1000; i++) {
		struct pkt p = mk(4, (uint8_t)(i % 7), (uint16_t)(10000 + i), 25, 0);

		CHECK(flow_insert(t, &p, i) != NULL);
	}
	{
		struct pkt p = mk(4, 9, 9, 25, 0);

		CHECK(flow_insert(t, &p, 0) == NULL); /* full: the caller evicts */
	}
	for (i = 0; i < 1000; i++) {
		struct pkt p = mk(4, (uint8_t)(i % 7), (uint16_t)(10000 + i), 25, 1);

		found += flow_lookup(t, &p, &d) != NULL;
	}
	CHECK_INT(found, 1000);
	/* evict the oldest ten, in insertion order */
	for (i = 0; i < 10; i++) {
		struct flow *f = flow_oldest(t);

		CHECK_INT(f->key.cport, 10000 + i);
		flow_unlink(t, f);
		flow_free(f);
	}
	CHECK_INT(flow_table_count(t), 990);
	flow_table_free(t);
}

int main(void)
{
	test_lookup();
	test_cap();
	return unit_report("test_flow");
}
