/* nftables rules through libnftnl: the only file that sees libnftnl. Every change is one
 * batch, committed atomically by the kernel: a failure leaves the old ruleset in place. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "rules.h"

#define TCP_SYN 0x02

#define BATCH_SIZE	  (256 * 1024)
#define BATCH_MSGS	  512
#define TYPE_INET_SERVICE 13 /* nftables' datatype id, so `nft list` prints ports */
#define LOOPBACK_IFINDEX  1
/* Loopback's 64 KiB MTU makes segments larger than NFQUEUE can copy to userspace
 * (0xffff less an attribute header); protected connections over loopback get an MSS
 * that keeps even a two-segment GSO packet within the copy range. */
#define LOOPBACK_MSS  32000
#define TCPOPT_MAXSEG 2

struct nft_batch {
	struct mnl_nlmsg_batch *b;
	char *buf;
	uint32_t seq0;
	uint32_t seq;
	uint32_t set_id;
	const char *what[BATCH_MSGS]; /* what each message does, for error reports */
};

static const char *const set_names[PROTO_COUNT] = { "smtp_ports", "pop3_ports" };
static const char *const counter_names[PROTO_COUNT][2] = {
	{ "smtp_to_server", "smtp_to_client" },
	{ "pop3_to_server", "pop3_to_client" },
};

/* The queue chains run after the filter tables (traffic they drop is not scanned). The
 * offload chains run right after them: a packet the daemon accepted with the offload
 * mark gets its connection marked, so the rest of the flow skips the queue. */
static const struct chain_def {
	const char *name;
	uint32_t hook;
	int32_t prio;
	enum config_mode mode;
	int offload;
} chains[] = {
	{ "forward", NF_INET_FORWARD, 10, MODE_GATEWAY, 0 },
	{ "forward_offload", NF_INET_FORWARD, 11, MODE_GATEWAY, 1 },
	{ "input", NF_INET_LOCAL_IN, 10, MODE_HOST, 0 },
	{ "input_offload", NF_INET_LOCAL_IN, 11, MODE_HOST, 1 },
	{ "output", NF_INET_LOCAL_OUT, 10, MODE_HOST, 0 },
	{ "output_offload", NF_INET_LOCAL_OUT, 11, MODE_HOST, 1 },
};

const char *rules_queue_range(char *buf, size_t len, uint16_t first, uint16_t count)
{
	if (count <= 1)
		snprintf(buf, len, "%u", first);
	else
		snprintf(buf, len, "%u-%u", first, first + count - 1);
	return buf;
}

const char *rules_backend_name(enum rules_backend b)
{
	return b == RULES_NATIVE ? "nft queue" : "xt NFQUEUE";
}

void rules_spec_from_config(struct rules_spec *s, const struct config *c, const struct port_set *p)
{
	s->mode = c->mode;
	s->queue_first = c->queue_first;
	s->queue_count = c->queue_count;
	s->bypass = !c->fail_closed;
	s->offload_mark = c->offload_mark;
	s->inject_mark = c->inject_mark;
	s->ports = p;
}

struct nft_batch *nft_batch_new(void)
{
	struct nft_batch *nb = calloc(1, sizeof(*nb));

	if (!nb)
		return NULL;
	nb->buf = malloc(BATCH_SIZE);
	if (!nb->buf)
		goto err_buf;
	nb->b = mnl_nlmsg_batch_start(nb->buf, BATCH_SIZE);
	if (!nb->b)
		goto err_batch;
	nb->seq0 = nb->seq = (uint32_t)time(NULL);
	nftnl_batch_begin(mnl_nlmsg_batch_current(nb->b), nb->seq++);
	mnl_nlmsg_batch_next(nb->b);
	return nb;
err_batch:
	free(nb->buf);
err_buf:
	free(nb);
	return NULL;
}

void nft_batch_free(struct nft_batch *nb)
{
	if (!nb)
		return;
	mnl_nlmsg_batch_stop(nb->b);
	free(nb->buf);
	free(nb);
}

const void *nft_batch_data(const struct nft_batch *nb, size_t *len)
{
	*len = mnl_nlmsg_batch_size(nb->b);
	return mnl_nlmsg_batch_head(nb->b);
}

