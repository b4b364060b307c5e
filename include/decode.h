/* IPv4/IPv6 + TCP header decoding. Pure: the packet is a byte buffer. */
#ifndef MAILSCAN_DECODE_H
#define MAILSCAN_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20

/* Wrap-safe sequence comparisons. */
#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

struct pkt {
	uint8_t family; /* 4 or 6 */
	uint8_t flags;	/* TCPF_* */
	uint8_t saddr[16];
	uint8_t daddr[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint16_t window;
	uint16_t urg_ptr;
	int8_t wscale;	/* window scale option, -1 if absent */
	uint8_t has_ts; /* timestamp option present */
	uint8_t auth;	/* an MD5 signature (kind 19) or TCP-AO (kind 29) option */
	uint8_t ttl;	/* IPv4 TTL or IPv6 hop limit */
	uint32_t tsval;
	uint32_t tsecr;
	uint16_t mss;	 /* MSS option (SYNs), 0 if absent */
	uint8_t sack_ok; /* SACK permitted (SYNs) */
	uint8_t nsack;	 /* SACK blocks: [start, end) */
	uint32_t sack[4][2];
	uint16_t l3_len; /* IP header(s) */
	uint16_t l4_len; /* TCP header with options */
	const uint8_t *payload;
	size_t payload_len;
};

enum decode_result {
	DECODE_OK = 0,
	DECODE_NOT_TCP,	  /* another protocol, or a non-first fragment: not ours */
	DECODE_TRUNCATED, /* shorter than its headers say */
	DECODE_MALFORMED, /* impossible header values */
	DECODE_FRAGMENT,  /* first fragment of a TCP packet */
};

/* Fills P from the IP packet BUF of LEN bytes (as NFQUEUE delivers it). */
enum decode_result decode_packet(const uint8_t *buf, size_t len, struct pkt *p);

#endif
