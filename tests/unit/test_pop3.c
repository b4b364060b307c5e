/* POP3 parser: every dialogue fed whole, byte by byte and in small pieces; all must
 * report the same events. */
#include <stdlib.h>

#include "pop3.h"
#include "dialogue.h"

#define C(x)                                                                                       \
	{                                                                                          \
		POP3_CLIENT, x                                                                     \
	}
#define S(x)                                                                                       \
	{                                                                                          \
		POP3_SERVER, x                                                                     \
	}
#define END                                                                                        \
	{                                                                                          \
		POP3_CLIENT, NULL                                                                  \
	}

static void log_events(struct pop3 *p, char *log, size_t cap)
{
	struct pop3_event e;

	while (pop3_next(p, &e)) {
		size_t n = strlen(log);

		if (e.type == POP3_EV_STLS) {
			snprintf(log + n, cap - n, "STLS;");
			continue;
		}
		if (e.type == POP3_EV_BODY)
			continue; /* test_body_start */
		snprintf(log + n, cap - n, "%s%lu%s%s%s[%s](", e.top ? "T" : "R", e.msgno,
			 e.candidate ? "c" : "", e.eof ? "e" : "", e.oversize ? "o" : "", e.user);
		for (size_t i = 0; i < e.len && (n = strlen(log)) + 3 < cap; i++)
			snprintf(log + n, cap - n, "%s",
				 e.msg[i] ? (char[]){ (char)e.msg[i], 0 } : "\\0");
		n = strlen(log);
		snprintf(log + n, cap - n, ");");
	}
}

static void *ops_new(size_t max_msg)
{
	return pop3_new(max_msg, NULL, 64);
}

static void *ops_new4k(size_t max_msg)
{
	return pop3_new(max_msg, NULL, 4096);
}

static void ops_free(void *p)
{
	pop3_free(p);
}

static void ops_push(void *p, int dir, const uint8_t *d, size_t n)
{
	pop3_push(p, (enum pop3_dir)dir, d, n);
}

static void ops_log(void *p, char *log, size_t cap)
{
	log_events(p, log, cap);
}

static const struct dialogue_ops ops = { ops_new, ops_free, ops_push, ops_log };

static struct pop3 *check(const char *name, const struct step *st, const char *want, size_t max_msg)
{
	return dialogue_check(&ops, name, st, want, max_msg);
}

#define GREET S("+OK POP3 ready\r\n")
#define LOGIN C("USER alice\r\n"), S("+OK\r\n"), C("PASS secret\r\n"), S("+OK logged in\r\n")

static void test_retr(void)
{
	const struct step st[] = {
		GREET,
		LOGIN,
		C("STAT\r\n"),
		S("+OK 2 320\r\n"),
		C("LIST\r\n"),
		S("+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"),
		C("UIDL 1\r\n"),
		S("+OK 1 abc\r\n"),
		C("RETR 1\r\n"),
		S("+OK 120 octets\r\nSubject: one\r\n\r\nbody\r\n.\r\n"),
		C("DELE 1\r\n"),
		S("+OK deleted\r\n"),
		C("QUIT\r\n"),
		S("+OK bye\r\n"),
		END,
	};
	struct pop3 *p = check("retr", st, "R1[alice](Subject: one\r\n\r\nbody\r\n);", 1 << 20);

	CHECK_INT(pop3_counters(p)->retr, 1);
	CHECK_INT(pop3_counters(p)->messages, 1);
	CHECK_INT(pop3_counters(p)->commands, 8);
	CHECK_INT(pop3_counters(p)->unknown_commands, 0);
	pop3_free(p);
}

