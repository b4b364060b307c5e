/* POP3 push parser: pure, libc only.
 *
 * The clients are the reference, not RFC 1939. What they read, from their source
 * (Debian 12: Python 3.11 poplib, which getmail6 6.18 uses; curl 7.88; fetchmail 6.4;
 * mpop 1.4; mutt 2.2), lines being the bytes up to a LF:
 *
 * The status line. poplib takes any line whose first byte is '+' as positive (a line
 * not ending in CRLF loses a leading CR first: "CR+x LF" is positive too), any other
 * as an error; over 2048 bytes it gives up (getmail6: 1 MiB). curl: "+OK" as written
 * is positive, "-ERR" negative, another '+' line a continuation (an error to RETR),
 * and any other line is skipped while it waits. fetchmail: "+OK" followed by a
 * non-letter, read in pieces of 512 bytes: past them the rest of the line is the
 * body's first line. mpop and mutt: "+OK" at the start. mailscand takes the union:
 * every '+' or CR '+' line is positive, only "-ERR" is negative and other lines are
 * skipped as curl skips them. A body after a status other than "+OK" is unconfirmed
 * (a "+OK" line in it starts a further candidate), and the rest of a status line past
 * 512 bytes is scanned as the start of its body.
 *
 * The end of the body. poplib: a line that is "." once its line end is stripped:
 * ".CRLF", ".LF", "CR.LF"; when the connection ends without a LF also ".x" and
 * "CR.x". curl: CRLF.CRLF, the status line's CRLF counted, but only where a read
 * ends: what follows in the same read is body, the terminator included. fetchmail:
 * ".CRLF" or ".LF"; NULs are removed from header lines first, and body lines are read
 * in pieces of 8191 bytes, each one a line to it. mpop: ".LF", ".CRLF", "." followed
 * by a NUL, and "." at the connection's end. mutt: any line that starts with '.' and
 * not "..". The dot-stuffed reader (msg.c) ends at CRLF.CRLF and reports the bare
 * LF/CR variants as candidates; the rest is read here from the raw lines (struct
 * rawline), and each is a candidate: the body so far, scanned while the segment that
 * completes it is held. curl takes a body cut by the connection's end as complete,
 * poplib and mpop their last line as above: the server's FIN inside a body makes the
 * body so far a candidate (pop3_close). After the standard end with no command
 * pending, the body goes on for curl until the client speaks again: every further
 * end is a candidate of the whole (a client that pipelines or sends its next command
 * has finished reading, and curl does neither).
 *
 * Dot-unstuffing. poplib and curl remove the first dot of "..", and keep ".x"; mpop,
 * mutt, fetchmail (delivering to an MDA) and mailscand remove a leading dot of any
 * other line. The readings differ by a dot at a line's start, which a signature
 * that does not span a line start cannot tell; every candidate holds the whole body
 * read so far, a superset of what any client stores at that end. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "msg.h"
#include "log.h"
#include "pop3.h"

#define MAX_PENDING 256
#define MAX_EVENTS  16
#define FM_STATUS   512	 /* fetchmail reads a status line in pieces of this size */
#define FM_PIECE    8191 /* and a body line in pieces of this size */

enum pkind {
	P_OTHER,
	P_USER,
	P_APOP,
	P_AUTH,
	P_LIST,
	P_UIDL,
	P_RETR,
	P_TOP,
	P_CAPA,
	P_STLS,
	P_DELE,
	P_QUIT
};
enum smode { S_LINE, S_MULTI, S_DONE };

struct pending {
	uint8_t kind;
	uint8_t multi; /* +OK starts a multi-line response */
	uint32_t arg;
};

struct pop3_events {
	struct pop3_event ev[MAX_EVENTS];
	uint8_t *buf[MAX_EVENTS];
};

struct line {
	struct buf b;
	int is_long;
};

