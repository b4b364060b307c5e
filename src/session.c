/* Sessions: the glue between a flow's bytes, its protocol parser and the scanner. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "pop3.h"
#include "smtp.h"

#define MAX_LINE 4096 /* command and reply lines kept; longer ones are counted */

struct session {
	enum ports_proto proto;
	const struct config *cfg; /* the current packet's, during session_push */
	uint64_t max_size;	  /* max_message_size when the flow began */
	struct stats *st;
	struct smtp *smtp;
	struct pop3 *pop3;
	/* the parser's counters already added to the thread's */
	union {
		struct smtp_counters smtp;
		struct pop3_counters pop3;
	} seen;
};

struct session *session_new(enum ports_proto proto, const struct config *cfg, struct stats *st,
			    struct msg_budget *budget)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->proto = proto;
	s->cfg = cfg;
	s->max_size = cfg->max_message_size;
	s->st = st;
	if (proto == PROTO_SMTP) {
		s->smtp = smtp_new(cfg->max_message_size, budget, MAX_LINE);
		if (!s->smtp) {
			free(s);
			return NULL;
		}
		STATS_ADD(st, smtp_sessions, 1);
	} else {
		s->pop3 = pop3_new(cfg->max_message_size, budget, MAX_LINE);
		if (!s->pop3) {
			free(s);
			return NULL;
		}
		STATS_ADD(st, pop3_sessions, 1);
	}
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	smtp_free(s->smtp);
	pop3_free(s->pop3);
	free(s);
}

void session_flow_name(const struct flow *f, char *buf, size_t len)
{
	char c[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];
	int af = f->key.family == 4 ? AF_INET : AF_INET6;

	inet_ntop(af, f->key.caddr, c, sizeof(c));
	inet_ntop(af, f->key.saddr, v, sizeof(v));
	snprintf(buf, len, "%s%s%s.%u>%s%s%s.%u", af == AF_INET6 ? "[" : "", c,
		 af == AF_INET6 ? "]" : "", f->key.cport, af == AF_INET6 ? "[" : "", v,
		 af == AF_INET6 ? "]" : "", f->key.sport);
}

/* Which parser counter feeds which thread counter. */
struct counter_map {
	size_t from; /* in the parser's counters */
	size_t to;   /* in struct stats */
};

#define MAP(ptype, field, stat)                                                                    \
	{                                                                                          \
		offsetof(struct ptype, field), offsetof(struct stats, stat)                        \
	}
static const struct counter_map smtp_map[] = {
	MAP(smtp_counters, transactions, smtp_transactions),
	MAP(smtp_counters, bdat_messages, smtp_bdat_messages),
	MAP(smtp_counters, candidates, smtp_candidates),
	MAP(smtp_counters, bare_line_ends, smtp_bare_line_ends),
	MAP(smtp_counters, pipelined, smtp_pipelined),
	MAP(smtp_counters, unknown_commands, smtp_unknown_commands),
	MAP(smtp_counters, long_lines, smtp_long_lines),
	MAP(smtp_counters, data_refused, smtp_data_refused),
	MAP(smtp_counters, readings, smtp_readings),
	MAP(smtp_counters, readings_full, smtp_readings_full),
	MAP(smtp_counters, events_full, smtp_events_full),
};
static const struct counter_map pop3_map[] = {
	MAP(pop3_counters, retr, pop3_retr),
	MAP(pop3_counters, top, pop3_top),
	MAP(pop3_counters, candidates, pop3_candidates),
	MAP(pop3_counters, bare_line_ends, pop3_bare_line_ends),
	MAP(pop3_counters, pipelined, pop3_pipelined),
	MAP(pop3_counters, unknown_commands, pop3_unknown_commands),
	MAP(pop3_counters, long_lines, pop3_long_lines),
	MAP(pop3_counters, errors, pop3_errors),
};
#undef MAP

