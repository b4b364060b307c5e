/* SMTP push parser: pure, libc only. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "msg.h"
#include "log.h"
#include "smtp.h"

#define MAX_PENDING 256 /* commands awaiting a reply */
#define MAX_EVENTS  16
#define RAW_CAP	    65536 /* content kept until DATA is answered, to replay if refused */

enum cmode { C_CMD, C_DATA, C_BDAT, C_DONE };
enum pkind { P_OTHER, P_HELO, P_MAIL, P_RCPT, P_DATA, P_BDAT, P_STARTTLS };

struct smtp_events {
	struct smtp_event ev[MAX_EVENTS];
	uint8_t *buf[MAX_EVENTS];
};

struct smtp {
	size_t max_line;
	enum cmode cmode;
	struct buf line; /* client command line */
	int line_long;
	/* message content; after an ambiguous end, a DATA line resumes SMTP */
	struct msg_reader msg;
	int confirmed;	/* the server answered DATA with 354 */
	struct buf raw; /* content bytes before that answer */
	int raw_full;
	int bdat;
	uint64_t bdat_left;
	int bdat_last;
	/* commands awaiting replies (enum pkind, a byte each), oldest first */
	struct fifo pending;
	/* server replies */
	uint64_t replies; /* final reply lines so far (the banner included) */
	struct buf sline;
	int sline_long;
	/* envelope, for logs */
	char helo[128], from[256], rcpt[256];
	/* events and their buffers, allocated while there are any (until the next push
	 * or smtp_trim) */
	struct smtp_events *evq;
	unsigned int nev, evnext;
	struct smtp_counters cnt;
};

static const struct {
	const char *verb;
	enum pkind kind;
} commands[] = {
	{ "EHLO", P_HELO },  { "HELO", P_HELO },  { "LHLO", P_HELO },  { "MAIL", P_MAIL },
	{ "RCPT", P_RCPT },  { "DATA", P_DATA },  { "BDAT", P_BDAT },  { "STARTTLS", P_STARTTLS },
	{ "RSET", P_OTHER }, { "QUIT", P_OTHER }, { "NOOP", P_OTHER }, { "VRFY", P_OTHER },
	{ "EXPN", P_OTHER }, { "HELP", P_OTHER }, { "AUTH", P_OTHER },
};

struct smtp *smtp_new(size_t max_message, struct msg_budget *budget, size_t max_line)
{
	struct smtp *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max_line = max_line;
	msg_reader_init(&s->msg, max_message, budget, "DATA", 0);
	/* the banner is the first reply owed, before any command's */
	fifo_push(&s->pending, &(uint8_t){ P_OTHER }, 1, MAX_PENDING);
	return s;
}

static void events_clear(struct smtp *s)
{
	unsigned int i;

	for (i = 0; i < s->nev; i++)
		free(s->evq->buf[i]);
	free(s->evq);
	s->evq = NULL;
	s->nev = s->evnext = 0;
}

void smtp_trim(struct smtp *s)
{
	events_clear(s);
	fifo_trim(&s->pending);
	/* line buffers hold nothing between lines */
	if (!s->line.len)
		buf_free(&s->line);
	if (!s->sline.len)
		buf_free(&s->sline);
	if (!s->raw.len)
		buf_free(&s->raw);
}

uint64_t smtp_replies(const struct smtp *s)
{
	return s->replies;
}

uint64_t smtp_owed(const struct smtp *s)
{
	return s->replies + s->pending.count;
}

int smtp_busy(const struct smtp *s)
{
	return s->cmode == C_DATA || s->cmode == C_BDAT;
}

size_t smtp_mem(const struct smtp *s)
{
	return sizeof(*s) + (s->evq ? sizeof(*s->evq) : 0) + s->pending.cap + s->line.cap +
	       s->sline.cap + s->raw.cap + msg_reader_mem(&s->msg);
}

void smtp_free(struct smtp *s)
{
	if (!s)
		return;
	events_clear(s);
	buf_free(&s->line);
	msg_reader_free(&s->msg);
	buf_free(&s->raw);
	buf_free(&s->sline);
	fifo_free(&s->pending);
	free(s);
}

const struct smtp_counters *smtp_counters(struct smtp *s)
{
	s->cnt.bare_line_ends = s->msg.bare_ends;
	return &s->cnt;
}

int smtp_next(struct smtp *s, struct smtp_event *ev)
{
	if (s->evnext >= s->nev)
		return 0;
	*ev = s->evq->ev[s->evnext++];
	return 1;
}

static struct smtp_event *event_add(struct smtp *s, enum smtp_event_type t)
{
	struct smtp_event *e;