/* The body's current line as the server sent it: what the lax clients' ends need. */
struct rawline {
	uint64_t len;	  /* its bytes so far */
	uint8_t head[3];  /* its first bytes */
	uint8_t tail[3];  /* its last bytes, the latest last */
	uint8_t nn;	  /* its bytes other than NUL, up to 4 */
	uint8_t nhead[4]; /* the first of them */
	uint8_t nul;	  /* it holds a NUL */
	uint8_t crs;	  /* nothing but CR, NUL and the LF in it so far */
	uint8_t body;	  /* past the end of the headers (as fetchmail reads them) */
	uint8_t dot;	  /* a mutt or mpop end started it: its LF is an end too */
};

struct pop3 {
	size_t max_line;
	struct line cline, sline;
	struct fifo pending; /* struct pending, oldest first */
	int sasl;	     /* the server sent a SASL challenge: the next client line answers it */
	enum smode smode;
	struct pending cur; /* the command whose multi-line response is being read */
	struct msg_reader body;
	struct rawline raw;
	int cont;	     /* after the end: 1 the body is kept for curl's reading, 2 read on */
	int in_cont;	     /* ends reported now are curl's, candidates */
	int eof;	     /* the candidate reported now completes only at the connection's end */
	size_t at;	     /* the server's bytes of this push read so far */
	const uint8_t *push; /* the server's bytes of this push (NULL: none, the close) */
	const uint8_t *end_at; /* while a lax end is reported: its last byte */
	size_t body_at;	       /* the body being read started here in this push, if body_here */
	int body_here;
	char user[128];
	int sasl_user;	/* the next SASL response names the user: SASL_PLAIN or SASL_LOGIN */
	int dele, quit; /* the last DELE's answer (1 +OK, -1 -ERR), QUIT answered */
	struct pop3_events *evq; /* while there are events: until the next push or trim */
	unsigned int nev, evnext;
	struct pop3_counters cnt;
};

/* commands as data: the kind, and whether +OK starts a multi-line response
 * (0: never, 1: always, 2: only without an argument) */
static const struct {
	const char *verb;
	enum pkind kind;
	int multi;
} commands[] = {
	{ "USER", P_USER, 0 }, { "PASS", P_OTHER, 0 }, { "APOP", P_APOP, 0 },
	{ "AUTH", P_AUTH, 2 }, { "STAT", P_OTHER, 0 }, { "LIST", P_LIST, 2 },
	{ "UIDL", P_UIDL, 2 }, { "RETR", P_RETR, 1 },  { "TOP", P_TOP, 1 },
	{ "DELE", P_DELE, 0 }, { "NOOP", P_OTHER, 0 }, { "RSET", P_OTHER, 0 },
	{ "QUIT", P_QUIT, 0 }, { "CAPA", P_CAPA, 1 },  { "STLS", P_STLS, 0 },
};

struct pop3 *pop3_new(size_t max_message, struct msg_budget *budget, size_t max_line)
{
	struct pop3 *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->max_line = max_line;
	/* after an ambiguous end, a +OK line starts what a lax client reads next */
	msg_reader_init(&p->body, max_message, budget, "+OK", 1);
	return p;
}

static void events_clear(struct pop3 *p)
{
	unsigned int i;

	for (i = 0; i < p->nev; i++)
		free(p->evq->buf[i]);
	free(p->evq);
	p->evq = NULL;
	p->nev = p->evnext = 0;
	/* the messages the events borrowed; curl may read on after the last one */
	msg_reader_trim(&p->body, p->cont == 1);
}

void pop3_trim(struct pop3 *p)
{
	events_clear(p);
	if (p->smode != S_MULTI && !p->cont)
		msg_reader_reset(&p->body); /* the last body was taken with its event */
	fifo_trim(&p->pending);
	if (!p->cline.b.len)
		buf_free(&p->cline.b);
	if (!p->sline.b.len)
		buf_free(&p->sline.b);
}

void pop3_mark(struct pop3 *p)
{
	p->dele = p->quit = 0;
}

int pop3_dele_result(const struct pop3 *p)
{
	return p->dele;
}

int pop3_quit_answered(const struct pop3 *p)
{
	return p->quit;
}

int pop3_busy(const struct pop3 *p)
{
	return p->smode == S_MULTI;
}