static void test_stuffed_and_top(void)
{
	/* a body line that is only ".." is a "." line; "..x" is ".x" */
	const struct step st[] = {
		GREET,
		LOGIN,
		C("RETR 2\r\n"),
		S("+OK\r\n..\r\n..x\r\nend\r\n.\r\n"),
		C("TOP 2 0\r\n"),
		S("+OK\r\nSubject: two\r\n\r\n.\r\n"),
		END,
	};
	struct pop3 *p =
		check("stuffed", st,
		      "R2[alice](.\r\n.x\r\nend\r\n);T2[alice](Subject: two\r\n\r\n);", 1 << 20);

	CHECK_INT(pop3_counters(p)->top, 1);
	pop3_free(p);
}

static void test_errors_and_pipelining(void)
{
	/* -ERR to RETR: single line, no body; pipelined RETRs answered in order */
	const struct step st[] = {
		GREET,
		LOGIN,
		C("RETR 9\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n"),
		S("-ERR no such message\r\n+OK\r\nfirst\r\n.\r\n+OK\r\nsecond\r\n.\r\n+OK bye\r\n"),
		END,
	};
	struct pop3 *p =
		check("pipelined", st, "R1[alice](first\r\n);R2[alice](second\r\n);", 1 << 20);

	CHECK_INT(pop3_counters(p)->errors, 1);
	CHECK_INT(pop3_counters(p)->pipelined, 3);
	pop3_free(p);
}

static void test_capa_auth_apop(void)
{
	/* AUTH with a SASL exchange: the client's answer is not a command */
	const struct step st[] = {
		GREET,
		C("CAPA\r\n"),
		S("+OK\r\nUSER\r\nSASL PLAIN\r\nSTLS\r\n.\r\n"),
		C("AUTH PLAIN\r\n"),
		S("+ \r\n"),
		C("AGJvYgBzZWNyZXQ=\r\n"),
		S("+OK welcome\r\n"),
		C("AUTH\r\n"),
		S("+OK\r\nPLAIN\r\n.\r\n"),
		C("RETR 1\r\n"),
		S("+OK\r\nx\r\n.\r\n"),
		END,
	};
	const struct step tabs[] = {
		GREET, C("USER\tcarol\r\n"), S("+OK\r\n"), C("RETR\t4\r\n"), S("+OK\r\nw\r\n.\r\n"),
		END
	};
	const struct step apop[] = { GREET,
				     C("APOP bob 0123456789abcdef\r\n"),
				     S("+OK\r\n"),
				     C("RETR 3\r\n"),
				     S("+OK\r\ny\r\n.\r\n"),
				     END };
	/* the user a SASL response names, for the logs (never the password) */
	const struct step login[] = { GREET,
				      C("AUTH LOGIN\r\n"),
				      S("+ VXNlcm5hbWU6\r\n"),
				      C("Y2Fyb2w=\r\n"),
				      S("+ UGFzc3dvcmQ6\r\n"),
				      C("c2VjcmV0\r\n"),
				      S("+OK\r\n"),
				      C("RETR 2\r\n"),
				      S("+OK\r\nz\r\n.\r\n"),
				      END };
	const struct step ir[] = { GREET,	    C("AUTH PLAIN AGRhdmUAcHc=\r\n"), S("+OK\r\n"),
				   C("RETR 5\r\n"), S("+OK\r\nv\r\n.\r\n"),	      END };
	const struct step authz[] = {
		GREET,		 C("AUTH PLAIN YWRtaW4AAHB3\r\n"), S("+OK\r\n"),
		C("RETR 6\r\n"), S("+OK\r\nu\r\n.\r\n"),	   END
	};
	struct pop3 *p = check("auth", st, "R1[bob](x\r\n);", 1 << 20);

	CHECK_INT(pop3_counters(p)->unknown_commands, 0);
	CHECK_INT(pop3_counters(p)->commands, 4);
	pop3_free(p);
	pop3_free(check("apop", apop, "R3[bob](y\r\n);", 1 << 20));
	pop3_free(check("tabs", tabs, "R4[carol](w\r\n);", 1 << 20));
	pop3_free(check("auth login", login, "R2[carol](z\r\n);", 1 << 20));
	pop3_free(check("auth plain ir", ir, "R5[dave](v\r\n);", 1 << 20));
	pop3_free(check("auth plain authzid", authz, "R6[admin](u\r\n);", 1 << 20));
}