	if (s->nev >= MAX_EVENTS || (!s->evq && !(s->evq = calloc(1, sizeof(*s->evq)))))
		return NULL;
	e = &s->evq->ev[s->nev++];
	memset(e, 0, sizeof(*e));
	e->type = t;
	e->mail_from = s->from;
	e->rcpt_to = s->rcpt;
	e->helo = s->helo;
	return e;
}

/* a copy of a message (or candidate) as an event */
static void emit(void *arg, const uint8_t *msg, size_t n, int candidate, int oversize)
{
	struct smtp *s = arg;
	struct smtp_event *e = event_add(s, SMTP_EV_MESSAGE);

	if (!e)
		return;
	s->evq->buf[s->nev - 1] = malloc(n ? n : 1);
	if (!s->evq->buf[s->nev - 1])
		n = 0;
	else if (n)
		memcpy(s->evq->buf[s->nev - 1], msg, n);
	e->msg = s->evq->buf[s->nev - 1];
	e->len = n;
	e->oversize = oversize;
	e->candidate = candidate;
	e->bdat = s->bdat;
	e->end = s->msg.at;
	/* the commands still pending are answered first (a BDAT LAST only after it) */
	e->replies_before = s->replies + s->pending.count;
	if (s->bdat && e->replies_before > s->replies)
		e->replies_before--;
	if (candidate)
		s->cnt.candidates++;
	else
		s->cnt.messages++;
}

static void message_reset(struct smtp *s)
{
	msg_reader_reset(&s->msg);
	s->bdat = 0;
}

/* a whole message (the last BDAT chunk) */
static void message_done(struct smtp *s)
{
	emit(s, s->msg.body.p, s->msg.body.len, 0, s->msg.oversize);
	s->cnt.bdat_messages++;
	message_reset(s);
}

/* --- pending commands --- */

static void pending_push(struct smtp *s, enum pkind k)
{
	uint8_t e = (uint8_t)k;

	if (s->pending.count)
		s->cnt.pipelined++;
	/* a client this far ahead (or memory out) gets its replies matched loosely */
	fifo_push(&s->pending, &e, 1, MAX_PENDING);
}

static int pending_pop(struct smtp *s)
{
	uint8_t k;

	return fifo_pop(&s->pending, &k, 1) ? k : -1;
}

/* --- message content (DATA) --- */

/* Content bytes; returns how many were consumed (all, unless data ended). */
static size_t data_push(struct smtp *s, const uint8_t *d, size_t n)
{
	int done;
	size_t used = msg_reader_push(&s->msg, d, n, &done, emit, s);

	if (done) {
		message_reset(s);
		s->cmode = C_CMD;
		if (s->confirmed)
			s->raw.len = 0;
		/* the end of data is answered like a command */
		pending_push(s, P_OTHER);
	}
	return used;
}

/* --- commands --- */

/* the command's first argument, as a log field */
static void copy_arg(char *dst, size_t cap, const char *line, size_t skip)
{
	log_token(dst, cap, strlen(line) > skip ? line + skip : "");
}

#define WS " \t" /* servers separate and trail arguments with spaces or tabs */

static void command(struct smtp *s, char *line)
{
	size_t i, vlen, len = strlen(line);
	enum pkind k = P_OTHER;
	int known = 0;

	while (len && strchr(WS, line[len - 1]))
		line[--len] = '\0';
	vlen = strcspn(line, WS);

	s->cnt.commands++;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (vlen == strlen(commands[i].verb) &&
		    !strncasecmp(line, commands[i].verb, vlen)) {
			k = commands[i].kind;
			known = 1;
			break;
		}
	}
	if (!known)
		s->cnt.unknown_commands++;
	pending_push(s, k);
	switch (k) {
	case P_HELO:
		copy_arg(s->helo, sizeof(s->helo), line, 5);
		break;
	case P_MAIL:
		copy_arg(s->from, sizeof(s->from), line, 10);
		s->rcpt[0] = '\0';
		break;
	case P_RCPT:
		if (!s->rcpt[0])
			copy_arg(s->rcpt, sizeof(s->rcpt), line, 8);
		break;
	case P_DATA:
		/* content from here on, unless the server refuses DATA (replayed then):
		 * with an argument too, since only the server knows what it accepts */
		message_reset(s);
		s->cmode = C_DATA;
		s->confirmed = 0;
		/* until the 354, a DATA line in it may start a transaction of its own: when
		 * the server refuses this DATA and the content is too long to replay */
		s->msg.unconfirmed = 1;
		s->raw.len = 0;
		s->raw_full = 0;
		break;
	case P_BDAT: {
		char *end;
		const char *arg = line + vlen + strspn(line + vlen, WS);
		unsigned long long n;

		if (!isdigit((unsigned char)*arg))
			break;
		n = strtoull(arg, &end, 10);
		end += strspn(end, WS);
		if (*end && strcasecmp(end, "LAST"))
			break; /* malformed: a 501, and no chunk follows */
		if (!s->bdat)
			message_reset(s);
		s->bdat = 1;
		s->bdat_left = n;
		s->bdat_last = *end != '\0';
		s->cmode = C_BDAT;
		if (n == 0 && s->bdat_last) {
			s->msg.at = NULL;
			message_done(s);
			s->cmode = C_CMD;
		} else if (n == 0) {
			s->cmode = C_CMD;
		}
		break;
	}
	default:
		break;
	}
}

