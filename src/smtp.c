/* SMTP push parser: pure, libc only.
 *
 * It reads as the servers read (their code is the reference: postfix 3.7, exim 4.96,
 * OpenSMTPD 6.8, see smtpcmd.h for command lines and msg.c for ends of data) and takes
 * the union of their readings:
 * - a command line's verb is postfix's first token (the widest reading); a line past
 *   the cap is read from its first bytes as postfix does, and exim's last piece of a
 *   line past 16384 bytes is a command too (its extra replies make the reply count
 *   loose: a DATA refusal is then not taken for certain);
 * - DATA's content is content; a server that refuses the DATA reads it as commands:
 *   that reading is followed by another parser from the DATA line on (it ends at the
 *   354, at the refusal once the content is replayed here, or when both read alike);
 * - BDAT's size and LAST are exim's where exim reads them, else postfix's; where only
 *   one of them sees LAST the chunk end is a candidate end; a BDAT without CHUNKING
 *   offered (exim and OpenSMTPD read its chunk as commands) or spelt so that not every
 *   server takes it is read as commands by another parser too;
 * - RSET, HELO and EHLO between BDAT chunks start the message over: the part after is
 *   the message, the whole a candidate;
 * - every end of data some server takes is a candidate end (msg.c).
 * What another reading completes is reported as a candidate, so its segment is held. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "msg.h"
#include "log.h"
#include "smtp.h"
#include "smtpcmd.h"

#define MAX_PENDING  256 /* commands awaiting a reply */
#define MAX_EVENTS   64
#define RAW_CAP	     65536 /* content kept until DATA is answered, to replay if refused */
#define MAX_READINGS 4	   /* other readings followed at once, per session */
#define NO_TAG	     UINT64_MAX

enum cmode { C_CMD, C_DATA, C_BDAT, C_DONE };
enum pkind { P_OTHER, P_HELO, P_MAIL, P_RCPT, P_DATA, P_BDAT, P_STARTTLS, P_RSET };

struct smtp_events {
	struct smtp_event ev[MAX_EVENTS];
	uint8_t *buf[MAX_EVENTS];
};

struct smtp {
	size_t max_line;
	enum cmode cmode;
	struct buf line; /* client command line */
	int line_long;
	struct smtpcmd_piece piece; /* its length, and exim's last piece of a huge one */
	const uint8_t *line_end;    /* after the line being read, in the pushed data */
	/* message content; after an ambiguous end, a DATA line resumes SMTP */
	struct msg_reader msg;
	int confirmed;	/* the server answered DATA with 354 */
	struct buf raw; /* content bytes before that answer */
	int raw_full;
	int bdat;
	uint64_t bdat_left;
	int bdat_last;	  /* 2: LAST to some servers only */
	size_t bdat_from; /* where RSET, HELO or EHLO started the message over */
	int chunking;	  /* the server offered CHUNKING in its last EHLO reply */
	int ehlo_chunking;
	/* Servers may read the client's bytes in another way than this reading follows:
	 * a DATA or BDAT they refuse (its bytes are commands then), a BDAT spelled so that
	 * only some take it, replies counted differently (a huge line). Each other reading
	 * is a parser of its own (in the root's list) fed the same bytes, whose messages
	 * are candidates; it ends when the server's reply rules it out or when it reads on
	 * exactly as this one. */
	struct smtp *root;
	struct smtp *reading[MAX_READINGS];
	uint64_t reading_tag[MAX_READINGS];	   /* the command whose reply decides */
	const uint8_t *reading_from[MAX_READINGS]; /* where it starts in this push */
	unsigned int nreadings;
	int is_reading;
	int replaying;
	int loose;		 /* replies may not match commands one to one */
	uint64_t pushed, popped; /* commands queued for replies, and replies matched */
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

struct smtp *smtp_new(size_t max_message, struct msg_budget *budget, size_t max_line)
{
	struct smtp *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max_line = max_line;
	s->root = s;
	msg_reader_init(&s->msg, max_message, budget, "DATA", 0);
	/* the banner is the first reply owed, before any command's */
	fifo_push(&s->pending, &(uint8_t){ P_OTHER }, 1, MAX_PENDING);
	s->pushed = 1;
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
	msg_reader_trim(&s->msg, 0); /* the messages the events borrowed */
}

void smtp_trim(struct smtp *s)
{
	unsigned int i;

	for (i = 0; i < s->nreadings; i++)
		smtp_trim(s->reading[i]);
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
	size_t n = sizeof(*s) + (s->evq ? sizeof(*s->evq) : 0) + s->pending.cap + s->line.cap +
		   s->sline.cap + s->raw.cap + msg_reader_mem(&s->msg);
	unsigned int i;

	for (i = 0; i < s->nreadings; i++)
		n += smtp_mem(s->reading[i]);
	return n;
}

void smtp_free(struct smtp *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->nreadings; i++)
		smtp_free(s->reading[i]);
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

