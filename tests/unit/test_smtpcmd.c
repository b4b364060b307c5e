/* SMTP command lines as the servers read them: one line each, the union reading. */
#include <stdio.h>
#include <stdlib.h>

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

int main(void)
{
	test_lines();
	test_refused();
	test_nul();
	test_long();
	test_pieces();
	return unit_report("test_smtpcmd");
}
