/* POP3 push parser: pure, libc only. */
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

struct pop3 {
	size_t max_line;
	struct line cline, sline;
	struct fifo pending; /* struct pending, oldest first */
	int sasl;	     /* the server sent a SASL challenge: the next client line answers it */
	enum smode smode;
	struct pending cur; /* the command whose multi-line response is being read */
	struct msg_reader body;
	char user[128];
	int dele, quit;		 /* the last DELE's answer (1 +OK, -1 -ERR), QUIT answered */
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
}

void pop3_trim(struct pop3 *p)
{
	events_clear(p);
	if (p->smode != S_MULTI)
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
	e->user = p->user;
	return e;
}

static void emit(void *arg, const uint8_t *msg, size_t n, int candidate, int oversize)
{
	struct pop3 *p = arg;
	struct pop3_event *e;

	if (p->cur.kind != P_RETR && p->cur.kind != P_TOP)
		return; /* a listing, not a message */
	e = event_add(p, POP3_EV_MESSAGE);
	if (!e)
		return;
	p->evq->buf[p->nev - 1] = malloc(n ? n : 1);
	if (!p->evq->buf[p->nev - 1])
		n = 0;
	else if (n)
		memcpy(p->evq->buf[p->nev - 1], msg, n);
	e->msg = p->evq->buf[p->nev - 1];
	e->len = n;
	e->oversize = oversize;
	e->candidate = candidate;
	e->top = p->cur.kind == P_TOP;
	e->msgno = p->cur.arg;
	if (candidate)
		p->cnt.candidates++;
	else
		p->cnt.messages++;
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
	pending_push(p, e);
}

static void client_push(struct pop3 *p, const uint8_t *d, size_t n)
{
	size_t i = 0;
	int done;

	while (i < n && p->smode != S_DONE) {
		i += buf_line(&p->cline.b, p->max_line, &p->cline.is_long, d + i, n - i, &done);
		if (!done)
			break;
		if (p->cline.is_long)
			p->cnt.long_lines++; /* answered with an error: still one command */
		if (p->sasl)
			p->sasl = 0; /* a SASL response, not a command */
		else
			command(p, p->cline.is_long ? "" : (const char *)p->cline.b.p);
		p->cline.b.len = 0;
		p->cline.is_long = 0;
	}
}

static void status(struct pop3 *p, const char *line)
{
	const struct pending *first = fifo_peek(&p->pending, sizeof(*first));
	struct pending e;

	if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0') && first &&
	    first->kind == P_AUTH) {
		p->sasl = 1; /* a challenge: AUTH is still pending */
		return;
	}
	if (strncasecmp(line, "+OK", 3) && strncasecmp(line, "-ERR", 4))
		return; /* neither: not an answer a client acts on */
	if (!pending_pop(p, &e))
		return; /* the greeting */
	p->sasl = 0;
	if (e.kind == P_DELE)
		p->dele = line[0] == '+' ? 1 : -1;
	if (e.kind == P_QUIT)
		p->quit = 1;
	if (line[0] == '-') {
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
	if (e.multi) {
		p->cur = e;
		msg_reader_reset(&p->body);
		p->smode = S_MULTI;
	}
}

static void server_push(struct pop3 *p, const uint8_t *d, size_t n)
{
	size_t i = 0;
	int done;

	while (i < n) {
		switch (p->smode) {
		case S_MULTI:
			i += msg_reader_push(&p->body, d + i, n - i, &done, emit, p);
			if (done)
				p->smode = S_LINE;
			break;
		case S_LINE:
			i += buf_line(&p->sline.b, p->max_line, &p->sline.is_long, d + i, n - i,
				      &done);
			if (!done)
				break;
			if (p->sline.is_long)
				p->cnt.long_lines++;
			/* a status is at the line's start: a long one is still read */
			if (p->sline.b.p)
				status(p, (const char *)p->sline.b.p);
			p->sline.b.len = 0;
			p->sline.is_long = 0;
			break;
		case S_DONE:
			return;
		}
	}
}

int pop3_push(struct pop3 *p, enum pop3_dir dir, const uint8_t *d, size_t n)
{
	events_clear(p);
	if (dir == POP3_CLIENT)
		client_push(p, d, n);
	else
		server_push(p, d, n);
	return 0;
}