static struct nlmsghdr *batch_msg(struct nft_batch *nb, uint16_t type, uint16_t flags,
				  const char *what)
{
	struct nlmsghdr *nlh;
	uint32_t i = nb->seq - nb->seq0;

	if (i < BATCH_MSGS)
		nb->what[i] = what;
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(nb->b), type, NFPROTO_INET, flags,
				    nb->seq++);
	return nlh;
}

static void batch_next(struct nft_batch *nb)
{
	mnl_nlmsg_batch_next(nb->b);
}

static void batch_end(struct nft_batch *nb)
{
	nftnl_batch_end(mnl_nlmsg_batch_current(nb->b), nb->seq++);
	mnl_nlmsg_batch_next(nb->b);
}

/* --- expressions --- */

static void expr_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static void put_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	expr_add(r, e);
}

static void put_ct(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	expr_add(r, e);
}

static void put_cmp(struct nftnl_rule *r, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	expr_add(r, e);
}

/* reg1 = reg1 & MASK ^ X, LEN bytes */
static void put_bitwise(struct nftnl_rule *r, const void *mask, const void *x, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, x, len);
	expr_add(r, e);
}

/* reg1 = reg1 & mask; then reg1 == mask: the mark bit is set */
static void put_mark_bit(struct nftnl_rule *r, uint32_t mask)
{
	uint32_t zero = 0;

	put_bitwise(r, &mask, &zero, sizeof(mask));
	put_cmp(r, &mask, sizeof(mask));
}

/* tcp flags & FLAG == WANT */
static void put_tcp_flags(struct nftnl_rule *r, uint8_t flag, uint8_t want)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	uint8_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 13);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	expr_add(r, e);
	put_bitwise(r, &flag, &zero, 1);
	put_cmp(r, &want, 1);
}

/* meta l4proto tcp tcp flags & syn == syn (SYN), or == 0 */
static void put_tcp_syn(struct nftnl_rule *r, int syn)
{
	uint8_t tcp = IPPROTO_TCP;

	put_meta(r, NFT_META_L4PROTO);
	put_cmp(r, &tcp, sizeof(tcp));
	put_tcp_flags(r, TCP_SYN, syn ? TCP_SYN : 0);
}

/* ct state established */
static void put_ct_established(struct nftnl_rule *r)
{
	uint32_t bit = NF_CT_STATE_BIT(IP_CT_ESTABLISHED), zero = 0;
	struct nftnl_expr *e;

	put_ct(r, NFT_CT_STATE);
	put_bitwise(r, &bit, &zero, sizeof(bit));
	e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, sizeof(zero));
	expr_add(r, e);
}

/* ct mark set ct mark & MASK ^ X (CT), or the same of the packet's meta mark */
static void put_mark_set(struct nftnl_rule *r, int ct, uint32_t mask, uint32_t x)
{
	struct nftnl_expr *e;

	if (ct)
		put_ct(r, NFT_CT_MARK);
	else
		put_meta(r, NFT_META_MARK);
	put_bitwise(r, &mask, &x, sizeof(mask));
	e = nftnl_expr_alloc(ct ? "ct" : "meta");
	nftnl_expr_set_u32(e, ct ? NFTNL_EXPR_CT_KEY : NFTNL_EXPR_META_KEY,
			   ct ? NFT_CT_MARK : NFT_META_MARK);
	nftnl_expr_set_u32(e, ct ? NFTNL_EXPR_CT_SREG : NFTNL_EXPR_META_SREG, NFT_REG_1);
	expr_add(r, e);
}

static void put_accept(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	expr_add(r, e);
}

/* meta l4proto tcp; tcp dport|sport @set */
static void put_tcp_port_in_set(struct nftnl_rule *r, int sport, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e;
	uint8_t tcp = IPPROTO_TCP;

	put_meta(r, NFT_META_L4PROTO);
	put_cmp(r, &tcp, sizeof(tcp));
	e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, sport ? 0 : 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	expr_add(r, e);
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	expr_add(r, e);
}

/* tcp flags & syn == syn tcp option maxseg size set MSS */
static void put_syn_mss(struct nftnl_rule *r, uint16_t mss)
{
	struct nftnl_expr *e;
	uint16_t be = htons(mss);

	put_tcp_flags(r, TCP_SYN, TCP_SYN);
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &be, sizeof(be));
	expr_add(r, e);
	e = nftnl_expr_alloc("exthdr");
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_SREG, NFT_REG_1);
	nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, TCPOPT_MAXSEG);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OP, NFT_EXTHDR_OP_TCPOPT);
	expr_add(r, e);
}