	if (!s->evq && !(s->evq = calloc(1, sizeof(*s->evq))))
		return NULL;
	if (s->nev >= MAX_EVENTS) {
		/* more ends in one push than are kept: the last one stands for the rest,
		 * as a limit hit (on_limit decides) */
		e = &s->evq->ev[MAX_EVENTS - 1];
		free(s->evq->buf[MAX_EVENTS - 1]);
		s->evq->buf[MAX_EVENTS - 1] = NULL;
		memset(e, 0, sizeof(*e));
		e->type = SMTP_EV_LIMIT;
		e->mail_from = s->from;
		e->rcpt_to = s->rcpt;
		e->helo = s->helo;
		s->cnt.events_full++;
		return t == SMTP_EV_LIMIT ? e : NULL;
	}
	e = &s->evq->ev[s->nev++];
	memset(e, 0, sizeof(*e));
	e->type = t;
	e->mail_from = s->from;
	e->rcpt_to = s->rcpt;
	e->helo = s->helo;
	return e;
}

/* a message (or candidate) as an event */
static void event_message(struct smtp *s, const uint8_t *msg, size_t n, int candidate, int oversize,
			  int bdat, const uint8_t *end)
{
	struct smtp_event *e = event_add(s, SMTP_EV_MESSAGE);

	if (!e)
		return;
	e->msg = msg_reader_take(&s->msg, msg, &n, &e->fd, &s->evq->buf[s->nev - 1]);
	e->len = n;
	e->oversize = oversize;
	e->candidate = candidate;
	e->bdat = bdat;
	e->end = end;
	/* the commands still pending are answered first (a BDAT LAST only after it) */
	e->replies_before = s->replies + s->pending.count;
	if (bdat && e->replies_before > s->replies)
		e->replies_before--;
	if (candidate)
		s->cnt.candidates++;
	else
		s->cnt.messages++;
}

static void emit(void *arg, const uint8_t *msg, size_t n, int candidate, int oversize)
{
	struct smtp *s = arg;

	event_message(s, msg, n, candidate || s->is_reading, oversize, s->bdat, s->msg.at);
}

static void message_reset(struct smtp *s)
{
	msg_reader_reset(&s->msg);
	s->bdat = 0;
	s->bdat_from = 0;
}

/* the last BDAT chunk; after an RSET, HELO or EHLO in the middle, the message is what
 * followed it, and the whole is a candidate (a server that did not start over) */
static void message_done(struct smtp *s)
{
	const struct msg_body *b = &s->msg.body;

	if (s->bdat_from && s->bdat_from <= b->len) {
		emit(s, b->p, b->len, 1, s->msg.oversize);
		emit(s, b->p + s->bdat_from, b->len - s->bdat_from, 0, s->msg.oversize);
	} else {
		b = msg_reader_seal(&s->msg);
		emit(s, b->p, b->len, 0, s->msg.oversize);
	}
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
	if (fifo_push(&s->pending, &e, 1, MAX_PENDING))
		s->loose = 1;
	else
		s->pushed++;
}

static int pending_pop(struct smtp *s)
{
	uint8_t k;

	if (!fifo_pop(&s->pending, &k, 1))
		return -1;
	s->popped++;
	return k;
}

/* --- other readings --- */

/* Another reading of the bytes after the line just read: as commands. TAG: the command
 * whose reply may rule it out, or NO_TAG. */