static void test_stls(void)
{
	const struct step ok[] = { GREET, C("STLS\r\n"), S("+OK begin TLS\r\n"),
				   S("\x16\x03\x01 tls +OK\r\n.\r\n"), END };
	const struct step no[] = { GREET, C("STLS\r\n"),   S("-ERR not now\r\n"),
				   LOGIN, C("RETR 1\r\n"), S("+OK\r\nz\r\n.\r\n"),
				   END };

	pop3_free(check("stls", ok, "STLS;", 1 << 20));
	pop3_free(check("stls refused", no, "R1[alice](z\r\n);", 1 << 20));
}

static void test_garbage_long_ambiguous(void)
{
	const struct step garbage[] = {
		GREET,
		C("\x01\x02 junk\r\nXYZZY\r\n"),
		S("-ERR what\r\n-ERR what\r\n"),
		C("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r"
		  "\n"),
		S("-ERR too long\r\n"),
		LOGIN,
		C("RETR 1\r\n"),
		S("+OK\r\nvirus\r\n.\r\n"),
		END,
	};
	const struct step amb[] = { GREET, LOGIN, C("RETR 1\r\n"),
				    S("+OK\r\na\n.\n+OK\r\nb\r\n.\r\n"), END };
	const struct step big[] = { GREET, LOGIN, C("RETR 1\r\n"),
				    S("+OK\r\n0123456789abcdef\r\n.\r\n"), END };
	struct pop3 *p;

	p = check("garbage", garbage, "R1[alice](virus\r\n);", 1 << 20);
	CHECK_INT(pop3_counters(p)->unknown_commands, 3);
	CHECK_INT(pop3_counters(p)->long_lines, 1);
	pop3_free(p);
	p = check("ambiguous", amb,
		  "R1c[alice](a\n);R1c[alice](b\r\n);R1[alice](a\n.\n+OK\r\nb\r\n);", 1 << 20);
	CHECK_INT(pop3_counters(p)->bare_line_ends, 1);
	pop3_free(p);
	pop3_free(check("oversize", big, "R1o[alice](0123456789);", 10));
}

/* the status lines the clients take as positive: any '+' line (poplib), CR '+'
 * (poplib strips the CR of a line not ending in CRLF); lines that are neither "+..."
 * nor "-ERR" are skipped, as curl skips them */
static void test_status_spellings(void)
{
	static const char *const yes[] = {
		"+\r\n",	   "+ok\r\n",	      "+OKAY\r\n",
		"+ more\r\n",	   "\r+OK\n",	      "+\tx\r\n",
		"-err\r\n+OK\r\n", " +OK\r\n+OK\r\n", "-Err\r\nnoise\r\n+\r\n"
	};
	static char srv[sizeof(yes) / sizeof(yes[0])][128], name[64];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		const struct step st[] = { GREET, LOGIN, C("RETR 1\r\n"), S(srv[i]), END };

		snprintf(srv[i], sizeof(srv[i]), "%svirus\r\n.\r\n", yes[i]);
		snprintf(name, sizeof(name), "status %zu", i);
		pop3_free(check(name, st, "R1[alice](virus\r\n);", 1 << 20));
	}
}

/* a body after a status other than "+OK" is unconfirmed: a "+OK" line in it starts a
 * further candidate (for a client that skipped the first status) */
