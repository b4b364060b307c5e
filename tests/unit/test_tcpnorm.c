/* TCP segment acceptance as the receiver (Linux) decides it: SYNs on a known flow, the
 * handshake's options, resets by sequence number, ACK-less data, PAWS, window scaling. */
#include <stdlib.h>

#include "tcpnorm.h"
#include "unit.h"

static size_t total;
static struct reasm_limits lim = {
	.ooo_cap = 4096, .keep_cap = 8192, .total_cap = 1 << 20, .total = &total
};

static struct pkt seg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	struct pkt p = { .family = 4, .flags = flags, .seq = seq, .ack = ack, .window = win };

	p.wscale = -1;
	return p;
}

static void deliver(void *arg, const uint8_t *d, size_t len)
{
	(void)arg;
	(void)d;
	(void)len;
}

/* a flow after SYN (client ISN 1000, WS 7, TS 50) and SYN-ACK (ISN 5000, WS 2, TS 70) */
static void handshake(struct flow *f, int server_ws, int ts)
{
	struct pkt p = seg(TCPF_SYN, 1000, 0, 65535);

	memset(f, 0, sizeof(*f));
	f->state = FLOW_SYN;
	reasm_init(&f->dir[DIR_TO_SERVER], 1001);
	p.wscale = 7;
	p.has_ts = 1;
	p.tsval = 50;
	tcpnorm_syn(f, &p);
	p = seg(TCPF_SYN | TCPF_ACK, 5000, 1001, 30000);
	p.wscale = (int8_t)server_ws;
	p.has_ts = (uint8_t)ts;
	p.tsval = 70;
	CHECK_INT(tcpnorm_syn_kind(f, DIR_TO_CLIENT, &p), SYN_ESTABLISH);
	tcpnorm_establish(f, &p);
}

static void test_syn(void)
{
	struct flow f;
	struct pkt p;

	handshake(&f, 2, 1);
	CHECK_INT(f.state, FLOW_ESTABLISHED);
	CHECK_INT(f.dir[DIR_TO_CLIENT].next, 5001);
	CHECK_INT(f.dir[DIR_TO_SERVER].edge, 1001 + 30000); /* SYN-ACK: not scaled */
	CHECK_INT(f.dir[0].ts_on && f.dir[1].ts_on, 1);
	/* retransmissions of either SYN pass */
	p = seg(TCPF_SYN, 1000, 0, 100);
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_RETRANS);
	p = seg(TCPF_SYN | TCPF_ACK, 5000, 1001, 100);
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_CLIENT, &p), SYN_RETRANS);
	/* any other SYN on the live connection: the receiver keeps its connection */
	p = seg(TCPF_SYN, 777, 0, 100);
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_ESTABLISHED);
	p = seg(TCPF_SYN | TCPF_ACK, 1001, 0, 100);
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_ESTABLISHED);
	p = seg(TCPF_SYN | TCPF_ACK, 9000, 1001, 100);
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_CLIENT, &p), SYN_ESTABLISHED);
	/* the server's SYN without ACK (simultaneous open) never starts its stream */
	p = seg(TCPF_SYN, 9000, 0, 100);
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_CLIENT, &p), SYN_ESTABLISHED);
	/* after the connection ended, was reset, aborted by us or passed (TLS), a new
	 * one, even with the old ISN; before it was answered, another candidate */
	p = seg(TCPF_SYN, 777, 0, 100);
	f.state = FLOW_CLOSING;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
	f.state = FLOW_RESET;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
	f.state = FLOW_PASS;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
	f.state = FLOW_ABORTED;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
	p = seg(TCPF_SYN, 1000, 0, 100);
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
	f.state = FLOW_REJECTING;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_RETRANS);
	p = seg(TCPF_SYN, 777, 0, 100);
	f.state = FLOW_SYN;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_ANOTHER);
	/* a SYN-ACK for another ISN than the last SYN's: the client's stream starts
	 * where the server says */
	handshake(&f, 2, 1);
	memset(&f, 0, sizeof(f));
	reasm_init(&f.dir[DIR_TO_SERVER], 1001);
	p = seg(TCPF_SYN, 1000, 0, 100);
	tcpnorm_syn(&f, &p);
	p = seg(TCPF_SYN | TCPF_ACK, 5000, 4001, 100);
	tcpnorm_establish(&f, &p);
	CHECK_INT(f.dir[DIR_TO_SERVER].next, 4001);
	/* two SYNs before the SYN-ACK, in either order of arrival: the one the server
	 * acknowledges starts the stream, with its options; data before the SYN-ACK is
	 * not taken */
	for (int first = 0; first < 2; first++) {
		struct pkt a = seg(TCPF_SYN, 1000, 0, 100), b = seg(TCPF_SYN, 70000, 0, 100);

		a.wscale = 7;
		b.wscale = 3;
		b.has_ts = 1;
		b.tsval = 99;
		memset(&f, 0, sizeof(f));
		f.state = FLOW_SYN;
		reasm_init(&f.dir[DIR_TO_SERVER], (first ? b.seq : a.seq) + 1);
		tcpnorm_syn(&f, first ? &b : &a);
		CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, first ? &a : &b), SYN_ANOTHER);
		tcpnorm_syn_another(&f, first ? &a : &b);
		CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, first ? &a : &b), SYN_RETRANS);
		CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, first ? &b : &a), SYN_RETRANS);
		p = seg(TCPF_ACK, 70001, 5001, 100);
		CHECK_INT(tcpnorm_check(&f, DIR_TO_SERVER, &p), DROP_NO_ACK);
		p = seg(TCPF_SYN | TCPF_ACK, 5000, 70001, 100);
		p.has_ts = 1;
		CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_CLIENT, &p), SYN_ESTABLISH);
		tcpnorm_establish(&f, &p);
		CHECK_INT(f.dir[DIR_TO_SERVER].next, 70001);
		CHECK_INT(f.client_isn, 70000);
		CHECK_INT(f.wscale[DIR_TO_SERVER], 3);
		CHECK_INT(f.dir[DIR_TO_SERVER].ts_on, 1);
		CHECK_INT(f.dir[DIR_TO_SERVER].ts_recent, 99);
		p = seg(TCPF_ACK, 70001, 5001, 100);
		CHECK_INT(tcpnorm_check(&f, DIR_TO_SERVER, &p), DROP_NONE);
		reasm_free(&f.dir[DIR_TO_SERVER], &lim);
	}
	/* timestamps only if both SYNs had them */
	handshake(&f, 2, 0);
	CHECK_INT(f.dir[0].ts_on || f.dir[1].ts_on, 0);
}

