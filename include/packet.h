/* Building IPv4/IPv6 TCP packets (RST, replies) with correct checksums. Pure. */
#ifndef MAILSCAN_PACKET_H
#define MAILSCAN_PACKET_H

#include <stddef.h>
#include <stdint.h>

struct tcp_spec {
	uint8_t family;		      /* 4 or 6 */
	const uint8_t *saddr, *daddr; /* 4 or 16 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags; /* TCPF_* */
	uint16_t window;
	const uint8_t *payload;
	size_t payload_len;
	/* options: timestamps, and up to three SACK blocks ([start, end)) */
	uint8_t ts_on;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[3][2];
};

#define PACKET_MAX 1500

/* Writes the packet into BUF; returns its length, or 0 if it does not fit. */
size_t packet_build(uint8_t *buf, size_t cap, const struct tcp_spec *);
/* The TCP checksum of a built or received packet is correct. */
int packet_tcp_csum_ok(const uint8_t *buf, size_t len);

struct pkt;
/* The same for BUF already decoded into P. */
int packet_csum_ok(const uint8_t *buf, const struct pkt *);
/* Recomputes the TCP checksum of BUF (decoded into P) after its bytes changed. */
void packet_csum_set(uint8_t *buf, const struct pkt *);
/* Cuts the payload of BUF (decoded into P) to LEN bytes: lengths and checksums set
 * again. Returns the packet's new length. */
size_t packet_truncate(uint8_t *buf, struct pkt *, size_t len);
/* Sets the acknowledgement number, clears FIN; the checksum is the caller's to set. */
void packet_set_ack(uint8_t *buf, struct pkt *, uint32_t ack);
void packet_clear_fin(uint8_t *buf, struct pkt *);
/* Clears URG and the urgent pointer of BUF (decoded into P); the checksum is the
 * caller's to set. */
void packet_clear_urg(uint8_t *buf, struct pkt *);
/* Sets the TTL (IPv4, with its header checksum) or hop limit (IPv6) of BUF. */
void packet_set_ttl(uint8_t *buf, struct pkt *, uint8_t ttl);
/* Sets the TCP window field of BUF; the checksum is the caller's to set. */
void packet_set_window(uint8_t *buf, struct pkt *, uint16_t window);

#endif