static void test_status_unconfirmed(void)
{
	const struct step st[] = { GREET, LOGIN, C("RETR 1\r\n"),
				   S("\r+x\nclean\r\n+OK\r\nvirus\r\n.\r\n"), END };
	const struct step err[] = { GREET,
				    LOGIN,
				    C("RETR 1\r\n"),
				    S("-ERR no\r\n"),
				    C("RETR 2\r\n"),
				    S("+OK\r\nv\r\n.\r\n"),
				    END };

	pop3_free(check("unconfirmed", st,
			"R1c[alice](virus\r\n);R1[alice](clean\r\n+OK\r\nvirus\r\n);", 1 << 20));
	pop3_free(check("-ERR as written", err, "R2[alice](v\r\n);", 1 << 20));
}

/* fetchmail reads a status line in pieces of 512 bytes: the rest is its body's first
 * line, scanned with the body */
static void test_status_long(void)
{
	static char srv[1024];
	const struct step st[] = { GREET, LOGIN, C("RETR 1\r\n"), S(srv), END };
	struct pop3 *p;

	memcpy(srv, "+OK ", 4);
	memset(srv + 4, 'x', 508);
	strcpy(srv + 512, "virus\r\nclean\r\n.\r\n");
	p = pop3_new(1 << 20, NULL, 4096);
	pop3_free(p);
	pop3_free(dialogue_check(&(struct dialogue_ops){ ops_new4k, ops_free, ops_push, ops_log },
				 "long status", st, "R1[alice](virus\r\nclean\r\n);", 1 << 20));
}

/* feeds RETR 1 and the server's SRV (N bytes, NULs allowed) whole, byte by byte and
 * in pieces of 2 to 8; each run must log WANT */
static void check_bin(const char *name, const char *pipelined, const uint8_t *srv, size_t n,
		      const char *want)
{
	static const char *const pre[] = { "+OK ready\r\n", "USER alice\r\n", "+OK\r\n",
					   "PASS x\r\n", "+OK\r\n" };
	static char log[65536];
	size_t chunk, i, off;

	for (chunk = 0; chunk < 9; chunk++) {
		struct pop3 *p = pop3_new(1 << 20, NULL, 4096);

		for (i = 0; i < 5; i++)
			pop3_push(p, i & 1 ? POP3_CLIENT : POP3_SERVER, (const uint8_t *)pre[i],
				  strlen(pre[i]));
		pop3_push(p, POP3_CLIENT, (const uint8_t *)pipelined, strlen(pipelined));
		log[0] = '\0';
		for (off = 0; off < n; off += chunk ? chunk : n) {
			pop3_push(p, POP3_SERVER, srv + off,
				  chunk && chunk < n - off ? chunk : n - off);
			log_events(p, log, sizeof(log));
		}
		if (strcmp(log, want))
			fprintf(stderr, "%s: pieces of %zu\n", name, chunk);
		CHECK_STR(log, want);
		pop3_free(p);
	}
}

#define BIN(s) (const uint8_t *)(s), sizeof(s) - 1

