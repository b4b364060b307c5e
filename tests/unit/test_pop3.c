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

/* Candidates that only the connection's end would complete depend on where the bytes
 * pushed end: the dialogues log them apart (test_connection_end). */
static int log_eof;

static void log_events(struct pop3 *p, char *log, size_t cap)
{
	struct pop3_event e;

	while (pop3_next(p, &e)) {
		size_t n = strlen(log);

		if (e.type == POP3_EV_MESSAGE && e.eof != log_eof)
			continue;
		if (e.type == POP3_EV_STLS) {
			snprintf(log + n, cap - n, "STLS;");
			continue;
		}
		snprintf(log + n, cap - n, "%s%lu%s%s[%s](%.*s);", e.top ? "T" : "R", e.msgno,
			 e.candidate ? "c" : "", e.oversize ? "o" : "", e.user, (int)e.len,
			 (const char *)e.msg);
	}
}

static void *ops_new(size_t max_msg)
{
	return pop3_new(max_msg, NULL, 64);
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
	struct pop3 *p = check("auth", st, "R1[](x\r\n);", 1 << 20);

	CHECK_INT(pop3_counters(p)->unknown_commands, 0);
	CHECK_INT(pop3_counters(p)->commands, 4);
	pop3_free(p);
	pop3_free(check("apop", apop, "R3[bob](y\r\n);", 1 << 20));
	pop3_free(check("tabs", tabs, "R4[carol](w\r\n);", 1 << 20));
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

int main(void)
{
	test_memory();
	test_retr();
	test_stuffed_and_top();
	test_errors_and_pipelining();
	test_capa_auth_apop();
	test_stls();
	test_garbage_long_ambiguous();
	return unit_report("test_pop3");
}
