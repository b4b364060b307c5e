/* A queue thread: owns one NFQUEUE queue and its flows; no locks on the packet path.
 * Every packet gets its verdict at once, except a packet a parser asks to hold. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "live.h"
#include "log.h"
#include "msgfd.h"
#include "nfqueue.h"
#include "packet.h"
#include "qthread.h"
#include "tcpnorm.h"

#define SWEEP_MS     1000
#define RECV_ROUNDS  64
#define QUEUE_RCVBUF (32u << 20)

const struct stats *qthread_stats(const struct qthread *qt)
{
	return &qt->st;
}

enum norm_event {
	NORM_CSUM,
	NORM_URG,
	NORM_REWRITE,
	NORM_SYN,
	NORM_RST,
	NORM_WINDOW,
	NORM_PAWS,
	NORM_NO_ACK,
	NORM_AFTER_CLOSE,
	NORM_AUTH,
	NORM_TTL,
	NORM_SYN_DATA,
	NORM_COUNT
};

static const struct {
	size_t counter;
	const char *what;
} norm_events[NORM_COUNT] = {
	[NORM_CSUM] = { offsetof(struct stats, tcp_bad_checksum), "bad checksum: dropped" },
	[NORM_URG] = { offsetof(struct stats, tcp_urg_cleared), "urgent pointer: cleared" },
	[NORM_REWRITE] = { offsetof(struct stats, tcp_rewritten),
			   "bytes differ from those passed: rewritten to them" },
	[NORM_SYN] = { offsetof(struct stats, tcp_syn_on_established),
		       "SYN on the connection: dropped, flow kept" },
	[NORM_RST] = { offsetof(struct stats, tcp_rst_ignored),
		       "reset off the receiver's next sequence number: flow kept" },
	[NORM_WINDOW] = { offsetof(struct stats, tcp_out_of_window),
			  "data beyond the receiver's window: dropped" },
	[NORM_PAWS] = { offsetof(struct stats, tcp_paws_dropped), "old timestamp (PAWS): dropped" },
	[NORM_NO_ACK] = { offsetof(struct stats, tcp_no_ack),
			  "data without ACK or handshake: dropped" },
	[NORM_AFTER_CLOSE] = { offsetof(struct stats, tcp_data_after_close),
			       "data after FIN or reset: connection reset" },
	[NORM_AUTH] = { offsetof(struct stats, tcp_auth_dropped),
			"MD5 or TCP-AO option the receiver drops: dropped" },
	[NORM_TTL] = { offsetof(struct stats, tcp_ttl_raised), "TTL below min_ttl: raised" },
	[NORM_SYN_DATA] = { offsetof(struct stats, tcp_syn_data_removed),
			    "data on a SYN: removed (sent again after the handshake)" },
};

/* Counts an evasion attempt; warns once per flow and kind (floods are limited). */
static void norm_event(struct qthread *qt, struct flow *f, enum norm_event e)
{
	char name[160];

	stats_add_at(&qt->st, norm_events[e].counter, 1);
	if (!f || (f->norm_logged & (1u << e)))
		return;
	f->norm_logged |= (uint16_t)(1u << e);
	session_flow_name(f, name, sizeof(name));
	log_warnx("tcp %s: flow=%s", norm_events[e].what, name);
}

static void count_reasm(struct qthread *qt, int r)
{
	if (r & REASM_QUEUED)
		STATS_ADD(&qt->st, reasm_out_of_order, 1);
	if (r & REASM_RETRANS)
		STATS_ADD(&qt->st, reasm_retransmissions, 1);
	if (r & REASM_OVERFLOW)
		STATS_ADD(&qt->st, reasm_overflows, 1);
	if (r & REASM_UNVERIFIED)
		STATS_ADD(&qt->st, reasm_unverified, 1);
	if (r & REASM_OOO_FULL)
		flows_exception(qt, qt->cur.flow, CAUSE_OOO);
}

/* total_buffer is full (other flows hold it). A message being read could not be kept
 * for its scan, and would not go on either: it is refused for now (SMTP 451 in place of
 * the reply to its end, the server's transaction aborted; POP3 reset). Between messages
 * the packet is dropped and TCP sends it again. */
