/* What the receiver's TCP takes of a followed flow's segments, modelled on Linux's
 * tcp_input.c (tcp_validate_incoming, tcp_sequence, tcp_reset_check, PAWS, window
 * scaling). Pure: the queue thread acts on the answers. Data itself is judged by reasm. */
#ifndef MAILSCAN_TCPNORM_H
#define MAILSCAN_TCPNORM_H

#include "decode.h"
#include "flow.h"

/* what a SYN on a known flow is */
enum tcpnorm_syn {
	SYN_RETRANS,	 /* the same SYN or SYN-ACK again: pass */
	SYN_ESTABLISH,	 /* the server's SYN-ACK: the flow is established */
	SYN_NEW,	 /* a new connection on the tuple: the old one passed, closed or reset */
	SYN_ANOTHER,	 /* another SYN before the SYN-ACK: the SYN-ACK decides which counts */
	SYN_ESTABLISHED, /* any other: the receiver sends a challenge ACK and keeps its
			  * connection; drop it, the flow stays */
};

/* why the receiver would discard a segment with data or FIN, or 0 */
enum tcpnorm_drop {
	DROP_NONE = 0,
	DROP_NO_ACK, /* no ACK flag, or the direction has had no handshake */
	DROP_PAWS,   /* timestamp older than the newest taken */
};

/* Linux drops a segment with an MD5 signature or TCP-AO option on a connection that set
 * up neither (tcp_inbound_hash): no mail connection does. */
int tcpnorm_auth_drop(const struct pkt *);
/* Gateway mode: the TTL (hop limit) P must carry so that it reaches the receiver if it
 * reaches this hop, with MIN_TTL as the floor; 0 if it needs no change. */
unsigned int tcpnorm_ttl(const struct pkt *, unsigned int min_ttl);
/* A flow known only from packet P of DIR (mid-stream; a tombstone without streams): the
 * sequence number each receiver takes a reset at, AT[d] for the receiver of direction d:
 * P's receiver expects P's sequence number, its sender P's acknowledgement. Returns the
 * directions that can be reset (1 << d). */
unsigned int tcpnorm_reset_points(enum flow_dir, const struct pkt *, uint32_t at[2]);

/* The client's SYN of a new flow F: its options. */
void tcpnorm_syn(struct flow *, const struct pkt *);
/* Another client SYN before the SYN-ACK (SYN_ANOTHER): kept beside the first. */
void tcpnorm_syn_another(struct flow *, const struct pkt *);
enum tcpnorm_syn tcpnorm_syn_kind(const struct flow *, enum flow_dir, const struct pkt *);
/* The server's SYN-ACK: both directions followed from here. The client's stream starts
 * at what it acknowledges: that is the SYN the server kept. */
void tcpnorm_establish(struct flow *, const struct pkt *);
/* Does the receiver of DIR take a reset at SEQ (it ends the connection)? HELD is the
 * start of the earliest range of DIR still held (the receiver stops there), or RCV_NXT
 * of DIR's reassembly when nothing is held. */
int tcpnorm_rst_taken(const struct flow *, enum flow_dir, uint32_t seq, uint32_t held);
enum tcpnorm_drop tcpnorm_check(const struct flow *, enum flow_dir, const struct pkt *);
/* A segment of DIR was taken: its acknowledgement and window (for the other direction)
 * and its timestamp; the client's first ACK after the SYN-ACK opens the connection. */
void tcpnorm_taken(struct flow *, enum flow_dir, const struct pkt *, const struct reasm_limits *);
/* The window field a pure ACK of DIR (taken) should carry so that the other direction's
 * sender has no more than CAP bytes beyond what is acknowledged: all of them fit in what
 * is kept of that stream (flow_buffer), and a fast sender is held back by its window,
 * not by a dropped segment. -1 when the window is within CAP, or P is no pure ACK. */
int tcpnorm_window_clamp(const struct flow *, enum flow_dir, const struct pkt *, size_t cap);

#endif
