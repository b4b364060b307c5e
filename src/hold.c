/* Held packets and their outcomes: a packet whose message is being scanned waits for
 * its scans (or the hold's time limit), then passes, or its message is rejected (the
 * 554 after the replies the server still owes), or both sides are reset, or a POP3
 * message is deleted on the server in the client's place. Holds of one side settle in
 * stream order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "log.h"
#include "notice.h"
#include "qthread.h"

#define REPLY_WAIT_MS 5000 /* a rejected message's 554 waits this long for owed replies */

/* a hold of the current packet's flow and side, linked, for SEQ..END */
static struct hold *hold_new(struct qthread *qt, uint32_t seq, uint32_t end, uint64_t now)
{
	struct hold *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->flow = qt->cur.flow;
	h->dir = qt->cur.dir;
	h->seq = seq;
	h->end = end;
	h->start_us = now_us();
	h->deadline_ms = now + qt->cfg->hold_timeout * 1000ULL;
	h->cut = -1;
	h->flow->holds++;
	h->next = qt->holds;
	qt->holds = h;
	STATS_ADD(&qt->st, holds_total, 1);
	STATS_ADD(&qt->st, holds_current, 1);
	return h;
}

static void hold_free(struct qthread *, struct hold *);

static struct hold *hold_add(struct qthread *qt, uint32_t id, const struct pkt *p, long cut,
			     uint64_t now)
{
	struct hold *h = hold_new(
		qt, p->seq, p->seq + (uint32_t)p->payload_len + (p->flags & TCPF_FIN ? 1 : 0), now);

	if (!h)
		return NULL;
	h->id = id;
	h->cut = cut;
	if (qt->pk.changed || cut >= 0) {
		/* normalised, or to be cut on a reject: the verdict carries bytes of its
		 * own, kept until then */
		h->pkt = malloc(qt->pk.len);
		if (!h->pkt) {
			h->resolved = 1; /* nothing to give a verdict to */
			STATS_ADD(&qt->st, holds_current, (uint64_t)-1);
			hold_free(qt, h);
			return NULL;
		}
		packet_csum_set(qt->pk.buf, qt->pk.p);
		memcpy(h->pkt, qt->pk.buf, qt->pk.len);
		h->pkt_len = qt->pk.len;
	}
	return h;
}

/* Gives the held packet its verdict. */
static void hold_verdict(struct qthread *qt, struct hold *h, int accept)
{
	uint64_t us = now_us() - h->start_us;

	if (h->capture) {
		/* no packet: the capture's bytes go or stay */
	} else if (accept) {
		if (h->pkt)
			nfqueue_verdict_pkt(qt->nfq, h->id, h->pkt, h->pkt_len, NULL);
		else
			nfqueue_verdict(qt->nfq, h->id, 1, NULL);
		STATS_ADD(&qt->st, verdict_accept, 1);
	} else {
		nfqueue_verdict(qt->nfq, h->id, 0, NULL);
		STATS_ADD(&qt->st, verdict_drop, 1);
	}
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
		flows_end(qt, f);
	free(h->pkt);
	free(h);
}

/* SMTP reject: the server gets an RST at SEQ, where the client's stream stops for it
 * (it stores nothing), the client a 554 with REASON (a temporary failure: 451, the
 * sender tries again later), then the end of the connection. */
