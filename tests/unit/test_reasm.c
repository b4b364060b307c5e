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

/* adds a copy of D (reasm_add rewrites its argument); OUT, if given, gets the copy as
 * it would be passed on */
static int add(struct reasm *r, const struct reasm_limits *l, uint32_t seq, const uint8_t *d,
	       size_t len, struct sink *s, uint8_t *out)
{
	static uint8_t copy[1 << 14];
	int f;

	memcpy(copy, d, len);
	f = reasm_add(r, l, seq, copy, len, sink_fn, s);
	if (out)
		memcpy(out, copy, len);
	return f;
}

static void test_in_order(uint32_t isn)
{
	struct reasm r;
	struct sink s = { .len = 0 };
	size_t i;

	reasm_init(&r, isn);
	CHECK_INT(add(&r, &lim, isn, text, TLEN, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, TLEN);
	CHECK(memcmp(s.buf, text, TLEN) == 0);
	CHECK_INT(r.next, (uint32_t)(isn + TLEN));
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);

	/* byte by byte */
	memset(&s, 0, sizeof(s));
	reasm_init(&r, isn);
	for (i = 0; i < TLEN; i++)
		CHECK_INT(add(&r, &lim, isn + (uint32_t)i, text + i, 1, &s, NULL), REASM_DATA);
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
		int f = add(&r, &lim, perm_isn + (uint32_t)a, text + a, b - a, &s, NULL);

		if (f & (REASM_REWRITTEN | REASM_OVERFLOW))
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
	uint8_t evil[TLEN], out[TLEN];

	memcpy(evil, text, TLEN);
	evil[12] ^= 0x20;
	reasm_init(&r, isn);
	CHECK_INT(add(&r, &lim, isn, text, 30, &s, NULL), REASM_DATA);
	/* an equal retransmission: nothing new */
	CHECK_INT(add(&r, &lim, isn, text, 30, &s, NULL), REASM_RETRANS);
	CHECK_INT(add(&r, &lim, isn + 5, text + 5, 10, &s, NULL), REASM_RETRANS);
	/* a differing one is rewritten to the bytes passed before */
	CHECK_INT(add(&r, &lim, isn, evil, 30, &s, out), REASM_RETRANS | REASM_REWRITTEN);
	CHECK(memcmp(out, text, 30) == 0);
	CHECK_INT(add(&r, &lim, isn + 10, evil + 10, 10, &s, out), REASM_RETRANS | REASM_REWRITTEN);
	CHECK(memcmp(out, text + 10, 10) == 0);
	CHECK_INT(s.len, 30);
	/* partly old (differing) and partly new: the old part rewritten, the new delivered */
	evil[35] = '#';
	CHECK_INT(add(&r, &lim, isn + 10, evil + 10, 30, &s, out),
		  REASM_DATA | REASM_RETRANS | REASM_REWRITTEN);
	CHECK(memcmp(out, text + 10, 20) == 0);
	CHECK_INT(out[25], '#');
	CHECK_INT(s.len, 40);
	/* the new part, once passed, is the first copy in its turn */
	CHECK_INT(add(&r, &lim, isn + 30, text + 30, 10, &s, out), REASM_RETRANS | REASM_REWRITTEN);
	CHECK_INT(out[5], '#');
	/* once acknowledged, old bytes are the receiver's and are not compared */
	reasm_ack(&r, &lim, isn + 20);
	CHECK_INT(r.keep_len, 20);
	CHECK_INT(add(&r, &lim, isn, evil, 20, &s, out), REASM_RETRANS);
	CHECK(memcmp(out, evil, 20) == 0);
	/* an ack beyond what was sent is ignored */
	reasm_ack(&r, &lim, isn + 1000);
	CHECK_INT(r.acked, isn + 20);
	reasm_free(&r, &lim);
}

