/* Dot-stuffed bodies on their own: ends, unstuffing, the size cap and the shared
 * budget, whole and byte by byte. */
#include <stdlib.h>

#include "msg.h"
#include "unit.h"

struct ends {
	char log[16384];
};

static void on_end(void *arg, const uint8_t *m, size_t len, int candidate, int oversize)
{
	struct ends *e = arg;
	size_t n = strlen(e->log);

	snprintf(e->log + n, sizeof(e->log) - n, "%s%s(%.*s);", candidate ? "c" : "",
		 oversize ? "o" : "", (int)len, (const char *)m);
}

/* feeds IN whole or byte by byte; returns bytes consumed before the end */
static size_t feed(struct msg_reader *m, const char *in, int bytewise, struct ends *e)
{
	size_t len = strlen(in), used = 0;
	int done = 0;

	e->log[0] = '\0';
	while (used < len && !done) {
		size_t n = bytewise ? 1 : len - used;

		used += msg_reader_push(m, (const uint8_t *)in + used, n, &done, on_end, e);
	}
	return used;
}

static void check(const char *in, const char *want, size_t want_used, size_t max)
{
	struct msg_reader m;
	struct ends e;
	int bytewise;

	for (bytewise = 0; bytewise < 2; bytewise++) {
		msg_reader_init(&m, max, NULL, "DATA", 0);
		msg_reader_reset(&m);
		CHECK_INT(feed(&m, in, bytewise, &e), want_used);
		CHECK_STR(e.log, want);
		msg_reader_free(&m);
	}
}

static void test_ends(void)
{
	check("a\r\n.\r\nNEXT", "(a\r\n);", 6, 100);
	check(".\r\n", "();", 3, 100);
	check("..x\r\n..\r\n.\r\n", "(.x\r\n.\r\n);", 12, 100);
	check(".x\r\n.\r\n", "(x\r\n);", 7, 100); /* a stuffed dot on the first line */
	check("a\n.\nb\r\n.\r\n", "c(a\n);(a\n.\nb\r\n);", 10, 100);
	check("a\r.\r\n\r\n.\r\n", "c(a\r);(a\r.\r\n\r\n);", 10, 100);
	/* a dot, CRs and LF: the end to postfix (a candidate), stuffing to the others */
	check("a\r\n.\r\r\n.\r\n", "c(a\r\n);(a\r\n\r\r\n);", 10, 100);
	check("a\n.\r\r\r\nb\r\n.\r\n", "c(a\n);(a\n.\r\r\r\nb\r\n);", 13, 100);
	check("a\r\n.\r\rb\r\n.\r\n", "(a\r\n\r\rb\r\n);", 12, 100);
	check("0123456789abc\r\n.\r\n", "o(01234567);", 18, 8);
	check("no end yet", "", 10, 100);
}

static void test_budget(void)
{
	struct msg_budget b = { .cap = 20 };
	struct msg_reader m1, m2;
	struct ends e;

	msg_reader_init(&m1, 100, &b, NULL, 0);
	msg_reader_init(&m2, 100, &b, NULL, 0);
	msg_reader_reset(&m1);
	msg_reader_reset(&m2);
	feed(&m1, "0123456789abcde", 0, &e); /* 15 kept, no end yet */
	CHECK_INT(b.used, 15);
	feed(&m2, "0123456789\r\n.\r\n", 0, &e);
	CHECK_STR(e.log, "o(01234);"); /* only 5 fitted */
	CHECK_INT(b.used, 20);
	msg_reader_reset(&m2);
	CHECK_INT(b.used, 15);
	msg_reader_free(&m1);
	CHECK_INT(b.used, 0);
	feed(&m2, "fits now\r\n.\r\n", 0, &e);
	CHECK_STR(e.log, "(fits now\r\n);");
	msg_reader_free(&m2);
	CHECK_INT(b.used, 0);
}

/* reads IN in pieces of STEP bytes (0: whole), the body marked unconfirmed from byte
 * FROM on (as the SMTP parser does between pushes); the log and the reader's state */
static size_t feed_steps(struct msg_reader *m, const char *in, size_t len, size_t step, size_t from,
			 struct ends *e)
{
	size_t used = 0;
	int done = 0;

