/* SMTP command lines as the servers read them: one line each, the union reading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpcmd.h"
#include "unit.h"

struct want {
	const char *line;
	enum smtpcmd_verb verb;
	int strict, chunk, last;
	uint64_t size;
	const char *arg;
};

static const struct want lines[] = {
	{ "DATA", SMTPCMD_DATA, 1, 0, 0, 0, "" },
	{ "data", SMTPCMD_DATA, 1, 0, 0, 0, "" },
	/* postfix only: leading white space, tabs and other separators */
	{ " DATA", SMTPCMD_DATA, 0, 0, 0, 0, "" },
	{ "\vDATA", SMTPCMD_DATA, 0, 0, 0, 0, "" },
	{ "DATA\t", SMTPCMD_DATA, 0, 0, 0, 0, "" }, /* OpenSMTPD: "DATA\t" is unknown */
	{ "DATA\r\r", SMTPCMD_DATA, 0, 0, 0, 0, "" },
	{ "DATA x", SMTPCMD_DATA, 1, 0, 0, 0, "x" },
	{ "DATAX", SMTPCMD_NONE, 1, 0, 0, 0, "" },
	{ "MAIL FROM:<a@b>", SMTPCMD_MAIL, 1, 0, 0, 0, "FROM:<a@b>" },
	{ "rcpt to: <a@b>", SMTPCMD_RCPT, 1, 0, 0, 0, "to: <a@b>" },
	{ "EHLO host", SMTPCMD_HELO, 1, 0, 0, 0, "host" },
	{ "\tRSET", SMTPCMD_RSET, 0, 0, 0, 0, "" },
	{ "STARTTLS", SMTPCMD_STARTTLS, 1, 0, 0, 0, "" },
	{ "BDAT 10", SMTPCMD_BDAT, 1, 1, 0, 10, "10" },
	{ "BDAT 10 LAST", SMTPCMD_BDAT, 1, 1, 1, 10, "10 LAST" },
	{ "BDAT 010 last", SMTPCMD_BDAT, 1, 1, 1, 10, "010 last" },
	{ "BDAT 10\tLAST", SMTPCMD_BDAT, 1, 1, 1, 10, "10\tLAST" },
	{ "BDAT\t10", SMTPCMD_BDAT, 0, 1, 0, 10, "10" },	    /* postfix only */
	{ "BDAT +10 LAST", SMTPCMD_BDAT, 0, 1, 1, 10, "+10 LAST" }, /* exim only */
	{ "BDAT 10LAST", SMTPCMD_BDAT, 0, 1, 1, 10, "10LAST" },
	{ "BDAT 10 junk", SMTPCMD_BDAT, 0, 1, 0, 10, "10 junk" },
	{ "BDAT -1", SMTPCMD_BDAT, 0, 1, 0, 0xffffffffULL, "-1" },
	{ "BDAT 4294967306 LAST", SMTPCMD_BDAT, 0, 1, 1, 10, "4294967306 LAST" },
	{ "BDAT 99999999999999999999999", SMTPCMD_BDAT, 0, 1, 0, 0xffffffffULL,
	  "99999999999999999999999" },
	{ "BDAT x", SMTPCMD_BDAT, 1, 0, 0, 0, "x" }, /* malformed to all: no chunk */
	{ "BDAT", SMTPCMD_BDAT, 1, 0, 0, 0, "" },
	{ "", SMTPCMD_NONE, 1, 0, 0, 0, "" },
	{ "   ", SMTPCMD_NONE, 1, 0, 0, 0, "" },
};

static void test_lines(void)
{
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const struct want *w = &lines[i];
		char buf[256];
		struct smtpcmd c;

		snprintf(buf, sizeof(buf), "%s", w->line);
		smtpcmd_parse(&c, buf, strlen(buf), strlen(buf));
		if (c.verb != w->verb || c.strict != w->strict || c.chunk != w->chunk)
			fprintf(stderr, "line %zu: \"%s\"\n", i, w->line);
		CHECK_INT(c.verb, w->verb);
		CHECK_INT(c.strict, w->strict);
		CHECK_INT(c.chunk, w->chunk);
		if (w->chunk) {
			CHECK_INT(c.last, w->last);
			CHECK_INT(c.size, w->size);
		}
		CHECK_STR(c.arg, w->arg);
	}
}

/* DATA with an argument: every server refuses it; trailing white space is no argument
 * to postfix and exim */
static void test_refused(void)
{
	static const struct {
		const char *line;
		int refused;
	} t[] = { { "DATA x", 1 }, { "Data collected in 2020", 1 },
		  { "DATA", 0 },   { "DATA \t", 0 },
		  { " DATA", 0 },  { "DATA\tx", 1 } };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[64];
		struct smtpcmd c;

		snprintf(buf, sizeof(buf), "%s", t[i].line);
		smtpcmd_parse(&c, buf, strlen(buf), strlen(buf));
		CHECK_INT(c.verb, SMTPCMD_DATA);
		CHECK_INT(c.refused, t[i].refused);
	}
}

/* a NUL ends the line for postfix and OpenSMTPD (exim refuses it) */
static void test_nul(void)
{
	char buf[] = "DATA\0junk";
	struct smtpcmd c;

	smtpcmd_parse(&c, buf, sizeof(buf) - 1, sizeof(buf) - 1);
	CHECK_INT(c.verb, SMTPCMD_DATA);
	CHECK_INT(c.strict, 0);
}

