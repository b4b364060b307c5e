/* Differential fuzz target: random dialogues built from a grammar of spellings go to
 * mailscand's SMTP parser and to a small model of postfix 3.7's smtpd (its defaults),
 * written from its source: smtp_get() in smtp_stream.c (a line ends at LF within
 * line_length_limit, every CR before the LF stripped, a longer line read in 2048-byte
 * records), smtpd_token.c (tokens at white space) and smtpd.c (verbs without case,
 * DATA's end a "." record after a whole line, BDAT digits and LAST, malformed BDAT 521
 * and hang up, refused BDAT chunks read and discarded, unknown verbs that do not start
 * with a letter or look like a header hang up, 20 errors hang up). The model is the
 * server: its replies go back to the parser. It aborts when the model stores a message
 * that no event of the parser (a message, a candidate, or a limit hit, which blocks)
 * carried by the end of the push that completed it. Messages are compared by
 * the markers ("<Zn>") in them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IN_MAX	  8192
#define LINE_LIM  2048 /* line_length_limit */
#define MAX_MSGS  32
#define ERR_LIMIT 20 /* smtpd_hard_error_limit */

/* --- the model --- */

struct pfm {
	const uint8_t *in;
	size_t len, pos;
	int hangup, mail, rcpt, bdat, bdat_error, errors;
	uint64_t cur; /* markers of the message being received */
	char reply[16384];
	size_t rlen;
	uint64_t stored[MAX_MSGS]; /* markers of each stored message */
	size_t stored_end[MAX_MSGS];
	int nstored;
};

static uint64_t markers(const uint8_t *p, size_t n)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i + 3 < n; i++) {
		if (p[i] != '<' || p[i + 1] != 'Z')
			continue;
		if (p[i + 2] >= 'A' && p[i + 2] < 'A' + 60 && p[i + 3] == '>')
			m |= 1ULL << (p[i + 2] - 'A');
	}
	return m;
}

static void say(struct pfm *m, const char *r)
{
	size_t n = strlen(r);

	if (m->rlen + n < sizeof(m->reply)) {
		memcpy(m->reply + m->rlen, r, n);
		m->rlen += n;
	}
	if (!strncmp(r, "421", 3) || !strncmp(r, "521", 3) || !strncmp(r, "221", 3))
		m->hangup = 1;
}

/* smtp_get: 0 when more input is needed (nothing consumed); *COMPLETE for a whole line */
static int get_line(struct pfm *m, int skip, char *line, size_t *n, int *complete)
{
	size_t avail = m->len - m->pos, lim = avail < LINE_LIM ? avail : LINE_LIM, i, end;
	const uint8_t *p = m->in + m->pos;
	const uint8_t *lf = memchr(p, '\n', lim);

	if (lf) {
		*n = (size_t)(lf - p);
		*complete = 1;
		end = *n + 1;
	} else if (avail < LINE_LIM) {
		return 0;
	} else if (p[LINE_LIM - 1] == '\r') {
		/* stopped in the middle of CRLF: the next byte decides */
		if (avail == LINE_LIM)
			return 0;
		*complete = p[LINE_LIM] == '\n';
		*n = LINE_LIM;
		end = LINE_LIM + *complete;
	} else {
		*n = LINE_LIM;
		*complete = 0;
		end = LINE_LIM;
	}
	memcpy(line, p, *n);
	if (*complete)
		while (*n && line[*n - 1] == '\r')
			(*n)--;
	line[*n] = '\0';
	if (!*complete && skip) {
		const uint8_t *f = memchr(p + end, '\n', avail - end);

		if (!f)
			return 0;
		end = (size_t)(f - p) + 1;
	}
	m->pos += end;
	for (i = 0; i < *n; i++)
		if (!line[i])
			break; /* the rest of a C string */
	return 1;
}

static int is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* smtpd_token: tokens at white space; "from:" and "to:" end a token of their own */
static int tokens(const char *l, char **tok, int max)
{
	static char store_[LINE_LIM + 16];
	char *o = store_;
	int n = 0;

	while (n < max) {
		while (*l && is_space((unsigned char)*l))
			l++;
		if (!*l)
			break;
		tok[n++] = o;
		while (*l && !is_space((unsigned char)*l)) {
			*o++ = *l++;
			if (o[-1] == ':' &&
			    ((o - tok[n - 1] == 5 && !strncasecmp(tok[n - 1], "from:", 5)) ||
			     (o - tok[n - 1] == 3 && !strncasecmp(tok[n - 1], "to:", 3))))
				break;
		}
		*o++ = '\0';
	}
	return n;
}

