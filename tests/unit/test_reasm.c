/* Reassembly: in order, byte by byte, every permutation, overlaps, conflicts, wrap at
 * 2^32, caps. */
#include <stdlib.h>

#include "reasm.h"
#include "unit.h"

struct sink {
	uint8_t buf[1 << 16];
	size_t len;
	unsigned int calls;
};

static void sink_fn(void *arg, const uint8_t *d, size_t len)
{
	struct sink *s = arg;

	memcpy(s->buf + s->len, d, len);
	s->len += len;
	s->calls++;
}

static size_t total;
static struct reasm_limits lim = {
	.ooo_cap = 4096, .keep_cap = 8192, .total_cap = 1 << 20, .total = &total
};

static const uint8_t text[] = "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n";
#define TLEN (sizeof(text) - 1)

static void test_in_order(uint32_t isn)
{
	struct reasm r;
	struct sink s = { .len = 0 };
	size_t i;

	reasm_init(&r, isn);
	CHECK_INT(reasm_add(&r, &lim, isn, text, TLEN, sink_fn, &s), REASM_DATA);
	CHECK_INT(s.len, TLEN);
	CHECK(memcmp(s.buf, text, TLEN) == 0);
	CHECK_INT(r.next, (uint32_t)(isn + TLEN));
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);

	/* byte by byte */
	memset(&s, 0, sizeof(s));
	reasm_init(&r, isn);
	for (i = 0; i < TLEN; i++)
		CHECK_INT(reasm_add(&r, &lim, isn + (uint32_t)i, text + i, 1, sink_fn, &s),
			  REASM_DATA);
	CHECK_INT(s.len, TLEN);
	CHECK(memcmp(s.buf, text, TLEN) == 0);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
}

/* every permutation of 5 segments, with and without an overlapping (equal) one */
static void permute(size_t *a, size_t n, size_t k, void (*fn)(const size_t *, size_t))
{
	size_t i, t;

	if (k == n) {
		fn(a, n);
		return;
	}
	for (i = k; i < n; i++) {
		t = a[k], a[k] = a[i], a[i] = t;
		permute(a, n, k + 1, fn);
		t = a[k], a[k] = a[i], a[i] = t;
	}
}

static uint32_t perm_isn;
static unsigned int perm_runs, perm_bad;
/* segment i covers [cuts[i], cuts[i+1]); segment 5 overlaps 1 and 2 */
static const size_t cuts[] = { 0, 7, 20, 21, 40, TLEN };
static const size_t extra[2] = { 10, 30 };

static void run_perm(const size_t *order, size_t n)
{
	struct reasm r;
	struct sink s = { .len = 0 };
	size_t i;
	int bad = 0;

	reasm_init(&r, perm_isn);
	for (i = 0; i < n; i++) {
		size_t a = order[i] < 5 ? cuts[order[i]] : extra[0];
		size_t b = order[i] < 5 ? cuts[order[i] + 1] : extra[1];
		int f = reasm_add(&r, &lim, perm_isn + (uint32_t)a, text + a, b - a, sink_fn, &s);

		if (f & (REASM_CONFLICT | REASM_OVERFLOW))
			bad = 1;
	}
	if (bad || s.len != TLEN || memcmp(s.buf, text, TLEN) || r.ooo_bytes)
		perm_bad++;
	reasm_free(&r, &lim);
	if (total)
		perm_bad++;
	perm_runs++;
}

static void test_permutations(uint32_t isn)
{
	size_t order[6] = { 0, 1, 2, 3, 4, 5 };

	perm_isn = isn;
	perm_runs = perm_bad = 0;
	permute(order, 5, 0, run_perm);
	CHECK_INT(perm_runs, 120);
	permute(order, 6, 0, run_perm);
	CHECK_INT(perm_runs, 120 + 720);
	CHECK_INT(perm_bad, 0);
}

static void test_retransmissions(uint32_t isn)
{
	struct reasm r;
	struct sink s = { .len = 0 };
	uint8_t evil[TLEN];

	memcpy(evil, text, TLEN);
	evil[12] ^= 0x20;
	reasm_init(&r, isn);
	CHECK_INT(reasm_add(&r, &lim, isn, text, 30, sink_fn, &s), REASM_DATA);
	/* an equal retransmission: nothing new */
	CHECK_INT(reasm_add(&r, &lim, isn, text, 30, sink_fn, &s), REASM_RETRANS);
	CHECK_INT(reasm_add(&r, &lim, isn + 5, text + 5, 10, sink_fn, &s), REASM_RETRANS);
	/* a differing one is a conflict: dropped, nothing delivered */
	CHECK_INT(reasm_add(&r, &lim, isn, evil, 30, sink_fn, &s), REASM_CONFLICT);
	CHECK_INT(reasm_add(&r, &lim, isn + 10, evil + 10, 10, sink_fn, &s), REASM_CONFLICT);
	/* partly old (differing) and partly new: conflict, and the new part is not taken */
	CHECK_INT(reasm_add(&r, &lim, isn + 10, evil + 10, 40, sink_fn, &s), REASM_CONFLICT);
	CHECK_INT(s.len, 30);
	/* partly old (equal) and partly new: the new part is delivered */
	CHECK_INT(reasm_add(&r, &lim, isn + 20, text + 20, 20, sink_fn, &s),
		  REASM_DATA | REASM_RETRANS);
	CHECK_INT(s.len, 40);
	/* once acknowledged, old bytes are the receiver's and are not compared */
	reasm_ack(&r, &lim, isn + 20);
	CHECK_INT(r.keep_len, 20);
	CHECK_INT(reasm_add(&r, &lim, isn, evil, 20, sink_fn, &s), REASM_RETRANS);
	CHECK_INT(reasm_add(&r, &lim, isn + 10, evil + 10, 20, sink_fn, &s), REASM_RETRANS);
	CHECK(memcmp(s.buf, text, 40) == 0);
	/* an ack beyond what was sent is ignored */
	reasm_ack(&r, &lim, isn + 1000);
	CHECK_INT(r.acked, isn + 20);
	reasm_free(&r, &lim);
}

