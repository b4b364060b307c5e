/* Verdict policy: every result under every action and policy. */
#include <stdint.h>

#include "policy.h"
#include "stats.h"
#include "unit.h"

/* exception policies: mid-stream by grace and key, pressure, counters */
static void test_exceptions(void)
{
	struct config c;

	config_defaults(&c);
	/* mid-stream: passed during the grace after start, reset after it */
	CHECK_INT(policy_exception(&c, CAUSE_MIDSTREAM, 0, 0), ACT_PASS);
	CHECK_INT(policy_exception(&c, CAUSE_MIDSTREAM, 0, 59999), ACT_PASS);
	CHECK_INT(policy_exception(&c, CAUSE_MIDSTREAM, 0, 60000), ACT_RESET);
	/* a handshake is never older than the daemon */
	CHECK_INT(policy_exception(&c, CAUSE_HANDSHAKE, 0, 0), ACT_RESET);
	CHECK_INT(policy_counter(CAUSE_HANDSHAKE, ACT_RESET),
		  offsetof(struct stats, midstream_reset));
	c.midstream_grace = 0;
	CHECK_INT(policy_exception(&c, CAUSE_MIDSTREAM, 0, 0), ACT_RESET);
	c.midstream = MIDSTREAM_PASS;
	CHECK_INT(policy_exception(&c, CAUSE_MIDSTREAM, 0, 1000000), ACT_PASS);
	/* a full table drops the SYN; an open connection is reset, never forgotten */
	CHECK_INT(policy_exception(&c, CAUSE_FLOWS_FULL, 0, 0), ACT_DROP);
	CHECK_INT(policy_exception(&c, CAUSE_IDLE, 1, 0), ACT_RESET);
	CHECK_INT(policy_exception(&c, CAUSE_IDLE, 0, 0), ACT_FORGET);
	CHECK_INT(policy_exception(&c, CAUSE_EVICTED, 1, 0), ACT_RESET);
	CHECK_INT(policy_exception(&c, CAUSE_TOMBSTONE, 0, 0), ACT_RESET);
	CHECK_INT(policy_exception(&c, CAUSE_OOO, 1, 0), ACT_DROP);
	/* one counter per cause and action */
	CHECK_INT(policy_counter(CAUSE_MIDSTREAM, ACT_RESET),
		  offsetof(struct stats, midstream_reset));
	CHECK_INT(policy_counter(CAUSE_MIDSTREAM, ACT_PASS),
		  offsetof(struct stats, midstream_passed));
	CHECK_INT(policy_counter(CAUSE_FLOWS_FULL, ACT_DROP),
		  offsetof(struct stats, flows_refused));
	CHECK_INT(policy_counter(CAUSE_OOO, ACT_DROP), offsetof(struct stats, ooo_dropped));
	CHECK_INT(policy_counter(CAUSE_IDLE, ACT_FORGET), SIZE_MAX);
	/* total_buffer full: a message being read is refused for now, never passed;
	 * between messages the packet is dropped (sent again) */
	CHECK_INT(policy_exception(&c, CAUSE_TOTAL, 1, 0), ACT_TEMPFAIL);
	CHECK_INT(policy_exception(&c, CAUSE_TOTAL, 0, 0), ACT_DROP);
	c.oversize = POLICY_PASS;
	c.on_error = POLICY_PASS;
	CHECK_INT(policy_exception(&c, CAUSE_TOTAL, 1, 1000000), ACT_TEMPFAIL);
	CHECK_INT(policy_counter(CAUSE_TOTAL, ACT_TEMPFAIL),
		  offsetof(struct stats, total_buffer_tempfail));
	CHECK_INT(policy_counter(CAUSE_TOTAL, ACT_DROP), SIZE_MAX);
	CHECK_STR(policy_cause_name(CAUSE_TOTAL), "total_buffer");
	CHECK_STR(policy_act_name(ACT_TEMPFAIL), "tempfail");
	CHECK_INT(policy_tempfail(PROTO_SMTP), OUTCOME_TEMPFAIL);
	CHECK_INT(policy_tempfail(PROTO_POP3), OUTCOME_RESET);
	CHECK_STR(policy_cause_name(CAUSE_MIDSTREAM), "midstream");
	CHECK_STR(policy_act_name(ACT_RESET), "reset");
}

