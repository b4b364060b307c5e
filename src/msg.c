/* Dot-stuffed message bodies: pure, libc only. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "msg.h"

/* line starts (after CRLF, bare LF, bare CR), inside a line, a CR inside a line, a dot
 * at a line start, a dot and a CR at a line start, a dot and more CRs (postfix strips
 * every CR before the LF: ".\r\r\n" ends its DATA) */
enum { D_BOL_CRLF, D_BOL_LF, D_BOL_CR, D_MID, D_CR, D_DOT, D_DOT_CR, D_DOT_CRS };

/* the heap store: what the reader uses when its user gives none */
static int heap_grow(struct msg_body *b, size_t need)
{
	return buf_grow(&b->p, &b->cap, need);
}

static void heap_drop(struct msg_body *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int heap_seal(struct msg_body *b, struct msg_body *done)
{
	if (!b->cap && heap_grow(b, 1))
		return -1; /* an empty message is somewhere too */
	*done = *b;
	done->fd = -1;
	b->p = NULL;
	b->len = b->cap = 0;
	return 0;
}

static const struct msg_store_ops heap_store = {
	.grow = heap_grow,
	.drop = heap_drop,
	.seal = heap_seal,
	.release = heap_drop,
};

void msg_reader_init(struct msg_reader *m, size_t max, struct msg_budget *budget,
		     const char *resume, int resume_prefix)
{
	memset(m, 0, sizeof(*m));
	m->max = max;
	m->budget = budget;
	m->store = budget && budget->store ? budget->store : &heap_store;
	m->resume = resume;
	m->resume_prefix = resume_prefix;
	m->resume_start = SIZE_MAX;
	m->body.fd = -1;
}

static void budget_release(struct msg_reader *m, size_t n)
{
	if (m->budget)
		m->budget->used -= n;
}

void msg_reader_trim(struct msg_reader *m, int keep_last)
{
	unsigned int i, n = keep_last && m->ndone ? m->ndone - 1 : m->ndone;

	for (i = 0; i < n; i++) {
		budget_release(m, m->done[i].len);
		m->store->release(&m->done[i]);
	}
	if (n && n < m->ndone)
		m->done[0] = m->done[m->ndone - 1];
	m->ndone -= n;
	if (!m->ndone) {
		m->sealed = 0;
		free(m->done); /* an idle session keeps no room for them */
		m->done = NULL;
	}
}

static void body_drop(struct msg_reader *m)
{
	budget_release(m, m->body.len);
	if (m->body.cap)
		m->store->drop(&m->body);
	m->body.len = 0;
}

void msg_reader_free(struct msg_reader *m)
{
	body_drop(m);
	msg_reader_trim(m, 0);
}

void msg_reader_reset(struct msg_reader *m)
{
	body_drop(m); /* an idle session keeps no body's worth of memory */
	m->sealed = 0;
	m->oversize = 0;
	m->ambiguous = 0;
	m->unconfirmed = 0;
	m->line_start = 0;
	m->resume_start = SIZE_MAX;
	m->state = D_BOL_CRLF;
}

size_t msg_reader_mem(const struct msg_reader *m)
{
	size_t n = m->body.cap + (m->done ? MSG_DONE_MAX * sizeof(*m->done) : 0);
	unsigned int i;

	for (i = 0; i < m->ndone; i++)
		n += m->done[i].len;
	return n;
}

const struct msg_body *msg_reader_done(const struct msg_reader *m, const uint8_t *msg, size_t len)
{
	unsigned int i;

	for (i = 0; i < m->ndone; i++)
		if (msg == m->done[i].p && len == m->done[i].len)
			return &m->done[i];
	return NULL;
}

const uint8_t *msg_reader_take(const struct msg_reader *m, const uint8_t *msg, size_t *n, int *fd,
			       uint8_t **copy)
{
	const struct msg_body *done = msg_reader_done(m, msg, *n);

	*fd = -1;
	if (done) {
		*fd = done->fd;
		return done->p;
	}
	*copy = malloc(*n ? *n : 1);
	if (!*copy)
		*n = 0;
	else if (*n)
		memcpy(*copy, msg, *n);
	return *copy;
}

/* An oversize body is never scanned: it stays a body. The finished message keeps its
 * place in the budget until msg_reader_trim. */
const struct msg_body *msg_reader_seal(struct msg_reader *m)
{
	size_t len = m->body.len;
	struct msg_body *d;

	if (m->oversize || m->ndone >= MSG_DONE_MAX)
		return &m->body;
	if (!m->done && !(m->done = malloc(MSG_DONE_MAX * sizeof(*m->done))))
		return &m->body;
	d = &m->done[m->ndone];
	if (m->store->seal(&m->body, d)) {
		m->oversize = 1; /* out of memory: not kept whole, never passed unscanned */
		budget_release(m, len - m->body.len); /* what the store lost */
		if (!m->ndone) {
			free(m->done);
			m->done = NULL;
		}
		return &m->body;
	}
	m->ndone++;
	m->sealed = 1;
	m->body.fd = -1;
	return d;
}

static int body_put(struct msg_reader *m, const uint8_t *d, size_t n)
{
	if (m->body.len + n > m->body.cap && m->store->grow(&m->body, m->body.len + n))
		return -1;
	memcpy(m->body.p + m->body.len, d, n);
	m->body.len += n;
	return 0;
}

static void put(struct msg_reader *m, const uint8_t *d, size_t n)
{
	if (m->oversize || !n)
		return;
	if (m->body.len + n > m->max) {
		n = m->max - m->body.len;
		m->oversize = 1;
	}
	if (m->budget && m->budget->used + n > m->budget->cap) {
		/* the thread's bodies are at their cap: this one cannot be kept whole */
		n = m->budget->cap > m->budget->used ? m->budget->cap - m->budget->used : 0;
		m->oversize = 1;
	}
	/* out of memory: the message cannot be kept whole, like an oversize one */
	if (n && body_put(m, d, n)) {
		m->oversize = 1;
		return;
	}
	if (m->budget)
		m->budget->used += n;
}

void msg_reader_raw(struct msg_reader *m, const uint8_t *d, size_t n)
{
	put(m, d, n);
}

static void put_byte(struct msg_reader *m, uint8_t c)
{
	put(m, &c, 1);
}

/* A content line ended: after an ambiguous end, a resuming line starts a candidate. */
static void line_end(struct msg_reader *m)
{
	const uint8_t *l = m->body.p + m->line_start;
	size_t n = m->body.len - m->line_start, r;

	if ((m->ambiguous || m->unconfirmed) && !m->oversize && m->resume) {
		r = strlen(m->resume);
		while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
			n--;
		if ((m->resume_prefix ? n >= r : n == r) &&
		    !strncasecmp((const char *)l, m->resume, r))
			m->resume_start = m->body.len;
	}
	m->line_start = m->body.len;
}

struct ctx {
	msg_end_fn fn;
	void *arg;
	int done;
};

static void end(struct msg_reader *m, struct ctx *x, int strict)
{
	const struct msg_body *b = &m->body;

	if (m->resume_start != SIZE_MAX && m->resume_start <= b->len)
		x->fn(x->arg, b->p + m->resume_start, b->len - m->resume_start, 1, 0);
	if (!strict) {
		m->bare_ends++;
		x->fn(x->arg, b->p, b->len, 1, m->oversize);
		return;
	}
	b = msg_reader_seal(m);
	x->fn(x->arg, b->p, b->len, 0, m->oversize);
	x->done = 1;
}

/* an ambiguous end: the strict reading goes on with the dot and line end as content */
static void ambiguous(struct msg_reader *m, struct ctx *x, size_t crs)
{
	size_t i;

	end(m, x, 0);
	m->ambiguous = 1;
	/* after CRLF the dot is a stuffed one to the strict reading: only postfix ends at a
	 * run of CRs */
	if (!(crs > 1 && m->dot_kind == D_BOL_CRLF))
		put_byte(m, '.');
	for (i = 0; i < crs; i++)
		put_byte(m, '\r');
	put_byte(m, '\n');
	line_end(m);
	m->state = crs ? D_BOL_CRLF : D_BOL_LF;
}

static void mid(struct msg_reader *m, uint8_t c)
{
	put_byte(m, c);
	if (c == '\r') {
		m->state = D_CR;
	} else if (c == '\n') {
		line_end(m);
		m->state = D_BOL_LF;
	} else {
		m->state = D_MID;
	}
}

static void byte(struct msg_reader *m, struct ctx *x, uint8_t c)
{
	switch (m->state) {
	case D_BOL_CRLF:
	case D_BOL_LF:
	case D_BOL_CR:
		if (c == '.') {
			m->dot_kind = m->state;
			m->state = D_DOT;
			return;
		}
		mid(m, c);
		return;
	case D_MID:
		mid(m, c);
		return;
	case D_CR:
		if (c == '\n') {
			put_byte(m, c);
			line_end(m);
			m->state = D_BOL_CRLF;
		} else if (c == '.') {
			/* a bare CR, then a dot: a line start to lax readers */
			m->dot_kind = D_BOL_CR;
			m->state = D_DOT;
		} else {
			mid(m, c);
		}
		return;
	case D_DOT:
		if (c == '\r')
			m->state = D_DOT_CR;
		else if (c == '\n')
			ambiguous(m, x, 0);
		else
			mid(m, c); /* dot-stuffing: the leading dot is dropped */
		return;
	case D_DOT_CR:
		if (c == '\n') {
			if (m->dot_kind == D_BOL_CRLF)
				end(m, x, 1);
			else
				ambiguous(m, x, 1);
			return;
		}
		if (c == '\r') {
			m->crs = 2;
			m->state = D_DOT_CRS;
			return;
		}
		/* ".\r" and something else: a stuffed dot, a CR, and the byte */
		put_byte(m, '\r');
		m->state = D_CR;
		byte(m, x, c);
		return;
	case D_DOT_CRS:
		if (c == '\r') {
			m->crs++;
			return;
		}
		if (c == '\n') {
			ambiguous(m, x, m->crs);
			m->crs = 0;
			return;
		}
		/* CRs inside a line after a stuffed dot */
		for (; m->crs; m->crs--)
			put_byte(m, '\r');
		m->state = D_CR;
		byte(m, x, c);
		return;
	}
}

/* the length of D's first run without CR or LF, 8 bytes at a time */
static size_t line_bytes(const uint8_t *d, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t j = 0;
	uint64_t x, cr, lf;

	for (; j + 8 <= n; j += 8) {
		memcpy(&x, d + j, 8);
		cr = x ^ (ones * '\r');
		lf = x ^ (ones * '\n');
		if ((((cr - ones) & ~cr) | ((lf - ones) & ~lf)) & highs)
			break;
	}
	while (j < n && d[j] != '\r' && d[j] != '\n')
		j++;
	return j;
}

/* Fast path inside a line: the run up to its CR or LF, and on over every CRLF whose next
 * line starts with an ordinary byte (neither a dot nor a line end), kept with one put.
 * Those lines' ends only move line_start, unless resuming lines are looked for. */
static size_t run(struct msg_reader *m, const uint8_t *d, size_t n)
{
	size_t j = 0, bol = 0, before = m->body.len;
	int whole = !m->ambiguous && !m->unconfirmed;

	for (;;) {
		j += line_bytes(d + j, n - j);
		if (!whole || j + 2 >= n || d[j] != '\r' || d[j + 1] != '\n' || d[j + 2] == '.' ||
		    d[j + 2] == '\r' || d[j + 2] == '\n')
			break;
		j += 2;
		bol = j;
	}
	put(m, d, j);
	if (bol)
		m->line_start = before + bol < m->body.len ? before + bol : m->body.len;
	return j;
}

size_t msg_reader_push(struct msg_reader *m, const uint8_t *d, size_t n, int *done, msg_end_fn fn,
		       void *arg)
{
	struct ctx x = { fn, arg, 0 };
	size_t i = 0;

	while (i < n && !x.done) {
		if (m->state == D_MID) {
			i += run(m, d + i, n - i);
			if (i == n)
				break;
		}
		m->at = d + i;
		byte(m, &x, d[i++]);
	}
	*done = x.done;
	return i;
}

void msg_reader_continue(struct msg_reader *m)
{
	/* the finished message is sealed: reading on starts from a copy of it */
	if (m->sealed) {
		const struct msg_body *d = &m->done[m->ndone - 1];

		m->sealed = 0;
		put(m, d->p, d->len);
	}
	put(m, (const uint8_t *)".\r\n", 3);
	m->line_start = m->body.len;
	m->state = D_BOL_CRLF;
}
