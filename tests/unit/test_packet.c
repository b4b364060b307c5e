/* Packet building: decodes back to what was asked, checksums verify, both families. */
#include "decode.h"
#include "packet.h"
#include "unit.h"

static void check_family(uint8_t family)
{
	static const uint8_t a4[4] = { 10, 89, 1, 2 }, b4[4] = { 10, 89, 2, 2 };
	static const uint8_t a6[16] = { 0xfd, 0x89, 0, 1, [15] = 2 };
	static const uint8_t b6[16] = { 0xfd, 0x89, 0, 2, [15] = 2 };
	static const char msg[] = "554 5.7.1 Virus found: Eicar-Signature\r\n";
	struct tcp_spec s = {
		.family = family,
		.saddr = family == 4 ? a4 : a6,
		.daddr = family == 4 ? b4 : b6,
		.sport = 25,
		.dport = 40000,
		.seq = 0xfffffffe,
		.ack = 77,
		.flags = TCPF_ACK | TCPF_PSH | TCPF_FIN,
		.window = 512,
		.payload = (const uint8_t *)msg,
		.payload_len = sizeof(msg) - 1,
	};
	uint8_t buf[PACKET_MAX];
	struct pkt p;
	size_t len, odd;

	len = packet_build(buf, sizeof(buf), &s);
	CHECK_INT(len, (family == 4 ? 20u : 40u) + 20 + sizeof(msg) - 1);
	CHECK_INT(decode_packet(buf, len, &p), DECODE_OK);
	CHECK_INT(p.family, family);
	CHECK(memcmp(p.saddr, s.saddr, family == 4 ? 4 : 16) == 0);
	CHECK(memcmp(p.daddr, s.daddr, family == 4 ? 4 : 16) == 0);
	CHECK_INT(p.sport, 25);
	CHECK_INT(p.dport, 40000);
	CHECK_INT(p.seq, 0xfffffffe);
	CHECK_INT(p.ack, 77);
	CHECK_INT(p.flags, s.flags);
	CHECK_INT(p.window, 512);
	CHECK_INT(p.payload_len, sizeof(msg) - 1);
	CHECK(memcmp(p.payload, msg, sizeof(msg) - 1) == 0);
	CHECK(packet_tcp_csum_ok(buf, len));
	buf[len - 1] ^= 1;
	CHECK(!packet_tcp_csum_ok(buf, len));
	/* an odd payload length and an empty RST */
	s.payload_len = 7;
	odd = packet_build(buf, sizeof(buf), &s);
	CHECK(packet_tcp_csum_ok(buf, odd));
	s.payload_len = 0;
	s.flags = TCPF_RST | TCPF_ACK;
	len = packet_build(buf, sizeof(buf), &s);
	CHECK(packet_tcp_csum_ok(buf, len));
	CHECK_INT(decode_packet(buf, len, &p), DECODE_OK);
	CHECK_INT(p.payload_len, 0);
	CHECK_INT(p.flags, TCPF_RST | TCPF_ACK);
	/* too large for the buffer */
	s.payload_len = 2000;
	CHECK_INT(packet_build(buf, sizeof(buf), &s), 0);
}

/* the IPv4 header checksum of a known packet (RFC 1071 example style) */
static void test_ipv4_header(void)
{
	static const uint8_t a[4] = { 192, 0, 2, 1 }, b[4] = { 192, 0, 2, 2 };
	struct tcp_spec s = { .family = 4, .saddr = a, .daddr = b, .sport = 1, .dport = 2 };
	uint8_t buf[64];
	uint32_t sum = 0;
	size_t i;

	CHECK_INT(packet_build(buf, sizeof(buf), &s), 40);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK_INT(sum, 0xffff);
}

/* normalising a received packet: the urgent pointer cleared, bytes rewritten, the
 * checksum set again */
