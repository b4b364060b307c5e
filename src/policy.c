/* Verdict policy: pure, libc only. */
#include "policy.h"

static const char *const outcome_names[] = {
	[OUTCOME_PASS] = "pass",
	[OUTCOME_REJECT] = "reject",
	[OUTCOME_RESET] = "reset",
	[OUTCOME_DELETE] = "delete",
};

const char *policy_outcome_name(enum outcome o)
{
	return outcome_names[o];
}

enum config_action policy_action(const struct config *c, enum ports_proto p)
{
	return p == PROTO_SMTP ? c->smtp_action : c->pop3_action;
}

/* blocking a message: the protocol's action, but never "monitor" */
static enum outcome block(const struct config *c, enum ports_proto p)
{
	return policy_action(c, p) == ACTION_REJECT ? OUTCOME_REJECT : OUTCOME_RESET;
}

enum outcome policy_outcome(const struct config *c, enum ports_proto p, enum scan_result r)
{
	switch (r) {
	case SCAN_CLEAN:
		return OUTCOME_PASS;
	case SCAN_INFECTED:
		if (policy_action(c, p) == ACTION_DELETE)
			return OUTCOME_DELETE; /* only a detection deletes mail, never an error */
		return policy_action(c, p) == ACTION_MONITOR ? OUTCOME_PASS : block(c, p);
	case SCAN_LIMIT:
		return c->on_limit == POLICY_PASS ? OUTCOME_PASS : block(c, p);
	case SCAN_OVERSIZE:
		return policy_oversize(c, p);
	case SCAN_CRASHED:
	case SCAN_KILLED:
		return c->on_crash == POLICY_PASS ? OUTCOME_PASS : block(c, p);
	case SCAN_ERROR:
	case SCAN_TIMEOUT:
	case SCAN_RESULT_COUNT:
		break;
	}
	return c->on_error == POLICY_PASS ? OUTCOME_PASS : block(c, p);
}

enum outcome policy_oversize(const struct config *c, enum ports_proto p)
{
	return c->oversize == POLICY_PASS ? OUTCOME_PASS : block(c, p);
}
