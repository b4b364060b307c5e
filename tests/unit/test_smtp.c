/* SMTP parser: every dialogue fed whole, byte by byte, and in every two-piece split of
 * each step; all must report the same events. */
#include <stdlib.h>

#include "smtp.h"
#include "dialogue.h"

#define C(x)                                                                                       \
	{                                                                                          \
		SMTP_CLIENT, x                                                                     \
	}
#define S(x)                                                                                       \
	{                                                                                          \
		SMTP_SERVER, x                                                                     \
	}
#define END                                                                                        \
	{                                                                                          \
		SMTP_CLIENT, NULL                                                                  \
	}

/* events as text: M[flags](message) or TLS */
static void log_events(struct smtp *p, char *log, size_t cap)
{
	struct smtp_event e;

	while (smtp_next(p, &e)) {
		size_t n = strlen(log);

		if (e.type == SMTP_EV_STARTTLS) {
			snprintf(log + n, cap - n, "TLS;");
			continue;
		}
		snprintf(log + n, cap - n, "M%s%s%s(%.*s);", e.candidate ? "c" : "",
			 e.oversize ? "o" : "", e.bdat ? "b" : "", (int)e.len, (const char *)e.msg);
	}
}

static void *ops_new(size_t max_msg)
{
	return smtp_new(max_msg, NULL, 64);
}

static void ops_free(void *p)
{
	smtp_free(p);
}

static void ops_push(void *p, int dir, const uint8_t *d, size_t n)
{
	smtp_push(p, (enum smtp_dir)dir, d, n);
}

static void ops_log(void *p, char *log, size_t cap)
{
	log_events(p, log, cap);
}

static const struct dialogue_ops ops = { ops_new, ops_free, ops_push, ops_log };

static struct smtp *check(const char *name, const struct step *st, const char *want, size_t max_msg)
{
	return dialogue_check(&ops, name, st, want, max_msg);
}

#define GREET S("220 mx.example.org ESMTP\r\n")
#define EHLO                                                                                       \
	C("EHLO client.example.org\r\n"),                                                          \
		S("250-mx.example.org\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 STARTTLS\r\n")
#define ENV                                                                                        \
	C("MAIL FROM:<a@example.org>\r\n"), S("250 2.1.0 Ok\r\n"),                                 \
		C("RCPT TO:<b@example.org>\r\n"), S("250 2.1.5 Ok\r\n")

static void test_data(void)
{
	const struct step plain[] = { GREET,
				      EHLO,
				      ENV,
				      C("DATA\r\n"),
				      S("354 go\r\n"),
				      C("Subject: x\r\n\r\nhello\r\n.\r\n"),
				      S("250 queued\r\n"),
				      C("QUIT\r\n"),
				      S("221 bye\r\n"),
				      END };
	const struct step stuffed[] = { GREET,
					ENV,
					C("DATA\r\n"),
					S("354 go\r\n"),
					C("..leading\r\n.\r\n..\r\n...\r\nend\r\n.\r\n"),
					S("250 ok\r\n"),
					END };
	const struct step empty[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C(".\r\n"), S("250 ok\r\n"), END
	};
	struct smtp *p;

	p = check("plain", plain, "M(Subject: x\r\n\r\nhello\r\n);", 1 << 20);
	CHECK_INT(smtp_counters(p)->messages, 1);
	CHECK_INT(smtp_counters(p)->transactions, 1);
	CHECK_INT(smtp_counters(p)->pipelined, 0);
	CHECK_INT(smtp_counters(p)->unknown_commands, 0);
	smtp_free(p);
	/* ".." unstuffs to "." and the single-dot lines inside are content */
	smtp_free(check("stuffed", stuffed, "M(.leading\r\n);", 1 << 20));
	{
		const struct step st2[] = { GREET,
					    ENV,
					    C("DATA\r\n"),
					    S("354 go\r\n"),
					    C("..\r\n...\r\n.x\r\n.\r\n"),
					    S("250 ok\r\n"),
					    END };

		smtp_free(check("stuffed2", st2, "M(.\r\n..\r\nx\r\n);", 1 << 20));
	}
	smtp_free(check("empty", empty, "M();", 1 << 20));
}

