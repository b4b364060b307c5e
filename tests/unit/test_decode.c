/* IPv4/IPv6 + TCP decoding: literal packets, every truncation, GSO lengths. */
#include "decode.h"
#include "unit.h"

/* IPv4, IHL 6 (one option word), TCP with 12 bytes of options, payload "HELO x\r\n" */
static const uint8_t v4[] = {
	0x46, 0x00, 0x00, 0x40, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, /* ip */
	10,   89,   1,	  2,	10,   89,   2,	  2,	0x01, 0x01, 0x01, 0x00, /* addrs, opt */
	0xc3, 0x50, 0x00, 0x19, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x10, 0x01, /* tcp */
	0x80, 0x18, 0x01, 0xf5, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, /* tcp opts */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 'H',  'E',  'L',  'O',	/* payload */
	' ',  'x',  '\r', '\n',
};

/* IPv6 with a hop-by-hop header (8 bytes), then TCP without options, payload "+OK\r\n" */
static const uint8_t v6[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x40, /* payload len 33, next hdr 0 */
	0xfd, 0x89, 0x00, 0x01, 0,    0,    0,	  0,	0,    0,    0,	  0,	0,
	0,    0,    0x02, /* src */
	0xfd, 0x89, 0x00, 0x02, 0,    0,    0,	  0,	0,    0,    0,	  0,	0,
	0,    0,    0x02,							/* dst */
	0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,				/* hbh -> tcp */
	0x00, 0x6e, 0xc3, 0x50, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x07, /* tcp */
	0x50, 0x11, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, '+',  'O',  'K',  '\r', '\n',
};

/* TCP options as Linux's tcp_parse_options reads them */
static void test_options(void)
{
	static const uint8_t opts[][12] = {
		{ 8, 10, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0, 3, 3 }, /* TS, a cut WS */
		{ 3, 3, 30, 0, 8, 10, 1, 2, 3, 4, 5, 6 },	     /* WS 30 (14), EOL */
		{ 2, 0, 3, 3, 7, 1, 1, 1, 1, 1, 1, 1 },		     /* length 0: stop */
		{ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 10 },	     /* runs past the end */
	};
	static const int ws[] = { -1, 14, -1, -1 }, ts[] = { 1, 0, 0, 0 };
	uint8_t b[sizeof(v4)];
	struct pkt p;
	size_t i;

	for (i = 0; i < 4; i++) {
		memcpy(b, v4, sizeof(b));
		memcpy(b + 24 + 20, opts[i], 12);
		CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_OK);
		CHECK_INT(p.wscale, ws[i]);
		CHECK_INT(p.has_ts, ts[i]);
		CHECK_INT(p.payload_len, 8);
	}
	memcpy(b + 24 + 20, opts[0], 12);
	decode_packet(b, sizeof(b), &p);
	CHECK_INT(p.tsval, 0xaabbccdd);
	CHECK_INT(p.mss, 0);
	CHECK_INT(p.sack_ok, 0);
	/* a SYN's MSS and SACK-permitted; a SACK block whose length is off is not read */
	memcpy(b + 24 + 20, "\x02\x04\x05\xb4\x04\x02\x05\x09\x00\x00\x00\x00", 12);
	decode_packet(b, sizeof(b), &p);
	CHECK_INT(p.mss, 1460);
	CHECK_INT(p.sack_ok, 1);
	CHECK_INT(p.nsack, 0);
	/* URG and its pointer */
	b[24 + 13] |= TCPF_URG;
	b[24 + 18] = 0x01;
	b[24 + 19] = 0x02;
	decode_packet(b, sizeof(b), &p);
	CHECK_INT(p.flags, TCPF_ACK | TCPF_PSH | TCPF_URG);
	CHECK_INT(p.urg_ptr, 0x102);
}