/* the ends of a body that lax clients read, each a candidate of the body before it */
static void test_end_spellings(void)
{
	/* mutt: a '.' line that is not ".."; mpop: "." and a NUL; both read whole lines,
	 * so the body through that line is a candidate too (POP3 whole releases it) */
	check_bin("dot x", "RETR 1\r\n", BIN("+OK\r\nvirus\r\n.x\r\nmore\r\n.\r\n"),
		  "R1c[alice](virus\r\n);R1c[alice](virus\r\nx\r);R1[alice](virus\r\nx\r\nmore\r\n)"
		  ";");
	check_bin("dot NUL", "RETR 1\r\n", BIN("+OK\r\nvirus\r\n.\0\r\nmore\r\n.\r\n"),
		  "R1c[alice](virus\r\n);R1c[alice](virus\r\n\\0\r);"
		  "R1[alice](virus\r\n\\0\r\nmore\r\n);");
	check_bin("dot CR x", "RETR 1\r\n", BIN("+OK\r\nvirus\r\n.\rx\r\n.\r\n"),
		  "R1c[alice](virus\r\n);R1c[alice](virus\r\n\rx\r);R1[alice](virus\r\n\rx\r\n);");
	check_bin("first line", "RETR 1\r\n", BIN("+OK\r\n. virus\r\n.\r\n"),
		  "R1c[alice]();R1c[alice]( virus\r);R1[alice]( virus\r\n);");
	/* fetchmail drops NULs from header lines (not from body lines) */
	check_bin("NUL dot header", "RETR 1\r\n",
		  BIN("+OK\r\nA: virus\r\n\0.\r\nB: c\r\n\r\n\0.\r\n.\r\n"),
		  "R1c[alice](A: virus\r\n\\0.\r);"
		  "R1[alice](A: virus\r\n\\0.\r\nB: c\r\n\r\n\\0.\r\n);");
	check_bin("NUL header end", "RETR 1\r\n", BIN("+OK\r\nA: virus\r\n\0\r\n\0.\r\n.\r\n"),
		  "R1[alice](A: virus\r\n\\0\r\n\\0.\r\n);");
	/* a standard body has none */
	check_bin("stuffed", "RETR 1\r\n", BIN("+OK\r\n..x\r\n..\r\n...\r\n.\r\n"),
		  "R1[alice](.x\r\n.\r\n..\r\n);");
}

/* fetchmail reads body lines in pieces of 8191 bytes, each a line to it */
static void test_end_long_line(void)
{
	static uint8_t srv[3 * 8191 + 64];
	static char want[2 * sizeof(srv)];
	size_t n, at, k;

	for (k = 1; k <= 2; k++) {
		n = strlen("+OK\r\nA: b\r\n\r\n");
		memcpy(srv, "+OK\r\nA: b\r\n\r\n", n);
		at = n;
		memset(srv + n, 'a', 8191 * k);
		n += 8191 * k;
		memcpy(srv + n, ".\r\nvirus\r\n.\r\n", 14);
		n += 14;
		snprintf(want, sizeof(want),
			 "R1c[alice](A: b\r\n\r\n%.*s.\r);R1[alice](A: "
			 "b\r\n\r\n%.*s.\r\nvirus\r\n);",
			 (int)(8191 * k), (const char *)srv + at, (int)(8191 * k),
			 (const char *)srv + at);
		check_bin("long line", "RETR 1\r\n", srv, n, want);
	}
	/* not at a piece's end: no end to fetchmail */
	memset(srv + 13, 'a', 8190);
	memcpy(srv + 13 + 8190, ".\r\n.\r\n", 6);
	snprintf(want, sizeof(want), "R1[alice](A: b\r\n\r\n%.*s.\r\n);", 8190,
		 (const char *)srv + 13);
	check_bin("long line, elsewhere", "RETR 1\r\n", srv, 13 + 8190 + 6, want);
}

/* curl reads on past CRLF.CRLF to the end of its read: with no command pending, every
 * further end is a candidate of the whole, until the client speaks */
static void test_end_curl(void)
{
	const struct step after[] = { GREET,
				      C("RETR 1\r\n"),
				      S("+OK\r\nclean\r\n.\r\n"),
				      S("virus\r\n.\r\n"),
				      S("more\r\n.\r\n"),
				      C("QUIT\r\n"),
				      S("+OK\r\nx\r\n.\r\n"),
				      END };
	const struct step piped[] = { GREET, C("RETR 1\r\nQUIT\r\n"),
				      S("+OK\r\nclean\r\n.\r\n+OK bye\r\nvirus\r\n.\r\n"), END };

	pop3_free(check("curl", after,
			"R1[](clean\r\n);R1c[](clean\r\n.\r\nvirus\r\n);"
			"R1c[](clean\r\n.\r\nvirus\r\n.\r\nmore\r\n);",
			1 << 20));
	pop3_free(check("curl, pipelined", piped, "R1[](clean\r\n);", 1 << 20));
}