static void put_counter(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
	expr_add(r, e);
}

static void put_queue(struct nftnl_rule *r, const struct rules_spec *s, enum rules_backend be)
{
	struct nftnl_expr *e;

	if (be == RULES_NATIVE) {
		e = nftnl_expr_alloc("queue");
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, s->queue_first);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, s->queue_count);
		/* no fanout: the default balances by a hash of the addresses, which keeps
		 * a flow on one queue; CPU fanout would reorder it */
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
				   s->bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
	} else {
		/* nft_compat wants the target's info padded to XT_ALIGN; libnftnl keeps
		 * (and later frees) the buffer it is given */
		struct xt_NFQ_info_v3 *info = calloc(1, XT_ALIGN(sizeof(*info)));

		info->queuenum = s->queue_first;
		info->queues_total = s->queue_count;
		info->flags = s->bypass ? NFQ_FLAG_BYPASS : 0;
		e = nftnl_expr_alloc("target");
		nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
		nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
		nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, XT_ALIGN(sizeof(*info)));
	}
	expr_add(r, e);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, RULES_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

static void rule_emit(struct nft_batch *nb, struct nftnl_rule *r, const char *what)
{
	struct nlmsghdr *nlh =
		batch_msg(nb, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, what);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	batch_next(nb);
}

/* --- objects --- */

static void build_table(struct nft_batch *nb, uint16_t type, uint16_t flags, const char *what)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, RULES_TABLE);
	nlh = batch_msg(nb, type, flags | NLM_F_ACK, what);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_next(nb);
}

static struct nftnl_set *set_new(enum ports_proto p, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, RULES_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_names[p]);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

static void build_set(struct nft_batch *nb, enum ports_proto p)
{
	struct nftnl_set *s = set_new(p, nb->set_id + p);
	struct nlmsghdr *nlh;

	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint16_t));
	nlh = batch_msg(nb, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_ACK, "adding a port set");
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	batch_next(nb);
}

/* Flush the set and add the protocol's ports: the live set equals the port list. */
static void build_set_elems(struct nft_batch *nb, const struct port_set *ps, enum ports_proto p)
{
	uint16_t ports[PORTS_MAX];
	size_t i, n = ports_of(ps, p, ports, PORTS_MAX);
	struct nftnl_set *s = set_new(p, nb->set_id + p);
	struct nlmsghdr *nlh;

	/* a DELSETELEM without elements flushes the set */
	nlh = batch_msg(nb, NFT_MSG_DELSETELEM, NLM_F_ACK, "flushing a port set");
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	batch_next(nb);
	for (i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint16_t be = htons(ports[i]);

		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &be, sizeof(be));
		nftnl_set_elem_add(s, e);
	}
	if (n) {
		nlh = batch_msg(nb, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
				"adding ports to a set");
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		batch_next(nb);
	}
	nftnl_set_free(s);
}

static void build_counter(struct nft_batch *nb, const char *name)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *nlh;

	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, RULES_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	/* without NLM_F_EXCL an existing counter is kept with its values */
	nlh = batch_msg(nb, NFT_MSG_NEWOBJ, NLM_F_CREATE | NLM_F_ACK, "adding a named counter");
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	batch_next(nb);
}

static void build_chain(struct nft_batch *nb, const struct chain_def *c, uint16_t type,
			const char *what)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, RULES_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->name);
	if (type == NFT_MSG_NEWCHAIN) {
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, c->hook);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->prio);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = batch_msg(nb, type, (type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0) | NLM_F_ACK, what);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	batch_next(nb);
}

/* a rule of CHAIN for SYNs (SYN) or the other TCP packets: where the conntrack mark
 * (FROM_CT) or else the packet's mark has BIT, the other mark gets it too */
static void rule_carry_offload(struct nft_batch *nb, const char *chain, int syn, int from_ct,
			       uint32_t bit, const char *what)
{
	struct nftnl_rule *r = rule_new(chain);

	put_tcp_syn(r, syn);
	if (from_ct)
		put_ct(r, NFT_CT_MARK);
	else
		put_meta(r, NFT_META_MARK);
	put_mark_bit(r, bit);
	put_mark_set(r, !from_ct, ~bit, bit);
	rule_emit(nb, r, what);
}

