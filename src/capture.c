/* POP3 bodies held whole (pop3_hold = whole): from the first byte of a RETR or TOP
 * body, the server's bytes are kept here and never reach the client as they arrive.
 * mailscand acknowledges them to the server in the client's name (the client's window,
 * its timestamps), so the server goes on sending. Once the scans of what is kept come
 * back, the bytes go to the client from here at the pace of its window, sent again
 * where it does not acknowledge them (release.c), in the server's name; what the
 * server sends later follows behind, in order. The client's acknowledgements pass on
 * to the server, raised to what mailscand acknowledged. A body past pop3_hold_max or
 * the message memory is held only at its end, as with pop3_hold = end: what is kept
 * goes out first, and the server's next segments wait (dropped, sent again) until it
 * has. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "notice.h"
#include "qthread.h"

#define RELEASE_ROUNDS 64 /* segments sent per call at most */

struct capture {
	struct capture *next;
	struct flow *flow;
	uint32_t base; /* the first byte kept */
	uint8_t *buf;  /* [base, base + len) */
	size_t len, size;
	uint32_t limit; /* with blocked: bytes from here wait for a scan */
	int blocked;
	uint32_t body;	  /* where the body being read started */
	uint32_t open_to; /* its bytes go up to here while it is read (a clean reading's end) */
	int fin;	  /* the server's FIN came, in order */
	int read;	  /* the client spoke after a clean reading's end: it read no further */
	int draining;	  /* nothing more is taken: once all is out, the capture ends */
	struct release rel;
	uint32_t srv_ack; /* the server's last acknowledgement and window field */
	uint16_t srv_win;
	uint16_t cli_win;	 /* the client's last window field */
	uint32_t cli_ts, srv_ts; /* each side's newest timestamp value, pure ACKs included */
	uint64_t last_ack_ms;	 /* the client last took bytes (or the capture started) */
	size_t budget;		 /* message_memory taken */
	uint64_t reset_by;	 /* a side reset the flow: the client hears of it by then at most */
};

static struct capture *cap_of(const struct flow *f)
{
	return f->cap;
}

static int cli_wscale(const struct flow *f)
{
	return f->wscale[DIR_TO_SERVER] >= 0 && f->wscale[DIR_TO_CLIENT] >= 0
		       ? f->wscale[DIR_TO_SERVER]
		       : 0;
}

/* the end of what is kept, and the end of what may go now */
static uint32_t cap_end(const struct capture *c)
{
	return c->base + (uint32_t)c->len;
}

static uint32_t cap_allowed(const struct capture *c)
{
	return c->blocked && SEQ_LT(c->limit, cap_end(c)) ? c->limit : cap_end(c);
}

int capture_on(const struct flow *f)
{
	return f->cap != NULL;
}