static enum verdict total_full(struct qthread *qt, struct flow *f, enum flow_dir dir,
			       const struct pkt *p, uint32_t id, uint64_t now)
{
	enum flow_dir content = f->proto == PROTO_SMTP ? DIR_TO_SERVER : DIR_TO_CLIENT;
	int busy = f->app && f->state == FLOW_ESTABLISHED && dir == content && session_busy(f->app);
	struct session_req *req = &qt->cur.req;
	struct pkt at = *p;
	enum verdict v;

	if (flows_exception_at(qt, f, CAUSE_TOTAL, busy) != ACT_TEMPFAIL)
		return V_DROP;
	req->block = 1;
	req->block_outcome = policy_tempfail((enum ports_proto)f->proto);
	snprintf(req->block_reason, sizeof(req->block_reason),
		 "no memory to keep it for the scan (total_buffer)");
	qt->cur.mid_message = 1;
	at.seq = flows_rcv_nxt(qt, f, dir); /* where the receiver's stream stops */
	v = hold_settle(qt, f, dir, &at, id, now);
	qt->cur.mid_message = 0;
	return v;
}

/* The POP3 bodies that ended in the bytes at SEQ (the jobs from JOBS to HAD): their
 * places in the stream, for a capture to hold each on its own; BEFORE is where the
 * capture's body began before these bytes (-1: no capture then). */
static void place_jobs(const struct flow *f, struct scan_job *jobs, const struct scan_job *had,
		       uint32_t seq, int64_t before)
{
	struct scan_job *j;

	for (j = jobs; j != had; j = j->next) {
		if (j->placed != SESSION_PLACED_PUSH)
			continue;
		j->placed = 0;
		if (!capture_on(f) || (j->from == SESSION_BODY_BEFORE && before < 0))
			continue;
		j->from = j->from == SESSION_BODY_BEFORE ? (uint32_t)before : seq + j->from;
		j->to += seq;
		j->placed = SESSION_PLACED_SEQ;
	}
}

/* In-order bytes: to the session; a POP3 body's from its first byte kept whole */
static void deliver(void *arg, const uint8_t *d, size_t len)
{
	struct qthread *qt = arg;
	struct flow *f = qt->cur.flow;
	struct session_req *req = &qt->cur.req;
	struct scan_job *had = req->jobs;
	int64_t before;
	uint32_t seq;

	flows_deliver(qt, d, len);
	if (qt->cur.dir != DIR_TO_CLIENT || f->state != FLOW_ESTABLISHED)
		return;
	seq = f->dir[DIR_TO_CLIENT].next - (uint32_t)len;
	before = capture_on(f) ? (int64_t)capture_body_at(f) : -1;
	if (req->body) {
		uint32_t first = seq + (uint32_t)req->body_first;

		req->body = 0;
		/* from these bytes on (the status line too: none of this packet passes) */
		if (!capture_on(f) && qt->cfg->pop3_hold == POP3_HOLD_WHOLE)
			capture_start(qt, f, seq, now_ms());
		if (!qt->cur.cap_block_set) {
			qt->cur.cap_block = first;
			qt->cur.cap_block_set = 1;
		}
		capture_body(f, seq + (uint32_t)req->body_last);
	}
	place_jobs(f, req->jobs, had, seq, before);
	if (req->msg_end_set) {
		uint32_t end = seq + (uint32_t)req->msg_end;

		req->msg_end_set = 0;
		if (!qt->cur.cap_end_set || SEQ_GT(end, qt->cur.cap_end))
			qt->cur.cap_end = end;
		qt->cur.cap_end_set = 1;
	}
	capture_bytes(qt, f, seq, d, len);
}

static enum verdict handle_data(struct qthread *qt, struct flow *f, enum flow_dir dir,
				struct pkt *p, uint32_t id, uint64_t now)
{
	/* the bytes as queued: a conflicting copy is rewritten there */
	uint8_t *data = qt->pk.buf + (p->payload - qt->pk.buf);
	int res;