static void reading_start(struct smtp *s, uint64_t tag)
{
	struct smtp *root = s->root, *r;
	unsigned int i = root->nreadings;

	if (s->replaying)
		return; /* bytes read again, late: the readings read them already */
	if (i >= MAX_READINGS || !(r = smtp_new(s->msg.max, s->msg.budget, s->max_line))) {
		/* no client needs this many at once: the limit policy decides */
		root->cnt.readings_full++;
		event_add(root, SMTP_EV_LIMIT);
		return;
	}
	r->root = root;
	r->is_reading = 1;
	r->chunking = s->chunking;
	/* a BDAT message in progress goes on in that reading */
	if (s->bdat) {
		r->bdat = 1;
		msg_reader_raw(&r->msg, s->msg.body.p, s->msg.body.len);
	}
	root->reading[i] = r;
	root->reading_tag[i] = tag;
	root->reading_from[i] = s->line_end;
	root->nreadings++;
	root->cnt.readings++;
}

static void reading_drop(struct smtp *s, unsigned int i)
{
	smtp_free(s->reading[i]);
	s->nreadings--;
	memmove(&s->reading[i], &s->reading[i + 1], (s->nreadings - i) * sizeof(s->reading[0]));
	memmove(&s->reading_tag[i], &s->reading_tag[i + 1],
		(s->nreadings - i) * sizeof(s->reading_tag[0]));
	memmove(&s->reading_from[i], &s->reading_from[i + 1],
		(s->nreadings - i) * sizeof(s->reading_from[0]));
}

/* the reply to command SEQ came: GONE when it rules out the reading it started */
static void reading_decided(struct smtp *s, uint64_t seq, int gone)
{
	unsigned int i;

	for (i = 0; i < s->nreadings; i++) {
		if (s->reading_tag[i] != seq)
			continue;
		/* replies that may not match their commands decide nothing */
		if (gone && !s->loose)
			reading_drop(s, i);
		else
			s->reading_tag[i] = NO_TAG;
		return;
	}
}

/* between commands, in no message: from here on two such readings read alike */
static int at_rest(const struct smtp *s)
{
	return s->cmode == C_CMD && !s->line.len && !s->line_long && !s->piece.total && !s->bdat;
}

static void client_push(struct smtp *s, const uint8_t *d, size_t n);

/* The readings read what the session read; their messages are candidates (an
 * oversize one is a whole message: its policy applies). */