size_t pop3_mem(const struct pop3 *p)
{
	return sizeof(*p) + (p->evq ? sizeof(*p->evq) : 0) +
	       p->pending.cap * sizeof(struct pending) + p->cline.b.cap + p->sline.b.cap +
	       msg_reader_mem(&p->body);
}

void pop3_free(struct pop3 *p)
{
	if (!p)
		return;
	events_clear(p);
	buf_free(&p->cline.b);
	buf_free(&p->sline.b);
	fifo_free(&p->pending);
	msg_reader_free(&p->body);
	free(p);
}

const struct pop3_counters *pop3_counters(struct pop3 *p)
{
	p->cnt.bare_line_ends = p->body.bare_ends;
	return &p->cnt;
}

int pop3_next(struct pop3 *p, struct pop3_event *e)
{
	if (p->evnext >= p->nev)
		return 0;
	*e = p->evq->ev[p->evnext++];
	return 1;
}

static struct pop3_event *event_add(struct pop3 *p, enum pop3_event_type t)
{
	struct pop3_event *e;

	if (p->nev >= MAX_EVENTS || (!p->evq && !(p->evq = calloc(1, sizeof(*p->evq)))))
		return NULL;
	e = &p->evq->ev[p->nev++];
	memset(e, 0, sizeof(*e));
	e->type = t;
	e->fd = -1;
	e->user = p->user;
	return e;
}

static void emit(void *arg, const uint8_t *msg, size_t n, int candidate, int oversize)
{
	struct pop3 *p = arg;
	const uint8_t *last = p->end_at ? p->end_at : p->body.at;
	struct pop3_event *e;

	if (p->cur.kind != P_RETR && p->cur.kind != P_TOP)
		return; /* a listing, not a message */
	e = event_add(p, POP3_EV_MESSAGE);
	if (!e)
		return;
	e->msg = msg_reader_take(&p->body, msg, &n, &e->fd, &p->evq->buf[p->nev - 1]);
	e->len = n;
	e->oversize = oversize;
	candidate = candidate || p->in_cont;
	e->candidate = candidate;
	e->eof = p->eof;
	e->top = p->cur.kind == P_TOP;
	e->msgno = p->cur.arg;
	if (p->push && last >= p->push)
		e->end = (size_t)(last - p->push) + 1;
	if (p->push && p->body_here) {
		e->start = p->body_at;
		e->started = 1;
	}
	if (candidate)
		p->cnt.candidates++;
	else
		p->cnt.messages++;
}

/* The body read so far as a candidate message (EOF: only if the connection ends). */
static void candidate(struct pop3 *p, int eof)
{
	p->eof = eof;
	emit(p, p->body.body.p, p->body.body.len, 1, p->body.oversize);
	p->eof = 0;
}

static void raw_reset(struct rawline *r)
{
	uint8_t body = r->body;

	memset(r, 0, sizeof(*r));
	r->crs = 1;
	r->body = body;
}

/* Bytes of the current line (a LF only as the last). Header lines are looked at for
 * fetchmail: it drops their NULs. */
static void raw_take(struct rawline *r, const uint8_t *s, size_t n)
{
	size_t j;

	for (j = 0; j < n && r->len + j < sizeof(r->head); j++)
		r->head[r->len + j] = s[j];
	if (!r->body) {
		for (j = 0; j < n && r->nn < sizeof(r->nhead); j++)
			if (s[j])
				r->nhead[r->nn++] = s[j];
		r->nul = r->nul || memchr(s, 0, n);
		for (j = 0; r->crs && j < n; j++)
			r->crs = s[j] == '\r' || s[j] == '\n' || !s[j];
	}
	if (n >= sizeof(r->tail)) {
		memcpy(r->tail, s + n - sizeof(r->tail), sizeof(r->tail));
	} else {
		for (j = 0; j < n; j++) {
			memmove(r->tail, r->tail + 1, sizeof(r->tail) - 1);
			r->tail[sizeof(r->tail) - 1] = s[j];
		}
	}
	r->len += n;
}

/* mutt ends at a '.' line that is not "..", mpop at "." NUL: ".x", ".CR x" (the bare
 * line ends ".LF", ".CRLF" are the dot-stuffed reader's) */