	memset(&qt->cur, 0, sizeof(qt->cur));
	qt->cur.flow = f;
	qt->cur.dir = dir;
	/* if this packet is dropped, the server answers only what came before it */
	qt->cur.owed = session_owed(f->app);
	if (dir == DIR_TO_CLIENT && capture_on(f)) {
		qt->cur.cap_block = capture_body_at(f);
		qt->cur.cap_block_set = 1;
	}
	res = reasm_add(&f->dir[dir], &qt->lim, p->seq, data, p->payload_len, deliver, qt);
	count_reasm(qt, res);
	if (res & REASM_AFTER_FIN) {
		/* never read by the receiver; no legitimate sender does it */
		norm_event(qt, f, NORM_AFTER_CLOSE);
		flows_reset(qt, f, dir, flows_rcv_nxt(qt, f, dir));
		return V_DROP;
	}
	if (res & REASM_WINDOW) {
		norm_event(qt, f, NORM_WINDOW);
		return V_DROP;
	}
	if (res & REASM_TOTAL_FULL)
		return total_full(qt, f, dir, p, id, now);
	if (res & REASM_OVERFLOW)
		return V_DROP;
	if (res & REASM_REWRITTEN) {
		norm_event(qt, f, NORM_REWRITE);
		qt->pk.changed = 1;
	}
	if ((res & REASM_QUEUED) && dir == DIR_TO_CLIENT && f->proto == PROTO_POP3 &&
	    qt->cfg->pop3_hold == POP3_HOLD_WHOLE && !capture_on(f)) {
		/* a body's bytes ahead of its status line would reach the client before
		 * mailscand knows they are a body: the server sends them again */
		STATS_ADD(&qt->st, pop3_ooo_dropped, 1);
		return V_DROP;
	}
	if ((res & REASM_RETRANS) && hold_in_range(qt, f, dir, p->seq, p->payload_len)) {
		STATS_ADD(&qt->st, held_retransmissions_dropped, 1);
		return V_DROP;
	}
	/* the stream ends with these bytes (a FIN they reach, or theirs in order) */
	if (f->app && f->state == FLOW_ESTABLISHED &&
	    ((res & REASM_FIN) || ((p->flags & TCPF_FIN) && f->dir[dir].fin != FIN_DONE &&
				   f->dir[dir].next == p->seq + (uint32_t)p->payload_len)))
		session_close(f->app, f, dir, &qt->cur.req);
	if (dir == DIR_TO_CLIENT && capture_on(f) && f->state == FLOW_ESTABLISHED)
		return hold_capture(qt, f, p, now);
	return hold_settle(qt, f, dir, p, id, now);
}

/* A flow whose server bytes are kept (capture.c): the client's segments drive the
 * release, the server's wait behind what is kept, and its FIN until all went. */
static enum verdict captured(struct qthread *qt, struct flow *f, enum flow_dir dir, struct pkt *p,
			     uint64_t now)
{
	if (dir == DIR_TO_SERVER) {
		capture_client_pkt(qt, f, p, qt->pk.buf, now);
		return V_ACCEPT;
	}
	if (p->payload_len && !capture_taking(f, p->seq))
		return V_DROP; /* sent again once what is kept is out */
	if (p->flags & TCPF_FIN) {
		if (!p->payload_len && p->seq == f->dir[DIR_TO_CLIENT].next && capture_fin(f)) {
			/* the stream ends: what a client takes as complete at its end waits
			 * for its scans too; the FIN itself passes once all went */
			memset(&qt->cur, 0, sizeof(qt->cur));
			qt->cur.flow = f;
			qt->cur.dir = dir;
			qt->cur.cap_block = capture_body_at(f);
			qt->cur.cap_block_set = 1;
			qt->cur.cap_end = p->seq;
			qt->cur.cap_end_set = 1;
			/* its place is known: bytes after it are never read (a reset) */
			reasm_fin(&f->dir[dir], &qt->lim, p->seq);
			session_close(f->app, f, dir, &qt->cur.req);
			return hold_capture(qt, f, p, now);
		}
		if (!p->payload_len) {
			capture_server_pkt(qt, f, p, now);
			return V_DROP;
		}
		p->flags &= (uint8_t)~TCPF_FIN; /* the bytes are kept, the FIN sent again */
	}
	if (!p->payload_len)
		capture_server_pkt(qt, f, p, now);
	return V_ACCEPT;
}