	msg_reader_init(m, 4096, NULL, "DATA", 0);
	msg_reader_reset(m);
	e->log[0] = '\0';
	while (used < len && !done) {
		size_t n = step && len - used > step ? step : len - used;

		if (used < from && used + n > from)
			n = from - used;
		m->unconfirmed = used >= from;
		used += msg_reader_push(m, (const uint8_t *)in + used, n, &done, on_end, e);
	}
	return used;
}

/* The fast path over whole lines against the byte at a time reading: random bodies of
 * long and short lines, dots, bare CRs and LFs and resuming lines, read in pieces from
 * whole to single bytes, unconfirmed from the start, from a random byte or not at all,
 * must end the same and leave the same state. */
static void test_fast_path(void)
{
	static const char *const parts[] = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					     "bcd",
					     "x",
					     "\r\n",
					     "\r\n",
					     "\r\n",
					     "\r",
					     "\n",
					     ".",
					     "DATA",
					     "\r\n.\r\n",
					     "\n.\n",
					     "\r\n..",
					     "12345678" };
	unsigned int seed = 7, round, k, steps[] = { 0, 1, 2, 3, 7, 64 }, bad = 0;
	char in[2048];

	for (round = 0; round < 3000; round++) {
		struct msg_reader ref, m;
		struct ends er, e;
		size_t len = 0, used;
		size_t from = round % 4 == 1 ? 0 : round % 4 == 2 ? 1 + round % 500 : SIZE_MAX;

		while (len < 600) {
			const char *p;

			seed = seed * 1103515245u + 12345u;
			p = parts[(seed >> 16) % (sizeof(parts) / sizeof(parts[0]))];
			memcpy(in + len, p, strlen(p));
			len += strlen(p);
		}
		in[len] = '\0';
		used = feed_steps(&ref, in, len, 1, from, &er);
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			if (feed_steps(&m, in, len, steps[k], from, &e) != used ||
			    strcmp(e.log, er.log) || m.state != ref.state ||
			    m.line_start != ref.line_start || m.body.len != ref.body.len ||
			    m.resume_start != ref.resume_start || m.ambiguous != ref.ambiguous)
				bad++;
			msg_reader_free(&m);
		}
		msg_reader_free(&ref);
	}
	CHECK_INT(bad, 0);
	/* marked unconfirmed inside a resuming line that a fast run began: the line counts */
	{
		static const char in2[] = "aaaa\r\nbbbb\r\nDATA\r\nxy\r\n.\r\n";
		struct msg_reader m;
		struct ends e;

		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			CHECK_INT(feed_steps(&m, in2, strlen(in2), steps[k], 14, &e), strlen(in2));
			CHECK_STR(e.log, "c(xy\r\n);(aaaa\r\nbbbb\r\nDATA\r\nxy\r\n);");
			msg_reader_free(&m);
		}
	}
}

/* a store whose seal loses the body (as a memfd whose read-only mapping fails): the
 * message is reported as not kept whole, and its bytes leave the budget */
static int lossy_grow(struct msg_body *b, size_t need)
{
	uint8_t *p = realloc(b->p, need);

	if (!p)
		return -1;
	b->p = p;
	b->cap = need;
	return 0;
}

static void lossy_drop(struct msg_body *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int lossy_seal(struct msg_body *b, struct msg_body *done)
{
	(void)done;
	lossy_drop(b);
	return -1;
}

static void test_store_loses(void)
{
	static const struct msg_store_ops lossy = { lossy_grow, lossy_drop, lossy_seal,
						    lossy_drop };
	struct msg_budget b = { .cap = 100, .store = &lossy };
	struct msg_reader m;
	struct ends e;

	msg_reader_init(&m, 100, &b, NULL, 0);
	feed(&m, "abc\r\n.\r\n", 0, &e);
	CHECK_STR(e.log, "o();");
	CHECK_INT(b.used, 0);
	msg_reader_reset(&m);
	feed(&m, "de\r\n.\r\n", 0, &e); /* the next message is read as usual */
	CHECK_STR(e.log, "o();");
	msg_reader_free(&m);
	CHECK_INT(b.used, 0);
}

int main(void)
{
	test_ends();
	test_budget();
	test_fast_path();
	test_store_loses();
	return unit_report("test_msg");
}
