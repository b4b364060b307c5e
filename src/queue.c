/* A queue thread: owns one NFQUEUE queue and its flows; no locks on the packet path.
 * Every packet gets its verdict at once, except a packet a parser asks to hold. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "decode.h"
#include "flow.h"
#include "inject.h"
#include "log.h"
#include "nfqueue.h"
#include "packet.h"
#include "policy.h"
#include "scan.h"
#include "session.h"
#include "tcpnorm.h"

#define SWEEP_MS	1000
#define SYN_TIMEOUT	30000
#define IDLE_TIMEOUT	900000
#define CLOSING_TIMEOUT 10000 /* linger after FIN/RST: late ACKs are not mid-stream */
#define TRIM_MS		1000  /* idle this long: buffers kept for activity go back */
#define EVICT_SCAN	64    /* flows looked at for an idle one to evict */
#define REPLY_WAIT_MS	5000  /* a rejected message's 554 waits this long for owed replies */
#define RECV_ROUNDS	64
#define QUEUE_RCVBUF	(32u << 20)

struct hold {
	struct hold *next;
	uint32_t id;
	struct flow *flow;
	enum flow_dir dir;
	uint32_t seq, end; /* the held range */
	uint64_t start_us;
	uint64_t release_us; /* test hold: accept then; 0: waits for its scans */
	uint64_t deadline_ms;
	unsigned int pending; /* scans not back yet */
	int resolved;	      /* verdict given (hold time limit); waits for its scans */
	enum outcome outcome; /* the worst so far */
	char reason[160];     /* why it is blocked, for the 554 */
	uint8_t *pkt;	      /* the normalised packet to accept, or NULL: as queued */
	size_t pkt_len;
	uint64_t replies_before; /* SMTP: server replies owed before this message's */
	int reply_wait;		 /* rejected: the 554 waits for those replies */
	long cut;		 /* SMTP: payload bytes before the message's last byte, or -1 */
	unsigned long msgno;	 /* POP3: the message's number (0: unknown), and TOP */
	int top;
};

/* what processing the current packet decided */
struct pkt_ctx {
	struct flow *flow;
	enum flow_dir dir;
	int hold; /* test hold */
	int reset;
	uint64_t owed; /* SMTP replies owed for the commands before this packet */
	struct session_req req;
};

/* the packet being handled, as queued: normalisation changes it in place */
struct cur_pkt {
	uint8_t *buf;
	size_t len;
	struct pkt *p;
	int changed;	      /* the verdict carries BUF */
	struct flow *waiting; /* a server answer read for a flow whose hold waits for it */
};

struct qthread {
	struct daemon *d;
	uint16_t queue;
	struct nfqueue *nfq;
	struct flow_table *flows;
	struct inject *inj;
	struct reasm_limits lim;
	size_t reasm_total;
	struct hold *holds;
	uint64_t last_sweep;
	struct pkt_ctx cur;
	struct cur_pkt pk;
	struct scan_sink sink;
	struct msg_budget budget; /* message bodies kept by this thread's sessions */
	pthread_t tid;
	struct stats st;
};

const struct stats *qthread_stats(const struct qthread *qt)
{
	return &qt->st;
}

/* --- flows --- */

static void flow_end(struct qthread *qt, struct flow *f)
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

static void flow_trim(struct qthread *qt, struct flow *f)
{
	if (f->dir[0].started)
		reasm_trim(&f->dir[0], &qt->lim);
	if (f->dir[1].started)
		reasm_trim(&f->dir[1], &qt->lim);
}

/* The flow to make room for a new one: the least recently active of those with no
 * message in progress among the oldest EVICT_SCAN, else the oldest. */
static struct flow *flow_victim(struct qthread *qt)
{
	struct flow *f = flow_oldest(qt->flows), *old = f;
	unsigned int i;

	for (i = 0; f && i < EVICT_SCAN; i++, f = f->newer) {
		if (!f->holds && !session_busy(f->app))
			return f;
	}
	if (old)
		STATS_ADD(&qt->st, flows_evicted_busy, 1);
	return old;
}

static uint64_t flow_timeout(const struct flow *f)
{
	switch (f->state) {
	case FLOW_SYN:
		return SYN_TIMEOUT;
	case FLOW_CLOSING:
	case FLOW_RESET:
	case FLOW_PASS:
	case FLOW_ABORTED:
		return CLOSING_TIMEOUT;
	default:
		return IDLE_TIMEOUT;
	}
}