static void build_chain_rules(struct nft_batch *nb, const struct chain_def *c,
			      const struct rules_spec *s, enum rules_backend be)
{
	struct nftnl_rule *r;
	int p, dir;

	if (c->offload) {
		/* a SYN never: its mark may say that its conntrack entry was offloaded */
		rule_carry_offload(nb, c->name, 0, 0, s->offload_mark,
				   "adding the offload marking rule");
		return;
	}
	/* the daemon's own packets (RSTs, replies) are never queued again */
	r = rule_new(c->name);
	put_meta(r, NFT_META_MARK);
	put_mark_bit(r, s->inject_mark);
	put_accept(r);
	rule_emit(nb, r, "adding the injected-packet rule");
	/* a SYN on a connection conntrack holds offloaded says so to the daemon in its
	 * packet mark: the connection may still live (the receiver answers such a SYN with
	 * a challenge ACK), and only the server's SYN-ACK shows a new one */
	rule_carry_offload(nb, c->name, 1, 1, s->offload_mark, "adding the offload hint rule");
	/* an offload lives as long as its connection: a SYN starts a new one, which is
	 * followed from its start (a port used again, TIME-WAIT reuse) */
	r = rule_new(c->name);
	put_tcp_syn(r, 1);
	put_mark_set(r, 1, ~s->offload_mark, 0);
	rule_emit(nb, r, "adding the offload clearing rule");
	/* flows the daemon offloaded (TLS, mid-stream in the grace) skip the queue; a
	 * new connection (ct state new) never does */
	r = rule_new(c->name);
	put_ct_established(r);
	put_ct(r, NFT_CT_MARK);
	put_mark_bit(r, s->offload_mark);
	put_accept(r);
	rule_emit(nb, r, "adding the offload rule");
	if (c->hook == NF_INET_LOCAL_IN) {
		/* loopback traffic was already queued on output */
		uint32_t lo = LOOPBACK_IFINDEX;

		r = rule_new(c->name);
		put_meta(r, NFT_META_IIF);
		put_cmp(r, &lo, sizeof(lo));
		put_accept(r);
		rule_emit(nb, r, "adding the loopback rule");
	}
	if (c->hook == NF_INET_LOCAL_OUT) {
		uint32_t lo = LOOPBACK_IFINDEX;

		for (p = 0; p < PROTO_COUNT; p++) {
			for (dir = 0; dir < 2; dir++) {
				r = rule_new(c->name);
				put_meta(r, NFT_META_OIF);
				put_cmp(r, &lo, sizeof(lo));
				put_tcp_port_in_set(r, dir, set_names[p], nb->set_id + (uint32_t)p);
				put_syn_mss(r, LOOPBACK_MSS);
				rule_emit(nb, r, "adding a loopback MSS rule");
			}
		}
	}
	for (p = 0; p < PROTO_COUNT; p++) {
		for (dir = 0; dir < 2; dir++) {
			r = rule_new(c->name);
			put_tcp_port_in_set(r, dir, set_names[p], nb->set_id + (uint32_t)p);
			put_counter(r, counter_names[p][dir]);
			put_queue(r, s, be);
			rule_emit(nb, r, "adding a queue rule");
		}
	}
}

void rules_build_install(struct nft_batch *nb, const struct rules_spec *s, enum rules_backend be)
{
	size_t i;
	int p;

	nb->set_id = 1;
	build_table(nb, NFT_MSG_NEWTABLE, NLM_F_CREATE, "adding table inet " RULES_TABLE);
	for (p = 0; p < PROTO_COUNT; p++)
		build_set(nb, (enum ports_proto)p);
	for (p = 0; p < PROTO_COUNT; p++)
		build_set_elems(nb, s->ports, (enum ports_proto)p);
	for (p = 0; p < PROTO_COUNT; p++) {
		build_counter(nb, counter_names[p][0]);
		build_counter(nb, counter_names[p][1]);
	}
	/* replace every chain: create-if-missing then delete, so a second install
	 * (or a switch between gateway and host) leaves exactly one copy */
	for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		build_chain(nb, &chains[i], NFT_MSG_NEWCHAIN, "adding a chain");
		build_chain(nb, &chains[i], NFT_MSG_DELCHAIN, "replacing a chain");
	}
	for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		if (chains[i].mode != s->mode)
			continue;
		build_chain(nb, &chains[i], NFT_MSG_NEWCHAIN, "adding a chain");
		build_chain_rules(nb, &chains[i], s, be);
	}
	batch_end(nb);
}

