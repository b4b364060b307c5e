/* SMTP push parser: fed both directions of a session, no I/O, no clock. It follows
 * commands and replies (pipelining included), and reports every message as the server
 * would store it: DATA content dot-unstuffed up to the end of data, or the
 * concatenated BDAT chunks. Ambiguous ends of data (bare LF or CR around the dot, a run
 * of CRs after it) report the candidate message too, and so does a transaction smuggled
 * after one. Command lines are read as every server reads them (smtpcmd.h); where a
 * server may read the bytes otherwise (a DATA or BDAT it refuses, a BDAT only some
 * take), that reading is followed too and its messages are candidates. */
#ifndef MAILSCAN_SMTP_H
#define MAILSCAN_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

enum smtp_dir { SMTP_CLIENT = 0, SMTP_SERVER = 1 }; /* who sent the bytes */

enum smtp_event_type {
	SMTP_EV_MESSAGE,  /* a message ended (or a candidate end was seen) */
	SMTP_EV_STARTTLS, /* the server agreed to STARTTLS: the rest is TLS */
	SMTP_EV_LIMIT,	  /* a reading could not be followed (too many at once, too many ends
			   * in one push): the on_limit policy applies to this push */
};

struct smtp_event {
	enum smtp_event_type type;
	const uint8_t *msg; /* borrowed until the next smtp_push or smtp_trim */
	size_t len;
	int fd;	       /* the message's sealed memfd (msg.h's store made one), borrowed; -1: none */
	int oversize;  /* longer than the cap: MSG holds only its start */
	int candidate; /* ended by an ambiguous (bare CR/LF) end or smuggled */
	int bdat;
	/* the byte that ends it, in the data of this push (NULL: another push's, or a
	 * replay), and the replies the server owes before the reply to that end */
	const uint8_t *end;
	uint64_t replies_before;
	const char *mail_from; /* envelope, for logs */
	const char *rcpt_to;   /* the first recipient */
	const char *helo;
};

struct smtp_counters {
	uint64_t commands;
	uint64_t transactions; /* MAIL accepted */
	uint64_t messages;     /* complete messages (not candidates) */
	uint64_t bdat_messages;
	uint64_t candidates;	 /* messages reported at an ambiguous or smuggled end */
	uint64_t bare_line_ends; /* ambiguous ends of data seen */
	uint64_t pipelined;	 /* commands sent before the previous one was answered */
	uint64_t unknown_commands;
	uint64_t long_lines;
	uint64_t data_refused;	/* DATA answered with an error: its bytes were commands */
	uint64_t readings;	/* other readings followed (a DATA or BDAT some may refuse) */
	uint64_t readings_full; /* one more was due while MAX_READINGS were followed */
	uint64_t events_full;	/* more ends in one push than kept: failed closed */
};

struct smtp;

/* BUDGET (may be NULL) caps the bodies of all the sessions that share it. */
struct smtp *smtp_new(size_t max_message, struct msg_budget *budget, size_t max_line);
void smtp_free(struct smtp *);
/* Consumes all of DATA; returns 0 (there is no input it refuses: garbage is followed
 * as the server answers it). Events are queued for smtp_next. */
int smtp_push(struct smtp *, enum smtp_dir, const uint8_t *data, size_t len);
/* The next event, or 0 when there is none. */
int smtp_next(struct smtp *, struct smtp_event *);
/* Gives back what the parser holds only while in use (events, once taken; empty line
 * buffers and queues). */
void smtp_trim(struct smtp *);
/* Bytes the parser holds now, its own structure included. */
size_t smtp_mem(const struct smtp *);
/* Final reply lines the server sent so far, the banner included. */
uint64_t smtp_replies(const struct smtp *);
/* The replies the server owes once it has read every complete command so far: those
 * it sent and those it still owes. */
uint64_t smtp_owed(const struct smtp *);
/* Message content is being read (DATA or BDAT). */
int smtp_busy(const struct smtp *);
const struct smtp_counters *smtp_counters(struct smtp *);

#endif