static void sweep(struct qthread *qt, uint64_t now)
{
	struct flow *f, *newer;

	/* every idle flow gives back its buffers; each has its own timeout */
	for (f = flow_oldest(qt->flows); f && now - f->last_ms >= TRIM_MS; f = newer) {
		newer = f->newer;
		if (f->holds || now - f->last_ms < flow_timeout(f)) {
			/* a held flow waits for its hold's time limit */
			flow_trim(qt, f);
			continue;
		}
		if (f->state == FLOW_CLOSING || f->state == FLOW_RESET || f->state == FLOW_ABORTED)
			STATS_ADD(&qt->st, flows_closed, 1);
		else
			STATS_ADD(&qt->st, flows_timed_out, 1);
		flow_end(qt, f);
	}
	log_flush();
	STATS_SET(&qt->st, flows_active, flow_table_count(qt->flows));
	STATS_SET(&qt->st, reasm_buffered_bytes, qt->reasm_total);
	STATS_SET(&qt->st, message_bytes_kept, qt->budget.used);
}

static struct flow *flow_start(struct qthread *qt, const struct pkt *p, uint64_t now)
{
	struct flow *f = flow_insert(qt->flows, p, now);

	if (!f) {
		struct flow *old = flow_victim(qt);

		if (!old)
			return NULL;
		STATS_ADD(&qt->st, flows_evicted, 1);
		flow_end(qt, old);
		f = flow_insert(qt->flows, p, now);
		if (!f)
			return NULL;
	}
	f->proto = (uint8_t)(qt->d->port_proto[p->dport] - 1);
	f->app = session_new((enum ports_proto)f->proto, &qt->d->cfg, &qt->st, &qt->budget);
	reasm_init(&f->dir[DIR_TO_SERVER], p->seq + 1);
	tcpnorm_syn(f, p);
	STATS_ADD(&qt->st, flows_total, 1);
	return f;
}

/* A flow that is not followed; DIR is the direction of P. */
static void pass_flow(struct qthread *qt, const struct pkt *p, enum flow_dir dir, uint64_t now)
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
	if (f)
		f->state = FLOW_PASS;
}

/* Sends the verdicts queued so far: packets given their verdict go before anything
 * injected next. */
static void flush(struct qthread *qt)
{
	int n = nfqueue_flush(qt->nfq);

	if (n > 0)
		STATS_ADD(&qt->st, verdict_sends, (uint64_t)n);
	else if (n < 0)
		log_warn("queue %u: sending verdicts", qt->queue);
}

/* --- injection --- */

/* Sends a packet of F towards TO as if from the other side; 0 or -1 (counted). */
static int send_tcp(struct qthread *qt, const struct flow *f, enum flow_dir to, uint32_t seq,
		    uint32_t ack, uint8_t flags, const char *payload)
{
	const struct flow_key *k = &f->key;
	struct tcp_spec s = {
		.family = k->family,
		.saddr = to == DIR_TO_SERVER ? k->caddr : k->saddr,
		.daddr = to == DIR_TO_SERVER ? k->saddr : k->caddr,
		.sport = to == DIR_TO_SERVER ? k->cport : k->sport,
		.dport = to == DIR_TO_SERVER ? k->sport : k->cport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.window = payload ? 1024 : 0,
		.payload = (const uint8_t *)payload,
		.payload_len = payload ? strlen(payload) : 0,
	};

	if (inject_send(qt->inj, &s) < 0) {
		STATS_ADD(&qt->st, inject_errors, 1);
		log_warn("queue %u: injecting a packet", qt->queue);
		return -1;
	}
	STATS_ADD(&qt->st, injected_packets, 1);
	return 0;
}

/* The next sequence number the receiver of DIR expects: it has everything passed up to
 * the earliest range still held (RFC 5961 receivers take a reset only there). */
static uint32_t rcv_nxt(const struct qthread *qt, const struct flow *f, enum flow_dir dir)
{
	uint32_t nxt = reasm_rcv_nxt(&f->dir[dir]);
	const struct hold *h;

	if (!f->dir[dir].started)
		return 0;
	for (h = f->holds ? qt->holds : NULL; h; h = h->next) {
		if (h->flow == f && h->dir == dir && !h->resolved && SEQ_LT(h->seq, nxt))
			nxt = h->seq;
	}
	return nxt;
}

/* Resets both sides. SEQ is where the sender's stream stops for the receiver (the
 * dropped packet's start): RFC 5961 receivers only take a RST at exactly rcv_nxt. */
static void reset_both(struct qthread *qt, struct flow *f, enum flow_dir dir, uint32_t seq)
{
	enum flow_dir other = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
	uint32_t other_next = rcv_nxt(qt, f, other);

	send_tcp(qt, f, dir, seq, other_next, TCPF_RST | TCPF_ACK, NULL);
	send_tcp(qt, f, other, other_next, seq, TCPF_RST | TCPF_ACK, NULL);
	STATS_ADD(&qt->st, resets, 1);
	f->state = FLOW_ABORTED;
}

/* --- holds --- */

