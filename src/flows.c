/* A queue thread's flows: started on a SYN to a protected port, remembered as passed or
 * as a tombstone when first seen mid-stream, reset on both sides, swept when idle (an
 * open one is reset, never forgotten), evicted for room (never an open one), ended;
 * the exception policies applied to them; their in-order bytes go to their sessions,
 * and what the thread injects into them goes out after the verdicts before it. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "qthread.h"
#include "tcpnorm.h"

#define SYN_TIMEOUT  30000
#define PASS_TIMEOUT 10000 /* a passed flow is offloaded: its packets come no more */
#define TOMBSTONE_MS 60000 /* closed or reset: the receiver's TIME-WAIT */
#define TRIM_MS	     1000  /* idle this long: buffers kept for activity go back */
#define EVICT_SCAN   64	   /* flows looked at for an idle one to evict */

void flows_end(struct qthread *qt, struct flow *f)
{
	flow_unlink(qt->flows, f);
	if (f->holds)
		return; /* freed when its last hold is resolved */
	if (f->dir[0].started)
		reasm_free(&f->dir[0], &qt->lim);
	if (f->dir[1].started)
		reasm_free(&f->dir[1], &qt->lim);
	session_free(f->app);
	flow_free(f);
}

/* A flow reset or aborted is a tombstone: it reads no more bytes, so its buffers go back
 * now rather than at the end of its TIME-WAIT (unacknowledged and out-of-order bytes
 * would keep total_buffer taken from the flows that are read, a message cut short or
 * kept for a reading that goes on would keep message_memory). A handshake reset before
 * the server answered has read nothing, and its SYN-ACK may still start it. */
void flows_bury(struct qthread *qt, struct flow *f, enum flow_state state)
{
	if (f->state != FLOW_SYN) {
		session_free(f->app);
		f->app = NULL;
	}
	f->state = state;
	if (f->dir[0].started)
		reasm_free(&f->dir[0], &qt->lim);
	if (f->dir[1].started)
		reasm_free(&f->dir[1], &qt->lim);
}

static void flow_trim(struct qthread *qt, struct flow *f)
{
	if (f->dir[0].started)
		reasm_trim(&f->dir[0], &qt->lim);
	if (f->dir[1].started)
		reasm_trim(&f->dir[1], &qt->lim);
}

/* an open connection that is followed (a handshake the client completed): never
 * forgotten, only reset */
static int flow_live(const struct flow *f)
{
	return (f->state == FLOW_ESTABLISHED && f->open) || f->state == FLOW_REJECTING ||
	       f->state == FLOW_DELETING;
}

/* The flow to make room for a new one: the least recently active among the oldest
 * EVICT_SCAN that is not an open connection (a tombstone, a passed flow, a handshake
 * the client has not completed): the next packet of such a flow is mid-stream, and is
 * reset. While mid-stream flows pass (the grace after start), only passed flows can
 * go. NULL: the new SYN waits (it is sent again). */
static struct flow *flow_victim(struct qthread *qt)
{
	struct flow *f = flow_oldest(qt->flows);
	int passing =
		policy_exception(qt->cfg, CAUSE_MIDSTREAM, 0, now_ms() - qt->start_ms) == ACT_PASS;
	unsigned int i;

	for (i = 0; f && i < EVICT_SCAN; i++, f = f->newer) {
		if (!f->holds && !flow_live(f) && (!passing || f->state == FLOW_PASS))
			return f;
	}
	return NULL;
}

static uint64_t flow_timeout(const struct qthread *qt, const struct flow *f)
{
	switch (f->state) {
	case FLOW_SYN:
		return SYN_TIMEOUT;
	case FLOW_PASS:
		return PASS_TIMEOUT;
	case FLOW_CLOSING:
	case FLOW_RESET:
	case FLOW_ABORTED:
		return TOMBSTONE_MS;
	default:
		return qt->cfg->idle_timeout * 1000ULL;
	}
}

enum policy_act flows_exception_at(struct qthread *qt, struct flow *f, enum policy_cause cause,
				   int live)
{
	enum policy_act a = policy_exception(qt->cfg, cause, live, now_ms() - qt->start_ms);
	size_t ctr = policy_counter(cause, a);
	char name[160] = "-";

	if (ctr != SIZE_MAX)
		stats_add_at(&qt->st, ctr, 1);
	if (a == ACT_RESET && f && f->dir[DIR_TO_SERVER].started)
		flows_reset(qt, f, DIR_TO_SERVER, flows_rcv_nxt(qt, f, DIR_TO_SERVER));
	if (f && (f->policy_logged & (1u << cause)))
		return a;
	if (f) {
		f->policy_logged |= (uint16_t)(1u << cause);
		session_flow_name(f, name, sizeof(name));
	}
	/* one limit per cause: a flood of one kind of exception hides no other */
	log_warnx_kind(policy_cause_name(cause), "policy=%s action=%s flow=%s",
		       policy_cause_name(cause), policy_act_name(a), name);
	return a;
}

