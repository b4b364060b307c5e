/* One NFQUEUE queue over libmnl and libnetfilter_queue's nfq_nlmsg_* API. */
#ifndef MAILSCAN_NFQUEUE_H
#define MAILSCAN_NFQUEUE_H

#include <stddef.h>
#include <stdint.h>

struct nfqueue;

struct nfqueue_pkt {
	uint32_t id;
	uint8_t *data; /* the IP packet; may exceed the MTU (GSO); may be changed in place
			* for nfqueue_verdict_pkt */
	size_t len;
	int truncated;	    /* larger than the copy range: DATA is not all of it */
	int csum_unchecked; /* the kernel has not verified the TCP checksum: a packet from
			     * the wire that needs it (locally built packets and ones the
			     * kernel or the card verified need no sum) */
	uint32_t mark;	    /* the packet's mark as the rules left it (0: none) */
};

typedef void (*nfqueue_pkt_fn)(void *arg, const struct nfqueue_pkt *);

/* Binds QUEUE with GSO; a full queue drops packets, or accepts them unseen with
 * FAIL_OPEN. NULL with errno on failure. */
struct nfqueue *nfqueue_new(uint16_t queue, size_t rcvbuf, int fail_open);
void nfqueue_free(struct nfqueue *);
int nfqueue_fd(const struct nfqueue *);
/* Reads what is pending (non-blocking) and calls FN for each packet. Returns the
 * number of packets, 0 when nothing was pending, -1 with errno (ENOBUFS: packets were
 * lost in the socket buffer; the caller counts it and goes on). */
int nfqueue_receive(struct nfqueue *, nfqueue_pkt_fn, void *arg);
/* Queues a verdict; sent with the next nfqueue_flush (or when the batch is full). MARK,
 * unless NULL, becomes the packet's mark (offload: the rules move it to conntrack);
 * with NULL the packet keeps the mark it was queued with. */
int nfqueue_verdict(struct nfqueue *, uint32_t id, int accept, const uint32_t *mark);
/* Queues an accept verdict that replaces the packet with BUF (normalised), with MARK as
 * nfqueue_verdict. */
int nfqueue_verdict_pkt(struct nfqueue *, uint32_t id, const uint8_t *buf, size_t len,
			const uint32_t *mark);
/* Sends the queued verdicts in one system call; returns how many batches were sent. */
int nfqueue_flush(struct nfqueue *);

#endif
