/* The rule batches for both queue backends, decoded back with libnftnl. */
#include <arpa/inet.h>
#include <stdlib.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "rules.h"
#include "unit.h"

struct decoded {
	int types[128];
	size_t ntypes;
	unsigned int queue_rules, native, xt, accepts, objrefs;
	uint16_t qnum, qtotal, qflags;
	char chains[16][24];
	size_t nchains;
	uint16_t elems[2][16];
	size_t nelems[2];
	char sig[4096]; /* expression names of every rule, ';' between rules */
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct decoded *d = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t len;

	strcat(d->sig, name);
	strcat(d->sig, " ");
	if (!strcmp(name, "queue")) {
		d->native++;
		d->qnum = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM);
		d->qtotal = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL);
		d->qflags = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS);
	} else if (!strcmp(name, "target")) {
		const struct xt_NFQ_info_v3 *info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);

		CHECK_STR(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "NFQUEUE");
		CHECK_INT(nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV), 3);
		CHECK_INT(len, XT_ALIGN(sizeof(*info)));
		d->xt++;
		d->qnum = info->queuenum;
		d->qtotal = info->queues_total;
		d->qflags = info->flags;
	} else if (!strcmp(name, "immediate")) {
		if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_ACCEPT)
			d->accepts++;
	} else if (!strcmp(name, "objref")) {
		d->objrefs++;
	}
	return 0;
}

/* libnftnl numbers the element nests it builds (1, 2, ...) and its own parser wants
 * NFTA_LIST_ELEM in each; the kernel takes any, so the test reads them with libmnl. */
static void decode_elems(const struct nlmsghdr *nlh, struct decoded *d)
{
	const struct nlattr *a, *el, *k, *v;
	int which = -1;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			which = !strcmp(mnl_attr_get_str(a), "pop3_ports");
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		CHECK(which >= 0);
		mnl_attr_for_each_nested(el, a)
		{
			mnl_attr_for_each_nested(k, el)
			{
				if (mnl_attr_get_type(k) != NFTA_SET_ELEM_KEY)
					continue;
				v = mnl_attr_get_payload(k);
				CHECK_INT(mnl_attr_get_payload_len(v), 2);
				if (d->nelems[which] < 16)
					d->elems[which][d->nelems[which]++] =
						ntohs(*(const uint16_t *)mnl_attr_get_payload(v));
			}
		}
	}
}

static void decode(const struct nft_batch *nb, struct decoded *d)
{
	size_t len;
	const struct nlmsghdr *nlh = nft_batch_data(nb, &len);
	int left = (int)len;

	memset(d, 0, sizeof(*d));
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		int type = nlh->nlmsg_type;

		if (d->ntypes < 128)
			d->types[d->ntypes++] = type;
		if (type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE)) {
			struct nftnl_rule *r = nftnl_rule_alloc();

			CHECK_INT(nftnl_rule_nlmsg_parse(nlh, r), 0);
			CHECK_STR(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "mailscan");
			nftnl_expr_foreach(r, expr_cb, d);
			strcat(d->sig, "; ");
			nftnl_rule_free(r);
		} else if (type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN)) {
			struct nlattr *tb[NFTA_CHAIN_MAX + 1] = { NULL };
			const struct nlattr *a;

			mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
			{
				if (mnl_attr_get_type(a) <= NFTA_CHAIN_MAX)
					tb[mnl_attr_get_type(a)] = (struct nlattr *)a;
			}
			if (tb[NFTA_CHAIN_NAME] && d->nchains < 16)
				snprintf(d->chains[d->nchains++], 24, "%s",
					 mnl_attr_get_str(tb[NFTA_CHAIN_NAME]));
		} else if (type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM)) {
			decode_elems(nlh, d);
		}
	}
	CHECK_INT(left, 0);
}

static int count_type(const struct decoded *d, int msg)
{
	size_t i;
	int n = 0;

	for (i = 0; i < d->ntypes; i++)
		n += d->types[i] == ((NFNL_SUBSYS_NFTABLES << 8) | msg);
	return n;
}

static const char queue_sig_native[] = "meta cmp payload lookup objref queue ; ";
static const char queue_sig_xt[] = "meta cmp payload lookup objref target ; ";
/* injected packets accepted; a SYN clears the offload mark of its conntrack entry;
 * established offloaded connections accepted */
static const char mark_sigs[] = "meta bitwise cmp immediate ; "
				"meta cmp payload bitwise cmp ct bitwise cmp meta bitwise meta ; "
				"meta cmp payload bitwise cmp ct bitwise ct ; "
				"ct bitwise cmp ct bitwise cmp immediate ; ";
static const char mss_sig[] =
	"meta cmp meta cmp payload lookup payload bitwise cmp immediate exthdr ; ";
static const char offload_sig[] = "meta cmp payload bitwise cmp meta bitwise cmp ct bitwise ct ; ";