void rules_build_ports(struct nft_batch *nb, const struct port_set *ps)
{
	int p;

	nb->set_id = 0;
	for (p = 0; p < PROTO_COUNT; p++)
		build_set_elems(nb, ps, (enum ports_proto)p);
	batch_end(nb);
}

static void build_remove(struct nft_batch *nb)
{
	build_table(nb, NFT_MSG_DELTABLE, 0, "deleting table inet " RULES_TABLE);
	batch_end(nb);
}

/* --- talking to the kernel --- */

static struct mnl_socket *nft_open(char *err, size_t errlen)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

	if (!nl) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* Sends the batch and waits for the kernel's answer. Every message asks for an ack, so
 * the answer ends at the ack of the last one, or at the first error. */
static int batch_commit(struct nft_batch *nb, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t last = nb->seq - 2; /* the message before batch end */
	struct mnl_socket *nl;
	size_t len;
	const void *data = nft_batch_data(nb, &len);
	int ret, rc = -1;

	nl = nft_open(err, errlen);
	if (!nl)
		return -1;
	if (mnl_socket_sendto(nl, data, len) < 0) {
		snprintf(err, errlen, "netlink send: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		const struct nlmsghdr *nlh;
		int left;

		ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			snprintf(err, errlen, "netlink receive: %s", strerror(errno));
			goto out;
		}
		left = ret;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;
			uint32_t i;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error) {
				i = e->msg.nlmsg_seq - nb->seq0;
				errno = -e->error;
				snprintf(err, errlen, "%s: %s",
					 i < BATCH_MSGS && nb->what[i] ? nb->what[i] : "nftables",
					 strerror(errno));
				goto out;
			}
			if (e->msg.nlmsg_seq == last) {
				rc = 0;
				goto out;
			}
		}
	}
out:
	mnl_socket_close(nl);
	return rc;
}

static int run_batch(void (*build)(struct nft_batch *, const void *), const void *arg, char *err,
		     size_t errlen)
{
	struct nft_batch *nb = nft_batch_new();
	int r;

	if (!nb) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	build(nb, arg);
	r = batch_commit(nb, err, errlen);
	nft_batch_free(nb);
	return r;
}

struct install_arg {
	const struct rules_spec *spec;
	enum rules_backend be;
};

static void install_cb(struct nft_batch *nb, const void *arg)
{
	const struct install_arg *a = arg;

	rules_build_install(nb, a->spec, a->be);
}

int rules_install(const struct rules_spec *s, enum rules_backend *used, char *err, size_t errlen)
{
	struct install_arg a = { s, RULES_NATIVE };
	char native_err[256];

	/* the native batch is the probe: a kernel without nft_queue refuses it whole */
	if (run_batch(install_cb, &a, native_err, sizeof(native_err)) == 0) {
		*used = RULES_NATIVE;
		return 0;
	}
	if (errno != ENOENT && errno != EOPNOTSUPP) {
		snprintf(err, errlen, "%s", native_err);
		return -1;
	}
	a.be = RULES_XT;
	if (run_batch(install_cb, &a, err, errlen))
		return -1;
	*used = RULES_XT;
	return 0;
}

static void remove_cb(struct nft_batch *nb, const void *arg)
{
	(void)arg;
	build_remove(nb);
}

int rules_remove(int *was_installed, char *err, size_t errlen)
{
	*was_installed = 1;
	if (run_batch(remove_cb, NULL, err, errlen) == 0)
		return 0;
	if (errno == ENOENT) {
		*was_installed = 0;
		return 0;
	}
	return -1;
}

static void ports_cb(struct nft_batch *nb, const void *arg)
{
	rules_build_ports(nb, arg);
}

int rules_sync_ports(const struct port_set *ps, char *err, size_t errlen)
{
	if (run_batch(ports_cb, ps, err, errlen) == 0)
		return 0;
	return errno == ENOENT ? 1 : -1;
}

