/* One direction of a TCP connection, reassembled in order as the receiver's TCP (Linux)
 * takes it. Pure: no I/O, no clock.
 *
 * Bytes are delivered to the caller exactly once, in sequence order. Every delivered byte
 * the receiver has not acknowledged is kept, so a later copy of it can be made equal to
 * the first: the receiver only ever gets bytes that were parsed. A segment that cannot be
 * kept is refused (the caller drops it and the sender sends it again). */
#ifndef MAILSCAN_REASM_H
#define MAILSCAN_REASM_H

#include <stddef.h>
#include <stdint.h>

struct reasm_limits {
	size_t ooo_cap;	  /* out-of-order bytes buffered per direction */
	size_t keep_cap;  /* delivered, unacknowledged bytes kept per direction */
	size_t total_cap; /* all buffers of all flows sharing TOTAL */
	size_t *total;	  /* bytes allocated now, shared by the flows of one thread */
	size_t ooo_segs;  /* out-of-order ranges buffered per direction (0: bytes only) */
};

struct reasm_seg;

/* The sender's FIN: out of order (PENDING), in order but not yet acknowledged by the
 * receiver (SEEN: it may never have arrived), or acknowledged (DONE: the stream has
 * ended). Data after it is refused in both. */
enum reasm_fin { FIN_NONE, FIN_PENDING, FIN_SEEN, FIN_DONE };

struct reasm {
	uint32_t next;	/* next sequence number to deliver */
	uint32_t acked; /* highest acknowledgement from the receiver */
	uint32_t edge;	/* right edge of the receiver's window, once known */
	uint32_t fin_seq;
	uint32_t ts_recent; /* newest timestamp value taken in order (PAWS) */
	uint8_t started;
	uint8_t edge_known;
	uint8_t ts_on; /* both ends sent the timestamp option */
	uint8_t fin;   /* enum reasm_fin: the sender's FIN at fin_seq */
	uint32_t rng;  /* skip list levels */
	/* ring of delivered bytes [keep_seq, next) */
	uint8_t *keep;
	size_t keep_size; /* allocated */
	size_t keep_head; /* index of keep_seq in the ring */
	size_t keep_len;
	uint32_t keep_seq;
	/* out-of-order bytes: a skip list of disjoint ranges (insert and lookup in
	 * O(log n)); NULL when empty */
	struct reasm_seg *ooo;
	size_t ooo_bytes;
	size_t ooo_count; /* ranges */
};

/* Result flags of reasm_add and reasm_fin. */
enum {
	REASM_DATA = 1 << 0,	    /* new bytes delivered */
	REASM_QUEUED = 1 << 1,	    /* buffered out of order */
	REASM_RETRANS = 1 << 2,	    /* carried bytes already delivered or buffered */
	REASM_REWRITTEN = 1 << 3,   /* differed from the first copy: DATA now holds it */
	REASM_OVERFLOW = 1 << 4,    /* could not be kept (cap): drop the packet */
	REASM_UNVERIFIED = 1 << 5,  /* bytes too far back to be a retransmission */
	REASM_WINDOW = 1 << 6,	    /* beyond the receiver's window: drop the packet */
	REASM_AFTER_FIN = 1 << 7,   /* new bytes after the sender's FIN: never read */
	REASM_FIN = 1 << 8,	    /* the FIN is in order now (the receiver has yet to ack it) */
	REASM_OOO_FULL = 1 << 9,    /* out of order past the segment or byte bound (OVERFLOW) */
	REASM_TOTAL_FULL = 1 << 10, /* past total_cap, the buffers of all flows (OVERFLOW) */
};

/* Called with each run of new in-order bytes. */
typedef void (*reasm_deliver_fn)(void *arg, const uint8_t *data, size_t len);

/* NEXT is the first data sequence number (ISN + 1). */
void reasm_init(struct reasm *, uint32_t next);
/* Gives every buffer back. The positions stay: where the receiver is (reasm_rcv_nxt),
 * and new bytes are taken as before; older ones are retransmissions that cannot be
 * checked (REASM_UNVERIFIED). */
void reasm_free(struct reasm *, const struct reasm_limits *);

/* Adds a segment. Bytes that were delivered or buffered before are compared with the
 * first copy and, where they differ, overwritten with it in DATA (REASM_REWRITTEN): the
 * caller passes DATA on rewritten. A segment refused (OVERFLOW, WINDOW, AFTER_FIN)
 * changes nothing and delivers nothing. */
int reasm_add(struct reasm *, const struct reasm_limits *, uint32_t seq, uint8_t *data, size_t len,
	      reasm_deliver_fn, void *arg);
/* A FIN at sequence number POS (after the segment's data): REASM_FIN once it is in
 * order. Out of order it waits, and is forgotten if data covers its place first (Linux
 * drops such a FIN). In order it counts (FIN_DONE: the stream has ended, what was
 * buffered beyond it goes) only once the receiver acknowledges it; until then the
 * out-of-order bytes behind it are kept, as the receiver may never have had it. */
int reasm_fin(struct reasm *, const struct reasm_limits *, uint32_t pos);
/* The receiver acknowledged up to ACK: kept bytes below it are released, and a small
 * ring with nothing left in it; an acknowledged FIN ends the stream. */
void reasm_ack(struct reasm *, const struct reasm_limits *, uint32_t ack);
/* An idle direction (everything acknowledged, nothing out of order) gives its ring back. */
void reasm_trim(struct reasm *, const struct reasm_limits *);
/* Bytes of buffers held now (the ring and the out-of-order segments). */
size_t reasm_mem(const struct reasm *);
/* The receiver announced its window up to EDGE (ack + scaled window); the edge only
 * grows, as the receiver's does. */
void reasm_window(struct reasm *, uint32_t edge);
/* PAWS (RFC 7323), as Linux applies it to segments with data or FIN: 1 if TSVAL is older
 * than the newest one taken, so the receiver discards the segment. */
int reasm_paws_reject(const struct reasm *, uint32_t tsval);
/* A segment at SEQ with timestamp TSVAL was taken: it may become the newest. */
void reasm_ts_update(struct reasm *, uint32_t seq, uint32_t tsval);
/* The receiver's next expected sequence number if it got all delivered bytes (and the
 * acknowledged FIN): where a reset from the sender must be to be taken. */
uint32_t reasm_rcv_nxt(const struct reasm *);

#endif
