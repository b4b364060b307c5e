/* Dot-stuffed bodies on their own: ends, unstuffing, the size cap and the shared
 * budget, whole and byte by byte. */
#include <stdlib.h>

#include "msg.h"
#include "unit.h"

struct ends {
	char log[1024];
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
	check("a\r\n.\r\r\n.\r\n", "(a\r\n\r\r\n);", 10, 100); /* ".\r" then CR: stuffing */
	check("0123456789abc\r\n.\r\n", "o(01234567);", 18, 8);
	check("no end yet", "", 10, 100);
}

static void test_budget(void)
{
	struct msg_budget b = { 0, 20 };
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

int main(void)
{
	test_ends();
	test_budget();
	return unit_report("test_msg");
}
