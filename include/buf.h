/* A growable byte buffer. Pure. */
#ifndef MAILSCAN_BUF_H
#define MAILSCAN_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t len, cap;
};

/* Appends N bytes; -1 when memory runs out (the buffer is unchanged). */
int buf_put(struct buf *, const void *, size_t n);
void buf_free(struct buf *);

#endif