/* the server's FIN inside a body: curl keeps what it has read, poplib a last ".x" line,
 * mpop a last "."; after the end only curl's reading on is left */
static void test_end_connection(void)
{
	static const char *const cases[][2] = {
		{ "+OK\r\nvirus\r\n", "R1ce[](virus\r\n);" },
		{ "+OK\r\nvirus\r\n..", "R1ce[](virus\r\n.);" },
		{ "+OK\r\nvir", "R1ce[](vir);" },
		{ "+OK\r\nclean\r\n.\r\n", "R1[](clean\r\n);" },
		{ "+OK\r\nclean\r\n.\r\nvir", "R1[](clean\r\n);R1ce[](clean\r\n.\r\nvir);" },
	};
	static char log[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct step st[] = { GREET, C("RETR 1\r\n"), S(cases[i][0]), END };
		struct pop3 *p = dialogue_run(&ops, st, 0, log, sizeof(log), 1 << 20);

		pop3_close(p);
		log_events(p, log, sizeof(log));
		CHECK_STR(log, cases[i][1]);
		pop3_free(p);
	}
	{
		const struct step st[] = { GREET,	  C("RETR 1\r\n"), S("+OK\r\nx\r\n.\r\n"),
					   C("QUIT\r\n"), S("+OK\r\n"),	   END };
		struct pop3 *p = dialogue_run(&ops, st, 0, log, sizeof(log), 1 << 20);

		pop3_close(p);
		log_events(p, log, sizeof(log));
		CHECK_STR(log, "R1[](x\r\n);");
		pop3_free(p);
	}
}

/* what a session holds: its structure when idle, the body while it is read */
static void test_memory(void)
{
	struct pop3 *p = pop3_new(1 << 20, NULL, 4096);
	struct pop3_event e;
	size_t idle = pop3_mem(p);
	static char body[2000];

	CHECK(idle < 1024);
	pop3_push(p, POP3_SERVER, (const uint8_t *)"+OK ready\r\n", strlen("+OK ready\r\n"));
	pop3_push(p, POP3_CLIENT, (const uint8_t *)"USER alice\r\nPASS x\r\nRETR 1\r\n",
		  strlen("USER alice\r\nPASS x\r\nRETR 1\r\n"));
	pop3_trim(p);
	CHECK(pop3_mem(p) > idle); /* three commands wait for their answers */
	pop3_push(p, POP3_SERVER, (const uint8_t *)"+OK\r\n+OK\r\n+OK 4000\r\n",
		  strlen("+OK\r\n+OK\r\n+OK 4000\r\n"));
	CHECK_INT(pop3_busy(p), 1);
	memset(body, 'y', sizeof(body));
	body[sizeof(body) - 2] = '\r';
	body[sizeof(body) - 1] = '\n';
	pop3_push(p, POP3_SERVER, (const uint8_t *)body, sizeof(body));
	pop3_push(p, POP3_SERVER, (const uint8_t *)body, sizeof(body));
	pop3_trim(p);
	CHECK(pop3_mem(p) >= idle + 2 * sizeof(body));
	pop3_push(p, POP3_SERVER, (const uint8_t *)".\r\n", strlen(".\r\n"));
	CHECK_INT(pop3_next(p, &e), 1);
	CHECK_INT(pop3_busy(p), 0);
	pop3_trim(p);
	/* kept for curl's reading until the client speaks again */
	CHECK(pop3_mem(p) >= idle + 2 * sizeof(body));
	pop3_push(p, POP3_CLIENT, (const uint8_t *)"QUIT\r\n", strlen("QUIT\r\n"));
	pop3_push(p, POP3_SERVER, (const uint8_t *)"+OK\r\n", strlen("+OK\r\n"));
	pop3_trim(p);
	CHECK_INT(pop3_mem(p), idle);
	pop3_free(p);
}