static void cap_free(struct qthread *qt, struct capture *c)
{
	struct capture **pp;
	struct flow *f = c->flow;

	for (pp = &qt->captures; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	qt->budget.used -= c->budget;
	STATS_ADD(&qt->st, pop3_held_bytes, (uint64_t) - (int64_t)c->len);
	free(c->buf);
	free(c);
	f->cap = NULL;
	if (--f->holds == 0 && !f->linked)
		flows_end(qt, f);
}

static void ts_newer(uint32_t *have, const struct pkt *p)
{
	if (p->has_ts && SEQ_GT(p->tsval, *have))
		*have = p->tsval;
}

void capture_start(struct qthread *qt, struct flow *f, uint32_t base, uint64_t now)
{
	struct capture *c = calloc(1, sizeof(*c));
	const struct reasm *cl = &f->dir[DIR_TO_CLIENT];
	uint32_t wnd = cl->edge_known && SEQ_GT(cl->edge, base) ? cl->edge - base : 65535;

	if (!c) {
		STATS_ADD(&qt->st, pop3_hold_fallbacks, 1);
		return;
	}
	c->flow = f;
	c->base = c->limit = c->body = c->open_to = base;
	c->srv_ack = f->dir[DIR_TO_SERVER].next;
	c->srv_win = 65535;
	c->cli_win = 65535;
	c->last_ack_ms = now;
	c->cli_ts = f->dir[DIR_TO_SERVER].ts_recent;
	c->srv_ts = f->dir[DIR_TO_CLIENT].ts_recent;
	/* the server segment that starts it is the newest: the held ones before it (an
	 * earlier capture's) never updated ts_recent, and a segment stamped older than what
	 * the client last took is dropped there (PAWS), to be sent again */
	if (qt->pk.p && qt->pk.p->has_ts)
		ts_newer(&c->srv_ts, qt->pk.p);
	release_init(&c->rel, base, 0, 536, wnd, now);
	f->cap = c;
	f->cap_next = base;
	f->holds++; /* the flow stays until the capture is over */
	c->next = qt->captures;
	qt->captures = c;
}

/* Keeps new in-order bytes of the server (the packet path's delivery): from BASE on. */
void capture_bytes(struct qthread *qt, struct flow *f, uint32_t seq, const uint8_t *d, size_t n)
{
	struct capture *c = cap_of(f);
	size_t skip = 0, want;

	if (!c)
		return;
	if (SEQ_LT(seq, cap_end(c)))
		skip = cap_end(c) - seq;
	if (skip >= n)
		return;
	d += skip;
	n -= skip;
	want = c->len + n;
	if (want > c->size) {
		size_t size = c->size ? c->size : 16384;
		uint8_t *b;

		while (size < want)
			size *= 2;
		b = realloc(c->buf, size);
		if (!b) {
			/* the bytes were read: they must still reach the client; nothing more
			 * is taken (the server sends it again) */
			STATS_ADD(&qt->st, pop3_hold_fallbacks, 1);
			c->draining = 1;
			return;
		}
		c->buf = b;
		qt->budget.used += size - c->size;
		c->budget += size - c->size;
		c->size = size;
	}
	memcpy(c->buf + c->len, d, n);
	c->len += n;
	STATS_ADD(&qt->st, pop3_held_bytes, n);
	if (!c->draining && (c->len - (c->body - c->base) > qt->cfg->pop3_hold_max ||
			     qt->budget.used > qt->budget.cap)) {
		char name[160];

		session_flow_name(f, name, sizeof(name));
		STATS_ADD(&qt->st, pop3_hold_fallbacks, 1);
		log_event("policy=pop3_hold reason=%s proto=pop3 flow=%s held=%zu action=end",
			  qt->budget.used > qt->budget.cap ? "message_memory" : "pop3_hold_max",
			  name, c->len);
		c->draining = 1;
	}
}

void capture_body(struct flow *f, uint32_t body)
{
	struct capture *c = cap_of(f);

	if (c) {
		c->body = c->open_to = body;
		c->read = 0;
	}
}

void capture_clean_to(struct flow *f, uint32_t end)
{
	struct capture *c = cap_of(f);

	if (c && SEQ_GT(end, c->open_to))
		c->open_to = end;
}

int capture_fin(struct flow *f)
{
	struct capture *c = cap_of(f);

	if (!c || c->fin)
		return 0;
	c->fin = 1;
	return 1;
}

uint32_t capture_body_at(const struct flow *f)
{
	const struct capture *c = cap_of(f);

	return c ? c->body : 0;
}

uint32_t capture_sent(const struct flow *f)
{
	const struct capture *c = cap_of(f);

	return c ? c->rel.nxt : 0;
}

int capture_taking(const struct flow *f, uint32_t seq)
{
	const struct capture *c = cap_of(f);

	return c && (!c->draining || SEQ_LT(seq, cap_end(c)));
}

/* the TCP segment of F towards TO, with the timestamps of the side it speaks for: that
 * side's newest value (the receiver's PAWS takes nothing older), echoing the other's */
static void seg_spec(const struct flow *f, const struct capture *c, enum flow_dir to,
		     struct tcp_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->flags = TCPF_ACK;
	if (f->dir[to].ts_on) {
		s->ts_on = 1;
		s->tsval = to == DIR_TO_SERVER ? c->cli_ts : c->srv_ts;
		s->tsecr = to == DIR_TO_SERVER ? c->srv_ts : c->cli_ts;
	}
}

/* Acknowledges what is kept to the server, in the client's name: its window (less if
 * the memory left is less), its timestamps. */
static void ack_server(struct qthread *qt, struct flow *f, struct capture *c)
{
	struct tcp_spec s;
	int ws = cli_wscale(f);
	uint64_t room = qt->budget.cap > qt->budget.used ? qt->budget.cap - qt->budget.used : 0;
	uint64_t win = (uint64_t)c->cli_win << ws;

	if (room < win)
		win = room;
	seg_spec(f, c, DIR_TO_SERVER, &s);
	s.seq = f->dir[DIR_TO_SERVER].next;
	s.ack = cap_end(c);
	s.window = (uint16_t)((win >> ws) > 65535 ? 65535 : win >> ws);
	if (flows_send_spec(qt, f, DIR_TO_SERVER, &s) == 0)
		STATS_ADD(&qt->st, pop3_acks_sent, 1);
	/* the receiver's state as the server now sees it */
	reasm_ack(&f->dir[DIR_TO_CLIENT], &qt->lim, s.ack);
	reasm_window(&f->dir[DIR_TO_CLIENT], s.ack + (uint32_t)(s.window << ws));
}

/* Sends what the release scheduler says is due. */
static void pump(struct qthread *qt, struct capture *c, uint64_t now)
{
	struct flow *f = c->flow;
	struct release_seg seg;
	struct tcp_spec s;
	int i;

	uint32_t allowed = cap_allowed(c);

	if (f->state != FLOW_ESTABLISHED)
		return; /* reset: nothing more goes */

	/* a body being read waits from its start, or from where a reading of it was found
	 * clean (past the fallback, only its end waits) */
	if (!c->draining && !c->read && session_busy(f->app) && SEQ_LT(c->open_to, allowed))
		allowed = c->open_to;
	if (SEQ_GT(allowed, c->rel.end) && c->rel.una == c->rel.end)
		c->last_ack_ms = now; /* the client had it all: its idle time starts now */
	release_extend(&c->rel, allowed);
	for (i = 0; i < RELEASE_ROUNDS && release_next(&c->rel, now, &seg); i++) {
		seg_spec(f, c, DIR_TO_CLIENT, &s);
		s.seq = seg.seq;
		s.ack = c->srv_ack;
		s.window = c->srv_win;
		if (!seg.probe) {
			s.flags |= TCPF_PSH;
			s.payload = c->buf + (seg.seq - c->base);
			s.payload_len = seg.len;
		}
		flows_send_spec(qt, f, DIR_TO_CLIENT, &s);
		if (seg.retransmit)
			STATS_ADD(&qt->st, pop3_retransmits, 1);
	}
	f->cap_next = c->rel.nxt;
}

/* A server segment while its bytes are kept: the server's acknowledgement of the
 * client's stream and its window, for the segments sent in its name; what it carried
 * is acknowledged. */
void capture_server_pkt(struct qthread *qt, struct flow *f, const struct pkt *p, uint64_t now)
{
	struct capture *c = cap_of(f);
	uint32_t mss;

	if (!c)
		return;
	if (p->flags & TCPF_ACK)
		c->srv_ack = p->ack;
	c->srv_win = p->window;
	ts_newer(&c->srv_ts, p);
	/* the server's segments fit the path and the client's MSS: as large, never larger
	 * than a packet built here holds */
	mss = PACKET_MAX - p->l3_len - 20 - (f->dir[DIR_TO_CLIENT].ts_on ? 12 : 0);
	if (p->payload_len > c->rel.mss)
		c->rel.mss = (uint32_t)p->payload_len < mss ? (uint32_t)p->payload_len : mss;
	if (p->payload_len)
		ack_server(qt, f, c);
	pump(qt, c, now);
}

/* A client segment: its acknowledgement, window and SACK blocks drive the release; the
 * acknowledgement the server gets is raised to what mailscand acknowledged, as the
 * server would take one below it for a very old one. */
void capture_client_pkt(struct qthread *qt, struct flow *f, struct pkt *p, uint8_t *buf,
			uint64_t now)
{
	struct capture *c = cap_of(f);
	struct release_sack sack[4];
	unsigned int i;

	if (!c || !(p->flags & TCPF_ACK))
		return;
	c->cli_win = p->window;
	ts_newer(&c->cli_ts, p);
	for (i = 0; i < p->nsack; i++) {
		sack[i].start = p->sack[i][0];
		sack[i].end = p->sack[i][1];
	}
	/* idle is a client that takes nothing (a zero window answers the probes) */
	if (SEQ_GEQ(p->ack, c->base) &&
	    release_ack(&c->rel, p->ack, (uint32_t)p->window << cli_wscale(f), sack, p->nsack,
			now) == RELEASE_ACK_NEW)
		c->last_ack_ms = now;
	/* a client that speaks once it has a reading's end took the body as ended there:
	 * what follows is not body to it (a strict one would still be reading) */
	if (p->payload_len && SEQ_GT(c->open_to, c->body) && SEQ_GEQ(c->rel.una, c->open_to))
		c->read = 1;
	if (SEQ_LT(p->ack, cap_end(c))) {
		packet_set_ack(buf, p, cap_end(c));
		qt->pk.changed = 1;
	}
	pump(qt, c, now);
}

void capture_limit(struct qthread *qt, struct flow *f, int blocked, uint32_t at, uint64_t now)
{
	struct capture *c = cap_of(f);

	if (!c)
		return;
	c->blocked = blocked;
	c->limit = at;
	pump(qt, c, now);
}

int capture_caught_up(const struct flow *f)
{
	const struct capture *c = cap_of(f);

	return !c || c->rel.una == c->rel.nxt;
}

/* the capture is over: everything kept is out and acknowledged, nothing waits */
static int cap_done(const struct capture *c)
{
	if (c->blocked || c->rel.una != cap_end(c))
		return 0;
	return c->draining || !session_busy(c->flow->app);
}

int capture_replace(struct flow *f, uint32_t from, uint32_t to, const struct notice_info *in)
{
	struct capture *c = cap_of(f);
	size_t off, len;

	/* the body and its end are kept, none of it went, and it ends as the standard
	 * reader's does */
	if (!c || SEQ_LT(from, c->rel.nxt) || SEQ_LT(from, c->base) || SEQ_GT(to, cap_end(c)) ||
	    SEQ_LT(to - 5, from))
		return -1;
	off = from - c->base;
	len = to - from;
	if (memcmp(c->buf + off + len - 5, "\r\n.\r\n", 5))
		return -1;
	return notice_build(c->buf + off, len - 3, c->buf + off, len - 3, in);
}

/* Timers, ends and idle clients; returns ms until the next timer (or -1). */
int captures_due(struct qthread *qt, uint64_t now)
{
	struct capture *c, *n;
	uint64_t next = UINT64_MAX;

	for (c = qt->captures; c; c = n) {
		struct flow *f = c->flow;
		uint64_t t;

		n = c->next;
		if (f->state != FLOW_ESTABLISHED) {
			/* a reset from either side: the client hears of it at its next sequence
			 * number, known once it has acknowledged all that went (a moment); the
			 * other ends (ours, a delete under way) are already taken care of */
			if (f->state == FLOW_RESET && c->rel.una != c->rel.nxt &&
			    (!c->reset_by || now < c->reset_by)) {
				if (!c->reset_by)
					c->reset_by = now + 2 * RELEASE_RTO_INIT;
				next = c->reset_by < next ? c->reset_by : next;
				continue;
			}
			if (f->state == FLOW_RESET) {
				flows_send(qt, f, DIR_TO_CLIENT, c->rel.nxt, c->srv_ack,
					   TCPF_RST | TCPF_ACK, NULL);
				if (c->rel.una != c->rel.nxt) /* where it may be instead */
					flows_send(qt, f, DIR_TO_CLIENT, c->rel.una, c->srv_ack,
						   TCPF_RST | TCPF_ACK, NULL);
			}
			cap_free(qt, c);
			continue;
		}
		if (now - c->last_ack_ms > qt->cfg->idle_timeout * 1000ULL &&
		    SEQ_LT(c->rel.una, c->rel.end)) {
			/* a client that stopped reading: as any idle flow */
			STATS_ADD(&qt->st, flows_timed_out, 1);
			flows_reset(qt, f, DIR_TO_CLIENT, c->rel.una);
			cap_free(qt, c);
			continue;
		}
		pump(qt, c, now);
		if (cap_done(c)) {
			STATS_ADD(&qt->st, pop3_released, 1);
			cap_free(qt, c);
			continue;
		}
		t = release_deadline(&c->rel);
		if (t && t < next)
			next = t;
	}
	return next == UINT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
}

void captures_free(struct qthread *qt)
{
	while (qt->captures)
		cap_free(qt, qt->captures);
}