static int raw_dot_end(const struct rawline *r)
{
	if (r->head[0] != '.')
		return 0;
	if (r->len == 2)
		return r->head[1] != '.' && r->head[1] != '\r' && r->head[1] != '\n';
	return r->len == 3 && r->head[1] == '\r' && r->head[2] != '\n';
}

/* The current line ended (its LF included): 1 where fetchmail's end is. */
static int raw_end(struct rawline *r)
{
	int hit = 0;

	if (!r->body) {
		if (r->crs)
			r->body = 1; /* "CR* LF", NULs aside: the end of the headers */
		else if (r->nul && r->head[0] != '.') /* a '.' first is raw_dot_end's */
			hit = (r->nn == 3 && !memcmp(r->nhead, ".\r\n", 3)) ||
			      (r->nn == 2 && !memcmp(r->nhead, ".\n", 2));
	} else if (r->len >= FM_PIECE + 2) {
		/* the last piece of a long line is the "." line */
		hit = (!memcmp(r->tail, ".\r\n", 3) && (r->len - 3) % FM_PIECE == 0) ||
		      (!memcmp(r->tail + 1, ".\n", 2) && (r->len - 2) % FM_PIECE == 0);
	}
	raw_reset(r);
	return hit;
}

/* Reads D up to the byte that completes a lax client's end (its index, the byte
 * taken), or all of it (N). Only a line's first bytes are taken one by one. */
static size_t raw_next(struct rawline *r, const uint8_t *d, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *lf = memchr(d + i, '\n', n - i);
		size_t end = lf ? (size_t)(lf - d) + 1 : n;

		/* the fast path: a whole body line that neither starts with a dot nor is
		 * long enough for fetchmail's pieces changes nothing */
		if (r->body && !r->len && lf && d[i] != '.' && end - i < FM_PIECE + 2) {
			i = end;
			continue;
		}

		while (i < end && r->len < sizeof(r->head)) {
			raw_take(r, d + i++, 1);
			if (raw_dot_end(r)) {
				r->dot = 1;
				return i - 1;
			}
		}
		raw_take(r, d + i, end - i);
		i = end;
		/* a client that reads whole lines has that end only with the line's LF: the
		 * body through that line is a candidate too */
		if (lf && (r->dot | raw_end(r))) {
			raw_reset(r);
			return end - 1;
		}
	}
	return n;
}

/* After the end, as curl reads on (the same bytes as the status lines). */
static void cont_feed(struct pop3 *p, const uint8_t *d, size_t n)
{
	size_t k;
	int done;

	if (!n)
		return;
	if (p->cont == 1)
		msg_reader_continue(&p->body);
	p->cont = 2;
	p->in_cont = 1;
	while (n) {
		k = msg_reader_push(&p->body, d, n, &done, emit, p);
		if (done)
			msg_reader_continue(&p->body);
		d += k;
		n -= k;
	}
	p->in_cont = 0;
}

static void pending_push(struct pop3 *p, struct pending e)
{
	if (p->pending.count)
		p->cnt.pipelined++;
	fifo_push(&p->pending, &e, sizeof(e), MAX_PENDING);
}

static int pending_pop(struct pop3 *p, struct pending *e)
{
	return fifo_pop(&p->pending, e, sizeof(*e));
}

enum { SASL_NONE, SASL_PLAIN, SASL_LOGIN };

/* base64 of S (up to a space or the end) into OUT: its length, or -1 */
static long b64_decode(const char *s, uint8_t *out, size_t cap)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *s && *s != ' ' && *s != '='; s++) {
		const char *c = strchr(al, *s);

		if (!c)
			return -1;
		acc = acc << 6 | (uint32_t)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	out[n] = '\0';
	return (long)n;
}

/* A SASL response that names the user (PLAIN: authzid NUL authcid NUL password; LOGIN:
 * the first one is the user name): the user, never the password. */