static void test_rst(void)
{
	struct flow f;
	static uint8_t d[100];

	handshake(&f, 2, 1);
	reasm_add(&f.dir[DIR_TO_SERVER], &lim, 1001, d, 100, deliver, NULL);
	/* only at rcv_nxt, or where the receiver stops at a held range */
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1101, 1101), 1);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1050, 1050), 1);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1102, 1101), 0);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1100, 1101), 0);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 900000, 1101), 0);
	/* after the sender's FIN, not acknowledged yet: the receiver may be at the FIN
	 * or past it */
	reasm_fin(&f.dir[DIR_TO_SERVER], &lim, 1101);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1101, 1101), 1);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1102, 1101), 1);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1103, 1101), 0);
	/* acknowledged: rcv_nxt is past it, and one below is taken too */
	reasm_ack(&f.dir[DIR_TO_SERVER], &lim, 1102);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1102, 1102), 1);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1101, 1102), 1);
	CHECK_INT(tcpnorm_rst_taken(&f, DIR_TO_SERVER, 1100, 1102), 0);
	reasm_free(&f.dir[DIR_TO_SERVER], &lim);
	CHECK_INT(total, 0);
}

static void test_check_and_window(void)
{
	struct flow f;
	struct pkt p;

	handshake(&f, 2, 1);
	/* data without ACK is discarded by the receiver */
	p = seg(TCPF_PSH, 1001, 5001, 100);
	CHECK_INT(tcpnorm_check(&f, DIR_TO_SERVER, &p), DROP_NO_ACK);
	p = seg(TCPF_ACK, 1001, 5001, 100);
	CHECK_INT(tcpnorm_check(&f, DIR_TO_SERVER, &p), DROP_NONE);
	/* PAWS: older than the SYN's timestamp by more than one */
	p.has_ts = 1;
	p.tsval = 48;
	CHECK_INT(tcpnorm_check(&f, DIR_TO_SERVER, &p), DROP_PAWS);
	p.tsval = 49;
	CHECK_INT(tcpnorm_check(&f, DIR_TO_SERVER, &p), DROP_NONE);
	/* taken: the timestamp moves on, and the ACK sets the other side's window,
	 * scaled by the sender's own factor (the client's 7) */
	p.tsval = 60;
	CHECK_INT(f.open, 0);
	tcpnorm_taken(&f, DIR_TO_SERVER, &p, &lim);
	CHECK_INT(f.open, 1); /* the client's ACK: the connection is open on both ends */
	CHECK_INT(f.dir[DIR_TO_SERVER].ts_recent, 60);
	CHECK_INT(f.dir[DIR_TO_CLIENT].edge, 5001 + (100 << 7));
	/* the server's window, scaled by 2 */
	p = seg(TCPF_ACK, 5001, 1001, 20000);
	tcpnorm_taken(&f, DIR_TO_CLIENT, &p, &lim);
	CHECK_INT(f.dir[DIR_TO_SERVER].edge, 1001 + (20000 << 2));
	/* without scaling on both sides, none */
	handshake(&f, -1, 1);
	p = seg(TCPF_ACK, 1001, 5001, 100);
	tcpnorm_taken(&f, DIR_TO_SERVER, &p, &lim);
	CHECK_INT(f.dir[DIR_TO_CLIENT].edge, 5001 + 100);
	/* a direction without handshake takes nothing */
	memset(&f, 0, sizeof(f));
	p = seg(TCPF_ACK, 1, 1, 100);
	CHECK_INT(tcpnorm_check(&f, DIR_TO_CLIENT, &p), DROP_NO_ACK);
}

