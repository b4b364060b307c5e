/* Growable byte buffers: pure, libc only. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int buf_put(struct buf *b, const void *d, size_t n)
{
	if (!n)
		return 0;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
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