static void reject_smtp(struct qthread *qt, struct flow *f, uint32_t seq, const char *reason,
			int tempfail)
{
	char msg[256];
	uint32_t cnxt = flows_rcv_nxt(qt, f, DIR_TO_CLIENT);
	int n;

	flows_flush(qt); /* what the server gets before the RST: the cut packet, the replies */
	if (tempfail)
		n = snprintf(msg, sizeof(msg),
			     "451 4.7.1 %s (deferred by mailscan, try again later)\r\n", reason);
	else
		n = snprintf(msg, sizeof(msg), "554 5.7.1 %s (rejected by mailscan)\r\n", reason);
	flows_send(qt, f, DIR_TO_SERVER, seq, cnxt, TCPF_RST | TCPF_ACK, NULL);
	if (flows_send(qt, f, DIR_TO_CLIENT, cnxt, f->dir[DIR_TO_SERVER].next,
		       TCPF_PSH | TCPF_ACK | TCPF_FIN, msg) == 0) {
		if (tempfail)
			STATS_ADD(&qt->st, smtp_tempfail, 1);
		else
			STATS_ADD(&qt->st, smtp_rejects, 1);
		/* a client still sending its message reads the reply, then its writes
		 * fail at once instead of waiting for acknowledgements that never come */
		if (qt->cur.mid_message && qt->cur.flow == f)
			flows_send(qt, f, DIR_TO_CLIENT, cnxt + (uint32_t)n + 1,
				   f->dir[DIR_TO_SERVER].next, TCPF_RST | TCPF_ACK, NULL);
	}
	flows_bury(qt, f, FLOW_ABORTED);
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
		    h->reason[0] ? h->reason : "Message not accepted by policy",
		    h->outcome == OUTCOME_TEMPFAIL);
	hold_free(qt, h);
}

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
	/* after a capture, the server has had its bytes acknowledged up to their end */
	if (flows_send(qt, f, DIR_TO_SERVER, seq, h->capture ? f->dir[DIR_TO_CLIENT].next : h->seq,
		       TCPF_PSH | TCPF_ACK, cmd) < 0)
		return 0;
	flows_send(qt, f, DIR_TO_CLIENT, h->seq, seq, TCPF_RST | TCPF_ACK, NULL);
	/* the parser reads the answers: it takes the commands as the server does */
	session_mark(f->app);
	memset(&qt->cur, 0, sizeof(qt->cur));
	qt->cur.flow = f;
	qt->cur.dir = DIR_TO_SERVER;
	reasm_add(c, &qt->lim, seq, (uint8_t *)cmd, (size_t)n, flows_deliver, qt);
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
	if (f->state == FLOW_DELETING) { /* not reset by the server already */
		flows_send(qt, f, DIR_TO_SERVER, flows_rcv_nxt(qt, f, DIR_TO_SERVER),
			   f->dir[DIR_TO_CLIENT].next, TCPF_RST | TCPF_ACK, NULL);
		STATS_ADD(&qt->st, resets, 1);
		flows_bury(qt, f, FLOW_ABORTED);
	}
	hold_free(qt, h);
}

/* Has the server said what the waiting hold H waits for? */
static int wait_met(const struct hold *h)
{
	const struct flow *f = h->flow;

	if (h->cap_wait == 1)
		return capture_caught_up(f);
	if (f->state == FLOW_RESET || f->state == FLOW_ABORTED)
		return 1; /* the connection is gone: no answer comes any more */
	if (h->outcome == OUTCOME_DELETE)
		return session_quit_answered(f->app) || f->dir[DIR_TO_CLIENT].fin == FIN_DONE;
	return session_replies(f->app) >= h->replies_before;
}

static void hold_act(struct qthread *, struct hold *);

static void wait_over(struct qthread *qt, struct hold *h)
{
	if (h->cap_wait == 1) {
		/* the client has all that went (or it took too long): the outcome now, where
		 * the client's stream stops */
		h->cap_wait = 2;
		h->reply_wait = 0;
		h->seq = capture_sent(h->flow);
		hold_act(qt, h);
		if (!h->reply_wait)
			hold_free(qt, h);
		return;
	}
	if (h->outcome == OUTCOME_DELETE)
		delete_finish(qt, h);
	else if (h->flow->state == FLOW_REJECTING)
		reject_now(qt, h);
	else
		hold_free(qt, h); /* the server reset the connection first: no reply to give */
}

/* After a server packet of F: the waiting holds whose answers are all in. */
void holds_waits_due(struct qthread *qt, struct flow *f)
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

/* The lowest of F's capture holds still waiting: the capture's bytes stop there. */
static void capture_holds_limit(struct qthread *qt, struct flow *f, uint64_t now)
{
	const struct hold *h;
	uint32_t at = 0;
	int blocked = 0;

	for (h = qt->holds; h; h = h->next) {
		if (h->flow == f && h->capture && !h->resolved &&
		    (!blocked || SEQ_LT(h->seq, at))) {
			at = h->seq;
			blocked = 1;
		}
	}
	capture_limit(qt, f, blocked, at, now);
}

/* pop3_action = replace: the kept body becomes a notice of its length and goes out as
 * if clean; where it cannot (a reading that is not the message, part of it already
 * out, too short), the client is reset. */
static void replace(struct qthread *qt, struct hold *h)
{
	struct notice_info in = { h->virus, h->qid, h->msgno };
	char name[160];

	session_flow_name(h->flow, name, sizeof(name));
	if (!h->capture || capture_replace(h->flow, h->seq, h->end, &in) < 0) {
		log_event("action=replace result=reset proto=pop3 flow=%s user=%s msg=%lu", name,
			  h->user, h->msgno);
		h->outcome = OUTCOME_RESET;
		return;
	}
	STATS_ADD(&qt->st, pop3_replaced, 1);
	log_event("action=replace result=replaced proto=pop3 flow=%s user=%s msg=%lu%s virus=%s "
		  "quarantine=%s",
		  name, h->user, h->msgno, h->top ? " top=yes" : "", h->virus,
		  h->qid[0] ? h->qid : "-");
	h->outcome = OUTCOME_PASS;
}