static struct hold *hold_add(struct qthread *qt, uint32_t id, const struct pkt *p, long cut,
			     uint64_t now)
{
	struct hold *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->id = id;
	h->flow = qt->cur.flow;
	h->dir = qt->cur.dir;
	h->seq = p->seq;
	h->end = p->seq + (uint32_t)p->payload_len;
	h->start_us = now_us();
	h->deadline_ms = now + qt->d->cfg.hold_timeout * 1000ULL;
	h->cut = cut;
	if (qt->pk.changed || cut >= 0) {
		/* normalised, or to be cut on a reject: the verdict carries bytes of its
		 * own, kept until then */
		h->pkt = malloc(qt->pk.len);
		if (!h->pkt) {
			free(h);
			return NULL;
		}
		packet_csum_set(qt->pk.buf, qt->pk.p);
		memcpy(h->pkt, qt->pk.buf, qt->pk.len);
		h->pkt_len = qt->pk.len;
	}
	h->flow->holds++;
	h->next = qt->holds;
	qt->holds = h;
	STATS_ADD(&qt->st, holds_total, 1);
	STATS_ADD(&qt->st, holds_current, 1);
	return h;
}

/* Gives the held packet its verdict. */
static void hold_verdict(struct qthread *qt, struct hold *h, int accept)
{
	uint64_t us = now_us() - h->start_us;

	if (accept && h->pkt)
		nfqueue_verdict_pkt(qt->nfq, h->id, h->pkt, h->pkt_len, 0);
	else
		nfqueue_verdict(qt->nfq, h->id, accept, 0);
	if (accept)
		STATS_ADD(&qt->st, verdict_accept, 1);
	else
		STATS_ADD(&qt->st, verdict_drop, 1);
	STATS_ADD(&qt->st, holds_current, (uint64_t)-1);
	STATS_ADD(&qt->st, hold_time_us_total, us);
	STATS_MAX(&qt->st, hold_time_us_max, us);
	h->resolved = 1;
}

