/* A queue thread's state, shared by the four files of its packet path and no other:
 * queue.c takes the packets and gives their verdicts, hold.c keeps the held packets and
 * carries out their outcomes, capture.c keeps POP3 bodies whole and releases them,
 * flows.c starts, resets, sweeps and ends the flows. */
#ifndef MAILSCAN_QTHREAD_H
#define MAILSCAN_QTHREAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "flow.h"
#include "inject.h"
#include "nfqueue.h"
#include "packet.h"
#include "policy.h"
#include "queue.h"
#include "reasm.h"
#include "release.h"
#include "scan.h"
#include "session.h"

struct hold {
	struct hold *next;
	uint32_t id;
	struct flow *flow;
	enum flow_dir dir;
	uint32_t seq, end; /* the held range */
	uint64_t start_us;
	uint64_t release_us; /* test hold: accept then; 0: waits for its scans */
	uint64_t deadline_ms;
	unsigned int pending; /* scans not back yet */
	int resolved;	      /* verdict given (hold time limit); waits for its scans */
	enum outcome outcome; /* the worst so far */
	char reason[160];     /* why it is blocked, for the 554 */
	uint8_t *pkt;	      /* the normalised packet to accept, or NULL: as queued */
	size_t pkt_len;
	uint64_t replies_before; /* SMTP: server replies owed before this message's */
	int reply_wait;		 /* rejected: the 554 waits for those replies */
	long cut;		 /* SMTP: payload bytes before the message's last byte, or -1 */
	unsigned long msgno;	 /* POP3: the message's number (0: unknown), and TOP */
	int top;
	/* POP3 whole: no packet, the capture's bytes from SEQ wait; an outcome other than
	 * passing waits (cap_wait) until the client has all that went before */
	int capture;
	int cap_wait;
	/* an infected message: what a notice in its place says */
	char virus[128], qid[64], user[64];
};

/* what processing the current packet decided */
struct pkt_ctx {
	struct flow *flow;
	enum flow_dir dir;
	int hold; /* test hold */
	int reset;
	int mid_message; /* refused inside a message: the client is reset after the reply */
	uint64_t owed;	 /* SMTP replies owed for the commands before this packet */
	struct session_req req;
	/* POP3 whole: the packet's messages wait from here (a body's start), and once
	 * clean go up to their last end */
	uint32_t cap_block, cap_end;
	int cap_block_set, cap_end_set;
};

/* the packet being handled, as queued: normalisation changes it in place */
struct cur_pkt {
	uint8_t *buf;
	size_t len;
	struct pkt *p;
	int changed;	      /* the verdict carries BUF */
	struct flow *waiting; /* a server answer read for a flow whose hold waits for it */
	uint32_t mark;	      /* as queued */
};

struct qthread {
	struct queue_shared sh; /* the daemon's */
	uint16_t queue;
	struct nfqueue *nfq;
	struct flow_table *flows;
	struct inject *inj;
	struct reasm_limits lim;
	size_t reasm_total;
	struct hold *holds;
	struct capture *captures;
	uint64_t last_sweep;
	uint64_t start_ms; /* mid-stream flows pass for midstream_grace after this */
	struct pkt_ctx cur;
	struct cur_pkt pk;
	struct scan_sink sink;
	struct msg_budget budget; /* message bodies kept by this thread's sessions */
	/* the configuration in force: a reference to a snapshot (live.h), replaced between
	 * packets when a reload has published a new one */
	const struct config *cfg;
	unsigned long cfg_gen;
	pthread_t tid;
	struct stats st;
};

enum verdict { V_ACCEPT, V_DROP, V_OFFLOAD, V_HELD };

/* hold.c: the held packets and their outcomes */
/* The same for a server packet of a POP3 flow whose bytes are kept (capture.c): its
 * messages wait there. */
enum verdict hold_capture(struct qthread *, struct flow *, struct pkt *, uint64_t now);
/* What the packet's bytes asked for: a reset, a block, a hold for scans, an offload. */
enum verdict hold_settle(struct qthread *, struct flow *, enum flow_dir, const struct pkt *,
			 uint32_t id, uint64_t now);
/* Is SEQ..SEQ+LEN of F's DIR side within a range still held? */
int hold_in_range(const struct qthread *, const struct flow *, enum flow_dir, uint32_t seq,
		  size_t len);
/* Resolves the holds that are due; returns ms until the next one (or -1). */
int holds_due(struct qthread *, uint64_t now);
/* Scans that came back: each settles its hold once all of the hold's are in. */
void holds_scans_done(struct qthread *);
/* After a server packet of F: the waiting holds whose answers are all in. */
void holds_waits_due(struct qthread *, struct flow *);
void holds_free(struct qthread *);

