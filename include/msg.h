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

/* A body being read (P: CAP bytes of room, LEN of them read), or a finished message
 * handed on: then P is read-only and FD, when not -1, a sealed memfd holding exactly
 * those LEN bytes. */
struct msg_body {
	uint8_t *p;
	size_t len, cap;
	int fd;
};

/* Where bodies are kept: the heap when no store is given (msg.c's own), or the store
 * of the reader's user (msgfd.c: a memfd per message, sealed at its end). */
struct msg_store_ops {
	/* Room for NEED bytes in B, its LEN bytes kept; -1 when there is none (B is
	 * unchanged). */
	int (*grow)(struct msg_body *b, size_t need);
	/* Gives B's room back; B is empty after. */
	void (*drop)(struct msg_body *b);
	/* Makes B's bytes the finished message in *DONE (read-only) and empties B; -1 when
	 * it cannot (B may be lost: the message is then taken as one not kept whole). */
	int (*seal)(struct msg_body *b, struct msg_body *done);
	/* Gives a finished message back. */
	void (*release)(struct msg_body *done);
};

/* Bytes that the message bodies of several readers may keep together (one thread's
 * flows); past it a body is treated as oversize. STORE keeps them (NULL: the heap). */
struct msg_budget {
	size_t used;
	size_t cap;
	const struct msg_store_ops *store;
};

#define MSG_DONE_MAX 8 /* finished messages kept between trims; past it they are copied */

struct msg_reader {
	size_t max;		   /* bytes kept; the rest is counted as oversize */
	struct msg_budget *budget; /* NULL: only MAX applies */
	const char *resume;	   /* the resuming line: exactly this, or starting with it */
	int resume_prefix;
	int state, dot_kind;
	size_t crs; /* CRs after a dot at a line start */
	const struct msg_store_ops *store;
	struct msg_body body;
	/* messages that ended at the standard end since the last msg_reader_trim, as the
	 * store finished them (room for MSG_DONE_MAX while there are any): the events that
	 * report them borrow them */
	struct msg_body *done;
	unsigned int ndone;
	int sealed; /* the body went to done[ndone - 1] at its end */
	int oversize;
	int ambiguous;
	int unconfirmed; /* the receiver may not take this as a body: resuming lines count */
	size_t line_start;
	size_t resume_start; /* where a candidate after a resuming line starts, or SIZE_MAX */
	uint64_t bare_ends;  /* ambiguous ends seen, over the reader's life */
	const uint8_t *at;   /* while an end is reported: its last byte, in the caller's data */
};

/* Called for each message end: the body read so far (borrowed; msg_reader_fd says
 * whether it is the sealed message). */
typedef void (*msg_end_fn)(void *arg, const uint8_t *msg, size_t len, int candidate, int oversize);

void msg_reader_init(struct msg_reader *, size_t max, struct msg_budget *, const char *resume,
		     int resume_prefix);
void msg_reader_free(struct msg_reader *);
/* Starts a new message; the last one's buffer is given back. */
void msg_reader_reset(struct msg_reader *);
/* Gives back the finished messages (what their events borrowed): call once they are
 * taken. KEEP_LAST: the last one stays (a reading that may go on after its end). */
void msg_reader_trim(struct msg_reader *, int keep_last);
/* Bytes of buffer held now (the last finished message's included). */
size_t msg_reader_mem(const struct msg_reader *);
/* The finished message that MSG (LEN bytes, as reported at an end) is, or NULL when it
 * is none (a candidate, a part, an oversize start): borrowed like MSG, its FD the
 * sealed memfd when the store made one. */
const struct msg_body *msg_reader_done(const struct msg_reader *, const uint8_t *msg, size_t len);
/* What an event reports of MSG (*N bytes, as reported at an end): the finished message
 * itself, borrowed (*FD its sealed memfd, or -1), or else a copy in *COPY for the caller
 * to free (*FD -1; *N 0 when memory runs out). */
const uint8_t *msg_reader_take(const struct msg_reader *, const uint8_t *msg, size_t *n, int *fd,
			       uint8_t **copy);
/* The body read so far becomes the finished message (BDAT's last chunk): returns its
 * bytes, sealed where the store can (an oversize body stays the body). */
const struct msg_body *msg_reader_seal(struct msg_reader *);
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