static void test_gateway(enum rules_backend be)
{
	struct port_set ps;
	struct rules_spec spec = { .mode = MODE_GATEWAY,
				   .queue_first = 3,
				   .queue_count = 2,
				   .bypass = 1,
				   .offload_mark = 0x40000000,
				   .inject_mark = 0x20000000,
				   .ports = &ps };
	struct nft_batch *nb = nft_batch_new();
	char why[256], want[4096];
	struct decoded d;
	int i;

	ports_init(&ps);
	CHECK_INT(ports_add(&ps, PROTO_SMTP, 10025, 0, why, sizeof(why)), PORTS_OK);
	rules_build_install(nb, &spec, be);
	decode(nb, &d);
	/* framed as one batch */
	CHECK_INT(d.types[0], NFNL_MSG_BATCH_BEGIN);
	CHECK_INT(d.types[d.ntypes - 1], NFNL_MSG_BATCH_END);
	CHECK_INT(count_type(&d, NFT_MSG_NEWTABLE), 1);
	CHECK_INT(count_type(&d, NFT_MSG_NEWSET), 2);
	CHECK_INT(count_type(&d, NFT_MSG_DELSETELEM), 2); /* flush before fill */
	CHECK_INT(count_type(&d, NFT_MSG_NEWOBJ), 4);
	/* every chain replaced, only the mode's chain created again */
	CHECK_INT(count_type(&d, NFT_MSG_DELCHAIN), 6);
	CHECK_INT(count_type(&d, NFT_MSG_NEWCHAIN), 8);
	CHECK_STR(d.chains[6], "forward");
	CHECK_STR(d.chains[7], "forward_offload");
	CHECK_INT(count_type(&d, NFT_MSG_NEWRULE), 9);
	/* rules: injected mark, the SYN's offload hint and offload clearing, offload mark,
	 * then four queue rules; then the offload chain's marking rule (never a SYN) */
	strcpy(want, mark_sigs);
	for (i = 0; i < 4; i++)
		strcat(want, be == RULES_NATIVE ? queue_sig_native : queue_sig_xt);
	strcat(want, offload_sig);
	CHECK_STR(d.sig, want);
	CHECK_INT(d.accepts, 2);
	CHECK_INT(d.objrefs, 4);
	CHECK_INT(be == RULES_NATIVE ? d.native : d.xt, 4);
	CHECK_INT(be == RULES_NATIVE ? d.xt : d.native, 0);
	CHECK_INT(d.qnum, 3);
	CHECK_INT(d.qtotal, 2);
	CHECK_INT(d.qflags, be == RULES_NATIVE ? NFT_QUEUE_FLAG_BYPASS : NFQ_FLAG_BYPASS);
	/* the sets hold the defaults and the added port */
	CHECK_INT(d.nelems[0], 2);
	CHECK_INT(d.elems[0][0], 25);
	CHECK_INT(d.elems[0][1], 10025);
	CHECK_INT(d.nelems[1], 1);
	CHECK_INT(d.elems[1][0], 110);
	nft_batch_free(nb);
}

static void test_host_fail_closed(enum rules_backend be)
{
	struct port_set ps;
	struct rules_spec spec = { .mode = MODE_HOST,
				   .queue_first = 0,
				   .queue_count = 1,
				   .bypass = 0,
				   .offload_mark = 1,
				   .inject_mark = 2,
				   .ports = &ps };
	struct nft_batch *nb = nft_batch_new();
	char want[4096];
	struct decoded d;
	int i;

	ports_init(&ps);
	rules_build_install(nb, &spec, be);
	decode(nb, &d);
	CHECK_INT(count_type(&d, NFT_MSG_NEWCHAIN), 10);
	CHECK_STR(d.chains[6], "input");
	CHECK_STR(d.chains[7], "input_offload");
	CHECK_STR(d.chains[8], "output");
	CHECK_STR(d.chains[9], "output_offload");
	/* input: marks, loopback accept, queue rules; output: marks, loopback MSS, queue
	 * rules; each followed by its offload chain */
	strcpy(want, mark_sigs);
	strcat(want, "meta cmp immediate ; ");
	for (i = 0; i < 4; i++)
		strcat(want, be == RULES_NATIVE ? queue_sig_native : queue_sig_xt);
	strcat(want, offload_sig);
	strcat(want, mark_sigs);
	for (i = 0; i < 4; i++)
		strcat(want, mss_sig);
	for (i = 0; i < 4; i++)
		strcat(want, be == RULES_NATIVE ? queue_sig_native : queue_sig_xt);
	strcat(want, offload_sig);
	CHECK_STR(d.sig, want);
	CHECK_INT(d.qflags, 0); /* fail closed: no bypass */
	CHECK_INT(d.qtotal, 1);
	nft_batch_free(nb);
}

static void test_ports_batch(void)
{
	struct port_set ps;
	struct nft_batch *nb = nft_batch_new();
	struct decoded d;
	char why[256];

	ports_init(&ps);
	CHECK_INT(ports_add(&ps, PROTO_POP3, 10111, 0, why, sizeof(why)), PORTS_OK);
	rules_build_ports(nb, &ps);
	decode(nb, &d);
	CHECK_INT(d.ntypes, 6); /* begin, flush+add for each set, end */
	CHECK_INT(count_type(&d, NFT_MSG_DELSETELEM), 2);
	CHECK_INT(count_type(&d, NFT_MSG_NEWSETELEM), 2);
	CHECK_INT(count_type(&d, NFT_MSG_NEWRULE), 0);
	CHECK_INT(d.nelems[1], 2);
	CHECK_INT(d.elems[1][0], 110);
	CHECK_INT(d.elems[1][1], 10111);
	nft_batch_free(nb);
}

int main(void)
{
	test_gateway(RULES_NATIVE);
	test_gateway(RULES_XT);
	test_host_fail_closed(RULES_NATIVE);
	test_host_fail_closed(RULES_XT);
	test_ports_batch();
	return unit_report("test_rules");
}