/* capture.c: POP3 bodies kept whole, acknowledged to the server, released to the client */
struct capture;
int capture_on(const struct flow *);
/* Keeps F's server bytes from BASE on (where the bytes that start a body start). */
void capture_start(struct qthread *, struct flow *, uint32_t base, uint64_t now);
/* In-order server bytes at SEQ (those from the start on are kept). */
void capture_bytes(struct qthread *, struct flow *, uint32_t seq, const uint8_t *, size_t);
/* A body starts at BODY; where the body being read started. */
void capture_body(struct flow *, uint32_t body);
uint32_t capture_body_at(const struct flow *);
/* The body being read was found clean up to END (a reading of it ends there). */
void capture_clean_to(struct flow *, uint32_t end);
/* The server's FIN, in order: 1 the first time. */
int capture_fin(struct flow *);
/* The end of what went to the client; whether it acknowledged all of it. */
uint32_t capture_sent(const struct flow *);
int capture_caught_up(const struct flow *);
/* Whether a server segment at SEQ is taken (no: it is dropped and sent again). */
int capture_taking(const struct flow *, uint32_t seq);
/* Bytes from AT wait for a scan (BLOCKED), or none do. */
void capture_limit(struct qthread *, struct flow *, int blocked, uint32_t at, uint64_t now);
/* Writes over the kept body [FROM, TO) (its ".CRLF" last, nothing of it sent yet) a
 * notice of the same length; 0, or -1 if it cannot (then it is not changed). */
struct notice_info;
int capture_replace(struct flow *, uint32_t from, uint32_t to, const struct notice_info *);
/* A server segment and a client segment of a flow with a capture. */
void capture_server_pkt(struct qthread *, struct flow *, const struct pkt *, uint64_t now);
void capture_client_pkt(struct qthread *, struct flow *, struct pkt *, uint8_t *buf, uint64_t now);
/* Timers, idle clients, ends; ms until the next timer (or -1). */
int captures_due(struct qthread *, uint64_t now);
void captures_free(struct qthread *);

/* flows.c: the flows' lives, and what is sent to their two sides */
struct flow *flows_start(struct qthread *, const struct pkt *, uint64_t now);
/* A flow that is not followed, remembered as STATE (passed, or a tombstone); DIR is the
 * direction of P. NULL when there is no room. */
struct flow *flows_unknown(struct qthread *, const struct pkt *, enum flow_dir,
			   enum flow_state state, uint64_t now);
/* Applies the exception policy for CAUSE to F (NULL: none yet): counted, logged once per
 * flow and cause (warnings are rate-limited), and a reset of a followed flow carried
 * out; returns what was decided. */
enum policy_act flows_exception(struct qthread *, struct flow *, enum policy_cause);
/* The same, with LIVE as the policy's question (policy_exception) given by the caller. */
enum policy_act flows_exception_at(struct qthread *, struct flow *, enum policy_cause, int live);
void flows_end(struct qthread *, struct flow *);
/* F becomes a tombstone (STATE: reset or aborted) and gives its buffers back. */
void flows_bury(struct qthread *, struct flow *, enum flow_state);
/* Ends the flows past their timeout; the others give back their idle buffers. */
void flows_sweep(struct qthread *, uint64_t now);
/* In-order bytes of the current packet's direction (a reasm_add callback; ARG is the
 * queue thread). */
void flows_deliver(void *arg, const uint8_t *data, size_t len);
/* Sends the verdicts queued so far: packets given their verdict go before anything
 * injected next. */
void flows_flush(struct qthread *);
/* Sends a packet of F towards TO as if from the other side; 0 or -1 (counted). */
int flows_send(struct qthread *, const struct flow *, enum flow_dir to, uint32_t seq, uint32_t ack,
	       uint8_t flags, const char *payload);
/* The same for a segment S whose addresses and ports are set here. */
int flows_send_spec(struct qthread *, const struct flow *, enum flow_dir to, struct tcp_spec *s);
/* The next sequence number the receiver of DIR expects. */
uint32_t flows_rcv_nxt(const struct qthread *, const struct flow *, enum flow_dir);
/* Resets both sides; SEQ is where the sender's stream stops for the receiver. */
void flows_reset(struct qthread *, struct flow *, enum flow_dir, uint32_t seq);
/* Resets both sides of a flow known only from its packet P of DIR (mid-stream, or a
 * tombstone without streams), at the numbers P shows. */
void flows_reset_by_pkt(struct qthread *, struct flow *, enum flow_dir, const struct pkt *);

#endif