static void test_ooo_conflicts(uint32_t isn)
{
	struct reasm r;
	struct sink s = { .len = 0 };
	uint8_t evil[TLEN];

	memcpy(evil, text, TLEN);
	evil[35] = 'X';
	reasm_init(&r, isn);
	CHECK_INT(reasm_add(&r, &lim, isn + 30, text + 30, 10, sink_fn, &s), REASM_QUEUED);
	CHECK_INT(reasm_add(&r, &lim, isn + 30, text + 30, 10, sink_fn, &s), REASM_RETRANS);
	CHECK_INT(reasm_add(&r, &lim, isn + 32, text + 32, 4, sink_fn, &s), REASM_RETRANS);
	/* overlapping the buffered segment with other bytes: the first copy wins */
	CHECK_INT(reasm_add(&r, &lim, isn + 25, evil + 25, 15, sink_fn, &s), REASM_CONFLICT);
	CHECK_INT(reasm_add(&r, &lim, isn + 35, evil + 35, 10, sink_fn, &s), REASM_CONFLICT);
	/* even from in-order data that reaches into it */
	CHECK_INT(reasm_add(&r, &lim, isn, evil, 40, sink_fn, &s), REASM_CONFLICT);
	CHECK_INT(s.len, 0);
	CHECK_INT(reasm_add(&r, &lim, isn, text, 31, sink_fn, &s), REASM_DATA);
	CHECK_INT(s.len, 40);
	CHECK(memcmp(s.buf, text, 40) == 0);
	CHECK_INT(r.ooo_bytes, 0);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
}

static void test_caps(uint32_t isn)
{
	static uint8_t big[8192];
	struct reasm r;
	struct sink s = { .len = 0 };
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	reasm_init(&r, isn);
	/* out of order beyond the cap: refused, nothing buffered */
	CHECK_INT(reasm_add(&r, &lim, isn + 4000, big, 200, sink_fn, &s), REASM_OVERFLOW);
	CHECK_INT(reasm_add(&r, &lim, isn + 100, big + 100, 3000, sink_fn, &s), REASM_QUEUED);
	CHECK_INT(reasm_add(&r, &lim, isn + 3100, big + 3100, 900, sink_fn, &s), REASM_QUEUED);
	CHECK_INT(r.ooo_bytes, 3900);
	CHECK_INT(reasm_add(&r, &lim, isn + 4000, big + 4000, 200, sink_fn, &s), REASM_OVERFLOW);
	CHECK_INT(r.ooo_bytes, 3900);
	/* in-order data needs no buffer, whatever its size */
	CHECK_INT(reasm_add(&r, &lim, isn, big, 100, sink_fn, &s), REASM_DATA);
	CHECK_INT(s.len, 4000);
	CHECK_INT(reasm_add(&r, &lim, isn + 4000, big + 4000, 4192, sink_fn, &s), REASM_DATA);
	CHECK_INT(s.len, 8192);
	CHECK(memcmp(s.buf, big, 8192) == 0);
	/* the keep ring is capped: the oldest unacknowledged bytes are forgotten, and a
	 * retransmission of them is passed unverified */
	CHECK_INT(r.keep_len, 8192);
	CHECK_INT(reasm_add(&r, &lim, isn + 8192, text, TLEN, sink_fn, &s), REASM_DATA);
	CHECK_INT(r.keep_len, 8192);
	CHECK_INT(reasm_add(&r, &lim, isn, big, 10, sink_fn, &s), REASM_RETRANS | REASM_UNVERIFIED);
	CHECK_INT(reasm_add(&r, &lim, isn + 8192, text, TLEN, sink_fn, &s), REASM_RETRANS);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);

	/* the total cap, shared by flows */
	{
		struct reasm a, b;
		size_t small_total = 0;
		struct reasm_limits l2 = {
			.ooo_cap = 4096, .keep_cap = 4096, .total_cap = 5000, .total = &small_total
		};

		reasm_init(&a, 0);
		reasm_init(&b, 0);
		CHECK_INT(reasm_add(&a, &l2, 100, big, 800, sink_fn, &s), REASM_QUEUED);
		CHECK_INT(reasm_add(&b, &l2, 100, big, 300, sink_fn, &s), REASM_QUEUED);
		CHECK_INT(small_total, 1100);
		CHECK_INT(reasm_add(&b, &l2, 1000, big, 3950, sink_fn, &s), REASM_OVERFLOW);
		reasm_free(&a, &l2);
		reasm_free(&b, &l2);
		CHECK_INT(small_total, 0);
	}
}

int main(void)
{
	static const uint32_t isns[] = { 1, 0x7fffffe0, 0xfffffff0, 0xffffffff, 0xffffffe5 };
	size_t i;

	for (i = 0; i < sizeof(isns) / sizeof(isns[0]); i++) {
		test_in_order(isns[i]);
		test_permutations(isns[i]);
		test_retransmissions(isns[i]);
		test_ooo_conflicts(isns[i]);
		test_caps(isns[i]);
	}
	return unit_report("test_reasm");
}