static void test_ooo_conflicts(uint32_t isn)
{
	struct reasm r;
	struct sink s = { .len = 0 };
	uint8_t evil[TLEN], out[TLEN];

	memcpy(evil, text, TLEN);
	evil[35] = 'X';
	evil[27] = 'Y';
	reasm_init(&r, isn);
	CHECK_INT(add(&r, &lim, isn + 30, text + 30, 10, &s, NULL), REASM_QUEUED);
	CHECK_INT(add(&r, &lim, isn + 30, text + 30, 10, &s, NULL), REASM_RETRANS);
	CHECK_INT(add(&r, &lim, isn + 32, text + 32, 4, &s, NULL), REASM_RETRANS);
	/* overlapping the buffered segment with other bytes: the first copy wins, the
	 * bytes before it are new and are buffered as they come */
	CHECK_INT(add(&r, &lim, isn + 25, evil + 25, 15, &s, out), REASM_QUEUED | REASM_REWRITTEN);
	CHECK_INT(out[10], text[35]);
	CHECK_INT(out[2], 'Y');
	CHECK_INT(add(&r, &lim, isn + 35, evil + 35, 10, &s, out), REASM_QUEUED | REASM_REWRITTEN);
	CHECK_INT(out[0], text[35]);
	/* in-order data that reaches into it is rewritten too */
	CHECK_INT(add(&r, &lim, isn, evil, 40, &s, out), REASM_DATA | REASM_REWRITTEN);
	CHECK_INT(out[27], 'Y');
	CHECK_INT(out[35], text[35]);
	CHECK_INT(s.len, 45);
	CHECK(memcmp(s.buf, evil, 27) == 0);
	CHECK_INT(s.buf[27], 'Y');
	CHECK(memcmp(s.buf + 28, text + 28, 17) == 0);
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
	CHECK_INT(add(&r, &lim, isn + 4000, big, 200, &s, NULL), REASM_OVERFLOW | REASM_OOO_FULL);
	CHECK_INT(add(&r, &lim, isn + 100, big + 100, 3000, &s, NULL), REASM_QUEUED);
	CHECK_INT(add(&r, &lim, isn + 3100, big + 3100, 900, &s, NULL), REASM_QUEUED);
	CHECK_INT(r.ooo_bytes, 3900);
	CHECK_INT(add(&r, &lim, isn + 4000, big + 4000, 200, &s, NULL),
		  REASM_OVERFLOW | REASM_OOO_FULL);
	CHECK_INT(r.ooo_bytes, 3900);
	/* in-order data needs no out-of-order buffer */
	CHECK_INT(add(&r, &lim, isn, big, 100, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 4000);
	CHECK_INT(add(&r, &lim, isn + 4000, big + 4000, 4192, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 8192);
	CHECK(memcmp(s.buf, big, 8192) == 0);
	/* every unacknowledged byte stays kept: past the cap new data is refused (the
	 * sender sends it again) until the receiver acknowledges */
	CHECK_INT(r.keep_len, 8192);
	CHECK_INT(add(&r, &lim, isn + 8192, text, TLEN, &s, NULL), REASM_OVERFLOW);
	CHECK_INT(add(&r, &lim, isn, big, 10, &s, NULL), REASM_RETRANS);
	reasm_ack(&r, &lim, isn + 100);
	CHECK_INT(add(&r, &lim, isn + 8192, text, TLEN, &s, NULL), REASM_DATA);
	CHECK_INT(r.keep_len, 8192 - 100 + TLEN);
	CHECK_INT(add(&r, &lim, isn + 8192, text, TLEN, &s, NULL), REASM_RETRANS);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);

	/* the total cap, shared by flows */
	{
		struct reasm a, b;
		size_t small_total = 0;
		struct reasm_limits l2 = {
			.ooo_cap = 4096, .keep_cap = 4096, .total_cap = 4000, .total = &small_total
		};

		reasm_init(&a, 0);
		reasm_init(&b, 0);
		CHECK_INT(add(&a, &l2, 100, big, 800, &s, NULL), REASM_QUEUED);
		CHECK_INT(add(&b, &l2, 100, big, 300, &s, NULL), REASM_QUEUED);
		/* each reserved its ring for the bytes it will deliver */
		CHECK_INT(small_total, 1100 + 1024 + 512);
		/* the other flows hold the total: told apart from the flow's own caps
		 * (the caller refuses the message for now rather than wait) */
		CHECK_INT(add(&b, &l2, 1000, big, 3000, &s, NULL),
			  REASM_OVERFLOW | REASM_TOTAL_FULL);
		CHECK(add(&a, &l2, 0, big, 1100, &s, NULL) & REASM_DATA);
		CHECK_INT(add(&a, &l2, 1100, big, 1500, &s, NULL),
			  REASM_OVERFLOW | REASM_TOTAL_FULL);
		CHECK_INT(add(&b, &l2, 500, big, 100, &s, NULL), REASM_QUEUED);
		CHECK_INT(add(&b, &l2, 700, big, 1000, &s, NULL),
			  REASM_OVERFLOW | REASM_TOTAL_FULL);
		reasm_free(&a, &l2);
		reasm_free(&b, &l2);
		CHECK_INT(small_total, 0);
	}
}

/* Linux's tcp_data_queue: a segment starting at or past the window's edge is dropped */
static void test_window(uint32_t isn)
{
	struct reasm r;
	struct sink s = { .len = 0 };

	reasm_init(&r, isn);
	CHECK_INT(add(&r, &lim, isn + 100, text, 10, &s, NULL), REASM_QUEUED); /* no edge yet */
	reasm_window(&r, isn + 40);
	CHECK_INT(add(&r, &lim, isn + 40, text, 10, &s, NULL), REASM_WINDOW);
	CHECK_INT(add(&r, &lim, isn + 200, text, 10, &s, NULL), REASM_WINDOW);
	/* starting inside, ending past: taken whole, as Linux does */
	CHECK_INT(add(&r, &lim, isn + 30, text + 30, 20, &s, NULL), REASM_QUEUED);
	/* the edge never moves back */
	reasm_window(&r, isn + 20);
	CHECK_INT(r.edge, isn + 40);
	reasm_window(&r, isn + 300);
	CHECK_INT(add(&r, &lim, isn + 200, text, 10, &s, NULL), REASM_QUEUED);
	CHECK_INT(add(&r, &lim, isn, text, 30, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 50);
	reasm_free(&r, &lim);
	/* a zero window: even the next byte is refused */
	reasm_init(&r, isn);
	reasm_window(&r, isn);
	CHECK_INT(add(&r, &lim, isn, text, 1, &s, NULL), REASM_WINDOW);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
}

static void test_fin(uint32_t isn)
{
	struct reasm r;
	struct sink s = { .len = 0 };

	/* in order: the stream ends once the receiver acknowledges the FIN; more data
	 * after it is refused */
	reasm_init(&r, isn);
	CHECK_INT(add(&r, &lim, isn, text, 20, &s, NULL), REASM_DATA);
	CHECK_INT(reasm_fin(&r, &lim, isn + 20), REASM_FIN);
	CHECK_INT(r.fin, FIN_SEEN);
	CHECK_INT(reasm_rcv_nxt(&r), isn + 20);
	reasm_ack(&r, &lim, isn + 20);
	CHECK_INT(r.fin, FIN_SEEN);
	reasm_ack(&r, &lim, isn + 21);
	CHECK_INT(r.fin, FIN_DONE);
	CHECK_INT(reasm_rcv_nxt(&r), isn + 21);
	CHECK_INT(add(&r, &lim, isn + 20, text + 20, 5, &s, NULL), REASM_AFTER_FIN);
	CHECK_INT(add(&r, &lim, isn + 10, text + 10, 20, &s, NULL), REASM_AFTER_FIN);
	CHECK_INT(add(&r, &lim, isn + 10, text + 10, 10, &s, NULL), REASM_RETRANS);
	CHECK_INT(reasm_fin(&r, &lim, isn + 20), 0); /* retransmitted */
	CHECK_INT(r.keep_len, 0);		     /* the acknowledgement released the bytes */
	CHECK_INT(s.len, 20);
	reasm_free(&r, &lim);

	/* a FIN the receiver never acknowledged (it expired on the way, or carried an
	 * option the receiver drops): data after it is refused all the same, and what was
	 * buffered behind it is kept */
	memset(&s, 0, sizeof(s));
	reasm_init(&r, isn);
	CHECK_INT(add(&r, &lim, isn, text, 20, &s, NULL), REASM_DATA);
	CHECK_INT(add(&r, &lim, isn + 25, text + 25, 5, &s, NULL), REASM_QUEUED);
	CHECK_INT(reasm_fin(&r, &lim, isn + 20), REASM_FIN);
	CHECK_INT(r.ooo_bytes, 5);
	reasm_ack(&r, &lim, isn + 20);
	CHECK_INT(r.fin, FIN_SEEN);
	CHECK_INT(add(&r, &lim, isn + 20, text + 20, 5, &s, NULL), REASM_AFTER_FIN);
	CHECK_INT(add(&r, &lim, isn + 21, text + 21, 5, &s, NULL), REASM_AFTER_FIN);
	CHECK_INT(s.len, 20);
	CHECK_INT(r.ooo_bytes, 5);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);

	/* out of order: waits, takes effect when the stream reaches it, and what was
	 * buffered beyond it is gone (tcp_fin purges the queue) */
	memset(&s, 0, sizeof(s));
	reasm_init(&r, isn);
	CHECK_INT(reasm_fin(&r, &lim, isn + 20), 0);
	CHECK_INT(r.fin, FIN_PENDING);
	CHECK_INT(add(&r, &lim, isn + 25, text + 25, 5, &s, NULL), REASM_QUEUED);
	CHECK_INT(add(&r, &lim, isn + 10, text + 10, 10, &s, NULL), REASM_QUEUED);
	CHECK_INT(add(&r, &lim, isn, text, 10, &s, NULL), REASM_DATA | REASM_FIN);
	CHECK_INT(s.len, 20);
	CHECK_INT(r.ooo_bytes, 5); /* until the receiver acknowledges the FIN */
	reasm_ack(&r, &lim, isn + 21);
	CHECK_INT(r.fin, FIN_DONE);
	CHECK_INT(r.ooo_bytes, 0);
	reasm_free(&r, &lim);

	/* out of order, then data covers its place first: Linux drops that FIN */
	memset(&s, 0, sizeof(s));
	reasm_init(&r, isn);
	CHECK_INT(reasm_fin(&r, &lim, isn + 20), 0);
	CHECK_INT(add(&r, &lim, isn, text, 30, &s, NULL), REASM_DATA);
	CHECK_INT(r.fin, FIN_NONE);
	CHECK_INT(add(&r, &lim, isn + 30, text + 30, 5, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 35);
	/* a FIN behind the stream is old */
	CHECK_INT(reasm_fin(&r, &lim, isn + 10), 0);
	CHECK_INT(r.fin, FIN_NONE);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
}

/* Many small out-of-order segments: ranges never overlap, copies are compared with the
 * first, and past the segment bound a segment is refused; a bulk arrival in reverse
 * order reassembles. */
static void test_ooo_many(uint32_t isn)
{
	static uint8_t big[8192], copy[8192];
	struct reasm_limits l = lim;
	struct reasm r;
	struct sink s = { .len = 0 };
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	l.ooo_cap = 8192;
	l.keep_cap = 16384;
	l.ooo_segs = 100;
	reasm_init(&r, isn);
	/* every other byte from 1: 100 ranges, the 101st is refused */
	for (i = 0; i < 100; i++)
		CHECK_INT(add(&r, &l, isn + 1 + 2 * (uint32_t)i, big + 1 + 2 * i, 1, &s, NULL),
			  REASM_QUEUED);
	CHECK_INT(r.ooo_count, 100);
	CHECK_INT(add(&r, &l, isn + 1 + 200, big + 201, 1, &s, NULL),
		  REASM_OVERFLOW | REASM_OOO_FULL);
	/* a copy over them, with one byte changed: rewritten to the first copy; its gaps
	 * (100 ranges) do not fit */
	memcpy(copy, big, 200);
	copy[51] ^= 0xff;
	CHECK_INT(add(&r, &l, isn + 1, copy + 1, 199, &s, NULL), REASM_OVERFLOW | REASM_OOO_FULL);
	/* the stream reaches them: every byte delivered once, as first sent */
	CHECK_INT(add(&r, &l, isn, copy, 1, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 2);
	for (i = 2; i < 200; i += 2)
		CHECK_INT(add(&r, &l, isn + (uint32_t)i, copy + i, 2, &s, NULL) & REASM_DATA,
			  REASM_DATA);
	CHECK_INT(s.len, 200);
	CHECK(memcmp(s.buf, big, 200) == 0);
	CHECK_INT(r.ooo_count, 0);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);

	/* 50-byte segments in reverse order, then the first: one contiguous stream */
	memset(&s, 0, sizeof(s));
	l.ooo_segs = 0;
	reasm_init(&r, isn);
	for (i = 4000; i >= 50; i -= 50)
		CHECK_INT(add(&r, &l, isn + (uint32_t)i, big + i, 50, &s, NULL), REASM_QUEUED);
	CHECK_INT(r.ooo_count, 80);
	CHECK_INT(r.ooo_bytes, 4000);
	/* an overlapping copy adds only what is new */
	CHECK_INT(add(&r, &l, isn + 4025, big + 4025, 50, &s, NULL), REASM_QUEUED);
	CHECK_INT(r.ooo_bytes, 4025);
	CHECK_INT(add(&r, &l, isn, big, 50, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 4075);
	CHECK(memcmp(s.buf, big, 4075) == 0);
	CHECK_INT(r.ooo_bytes, 0);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
}

/* what a direction holds: nothing once idle */
static void test_memory(uint32_t isn)
{
	static uint8_t big[6000];
	struct reasm r;
	struct sink s = { .len = 0 };

	reasm_init(&r, isn);
	CHECK_INT(reasm_mem(&r), 0);
	/* a command: a small ring, given back when the receiver acknowledges it */
	CHECK_INT(add(&r, &lim, isn, text, 20, &s, NULL), REASM_DATA);
	CHECK_INT(reasm_mem(&r), 512);
	reasm_ack(&r, &lim, isn + 10);
	CHECK_INT(reasm_mem(&r), 512);
	reasm_ack(&r, &lim, isn + 20);
	CHECK_INT(reasm_mem(&r), 0);
	CHECK_INT(total, 0);
	/* out of order: the ring is reserved for the bytes it will deliver */
	CHECK_INT(add(&r, &lim, isn + 30, text + 30, 10, &s, NULL), REASM_QUEUED);
	CHECK_INT(reasm_mem(&r), 512 + 10);
	CHECK_INT(add(&r, &lim, isn + 20, text + 20, 10, &s, NULL), REASM_DATA);
	reasm_ack(&r, &lim, isn + 40);
	CHECK_INT(reasm_mem(&r), 0);
	/* a large ring (a transfer) stays until the direction is trimmed as idle */
	CHECK_INT(add(&r, &lim, isn + 40, big, sizeof(big), &s, NULL), REASM_DATA);
	CHECK_INT(reasm_mem(&r), 8192);
	reasm_ack(&r, &lim, isn + 40 + sizeof(big) - 1);
	reasm_trim(&r, &lim);
	CHECK_INT(reasm_mem(&r), 8192); /* one byte still unacknowledged */
	reasm_ack(&r, &lim, isn + 40 + sizeof(big));
	CHECK_INT(reasm_mem(&r), 8192);
	reasm_trim(&r, &lim);
	CHECK_INT(reasm_mem(&r), 0);
	CHECK_INT(total, 0);
	/* and the stream goes on */
	CHECK_INT(add(&r, &lim, isn + 40 + sizeof(big), text, 5, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 40 + sizeof(big) + 5);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
}

/* a direction that is freed mid-stream (its flow reset) gives back everything it holds,
 * unacknowledged and out of order, and still knows where the receiver is */
static void test_free_mid_stream(uint32_t isn)
{
	static uint8_t big[6000], copy[10];
	struct reasm r;
	struct sink s = { .len = 0 };

	memset(big, 'x', sizeof(big));
	reasm_init(&r, isn);
	CHECK_INT(add(&r, &lim, isn, big, 3000, &s, NULL), REASM_DATA);
	CHECK_INT(add(&r, &lim, isn + 3100, big, 100, &s, NULL), REASM_QUEUED);
	CHECK(total > 3100);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
	CHECK_INT(reasm_mem(&r), 0);
	CHECK_INT(reasm_rcv_nxt(&r), (uint32_t)(isn + 3000));
	/* an old copy cannot be compared any more: taken as it is, never rewritten */
	memcpy(copy, "yyyyyyyyyy", 10);
	CHECK_INT(add(&r, &lim, isn + 100, copy, 10, &s, copy), REASM_RETRANS | REASM_UNVERIFIED);
	CHECK(memcmp(copy, "yyyyyyyyyy", 10) == 0);
	/* freed twice: nothing happens */
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
	/* new bytes go on from where the stream was */
	CHECK_INT(add(&r, &lim, isn + 3000, text, 5, &s, NULL), REASM_DATA);
	CHECK_INT(s.len, 3005);
	reasm_free(&r, &lim);
	CHECK_INT(total, 0);
}

static void test_paws(void)
{
	struct reasm r;

	reasm_init(&r, 1000);
	r.ts_recent = 500;
	CHECK_INT(reasm_paws_reject(&r, 100), 0); /* not negotiated */
	r.ts_on = 1;
	CHECK_INT(reasm_paws_reject(&r, 100), 1);
	CHECK_INT(reasm_paws_reject(&r, 498), 1);
	CHECK_INT(reasm_paws_reject(&r, 499), 0); /* TCP_PAWS_WINDOW */
	CHECK_INT(reasm_paws_reject(&r, 501), 0);
	/* wraps at 2^32 */
	r.ts_recent = 0xfffffff0u;
	CHECK_INT(reasm_paws_reject(&r, 5), 0);
	CHECK_INT(reasm_paws_reject(&r, 0xffff0000u), 1);
	/* only segments at or before the stream's next byte update it */
	reasm_ts_update(&r, 2000, 20);
	CHECK_INT(r.ts_recent, 0xfffffff0u);
	reasm_ts_update(&r, 1000, 20);
	CHECK_INT(r.ts_recent, 20);
	reasm_ts_update(&r, 1000, 10);
	CHECK_INT(r.ts_recent, 20);
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
		test_window(isns[i]);
		test_fin(isns[i]);
		test_ooo_many(isns[i]);
		test_memory(isns[i]);
		test_free_mid_stream(isns[i]);
	}
	test_paws();
	return unit_report("test_reasm");
}