/* A FIN alone ends the stream: the session may want it held like a completing segment. */
static enum verdict fin_alone(struct qthread *qt, struct flow *f, enum flow_dir dir,
			      const struct pkt *p, uint32_t id, uint64_t now)
{
	if (!f->app || f->state != FLOW_ESTABLISHED)
		return V_ACCEPT; /* passed, or a reject or delete under way */
	memset(&qt->cur, 0, sizeof(qt->cur));
	qt->cur.flow = f;
	qt->cur.dir = dir;
	qt->cur.owed = session_owed(f->app);
	session_close(f->app, f, dir, &qt->cur.req);
	return hold_settle(qt, f, dir, p, id, now);
}

/* Data on a SYN-ACK is the first bytes of the server's stream. Data on a client's SYN
 * (TCP Fast Open) is removed: which SYN counts is known only from the SYN-ACK, and the
 * server acknowledges none of it, so the client sends it again after the handshake. */
static enum verdict syn_data(struct qthread *qt, struct flow *f, enum flow_dir dir, struct pkt *p,
			     uint32_t id, uint64_t now)
{
	struct pkt d;

	if (!p->payload_len)
		return V_ACCEPT;
	if (dir == DIR_TO_SERVER) {
		qt->pk.len = packet_truncate(qt->pk.buf, p, 0);
		qt->pk.changed = 1;
		norm_event(qt, f, NORM_SYN_DATA);
		return V_ACCEPT;
	}
	d = *p;
	d.seq++;
	return handle_data(qt, f, dir, &d, id, now);
}

static enum verdict start_flow(struct qthread *qt, struct pkt *p, uint32_t id, uint64_t now)
{
	struct flow *f = flows_start(qt, p, now);

	/* no room, even after evicting: dropped, the client sends its SYN again */
	return f ? syn_data(qt, f, DIR_TO_SERVER, p, id, now) : V_DROP;
}

static enum verdict handle_syn(struct qthread *qt, struct flow *f, enum flow_dir dir, struct pkt *p,
			       uint32_t id, uint64_t now)
{
	switch (tcpnorm_syn_kind(f, dir, p)) {
	case SYN_ESTABLISH:
		tcpnorm_establish(f, p);
		/* fall through */
	case SYN_RETRANS:
		return syn_data(qt, f, dir, p, id, now);
	case SYN_ANOTHER:
		tcpnorm_syn_another(f, p);
		return syn_data(qt, f, dir, p, id, now);
	case SYN_NEW:
		STATS_ADD(&qt->st, flows_closed, 1);
		flows_end(qt, f);
		return start_flow(qt, p, id, now);
	case SYN_ESTABLISHED:
		break;
	}
	norm_event(qt, f, NORM_SYN);
	return V_DROP;
}

/* A reset ends the flow only where the receiver takes it; any other is answered by the
 * receiver with a challenge ACK (or nothing) and passes. */
static enum verdict handle_rst(struct qthread *qt, struct flow *f, enum flow_dir dir,
			       const struct pkt *p)
{
	if (f->state == FLOW_SYN || !f->dir[dir].started ||
	    tcpnorm_rst_taken(f, dir, p->seq, flows_rcv_nxt(qt, f, dir))) {
		flows_bury(qt, f, FLOW_RESET);
		f->rst_dir = (uint8_t)dir;
	} else {
		norm_event(qt, f, NORM_RST);
	}
	return V_ACCEPT;
}

/* A packet of a flow first seen mid-stream: the midstream policy (passed during the
 * grace after start, and with midstream = pass). The flow is remembered, so the packets
 * already queued behind it are judged once. */
