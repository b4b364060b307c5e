/* The flows of one queue thread: a hash table keyed by the connection, and a list in
 * order of last activity for timeouts and eviction. Pure: time is passed in. */
#ifndef MAILSCAN_FLOW_H
#define MAILSCAN_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "reasm.h"

enum flow_dir { DIR_TO_SERVER = 0, DIR_TO_CLIENT = 1 };

enum flow_state {
	FLOW_SYN,	  /* client SYN seen */
	FLOW_ESTABLISHED, /* server SYN-ACK seen: both directions reassembled */
	FLOW_CLOSING,	  /* both FINs acknowledged: a tombstone until TIME-WAIT is over */
	FLOW_RESET,	  /* a reset the receiver takes: a tombstone until TIME-WAIT is over */
	FLOW_REJECTING,	  /* a message rejected: the server's owed replies pass, then the 554 */
	FLOW_DELETING,	  /* POP3 delete: the server answers DELE and QUIT, nobody else hears */
	FLOW_PASS,	  /* not followed (TLS, mid-stream in the grace): passed and offloaded */
	FLOW_ABORTED,	  /* reset or rejected by us: nothing more passes */
};

struct flow_key {
	uint8_t family;
	uint8_t caddr[16]; /* client */
	uint8_t saddr[16]; /* server */
	uint16_t cport;
	uint16_t sport;
};

struct flow {
	struct flow *hnext;
	struct flow *newer, *older; /* activity list */
	struct flow_key key;
	uint64_t last_ms;
	enum flow_state state;
	uint8_t proto;		/* enum ports_proto of the server port */
	uint8_t rst_dir;	/* FLOW_RESET: the side that sent it */
	int8_t wscale[2];	/* window scale each side's SYN announced; -1 none */
	uint16_t norm_logged;	/* normalisation events already logged for this flow */
	uint16_t policy_logged; /* exception policies already logged for this flow */
	uint32_t client_isn;
	uint32_t server_isn;
	/* FLOW_SYN: the other SYN of two; the SYN-ACK says which one the server kept */
	uint32_t alt_isn;
	uint32_t alt_tsval;
	int8_t alt_wscale;
	uint8_t alt_ts;
	uint8_t alt_set;
	uint8_t open; /* the client acknowledged the SYN-ACK: a connection on both ends */
	/* FLOW_SYN: its SYN came on a connection conntrack holds offloaded (the rules say
	 * so in the SYN's mark); until the server answers the SYN with a SYN-ACK, that
	 * connection lives, and its packets pass offloaded */
	uint8_t on_offloaded;
	struct reasm dir[2];
	void *app;	    /* the protocol parser's state */
	void *cap;	    /* POP3: the server's bytes kept until their scans return */
	uint32_t cap_next;  /* with CAP: the client's stream ends here (released so far) */
	unsigned int holds; /* packets of this flow awaiting a verdict */
	int linked;	    /* in the table */
};

struct flow_table;

struct flow_table *flow_table_new(size_t max_flows, uint32_t seed);
void flow_table_free(struct flow_table *);
size_t flow_table_count(const struct flow_table *);

/* The flow P belongs to, and the direction of P in it; NULL if none. */
struct flow *flow_lookup(struct flow_table *, const struct pkt *, enum flow_dir *);
/* A new flow whose client is P's source. NULL when the table is full (the caller evicts
 * flow_oldest and retries) or out of memory. */
struct flow *flow_insert(struct flow_table *, const struct pkt *, uint64_t now_ms);
/* Marks activity: the flow becomes the newest. */
void flow_touch(struct flow_table *, struct flow *, uint64_t now_ms);
/* Takes the flow out of the table; the caller frees it (flow_free) when it is done. */
void flow_unlink(struct flow_table *, struct flow *);
void flow_free(struct flow *);
/* The least recently active flow, or NULL. */
struct flow *flow_oldest(struct flow_table *);

#endif
