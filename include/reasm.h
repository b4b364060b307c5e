/* One direction of a TCP connection, reassembled in order. Pure: no I/O, no clock.
 *
 * Bytes are delivered to the caller exactly once, in sequence order. Delivered bytes
 * the receiver has not acknowledged yet are kept, so a retransmission can be checked
 * against the first copy: the receiver must only ever get bytes that were parsed. */
#ifndef MAILSCAN_REASM_H
#define MAILSCAN_REASM_H

#include <stddef.h>
#include <stdint.h>

struct reasm_limits {
	size_t ooo_cap;	  /* out-of-order bytes buffered per direction */
	size_t keep_cap;  /* delivered, unacknowledged bytes kept per direction */
	size_t total_cap; /* all buffers of all flows sharing TOTAL */
	size_t *total;	  /* bytes allocated now, shared by the flows of one thread */
};

struct reasm_seg;

struct reasm {
	uint32_t next;	/* next sequence number to deliver */
	uint32_t acked; /* highest acknowledgement from the receiver */
	int started;
	/* ring of delivered bytes [keep_seq, next) */
	uint8_t *keep;
	size_t keep_size; /* allocated */
	size_t keep_head; /* index of keep_seq in the ring */
	size_t keep_len;
	uint32_t keep_seq;
	struct reasm_seg *ooo; /* sorted by seq; overlapping copies are byte-equal */
	size_t ooo_bytes;
};

/* Result flags of reasm_add. */
enum {
	REASM_DATA = 1 << 0,	   /* new bytes delivered */
	REASM_QUEUED = 1 << 1,	   /* buffered out of order */
	REASM_RETRANS = 1 << 2,	   /* carried bytes already delivered or buffered, equal */
	REASM_CONFLICT = 1 << 3,   /* differs from the first copy: drop the packet */
	REASM_OVERFLOW = 1 << 4,   /* could not be buffered (cap): drop the packet */
	REASM_UNVERIFIED = 1 << 5, /* old bytes no longer kept, not checked */
};

/* Called with each run of new in-order bytes. */
typedef void (*reasm_deliver_fn)(void *arg, const uint8_t *data, size_t len);

/* NEXT is the first data sequence number (ISN + 1). */
void reasm_init(struct reasm *, uint32_t next);
void reasm_free(struct reasm *, const struct reasm_limits *);

/* Adds a segment. A segment that overflows or conflicts changes nothing and delivers
 * nothing: the caller drops the packet. */
int reasm_add(struct reasm *, const struct reasm_limits *, uint32_t seq, const uint8_t *data,
	      size_t len, reasm_deliver_fn, void *arg);
/* The receiver acknowledged up to ACK: kept bytes below it are released. */
void reasm_ack(struct reasm *, const struct reasm_limits *, uint32_t ack);

#endif