static enum verdict midstream(struct qthread *qt, const struct pkt *p, enum flow_dir dir,
			      uint64_t now)
{
	/* a handshake in progress is no connection older than the daemon: the client
	 * starts again */
	enum policy_cause cause = (p->flags & TCPF_SYN) ? CAUSE_HANDSHAKE : CAUSE_MIDSTREAM;
	enum policy_act a = policy_exception(qt->cfg, cause, 0, now - qt->start_ms);
	struct flow *f = flows_unknown(qt, p, dir, a == ACT_PASS ? FLOW_PASS : FLOW_RESET, now);

	STATS_ADD(&qt->st, flows_midstream, 1);
	if (!f) {
		/* no room to remember it: dropped, the sender tries again */
		stats_add_at(&qt->st, policy_counter(cause, a), 1);
		return a == ACT_PASS ? V_OFFLOAD : V_DROP;
	}
	flows_exception(qt, f, cause);
	if (a == ACT_PASS)
		return V_OFFLOAD;
	flows_reset_by_pkt(qt, f, dir, p);
	return V_DROP;
}

/* A flow that was reset or closed: the receiver is gone, or will answer with a reset;
 * data means a reset never reached its receiver, so both sides are reset. */
static enum verdict tombstone(struct qthread *qt, struct flow *f, enum flow_dir dir,
			      const struct pkt *p)
{
	if (!f->dir[DIR_TO_SERVER].started) {
		/* known only from packets: every one shows where its ends are */
		flows_reset_by_pkt(qt, f, dir, p);
		f->state = FLOW_RESET;
		return V_DROP;
	}
	if (!p->payload_len)
		return V_ACCEPT;
	norm_event(qt, f, NORM_AFTER_CLOSE);
	flows_reset(qt, f, dir, flows_rcv_nxt(qt, f, dir));
	return V_DROP;
}

static void clear_urg(struct qthread *qt, struct flow *f, struct pkt *p)
{
	/* Linux takes the byte under the urgent pointer out of the stream the application
	 * reads (no SO_OOBINLINE); mail never uses it, so it is read inline as scanned */
	packet_clear_urg(qt->pk.buf, p);
	qt->pk.changed = 1;
	norm_event(qt, f, NORM_URG);
}

/* Gateway mode: what this hop passes reaches the receiver (an insertion that expires
 * after the gateway would be read here and not there). */
static void raise_ttl(struct qthread *qt, struct flow *f, struct pkt *p)
{
	unsigned int ttl = tcpnorm_ttl(p, qt->cfg->min_ttl);

	if (!ttl || qt->cfg->mode != MODE_GATEWAY)
		return;
	packet_set_ttl(qt->pk.buf, p, (uint8_t)ttl);
	qt->pk.changed = 1;
	norm_event(qt, f, NORM_TTL);
}

/* A pure ACK offers the sender no more than flow_buffer beyond what it acknowledges: at
 * high rates the sender is slowed by its window instead of by a segment dropped past
 * flow_buffer, which TCP takes for congestion. */
static void clamp_window(struct qthread *qt, struct flow *f, enum flow_dir dir, struct pkt *p)
{
	int w;

	if (f->state != FLOW_ESTABLISHED || !f->app || capture_on(f))
		return;
	w = tcpnorm_window_clamp(f, dir, p, qt->lim.keep_cap);
	if (w < 0)
		return;
	packet_set_window(qt->pk.buf, p, (uint16_t)w);
	qt->pk.changed = 1;
	STATS_ADD(&qt->st, tcp_window_clamped, 1);
}

/* A client's SYN that the rules marked as coming on a connection conntrack holds
 * offloaded (TLS, passed mid-stream): the flow it starts (V not a drop) knows it. The
 * receiver answers a SYN on a live connection with a challenge ACK and keeps the
 * connection; only a SYN-ACK shows a new one. */
static enum verdict syn_on_offloaded(struct qthread *qt, const struct pkt *p, enum verdict v)
{
	enum flow_dir dir;
	struct flow *f;

	if (v != V_DROP && (qt->pk.mark & qt->sh.cfg->offload_mark) &&
	    (f = flow_lookup(qt->flows, p, &dir)) && f->state == FLOW_SYN)
		f->on_offloaded = 1;
	return v;
}