/* a pure ACK's window is lowered to the bytes kept for the other side's sender */
static void test_window_clamp(void)
{
	struct flow f;
	struct pkt p;

	handshake(&f, 2, 1);
	/* the server's window (scale 2): 1M allows 262144, above the field's range */
	p = seg(TCPF_ACK, 5001, 1001, 60000);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_CLIENT, &p, 1 << 20), -1);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_CLIENT, &p, 65536), 16384);
	/* exactly the cap, or below it: as it is */
	p.window = 16384;
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_CLIENT, &p, 65536), -1);
	/* the client's ACKs, scaled by 7: 1M is 8192 of them */
	p = seg(TCPF_ACK, 1001, 5001, 20000);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 1 << 20), 8192);
	p.flags |= TCPF_FIN; /* a FIN without data too */
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 1 << 20), 8192);
	/* data, a SYN, a reset, no ACK: as they are */
	p = seg(TCPF_ACK | TCPF_PSH, 1001, 5001, 20000);
	p.payload_len = 10;
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 1 << 20), -1);
	p = seg(TCPF_ACK | TCPF_SYN, 1001, 5001, 20000);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 1 << 20), -1);
	p = seg(TCPF_ACK | TCPF_RST, 1001, 5001, 20000);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 1 << 20), -1);
	p = seg(0, 1001, 5001, 20000);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 1 << 20), -1);
	/* without scaling on both sides, none: the field is in bytes */
	handshake(&f, -1, 1);
	p = seg(TCPF_ACK, 1001, 5001, 20000);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 8192), 8192);
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 1 << 20), -1);
	/* the other direction not started: nothing is kept for it yet */
	memset(&f, 0, sizeof(f));
	CHECK_INT(tcpnorm_window_clamp(&f, DIR_TO_SERVER, &p, 8192), -1);
}

/* options the receiver drops segments for, the TTL floor, resets from one packet */
static void test_auth_ttl_reset_points(void)
{
	struct pkt p = seg(TCPF_ACK | TCPF_PSH, 1000, 7000, 100);
	uint32_t at[2];

	CHECK_INT(tcpnorm_auth_drop(&p), 0);
	p.auth = 1;
	CHECK_INT(tcpnorm_auth_drop(&p), 1);
	p.ttl = 1;
	CHECK_INT(tcpnorm_ttl(&p, 16), 16);
	p.ttl = 16;
	CHECK_INT(tcpnorm_ttl(&p, 16), 0);
	CHECK_INT(tcpnorm_ttl(&p, 0), 0);
	p.payload_len = 10;
	CHECK_INT(tcpnorm_reset_points(DIR_TO_SERVER, &p, at), 3);
	CHECK_INT(at[DIR_TO_SERVER], 1000);
	CHECK_INT(at[DIR_TO_CLIENT], 7000);
	CHECK_INT(tcpnorm_reset_points(DIR_TO_CLIENT, &p, at), 3);
	CHECK_INT(at[DIR_TO_CLIENT], 1000);
	CHECK_INT(at[DIR_TO_SERVER], 7000);
	/* without ACK its acknowledgement number means nothing */
	p.flags = TCPF_PSH;
	CHECK_INT(tcpnorm_reset_points(DIR_TO_SERVER, &p, at), 1);
}

int main(void)
{
	test_auth_ttl_reset_points();
	test_syn();
	test_rst();
	test_check_and_window();
	test_window_clamp();
	return unit_report("test_tcpnorm");
}
