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
	/* after the connection ended, or before it was answered, a new one */
	p = seg(TCPF_SYN, 777, 0, 100);
	f.state = FLOW_CLOSING;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
	f.state = FLOW_RESET;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
	f.state = FLOW_SYN;
	CHECK_INT(tcpnorm_syn_kind(&f, DIR_TO_SERVER, &p), SYN_NEW);
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
	/* after the sender's FIN: rcv_nxt is past it, and one below is taken too */
	reasm_fin(&f.dir[DIR_TO_SERVER], &lim, 1101);
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
	tcpnorm_taken(&f, DIR_TO_SERVER, &p, &lim);
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

int main(void)
{
	test_syn();
	test_rst();
	test_check_and_window();
	return unit_report("test_tcpnorm");
}