static enum verdict handle(struct qthread *qt, struct pkt *p, uint32_t id, uint64_t now)
{
	enum flow_dir dir = DIR_TO_SERVER;
	struct flow *f = flow_lookup(qt->flows, p, &dir);
	enum tcpnorm_drop why;
	enum verdict v = V_ACCEPT;

	if (!f && !qt->sh.port_proto[p->dport])
		dir = DIR_TO_CLIENT; /* unknown flow: the protected port says which side */
	if (dir == DIR_TO_SERVER) {
		STATS_ADD(&qt->st, packets_to_server, 1);
		STATS_ADD(&qt->st, bytes_to_server, p->payload_len);
	} else {
		STATS_ADD(&qt->st, packets_to_client, 1);
		STATS_ADD(&qt->st, bytes_to_client, p->payload_len);
	}
	if (tcpnorm_auth_drop(p)) {
		/* the receiver drops it: so must the view of its stream */
		norm_event(qt, f, NORM_AUTH);
		return V_DROP;
	}
	raise_ttl(qt, f, p);
	if (!f) {
		if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && qt->sh.port_proto[p->dport]) {
			if (p->flags & TCPF_URG)
				clear_urg(qt, NULL, p);
			return syn_on_offloaded(qt, p, start_flow(qt, p, id, now));
		}
		if (p->flags & TCPF_RST)
			return V_ACCEPT;
		return midstream(qt, p, dir, now);
	}
	flow_touch(qt->flows, f, now);
	/* a client's SYN on a passed, closed or reset flow is a new connection */
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && dir == DIR_TO_SERVER &&
	    (f->state == FLOW_PASS || f->state == FLOW_ABORTED))
		return syn_on_offloaded(qt, p, handle_syn(qt, f, dir, p, id, now));
	if (f->state == FLOW_PASS)
		return V_OFFLOAD;
	if (f->state == FLOW_SYN && f->on_offloaded && !(p->flags & TCPF_SYN)) {
		/* not the new handshake's: the offloaded connection, alive */
		STATS_ADD(&qt->st, offload_kept, 1);
		return V_OFFLOAD;
	}
	if (f->state == FLOW_ABORTED)
		return V_DROP; /* reset or rejected by us: nothing more reaches either side */
	if (f->state == FLOW_REJECTING || f->state == FLOW_DELETING) {
		if (dir == DIR_TO_SERVER)
			return V_DROP; /* the end of data (sent again), the reset client's bytes */
		qt->pk.waiting = f;    /* the answers the hold waits for */
	}
	if (p->flags & TCPF_URG)
		clear_urg(qt, f, p);
	if (p->flags & TCPF_SYN)
		return handle_syn(qt, f, dir, p, id, now);
	if (p->flags & TCPF_RST)
		return handle_rst(qt, f, dir, p);
	if (f->state == FLOW_RESET && capture_on(f) && dir == DIR_TO_SERVER)
		capture_client_pkt(qt, f, p, qt->pk.buf,
				   now); /* where the client is, for its reset */
	if (f->state == FLOW_RESET)
		return tombstone(qt, f, dir, p);
	if (capture_on(f) && f->state == FLOW_ESTABLISHED && captured(qt, f, dir, p, now) == V_DROP)
		return V_DROP;
	if (p->payload_len || (p->flags & TCPF_FIN)) {
		why = tcpnorm_check(f, dir, p);
		if (why != DROP_NONE) {
			norm_event(qt, f, why == DROP_PAWS ? NORM_PAWS : NORM_NO_ACK);
			return V_DROP;
		}
	}
	if (!p->payload_len && (p->flags & TCPF_FIN) && hold_in_range(qt, f, dir, p->seq, 1)) {
		STATS_ADD(&qt->st, held_retransmissions_dropped, 1);
		return V_DROP; /* a held FIN, sent again */
	}
	if (p->payload_len)
		v = handle_data(qt, f, dir, p, id, now);
	if (v == V_DROP || f->state == FLOW_ABORTED)
		return v;
	tcpnorm_taken(f, dir, p, &qt->lim);
	clamp_window(qt, f, dir, p);
	if ((p->flags & TCPF_FIN) &&
	    (reasm_fin(&f->dir[dir], &qt->lim, p->seq + (uint32_t)p->payload_len) & REASM_FIN) &&
	    !p->payload_len && v == V_ACCEPT)
		v = fin_alone(qt, f, dir, p, id, now);
	if (f->state == FLOW_DELETING && v == V_ACCEPT)
		return V_DROP; /* the server's answers to DELE and QUIT reach nobody */
	if (f->dir[0].fin == FIN_DONE && f->dir[1].fin == FIN_DONE && f->state != FLOW_DELETING)
		f->state = FLOW_CLOSING;
	return v;
}