static void test_v4(void)
{
	uint8_t b[sizeof(v4)];
	struct pkt p;
	size_t i;

	CHECK_INT(decode_packet(v4, sizeof(v4), &p), DECODE_OK);
	CHECK_INT(p.family, 4);
	CHECK(memcmp(p.saddr, "\x0a\x59\x01\x02", 4) == 0);
	CHECK(memcmp(p.daddr, "\x0a\x59\x02\x02", 4) == 0);
	CHECK_INT(p.sport, 50000);
	CHECK_INT(p.dport, 25);
	CHECK_INT(p.seq, 0xdeadbeef);
	CHECK_INT(p.ack, 0x1001);
	CHECK_INT(p.flags, TCPF_ACK | TCPF_PSH);
	CHECK_INT(p.window, 0x01f5);
	CHECK_INT(p.l3_len, 24);
	CHECK_INT(p.l4_len, 32);
	CHECK_INT(p.payload_len, 8);
	CHECK(memcmp(p.payload, "HELO x\r\n", 8) == 0);
	/* the options a receiver's sequence checks use: timestamps, window scale */
	CHECK_INT(p.has_ts, 1);
	CHECK_INT(p.tsval, 1);
	CHECK_INT(p.wscale, -1);
	CHECK_INT(p.urg_ptr, 0);
	test_options();
	/* every truncation is reported, never read past */
	for (i = 0; i < sizeof(v4); i++)
		CHECK_INT(decode_packet(v4, i, &p) != DECODE_OK, 1);
	/* GSO: total length 0 or the buffer larger than one MTU */
	memcpy(b, v4, sizeof(b));
	b[2] = b[3] = 0;
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_OK);
	CHECK_INT(p.payload_len, 8);
	/* trailing bytes beyond the IP total length are not payload */
	{
		uint8_t pad[sizeof(v4) + 6];

		memcpy(pad, v4, sizeof(v4));
		memset(pad + sizeof(v4), 0, 6);
		CHECK_INT(decode_packet(pad, sizeof(pad), &p), DECODE_OK);
		CHECK_INT(p.payload_len, 8);
	}
	memcpy(b, v4, sizeof(b));
	b[9] = 17;
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_NOT_TCP);
	memcpy(b, v4, sizeof(b));
	b[6] = 0x20; /* more fragments, offset 0 */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_FRAGMENT);
	b[6] = 0x00;
	b[7] = 0x10; /* offset 16 */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_NOT_TCP);
	memcpy(b, v4, sizeof(b));
	b[0] = 0x44; /* IHL 4 < 5 */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_MALFORMED);
	memcpy(b, v4, sizeof(b));
	b[24 + 12] = 0x40; /* data offset 4 < 5 */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_MALFORMED);
	memcpy(b, v4, sizeof(b));
	b[24 + 12] = 0xf0; /* data offset 60 > segment */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_TRUNCATED);
	memcpy(b, v4, sizeof(b));
	b[3] = 0x10; /* total length < header */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_MALFORMED);
	b[0] = 0x55;
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_MALFORMED);
}

static void test_v6(void)
{
	uint8_t b[sizeof(v6)];
	struct pkt p;
	size_t i;

	CHECK_INT(decode_packet(v6, sizeof(v6), &p), DECODE_OK);
	CHECK_INT(p.family, 6);
	CHECK_INT(p.saddr[15], 2);
	CHECK_INT(p.daddr[3], 2);
	CHECK_INT(p.sport, 110);
	CHECK_INT(p.dport, 50000);
	CHECK_INT(p.seq, 0xffffffff);
	CHECK_INT(p.flags, TCPF_ACK | TCPF_FIN);
	CHECK_INT(p.l3_len, 48);
	CHECK_INT(p.payload_len, 5);
	CHECK(memcmp(p.payload, "+OK\r\n", 5) == 0);
	for (i = 0; i < sizeof(v6); i++)
		CHECK_INT(decode_packet(v6, i, &p) != DECODE_OK, 1);
	memcpy(b, v6, sizeof(b));
	b[4] = b[5] = 0; /* GSO */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_OK);
	CHECK_INT(p.payload_len, 5);
	memcpy(b, v6, sizeof(b));
	b[40] = 17; /* hbh -> udp */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_NOT_TCP);
	memcpy(b, v6, sizeof(b));
	b[40] = 44; /* hbh -> fragment header; reads the "tcp" bytes as one */
	b[48] = 6;
	b[50] = 0;
	b[51] = 1;
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_FRAGMENT);
	b[50] = 0x01; /* offset != 0 */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_NOT_TCP);
	memcpy(b, v6, sizeof(b));
	b[41] = 0x10; /* hbh length beyond the packet */
	CHECK_INT(decode_packet(b, sizeof(b), &p), DECODE_TRUNCATED);
}

int main(void)
{
	test_v4();
	test_v6();
	return unit_report("test_decode");
}