/* Unlinks and frees H (its verdict given, its scans back). */
static void hold_free(struct qthread *qt, struct hold *h)
{
	struct hold **pp;
	struct flow *f = h->flow;

	for (pp = &qt->holds; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	if (--f->holds == 0 && !f->linked)
		flow_end(qt, f);
	free(h->pkt);
	free(h);
}

/* SMTP reject: the server gets an RST at SEQ, where the client's stream stops for it
 * (it stores nothing), the client a 554 with REASON, then the end of the connection. */
static void reject_smtp(struct qthread *qt, struct flow *f, uint32_t seq, const char *reason)
{
	char msg[256];
	uint32_t cnxt = rcv_nxt(qt, f, DIR_TO_CLIENT);

	flush(qt); /* what the server gets before the RST: the cut packet, the replies */
	snprintf(msg, sizeof(msg), "554 5.7.1 %s (rejected by mailscan)\r\n", reason);
	send_tcp(qt, f, DIR_TO_SERVER, seq, cnxt, TCPF_RST | TCPF_ACK, NULL);
	if (send_tcp(qt, f, DIR_TO_CLIENT, cnxt, f->dir[DIR_TO_SERVER].next,
		     TCPF_PSH | TCPF_ACK | TCPF_FIN, msg) == 0)
		STATS_ADD(&qt->st, smtp_rejects, 1);
	f->state = FLOW_ABORTED;
}

/* A rejected message's packet: the server gets what comes before the message's last
 * byte (commands it will answer), never that byte; without a cut, nothing. */
static void reject_verdict(struct qthread *qt, struct hold *h)
{
	struct pkt p;

	if (h->cut <= 0 || !h->pkt || decode_packet(h->pkt, h->pkt_len, &p) != DECODE_OK ||
	    (size_t)h->cut >= p.payload_len) {
		hold_verdict(qt, h, 0);
		return;
	}
	h->pkt_len = packet_truncate(h->pkt, &p, (size_t)h->cut);
	h->seq += (uint32_t)h->cut; /* where the server's stream stops now */
	hold_verdict(qt, h, 1);
	STATS_ADD(&qt->st, smtp_rejects_cut, 1);
}

/* The 554 of a rejected message whose owed replies have passed (or that waited long
 * enough); the hold is done. */
static void reject_now(struct qthread *qt, struct hold *h)
{
	reject_smtp(qt, h->flow, h->seq,
		    h->reason[0] ? h->reason : "Message not accepted by policy");
	hold_free(qt, h);
}

static void deliver(void *arg, const uint8_t *data, size_t len);

/* POP3 delete: DELE and QUIT go to the server in the client's place, after all the
 * client sent (pipelined commands included), the client is reset, and the server's
 * answers are read here and never reach the client. A TOP deletes nothing. */
static int delete_start(struct qthread *qt, struct hold *h)
{
	struct flow *f = h->flow;
	struct reasm *c = &f->dir[DIR_TO_SERVER];
	uint32_t seq = c->next;
	char cmd[64];
	int n;

	if (h->top || !h->msgno || f->state != FLOW_ESTABLISHED || c->ooo || !f->app)
		return 0;
	n = snprintf(cmd, sizeof(cmd), "DELE %lu\r\nQUIT\r\n", h->msgno);
	if (send_tcp(qt, f, DIR_TO_SERVER, seq, h->seq, TCPF_PSH | TCPF_ACK, cmd) < 0)
		return 0;
	send_tcp(qt, f, DIR_TO_CLIENT, h->seq, seq, TCPF_RST | TCPF_ACK, NULL);
	/* the parser reads the answers: it takes the commands as the server does */
	session_mark(f->app);
	memset(&qt->cur, 0, sizeof(qt->cur));
	qt->cur.flow = f;
	qt->cur.dir = DIR_TO_SERVER;
	reasm_add(c, &qt->lim, seq, (uint8_t *)cmd, (size_t)n, deliver, qt);
	f->state = FLOW_DELETING;
	return 1;
}

/* The server answered QUIT (or closed, or took too long): the delete is done or
 * refused; the server's connection is released. */
static void delete_finish(struct qthread *qt, struct hold *h)
{
	struct flow *f = h->flow;
	int r = session_dele_result(f->app);
	char name[160];

	session_flow_name(f, name, sizeof(name));
	if (r > 0) {
		STATS_ADD(&qt->st, pop3_deletes, 1);
		log_event("action=delete result=deleted proto=pop3 flow=%s msg=%lu client=reset",
			  name, h->msgno);
	} else {
		STATS_ADD(&qt->st, pop3_delete_refused, 1);
		log_event("action=delete result=%s proto=pop3 flow=%s msg=%lu client=reset",
			  r < 0 ? "refused" : "unanswered", name, h->msgno);
	}
	send_tcp(qt, f, DIR_TO_SERVER, rcv_nxt(qt, f, DIR_TO_SERVER), f->dir[DIR_TO_CLIENT].next,
		 TCPF_RST | TCPF_ACK, NULL);
	STATS_ADD(&qt->st, resets, 1);
	f->state = FLOW_ABORTED;
	hold_free(qt, h);
}

/* Has the server said what the waiting hold H waits for? */
static int wait_met(const struct hold *h)
{
	const struct flow *f = h->flow;

	if (f->state == FLOW_DELETING)
		return session_quit_answered(f->app) || f->dir[DIR_TO_CLIENT].fin == FIN_DONE;
	return session_replies(f->app) >= h->replies_before;
}

static void wait_over(struct qthread *qt, struct hold *h)
{
	if (h->flow->state == FLOW_DELETING)
		delete_finish(qt, h);
	else
		reject_now(qt, h);
}

/* After a server packet of F: the waiting holds whose answers are all in. */
static void waits_due(struct qthread *qt, struct flow *f)
{
	struct hold *h;
	int again = 1;

	while (again) {
		again = 0;
		for (h = qt->holds; h; h = h->next) {
			if (h->flow == f && h->reply_wait && wait_met(h)) {
				wait_over(qt, h);
				again = 1;
				break;
			}
		}
	}
}

/* Carries out the outcome of a hold whose scans are all back. */
static void hold_act(struct qthread *qt, struct hold *h)
{
	switch (h->outcome) {
	case OUTCOME_PASS:
		hold_verdict(qt, h, 1);
		break;
	case OUTCOME_REJECT:
		reject_verdict(qt, h);
		if (session_replies(h->flow->app) < h->replies_before) {
			/* the server still owes replies to earlier commands: the 554 goes
			 * after them, where its reply to this message would have been */
			h->reply_wait = 1;
			h->deadline_ms = now_ms() + REPLY_WAIT_MS;
			h->flow->state = FLOW_REJECTING;
			break;
		}
		reject_smtp(qt, h->flow, h->seq,
			    h->reason[0] ? h->reason : "Message not accepted by policy");
		break;
	case OUTCOME_RESET:
		hold_verdict(qt, h, 0);
		reset_both(qt, h->flow, h->dir, h->seq);
		break;
	case OUTCOME_DELETE:
		hold_verdict(qt, h, 0);
		if (!delete_start(qt, h)) {
			reset_both(qt, h->flow, h->dir, h->seq);
			break;
		}
		h->reply_wait = 1;
		h->deadline_ms = now_ms() + REPLY_WAIT_MS;
		break;
	}
}

static int in_held_range(const struct qthread *qt, const struct flow *f, enum flow_dir dir,
			 uint32_t seq, size_t len)
{
	const struct hold *h;

	if (!f->holds)
		return 0;
	/* a resolved hold's packet has had its verdict: its range is no longer held */
	for (h = qt->holds; h; h = h->next) {
		if (h->flow == f && h->dir == dir && !h->resolved && SEQ_LT(seq, h->end) &&
		    SEQ_GT(seq + (uint32_t)len, h->seq))
			return 1;
	}
	return 0;
}

/* Resolves the holds that are due; returns ms until the next one (or -1). */
static int holds_due(struct qthread *qt, uint64_t now)
{
	struct hold *h, *n;
	uint64_t next = UINT64_MAX, nus = now_us();

	for (h = qt->holds; h; h = n) {
		n = h->next;
		if (h->reply_wait && now >= h->deadline_ms) {
			wait_over(qt, h); /* the server owes too long: go on without it */
			continue;
		}
		if (h->resolved) {
			if (h->reply_wait)
				next = h->deadline_ms < next ? h->deadline_ms : next;
			continue;
		}
		if (h->release_us && nus >= h->release_us) {
			hold_verdict(qt, h, 1);
			hold_free(qt, h);
		} else if (now >= h->deadline_ms) {
			char name[160];

			STATS_ADD(&qt->st, holds_expired, 1);
			h->outcome = policy_outcome(&qt->d->cfg, (enum ports_proto)h->flow->proto,
						    SCAN_TIMEOUT);
			session_flow_name(h->flow, name, sizeof(name));
			log_event("policy=on_error reason=hold_expired proto=%s flow=%s held_s=%u "
				  "action=%s",
				  ports_proto_name((enum ports_proto)h->flow->proto), name,
				  qt->d->cfg.hold_timeout, policy_outcome_name(h->outcome));
			hold_act(qt, h);
			if (!h->pending)
				hold_free(qt, h);
		} else {
			uint64_t t = h->release_us ? now + (h->release_us - nus + 999) / 1000
						   : h->deadline_ms;

			next = t < next ? t : next;
		}
	}
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

/* Is another unsettled hold of F's DIR side earlier in the stream than H? */
static int hold_waits(const struct qthread *qt, const struct hold *h)
{
	const struct hold *o;

	for (o = qt->holds; o; o = o->next) {
		if (o != h && o->flow == h->flow && o->dir == h->dir && !o->resolved &&
		    SEQ_LT(o->seq, h->seq))
			return 1;
	}
	return 0;
}

/* Settles the holds of one side of a flow whose scans are all back, in stream order:
 * a later one waits for an earlier one, so a reset carries the receiver's exact next
 * sequence number and replies cannot overtake each other. */
static void holds_settle(struct qthread *qt, struct flow *f, enum flow_dir dir)
{
	struct hold *h;
	int again = 1;

	while (again) {
		again = 0;
		for (h = qt->holds; h; h = h->next) {
			if (h->flow != f || h->dir != dir || h->pending || h->release_us ||
			    h->reply_wait)
				continue;
			if (!h->resolved && hold_waits(qt, h))
				continue;
			if (!h->resolved)
				hold_act(qt, h);
			if (!h->reply_wait)
				hold_free(qt, h);
			again = 1; /* the list changed, and a later hold may be free to go */
			break;
		}
	}
}

/* per protocol: the counter of clean, infected, failed and oversize messages */
static const size_t message_counters[PROTO_COUNT][4] = {
	[PROTO_SMTP] = { offsetof(struct stats, smtp_messages_clean),
			 offsetof(struct stats, smtp_messages_infected),
			 offsetof(struct stats, smtp_messages_errors),
			 offsetof(struct stats, smtp_messages_oversize) },
	[PROTO_POP3] = { offsetof(struct stats, pop3_messages_clean),
			 offsetof(struct stats, pop3_messages_infected),
			 offsetof(struct stats, pop3_messages_errors),
			 offsetof(struct stats, pop3_messages_oversize) },
};

static void count_message(struct qthread *qt, enum ports_proto proto, const struct scan_job *j)
{
	size_t kind = j->result == SCAN_CLEAN	   ? 0
		      : j->result == SCAN_INFECTED ? 1
		      : j->result == SCAN_OVERSIZE ? 3
						   : 2;

	if (j->candidate)
		return; /* a reading of a message, counted with the message */
	stats_add_at(&qt->st, message_counters[proto][kind], 1);
}

/* Scans that came back: each settles its hold once all of the hold's are in. */
static void scans_done(struct qthread *qt)
{
	struct scan_job *j, *n;

	for (j = scan_sink_take(&qt->sink); j; j = n) {
		struct hold *h = j->owner;
		enum outcome o =
			policy_outcome(&qt->d->cfg, (enum ports_proto)h->flow->proto, j->result);

		n = j->next;
		count_message(qt, (enum ports_proto)h->flow->proto, j);
		if (j->result == SCAN_INFECTED)
			log_event("detection result=infected virus=%s %s action=%s", j->virus,
				  j->meta, policy_outcome_name(o));
		else if (j->result != SCAN_CLEAN)
			log_event("detection result=%s %s action=%s detail=\"%s\"",
				  scan_result_name(j->result), j->meta, policy_outcome_name(o),
				  j->virus);
		if (o != OUTCOME_PASS && h->outcome == OUTCOME_PASS) {
			h->outcome = o;
			if (j->result == SCAN_INFECTED)
				snprintf(h->reason, sizeof(h->reason), "Virus found: %s", j->virus);
			else
				snprintf(h->reason, sizeof(h->reason),
					 "Message not accepted: scan %s (%s)",
					 scan_result_name(j->result), j->virus);
		}
		scan_job_free(j);
		if (--h->pending == 0)
			holds_settle(qt, h->flow, h->dir);
	}
}

/* --- normalisation: the receiver's TCP is the reference --- */

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

/* --- the packet path --- */

/* In-order bytes of the current packet's direction. The protocol parsers plug in
 * here; the test patterns exercise holds and injection without them. */
static void deliver(void *arg, const uint8_t *data, size_t len)
{
	struct qthread *qt = arg;
	const struct config *c = &qt->d->cfg;

	if (qt->cur.flow->app && qt->cur.flow->state != FLOW_PASS)
		session_push(qt->cur.flow->app, qt->cur.flow, qt->cur.dir, data, len, &qt->cur.req);
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
}

enum verdict { V_ACCEPT, V_DROP, V_OFFLOAD, V_HELD };

static void jobs_free(struct scan_job *j)
{
	struct scan_job *n;

	for (; j; j = n) {
		n = j->next;
		scan_job_free(j);
	}
}

/* What the packet's bytes asked for: a reset, a block, a hold for scans, an offload. */
static enum verdict settle(struct qthread *qt, struct flow *f, enum flow_dir dir,
			   const struct pkt *p, uint32_t id, uint64_t now)
{
	struct session_req *req = &qt->cur.req;
	struct scan_job *j, *n;
	struct hold *h;
	long cut = -1;

	if (qt->cur.reset || req->block) {
		jobs_free(req->jobs);
		if (req->block && req->block_outcome == OUTCOME_REJECT) {
			char reason[160];

			snprintf(reason, sizeof(reason), "Message not accepted: %s",
				 req->block_reason);
			reject_smtp(qt, f, p->seq, reason);
		} else {
			reset_both(qt, f, dir, p->seq);
		}
		return V_DROP;
	}
	if (req->offload) {
		jobs_free(req->jobs);
		f->state = FLOW_PASS;
		return V_OFFLOAD;
	}
	if (!req->jobs && !qt->cur.hold)
		return V_ACCEPT;
	/* where the first message ends in this packet: a reject passes what precedes */
	if (req->ended && req->end >= p->payload && req->end < p->payload + p->payload_len)
		cut = req->end - p->payload;
	h = hold_add(qt, id, p, cut, now);
	if (!h) {
		/* cannot hold: the error policy decides */
		jobs_free(req->jobs);
		return qt->d->cfg.on_error == POLICY_PASS ? V_ACCEPT : V_DROP;
	}
	if (qt->cur.hold && !req->jobs)
		h->release_us = h->start_us + qt->d->cfg.test_hold_ms * 1000ULL;
	h->replies_before = cut >= 0 ? req->replies_before : qt->cur.owed;
	h->msgno = req->msgno;
	h->top = req->top;
	for (j = req->jobs; j; j = n) {
		n = j->next;
		j->owner = h;
		h->pending++;
		scanner_submit(qt->d->scanner, j, &qt->sink);
	}
	return V_HELD;
}

static enum verdict handle_data(struct qthread *qt, struct flow *f, enum flow_dir dir,
				const struct pkt *p, uint32_t id, uint64_t now)
{
	/* the bytes as queued: a conflicting copy is rewritten there */
	uint8_t *data = qt->pk.buf + (p->payload - qt->pk.buf);
	int res;

	memset(&qt->cur, 0, sizeof(qt->cur));
	qt->cur.flow = f;
	qt->cur.dir = dir;
	/* if this packet is dropped, the server answers only what came before it */
	qt->cur.owed = session_owed(f->app);
	res = reasm_add(&f->dir[dir], &qt->lim, p->seq, data, p->payload_len, deliver, qt);
	count_reasm(qt, res);
	if (res & REASM_AFTER_FIN) {
		/* never read by the receiver; no legitimate sender does it */
		norm_event(qt, f, NORM_AFTER_CLOSE);
		reset_both(qt, f, dir, rcv_nxt(qt, f, dir));
		return V_DROP;
	}
	if (res & REASM_WINDOW) {
		norm_event(qt, f, NORM_WINDOW);
		return V_DROP;
	}
	if (res & REASM_OVERFLOW)
		return V_DROP;
	if (res & REASM_REWRITTEN) {
		norm_event(qt, f, NORM_REWRITE);
		qt->pk.changed = 1;
	}
	if ((res & REASM_RETRANS) && in_held_range(qt, f, dir, p->seq, p->payload_len)) {
		STATS_ADD(&qt->st, held_retransmissions_dropped, 1);
		return V_DROP;
	}
	return settle(qt, f, dir, p, id, now);
}

/* Data on a SYN (TCP Fast Open) is the first bytes of its stream, if the receiver takes
 * it; if not, the sender sends them again and they are compared. */
static enum verdict syn_data(struct qthread *qt, struct flow *f, enum flow_dir dir,
			     const struct pkt *p, uint32_t id, uint64_t now)
{
	struct pkt d;

	if (!p->payload_len)
		return V_ACCEPT;
	d = *p;
	d.seq++;
	return handle_data(qt, f, dir, &d, id, now);
}

static enum verdict start_flow(struct qthread *qt, const struct pkt *p, uint32_t id, uint64_t now)
{
	struct flow *f = flow_start(qt, p, now);

	return f ? syn_data(qt, f, DIR_TO_SERVER, p, id, now) : V_OFFLOAD;
}

static enum verdict handle_syn(struct qthread *qt, struct flow *f, enum flow_dir dir,
			       const struct pkt *p, uint32_t id, uint64_t now)
{
	switch (tcpnorm_syn_kind(f, dir, p)) {
	case SYN_ESTABLISH:
		tcpnorm_establish(f, p);
		/* fall through */
	case SYN_RETRANS:
		return syn_data(qt, f, dir, p, id, now);
	case SYN_NEW:
		STATS_ADD(&qt->st, flows_closed, 1);
		flow_end(qt, f);
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
	    tcpnorm_rst_taken(f, dir, p->seq, rcv_nxt(qt, f, dir))) {
		f->state = FLOW_RESET;
		f->rst_dir = (uint8_t)dir;
	} else {
		norm_event(qt, f, NORM_RST);
	}
	return V_ACCEPT;
}

static void clear_urg(struct qthread *qt, struct flow *f, struct pkt *p)
{
	/* Linux takes the byte under the urgent pointer out of the stream the application
	 * reads (no SO_OOBINLINE); mail never uses it, so it is read inline as scanned */
	packet_clear_urg(qt->pk.buf, p);
	qt->pk.changed = 1;
	norm_event(qt, f, NORM_URG);
}

static enum verdict handle(struct qthread *qt, struct pkt *p, uint32_t id, uint64_t now)
{
	enum flow_dir dir = DIR_TO_SERVER;
	struct flow *f = flow_lookup(qt->flows, p, &dir);
	enum tcpnorm_drop why;
	enum verdict v = V_ACCEPT;

	if (!f && !qt->d->port_proto[p->dport])
		dir = DIR_TO_CLIENT; /* unknown flow: the protected port says which side */
	if (dir == DIR_TO_SERVER) {
		STATS_ADD(&qt->st, packets_to_server, 1);
		STATS_ADD(&qt->st, bytes_to_server, p->payload_len);
	} else {
		STATS_ADD(&qt->st, packets_to_client, 1);
		STATS_ADD(&qt->st, bytes_to_client, p->payload_len);
	}
	if (!f) {
		if ((p->flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && qt->d->port_proto[p->dport]) {
			if (p->flags & TCPF_URG)
				clear_urg(qt, NULL, p);
			return start_flow(qt, p, id, now);
		}
		if (p->flags & TCPF_RST)
			return V_ACCEPT;
		/* first seen mid-stream (e.g. after a restart): nothing can be followed.
		 * Remembered, so the packets already queued count it once. */
		STATS_ADD(&qt->st, flows_midstream, 1);
		pass_flow(qt, p, dir, now);
		return V_OFFLOAD;
	}
	flow_touch(qt->flows, f, now);
	if (f->state == FLOW_PASS)
		return V_OFFLOAD;
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
	if (f->state == FLOW_RESET) {
		if (!p->payload_len || dir != f->rst_dir)
			return V_ACCEPT; /* the receiver is gone, or answers with a reset */
		/* more from the side that reset: its reset never reached the receiver */
		norm_event(qt, f, NORM_AFTER_CLOSE);
		reset_both(qt, f, dir, rcv_nxt(qt, f, dir));
		return V_DROP;
	}
	if (p->payload_len || (p->flags & TCPF_FIN)) {
		why = tcpnorm_check(f, dir, p);
		if (why != DROP_NONE) {
			norm_event(qt, f, why == DROP_PAWS ? NORM_PAWS : NORM_NO_ACK);
			return V_DROP;
		}
	}
	if (p->payload_len)
		v = handle_data(qt, f, dir, p, id, now);
	if (v == V_DROP || f->state == FLOW_ABORTED)
		return v;
	tcpnorm_taken(f, dir, p, &qt->lim);
	if (p->flags & TCPF_FIN)
		reasm_fin(&f->dir[dir], &qt->lim, p->seq + (uint32_t)p->payload_len);
	if (f->state == FLOW_DELETING && v == V_ACCEPT)
		return V_DROP; /* the server's answers to DELE and QUIT reach nobody */
	if (f->dir[0].fin == FIN_DONE && f->dir[1].fin == FIN_DONE && f->state != FLOW_DELETING)
		f->state = FLOW_CLOSING;
	return v;
}

/* Accepts the current packet, carrying its normalised bytes if they changed. */
static void accept_pkt(struct qthread *qt, uint32_t id, uint32_t mark)
{
	if (!qt->pk.changed) {
		nfqueue_verdict(qt->nfq, id, 1, mark);
		return;
	}
	packet_csum_set(qt->pk.buf, qt->pk.p);
	if (nfqueue_verdict_pkt(qt->nfq, id, qt->pk.buf, qt->pk.len, mark) < 0)
		nfqueue_verdict(qt->nfq, id, 0, 0); /* cannot carry it: sent again */
}

static void on_packet(void *arg, const struct nfqueue_pkt *np)
{
	struct qthread *qt = arg;
	uint64_t now = now_ms();
	enum flow_dir dir;
	struct pkt p;
	enum verdict v;

	qt->pk = (struct cur_pkt){ .buf = np->data, .len = np->len, .p = &p };
	if (np->truncated) {
		/* its bytes cannot be read, so they must not reach the receiver; TCP sends
		 * them again, usually in smaller segments */
		STATS_ADD(&qt->st, packets_truncated, 1);
		nfqueue_verdict(qt->nfq, np->id, 0, 0);
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
		accept_pkt(qt, np->id, v == V_OFFLOAD ? qt->d->cfg.offload_mark : 0);
		STATS_ADD(&qt->st, verdict_accept, 1);
		break;
	case V_DROP:
		nfqueue_verdict(qt->nfq, np->id, 0, 0);
		STATS_ADD(&qt->st, verdict_drop, 1);
		break;
	}
	if (qt->pk.waiting)
		waits_due(qt, qt->pk.waiting); /* after this packet's verdict */
}

static void *qthread_main(void *arg)
{
	struct qthread *qt = arg;
	struct pollfd pfd[2] = {
		{ .fd = nfqueue_fd(qt->nfq), .events = POLLIN },
		{ .fd = qt->sink.efd, .events = POLLIN },
	};

	while (!qt->d->stop) {
		uint64_t now = now_ms();
		int timeout = holds_due(qt, now), i, n;

		flush(qt);
		if (timeout < 0 || timeout > 200)
			timeout = 200;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			scans_done(qt);
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
			sweep(qt, now);
		}
	}
	flush(qt);
	return NULL;
}

struct qthread *qthread_new(struct daemon *d, uint16_t queue)
{
	struct qthread *qt = calloc(1, sizeof(*qt));

	if (!qt)
		return NULL;
	qt->d = d;
	qt->queue = queue;
	qt->lim.ooo_cap = d->cfg.flow_buffer;
	qt->lim.keep_cap = d->cfg.flow_buffer;
	qt->lim.total_cap = d->cfg.total_buffer;
	qt->lim.total = &qt->reasm_total;
	qt->budget.cap = d->cfg.message_memory;
	qt->flows = flow_table_new(d->cfg.max_flows, (uint32_t)now_us() ^ queue);
	if (scan_sink_init(&qt->sink)) {
		free(qt);
		return NULL;
	}
	qt->nfq = nfqueue_new(queue, QUEUE_RCVBUF);
	if (!qt->nfq)
		log_warn("queue %u: binding", queue);
	qt->inj = inject_new(d->cfg.inject_mark);
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
	struct hold *h, *n;

	if (!qt)
		return;
	scan_sink_destroy(&qt->sink);
	for (h = qt->holds; h; h = n) {
		n = h->next;
		if (--h->flow->holds == 0 && !h->flow->linked)
			flow_end(qt, h->flow);
		free(h->pkt);
		free(h);
	}
	qt->holds = NULL;
	if (qt->flows) {
		struct flow *f;

		while ((f = flow_oldest(qt->flows)))
			flow_end(qt, f);
		flow_table_free(qt->flows);
	}
	nfqueue_free(qt->nfq);
	inject_free(qt->inj);
	free(qt);
}
