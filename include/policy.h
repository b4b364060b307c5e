/* What a scanned (or not scanned) message means for its held packet. Pure. */
#ifndef MAILSCAN_POLICY_H
#define MAILSCAN_POLICY_H

#include "config.h"
#include "ports.h"
#include "scan.h"

enum outcome {
	OUTCOME_PASS,	  /* release the held packet */
	OUTCOME_REJECT,	  /* SMTP: drop, RST the server, 554 to the client */
	OUTCOME_RESET,	  /* drop and reset both sides */
	OUTCOME_DELETE,	  /* POP3: drop, DELE and QUIT to the server, reset the client */
	OUTCOME_TEMPFAIL, /* SMTP: as a reject, with 451 4.7.1: the sender retries later */
	OUTCOME_REPLACE,  /* POP3 whole: a notice of the same length goes in its place */
};

/* The configured action for an infected message of PROTO. */
enum config_action policy_action(const struct config *, enum ports_proto);
/* Infected messages follow the protocol's action (monitor passes); limit hits follow
 * on_limit, errors and timeouts on_error, a scanner's crash or kill on_crash; "block" applies the
 * protocol's action, or a reset where that action is monitor. */
enum outcome policy_outcome(const struct config *, enum ports_proto, enum scan_result);
/* A message over max_message_size is not scanned: oversize decides. */
enum outcome policy_oversize(const struct config *, enum ports_proto);
/* A message that cannot be kept for its scan (memory): a temporary failure. */
enum outcome policy_tempfail(enum ports_proto);
const char *policy_outcome_name(enum outcome);

/* Exception policies, as an inline engine has them: each situation where a flow cannot
 * be followed as the receiver reads it has one cause, one decision, and one counter per
 * cause and action. Defaults fail closed. */
enum policy_cause {
	CAUSE_MIDSTREAM,  /* a packet of a flow not known (not its SYN) */
	CAUSE_HANDSHAKE,  /* a SYN-ACK of a flow not known: never older than the daemon */
	CAUSE_FLOWS_FULL, /* a SYN at max_flows, with no flow that can go */
	CAUSE_IDLE,	  /* a followed flow idle past idle_timeout */
	CAUSE_EVICTED,	  /* a flow made room for a new one */
	CAUSE_TOMBSTONE,  /* data on a flow that was reset or closed */
	CAUSE_OOO,	  /* out-of-order data past its bound */
	CAUSE_TOTAL,	  /* data past total_buffer, which all flows of a thread share */
	CAUSE_COUNT
};

enum policy_act {
	ACT_PASS,     /* passed and offloaded, unscanned */
	ACT_DROP,     /* the packet is dropped (TCP sends it again) */
	ACT_RESET,    /* the packet is dropped and both sides are reset */
	ACT_FORGET,   /* nothing left to protect: the flow is let go */
	ACT_TEMPFAIL, /* the message is refused for now: SMTP 451, POP3 reset */
	ACT_COUNT
};

/* What CAUSE does, UPTIME_MS after the daemon started, to a flow whose connection is
 * open (LIVE) or not; for CAUSE_TOTAL, LIVE says a message is being read. */
enum policy_act policy_exception(const struct config *, enum policy_cause, int live,
				 uint64_t uptime_ms);
const char *policy_cause_name(enum policy_cause);
const char *policy_act_name(enum policy_act);
/* The counter of CAUSE taking ACT: its offset in struct stats, or SIZE_MAX. */
size_t policy_counter(enum policy_cause, enum policy_act);

#endif
