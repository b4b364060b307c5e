/* TCP segment acceptance, modelled on the receiver: pure, libc only. */
#include "tcpnorm.h"

void tcpnorm_syn(struct flow *f, const struct pkt *p)
{
	f->client_isn = p->seq;
	f->wscale[DIR_TO_SERVER] = p->wscale;
	f->dir[DIR_TO_SERVER].ts_on = p->has_ts;
	f->dir[DIR_TO_SERVER].ts_recent = p->tsval;
}

void tcpnorm_syn_another(struct flow *f, const struct pkt *p)
{
	f->alt_isn = p->seq;
	f->alt_wscale = p->wscale;
	f->alt_ts = p->has_ts;
	f->alt_tsval = p->tsval;
	f->alt_set = 1;
}

enum tcpnorm_syn tcpnorm_syn_kind(const struct flow *f, enum flow_dir dir, const struct pkt *p)
{
	int ack = (p->flags & TCPF_ACK) != 0;

	if (dir == DIR_TO_SERVER && !ack) {
		/* after the connection passed, ended or was reset (TIME-WAIT reuse, a port
		 * used again): a new connection, followed from its start; nothing of the
		 * old one carries over */
		if (f->state == FLOW_CLOSING || f->state == FLOW_RESET || f->state == FLOW_PASS ||
		    f->state == FLOW_ABORTED)
			return SYN_NEW;
		if (p->seq == f->client_isn || (f->alt_set && p->seq == f->alt_isn))
			return SYN_RETRANS;
		/* before the server answered: which SYN counts is the server's choice */
		if (f->state == FLOW_SYN)
			return SYN_ANOTHER;
		/* on a live connection Linux answers with a challenge ACK (RFC 5961 4.2)
		 * and keeps it */
		return SYN_ESTABLISHED;
	}
	if (dir == DIR_TO_CLIENT && ack) {
		if (!f->dir[DIR_TO_CLIENT].started)
			return SYN_ESTABLISH;
		if (p->seq == f->server_isn)
			return SYN_RETRANS;
	}
	/* a SYN from the server without ACK (simultaneous open) would start the server's
	 * stream unseen: never passed */
	return SYN_ESTABLISHED;
}

void tcpnorm_establish(struct flow *f, const struct pkt *p)
{
	struct reasm *c = &f->dir[DIR_TO_SERVER], *s = &f->dir[DIR_TO_CLIENT];
	uint32_t ts = c->ts_recent;
	uint8_t on = c->ts_on;

	/* the server answers the SYN its ACK names: the client's stream starts there.
	 * Nothing of it was taken before (SYN data is removed, data before the SYN-ACK
	 * dropped). */
	if (f->alt_set && p->ack == f->alt_isn + 1) {
		f->client_isn = f->alt_isn;
		f->wscale[DIR_TO_SERVER] = f->alt_wscale;
		on = f->alt_ts;
		ts = f->alt_tsval;
	}
	if (p->ack != f->client_isn + 1)
		f->client_isn = p->ack - 1;
	reasm_init(c, p->ack);
	c->ts_recent = ts;
	c->ts_on = on;
	f->server_isn = p->seq;
	f->wscale[DIR_TO_CLIENT] = p->wscale;
	reasm_init(s, p->seq + 1);
	/* timestamps are on only if both SYNs carried them */
	s->ts_on = c->ts_on = c->ts_on && p->has_ts;
	s->ts_recent = p->tsval;
	/* a SYN-ACK's window is never scaled */
	reasm_window(c, p->ack + p->window);
	f->state = FLOW_ESTABLISHED;
}

int tcpnorm_rst_taken(const struct flow *f, enum flow_dir dir, uint32_t seq, uint32_t held)
{
	const struct reasm *r = &f->dir[dir];
	uint32_t nxt = reasm_rcv_nxt(r);

	/* tcp_validate_incoming: only at rcv_nxt; after the sender's FIN also one below
	 * (tcp_reset_check). A legitimate sender's reset carries everything it sent; the
	 * receiver stops at a held range. Anything else gets a challenge ACK or nothing. */
	if (seq == nxt || seq == held)
		return 1;
	/* a FIN not acknowledged yet may or may not have reached the receiver: a reset
	 * one beyond it may be taken too */
	if (r->fin == FIN_SEEN && seq == nxt + 1)
		return 1;
	return r->fin == FIN_DONE && seq == nxt - 1;
}

enum tcpnorm_drop tcpnorm_check(const struct flow *f, enum flow_dir dir, const struct pkt *p)
{
	const struct reasm *r = &f->dir[dir];

	/* the client has no acknowledgement to send before the SYN-ACK: the server
	 * drops such data (and which SYN it kept is not known yet) */
	if (!r->started || !(p->flags & TCPF_ACK) || f->state == FLOW_SYN)
		return DROP_NO_ACK;
	if (p->has_ts && reasm_paws_reject(r, p->tsval))
		return DROP_PAWS;
	return DROP_NONE;
}

void tcpnorm_taken(struct flow *f, enum flow_dir dir, const struct pkt *p,
		   const struct reasm_limits *lim)
{
	struct reasm *other = &f->dir[!dir];
	unsigned int scale = 0;

	if (p->has_ts && f->dir[dir].started)
		reasm_ts_update(&f->dir[dir], p->seq, p->tsval);
	if (!(p->flags & TCPF_ACK) || !other->started)
		return;
	if (dir == DIR_TO_SERVER)
		f->open = 1;
	reasm_ack(other, lim, p->ack);
	/* RFC 7323: scaling applies when both SYNs carried the option */
	if (f->wscale[0] >= 0 && f->wscale[1] >= 0)
		scale = (unsigned int)f->wscale[dir];
	reasm_window(other, p->ack + ((uint32_t)p->window << scale));
}

int tcpnorm_window_clamp(const struct flow *f, enum flow_dir dir, const struct pkt *p, size_t cap)
{
	unsigned int scale = 0;
	size_t max;

	/* a SYN's window is never scaled; a segment with data would cost its whole
	 * checksum to rewrite */
	if (p->payload_len || (p->flags & (TCPF_SYN | TCPF_RST | TCPF_ACK)) != TCPF_ACK ||
	    !f->dir[!dir].started)
		return -1;
	if (f->wscale[0] >= 0 && f->wscale[1] >= 0)
		scale = (unsigned int)f->wscale[dir];
	max = cap >> scale;
	if (!max || (size_t)p->window <= max)
		return -1;
	return (int)max; /* below the 16-bit field's value, so it fits */
}

int tcpnorm_auth_drop(const struct pkt *p)
{
	return p->auth;
}

unsigned int tcpnorm_ttl(const struct pkt *p, unsigned int min_ttl)
{
	return p->ttl < min_ttl ? min_ttl : 0;
}

unsigned int tcpnorm_reset_points(enum flow_dir dir, const struct pkt *p, uint32_t at[2])
{
	unsigned int m = 1u << dir;

	at[dir] = p->seq; /* the packet itself is dropped */
	at[!dir] = p->ack;
	if (p->flags & TCPF_ACK)
		m |= 1u << !dir;
	return m;
}
