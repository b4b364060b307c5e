/* Growable byte buffers: pure, libc only. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int buf_grow(uint8_t **p, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 256;
	uint8_t *q;

	while (c < need)
		c *= 2;
	q = realloc(*p, c);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

int buf_put(struct buf *b, const void *d, size_t n)
{
	if (!n)
		return 0;
	if (b->len + n > b->cap && buf_grow(&b->p, &b->cap, b->len + n))
		return -1;
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

size_t buf_line(struct buf *b, size_t max, int *is_long, const uint8_t *d, size_t n, int *complete)
{
	const uint8_t *lf = memchr(d, '\n', n);
	size_t take = lf ? (size_t)(lf - d) : n, keep = take;

	*complete = 0;
	if (b->len + keep > max) {
		keep = max > b->len ? max - b->len : 0;
		*is_long = 1;
	}
	if (buf_put(b, d, keep))
		*is_long = 1;
	if (!lf)
		return n;
	if (b->len && b->p[b->len - 1] == '\r')
		b->len--;
	if (buf_put(b, "", 1))
		*is_long = 1;
	else
		b->len--; /* the terminator is not part of the line */
	*complete = 1;
	return take + 1;
}

/* --- fifo --- */

#define FIFO_MIN 4

int fifo_push(struct fifo *f, const void *e, size_t esize, unsigned int max)
{
	if (f->count == f->cap) {
		unsigned int cap = f->cap ? f->cap * 2 : FIFO_MIN, first;
		uint8_t *p;

		if (f->count >= max)
			return -1;
		if (cap > max)
			cap = max;
		p = malloc((size_t)cap * esize);
		if (!p)
			return -1;
		/* linearise: the oldest entry goes first */
		first = f->cap - f->head < f->count ? f->cap - f->head : f->count;
		if (f->count) {
			memcpy(p, f->p + (size_t)f->head * esize, (size_t)first * esize);
			memcpy(p + (size_t)first * esize, f->p, (size_t)(f->count - first) * esize);
		}
		free(f->p);
		f->p = p;
		f->cap = cap;
		f->head = 0;
	}
	memcpy(f->p + (size_t)((f->head + f->count) % f->cap) * esize, e, esize);
	f->count++;
	return 0;
}

int fifo_pop(struct fifo *f, void *e, size_t esize)
{
	if (!f->count)
		return 0;
	memcpy(e, f->p + (size_t)f->head * esize, esize);
	f->head = (f->head + 1) % f->cap;
	f->count--;
	return 1;
}

const void *fifo_peek(const struct fifo *f, size_t esize)
{
	return f->count ? f->p + (size_t)f->head * esize : NULL;
}

void fifo_trim(struct fifo *f)
{
	if (!f->count)
		fifo_free(f);
}

void fifo_free(struct fifo *f)
{
	free(f->p);
	f->p = NULL;
	f->head = f->count = f->cap = 0;
}