enum policy_act flows_exception(struct qthread *qt, struct flow *f, enum policy_cause cause)
{
	return flows_exception_at(qt, f, cause, f && flow_live(f));
}

void flows_sweep(struct qthread *qt, uint64_t now)
{
	struct flow *f, *newer;

	/* every idle flow gives back its buffers; each has its own timeout */
	for (f = flow_oldest(qt->flows); f && now - f->last_ms >= TRIM_MS; f = newer) {
		newer = f->newer;
		if (f->holds || now - f->last_ms < flow_timeout(qt, f)) {
			/* a held flow waits for its hold's time limit */
			flow_trim(qt, f);
			continue;
		}
		if (f->state == FLOW_CLOSING || f->state == FLOW_RESET ||
		    f->state == FLOW_ABORTED) {
			STATS_ADD(&qt->st, flows_closed, 1);
		} else {
			STATS_ADD(&qt->st, flows_timed_out, 1);
			/* an open connection is reset; a passed flow (offloaded: its packets
			 * come no more) or an unanswered handshake just goes */
			if (flow_live(f) && flows_exception(qt, f, CAUSE_IDLE) == ACT_RESET) {
				/* reset, it stays a tombstone for the receiver's TIME-WAIT */
				flow_touch(qt->flows, f, now);
				continue;
			}
		}
		flows_end(qt, f);
	}
	log_flush();
	STATS_SET(&qt->st, flows_active, flow_table_count(qt->flows));
	STATS_SET(&qt->st, reasm_buffered_bytes, qt->reasm_total);
	STATS_SET(&qt->st, message_bytes_kept, qt->budget.used);
}

struct flow *flows_start(struct qthread *qt, const struct pkt *p, uint64_t now)
{
	struct flow *f = flow_insert(qt->flows, p, now);

	if (!f) {
		struct flow *old = flow_victim(qt);

		if (!old) {
			flows_exception(qt, NULL, CAUSE_FLOWS_FULL);
			return NULL;
		}
		/* never an open connection: its next packet would be mid-stream */
		STATS_ADD(&qt->st, flows_evicted, 1);
		flows_end(qt, old);
		f = flow_insert(qt->flows, p, now);
		if (!f)
			return NULL;
	}
	f->proto = (uint8_t)(qt->sh.port_proto[p->dport] - 1);
	f->app = session_new((enum ports_proto)f->proto, qt->cfg, &qt->st, &qt->budget);
	reasm_init(&f->dir[DIR_TO_SERVER], p->seq + 1);
	tcpnorm_syn(f, p);
	STATS_ADD(&qt->st, flows_total, 1);
	return f;
}

struct flow *flows_unknown(struct qthread *qt, const struct pkt *p, enum flow_dir dir,
			   enum flow_state state, uint64_t now)
{
	struct pkt c = *p;
	struct flow *f;

	if (dir == DIR_TO_CLIENT) {
		memcpy(c.saddr, p->daddr, sizeof(c.saddr));
		memcpy(c.daddr, p->saddr, sizeof(c.daddr));
		c.sport = p->dport;
		c.dport = p->sport;
	}
	f = flow_insert(qt->flows, &c, now);
	if (!f && (f = flow_victim(qt))) {
		STATS_ADD(&qt->st, flows_evicted, 1);
		flows_end(qt, f);
		f = flow_insert(qt->flows, &c, now);
	}
	if (f) {
		f->state = state;
		f->proto = (uint8_t)(qt->sh.port_proto[c.dport] - 1);
	}
	return f;
}

/* Sends the verdicts queued so far: packets given their verdict go before anything
 * injected next. */
void flows_flush(struct qthread *qt)
{
	int n = nfqueue_flush(qt->nfq);

	if (n > 0)
		STATS_ADD(&qt->st, verdict_sends, (uint64_t)n);
	else if (n < 0)
		log_warn("queue %u: sending verdicts", qt->queue);
}

/* Sends a segment of F towards TO as if from the other side; 0 or -1 (counted). The
 * verdicts given so far go first: a reset at the receiver's next sequence number that
 * overtook the packets before it would be off that number, and ignored. A pure ACK
 * (a capture's, one per server segment) takes no sequence space: the batch goes on. */