/* Where each RETR and TOP body starts in the server's stream, however the stream is cut
 * into pushes: after the +OK line, never for a listing or an error; each message that
 * ends says where its own body started. */
static void test_body_start(void)
{
	static const char cli[] = "USER a\r\nPASS b\r\nLIST\r\nRETR 1\r\nRETR 9\r\nTOP 2 0\r\n";
	static const char srv[] =
		"+OK hi\r\n+OK\r\n+OK\r\n+OK 2\r\n1 10\r\n.\r\n"
		"+OK 10 octets\r\nbody\r\n.\r\n-ERR no\r\n+OK\r\nH: x\r\n\r\n.\r\n";
	const size_t want[] = { (size_t)(strstr(srv, "body") - srv),
				(size_t)(strstr(srv, "H: x") - srv) };
	size_t n = strlen(srv);

	for (size_t k = 1; k <= n; k++) {
		struct pop3 *p = pop3_new(1 << 20, NULL, 256);
		struct pop3_event e;
		size_t got[4], ngot = 0, top = 0, ends = 0;

		pop3_push(p, POP3_CLIENT, (const uint8_t *)cli, strlen(cli));
		for (size_t off = 0; off < n; off += k) {
			size_t len = n - off < k ? n - off : k;

			pop3_push(p, POP3_SERVER, (const uint8_t *)srv + off, len);
			while (pop3_next(p, &e)) {
				if (e.type == POP3_EV_MESSAGE) {
					/* each message ends after its ".CRLF" */
					CHECK(e.end > 0 && e.end <= len);
					CHECK(!memcmp(srv + off + e.end - 3, ".\r\n", 3));
					/* and its own body's start, where that is in the push (a
					 * second body in the push does not move the first's) */
					if (ends < 2 && e.started)
						CHECK_INT(off + e.start, want[ends]);
					else if (ends < 2)
						CHECK(want[ends] <= off);
					ends++;
				}
				if (e.type != POP3_EV_BODY)
					continue;
				CHECK(e.at <= len);
				if (ngot < 4)
					got[ngot++] = off + e.at;
				top += (size_t)e.top;
				CHECK_INT(e.msgno, ngot == 1 ? 1 : 2);
			}
		}
		CHECK_INT(ngot, 2);
		CHECK_INT(got[0], want[0]);
		CHECK_INT(got[1], want[1]);
		CHECK_INT(top, 1);
		CHECK_INT(ends, 2);
		pop3_free(p);
	}
}

/* A lax client's end (here a bare-LF ".") is reported where it ends in the push. */
static void test_candidate_end(void)
{
	static const char srv[] = "+OK\r\nSubject: x\n\nbody\n.\nmore\r\n";
	struct pop3 *p = pop3_new(1 << 20, NULL, 256);
	struct pop3_event e;
	size_t n = 0;

	pop3_push(p, POP3_CLIENT, (const uint8_t *)"RETR 1\r\n", 8);
	pop3_push(p, POP3_SERVER, (const uint8_t *)srv, strlen(srv));
	while (pop3_next(p, &e)) {
		if (e.type != POP3_EV_MESSAGE)
			continue;
		CHECK(e.candidate);
		CHECK_INT(e.end, strstr(srv, ".\nmore") - srv + 2);
		n++;
	}
	CHECK(n >= 1);
	pop3_close(p);
	while (pop3_next(p, &e))
		CHECK_INT(e.end, 0); /* at the close: no bytes */
	pop3_free(p);
}

int main(void)
{
	test_candidate_end();
	test_body_start();
	test_memory();
	test_retr();
	test_stuffed_and_top();
	test_errors_and_pipelining();
	test_capa_auth_apop();
	test_stls();
	test_garbage_long_ambiguous();
	test_status_spellings();
	test_status_unconfirmed();
	test_status_long();
	test_end_spellings();
	test_end_long_line();
	test_end_curl();
	test_end_connection();
	return unit_report("test_pop3");
}