/* Adds what the parser counted since the last look (SEEN) to the thread's counters. */
static void sync_counters(struct stats *st, const void *now, void *seen,
			  const struct counter_map *map, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v = *(const uint64_t *)(const void *)((const char *)now + map[i].from);
		uint64_t *old = (uint64_t *)(void *)((char *)seen + map[i].from);

		stats_add_at(st, map[i].to, v - *old);
		*old = v;
	}
}

/* A message (or candidate) ended: a scan job, or the oversize policy. FD, when not -1,
 * is the sealed memfd that holds MSG: the job takes it as it is. META says what logs
 * and the quarantine record of it. */
static void message(struct session *s, const struct flow *f, const uint8_t *msg, size_t len, int fd,
		    int oversize, int candidate, const char *meta, struct session_req *req)
{
	const char *name = ports_proto_name(s->proto);
	char flow[128];
	struct scan_job *j;

	session_flow_name(f, flow, sizeof(flow));
	if (oversize && len < s->max_size) {
		if (candidate)
			return; /* the whole message decides */
		/* not too large, but no memory to keep it now: never passed unscanned; the
		 * sender tries again later */
		req->block_outcome = policy_tempfail(s->proto);
		req->block = 1;
		snprintf(req->block_reason, sizeof(req->block_reason),
			 "no memory to keep it for the scan");
		log_event("policy=message_memory proto=%s flow=%s %s action=%s", name, flow, meta,
			  policy_outcome_name(req->block_outcome));
		return;
	}
	if (oversize) {
		if (candidate)
			return; /* the whole message decides */
		if (s->proto == PROTO_SMTP)
			STATS_ADD(s->st, smtp_messages_oversize, 1);
		else
			STATS_ADD(s->st, pop3_messages_oversize, 1);
		req->block_outcome = policy_oversize(s->cfg, s->proto);
		req->block = req->block_outcome != OUTCOME_PASS;
		snprintf(req->block_reason, sizeof(req->block_reason), "larger than %llu bytes",
			 (unsigned long long)s->max_size);
		log_event("policy=oversize reason=max_message_size proto=%s flow=%s %s action=%s",
			  name, flow, meta, policy_outcome_name(req->block_outcome));
		return;
	}
	j = fd >= 0 ? scan_job_from_fd(fd, len) : scan_job_new(msg, len);
	if (!j) {
		req->block_outcome = policy_outcome(s->cfg, s->proto, SCAN_ERROR);
		req->block = req->block_outcome != OUTCOME_PASS;
		snprintf(req->block_reason, sizeof(req->block_reason),
			 "out of memory for the scan");
		return;
	}
	snprintf(j->meta, sizeof(j->meta), "proto=%s flow=%s %s%s", name, flow, meta,
		 candidate ? " candidate=yes" : "");
	j->action = config_action_name(policy_action(s->cfg, s->proto));
	j->candidate = candidate;
	j->next = req->jobs;
	req->jobs = j;
}

/* The SMTP parser could not follow every reading of the dialogue: on_limit decides. */
static void limit(struct session *s, const struct flow *f, struct session_req *req)
{
	char flow[128];

	session_flow_name(f, flow, sizeof(flow));
	req->block_outcome = policy_outcome(s->cfg, s->proto, SCAN_LIMIT);
	req->block = req->block_outcome != OUTCOME_PASS;
	snprintf(req->block_reason, sizeof(req->block_reason),
		 "more readings of the dialogue than are followed");
	log_event("policy=limit reason=smtp_readings proto=smtp flow=%s action=%s", flow,
		  policy_outcome_name(req->block_outcome));
}

