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
	SYN_NEW,	 /* a new connection on the tuple (the old one closed or unanswered) */
	SYN_ESTABLISHED, /* any other: the receiver sends a challenge ACK and keeps its
			  * connection; drop it, the flow stays */
};

/* why the receiver would discard a segment with data or FIN, or 0 */
enum tcpnorm_drop {
	DROP_NONE = 0,
	DROP_NO_ACK, /* no ACK flag, or the direction has had no handshake */
	DROP_PAWS,   /* timestamp older than the newest taken */
};

/* The client's SYN of a new flow F: its options. */
void tcpnorm_syn(struct flow *, const struct pkt *);
enum tcpnorm_syn tcpnorm_syn_kind(const struct flow *, enum flow_dir, const struct pkt *);
/* The server's SYN-ACK: both directions followed from here. */
void tcpnorm_establish(struct flow *, const struct pkt *);
/* Does the receiver of DIR take a reset at SEQ (it ends the connection)? HELD is the
 * start of the earliest range of DIR still held (the receiver stops there), or RCV_NXT
 * of DIR's reassembly when nothing is held. */
int tcpnorm_rst_taken(const struct flow *, enum flow_dir, uint32_t seq, uint32_t held);
enum tcpnorm_drop tcpnorm_check(const struct flow *, enum flow_dir, const struct pkt *);
/* A segment of DIR was taken: its acknowledgement and window (for the other direction)
 * and its timestamp. */
void tcpnorm_taken(struct flow *, enum flow_dir, const struct pkt *, const struct reasm_limits *);

#endif
