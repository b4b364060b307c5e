/* The sender's side of a range that mailscand releases to a receiver in the original
 * sender's place: a POP3 body held whole until its scan returned, now sent to the client
 * at the pace of the client's window. What to send next follows from the receiver's
 * acknowledgements, window and SACK blocks: new data within the window and a congestion
 * window (RFC 5681), retransmission of what is lost, found by three duplicate
 * acknowledgements or by SACK (RFC 6675's pipe), and a retransmission timeout (RFC 6298)
 * with backoff. A zero window is probed. Pure: the caller passes the clock, in ms, and
 * sends the segments itself; every sequence comparison is modulo 2^32. */
#ifndef MAILSCAN_RELEASE_H
#define MAILSCAN_RELEASE_H

#include <stdint.h>

#define RELEASE_SACK_MAX    16	  /* SACKed ranges kept: more are merged away (harmless) */
#define RELEASE_RTO_INIT    1000  /* ms, before the first sample */
#define RELEASE_RTO_MIN	    200	  /* ms, Linux's floor */
#define RELEASE_RTO_MAX	    60000 /* ms */
#define RELEASE_INIT_WINDOW 10	  /* segments: the initial congestion window */

struct release_sack {
	uint32_t start, end; /* [start, end) */
};

struct release {
	uint32_t start, end; /* the range held: [start, end) */
	uint32_t una, nxt;   /* first byte not acknowledged, first byte never sent */
	uint32_t wnd;	     /* the receiver's window, in bytes from una */
	uint32_t cwnd, ssthresh;
	uint32_t mss;
	/* loss recovery: holes below lost_end are lost; those below rexmit were sent again */
	uint8_t in_recovery;
	uint8_t dupacks;
	uint8_t backoff;
	uint8_t rexmit_now; /* a retransmission is due whatever the pipe */
	uint8_t limited;    /* new segments the first duplicates let go past cwnd */
	uint32_t recover;   /* nxt when recovery began: its end */
	uint32_t lost_end;
	uint32_t rexmit;
	struct release_sack sacked[RELEASE_SACK_MAX]; /* sorted, disjoint, above una */
	unsigned int nsacked;
	/* round trip (one segment timed at a time, never a retransmitted one: Karn) */
	uint32_t srtt, rttvar, rto; /* ms; srtt 0: no sample yet */
	uint32_t rtt_seq;
	uint64_t rtt_sent;
	uint8_t rtt_on;
	uint64_t rto_at; /* the timer's deadline (retransmission or window probe), 0: off */
	uint64_t retransmits;
};

/* one segment to send: [seq, seq + len); a probe is a zero-length segment at una - 1
 * that makes the receiver acknowledge with its window */
struct release_seg {
	uint32_t seq, len;
	uint8_t retransmit, probe;
};

enum release_ack {
	RELEASE_ACK_NEW,     /* una moved */
	RELEASE_ACK_DUP,     /* a duplicate (or news only in its SACK blocks) */
	RELEASE_ACK_WINDOW,  /* nothing new but the window */
	RELEASE_ACK_OLD,     /* below una: ignored */
	RELEASE_ACK_INVALID, /* acknowledges bytes never sent: ignored */
};

/* start releasing [start, start + len) to a receiver whose window is wnd bytes */
void release_init(struct release *r, uint32_t start, uint32_t len, uint32_t mss, uint32_t wnd,
		  uint64_t now);
/* more of the range may go: it ends at END now (it never shrinks) */
void release_extend(struct release *r, uint32_t end);
/* an acknowledgement from the receiver: ack, its window in bytes, its SACK blocks */
enum release_ack release_ack(struct release *r, uint32_t ack, uint32_t wnd,
			     const struct release_sack *sack, unsigned int nsack, uint64_t now);
/* the next segment due now: 1 and *seg, or 0 when nothing is (see release_deadline) */
int release_next(struct release *r, uint64_t now, struct release_seg *seg);
/* when release_next has something again without a new acknowledgement; 0: never */
uint64_t release_deadline(const struct release *r);
/* every byte of the range acknowledged */
int release_done(const struct release *r);
/* bytes sent and neither acknowledged nor SACKed, nor known lost (RFC 6675's pipe) */
uint32_t release_pipe(const struct release *r);

#endif
