/* A followed session: the protocol parser of one flow, turning its messages into scan
 * jobs for the queue thread. */
#ifndef MAILSCAN_SESSION_H
#define MAILSCAN_SESSION_H

#include "config.h"
#include "flow.h"
#include "msg.h"
#include "policy.h"
#include "ports.h"
#include "scan.h"
#include "stats.h"

/* What the bytes just pushed ask of the packet that carried them. */
struct session_req {
	struct scan_job *jobs; /* messages completed: hold the packet for their scans */
	int offload;	       /* the rest of the flow cannot be read (TLS) */
	int block;	       /* a message is blocked without a scan (oversize) */
	enum outcome block_outcome;
	char block_reason[96];
	/* SMTP: the first message ended here: its last byte (where the data pushed has
	 * it) and the replies owed before its own */
	const uint8_t *end;
	uint64_t replies_before;
	int ended;
	/* POP3: the first message ended here, and whether it was a TOP */
	unsigned long msgno;
	int top;
	/* POP3: bodies started in the bytes of the last push, the first and the last of
	 * them this many bytes into it */
	int body;
	size_t body_first, body_last;
	/* POP3: messages ended in the bytes of the last push, the last of them this many
	 * bytes into it */
	int msg_end_set;
	size_t msg_end;
};

/* A POP3 job's place (scan_job.placed) as the session leaves it: from and to are bytes
 * into the push that ended it, from SESSION_BODY_BEFORE if its body began in an earlier
 * push. The caller, which knows the push's sequence numbers, makes them stream
 * positions (SESSION_PLACED_SEQ). */
#define SESSION_PLACED_PUSH 1
#define SESSION_PLACED_SEQ  2
#define SESSION_BODY_BEFORE UINT32_MAX

struct session;

/* BUDGET caps the message bodies all of a thread's sessions keep; the flow keeps the
 * configuration's max_message_size for its life (a parser's limit cannot change in the
 * middle of a message). */
struct session *session_new(enum ports_proto, const struct config *, struct stats *,
			    struct msg_budget *budget);
void session_free(struct session *);
/* In-order bytes of DIR; fills REQ (jobs are for the caller to submit). CFG is the
 * configuration in force for this packet: its policies judge a message that ends. */
void session_push(struct session *, const struct config *cfg, const struct flow *, enum flow_dir,
		  const uint8_t *data, size_t len, struct session_req *req);

/* DIR's stream ended (its FIN, in order): what a receiver that takes the bytes read
 * so far as complete would store asks for REQ too (POP3: a body cut by the server). */
void session_close(struct session *, const struct flow *, enum flow_dir, struct session_req *req);

/* SMTP: final replies the server sent so far, and all it owes for the complete
 * commands so far (0 for POP3). */
uint64_t session_replies(const struct session *);
uint64_t session_owed(const struct session *);
/* POP3: forgets the DELE and QUIT answers seen; then the next DELE's answer (1, -1,
 * 0 not yet) and whether a QUIT was answered. */
void session_mark(struct session *);
int session_dele_result(const struct session *);
int session_quit_answered(const struct session *);
/* A message is in progress: the flow is worth keeping over idle ones. */
int session_busy(const struct session *);

/* "CLIENT.PORT>SERVER.PORT" */
void session_flow_name(const struct flow *, char *buf, size_t len);

#endif