static void test_pipelining(void)
{
	/* one group: envelope and DATA together, replies together; two transactions */
	const struct step st[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
		  "RCPT TO:<c@example.org>\r\nDATA\r\n"),
		S("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
		C("one\r\n.\r\nMAIL FROM:<d@example.org>\r\nRCPT TO:<e@example.org>\r\nDATA\r\n"),
		S("250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
		C("two\r\n.\r\nQUIT\r\n"),
		S("250 queued\r\n221 bye\r\n"),
		END,
	};
	struct smtp *p = check("pipelined", st, "M(one\r\n);M(two\r\n);", 1 << 20);

	CHECK_INT(smtp_counters(p)->messages, 2);
	CHECK_INT(smtp_counters(p)->transactions, 2);
	CHECK(smtp_counters(p)->pipelined >= 6);
	smtp_free(p);
}

static void test_data_without_waiting(void)
{
	/* content right after DATA, before the 354: content to the server */
	const struct step early[] = { GREET, ENV, C("DATA\r\nearly content\r\n.\r\n"),
				      S("354 go\r\n250 ok\r\n"), END };
	/* DATA refused: what followed were commands, not content */
	const struct step refused[] = {
		GREET,
		C("MAIL FROM:<a@example.org>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\n"),
		C("NOOP\r\nRSET\r\n"),
		S("554 no valid recipients\r\n250 ok\r\n250 ok\r\n"),
		ENV,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("real\r\n.\r\n"),
		S("250 ok\r\n"),
		END,
	};
	/* 354 refused with 5xx: no content at all */
	const struct step no354[] = {
		GREET, ENV, C("DATA\r\n"), S("451 try later\r\n"), C("QUIT\r\n"), S("221 bye\r\n"),
		END
	};
	/* what servers take for DATA and BDAT besides the plain forms (postfix: all) */
	const struct step data_ws[] = { GREET,
					ENV,
					C("DATA \r\n"),
					S("354 go\r\n"),
					C("one\r\n.\r\n"),
					ENV,
					C("data\t\r\n"),
					S("354 go\r\n"),
					C("two\r\n.\r\n"),
					END };
	const struct step bdat_ws[] = { GREET,		 ENV, C("BDAT 3\tLAST\r\nabc"),
					S("250 ok\r\n"), ENV, C("bdat  2  last \r\nde"),
					S("250 ok\r\n"), END };
	/* DATA with an argument: refused (501), so what follows are commands */
	const struct step data_arg[] = { GREET,
					 ENV,
					 C("DATA x\r\nRSET\r\n"),
					 S("501 syntax\r\n250 ok\r\n"),
					 C("DATA\r\n"),
					 S("354 go\r\n"),
					 C("three\r\n.\r\n"),
					 END };
	struct smtp *p;

	smtp_free(check("DATA with spaces", data_ws, "M(one\r\n);M(two\r\n);", 1 << 20));
	smtp_free(check("BDAT with tabs", bdat_ws, "Mb(abc);Mb(de);", 1 << 20));
	p = check("DATA x", data_arg, "M(three\r\n);", 1 << 20);
	CHECK_INT(smtp_counters(p)->data_refused, 1);
	smtp_free(p);
	smtp_free(check("early", early, "M(early content\r\n);", 1 << 20));
	p = check("refused", refused, "M(real\r\n);", 1 << 20);
	CHECK_INT(smtp_counters(p)->data_refused, 1);
	/* NOOP and RSET were replayed as commands: their replies matched them */
	CHECK_INT(smtp_counters(p)->commands, 7);
	smtp_free(p);
	p = check("no354", no354, "", 1 << 20);
	CHECK_INT(smtp_counters(p)->messages, 0);
	smtp_free(p);
}

/* A refused DATA followed by more than can be replayed: the transaction behind it is
 * still scanned on its own (a candidate from its DATA line). */
static void test_refused_data_overflow(void)
{
	size_t junk = 70000, i;
	char *big = malloc(junk + 200);
	struct smtp *p;
	char log[4096] = "";

	for (i = 0; i < junk; i++)
		big[i] = (i % 70 == 69) ? '\n' : 'j';
	strcpy(big + junk,
	       "MAIL FROM:<x@evil>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nevil\r\n.\r\n");
	{
		const struct step st[] = { GREET, ENV, C("DATA x\r\n"), C(big), S("501 syntax\r\n"),
					   END };
		p = dialogue_run(&ops, st, 0, log, sizeof(log), 1 << 20);
	}
	CHECK_HAS(log, "Mc(evil\r\n);");
	smtp_free(p);
	free(big);
}

static void test_bdat(void)
{
	const struct step last[] = { GREET,
				     EHLO,
				     ENV,
				     C("BDAT 5\r\nhelloBDAT 6 LAST\r\n world"),
				     S("250 ok\r\n250 ok\r\n"),
				     C("QUIT\r\n"),
				     END };
	/* a chunk that looks like commands and a terminator is just octets */
	const struct step octets[] = { GREET, ENV, C("BDAT 15 LAST\r\n.\r\nQUIT\r\nDATA\r\n"),
				       S("250 ok\r\n"), END };
	const struct step zero[] = {
		GREET,		 ENV, C("BDAT 3\r\nabc"), S("250 ok\r\n"), C("BDAT 0 LAST\r\n"),
		S("250 ok\r\n"), END
	};
	const struct step nolast[] = {
		GREET, ENV, C("BDAT 3\r\nabc"), S("250 ok\r\n"), C("RSET\r\n"), S("250 ok\r\n"), END
	};
	const struct step bad[] = { GREET, ENV, C("BDAT x LAST\r\nQUIT\r\n"),
				    S("501 syntax\r\n221 bye\r\n"), END };
	struct smtp *p;

	p = check("bdat", last, "Mb(hello world);", 1 << 20);
	CHECK_INT(smtp_counters(p)->bdat_messages, 1);
	smtp_free(p);
	smtp_free(check("bdat octets", octets, "Mb(.\r\nQUIT\r\nDATA\r\n);", 1 << 20));
	smtp_free(check("bdat zero last", zero, "Mb(abc);", 1 << 20));
	smtp_free(check("bdat without last", nolast, "", 1 << 20));
	smtp_free(check("bdat malformed", bad, "", 1 << 20));
}

static void test_rset_and_transactions(void)
{
	const struct step st[] = {
		GREET,
		ENV,
		C("RSET\r\n"),
		S("250 ok\r\n"),
		ENV,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("first\r\n.\r\n"),
		S("250 ok\r\n"),
		ENV,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("second\r\n.\r\n"),
		S("250 ok\r\n"),
		END,
	};
	struct smtp *p = check("transactions", st, "M(first\r\n);M(second\r\n);", 1 << 20);

	CHECK_INT(smtp_counters(p)->transactions, 3);
	smtp_free(p);
}

static void test_starttls(void)
{
	const struct step ok[] = { GREET,
				   EHLO,
				   C("STARTTLS\r\n"),
				   S("220 ready\r\n"),
				   C("\x16\x03\x01 binary tls DATA\r\n.\r\n"),
				   END };
	const struct step no[] = { GREET,
				   C("STARTTLS\r\n"),
				   S("454 not available\r\n"),
				   ENV,
				   C("DATA\r\n"),
				   S("354 go\r\n"),
				   C("x\r\n.\r\n"),
				   END };

	smtp_free(check("starttls", ok, "TLS;", 1 << 20));
	smtp_free(check("starttls refused", no, "M(x\r\n);", 1 << 20));
}

static void test_ambiguous_ends(void)
{
	/* each bare variant reports the candidate; the strict end reports the whole */
	const struct step lflf[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C("a\n.\nb\r\n.\r\n"), END
	};
	const struct step lfcrlf[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C("a\n.\r\nb\r\n.\r\n"), END
	};
	const struct step crcrlf[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C("a\r.\r\nb\r\n.\r\n"), END
	};
	const struct step crlflf[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C("a\r\n.\nb\r\n.\r\n"), END
	};
	/* smuggling: a second transaction after a bare end is reported on its own */
	const struct step smuggle[] = {
		GREET,
		ENV,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("Subject: one\r\n\r\nok\n.\r\nMAIL FROM:<x@evil>\r\nRCPT TO:<b@example.org>\r\n"
		  "DATA\r\nSubject: evil\r\n\r\npayload\r\n.\r\n"),
		END,
	};
	struct smtp *p;

	p = check("LF.LF", lflf, "Mc(a\n);M(a\n.\nb\r\n);", 1 << 20);
	CHECK_INT(smtp_counters(p)->bare_line_ends, 1);
	smtp_free(p);
	smtp_free(check("LF.CRLF", lfcrlf, "Mc(a\n);M(a\n.\r\nb\r\n);", 1 << 20));
	smtp_free(check("CR.CRLF", crcrlf, "Mc(a\r);M(a\r.\r\nb\r\n);", 1 << 20));
	smtp_free(check("CRLF.LF", crlflf, "Mc(a\r\n);M(a\r\n.\nb\r\n);", 1 << 20));
	p = check("smuggling", smuggle,
		  "Mc(Subject: one\r\n\r\nok\n);"
		  "Mc(Subject: evil\r\n\r\npayload\r\n);"
		  "M(Subject: one\r\n\r\nok\n.\r\nMAIL FROM:<x@evil>\r\nRCPT TO:<b@example.org>\r\n"
		  "DATA\r\nSubject: evil\r\n\r\npayload\r\n);",
		  1 << 20);
	CHECK_INT(smtp_counters(p)->candidates, 2);
	smtp_free(p);
}

static void test_limits_and_garbage(void)
{
	/* an over-long command line is one (unknown) command the server answers */
	const struct step longline[] = {
		GREET,
		C("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		  "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r\n"),
		S("500 line too long\r\n"),
		ENV,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("x\r\n.\r\n"),
		END,
	};
	/* garbage first, then the virus: inspection goes on */
	const struct step garbage[] = {
		GREET,
		C("\x01\x02\xff\xfe garbage\r\n\x80\x81\r\nGET / HTTP/1.0\r\n"),
		S("500 what\r\n500 what\r\n500 what\r\n"),
		ENV,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("virus\r\n.\r\n"),
		END,
	};
	const struct step big[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C("0123456789abcdef\r\n.\r\n"), END
	};
	struct smtp *p;

	p = check("long line", longline, "M(x\r\n);", 1 << 20);
	CHECK_INT(smtp_counters(p)->long_lines, 1);
	CHECK_INT(smtp_counters(p)->unknown_commands, 1);
	smtp_free(p);
	p = check("garbage", garbage, "M(virus\r\n);", 1 << 20);
	CHECK_INT(smtp_counters(p)->unknown_commands, 3);
	smtp_free(p);
	/* over the message cap: reported as oversize with its start */
	smtp_free(check("oversize", big, "Mo(0123456789);", 10));
}

/* replies seen and owed, pipelined or not, the banner first */
static void test_replies_owed(void)
{
	static const char two[] = "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nfirst\r\n.\r\n"
				  "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nsecond\r\n.\r\nQU";
	struct smtp *s = smtp_new(1 << 20, NULL, 4096);

	CHECK_INT(smtp_owed(s), 1); /* the banner */
	/* the client talks first */
	smtp_push(s, SMTP_CLIENT, (const uint8_t *)"EHLO c\r\n", strlen("EHLO c\r\n"));
	CHECK_INT(smtp_owed(s), 2);
	smtp_push(s, SMTP_SERVER, (const uint8_t *)"220 mx\r\n250-mx\r\n250 OK\r\n",
		  strlen("220 mx\r\n250-mx\r\n250 OK\r\n"));
	CHECK_INT(smtp_replies(s), 2);
	CHECK_INT(smtp_owed(s), 2);
	/* two transactions and a partial command: 8 more owed, the partial one not */
	smtp_push(s, SMTP_CLIENT, (const uint8_t *)two, strlen(two));
	CHECK_INT(smtp_owed(s), 10);
	smtp_push(s, SMTP_SERVER, (const uint8_t *)"250 a\r\n250 b\r\n354 c\r\n250 d\r\n",
		  strlen("250 a\r\n250 b\r\n354 c\r\n250 d\r\n"));
	CHECK_INT(smtp_replies(s), 6);
	smtp_push(s, SMTP_CLIENT, (const uint8_t *)"IT\r\n", strlen("IT\r\n"));
	CHECK_INT(smtp_owed(s), 11);
	smtp_free(s);
}

/* what a session holds: its structure when idle, the message while it is read */
static void test_memory(void)
{
	static const char *dialogue[][2] = {
		{ "s", "220 mx ESMTP\r\n" },
		{ "c", "EHLO client.example.org\r\n" },
		{ "s", "250-mx\r\n250 PIPELINING\r\n" },
		{ "c", "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n" },
		{ "s", "250 ok\r\n250 ok\r\n354 go\r\n" },
	};
	struct smtp *s = smtp_new(1 << 20, NULL, 4096);
	struct smtp_event e;
	size_t idle, i;
	static char body[3000];

	/* before the banner, its reply is owed: a queue of one */
	CHECK(smtp_mem(s) > sizeof(void *));
	smtp_push(s, SMTP_SERVER, (const uint8_t *)dialogue[0][1], strlen(dialogue[0][1]));
	smtp_trim(s);
	idle = smtp_mem(s);
	CHECK(idle < 1500);
	for (i = 1; i < 5; i++) {
		smtp_push(s, dialogue[i][0][0] == 'c' ? SMTP_CLIENT : SMTP_SERVER,
			  (const uint8_t *)dialogue[i][1], strlen(dialogue[i][1]));
		while (smtp_next(s, &e))
			;
		smtp_trim(s);
		if (i == 2)
			CHECK_INT(smtp_mem(s), idle); /* after EHLO: nothing but the structure */
	}
	CHECK_INT(smtp_busy(s), 1);
	memset(body, 'x', sizeof(body));
	for (i = 0; i < 10; i++) {
		smtp_push(s, SMTP_CLIENT, (const uint8_t *)body, sizeof(body));
		smtp_trim(s);
	}
	CHECK(smtp_mem(s) >= idle + 10 * sizeof(body));
	/* a partial line waits in its buffer: not given back */
	smtp_push(s, SMTP_CLIENT, (const uint8_t *)"\r\n.\r\nQUI", strlen("\r\n.\r\nQUI"));
	CHECK_INT(smtp_next(s, &e), 1);
	CHECK_INT(e.type, SMTP_EV_MESSAGE);
	CHECK_INT(smtp_busy(s), 0);
	smtp_trim(s);
	CHECK(smtp_mem(s) > idle && smtp_mem(s) < idle + 512);
	smtp_push(s, SMTP_CLIENT, (const uint8_t *)"T\r\n", strlen("T\r\n"));
	smtp_push(s, SMTP_SERVER, (const uint8_t *)"250 ok\r\n221 bye\r\n",
		  strlen("250 ok\r\n221 bye\r\n"));
	smtp_trim(s);
	CHECK_INT(smtp_mem(s), idle);
	smtp_free(s);
}

/* every split: NEEDLE is among the events */
static void check_has(const char *name, const struct step *st, const char *needle)
{
	static char log[16384];
	size_t chunk;

	for (chunk = 0; chunk < 9; chunk++) {
		smtp_free(dialogue_run(&ops, st, chunk, log, sizeof(log), 1 << 20));
		if (!strstr(log, needle))
			fprintf(stderr, "%s: pieces of %zu: %s\n", name, chunk, log);
		CHECK_HAS(log, needle);
	}
}

/* DATA as postfix reads it (white space anywhere around the verb, CR runs, any case),
 * content sent at once: read as content */
static void test_data_spellings(void)
{
	static const char *const spell[] = {
		" DATA\r\n",
		"\tDATA\r\n",
		"\vDATA\r\n",
		"\fDATA\r\n",
		"\rDATA\r\n",
		"DATA\r\r\r\n",
		"DATA \t\v\f\r\n",
		"dAtA\r\n",
		"DATA\n",
		" \t data \t \n",
		"DATA\r\r\n",
		/* longer than the parser keeps (64 here): postfix reads DATA */
		"DATA                                                                      "
		"          \r\n",
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(spell) / sizeof(spell[0]); i++) {
		const struct step st[] = { GREET, EHLO, ENV, C(spell[i]), C("evil\r\n.\r\n"), END };

		snprintf(buf, sizeof(buf), "DATA spelling %zu", i);
		smtp_free(check(buf, st, "M(evil\r\n);", 1 << 20));
	}
}

/* a line past exim's 16384 bytes: its last piece is a command of its own to exim */
static void test_huge_line(void)
{
	size_t n = 16385, i;
	char *big = malloc(n + 16);
	struct smtp *p;

	for (i = 0; i < n; i++)
		big[i] = 'X';
	strcpy(big + n, "DATA\r\n");
	{
		const struct step st[] = { GREET, EHLO, ENV, C(big), C("evil\r\n.\r\n"), END };

		p = check("exim piece", st, "M(evil\r\n);", 1 << 20);
		CHECK_INT(smtp_counters(p)->long_lines, 1);
		smtp_free(p);
	}
	/* exim's extra reply for it does not make the next DATA look refused */
	big[n] = '\0';
	strcat(big, "\r\n");
	{
		const struct step st[] = { GREET,
					   ENV,
					   C(big),
					   S("500 too long\r\n500 what\r\n"),
					   C("DATA\r\n"),
					   S("354 go\r\n"),
					   C("evil\r\n.\r\n"),
					   END };

		smtp_free(check("exim replies", st, "M(evil\r\n);", 1 << 20));
	}
	free(big);
}

/* a NUL ends the line for postfix: DATA */
static void test_nul(void)
{
	static const char in[] = "DATA\0junk\r\nevil\r\n.\r\n";
	struct smtp *p = smtp_new(1 << 20, NULL, 64);
	struct smtp_event e;
	size_t i;
	int got = 0;

	smtp_push(p, SMTP_SERVER, (const uint8_t *)"220 hi\r\n", 8);
	for (i = 0; i < sizeof(in) - 1; i++) {
		smtp_push(p, SMTP_CLIENT, (const uint8_t *)in + i, 1);
		while (smtp_next(p, &e))
			got += e.len == 6 && !memcmp(e.msg, "evil\r\n", 6) && !e.candidate;
	}
	CHECK_INT(got, 1);
	smtp_free(p);
}

/* BDAT sizes and LAST as postfix or exim parse them */
static void test_bdat_spellings(void)
{
	static const char *const spell[] = {
		"BDAT\t5\tLAST\r\n",	    " BDAT 5 LAST\r\n",
		"BDAT 005 LAST\r\n",	    "bdat 5 last\r\n",
		"BDAT 5 LAST\r\r\n",	    "BDAT +5 LAST\r\n",
		"BDAT 5LAST\r\n",	    "BDAT\v5 LAST\r\n",
		"BDAT 4294967301 LAST\r\n", /* exim: modulo 2^32 */
		"BDAT 5 \t LaSt \r\n",
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(spell) / sizeof(spell[0]); i++) {
		const struct step st[] = { GREET, EHLO, ENV, C(spell[i]), C("evil!"), END };

		snprintf(buf, sizeof(buf), "BDAT spelling %zu", i);
		smtp_free(check(buf, st, "Mb(evil!);", 1 << 20));
	}
	{
		/* exim: a chunk, not the last one, whatever follows the size */
		const struct step st[] = {
			GREET, EHLO, ENV, C("BDAT 5 junk\r\nevil!"), C("BDAT 0 LAST\r\n"), END
		};

		smtp_free(check("BDAT junk", st, "Mb(evil!);", 1 << 20));
	}
	{
		/* malformed to every server: no chunk, the bytes are commands */
		const struct step st[] = {
			GREET, EHLO, ENV, C("BDAT x LAST\r\nDATA\r\n"), C("evil\r\n.\r\n"), END
		};

		smtp_free(check("BDAT malformed", st, "M(evil\r\n);", 1 << 20));
	}
}

/* a run of CRs after the dot ends DATA for postfix */
static void test_cr_runs(void)
{
	const struct step crlf[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C("evil\r\n.\r\r\n"), END
	};
	const struct step lf[] = {
		GREET, ENV, C("DATA\r\n"), S("354 go\r\n"), C("evil\n.\r\r\r\r\n"), END
	};

	smtp_free(check("CRLF.CRCRLF", crlf, "Mc(evil\r\n);", 1 << 20));
	smtp_free(check("LF.CRCRCRCRLF", lf, "Mc(evil\n);", 1 << 20));
}

/* RSET, HELO and EHLO between BDAT chunks start the message over */
static void test_bdat_restart(void)
{
	const struct step rset[] = { GREET,
				     EHLO,
				     ENV,
				     C("BDAT 3\r\nabc"),
				     S("250 ok\r\n"),
				     C("RSET\r\n"),
				     S("250 ok\r\n"),
				     ENV,
				     C("BDAT 2 LAST\r\nde"),
				     S("250 ok\r\n"),
				     END };
	const struct step ehlo[] = {
		GREET, EHLO, ENV, C("BDAT 3\r\nabc"), EHLO, ENV, C("BDAT 2 LAST\r\nde"), END
	};

	smtp_free(check("RSET in BDAT", rset, "Mcb(abcde);Mb(de);", 1 << 20));
	smtp_free(check("EHLO in BDAT", ehlo, "Mcb(abcde);Mb(de);", 1 << 20));
}

/* what a server reads as commands where this reading took content */
static void test_other_readings(void)
{
	/* DATA refused, and a BDAT transaction in what followed it at once */
	const struct step refused[] = {
		GREET,
		EHLO,
		C("MAIL FROM:<a@example.org>\r\n"),
		S("250 ok\r\n"),
		C("DATA\r\nMAIL FROM:<x@evil>\r\nRCPT TO:<b@example.org>\r\nBDAT 5 LAST\r\nevil!"),
		S("554 no valid recipients\r\n250 ok\r\n250 ok\r\n250 ok\r\n"),
		END,
	};
	/* no CHUNKING offered (HELO): exim and OpenSMTPD refuse BDAT, the chunk is commands */
	const struct step helo[] = {
		GREET,
		C("HELO client\r\n"),
		S("250 mx\r\n"),
		ENV,
		C("BDAT 50 LAST\r\nMAIL FROM:<x>\r\nRCPT "
		  "TO:<b@example.org>\r\nDATA\r\nevil\r\n.\r\n"),
		END,
	};
	/* a BDAT spelling only postfix takes: to exim it is an unknown command */
	const struct step lax[] = {
		GREET,
		EHLO,
		ENV,
		C("\tBDAT 50 LAST\r\nMAIL FROM:<x>\r\nRCPT "
		  "TO:<b@example.org>\r\nDATA\r\nevil\r\n.\r\n"),
		END,
	};
	/* the 354 rules the other reading out: content is not read twice */
	const struct step ok[] = {
		GREET, EHLO, ENV, C("DATA\r\n"), S("354 go\r\n"), C("DATA\r\nx\r\n.\r\n"), END
	};
	struct smtp *p;

	smtp_free(check("refused DATA, BDAT behind", refused, "Mcb(evil!);Mb(evil!);", 1 << 20));
	check_has("BDAT without CHUNKING", helo, "Mc(evil\r\n);");
	check_has("lax BDAT", lax, "Mc(evil\r\n);");
	p = check("DATA confirmed", ok, "M(DATA\r\nx\r\n);", 1 << 20);
	CHECK_INT(smtp_counters(p)->candidates, 0);
	smtp_free(p);
}

/* content sent before the 354 with lines that start with the word "data": to the other
 * reading they are DATA with an argument, which every server refuses: no reading more */
static void test_prose_data_lines(void)
{
	struct smtp *p = smtp_new(1 << 20, NULL, 64);
	struct smtp_event e;
	char body[2048] = "DATA\r\n";
	int i, limits = 0, msgs = 0;

	for (i = 0; i < 20; i++)
		strcat(body, "Data collected in the field\r\n");
	strcat(body, ".\r\n");
	smtp_push(p, SMTP_SERVER, (const uint8_t *)"220 hi\r\n", 8);
	smtp_push(p, SMTP_CLIENT, (const uint8_t *)body, strlen(body));
	while (smtp_next(p, &e)) {
		limits += e.type == SMTP_EV_LIMIT;
		msgs += e.type == SMTP_EV_MESSAGE && !e.candidate;
	}
	CHECK_INT(limits, 0);
	CHECK_INT(msgs, 1);
	CHECK_INT(smtp_counters(p)->readings, 1);
	smtp_free(p);
}

/* more ends in one push than events are kept: the last stands for the rest, as a limit
 * hit (on_limit: block) */
static void test_events_full(void)
{
	struct smtp *p = smtp_new(1 << 20, NULL, 64);
	struct smtp_event e, last;
	char body[1024] = "";
	int i, n = 0;

	for (i = 0; i < 80; i++)
		strcat(body, "x\n.\n");
	strcat(body, "\r\n.\r\n");
	smtp_push(p, SMTP_SERVER, (const uint8_t *)"220 hi\r\n", 8);
	smtp_push(p, SMTP_CLIENT, (const uint8_t *)"DATA\r\n", 6);
	smtp_push(p, SMTP_CLIENT, (const uint8_t *)body, strlen(body));
	memset(&last, 0, sizeof(last));
	while (smtp_next(p, &e)) {
		last = e;
		n++;
	}
	CHECK_INT(n, 64);
	CHECK_INT(last.type, SMTP_EV_LIMIT);
	CHECK(smtp_counters(p)->events_full > 0);
	smtp_free(p);
}

int main(void)
{
	test_memory();
	test_replies_owed();
	test_data();
	test_pipelining();
	test_data_without_waiting();
	test_refused_data_overflow();
	test_bdat();
	test_rset_and_transactions();
	test_starttls();
	test_ambiguous_ends();
	test_limits_and_garbage();
	test_data_spellings();
	test_huge_line();
	test_nul();
	test_bdat_spellings();
	test_cr_runs();
	test_bdat_restart();
	test_other_readings();
	test_events_full();
	test_prose_data_lines();
	return unit_report("test_smtp");
}
