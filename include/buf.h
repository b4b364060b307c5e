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

/* Collects a protocol line into B: at most MAX bytes are kept (*IS_LONG is set past
 * them), up to the LF. Returns how many bytes of D it consumed; *COMPLETE is set when
 * the line ended, and then B->p holds it without its line end as a string (unless
 * *IS_LONG: then the caller takes the line as unreadable). */
size_t buf_line(struct buf *, size_t max, int *is_long, const uint8_t *d, size_t n, int *complete);

#endif
