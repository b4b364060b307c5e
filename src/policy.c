/* Verdict policy: pure, libc only. */
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "stats.h"

static const char *const outcome_names[] = {
	[OUTCOME_PASS] = "pass",     [OUTCOME_REJECT] = "reject",     [OUTCOME_RESET] = "reset",
	[OUTCOME_DELETE] = "delete", [OUTCOME_TEMPFAIL] = "tempfail", [OUTCOME_REPLACE] = "replace",
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

enum outcome policy_tempfail(enum ports_proto p)
{
	/* POP3 has no temporary failure for a message: the client is reset and tries
	 * again later */
	return p == PROTO_SMTP ? OUTCOME_TEMPFAIL : OUTCOME_RESET;
}

static enum outcome apply(const struct config *c, enum ports_proto p, enum config_policy pol)
{
	if (pol == POLICY_PASS)
		return OUTCOME_PASS;
	return pol == POLICY_TEMPFAIL ? policy_tempfail(p) : block(c, p);
}

enum outcome policy_outcome(const struct config *c, enum ports_proto p, enum scan_result r)
{
	switch (r) {
	case SCAN_CLEAN:
		return OUTCOME_PASS;
	case SCAN_INFECTED:
		if (policy_action(c, p) == ACTION_DELETE)
			return OUTCOME_DELETE; /* only a detection deletes mail, never an error */
		if (policy_action(c, p) == ACTION_REPLACE)
			return OUTCOME_REPLACE; /* only a detection, too */
		return policy_action(c, p) == ACTION_MONITOR ? OUTCOME_PASS : block(c, p);
	case SCAN_LIMIT:
		return apply(c, p, c->on_limit);
	case SCAN_OVERSIZE:
		return policy_oversize(c, p);
	case SCAN_CRASHED:
	case SCAN_KILLED:
		return apply(c, p, c->on_crash);
	case SCAN_ERROR:
	case SCAN_TIMEOUT:
	case SCAN_RESULT_COUNT:
		break;
	}
	return apply(c, p, c->on_error);
}

enum outcome policy_oversize(const struct config *c, enum ports_proto p)
{
	return apply(c, p, c->oversize);
}

/* --- exception policies --- */

static const char *const cause_names[CAUSE_COUNT] = {
	[CAUSE_MIDSTREAM] = "midstream",  [CAUSE_HANDSHAKE] = "midstream_handshake",
	[CAUSE_FLOWS_FULL] = "max_flows", [CAUSE_IDLE] = "idle_timeout",
	[CAUSE_EVICTED] = "evicted",	  [CAUSE_TOMBSTONE] = "after_close",
	[CAUSE_OOO] = "out_of_order",	  [CAUSE_TOTAL] = "total_buffer",
};

static const char *const act_names[] = {
	[ACT_PASS] = "pass",	 [ACT_DROP] = "drop",	      [ACT_RESET] = "reset",
	[ACT_FORGET] = "forget", [ACT_TEMPFAIL] = "tempfail",
};

#define NONE   SIZE_MAX
#define CTR(f) offsetof(struct stats, f)
static const size_t counters[CAUSE_COUNT][ACT_COUNT] = {
	[CAUSE_MIDSTREAM] = { CTR(midstream_passed), NONE, CTR(midstream_reset), NONE, NONE },
	[CAUSE_HANDSHAKE] = { NONE, NONE, CTR(midstream_reset), NONE, NONE },
	[CAUSE_FLOWS_FULL] = { NONE, CTR(flows_refused), NONE, NONE, NONE },
	[CAUSE_IDLE] = { NONE, NONE, CTR(flows_idle_reset), NONE, NONE },
	[CAUSE_EVICTED] = { NONE, NONE, CTR(flows_evicted_reset), NONE, NONE },
	[CAUSE_TOMBSTONE] = { NONE, NONE, CTR(tcp_data_after_close), NONE, NONE },
	[CAUSE_OOO] = { NONE, CTR(ooo_dropped), NONE, NONE, NONE },
	[CAUSE_TOTAL] = { NONE, NONE, NONE, NONE, CTR(total_buffer_tempfail) },
};
#undef CTR

const char *policy_cause_name(enum policy_cause c)
{
	return cause_names[c];
}

const char *policy_act_name(enum policy_act a)
{
	return act_names[a];
}

size_t policy_counter(enum policy_cause c, enum policy_act a)
{
	return counters[c][a];
}

enum policy_act policy_exception(const struct config *c, enum policy_cause cause, int live,
				 uint64_t uptime_ms)
{
	switch (cause) {
	case CAUSE_MIDSTREAM:
		/* connections older than this daemon: a restart does not cut them */
		if (uptime_ms < (uint64_t)c->midstream_grace * 1000 ||
		    c->midstream == MIDSTREAM_PASS)
			return ACT_PASS;
		return ACT_RESET;
	case CAUSE_FLOWS_FULL:
	case CAUSE_OOO:
		return ACT_DROP;
	case CAUSE_TOTAL:
		/* other flows hold the memory: a message that cannot be kept would never
		 * go on, and is never passed unscanned; between messages TCP sends again */
		return live ? ACT_TEMPFAIL : ACT_DROP;
	case CAUSE_IDLE:
	case CAUSE_EVICTED:
		/* never forgotten while open: its next packet would be mid-stream */
		return live ? ACT_RESET : ACT_FORGET;
	case CAUSE_HANDSHAKE:
	case CAUSE_TOMBSTONE:
	case CAUSE_COUNT:
		break;
	}
	return ACT_RESET;
}