/* Accepts the current packet, carrying its normalised bytes if they changed. OFFLOAD:
 * with the offload mark; else the packet keeps its mark, less the offload bit the rules
 * put on a SYN for the daemon alone (no socket or rule after this one reads it). */
static void accept_pkt(struct qthread *qt, uint32_t id, int offload)
{
	uint32_t bit = qt->sh.cfg->offload_mark, m = offload ? bit : qt->pk.mark & ~bit;
	const uint32_t *mark = offload || (qt->pk.mark & bit) ? &m : NULL;

	if (!qt->pk.changed) {
		nfqueue_verdict(qt->nfq, id, 1, mark);
		return;
	}
	packet_csum_set(qt->pk.buf, qt->pk.p);
	if (nfqueue_verdict_pkt(qt->nfq, id, qt->pk.buf, qt->pk.len, mark) < 0)
		nfqueue_verdict(qt->nfq, id, 0, NULL); /* cannot carry it: sent again */
}

static void on_packet(void *arg, const struct nfqueue_pkt *np)
{
	struct qthread *qt = arg;
	uint64_t now = now_ms();
	enum flow_dir dir;
	struct pkt p;
	enum verdict v;

	qt->pk = (struct cur_pkt){ .buf = np->data, .len = np->len, .p = &p, .mark = np->mark };
	if (np->truncated) {
		/* its bytes cannot be read, so they must not reach the receiver; TCP sends
		 * them again, usually in smaller segments */
		STATS_ADD(&qt->st, packets_truncated, 1);
		nfqueue_verdict(qt->nfq, np->id, 0, NULL);
		STATS_ADD(&qt->st, verdict_drop, 1);
		return;
	}
	switch (decode_packet(np->data, np->len, &p)) {
	case DECODE_OK:
		/* the receiver discards a bad checksum: so must the view of its stream */
		if (np->csum_unchecked && !packet_csum_ok(np->data, &p)) {
			norm_event(qt, flow_lookup(qt->flows, &p, &dir), NORM_CSUM);
			v = V_DROP;
		} else {
			v = handle(qt, &p, np->id, now);
		}
		break;
	case DECODE_NOT_TCP:
		STATS_ADD(&qt->st, packets_not_tcp, 1);
		v = V_ACCEPT;
		break;
	case DECODE_FRAGMENT:
		/* conntrack reassembles before the queue; one here cannot be read */
		STATS_ADD(&qt->st, packets_fragments, 1);
		v = V_DROP;
		break;
	default:
		/* the receiver's TCP discards what cannot be decoded */
		STATS_ADD(&qt->st, packets_malformed, 1);
		v = V_DROP;
		break;
	}
	switch (v) {
	case V_HELD:
		return;
	case V_OFFLOAD:
		STATS_ADD(&qt->st, flows_offloaded, 1);
		/* fall through */
	case V_ACCEPT:
		accept_pkt(qt, np->id, v == V_OFFLOAD);
		STATS_ADD(&qt->st, verdict_accept, 1);
		break;
	case V_DROP:
		nfqueue_verdict(qt->nfq, np->id, 0, NULL);
		STATS_ADD(&qt->st, verdict_drop, 1);
		break;
	}
	if (qt->pk.waiting)
		holds_waits_due(qt, qt->pk.waiting); /* after this packet's verdict */
}

/* the reasm and message limits of the configuration in force */
static void config_limits(struct qthread *qt)
{
	qt->lim.ooo_cap = qt->cfg->flow_buffer;
	qt->lim.ooo_segs = qt->cfg->ooo_segments;
	qt->lim.keep_cap = qt->cfg->flow_buffer;
	qt->lim.total_cap = qt->cfg->total_buffer;
	qt->budget.cap = qt->cfg->message_memory;
}

