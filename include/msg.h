/* A dot-stuffed message body (SMTP DATA, a POP3 RETR/TOP response) read up to its end.
 * Pure. The standard end is CRLF.CRLF; the bare variants (LF.LF, LF.CRLF, CR.CRLF,
 * CRLF.LF) end it for lax receivers: each is reported as a candidate message, the
 * reading goes on, and a line that resumes the protocol after such an end (SMTP's DATA,
 * POP3's +OK) starts a further candidate: what a lax receiver takes for the next one.
 * A dot followed by a run of CRs and the LF is such an end too (postfix strips them).
 * The same holds while the caller marks the body unconfirmed. */
#ifndef MAILSCAN_MSG_H
#define MAILSCAN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Bytes that the message bodies of several readers may keep together (one thread's
 * flows); past it a body is treated as oversize. */
struct msg_budget {
	size_t used;
	size_t cap;
};

struct msg_reader {
	size_t max;		   /* bytes kept; the rest is counted as oversize */
	struct msg_budget *budget; /* NULL: only MAX applies */
	const char *resume;	   /* the resuming line: exactly this, or starting with it */
	int resume_prefix;
	int state, dot_kind;
	size_t crs; /* CRs after a dot at a line start */
	struct buf body;
	int oversize;
	int ambiguous;
	int unconfirmed; /* the receiver may not take this as a body: resuming lines count */
	size_t line_start;
	size_t resume_start; /* where a candidate after a resuming line starts, or SIZE_MAX */
	uint64_t bare_ends;  /* ambiguous ends seen, over the reader's life */
	const uint8_t *at;   /* while an end is reported: its last byte, in the caller's data */
};

/* Called for each message end: the body read so far (borrowed). */
typedef void (*msg_end_fn)(void *arg, const uint8_t *msg, size_t len, int candidate, int oversize);

void msg_reader_init(struct msg_reader *, size_t max, struct msg_budget *, const char *resume,
		     int resume_prefix);
void msg_reader_free(struct msg_reader *);
/* Starts a new message; the last one's buffer is given back. */
void msg_reader_reset(struct msg_reader *);
/* Bytes of buffer held now. */
size_t msg_reader_mem(const struct msg_reader *);
/* Reads dot-stuffed content; stops after the standard end (*DONE = 1). Returns how
 * many bytes it consumed. */
size_t msg_reader_push(struct msg_reader *, const uint8_t *data, size_t len, int *done, msg_end_fn,
		       void *arg);
/* Appends octets as they are (BDAT chunks). */
void msg_reader_raw(struct msg_reader *, const uint8_t *data, size_t len);
/* After the standard end: reads on as a receiver that did not stop there would, the
 * terminating line kept as content. */
void msg_reader_continue(struct msg_reader *);

#endif