int flows_send_spec(struct qthread *qt, const struct flow *f, enum flow_dir to, struct tcp_spec *s)
{
	const struct flow_key *k = &f->key;

	s->family = k->family;
	s->saddr = to == DIR_TO_SERVER ? k->caddr : k->saddr;
	s->daddr = to == DIR_TO_SERVER ? k->saddr : k->caddr;
	s->sport = to == DIR_TO_SERVER ? k->cport : k->sport;
	s->dport = to == DIR_TO_SERVER ? k->sport : k->cport;
	if (s->payload_len || (s->flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)))
		flows_flush(qt);
	if (inject_send(qt->inj, s) < 0) {
		STATS_ADD(&qt->st, inject_errors, 1);
		log_warn("queue %u: injecting a packet", qt->queue);
		return -1;
	}
	STATS_ADD(&qt->st, injected_packets, 1);
	return 0;
}

int flows_send(struct qthread *qt, const struct flow *f, enum flow_dir to, uint32_t seq,
	       uint32_t ack, uint8_t flags, const char *payload)
{
	struct tcp_spec s = {
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.window = payload ? 1024 : 0,
		.payload = (const uint8_t *)payload,
		.payload_len = payload ? strlen(payload) : 0,
	};

	return flows_send_spec(qt, f, to, &s);
}

/* The next sequence number the receiver of DIR expects: it has everything passed up to
 * the earliest range still held (RFC 5961 receivers take a reset only there). */
uint32_t flows_rcv_nxt(const struct qthread *qt, const struct flow *f, enum flow_dir dir)
{
	uint32_t nxt = reasm_rcv_nxt(&f->dir[dir]);
	const struct hold *h;

	if (!f->dir[dir].started)
		return 0;
	if (dir == DIR_TO_CLIENT && f->cap)
		nxt = f->cap_next; /* a capture's bytes go from there */
	for (h = f->holds ? qt->holds : NULL; h; h = h->next) {
		if (h->flow == f && h->dir == dir && !h->resolved && SEQ_LT(h->seq, nxt))
			nxt = h->seq;
	}
	return nxt;
}

/* Resets both sides. SEQ is where the sender's stream stops for the receiver (the
 * dropped packet's start): RFC 5961 receivers only take a RST at exactly rcv_nxt. */
void flows_reset(struct qthread *qt, struct flow *f, enum flow_dir dir, uint32_t seq)
{
	enum flow_dir other = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
	uint32_t other_next = flows_rcv_nxt(qt, f, other);

	flows_send(qt, f, dir, seq, other_next, TCPF_RST | TCPF_ACK, NULL);
	flows_send(qt, f, other, other_next, seq, TCPF_RST | TCPF_ACK, NULL);
	STATS_ADD(&qt->st, resets, 1);
	flows_bury(qt, f, FLOW_ABORTED);
}

void flows_reset_by_pkt(struct qthread *qt, struct flow *f, enum flow_dir dir, const struct pkt *p)
{
	enum flow_dir other = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
	uint32_t at[2];
	unsigned int m = tcpnorm_reset_points(dir, p, at);

	flows_send(qt, f, dir, at[dir], at[other], TCPF_RST | TCPF_ACK, NULL);
	if (m & (1u << other))
		flows_send(qt, f, other, at[other], at[dir], TCPF_RST | TCPF_ACK, NULL);
	STATS_ADD(&qt->st, resets, 1);
}

/* In-order bytes of the current packet's direction. The protocol parsers plug in
 * here; the test patterns exercise holds and injection without them. */
void flows_deliver(void *arg, const uint8_t *data, size_t len)
{
	struct qthread *qt = arg;
	const struct config *c = qt->cfg;

	if (qt->cur.flow->app && qt->cur.flow->state != FLOW_PASS)
		session_push(qt->cur.flow->app, c, qt->cur.flow, qt->cur.dir, data, len,
			     &qt->cur.req);
	if (qt->cur.dir != DIR_TO_SERVER) {
		STATS_ADD(&qt->st, stream_bytes_to_client, len);
		return;
	}
	STATS_ADD(&qt->st, stream_bytes_to_server, len);
	if (c->test_hold[0] && memmem(data, len, c->test_hold, strlen(c->test_hold)))
		qt->cur.hold = 1;
	if (c->test_reset[0] && memmem(data, len, c->test_reset, strlen(c->test_reset)))
		qt->cur.reset = 1;
}