static void pop3_events(struct session *s, const struct flow *f, struct session_req *req)
{
	struct scan_job *j;
	struct pop3_event e;
	char meta[256];

	req->body = 0;
	req->msg_end_set = 0;
	while (pop3_next(s->pop3, &e)) {
		if (e.type == POP3_EV_BODY) {
			if (!req->body)
				req->body_first = e.at;
			req->body_last = e.at;
			req->body = 1;
			continue;
		}
		if (e.type == POP3_EV_STLS) {
			STATS_ADD(s->st, pop3_stls, 1);
			req->offload = 1;
			continue;
		}
		snprintf(meta, sizeof(meta), "user=%s msg=%lu%s", e.user[0] ? e.user : "-", e.msgno,
			 e.top ? " top=yes" : "");
		if (!req->ended) {
			req->ended = 1;
			req->msgno = e.msgno;
			req->top = e.top;
		}
		if (e.end && (!req->msg_end_set || e.end > req->msg_end)) {
			req->msg_end = e.end;
			req->msg_end_set = 1;
		}
		j = req->jobs;
		message(s, f, e.msg, e.len, e.fd, e.oversize, e.candidate, meta, req);
		if (req->jobs != j && !e.candidate && e.end) {
			/* a body of its own: held, and replaced, on its own */
			j = req->jobs;
			j->placed = SESSION_PLACED_PUSH;
			j->from = e.started ? (uint32_t)e.start : SESSION_BODY_BEFORE;
			j->to = (uint32_t)e.end;
			j->msgno = e.msgno;
			j->top = e.top;
		}
	}
	sync_counters(s->st, pop3_counters(s->pop3), &s->seen.pop3, pop3_map,
		      sizeof(pop3_map) / sizeof(pop3_map[0]));
	pop3_trim(s->pop3);
}

void session_push(struct session *s, const struct config *cfg, const struct flow *f,
		  enum flow_dir dir, const uint8_t *d, size_t len, struct session_req *req)
{
	struct smtp_event e;
	char meta[512];

	s->cfg = cfg;
	if (s->pop3) {
		pop3_push(s->pop3, dir == DIR_TO_SERVER ? POP3_CLIENT : POP3_SERVER, d, len);
		pop3_events(s, f, req);
		return;
	}
	smtp_push(s->smtp, dir == DIR_TO_SERVER ? SMTP_CLIENT : SMTP_SERVER, d, len);
	while (smtp_next(s->smtp, &e)) {
		if (e.type == SMTP_EV_STARTTLS) {
			STATS_ADD(s->st, smtp_starttls, 1);
			req->offload = 1;
			continue;
		}
		if (e.type == SMTP_EV_LIMIT) {
			limit(s, f, req);
			continue;
		}
		snprintf(meta, sizeof(meta), "helo=%s from=%s to=%s", e.helo, e.mail_from,
			 e.rcpt_to);
		if (!req->ended) {
			req->ended = 1;
			req->end = e.end;
			req->replies_before = e.replies_before;
		}
		message(s, f, e.msg, e.len, e.fd, e.oversize, e.candidate, meta, req);
	}
	sync_counters(s->st, smtp_counters(s->smtp), &s->seen.smtp, smtp_map,
		      sizeof(smtp_map) / sizeof(smtp_map[0]));
	smtp_trim(s->smtp);
}

void session_close(struct session *s, const struct flow *f, enum flow_dir dir,
		   struct session_req *req)
{
	if (!s || !s->pop3 || dir != DIR_TO_CLIENT)
		return; /* an SMTP server stores nothing at a client's FIN inside DATA */
	pop3_close(s->pop3);
	pop3_events(s, f, req);
}

uint64_t session_replies(const struct session *s)
{
	return s && s->smtp ? smtp_replies(s->smtp) : 0;
}

uint64_t session_owed(const struct session *s)
{
	return s && s->smtp ? smtp_owed(s->smtp) : 0;
}

void session_mark(struct session *s)
{
	if (s && s->pop3)
		pop3_mark(s->pop3);
}

int session_dele_result(const struct session *s)
{
	return s && s->pop3 ? pop3_dele_result(s->pop3) : 0;
}

int session_quit_answered(const struct session *s)
{
	return s && s->pop3 ? pop3_quit_answered(s->pop3) : 0;
}

int session_busy(const struct session *s)
{
	return s && (s->smtp ? smtp_busy(s->smtp) : pop3_busy(s->pop3));
}