static void test_normalise(uint8_t family)
{
	static const uint8_t a[16] = { 10, 89, 1, 2 }, b[16] = { 10, 89, 2, 2 };
	static const char msg[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICZAR";
	struct tcp_spec s = {
		.family = family,
		.saddr = a,
		.daddr = b,
		.sport = 40000,
		.dport = 25,
		.seq = 1,
		.ack = 2,
		.flags = TCPF_ACK | TCPF_URG,
		.window = 100,
		.payload = (const uint8_t *)msg,
		.payload_len = sizeof(msg) - 1,
	};
	uint8_t buf[PACKET_MAX];
	size_t len = packet_build(buf, sizeof(buf), &s), l3 = family == 4 ? 20 : 40;
	struct pkt p;

	buf[l3 + 18] = 0;
	buf[l3 + 19] = 31; /* on the Z */
	CHECK_INT(decode_packet(buf, len, &p), DECODE_OK);
	CHECK(!packet_csum_ok(buf, &p));
	packet_csum_set(buf, &p);
	CHECK(packet_csum_ok(buf, &p));
	CHECK(packet_tcp_csum_ok(buf, len));
	CHECK_INT(p.urg_ptr, 31);
	packet_clear_urg(buf, &p);
	CHECK_INT(p.flags, TCPF_ACK);
	packet_csum_set(buf, &p);
	CHECK(packet_tcp_csum_ok(buf, len));
	CHECK_INT(decode_packet(buf, len, &p), DECODE_OK);
	CHECK_INT(p.flags, TCPF_ACK);
	CHECK_INT(p.urg_ptr, 0);
	CHECK_INT(p.payload_len, sizeof(msg) - 1);
	/* cut to its first 10 bytes: lengths and sums follow, it decodes as such */
	{
		uint8_t cut[PACKET_MAX];
		struct pkt q;
		size_t n;

		memcpy(cut, buf, len);
		CHECK_INT(decode_packet(cut, len, &q), DECODE_OK);
		n = packet_truncate(cut, &q, 10);
		CHECK_INT(n, l3 + 20 + 10);
		CHECK(packet_tcp_csum_ok(cut, n));
		CHECK_INT(decode_packet(cut, n, &q), DECODE_OK);
		CHECK_INT(q.payload_len, 10);
		CHECK(memcmp(q.payload, msg, 10) == 0);
		if (family == 4) { /* the IPv4 header sum */
			uint32_t sum = 0;
			size_t i;

			for (i = 0; i < 20; i += 2)
				sum += (uint32_t)(cut[i] << 8 | cut[i + 1]);
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			CHECK_INT(sum, 0xffff);
		}
	}
	/* a byte rewritten in place: the sum follows */
	buf[len - 3] = 'x';
	CHECK(!packet_csum_ok(buf, &p));
	packet_csum_set(buf, &p);
	CHECK(packet_csum_ok(buf, &p));
}

/* timestamps and SACK blocks, laid out as Linux does, read back by the decoder */
static void test_options(uint8_t family)
{
	static const uint8_t a[16] = { 10, 89, 1, 2 }, b[16] = { 10, 89, 2, 2 };
	struct tcp_spec s = { .family = family,
			      .saddr = a,
			      .daddr = b,
			      .sport = 110,
			      .dport = 40000,
			      .seq = 7,
			      .ack = 9,
			      .flags = TCPF_ACK,
			      .window = 501,
			      .payload = (const uint8_t *)"+OK\r\n",
			      .payload_len = 5 };
	uint8_t buf[PACKET_MAX];
	size_t len, l3 = family == 4 ? 20 : 40;
	struct pkt p;

	s.ts_on = 1;
	s.tsval = 0x01020304;
	s.tsecr = 0xa0b0c0d0;
	s.nsack = 3;
	for (unsigned int i = 0; i < 3; i++) {
		s.sack[i][0] = 0xfffffff0 + 100 * i;
		s.sack[i][1] = 0xfffffff0 + 100 * i + 50;
	}
	len = packet_build(buf, sizeof(buf), &s);
	CHECK_INT(len, l3 + 20 + 12 + 28 + 5);
	CHECK_INT(decode_packet(buf, len, &p), DECODE_OK);
	CHECK(packet_csum_ok(buf, &p));
	CHECK_INT(p.l4_len, 60);
	CHECK_INT(p.has_ts, 1);
	CHECK_INT(p.tsval, 0x01020304);
	CHECK_INT(p.tsecr, 0xa0b0c0d0);
	CHECK_INT(p.nsack, 3);
	CHECK_INT(p.sack[2][0], 0xfffffff0 + 200);
	CHECK_INT(p.sack[2][1], 0xfffffff0 + 250);
	CHECK_INT(p.payload_len, 5);
	CHECK(memcmp(p.payload, "+OK\r\n", 5) == 0);
	/* one block, no timestamps */
	s.ts_on = 0;
	s.nsack = 1;
	len = packet_build(buf, sizeof(buf), &s);
	CHECK_INT(decode_packet(buf, len, &p), DECODE_OK);
	CHECK(packet_csum_ok(buf, &p));
	CHECK_INT(p.l4_len, 32);
	CHECK_INT(p.has_ts, 0);
	CHECK_INT(p.nsack, 1);
	CHECK_INT(p.sack[0][1], 0xfffffff0 + 50);
	/* the full packet must fit */
	s.payload_len = PACKET_MAX;
	CHECK_INT(packet_build(buf, sizeof(buf), &s), 0);
}

int main(void)
{
	test_options(4);
	test_options(6);
	test_normalise(4);
	test_normalise(6);
	check_family(4);
	check_family(6);
	test_ipv4_header();
	return unit_report("test_packet");
}
