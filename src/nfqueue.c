/* NFQUEUE: the only file that sees libnetfilter_queue. Verdicts are queued in one
 * buffer and sent together, so a burst of packets costs one sendto. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfqueue.h"

#define RECV_SIZE    (256 * 1024)
#define VERDICT_SIZE (256 * 1024) /* room for a rewritten GSO packet */
#define VERDICT_MAX  128	  /* bytes one verdict message takes at most */
/* packets the kernel keeps waiting for verdicts (default 1024); past it the kernel
 * drops them (TCP sends them again) or, with FAIL_OPEN, accepts them unseen, so bursts
 * of many flows need room */
#define QUEUE_MAXLEN 16384

struct nfqueue {
	struct mnl_socket *nl;
	uint16_t queue;
	uint32_t portid;
	int fail_open;
	uint8_t *rbuf;
	uint8_t *vbuf;
	size_t vlen;
};

static int send_config(struct nfqueue *q, uint8_t cmd, int params)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
	uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
	uint32_t flags = NFQA_CFG_F_GSO | (q->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);

	if (params) {
		nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
		nfq_nlmsg_cfg_put_qmaxlen(nlh, QUEUE_MAXLEN);
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
		/* the mask clears FAIL_OPEN too when it is not wanted */
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	} else {
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, cmd);
	}
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));

		if (n < 0)
			return -1;
		/* packets may already arrive; only the ack matters here */
		n = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, q->portid, NULL, NULL);
		if (n <= 0)
			return (int)n;
	}
}

struct nfqueue *nfqueue_new(uint16_t queue, size_t rcvbuf, int fail_open)
{
	struct nfqueue *q = calloc(1, sizeof(*q));
	int one = 1, sz = (int)rcvbuf, saved;

	if (!q)
		return NULL;
	q->queue = queue;
	q->fail_open = fail_open;
	q->rbuf = malloc(RECV_SIZE);
	q->vbuf = malloc(VERDICT_SIZE);
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->rbuf || !q->vbuf || !q->nl)
		goto err;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	q->portid = mnl_socket_get_portid(q->nl);
	if (send_config(q, NFQNL_CFG_CMD_BIND, 0) < 0 || send_config(q, 0, 1) < 0)
		goto err;
	setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(mnl_socket_get_fd(q->nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (fcntl(mnl_socket_get_fd(q->nl), F_SETFL, O_NONBLOCK) < 0)
		goto err;
	return q;
err:
	saved = errno;
	nfqueue_free(q);
	errno = saved;
	return NULL;
}

void nfqueue_free(struct nfqueue *q)
{
	if (!q)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->rbuf);
	free(q->vbuf);
	free(q);
}

int nfqueue_fd(const struct nfqueue *q)
{
	return mnl_socket_get_fd(q->nl);
}

struct recv_ctx {
	nfqueue_pkt_fn fn;
	void *arg;
	int count;
};

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct recv_ctx *rc = data;
	struct nfqnl_msg_packet_hdr *ph;
	struct nfqueue_pkt p;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p.id = ntohl(ph->packet_id);
	if (attr[NFQA_PAYLOAD]) {
		p.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	} else {
		p.data = NULL;
		p.len = 0;
	}
	p.truncated = attr[NFQA_CAP_LEN] && ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) > p.len;
	/* with NFQA_CFG_F_GSO the kernel says how far it checked the checksum */
	p.csum_unchecked = attr[NFQA_SKB_INFO] && (ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO])) &
						   NFQA_SKB_CSUM_NOTVERIFIED);
	p.mark = attr[NFQA_MARK] ? ntohl(mnl_attr_get_u32(attr[NFQA_MARK])) : 0;
	rc->fn(rc->arg, &p);
	rc->count++;
	return MNL_CB_OK;
}

int nfqueue_receive(struct nfqueue *q, nfqueue_pkt_fn fn, void *arg)
{
	struct recv_ctx rc = { fn, arg, 0 };
	ssize_t n;

	n = mnl_socket_recvfrom(q->nl, q->rbuf, RECV_SIZE);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (mnl_cb_run(q->rbuf, (size_t)n, 0, q->portid, packet_cb, &rc) < 0 && !rc.count)
		return -1;
	return rc.count;
}

int nfqueue_flush(struct nfqueue *q)
{
	ssize_t n;

	if (!q->vlen)
		return 0;
	n = mnl_socket_sendto(q->nl, q->vbuf, q->vlen);
	q->vlen = 0;
	return n < 0 ? -1 : 1;
}

/* the next verdict message, with room for EXTRA bytes of packet */
static struct nlmsghdr *verdict_start(struct nfqueue *q, size_t extra, int *sent)
{
	*sent = 0;
	if (q->vlen + VERDICT_MAX + extra > VERDICT_SIZE)
		*sent = nfqueue_flush(q);
	return nfq_nlmsg_put((char *)q->vbuf + q->vlen, NFQNL_MSG_VERDICT, q->queue);
}

int nfqueue_verdict_pkt(struct nfqueue *q, uint32_t id, const uint8_t *buf, size_t len,
			const uint32_t *mark)
{
	struct nlmsghdr *nlh;
	int sent;

	if (len > VERDICT_SIZE - VERDICT_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	nlh = verdict_start(q, NLA_ALIGN(len), &sent);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	nfq_nlmsg_verdict_put_pkt(nlh, buf, (uint32_t)len);
	if (mark)
		nfq_nlmsg_verdict_put_mark(nlh, *mark);
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	return sent;
}

int nfqueue_verdict(struct nfqueue *q, uint32_t id, int accept, const uint32_t *mark)
{
	struct nlmsghdr *nlh;
	int sent;

	nlh = verdict_start(q, 0, &sent);
	nfq_nlmsg_verdict_put(nlh, (int)id, accept ? NF_ACCEPT : NF_DROP);
	/* setting the conntrack mark from a verdict needs ctnetlink glue that not every
	 * kernel has; the packet mark always works, and the rules' offload chain copies
	 * it into the conntrack mark */
	if (mark)
		nfq_nlmsg_verdict_put_mark(nlh, *mark);
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);
	return sent;
}
