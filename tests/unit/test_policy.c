/* Verdict policy: every result under every action and policy. */
#include "policy.h"
#include "unit.h"

int main(void)
{
	struct config c;

	config_defaults(&c);
	/* defaults: SMTP reject, POP3 reset, errors pass, limits block, oversize pass */
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_CLEAN), OUTCOME_PASS);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_INFECTED), OUTCOME_REJECT);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_INFECTED), OUTCOME_RESET);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_LIMIT), OUTCOME_REJECT);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_LIMIT), OUTCOME_RESET);
	CHECK_INT(policy_outcome(&c, PROTO_SMTP, SCAN_ERROR), OUTCOME_PASS);
	CHECK_INT(policy_outcome(&c, PROTO_POP3, SCAN_TIMEOUT), OUTCOME_PASS);
	CHECK_INT(policy_oversize(&c, PROTO_SMTP), OUTCOME_PASS);
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
	return unit_report("test_policy");
}