int main(void)
{
	struct config c;

	config_defaults(&c);
	/* defaults: SMTP reject, POP3 replace (with the whole hold), errors a temporary
	 * failure (POP3: reset), limits block, oversize pass */
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_CLEAN), OUTCOME_PASS);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_INFECTED), OUTCOME_REJECT);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_INFECTED), OUTCOME_REPLACE);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_LIMIT), OUTCOME_REJECT);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_LIMIT), OUTCOME_RESET);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_ERROR), OUTCOME_TEMPFAIL);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_TIMEOUT), OUTCOME_TEMPFAIL);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_TIMEOUT), OUTCOME_RESET);
	CHECK_INT(policy_oversize(&c, PROTO_SMTP), OUTCOME_PASS);
	CHECK_INT(policy_tempfail(PROTO_SMTP), OUTCOME_TEMPFAIL);
	CHECK_INT(policy_tempfail(PROTO_POP3), OUTCOME_RESET);
	CHECK_STR(policy_outcome_name(OUTCOME_TEMPFAIL), "tempfail");
	/* pass is opt-in */
	c.on_error = POLICY_PASS;
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_ERROR), OUTCOME_PASS);
	c.oversize = POLICY_TEMPFAIL;
	CHECK_INT(policy_oversize(&c, PROTO_SMTP), OUTCOME_TEMPFAIL);
	c.oversize = POLICY_PASS;
	/* block policies */
	c.on_error = POLICY_BLOCK;
	c.on_limit = POLICY_PASS;
	c.oversize = POLICY_BLOCK;
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_ERROR), OUTCOME_REJECT);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_TIMEOUT), OUTCOME_REJECT);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_ERROR), OUTCOME_RESET);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_LIMIT), OUTCOME_PASS);
	CHECK_INT(policy_oversize(&c, PROTO_SMTP), OUTCOME_REJECT);
	CHECK_INT(policy_oversize(&c, PROTO_POP3), OUTCOME_RESET);
	/* actions */
	c.smtp_action = ACTION_RESET;
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_INFECTED), OUTCOME_RESET);
	CHECK_INT(policy_oversize(&c, PROTO_SMTP), OUTCOME_RESET);
	c.smtp_action = ACTION_MONITOR;
	c.pop3_action = ACTION_MONITOR;
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_INFECTED), OUTCOME_PASS);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_INFECTED), OUTCOME_PASS);
	/* monitor does not weaken an explicit block policy: it resets */
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_ERROR), OUTCOME_RESET);
	CHECK_INT(policy_oversize(&c, PROTO_POP3), OUTCOME_RESET);
	/* delete: only a detection deletes mail; errors, limits and oversize reset */
	c.pop3_action = ACTION_DELETE;
	c.on_limit = POLICY_BLOCK;
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_INFECTED), OUTCOME_DELETE);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_ERROR), OUTCOME_RESET);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_LIMIT), OUTCOME_RESET);
	CHECK_INT(policy_oversize(&c, PROTO_POP3), OUTCOME_RESET);
	CHECK_STR(policy_outcome_name(OUTCOME_DELETE), "delete");
	CHECK_STR(policy_outcome_name(OUTCOME_REJECT), "reject");
	/* replace: only a detection becomes a notice; the rest resets */
	c.pop3_action = ACTION_REPLACE;
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_INFECTED), OUTCOME_REPLACE);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_ERROR), OUTCOME_RESET);
	CHECK_INT(policy_oversize(&c, PROTO_POP3), OUTCOME_RESET);
	CHECK_STR(policy_outcome_name(OUTCOME_REPLACE), "replace");
	test_exceptions();
	return unit_report("test_policy");
}
