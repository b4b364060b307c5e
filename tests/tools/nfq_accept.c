/* Minimal accept-all NFQUEUE listener: the mechanism's limit in benchmarks, and proof in
 * tests that the rules really queue packets. Usage: nfq_accept QUEUE SECONDS
 * Prints "packets=N bytes=N" when it exits (after SECONDS, or on SIGTERM/SIGINT). */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stop;
static unsigned long long packets, bytes;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = data;
	struct nlmsghdr *v;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_ERROR;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	packets++;
	if (attr[NFQA_PAYLOAD])
		bytes += mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT,
			  ntohs(((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->res_id));
	nfq_nlmsg_verdict_put(v, ntohl(ph->packet_id), NF_ACCEPT);
	if (mnl_socket_sendto(nl, v, v->nlmsg_len) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

int main(int argc, char **argv)
{
	size_t sz = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int queue;
	char *buf;
	time_t end;
	int one = 1, rcv = 16 << 20;

	if (argc != 3) {
		fprintf(stderr, "usage: nfq_accept QUEUE SECONDS\n");
		return 2;
	}
	queue = (unsigned int)atoi(argv[1]);
	end = time(NULL) + atoi(argv[2]);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	buf = malloc(sz);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!buf || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_accept: netlink");
		return 2;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq_accept: bind");
		return 2;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("nfq_accept: params");
		return 2;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	{
		struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };

		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	fprintf(stderr, "nfq_accept: listening on queue %u\n", queue);
	while (!stop && time(NULL) < end) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sz);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
				continue;
			perror("nfq_accept: recv");
			return 2;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(nl), queue_cb, nl) < 0) {
			perror("nfq_accept: run");
			return 2;
		}
	}
	printf("packets=%llu bytes=%llu\n", packets, bytes);
	mnl_socket_close(nl);
	free(buf);
	return 0;
}
