/* TCP packet building: pure, libc only. */
#include <string.h>

#include "decode.h"
#include "packet.h"

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

static uint32_t sum_bytes(uint32_t sum, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* checksum over the pseudo-header and the TCP segment at SEG */
static uint16_t tcp_csum(uint8_t family, const uint8_t *saddr, const uint8_t *daddr,
			 const uint8_t *seg, size_t seglen)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = 0;

	sum = sum_bytes(sum, saddr, alen);
	sum = sum_bytes(sum, daddr, alen);
	sum += 6; /* TCP */
	sum += (uint32_t)seglen;
	return fold(sum_bytes(sum, seg, seglen));
}

/* The options of S as Linux lays them out (NOP NOP TS, NOP NOP SACK); returns their
 * length, a multiple of 4. */
static size_t put_options(uint8_t *o, const struct tcp_spec *s)
{
	size_t n = 0;
	unsigned int i, nsack = s->nsack > 3 ? 3 : s->nsack;

	if (s->ts_on) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 8;
		o[n++] = 10;
		put32(o + n, s->tsval);
		put32(o + n + 4, s->tsecr);
		n += 8;
	}
	if (nsack) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 5;
		o[n++] = (uint8_t)(2 + 8 * nsack);
		for (i = 0; i < nsack; i++, n += 8) {
			put32(o + n, s->sack[i][0]);
			put32(o + n + 4, s->sack[i][1]);
		}
	}
	return n;
}

size_t packet_build(uint8_t *buf, size_t cap, const struct tcp_spec *s)
{
	uint8_t opt[40];
	size_t l3 = s->family == 4 ? 20 : 40, l4 = 20 + put_options(opt, s);
	size_t total = l3 + l4 + s->payload_len;
	uint8_t *t = buf + l3;

	if (total > cap || total > 0xffff)
		return 0;
	memset(buf, 0, l3 + 20);
	if (s->family == 4) {
		buf[0] = 0x45;
		put16(buf + 2, (uint16_t)total);
		put16(buf + 6, 0x4000); /* don't fragment */
		buf[8] = 64;
		buf[9] = 6;
		memcpy(buf + 12, s->saddr, 4);
		memcpy(buf + 16, s->daddr, 4);
		put16(buf + 10, fold(sum_bytes(0, buf, 20)));
	} else {
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)(total - 40));
		buf[6] = 6;
		buf[7] = 64;
		memcpy(buf + 8, s->saddr, 16);
		memcpy(buf + 24, s->daddr, 16);
	}
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (uint8_t)((l4 / 4) << 4);
	t[13] = s->flags;
	put16(t + 14, s->window);
	memcpy(t + 20, opt, l4 - 20);
	if (s->payload_len)
		memcpy(t + l4, s->payload, s->payload_len);
	put16(t + 16, tcp_csum(s->family, s->saddr, s->daddr, t, l4 + s->payload_len));
	return total;
}

int packet_csum_ok(const uint8_t *buf, const struct pkt *p)
{
	return tcp_csum(p->family, p->saddr, p->daddr, buf + p->l3_len,
			p->l4_len + p->payload_len) == 0;
}

int packet_tcp_csum_ok(const uint8_t *buf, size_t len)
{
	struct pkt p;

	return decode_packet(buf, len, &p) == DECODE_OK && packet_csum_ok(buf, &p);
}

void packet_csum_set(uint8_t *buf, const struct pkt *p)
{
	uint8_t *t = buf + p->l3_len;

	put16(t + 16, 0);
	put16(t + 16, tcp_csum(p->family, p->saddr, p->daddr, t, p->l4_len + p->payload_len));
}

size_t packet_truncate(uint8_t *buf, struct pkt *p, size_t len)
{
	size_t total;

	if (len < p->payload_len)
		p->payload_len = len;
	total = p->l3_len + p->l4_len + p->payload_len;
	if (p->family == 4) {
		put16(buf + 2, (uint16_t)total);
		put16(buf + 10, 0);
		put16(buf + 10, fold(sum_bytes(0, buf, p->l3_len)));
	} else {
		put16(buf + 4, (uint16_t)(total - 40));
	}
	packet_csum_set(buf, p);
	return total;
}

void packet_set_ack(uint8_t *buf, struct pkt *p, uint32_t ack)
{
	put32(buf + p->l3_len + 8, ack);
	p->ack = ack;
}

void packet_clear_fin(uint8_t *buf, struct pkt *p)
{
	buf[p->l3_len + 13] &= (uint8_t)~TCPF_FIN;
	p->flags &= (uint8_t)~TCPF_FIN;
}

void packet_clear_urg(uint8_t *buf, struct pkt *p)
{
	uint8_t *t = buf + p->l3_len;

	t[13] &= (uint8_t)~TCPF_URG;
	put16(t + 18, 0);
	p->flags &= (uint8_t)~TCPF_URG;
	p->urg_ptr = 0;
}

void packet_set_window(uint8_t *buf, struct pkt *p, uint16_t window)
{
	put16(buf + p->l3_len + 14, window);
	p->window = window;
}

void packet_set_ttl(uint8_t *buf, struct pkt *p, uint8_t ttl)
{
	p->ttl = ttl;
	if (p->family == 6) {
		buf[7] = ttl;
		return;
	}
	buf[8] = ttl;
	put16(buf + 10, 0);
	put16(buf + 10, fold(sum_bytes(0, buf, p->l3_len)));
}