static void store(struct pfm *m)
{
	if (m->nstored < MAX_MSGS) {
		m->stored[m->nstored] = m->cur;
		m->stored_end[m->nstored++] = m->pos;
	}
	say(m, "250 2.0.0 Ok: queued\r\n");
	m->mail = m->rcpt = m->bdat = m->bdat_error = 0;
	m->cur = 0;
}

static void mail_reset(struct pfm *m)
{
	m->mail = m->rcpt = m->bdat = m->bdat_error = 0;
	m->cur = 0;
}

/* DATA content up to the "." record; 0 when more input is needed */
static int data(struct pfm *m)
{
	static char line[LINE_LIM + 1];
	int prev_cont = 0, complete;
	size_t n;

	for (;;) {
		if (!get_line(m, 0, line, &n, &complete))
			return 0;
		if (!prev_cont && line[0] == '.') {
			if (n == 1 && complete)
				break;
			/* a stuffed dot, or a partial record ".xxx" */
			if (n == 1) {
				prev_cont = !complete;
				continue;
			}
		}
		m->cur |= markers((const uint8_t *)line, n);
		prev_cont = !complete;
	}
	store(m);
	return 1;
}

static int alldig(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* 0 when more input is needed */
static int bdat(struct pfm *m, int argc, char **tok)
{
	unsigned long long n;
	int last;

	if (argc < 2 || argc > 3 || !alldig(tok[1]) || strlen(tok[1]) > 18 ||
	    (argc == 3 && strcasecmp(tok[2], "LAST"))) {
		say(m, "521 5.5.4 Syntax: BDAT count [LAST]\r\n");
		return 1;
	}
	n = strtoull(tok[1], NULL, 10);
	last = argc == 3;
	if (m->len - m->pos < n)
		return 0;
	if ((n == 0 && !last) || m->bdat_error || (!m->bdat && !m->rcpt)) {
		/* skip_bdat: the chunk is read and thrown away */
		m->pos += n;
		m->errors++;
		say(m, "551 5.7.1 skipped\r\n");
		if (last)
			mail_reset(m);
		else
			m->bdat_error = 1;
		return 1;
	}
	m->bdat = 1;
	m->cur |= markers(m->in + m->pos, n);
	m->pos += n;
	if (last)
		store(m);
	else
		say(m, "250 2.0.0 Ok: chunk\r\n");
	return 1;
}

static int is_header(const char *t)
{
	size_t n = strlen(t);

	return n > 1 && t[n - 1] == ':' &&
	       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			 "vwxyz0123456789-") == n - 1;
}

