/* IPv4/IPv6 + TCP decoding: pure, libc only. GSO packets (larger than the MTU, IPv4
 * total length possibly 0) are normal input. */
#include <string.h>

#include "decode.h"

#define IPPROTO_TCP_	6
#define IP6_HOPOPTS	0
#define IP6_ROUTING	43
#define IP6_FRAGMENT	44
#define IP6_DSTOPTS	60
#define IP6_MAX_EXTHDRS 8

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The options Linux acts on for sequence checks (tcp_parse_options): window scale and
 * timestamps; MSS, SACK-permitted and SACK blocks (a held range's release); and those that make it
 * drop a segment of a connection that did not set them up (tcp_parse_md5sig_option,
 * tcp_parse_auth_options). A malformed option ends parsing, as there. */
static void decode_options(const uint8_t *o, size_t len, struct pkt *p)
{
	size_t i = 0;

	p->wscale = -1;
	p->has_ts = 0;
	p->auth = 0;
	p->mss = 0;
	p->sack_ok = 0;
	p->nsack = 0;
	while (i < len) {
		uint8_t kind = o[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || (olen = o[i + 1]) < 2 || i + olen > len)
			break;
		if (kind == 3 && olen == 3)
			p->wscale = (int8_t)(o[i + 2] > 14 ? 14 : o[i + 2]);
		else if (kind == 8 && olen == 10) {
			p->has_ts = 1;
			p->tsval = get32(o + i + 2);
			p->tsecr = get32(o + i + 6);
		} else if (kind == 2 && olen == 4) {
			p->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		} else if (kind == 4 && olen == 2) {
			p->sack_ok = 1;
		} else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
			for (size_t b = i + 2; b < i + olen && p->nsack < 4; b += 8, p->nsack++) {
				p->sack[p->nsack][0] = get32(o + b);
				p->sack[p->nsack][1] = get32(o + b + 4);
			}
		} else if ((kind == 19 && olen == 18) || (kind == 29 && olen >= 4)) {
			p->auth = 1;
		}
		i += olen;
	}
}

static enum decode_result decode_tcp(const uint8_t *b, size_t len, struct pkt *p)
{
	size_t off;

	if (len < 20)
		return DECODE_TRUNCATED;
	off = (size_t)(b[12] >> 4) * 4;
	if (off < 20)
		return DECODE_MALFORMED;
	if (off > len)
		return DECODE_TRUNCATED;
	p->sport = get16(b);
	p->dport = get16(b + 2);
	p->seq = get32(b + 4);
	p->ack = get32(b + 8);
	p->flags = b[13] & 0x3f;
	p->window = get16(b + 14);
	p->urg_ptr = get16(b + 18);
	decode_options(b + 20, off - 20, p);
	p->l4_len = (uint16_t)off;
	p->payload = b + off;
	p->payload_len = len - off;
	return DECODE_OK;
}

static enum decode_result decode_ipv4(const uint8_t *b, size_t len, struct pkt *p)
{
	size_t hl, total;
	uint16_t frag;

	if (len < 20)
		return DECODE_TRUNCATED;
	hl = (size_t)(b[0] & 0x0f) * 4;
	if (hl < 20)
		return DECODE_MALFORMED;
	if (hl > len)
		return DECODE_TRUNCATED;
	total = get16(b + 2);
	/* a GSO packet may carry 0 here: its length is the buffer's */
	if (total == 0)
		total = len;
	if (total < hl)
		return DECODE_MALFORMED;
	if (total > len)
		return DECODE_TRUNCATED;
	if (b[9] != IPPROTO_TCP_)
		return DECODE_NOT_TCP;
	frag = get16(b + 6);
	if (frag & 0x1fff)
		return DECODE_NOT_TCP; /* a later fragment: no TCP header */
	p->family = 4;
	memset(p->saddr, 0, sizeof(p->saddr));
	memset(p->daddr, 0, sizeof(p->daddr));
	memcpy(p->saddr, b + 12, 4);
	memcpy(p->daddr, b + 16, 4);
	p->ttl = b[8];
	p->l3_len = (uint16_t)hl;
	if (frag & 0x2000)
		return DECODE_FRAGMENT;
	return decode_tcp(b + hl, total - hl, p);
}

static enum decode_result decode_ipv6(const uint8_t *b, size_t len, struct pkt *p)
{
	size_t off = 40, total;
	uint8_t next;
	int i;

	if (len < 40)
		return DECODE_TRUNCATED;
	total = 40 + (size_t)get16(b + 4);
	if (total == 40)
		total = len; /* GSO or jumbogram: the buffer's length */
	if (total > len)
		return DECODE_TRUNCATED;
	next = b[6];
	p->family = 6;
	memcpy(p->saddr, b + 8, 16);
	memcpy(p->daddr, b + 24, 16);
	p->ttl = b[7];
	for (i = 0; i < IP6_MAX_EXTHDRS; i++) {
		if (next == IPPROTO_TCP_) {
			p->l3_len = (uint16_t)off;
			return decode_tcp(b + off, total - off, p);
		}
		if (next == IP6_FRAGMENT) {
			if (off + 8 > total)
				return DECODE_TRUNCATED;
			if (get16(b + off + 2) & 0xfff8)
				return DECODE_NOT_TCP;
			return b[off] == IPPROTO_TCP_ ? DECODE_FRAGMENT : DECODE_NOT_TCP;
		}
		if (next != IP6_HOPOPTS && next != IP6_ROUTING && next != IP6_DSTOPTS)
			return DECODE_NOT_TCP;
		if (off + 8 > total)
			return DECODE_TRUNCATED;
		next = b[off];
		off += ((size_t)b[off + 1] + 1) * 8;
		if (off > total)
			return DECODE_TRUNCATED;
	}
	return DECODE_MALFORMED;
}

enum decode_result decode_packet(const uint8_t *buf, size_t len, struct pkt *p)
{
	if (len < 1)
		return DECODE_TRUNCATED;
	switch (buf[0] >> 4) {
	case 4:
		return decode_ipv4(buf, len, p);
	case 6:
		return decode_ipv6(buf, len, p);
	default:
		return DECODE_MALFORMED;
	}
}
