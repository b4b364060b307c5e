/* POP3 push parser: fed both directions of a session, no I/O, no clock. Commands are
 * matched in order with their responses (pipelining included); single- or multi-line
 * is decided by the command and the status. RETR and TOP bodies are reported as
 * messages, dot-unstuffed up to the terminating line (ambiguous ends as candidates). */
#ifndef MAILSCAN_POP3_H
#define MAILSCAN_POP3_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

enum pop3_dir { POP3_CLIENT = 0, POP3_SERVER = 1 };

enum pop3_event_type {
	POP3_EV_MESSAGE, /* a RETR or TOP body ended (or a candidate end) */
	POP3_EV_STLS,	 /* the server agreed to STLS: the rest is TLS */
	POP3_EV_BODY,	 /* a RETR or TOP body starts AT bytes into the server's push */
};

struct pop3_event {
	enum pop3_event_type type;
	const uint8_t *msg; /* borrowed until the next pop3_push or pop3_trim */
	size_t len;
	int fd; /* the body's sealed memfd (msg.h's store made one), borrowed; -1: none */
	int oversize;
	int candidate;
	int eof; /* a candidate only if the server's side of the connection ends here */
	int top; /* a TOP response: a partial message */
	unsigned long msgno;
	const char *user;
	size_t at;  /* POP3_EV_BODY */
	size_t end; /* POP3_EV_MESSAGE: the bytes of the push up to its end; 0 at the close */
	/* POP3_EV_MESSAGE: its body started START bytes into this push (STARTED), or in an
	 * earlier one */
	size_t start;
	int started;
};

struct pop3_counters {
	uint64_t commands;
	uint64_t retr;	     /* RETR answered +OK */
	uint64_t top;	     /* TOP answered +OK */
	uint64_t messages;   /* bodies that ended (RETR and TOP) */
	uint64_t candidates; /* bodies reported at an ambiguous end */
	uint64_t bare_line_ends;
	uint64_t pipelined;
	uint64_t unknown_commands;
	uint64_t long_lines;
	uint64_t errors; /* -ERR responses */
};

struct pop3;

/* BUDGET (may be NULL) caps the bodies of all the sessions that share it. */
struct pop3 *pop3_new(size_t max_message, struct msg_budget *budget, size_t max_line);
void pop3_free(struct pop3 *);
int pop3_push(struct pop3 *, enum pop3_dir, const uint8_t *data, size_t len);
int pop3_next(struct pop3 *, struct pop3_event *);
/* The server's side ended (its FIN, in order): a body being read is a candidate, as the
 * clients that take what they have read so far see it. Events as after a push. */
void pop3_close(struct pop3 *);
/* Gives back what the parser holds only while in use, as smtp_trim. */
void pop3_trim(struct pop3 *);
/* Bytes the parser holds now, its own structure included. */
size_t pop3_mem(const struct pop3 *);
/* Forgets the answers to DELE and QUIT seen so far; then what the server answered the
 * next DELE (1 +OK, -1 -ERR, 0 not yet) and whether it answered a QUIT. */
void pop3_mark(struct pop3 *);
int pop3_dele_result(const struct pop3 *);
int pop3_quit_answered(const struct pop3 *);
/* A multi-line response (a message body) is being read. */
int pop3_busy(const struct pop3 *);
const struct pop3_counters *pop3_counters(struct pop3 *);

#endif