static void readings_feed(struct smtp *s, const uint8_t *d, size_t n)
{
	struct smtp_event e;
	unsigned int i;

	for (i = 0; i < s->nreadings; i++) {
		struct smtp *r = s->reading[i];
		const uint8_t *from = s->reading_from[i];
		size_t off = from && from >= d && from <= d + n ? (size_t)(from - d) : 0;

		s->reading_from[i] = NULL;
		client_push(r, d + off, n - off);
		while (smtp_next(r, &e))
			if (e.type == SMTP_EV_MESSAGE)
				event_message(s, e.msg, e.len, !e.oversize, e.oversize, e.bdat,
					      e.end);
			else if (e.type == SMTP_EV_LIMIT)
				event_add(s, SMTP_EV_LIMIT);
		events_clear(r);
	}
	for (i = s->nreadings; i-- > 0;) {
		unsigned int j;
		int same = s->cmode == C_DONE || (at_rest(s->reading[i]) && at_rest(s));

		for (j = 0; j < i && !same; j++)
			same = at_rest(s->reading[i]) && at_rest(s->reading[j]);
		if (same)
			reading_drop(s, i);
	}
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

static const enum pkind kinds[] = {
	[SMTPCMD_NONE] = P_OTHER, [SMTPCMD_HELO] = P_HELO,	   [SMTPCMD_MAIL] = P_MAIL,
	[SMTPCMD_RCPT] = P_RCPT,  [SMTPCMD_DATA] = P_DATA,	   [SMTPCMD_BDAT] = P_BDAT,
	[SMTPCMD_RSET] = P_RSET,  [SMTPCMD_STARTTLS] = P_STARTTLS, [SMTPCMD_OTHER] = P_OTHER,
};

/* an argument as a log field, after its keyword (FROM:, TO:) if it has one */
static void copy_arg(char *dst, size_t cap, const char *arg, const char *key)
{
	size_t k = strlen(key);

	if (k && !strncasecmp(arg, key, k))
		arg += k + strspn(arg + k, " \t");
	log_token(dst, cap, arg);
}

/* RSET, HELO and EHLO start a BDAT message over (at every server that takes them) */
static void restart(struct smtp *s)
{
	if (s->bdat && s->msg.body.len)
		s->bdat_from = s->msg.body.len;
}

static void data_start(struct smtp *s, uint64_t seq)
{
	/* the server may refuse this DATA: its content is commands then */
	reading_start(s, seq);
	/* content from here on, unless the server refuses DATA (replayed then): with an
	 * argument too, since only the server knows what it accepts */
	message_reset(s);
	s->cmode = C_DATA;
	s->confirmed = 0;
	/* until the 354, a DATA line in it may start a transaction of its own */
	s->msg.unconfirmed = 1;
	s->raw.len = 0;
	s->raw_full = 0;
}

static void chunk_end(struct smtp *s)
{
	if (s->bdat_last == 1)
		message_done(s);
	else if (s->bdat_last == 2) /* LAST to some servers only: a candidate end */
		emit(s, s->msg.body.p, s->msg.body.len, 1, s->msg.oversize);
	s->cmode = C_CMD;
}

static void bdat_start(struct smtp *s, const struct smtpcmd *c, uint64_t seq)
{
	if (!c->chunk)
		return; /* malformed to every server: an error, and no chunk follows */
	/* a server that does not take it for BDAT (or offered no CHUNKING, as exim and
	 * OpenSMTPD then do) reads the chunk as commands */
	if (!c->strict || !s->chunking)
		reading_start(s, seq);
	if (!s->bdat)
		message_reset(s);
	s->bdat = 1;
	s->bdat_left = c->size;
	s->bdat_last = c->last;
	s->cmode = C_BDAT;
	if (!c->size) {
		s->msg.at = NULL;
		chunk_end(s);
	}
}

static void command(struct smtp *s, const struct smtpcmd *c)
{
	/* another reading gets no replies: a DATA every server refuses is no DATA there (the
	 * session itself reads on as content until the refusal, then replays) */
	enum pkind k = c->refused && s->is_reading ? P_OTHER : kinds[c->verb];
	uint64_t seq = s->pushed; /* the number of its reply */

	s->cnt.commands++;
	if (c->verb == SMTPCMD_NONE)
		s->cnt.unknown_commands++;
	pending_push(s, k);
	switch (k) {
	case P_HELO:
		copy_arg(s->helo, sizeof(s->helo), c->arg, "");
		restart(s);
		break;
	case P_RSET:
		restart(s);
		break;
	case P_MAIL:
		copy_arg(s->from, sizeof(s->from), c->arg, "FROM:");
		s->rcpt[0] = '\0';
		break;
	case P_RCPT:
		if (!s->rcpt[0])
			copy_arg(s->rcpt, sizeof(s->rcpt), c->arg, "TO:");
		break;
	case P_DATA:
		data_start(s, seq);
		break;
	case P_BDAT:
		bdat_start(s, c, seq);
		break;
	default:
		break;
	}
}

/* A command line ended: read as the servers read it (smtpcmd.h). */
static void line_done(struct smtp *s)
{
	struct smtpcmd c, ex;
	/* a line past max_line keeps its start (postfix reads its first 2048 bytes) */
	int ok = s->line.p && s->line.cap > s->line.len;
	char *line = ok ? (char *)s->line.p : (char[]){ "" };

	if (s->line_long)
		s->cnt.long_lines++;
	smtpcmd_parse(&c, line, ok ? s->line.len : 0, s->piece.total);
	if (smtpcmd_piece_parse(&s->piece, &ex)) {
		/* exim answers every 16385 bytes and reads the last piece as a command of its
		 * own: replies may not match commands from here on */
		s->loose = 1;
		if (c.verb != SMTPCMD_DATA && c.verb != SMTPCMD_BDAT &&
		    (ex.verb == SMTPCMD_DATA || ex.verb == SMTPCMD_BDAT))
			c = ex;
		c.strict = 0;
	}
	command(s, &c);
	s->line.len = 0;
	s->line_long = 0;
	memset(&s->piece, 0, sizeof(s->piece));
}

/* N command lines that no server reads as a verb: what command() does with each */
static void commands_unknown(struct smtp *s, uint64_t n)
{
	s->cnt.commands += n;
	s->cnt.unknown_commands += n;
	while (n && s->pending.count < MAX_PENDING) {
		pending_push(s, kinds[SMTPCMD_NONE]);
		n--;
	}
	/* the rest find the queue full: pipelined, and matched loosely */
	if (n) {
		s->cnt.pipelined += n;
		s->loose = 1;
	}
}

/* Whole lines in these bytes that no server reads as a verb (most lines of a stream
 * that is no SMTP): unknown commands, neither kept nor parsed. Returns the bytes they
 * take, their LFs included; the line after them is read in full. */
static size_t cmd_unknown(struct smtp *s, const uint8_t *d, size_t n)
{
	size_t max = s->max_line < SMTPCMD_EXIM_LINE ? s->max_line : SMTPCMD_EXIM_LINE, used;
	uint64_t lines;

	if (s->line.len || s->line_long || s->piece.total)
		return 0; /* a line begun in an earlier push */
	used = smtpcmd_none_lines(d, n, max, &lines);
	if (lines) {
		s->line_end = d + used;
		commands_unknown(s, lines);
	}
	return used;
}

/* Command lines, up to the next mode change. A line ends at LF: servers take a bare LF
 * too. */
static size_t cmd_push(struct smtp *s, const uint8_t *d, size_t n)
{
	size_t i = 0, used;
	int done;

	while (i < n && s->cmode == C_CMD) {
		used = cmd_unknown(s, d + i, n - i);
		if (used) {
			i += used;
			continue;
		}
		used = buf_line(&s->line, s->max_line, &s->line_long, d + i, n - i, &done);
		smtpcmd_piece_feed(&s->piece, d + i, used - (done ? 1 : 0));
		i += used;
		if (!done)
			break;
		s->line_end = d + i;
		line_done(s);
	}
	return i;
}

static size_t bdat_push(struct smtp *s, const uint8_t *d, size_t n)
{
	size_t take = n < s->bdat_left ? n : (size_t)s->bdat_left;

	msg_reader_raw(&s->msg, d, take);
	s->msg.at = take ? d + take - 1 : NULL;
	s->bdat_left -= take;
	if (s->bdat_left == 0)
		chunk_end(s);
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
			/* (the readings started at DATA read these bytes as commands) */
			if (!s->confirmed && !s->raw_full && !s->is_reading) {
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

/* DATA refused: returns 1 when what was taken for content is read again as commands */
static int data_refused(struct smtp *s)
{
	struct buf raw = s->raw;

	s->cnt.data_refused++;
	if (s->cmode != C_DATA || s->raw_full || s->loose)
		return 0;
	message_reset(s);
	s->cmode = C_CMD;
	memset(&s->raw, 0, sizeof(s->raw));
	s->replaying = 1;
	client_push(s, raw.p, raw.len);
	s->replaying = 0;
	free(raw.p);
	return 1;
}

/* an EHLO reply line offering CHUNKING */
static void ehlo_line(struct smtp *s, const char *line)
{
	const uint8_t *k = fifo_peek(&s->pending, 1);

	if (k && *k == P_HELO && strlen(line) >= 12 && !strncasecmp(line + 4, "CHUNKING", 8) &&
	    (!line[12] || line[12] == ' ' || line[12] == '\t'))
		s->ehlo_chunking = 1;
}

static void reply(struct smtp *s, const char *line)
{
	int code, k;
	uint64_t seq;

	if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return;
	ehlo_line(s, line);
	if (line[3] == '-')
		return; /* a continuation line */
	s->replies++;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	k = pending_pop(s);
	seq = s->popped - 1;
	switch (k) {
	case P_HELO:
		if (code / 100 == 2)
			s->chunking = s->ehlo_chunking;
		s->ehlo_chunking = 0;
		break;
	case P_MAIL:
		if (code / 100 == 2)
			s->cnt.transactions++;
		break;
	case P_DATA:
		if (code == 354) {
			s->confirmed = 1;
			s->msg.unconfirmed = 0;
			reading_decided(s, seq, 1);
		} else {
			reading_decided(s, seq, data_refused(s));
		}
		break;
	case P_BDAT:
		reading_decided(s, seq, code / 100 == 2);
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
	if (dir == SMTP_CLIENT) {
		client_push(s, d, n);
		readings_feed(s, d, n);
	} else {
		server_push(s, d, n);
	}
	return 0;
}
