/* A growable byte buffer. Pure. */
#ifndef MAILSCAN_BUF_H
#define MAILSCAN_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *p;
	size_t len, cap;
};

/* Room for NEED bytes at *P (of *CAP), doubling from 256; -1 when memory runs out
 * (*P is unchanged). */
int buf_grow(uint8_t **p, size_t *cap, size_t need);
/* Appends N bytes; -1 when memory runs out (the buffer is unchanged). */
int buf_put(struct buf *, const void *, size_t n);
void buf_free(struct buf *);

/* Collects a protocol line into B: at most MAX bytes are kept (*IS_LONG is set past
 * them), up to the LF. Returns how many bytes of D it consumed; *COMPLETE is set when
 * the line ended, and then B->p holds it without its line end as a string (unless
 * *IS_LONG: then the caller takes the line as unreadable). */
size_t buf_line(struct buf *, size_t max, int *is_long, const uint8_t *d, size_t n, int *complete);

/* A queue of fixed-size entries (ESIZE bytes each, the same on every call): nothing is
 * allocated until the first entry, it grows by doubling up to MAX entries, and
 * fifo_trim gives an empty one back. */
struct fifo {
	uint8_t *p;
	unsigned int head, count, cap;
};

/* -1 when MAX entries are queued or memory runs out (the queue is unchanged). */
int fifo_push(struct fifo *, const void *e, size_t esize, unsigned int max);
/* Takes the oldest entry into E; 0 when empty. */
int fifo_pop(struct fifo *, void *e, size_t esize);
/* The oldest entry, or NULL. */
const void *fifo_peek(const struct fifo *, size_t esize);
void fifo_trim(struct fifo *);
void fifo_free(struct fifo *);

#endif