static void sasl_user(struct pop3 *p, int mech, const char *resp)
{
	uint8_t d[sizeof(p->user) * 2 + 1];
	long n = b64_decode(resp, d, sizeof(d));
	const char *u = (const char *)d;

	if (n <= 0)
		return;
	if (mech == SASL_PLAIN) {
		size_t z = strnlen(u, (size_t)n);

		if (z >= (size_t)n)
			return;
		if (d[z + 1]) /* the authentication identity, else the authorisation one */
			u += z + 1;
	}
	log_token(p->user, sizeof(p->user), u);
}

/* AUTH MECH [INITIAL-RESPONSE]: which response names the user */
static void auth_command(struct pop3 *p, const char *arg)
{
	size_t ml = strcspn(arg, " \t");
	const char *ir = arg + ml + strspn(arg + ml, " \t");
	int mech = ml == 5 && !strncasecmp(arg, "PLAIN", 5)   ? SASL_PLAIN
		   : ml == 5 && !strncasecmp(arg, "LOGIN", 5) ? SASL_LOGIN
							      : SASL_NONE;

	p->sasl_user = SASL_NONE;
	if (mech != SASL_NONE && *ir && strcmp(ir, "="))
		sasl_user(p, mech, ir);
	else
		p->sasl_user = mech;
}

static void command(struct pop3 *p, const char *line)
{
	size_t i, vlen = strcspn(line, " \t");
	const char *arg = line + vlen + strspn(line + vlen, " \t");
	struct pending e = { P_OTHER, 0, 0 };
	int known = 0;

	p->cnt.commands++;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (vlen == strlen(commands[i].verb) &&
		    !strncasecmp(line, commands[i].verb, vlen)) {
			e.kind = (uint8_t)commands[i].kind;
			e.multi = commands[i].multi == 1 || (commands[i].multi == 2 && !*arg);
			known = 1;
			break;
		}
	}
	if (!known)
		p->cnt.unknown_commands++;
	if (isdigit((unsigned char)*arg))
		e.arg = (uint32_t)strtoul(arg, NULL, 10);
	if (e.kind == P_USER || e.kind == P_APOP)
		log_token(p->user, sizeof(p->user), arg);
	if (e.kind == P_AUTH && *arg)
		auth_command(p, arg);
	pending_push(p, e);
}

static void client_push(struct pop3 *p, const uint8_t *d, size_t n)
{
	size_t i = 0;
	int done;

	if (n && p->cont) {
		p->cont = 0; /* the client has read the body to its end */
		msg_reader_reset(&p->body);
	}
	while (i < n && p->smode != S_DONE) {
		i += buf_line(&p->cline.b, p->max_line, &p->cline.is_long, d + i, n - i, &done);
		if (!done)
			break;
		if (p->cline.is_long)
			p->cnt.long_lines++; /* answered with an error: still one command */
		if (p->sasl) {
			p->sasl = 0; /* a SASL response, not a command */
			if (p->sasl_user && !p->cline.is_long)
				sasl_user(p, p->sasl_user, (const char *)p->cline.b.p);
			p->sasl_user = SASL_NONE;
		} else
			command(p, p->cline.is_long ? "" : (const char *)p->cline.b.p);
		p->cline.b.len = 0;
		p->cline.is_long = 0;
	}
}

/* A long status line's rest, past fetchmail's piece, is the start of its body. */
static void status_rest(struct pop3 *p, const char *line, size_t len, int is_long)
{
	if (len <= FM_STATUS)
		return;
	msg_reader_raw(&p->body, (const uint8_t *)line + FM_STATUS, len - FM_STATUS);
	msg_reader_raw(&p->body, (const uint8_t *)"\r\n", 2);
	if (is_long)
		p->body.oversize = 1; /* not all of it was kept */
}