/* Command lines, up to the next mode change. A line ends at LF: servers take a bare LF
 * too. */
static size_t cmd_push(struct smtp *s, const uint8_t *d, size_t n)
{
	size_t i = 0;
	int done;

	while (i < n && s->cmode == C_CMD) {
		i += buf_line(&s->line, s->max_line, &s->line_long, d + i, n - i, &done);
		if (!done)
			break;
		if (s->line_long) {
			/* answered with an error by the server: still one command */
			s->cnt.long_lines++;
			command(s, (char[]){ "" });
		} else {
			command(s, (char *)s->line.p);
		}
		s->line.len = 0;
		s->line_long = 0;
	}
	return i;
}

static size_t bdat_push(struct smtp *s, const uint8_t *d, size_t n)
{
	size_t take = n < s->bdat_left ? n : (size_t)s->bdat_left;

	msg_reader_raw(&s->msg, d, take);
	s->msg.at = take ? d + take - 1 : NULL;
	s->bdat_left -= take;
	if (s->bdat_left == 0) {
		if (s->bdat_last)
			message_done(s);
		s->cmode = C_CMD;
	}
	return take;
}

static void client_push(struct smtp *s, const uint8_t *d, size_t n)
{
	while (n) {
		size_t used = 0;

		switch (s->cmode) {
		case C_CMD:
			used = cmd_push(s, d, n);
			break;
		case C_DATA:
			used = data_push(s, d, n);
			if (!s->confirmed && !s->raw_full) {
				if (s->raw.len + used > RAW_CAP)
					s->raw_full = 1;
				else
					buf_put(&s->raw, d, used);
			}
			break;
		case C_BDAT:
			used = bdat_push(s, d, n);
			break;
		case C_DONE:
			return;
		}
		d += used;
		n -= used;
	}
}

/* --- replies --- */

static void data_refused(struct smtp *s)
{
	struct buf raw = s->raw;

	s->cnt.data_refused++;
	if (s->cmode != C_DATA || s->raw_full)
		return;
	/* what we took for content was commands to the server: replay it as such */
	message_reset(s);
	s->cmode = C_CMD;
	memset(&s->raw, 0, sizeof(s->raw));
	client_push(s, raw.p, raw.len);
	free(raw.p);
}

static void reply(struct smtp *s, const char *line)
{
	int code, k;

	if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return;
	if (line[3] == '-')
		return; /* a continuation line */
	s->replies++;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	k = pending_pop(s);
	switch (k) {
	case P_MAIL:
		if (code / 100 == 2)
			s->cnt.transactions++;
		break;
	case P_DATA:
		if (code == 354) {
			s->confirmed = 1;
			s->msg.unconfirmed = 0;
		} else
			data_refused(s);
		break;
	case P_STARTTLS:
		if (code == 220) {
			event_add(s, SMTP_EV_STARTTLS);
			s->cmode = C_DONE;
		}
		break;
	default:
		break;
	}
}

static void server_push(struct smtp *s, const uint8_t *d, size_t n)
{
	size_t i = 0;
	int done;

	while (i < n && s->cmode != C_DONE) {
		i += buf_line(&s->sline, s->max_line, &s->sline_long, d + i, n - i, &done);
		if (!done)
			break;
		/* a reply's code is at its start: a long one is still read */
		if (s->sline.p)
			reply(s, (const char *)s->sline.p);
		s->sline.len = 0;
		s->sline_long = 0;
	}
}

int smtp_push(struct smtp *s, enum smtp_dir dir, const uint8_t *d, size_t n)
{
	events_clear(s);
	if (dir == SMTP_CLIENT)
		client_push(s, d, n);
	else
		server_push(s, d, n);
	return 0;
}