/* Carries out the outcome of a hold whose scans are all back. */
static void hold_act(struct qthread *qt, struct hold *h)
{
	if (h->outcome == OUTCOME_REPLACE)
		replace(qt, h);
	if (h->capture && h->outcome != OUTCOME_PASS && !h->cap_wait) {
		/* nothing more goes to the client; the outcome once it has what went */
		h->cap_wait = 1;
		h->reply_wait = 1;
		h->deadline_ms = now_ms() + REPLY_WAIT_MS;
		return;
	}
	switch (h->outcome) {
	case OUTCOME_PASS:
		hold_verdict(qt, h, 1);
		if (h->capture) {
			capture_clean_to(h->flow, h->end);
			capture_holds_limit(qt, h->flow, now_ms());
		}
		break;
	case OUTCOME_REJECT:
	case OUTCOME_TEMPFAIL:
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
			    h->reason[0] ? h->reason : "Message not accepted by policy",
			    h->outcome == OUTCOME_TEMPFAIL);
		break;
	case OUTCOME_REPLACE: /* made a pass or a reset above */
	case OUTCOME_RESET:
		hold_verdict(qt, h, 0);
		flows_reset(qt, h->flow, h->dir, h->seq);
		break;
	case OUTCOME_DELETE:
		hold_verdict(qt, h, 0);
		if (!delete_start(qt, h)) {
			flows_reset(qt, h->flow, h->dir, h->seq);
			break;
		}
		h->reply_wait = 1;
		h->deadline_ms = now_ms() + REPLY_WAIT_MS;
		break;
	}
}