/* between packets: a reload's snapshot for the packets to come; flows keep what their
 * sessions took at the start */
static void config_follow(struct qthread *qt)
{
	unsigned long gen = live_generation(qt->sh.live);

	if (gen == qt->cfg_gen)
		return;
	live_put(qt->cfg);
	qt->cfg = live_get(qt->sh.live);
	qt->cfg_gen = gen;
	config_limits(qt);
}

static void *qthread_main(void *arg)
{
	struct qthread *qt = arg;
	struct pollfd pfd[2] = {
		{ .fd = nfqueue_fd(qt->nfq), .events = POLLIN },
		{ .fd = qt->sink.efd, .events = POLLIN },
	};

	while (!*qt->sh.stop) {
		uint64_t now = now_ms();
		int timeout = holds_due(qt, now), t = captures_due(qt, now), i, n;

		flows_flush(qt);
		config_follow(qt);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
		if (timeout < 0 || timeout > 200)
			timeout = 200;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			holds_scans_done(qt);
		for (i = 0; i < RECV_ROUNDS; i++) {
			n = nfqueue_receive(qt->nfq, on_packet, qt);
			if (n < 0 && errno == ENOBUFS) {
				STATS_ADD(&qt->st, enobufs, 1);
				continue;
			}
			if (n <= 0)
				break;
		}
		now = now_ms();
		if (now - qt->last_sweep >= SWEEP_MS) {
			__atomic_store_n(&qt->last_sweep, now, __ATOMIC_RELAXED);
			flows_sweep(qt, now);
		}
	}
	flows_flush(qt);
	return NULL;
}

struct qthread *qthread_new(const struct queue_shared *sh, uint16_t queue)
{
	struct qthread *qt = calloc(1, sizeof(*qt));

	if (!qt)
		return NULL;
	qt->sh = *sh;
	qt->queue = queue;
	qt->cfg_gen = live_generation(sh->live);
	qt->cfg = live_get(sh->live);
	qt->start_ms = now_ms();
	qt->lim.total = &qt->reasm_total;
	qt->budget.store = &msgfd_store; /* each message in its own memfd, sealed at its end */
	config_limits(qt);
	qt->flows = flow_table_new(sh->cfg->max_flows, (uint32_t)now_us() ^ queue);
	if (scan_sink_init(&qt->sink)) {
		free(qt);
		return NULL;
	}
	qt->nfq = nfqueue_new(queue, QUEUE_RCVBUF, sh->cfg->queue_full == QUEUE_FULL_ACCEPT);
	if (!qt->nfq)
		log_warn("queue %u: binding", queue);
	qt->inj = inject_new(sh->cfg->inject_mark);
	if (!qt->inj)
		log_warn("queue %u: raw sockets for injection", queue);
	if (!qt->flows || !qt->nfq || !qt->inj) {
		qthread_free(qt);
		return NULL;
	}
	return qt;
}

uint64_t qthread_last_sweep(const struct qthread *qt)
{
	return __atomic_load_n(&qt->last_sweep, __ATOMIC_RELAXED);
}

int qthread_start(struct qthread *qt)
{
	char name[16];
	int e = pthread_create(&qt->tid, NULL, qthread_main, qt);

	if (e)
		return -e;
	snprintf(name, sizeof(name), "ms-queue%u", qt->queue);
	pthread_setname_np(qt->tid, name);
	return 0;
}

void qthread_join(struct qthread *qt)
{
	pthread_join(qt->tid, NULL);
}

void qthread_free(struct qthread *qt)
{
	if (!qt)
		return;
	scan_sink_destroy(&qt->sink);
	captures_free(qt);
	holds_free(qt);
	if (qt->flows) {
		struct flow *f;

		while ((f = flow_oldest(qt->flows)))
			flows_end(qt, f);
		flow_table_free(qt->flows);
	}
	nfqueue_free(qt->nfq);
	inject_free(qt->inj);
	live_put(qt->cfg);
	free(qt);
}
