/* What a scanned (or not scanned) message means for its held packet. Pure. */
#ifndef MAILSCAN_POLICY_H
#define MAILSCAN_POLICY_H

#include "config.h"
#include "ports.h"
#include "scan.h"

enum outcome {
	OUTCOME_PASS,	/* release the held packet */
	OUTCOME_REJECT, /* SMTP: drop, RST the server, 554 to the client */
	OUTCOME_RESET,	/* drop and reset both sides */
	OUTCOME_DELETE, /* POP3: drop, DELE and QUIT to the server, reset the client */
};

/* The configured action for an infected message of PROTO. */
enum config_action policy_action(const struct config *, enum ports_proto);
/* Infected messages follow the protocol's action (monitor passes); limit hits follow
 * on_limit, errors and timeouts on_error, a scanner's crash or kill on_crash; "block" applies the
 * protocol's action, or a reset where that action is monitor. */
enum outcome policy_outcome(const struct config *, enum ports_proto, enum scan_result);
/* A message over max_message_size is not scanned: oversize decides. */
enum outcome policy_oversize(const struct config *, enum ports_proto);
const char *policy_outcome_name(enum outcome);

#endif