/* postfix reads the first 2048 bytes of a longer line */
static void test_long(void)
{
	size_t n = 3000;
	char *buf = malloc(n + 1);
	struct smtpcmd c;

	memset(buf, ' ', n);
	memcpy(buf, "DATA", 4);
	buf[n - 1] = 'x';
	buf[n] = '\0';
	smtpcmd_parse(&c, buf, n, n);
	CHECK_INT(c.verb, SMTPCMD_DATA);
	free(buf);
}

/* exim's pieces: 16384 bytes, one lost, then a command of its own */
static void test_pieces(void)
{
	struct smtpcmd_piece p;
	struct smtpcmd c;
	size_t n = 2 * 16385, i;
	uint8_t *big = malloc(n + 16);

	for (i = 0; i < n; i++)
		big[i] = 'X';
	memcpy(big + n, "BDAT  7   LAST ", 15);
	/* fed in uneven pieces */
	memset(&p, 0, sizeof(p));
	for (i = 0; i < n + 15; i += 1000)
		smtpcmd_piece_feed(&p, big + i, n + 15 - i < 1000 ? n + 15 - i : 1000);
	CHECK_INT(smtpcmd_piece_parse(&p, &c), 1);
	CHECK_INT(c.verb, SMTPCMD_BDAT);
	CHECK_INT(c.size, 7);
	CHECK_INT(c.last, 1);
	CHECK_INT(smtpcmd_exim_replies(n + 15), 3);
	CHECK_INT(smtpcmd_exim_replies(16384), 1);
	CHECK_INT(smtpcmd_exim_replies(16385), 2);
	/* a line of 16384 bytes is one command: no piece */
	memset(&p, 0, sizeof(p));
	smtpcmd_piece_feed(&p, big, 16384);
	CHECK_INT(smtpcmd_piece_parse(&p, &c), 0);
	/* the byte after 16384 is lost: "XDATA" there is read from "DATA" */
	memset(&p, 0, sizeof(p));
	memcpy(big + 16384, "XDATA", 5);
	smtpcmd_piece_feed(&p, big, 16389);
	CHECK_INT(smtpcmd_piece_parse(&p, &c), 1);
	CHECK_INT(c.verb, SMTPCMD_DATA);
	free(big);
}

/* smtpcmd_none agrees with smtpcmd_parse: every name, in any case, after white space,
 * is a possible verb; a line it finds no verb in has none */
static void test_none(void)
{
	static const char *const names[] = { "EHLO", "HELO", "LHLO",	 "MAIL", "RCPT",
					     "DATA", "BDAT", "STARTTLS", "RSET", "QUIT",
					     "NOOP", "VRFY", "EXPN",	 "HELP", "AUTH" };
	char buf[64];
	size_t i, k, bad = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(buf, sizeof(buf), "%s x", names[i]);
		CHECK_INT(smtpcmd_none((const uint8_t *)buf, strlen(buf)), 0);
		snprintf(buf, sizeof(buf), " \t%c%s", names[i][0] | 0x20, names[i] + 1);
		CHECK_INT(smtpcmd_none((const uint8_t *)buf, strlen(buf)), 0);
	}
	srand(7);
	for (i = 0; i < 200000; i++) {
		struct smtpcmd c;
		size_t n = 1 + (size_t)rand() % 12;

		for (k = 0; k < n; k++) /* letters and white space mostly, to reach names */
			buf[k] = (char)(rand() % 4 ? "DATAMAILRCPTHELOdatamail \t"[rand() % 26]
						   : rand());
		buf[n] = '\0';
		if (!smtpcmd_none((const uint8_t *)buf, n))
			continue;
		smtpcmd_parse(&c, buf, n, n);
		bad += c.verb != SMTPCMD_NONE;
	}
	CHECK_INT(bad, 0);
}

/* the runs of lines without a verb, as one smtpcmd_none per line finds them */
static size_t none_lines_ref(const uint8_t *d, size_t n, size_t max, uint64_t *count)
{
	const uint8_t *lf;
	size_t i = 0;

	*count = 0;
	while (i < n && (lf = memchr(d + i, '\n', n - i <= max ? n - i : max + 1)) &&
	       smtpcmd_none(d + i, (size_t)(lf - d) - i)) {
		i = (size_t)(lf - d) + 1;
		(*count)++;
	}
	return i;
}

static void test_none_lines(void)
{
	static const size_t maxes[] = { 0, 1, 63, 64, 100, 2048, 16384 };
	size_t n = 70000, i, r, m, bad = 0;
	uint8_t *d = malloc(n);

	srand(11);
	for (r = 0; r < 60; r++) {
		/* lines of random lengths (r sets how long), now and then a verb */
		unsigned int every = 1u + (unsigned int)(r % 6) * 60;

		for (i = 0; i < n; i++)
			d[i] = (uint8_t)(rand() % every ? rand() % 255 + 1 : '\n');
		for (i = 0; r % 3 && i < 3; i++)
			memcpy(d + (size_t)rand() % (n - 8), "\nDATA\r\n", 8);
		for (m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
			size_t off = (size_t)rand() % 70;
			uint64_t got, want;
			size_t a = smtpcmd_none_lines(d + off, n - off, maxes[m], &got);
			size_t b = none_lines_ref(d + off, n - off, maxes[m], &want);

			bad += a != b || got != want;
		}
	}
	CHECK_INT(bad, 0);
	free(d);
}

int main(void)
{
	test_lines();
	test_refused();
	test_nul();
	test_long();
	test_pieces();
	test_none();
	test_none_lines();
	return unit_report("test_smtpcmd");
}