/* --- reading the live table back --- */

struct show_state {
	int chains[sizeof(chains) / sizeof(chains[0])];
	int backend; /* -1 unknown */
	uint16_t qnum, qtotal, qflags;
	uint16_t ports[PORTS_MAX];
	size_t nports;
	FILE *out;
};

static int dump(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -1;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, cb, data);
		if (r <= 0)
			return r;
	}
	return n < 0 ? -1 : 0;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct show_state *st = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	size_t i;

	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    !strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), RULES_TABLE)) {
		for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
			if (!strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), chains[i].name))
				st->chains[i] = 1;
		}
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct show_state *st = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const struct xt_NFQ_info_v3 *info;
	uint32_t len;

	if (!strcmp(name, "queue")) {
		st->backend = RULES_NATIVE;
		st->qnum = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM);
		st->qtotal = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL);
		st->qflags = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS) & NFT_QUEUE_FLAG_BYPASS;
	} else if (!strcmp(name, "target")) {
		info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
		if (info && len >= sizeof(*info)) {
			st->backend = RULES_XT;
			st->qnum = info->queuenum;
			st->qtotal = info->queues_total;
			st->qflags = info->flags & NFQ_FLAG_BYPASS;
		}
	}
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    !strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), RULES_TABLE))
		nftnl_expr_foreach(r, expr_cb, data);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct show_state *st = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	uint32_t len;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
		it = nftnl_set_elems_iter_create(s);
		while (it && (e = nftnl_set_elems_iter_next(it)) && st->nports < PORTS_MAX) {
			const uint16_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

			if (k && len == sizeof(*k))
				st->ports[st->nports++] = ntohs(*k);
		}
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct show_state *st = data;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    !strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), RULES_TABLE))
		fprintf(st->out, "counter %s packets=%llu bytes=%llu\n",
			nftnl_obj_get_str(o, NFTNL_OBJ_NAME),
			(unsigned long long)nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS),
			(unsigned long long)nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES));
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int rules_show(FILE *out, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], range[16];
	struct show_state st = { .backend = -1, .out = out };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	struct nftnl_table *t;
	struct nftnl_set *s;
	struct nftnl_obj *o;
	size_t i;
	int p, rc = -1;

	nl = nft_open(err, errlen);
	if (!nl)
		return -1;
	t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, RULES_TABLE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if (dump(nl, nlh, NULL, NULL) < 0) {
		if (errno == ENOENT) {
			fprintf(out, "table inet %s: not installed\n", RULES_TABLE);
			rc = 0;
		} else {
			snprintf(err, errlen, "reading table: %s", strerror(errno));
		}
		goto out;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, seq++);
	if (dump(nl, nlh, chain_cb, &st) < 0)
		goto sys;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq++);
	if (dump(nl, nlh, rule_cb, &st) < 0)
		goto sys;
	fprintf(out, "table inet %s: installed\nmode %s\nchains", RULES_TABLE,
		st.chains[0] ? "gateway" : (st.chains[2] ? "host" : "none"));
	for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		if (st.chains[i])
			fprintf(out, " %s", chains[i].name);
	}
	fputc('\n', out);
	if (st.backend >= 0)
		fprintf(out, "queue %s %s%s\n", rules_backend_name(st.backend),
			rules_queue_range(range, sizeof(range), st.qnum, st.qtotal),
			st.qflags ? " bypass" : "");
	for (p = 0; p < PROTO_COUNT; p++) {
		st.nports = 0;
		s = set_new((enum ports_proto)p, 0);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP,
					    seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		if (dump(nl, nlh, elem_cb, &st) < 0)
			goto sys;
		qsort(st.ports, st.nports, sizeof(st.ports[0]), cmp_port);
		fprintf(out, "%s_ports", ports_proto_name((enum ports_proto)p));
		for (i = 0; i < st.nports; i++)
			fprintf(out, " %u", st.ports[i]);
		fputc('\n', out);
	}
	o = nftnl_obj_alloc();
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, RULES_TABLE);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_DUMP, seq++);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	if (dump(nl, nlh, obj_cb, &st) < 0)
		goto sys;
	rc = 0;
	goto out;
sys:
	snprintf(err, errlen, "reading table: %s", strerror(errno));
out:
	mnl_socket_close(nl);
	return rc;
}