static int valid_utf8(const unsigned char *s)
{
	for (; *s; s++) {
		int k = *s < 0x80	      ? 0
			: (*s & 0xe0) == 0xc0 ? 1
			: (*s & 0xf0) == 0xe0 ? 2
			: (*s & 0xf8) == 0xf0 ? 3
					      : -1;

		if (k < 0)
			return 0;
		for (; k; k--)
			if ((*++s & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

/* MAIL or RCPT: allowed when OK, then "KEY <address>"; 1 when accepted */
static int envelope(struct pfm *m, int ok, int argc, char **tok, const char *key,
		    const char *refused)
{
	if (!ok) {
		say(m, refused);
	} else if (argc < 3 || strcasecmp(tok[1], key)) {
		say(m, "501 5.5.4 Syntax\r\n");
	} else {
		say(m, "250 2.1.0 Ok\r\n");
		return 1;
	}
	m->errors++;
	return 0;
}

/* one command; 0 when more input is needed */
static int command(struct pfm *m)
{
	static char line[LINE_LIM + 1];
	char *tok[8];
	size_t n;
	int complete, argc;

	if (m->errors >= ERR_LIMIT) {
		say(m, "421 4.7.0 Error: too many errors\r\n");
		return 1;
	}
	if (!get_line(m, 1, line, &n, &complete))
		return 0;
	if (!valid_utf8((unsigned char *)line)) {
		say(m, "500 5.5.2 Error: bad UTF-8 syntax\r\n");
		m->errors++;
		return 1;
	}
	argc = tokens(line, tok, 8);
	if (!argc) {
		say(m, "500 5.5.2 Error: bad syntax\r\n");
		m->errors++;
	} else if (!strcasecmp(tok[0], "EHLO") || !strcasecmp(tok[0], "HELO")) {
		if (argc < 2) {
			say(m, "501 Syntax: EHLO hostname\r\n");
			m->errors++;
		} else {
			mail_reset(m);
			say(m, !strcasecmp(tok[0], "EHLO")
				       ? "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"
				       : "250 mx\r\n");
		}
	} else if (!strcasecmp(tok[0], "MAIL")) {
		if (envelope(m, !m->mail, argc, tok,
			     "FROM:", "503 5.5.1 Error: nested MAIL command\r\n"))
			m->mail = 1;
	} else if (!strcasecmp(tok[0], "RCPT")) {
		if (envelope(m, m->mail, argc, tok,
			     "TO:", "503 5.5.1 Error: need MAIL command\r\n"))
			m->rcpt++;
	} else if (!strcasecmp(tok[0], "DATA")) {
		if (m->bdat || !m->rcpt || argc != 1) {
			say(m, "503 5.5.1 Error: refused\r\n");
			m->errors++;
		} else {
			/* sent before the content is read */
			say(m, "354 End data with <CR><LF>.<CR><LF>\r\n");
			if (!data(m))
				return 0;
		}
	} else if (!strcasecmp(tok[0], "BDAT")) {
		if (!bdat(m, argc, tok))
			return 0;
	} else if (!strcasecmp(tok[0], "RSET")) {
		if (argc != 1) {
			say(m, "501 5.5.4 Syntax: RSET\r\n");
			m->errors++;
		} else {
			mail_reset(m);
			say(m, "250 2.0.0 Ok\r\n");
		}
	} else if (!strcasecmp(tok[0], "NOOP")) {
		say(m, "250 2.0.0 Ok\r\n");
	} else if (!strcasecmp(tok[0], "QUIT")) {
		say(m, "221 2.0.0 Bye\r\n");
	} else if (!strcasecmp(tok[0], "STARTTLS")) {
		say(m, "502 5.5.1 Error: command not implemented\r\n");
		m->errors++;
	} else if (!((tok[0][0] | 0x20) >= 'a' && (tok[0][0] | 0x20) <= 'z') || is_header(tok[0])) {
		say(m, "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n");
	} else {
		say(m, "500 5.5.2 Error: command not recognized\r\n");
		m->errors++;
	}
	return 1;
}

/* the model over the first LEN bytes of the client's stream, from the start */
static void pfm_run(struct pfm *m, const uint8_t *in, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->in = in;
	m->len = len;
	say(m, "220 mx ESMTP Postfix\r\n");
	while (!m->hangup && m->pos < m->len && command(m))
		;
}

/* --- the grammar --- */

static const char *const atoms[] = {
	"EHLO client\r\n",
	"HELO client\r\n",
	"MAIL FROM:<a@b>\r\n",
	"RCPT TO:<c@d>\r\n",
	"DATA\r\n",
	" DATA\r\n",
	"\tDATA\r\n",
	"DATA\r\r\n",
	"data \r\n",
	"\vDATA\v\r\n",
	"DATA x\r\n",
	"DATA\n",
	"RSET\r\n",
	"RSET x\r\n",
	"\tRSET\r\n",
	"NOOP\r\n",
	"XYZZY\r\n",
	"STARTTLS\r\n",
	"\xff\r\n",
	"BDAT",
	"\r\n",
	"\n",
	"\r",
	".\r\n",
	"\n.\n",
	".\r\r\n",
	"\r\n.\r\n",
	"..x\r\n",
	".x\r\n",
	"x",
	" ",
	"\t",
	"LAST",
	"last",
	"DATA",
	/* markers and sizes follow */
};
#define NATOMS	  (sizeof(atoms) / sizeof(atoms[0]))
#define A_MARK	  NATOMS
#define A_SIZE	  (NATOMS + 1)
#define A_SEGMENT (NATOMS + 2)
#define A_LONG	  (NATOMS + 3)
#define NCHOICES  (NATOMS + 4)

struct gen {
	uint8_t buf[IN_MAX];
	size_t len;
	size_t seg[512]; /* segment ends */
	int nseg, mark;
};

static void put(struct gen *g, const void *p, size_t n)
{
	if (g->len + n <= sizeof(g->buf)) {
		memcpy(g->buf + g->len, p, n);
		g->len += n;
	}
}

static void generate(struct gen *g, const uint8_t *data, size_t size)
{
	size_t i;
	char tmp[32];

	memset(g, 0, sizeof(*g));
	for (i = 0; i < size; i++) {
		unsigned int c = data[i] % NCHOICES;

		if (c < NATOMS) {
			put(g, atoms[c], strlen(atoms[c]));
		} else if (c == A_MARK) {
			snprintf(tmp, sizeof(tmp), "<Z%c>", 'A' + g->mark % 60);
			g->mark++;
			put(g, tmp, 4);
		} else if (c == A_SIZE && i + 1 < size) {
			snprintf(tmp, sizeof(tmp), " %u", data[++i] % 48);
			put(g, tmp, strlen(tmp));
		} else if (c == A_SEGMENT) {
			if (g->nseg < 511 && (!g->nseg || g->seg[g->nseg - 1] < g->len))
				g->seg[g->nseg++] = g->len;
		} else if (c == A_LONG && i + 1 < size) {
			/* a line around postfix's 2048 bytes */
			size_t n = 2040 + data[++i] % 16, k;

			for (k = 0; k < n && g->len < sizeof(g->buf); k++)
				g->buf[g->len++] = ' ';
		}
	}
	if (!g->nseg || g->seg[g->nseg - 1] < g->len)
		g->seg[g->nseg++] = g->len;
}

/* --- the differential --- */

static struct pfm model;
static struct gen gen;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_budget budget = { .cap = 1 << 20 };
	struct smtp *p = smtp_new(1 << 16, &budget, 4096);
	struct smtp_event e;
	uint64_t seen[4 * MAX_MSGS + 64];
	size_t nseen = 0, sent = 0, prev = 0;
	int s, k, j, checked = 0;

	generate(&gen, data, size);
	if (getenv("FUZZ_DUMP")) /* the dialogue, to look at a failing input */
		fwrite(gen.buf, 1, gen.len, stderr);
	pfm_run(&model, gen.buf, 0);
	smtp_push(p, SMTP_SERVER, (const uint8_t *)model.reply, model.rlen);
	sent = model.rlen;
	for (s = 0; s < gen.nseg; s++) {
		size_t end = gen.seg[s];

		smtp_push(p, SMTP_CLIENT, gen.buf + prev, end - prev);
		while (smtp_next(p, &e)) {
			if (nseen >= sizeof(seen) / sizeof(seen[0]))
				break;
			/* a limit hit blocks (on_limit's default): it covers everything */
			if (e.type == SMTP_EV_LIMIT)
				seen[nseen++] = UINT64_MAX;
			else if (e.type == SMTP_EV_MESSAGE)
				seen[nseen++] = markers(e.msg, e.len);
		}
		prev = end;
		pfm_run(&model, gen.buf, end);
		for (k = checked; k < model.nstored; k++) {
			int covered = !model.stored[k];

			for (j = 0; j < (int)nseen && !covered; j++)
				covered = (seen[j] & model.stored[k]) == model.stored[k];
			if (!covered) {
				fprintf(stderr,
					"postfix stored message %d (markers %llx, ended at %zu) "
					"that "
					"the parser never reported\n",
					k, (unsigned long long)model.stored[k],
					model.stored_end[k]);
				abort();
			}
		}
		checked = model.nstored;
		if (model.rlen > sent) {
			smtp_push(p, SMTP_SERVER, (const uint8_t *)model.reply + sent,
				  model.rlen - sent);
			while (smtp_next(p, &e))
				if (e.type == SMTP_EV_MESSAGE &&
				    nseen < sizeof(seen) / sizeof(seen[0]))
					seen[nseen++] = 0; /* too late: the segment was passed */
			sent = model.rlen;
		}
		if (model.hangup)
			break;
	}
	smtp_free(p);
	return 0;
}