int hold_in_range(const struct qthread *qt, const struct flow *f, enum flow_dir dir, uint32_t seq,
		  size_t len)
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
int holds_due(struct qthread *qt, uint64_t now)
{
	struct hold *h, *n;
	uint64_t next = UINT64_MAX, nus = now_us();

	for (h = qt->holds; h; h = n) {
		n = h->next;
		if (h->reply_wait && (now >= h->deadline_ms || (h->cap_wait == 1 && wait_met(h)))) {
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
			h->outcome = policy_outcome(qt->cfg, (enum ports_proto)h->flow->proto,
						    SCAN_TIMEOUT);
			session_flow_name(h->flow, name, sizeof(name));
			log_event("policy=on_error reason=hold_expired proto=%s flow=%s held_s=%u "
				  "action=%s",
				  ports_proto_name((enum ports_proto)h->flow->proto), name,
				  qt->cfg->hold_timeout, policy_outcome_name(h->outcome));
			hold_act(qt, h);
			if (!h->pending && !h->reply_wait)
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
void holds_scans_done(struct qthread *qt)
{
	struct scan_job *j, *n;

	for (j = scan_sink_take(&qt->sink); j; j = n) {
		struct hold *h = j->owner;
		enum outcome o =
			policy_outcome(qt->cfg, (enum ports_proto)h->flow->proto, j->result);

		n = j->next;
		count_message(qt, (enum ports_proto)h->flow->proto, j);
		if (j->result == SCAN_INFECTED)
			log_event("detection result=infected virus=%s %s action=%s", j->virus,
				  j->meta, policy_outcome_name(o));
		else if (j->result != SCAN_CLEAN)
			log_event("detection result=%s %s action=%s detail=\"%s\"",
				  scan_result_name(j->result), j->meta, policy_outcome_name(o),
				  j->virus);
		/* the worst so far; a notice in place of the message is better than a reset */
		if (o != OUTCOME_PASS &&
		    (h->outcome == OUTCOME_PASS ||
		     (h->outcome == OUTCOME_REPLACE && o != OUTCOME_REPLACE))) {
			h->outcome = o;
			if (j->result == SCAN_INFECTED) {
				const char *u = strstr(j->meta, " user=");

				snprintf(h->reason, sizeof(h->reason), "Virus found: %s", j->virus);
				snprintf(h->virus, sizeof(h->virus), "%s", j->virus);
				snprintf(h->qid, sizeof(h->qid), "%s", j->qid);
				snprintf(h->user, sizeof(h->user), "%.*s",
					 u ? (int)strcspn(u + 6, " ") : 1, u ? u + 6 : "-");
			} else
				snprintf(h->reason, sizeof(h->reason),
					 "Message not accepted: scan %s (%s)",
					 scan_result_name(j->result), j->virus);
		}
		scan_job_free(j);
		if (--h->pending == 0)
			holds_settle(qt, h->flow, h->dir);
	}
}

/* What the packet's bytes asked for: a reset, a block, a hold for scans, an offload. */
enum verdict hold_settle(struct qthread *qt, struct flow *f, enum flow_dir dir, const struct pkt *p,
			 uint32_t id, uint64_t now)
{
	struct session_req *req = &qt->cur.req;
	struct scan_job *j, *n;
	struct hold *h;
	long cut = -1;

	if (qt->cur.reset || req->block) {
		scan_jobs_free(req->jobs);
		if (req->block && (req->block_outcome == OUTCOME_REJECT ||
				   req->block_outcome == OUTCOME_TEMPFAIL)) {
			char reason[160];

			snprintf(reason, sizeof(reason), "Message not accepted: %s",
				 req->block_reason);
			reject_smtp(qt, f, p->seq, reason, req->block_outcome == OUTCOME_TEMPFAIL);
		} else {
			flows_reset(qt, f, dir, p->seq);
		}
		return V_DROP;
	}
	if (req->offload) {
		scan_jobs_free(req->jobs);
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
		scan_jobs_free(req->jobs);
		return qt->cfg->on_error == POLICY_PASS ? V_ACCEPT : V_DROP;
	}
	if (qt->cur.hold && !req->jobs)
		h->release_us = h->start_us + qt->cfg->test_hold_ms * 1000ULL;
	h->replies_before = cut >= 0 ? req->replies_before : qt->cur.owed;
	h->msgno = req->msgno;
	h->top = req->top;
	for (j = req->jobs; j; j = n) {
		n = j->next;
		j->owner = h;
		h->pending++;
		scanner_submit(qt->sh.scanner, j, &qt->sink);
	}
	return V_HELD;
}

/* The bodies of REQ's jobs that have a place of their own get a hold each: a notice
 * takes the place of one message, never of those after it in the same packet. The
 * other jobs stay in REQ. -1 if a hold cannot be made (REQ keeps the jobs not yet
 * held, for the caller to free). */
static int capture_message_holds(struct qthread *qt, struct session_req *req, uint64_t now)
{
	struct scan_job *j, *n, *rest = NULL;
	uint32_t sent = capture_sent(qt->cur.flow);
	struct hold *h;

	for (j = req->jobs; j; j = n) {
		n = j->next;
		if (j->placed != SESSION_PLACED_SEQ) {
			j->next = rest;
			rest = j;
			continue;
		}
		h = hold_new(qt, SEQ_LT(j->from, sent) ? sent : j->from, j->to, now);
		if (!h) {
			scan_jobs_free(rest);
			req->jobs = j; /* with those after it */
			return -1;
		}
		h->capture = 1;
		h->msgno = j->msgno;
		h->top = j->top;
		j->owner = h;
		h->pending++;
		scanner_submit(qt->sh.scanner, j, &qt->sink);
	}
	req->jobs = rest;
	return 0;
}

enum verdict hold_capture(struct qthread *qt, struct flow *f, struct pkt *p, uint64_t now)
{
	struct session_req *req = &qt->cur.req;
	uint32_t at = qt->cur.cap_block_set ? qt->cur.cap_block : capture_body_at(f);
	struct scan_job *j, *n;
	struct hold *h = NULL;

	if (SEQ_LT(at, capture_sent(f)))
		at = capture_sent(f); /* what went cannot be called back */
	if (!req->block && !qt->cur.reset && capture_message_holds(qt, req, now) < 0) {
		scan_jobs_free(req->jobs);
		flows_reset(qt, f, DIR_TO_CLIENT, flows_rcv_nxt(qt, f, DIR_TO_CLIENT));
		return V_DROP;
	}
	if (req->jobs || req->block || qt->cur.reset) {
		h = hold_new(qt, at, qt->cur.cap_end_set ? qt->cur.cap_end : at, now);
		if (!h) {
			scan_jobs_free(req->jobs);
			flows_reset(qt, f, DIR_TO_CLIENT, flows_rcv_nxt(qt, f, DIR_TO_CLIENT));
			return V_DROP;
		}
		h->capture = 1;
		h->msgno = req->msgno;
		h->top = req->top;
		if (req->block || qt->cur.reset) {
			scan_jobs_free(req->jobs);
			h->outcome = req->block ? req->block_outcome : OUTCOME_RESET;
		}
		for (j = req->block || qt->cur.reset ? NULL : req->jobs; j; j = n) {
			n = j->next;
			j->owner = h;
			h->pending++;
			scanner_submit(qt->sh.scanner, j, &qt->sink);
		}
	}
	/* the messages wait before anything more goes out */
	capture_holds_limit(qt, f, now);
	capture_server_pkt(qt, f, p, now);
	if (h && !h->pending)
		holds_settle(qt, f, DIR_TO_CLIENT);
	return V_DROP; /* its bytes are kept: they go from here */
}

/* at the end: every hold goes, its packet without a verdict */
void holds_free(struct qthread *qt)
{
	struct hold *h, *n;

	for (h = qt->holds; h; h = n) {
		n = h->next;
		if (--h->flow->holds == 0 && !h->flow->linked)
			flows_end(qt, h->flow);
		free(h->pkt);
		free(h);
	}
	qt->holds = NULL;
}