static void status(struct pop3 *p, const char *line, size_t len, int is_long)
{
	const struct pending *first = fifo_peek(&p->pending, sizeof(*first));
	const char *l = line + (line[0] == '\r'); /* poplib drops a leading CR */
	int pos = l[0] == '+', neg = !strncmp(line, "-ERR", 4);
	struct pending e;

	if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0') && first &&
	    first->kind == P_AUTH) {
		p->sasl = 1; /* a challenge: AUTH is still pending */
		return;
	}
	if (!pos && !neg)
		return; /* neither: curl skips it while it waits for the status */
	if (!pending_pop(p, &e))
		return; /* the greeting */
	p->sasl = 0;
	if (e.kind == P_DELE)
		p->dele = pos ? 1 : -1;
	if (e.kind == P_QUIT)
		p->quit = 1;
	if (neg) {
		p->cnt.errors++;
		return;
	}
	if (e.kind == P_STLS) {
		event_add(p, POP3_EV_STLS);
		p->smode = S_DONE;
		return;
	}
	if (e.kind == P_RETR)
		p->cnt.retr++;
	if (e.kind == P_TOP)
		p->cnt.top++;
	if (e.multi && (e.kind == P_RETR || e.kind == P_TOP)) {
		struct pop3_event *b = event_add(p, POP3_EV_BODY);

		/* fetchmail's body starts inside a long status line: from its start */
		p->body_at = len > FM_STATUS ? 0 : p->at;
		p->body_here = 1;
		if (b) {
			b->at = p->body_at;
			b->top = e.kind == P_TOP;
			b->msgno = e.arg;
		}
	}
	if (e.multi) {
		p->cur = e;
		p->cont = 0;
		msg_reader_reset(&p->body);
		p->raw.body = 0;
		raw_reset(&p->raw);
		/* only poplib reads a body after this: a "+OK" line in it may start one */
		p->body.unconfirmed = l != line || strncmp(l, "+OK", 3);
		status_rest(p, line, len, is_long);
		p->smode = S_MULTI;
	}
}

/* Body bytes: the dot-stuffed reader, and where a lax client's end is, the body up to
 * there as a candidate. Returns the bytes the reader took (*DONE: its end). */
static size_t body_push(struct pop3 *p, const uint8_t *d, size_t n, int *done)
{
	size_t i = 0, ri = 0, h;

	for (;;) {
		h = ri < n ? ri + raw_next(&p->raw, d + ri, n - ri) : n;
		ri = h < n ? h + 1 : n;
		i += msg_reader_push(&p->body, d + i, h - i, done, emit, p);
		if (*done || h == n)
			return i;
		p->end_at = d + h;
		candidate(p, 0);
		p->end_at = NULL;
	}
}

static void server_push(struct pop3 *p, const uint8_t *d, size_t n)
{
	size_t i = 0;
	int done;

	if (p->smode == S_LINE && p->cont)
		cont_feed(p, d, n);
	while (i < n) {
		switch (p->smode) {
		case S_MULTI:
			i += body_push(p, d + i, n - i, &done);
			if (done) {
				p->smode = S_LINE;
				p->cont = !p->pending.count &&
					  (p->cur.kind == P_RETR || p->cur.kind == P_TOP);
				if (p->cont)
					cont_feed(p, d + i, n - i);
			}
			break;
		case S_LINE:
			i += buf_line(&p->sline.b, p->max_line, &p->sline.is_long, d + i, n - i,
				      &done);
			if (!done)
				break;
			if (p->sline.is_long)
				p->cnt.long_lines++;
			/* a status is at the line's start: a long one is still read */
			p->at = i;
			if (p->sline.b.p)
				status(p, (const char *)p->sline.b.p, p->sline.b.len,
				       p->sline.is_long);
			p->sline.b.len = 0;
			p->sline.is_long = 0;
			break;
		case S_DONE:
			return;
		}
	}
}

void pop3_close(struct pop3 *p)
{
	events_clear(p);
	p->push = NULL;
	/* curl takes what it has, poplib a last ".x" line, mpop a last "." */
	if (p->smode == S_MULTI || p->cont == 2)
		candidate(p, 1);
	p->smode = S_DONE;
}

int pop3_push(struct pop3 *p, enum pop3_dir dir, const uint8_t *d, size_t n)
{
	events_clear(p);
	if (dir == POP3_CLIENT) {
		client_push(p, d, n);
	} else {
		p->push = d;
		p->body_here = 0;
		server_push(p, d, n);
		p->push = NULL;
	}
	return 0;
}
