/* Sessions: the glue between a flow's bytes, its protocol parser and the scanner. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "smtp.h"

#define MAX_LINE 4096 /* command and reply lines kept; longer ones are counted */

struct session {
	enum ports_proto proto;
	const struct config *cfg;
	struct stats *st;
	struct smtp *smtp;
	struct smtp_counters seen; /* already added to the thread's counters */
};

struct session *session_new(enum ports_proto proto, const struct config *cfg, struct stats *st)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->proto = proto;
	s->cfg = cfg;
	s->st = st;
	if (proto == PROTO_SMTP) {
		s->smtp = smtp_new(cfg->max_message_size, MAX_LINE);
		if (!s->smtp) {
			free(s);
			return NULL;
		}
		STATS_ADD(st, smtp_sessions, 1);
	}
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	smtp_free(s->smtp);
	free(s);
}

enum ports_proto session_proto(const struct session *s)
{
	return s->proto;
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

/* the parser's counters since the last look, into the thread's */
static void smtp_sync_counters(struct session *s)
{
	const struct smtp_counters *c = smtp_counters(s->smtp);

#define SYNC(field, stat)                                                                          \
	STATS_ADD(s->st, stat, c->field - s->seen.field);                                          \
	s->seen.field = c->field
	SYNC(transactions, smtp_transactions);
	SYNC(bdat_messages, smtp_bdat_messages);
	SYNC(candidates, smtp_candidates);
	SYNC(bare_line_ends, smtp_bare_line_ends);
	SYNC(pipelined, smtp_pipelined);
	SYNC(unknown_commands, smtp_unknown_commands);
	SYNC(long_lines, smtp_long_lines);
	SYNC(data_refused, smtp_data_refused);
#undef SYNC
}

static void smtp_message(struct session *s, const struct flow *f, const struct smtp_event *e,
			 struct session_req *req)
{
	char flow[128];
	struct scan_job *j;

	if (e->oversize) {
		if (e->candidate)
			return; /* the whole message decides */
		STATS_ADD(s->st, smtp_messages_oversize, 1);
		req->block_outcome = policy_oversize(s->cfg, PROTO_SMTP);
		req->block = req->block_outcome != OUTCOME_PASS;
		session_flow_name(f, flow, sizeof(flow));
		log_info("smtp %s: message over max_message_size, oversize=%s", flow,
			 config_policy_name(s->cfg->oversize));
		return;
	}
	j = scan_job_new(e->msg, e->len);
	if (!j) {
		req->block_outcome = policy_outcome(s->cfg, PROTO_SMTP, SCAN_ERROR);
		req->block = req->block_outcome != OUTCOME_PASS;
		return;
	}
	session_flow_name(f, flow, sizeof(flow));
	snprintf(j->meta, sizeof(j->meta), "proto=smtp flow=%s helo=%s from=%s to=%s%s", flow,
		 e->helo, e->mail_from, e->rcpt_to, e->candidate ? " candidate=yes" : "");
	j->action = config_action_name(s->cfg->smtp_action);
	j->candidate = e->candidate;
	j->next = req->jobs;
	req->jobs = j;
}

void session_push(struct session *s, const struct flow *f, enum flow_dir dir, const uint8_t *d,
		  size_t len, struct session_req *req)
{
	struct smtp_event e;

	if (!s->smtp)
		return;
	smtp_push(s->smtp, dir == DIR_TO_SERVER ? SMTP_CLIENT : SMTP_SERVER, d, len);
	while (smtp_next(s->smtp, &e)) {
		if (e.type == SMTP_EV_STARTTLS) {
			STATS_ADD(s->st, smtp_starttls, 1);
			req->offload = 1;
		} else {
			smtp_message(s, f, &e, req);
		}
	}
	smtp_sync_counters(s);
}
