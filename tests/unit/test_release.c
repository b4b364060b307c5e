/* The release scheduler: the window, the congestion window, retransmission by timeout,
 * by duplicate acknowledgements and by SACK, the zero-window probe, sequence wrap; and
 * whole releases over a simulated link that loses segments and acknowledgements, to a
 * receiver that pauses, checked byte by byte. */
#include <stdlib.h>

#include "release.h"
#include "unit.h"

#define MSS 1000

static struct release_seg next(struct release *r, uint64_t now)
{
	struct release_seg s;

	memset(&s, 0xff, sizeof(s));
	if (!release_next(r, now, &s))
		s.len = UINT32_MAX;
	return s;
}

/* every segment due now; returns how many */
static int drain(struct release *r, uint64_t now, struct release_seg *out, int max)
{
	int n = 0;

	while (n < max && release_next(r, now, &out[n]))
		n++;
	return n;
}

static void test_window(uint32_t isn)
{
	struct release r;
	struct release_seg s[32];
	int n;

	release_init(&r, isn, 10 * MSS, MSS, 3 * MSS, 0);
	n = drain(&r, 0, s, 32);
	CHECK_INT(n, 3); /* the receiver's window, not the congestion window */
	CHECK_INT(s[0].seq, isn);
	CHECK_INT(s[1].seq, isn + MSS);
	CHECK_INT(s[2].seq, isn + 2 * MSS);
	CHECK_INT(s[2].len, MSS);
	CHECK_INT(s[0].retransmit, 0);
	CHECK_INT(release_pipe(&r), 3 * MSS);
	CHECK_INT(release_ack(&r, isn + MSS, 3 * MSS, NULL, 0, 10), RELEASE_ACK_NEW);
	n = drain(&r, 10, s, 32);
	CHECK_INT(n, 1);
	CHECK_INT(s[0].seq, isn + 3 * MSS);
	/* a window that leaves less than a segment: nothing small while others fly */
	CHECK_INT(release_ack(&r, isn + 2 * MSS, 2 * MSS + 500, NULL, 0, 20), RELEASE_ACK_NEW);
	CHECK_INT(drain(&r, 20, s, 32), 0);
	/* the same ack with a new window is an update, not a duplicate */
	CHECK_INT(release_ack(&r, isn + 2 * MSS, 3 * MSS, NULL, 0, 21), RELEASE_ACK_WINDOW);
	CHECK_INT(r.dupacks, 0);
	CHECK_INT(drain(&r, 21, s, 32), 1);
	/* acks of bytes never sent, and old ones, change nothing */
	CHECK_INT(release_ack(&r, isn + 9 * MSS, 9 * MSS, NULL, 0, 22), RELEASE_ACK_INVALID);
	CHECK_INT(release_ack(&r, isn + MSS, 9 * MSS, NULL, 0, 22), RELEASE_ACK_OLD);
	CHECK_INT(r.una, isn + 2 * MSS);
	CHECK_INT(r.wnd, 3 * MSS);
}

static void test_congestion_window(uint32_t isn)
{
	struct release r;
	struct release_seg s[64];
	uint32_t cwnd;

	release_init(&r, isn, 100 * MSS, MSS, 1 << 20, 0);
	CHECK_INT(drain(&r, 0, s, 64), RELEASE_INIT_WINDOW);
	cwnd = r.cwnd;
	release_ack(&r, isn + 2 * MSS, 1 << 20, NULL, 0, 50);
	CHECK_INT(r.cwnd, cwnd + 2 * MSS); /* slow start */
	CHECK_INT(drain(&r, 50, s, 64), 4);
	/* the round trip of the first segment: 50 ms, rto at its floor */
	CHECK_INT(r.srtt, 50);
	CHECK_INT(r.rto, RELEASE_RTO_MIN);
	CHECK_INT(release_deadline(&r), 50 + RELEASE_RTO_MIN);
}

static void test_timeout(uint32_t isn)
{
	struct release r;
	struct release_seg s[32], x;

	release_init(&r, isn, 5 * MSS, MSS, 1 << 20, 0);
	CHECK_INT(drain(&r, 0, s, 32), 5);
	CHECK_INT(release_deadline(&r), RELEASE_RTO_INIT);
	CHECK_INT(drain(&r, RELEASE_RTO_INIT - 1, s, 32), 0);
	/* the timer: una again, one segment, the timeout doubled */
	CHECK_INT(drain(&r, RELEASE_RTO_INIT, s, 32), 1);
	CHECK_INT(s[0].seq, isn);
	CHECK_INT(s[0].retransmit, 1);
	CHECK_INT(r.cwnd, MSS);
	CHECK_INT(r.rto, 2 * RELEASE_RTO_INIT);
	CHECK_INT(r.retransmits, 1);
	/* its ack: slow start again, the rest sent again in order, nothing twice */
	release_ack(&r, isn + MSS, 1 << 20, NULL, 0, 1100);
	CHECK_INT(drain(&r, 1100, s, 32), 2);
	CHECK_INT(s[0].seq, isn + MSS);
	CHECK_INT(s[1].seq, isn + 2 * MSS);
	CHECK_INT(r.srtt, 0); /* Karn: no sample from a retransmission */
	release_ack(&r, isn + 5 * MSS, 1 << 20, NULL, 0, 1200);
	CHECK(release_done(&r));
	CHECK_INT(release_deadline(&r), 0);
	x = next(&r, 5000);
	CHECK_INT(x.len, UINT32_MAX);
}

static void test_fast_retransmit(uint32_t isn)
{
	struct release r;
	struct release_seg s[32];

	/* no SACK: the second segment lost, three duplicates */
	release_init(&r, isn, 8 * MSS, MSS, 1 << 20, 0);
	CHECK_INT(drain(&r, 0, s, 32), 8);
	release_ack(&r, isn + MSS, 1 << 20, NULL, 0, 10);
	CHECK_INT(release_ack(&r, isn + MSS, 1 << 20, NULL, 0, 11), RELEASE_ACK_DUP);
	CHECK_INT(release_ack(&r, isn + MSS, 1 << 20, NULL, 0, 12), RELEASE_ACK_DUP);
	CHECK_INT(r.in_recovery, 0);
	CHECK_INT(release_ack(&r, isn + MSS, 1 << 20, NULL, 0, 13), RELEASE_ACK_DUP);
	CHECK_INT(r.in_recovery, 1);
	CHECK_INT(drain(&r, 13, s, 32), 1);
	CHECK_INT(s[0].seq, isn + MSS);
	CHECK_INT(s[0].len, MSS);
	CHECK_INT(s[0].retransmit, 1);
	/* a partial ack: the next loss is sent at once */
	release_ack(&r, isn + 3 * MSS, 1 << 20, NULL, 0, 20);
	CHECK_INT(drain(&r, 20, s, 32), 1);
	CHECK_INT(s[0].seq, isn + 3 * MSS);
	release_ack(&r, isn + 8 * MSS, 1 << 20, NULL, 0, 30);
	CHECK_INT(r.in_recovery, 0);
	CHECK(release_done(&r));
	CHECK_INT(r.retransmits, 2);
}

static void test_sack(uint32_t isn)
{
	struct release r;
	struct release_seg s[32];
	struct release_sack b[2];

	/* segments 2 and 5 of 0..7 lost: SACK shows what came */
	release_init(&r, isn, 8 * MSS, MSS, 1 << 20, 0);
	CHECK_INT(drain(&r, 0, s, 32), 8);
	b[0] = (struct release_sack){ isn + 3 * MSS, isn + 5 * MSS };
	b[1] = (struct release_sack){ isn + 6 * MSS, isn + 8 * MSS };
	CHECK_INT(release_ack(&r, isn + 2 * MSS, 1 << 20, b, 2, 10), RELEASE_ACK_NEW);
	CHECK_INT(r.nsacked, 2);
	/* four segments SACKed above una: lost without waiting for three duplicates */
	CHECK_INT(release_ack(&r, isn + 2 * MSS, 1 << 20, b, 2, 11), RELEASE_ACK_DUP);
	CHECK_INT(r.in_recovery, 1);
	CHECK_INT(drain(&r, 11, s, 32), 2);
	CHECK_INT(s[0].seq, isn + 2 * MSS);
	CHECK_INT(s[1].seq, isn + 5 * MSS);
	CHECK_INT(s[1].len, MSS);
	CHECK_INT(s[1].retransmit, 1);
	CHECK_INT(drain(&r, 11, s, 32), 0); /* nothing twice */
	/* blocks merge; D-SACK below una is ignored */
	b[0] = (struct release_sack){ isn, isn + MSS };
	b[1] = (struct release_sack){ isn + 5 * MSS, isn + 6 * MSS };
	release_ack(&r, isn + 3 * MSS, 1 << 20, b, 2, 20);
	CHECK_INT(r.nsacked, 1);
	CHECK_INT(r.sacked[0].start, isn + 3 * MSS);
	CHECK_INT(r.sacked[0].end, isn + 8 * MSS);
	release_ack(&r, isn + 8 * MSS, 1 << 20, NULL, 0, 30);
	CHECK(release_done(&r));
	CHECK_INT(r.nsacked, 0);
	CHECK_INT(r.retransmits, 2);
}

static void test_sack_table_full(uint32_t isn)
{
	struct release r;
	struct release_seg s[64];
	struct release_sack b;
	unsigned int i;

	release_init(&r, isn, 60 * MSS, 100, 1 << 20, 0);
	r.cwnd = 1 << 20;
	CHECK_INT(drain(&r, 0, s, 64), 64);
	for (i = 0; i < RELEASE_SACK_MAX + 4; i++) {
		b = (struct release_sack){ isn + 200 * i + 100, isn + 200 * i + 200 };
		release_ack(&r, isn, 1 << 20, &b, 1, 1);
	}
	CHECK_INT(r.nsacked, RELEASE_SACK_MAX);
	CHECK_INT(r.sacked[RELEASE_SACK_MAX - 1].end, isn + 200 * (RELEASE_SACK_MAX - 1) + 200);
	for (i = 1; i < r.nsacked; i++)
		CHECK((int32_t)(r.sacked[i].start - r.sacked[i - 1].end) > 0);
}

static void test_zero_window(uint32_t isn)
{
	struct release r;
	struct release_seg s[8];

	release_init(&r, isn, 4 * MSS, MSS, 2 * MSS, 0);
	CHECK_INT(drain(&r, 0, s, 8), 2);
	release_ack(&r, isn + 2 * MSS, 0, NULL, 0, 10); /* the reader stopped */
	CHECK_INT(drain(&r, 10, s, 8), 0);
	CHECK_INT(release_deadline(&r), 10 + RELEASE_RTO_MIN);
	/* the probe: zero length, below una, so the receiver answers with its window */
	CHECK_INT(drain(&r, 10 + RELEASE_RTO_MIN, s, 8), 1);
	CHECK_INT(s[0].probe, 1);
	CHECK_INT(s[0].len, 0);
	CHECK_INT(s[0].seq, isn + 2 * MSS - 1);
	CHECK_INT(release_deadline(&r), 10 + 3 * RELEASE_RTO_MIN); /* backed off */
	CHECK_INT(release_ack(&r, isn + 2 * MSS, 0, NULL, 0, 300), RELEASE_ACK_WINDOW);
	CHECK_INT(release_ack(&r, isn + 2 * MSS, 4 * MSS, NULL, 0, 400), RELEASE_ACK_WINDOW);
	CHECK_INT(drain(&r, 400, s, 8), 2);
	CHECK_INT(s[0].seq, isn + 2 * MSS);
	CHECK_INT(r.retransmits, 0);
}

/* a whole release over a link with a one-way delay: the sender's data and the receiver's
 * acks are lost every drop_data-th and drop_ack-th time; the receiver's reader pauses
 * from pause_at for pause_ms; with sack the receiver reports up to three ranges */
struct sim {
	uint32_t isn, len, cap;
	uint8_t *got;  /* per byte: received */
	uint32_t rcv;  /* bytes delivered in order */
	uint32_t read; /* bytes the reader took */
	int sack;
	int drop_data, drop_ack, ndata, nack;
	uint64_t pause_at, pause_ms;
};

#define DELAY 5
#define QMAX  4096

struct ev {
	uint64_t at;
	int is_ack;
	uint32_t seq, len, wnd;
	struct release_sack b[3];
	unsigned int nb;
};

static uint32_t sim_window(const struct sim *m)
{
	return m->cap - (m->rcv - m->read);
}

static void sim_ack(struct sim *m, struct ev *q, int *nq, uint64_t now)
{
	struct ev a = { .at = now + DELAY, .is_ack = 1, .seq = m->isn + m->rcv };
	uint32_t i = m->rcv;

	a.wnd = sim_window(m);
	while (m->sack && i < m->len && a.nb < 3) {
		uint32_t s;

		while (i < m->len && !m->got[i])
			i++;
		if (i >= m->len)
			break;
		s = i;
		while (i < m->len && m->got[i])
			i++;
		a.b[a.nb++] = (struct release_sack){ m->isn + s, m->isn + i };
	}
	if (m->drop_ack && ++m->nack % m->drop_ack == 0)
		return;
	if (*nq < QMAX)
		q[(*nq)++] = a;
}

static void sim_data(struct sim *m, const struct ev *e, struct ev *q, int *nq, uint64_t now)
{
	uint32_t off = e->seq - m->isn;

	for (uint32_t i = 0; i < e->len; i++) {
		/* what lies beyond the window is dropped, as Linux does */
		if (off + i < m->len && off + i - m->rcv < sim_window(m))
			m->got[off + i] = 1;
	}
	while (m->rcv < m->len && m->got[m->rcv])
		m->rcv++;
	sim_ack(m, q, nq, now);
}

static int sim_run(struct sim *m, uint64_t *took, uint64_t *rexmits)
{
	static struct ev q[QMAX];
	struct release r;
	struct release_seg s;
	uint64_t now;
	int nq = 0, bad = 0;

	m->got = calloc(m->len, 1);
	m->rcv = m->read = 0;
	release_init(&r, m->isn, m->len, MSS, m->cap, 0);
	for (now = 0; now < 600000 && !release_done(&r); now++) {
		int had = sim_window(m) < MSS;

		/* the reader */
		if (now < m->pause_at || now >= m->pause_at + m->pause_ms)
			m->read = m->rcv;
		if (had && sim_window(m) >= MSS)
			sim_ack(m, q, &nq, now); /* the window update */
		/* arrivals */
		for (int i = 0; i < nq;) {
			if (q[i].at > now) {
				i++;
				continue;
			}
			struct ev e = q[i];
			q[i] = q[--nq];
			if (e.is_ack)
				release_ack(&r, e.seq, e.wnd, e.b, e.nb, now);
			else
				sim_data(m, &e, q, &nq, now);
		}
		while (release_next(&r, now, &s)) {
			struct ev d = { .at = now + DELAY, .seq = s.seq, .len = s.len };

			/* new data only within the window the sender last heard of */
			if (!s.retransmit && !s.probe &&
			    (int32_t)(s.seq + s.len - (r.una + r.wnd)) > 0)
				bad++;
			if (s.probe) {
				sim_ack(m, q, &nq, now + DELAY);
				continue;
			}
			if (m->drop_data && ++m->ndata % m->drop_data == 0)
				continue;
			if (nq < QMAX)
				q[nq++] = d;
		}
	}
	*took = now;
	*rexmits = r.retransmits;
	for (uint32_t i = 0; i < m->len; i++)
		bad += !m->got[i];
	free(m->got);
	return bad == 0 && release_done(&r) && m->rcv == m->len;
}

static void test_whole(uint32_t isn)
{
	static const struct {
		int sack, drop_data, drop_ack;
		uint64_t pause_at, pause_ms;
	} cases[] = {
		{ 1, 0, 0, 0, 0 },	{ 0, 0, 0, 0, 0 }, { 1, 7, 0, 0, 0 }, { 0, 7, 0, 0, 0 },
		{ 1, 3, 5, 0, 0 },	{ 0, 3, 5, 0, 0 }, { 1, 0, 2, 0, 0 }, { 1, 0, 0, 20, 3000 },
		{ 0, 11, 3, 20, 3000 }, { 1, 4, 0, 0, 0 }, { 0, 4, 7, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim m = { .isn = isn, .len = 300 * 1000 + 17, .cap = 64 * 1024 };
		uint64_t took, rexmits;

		m.sack = cases[i].sack;
		m.drop_data = cases[i].drop_data;
		m.drop_ack = cases[i].drop_ack;
		m.pause_at = cases[i].pause_at;
		m.pause_ms = cases[i].pause_ms;
		if (!sim_run(&m, &took, &rexmits)) {
			fprintf(stderr, "release case %zu: %u of %u bytes in order after %llu ms\n",
				i, m.rcv, m.len, (unsigned long long)took);
			CHECK(0);
		}
		if (cases[i].drop_data)
			CHECK(rexmits > 0);
		else
			CHECK_INT(rexmits, 0);
		if (cases[i].pause_ms)
			CHECK(took > cases[i].pause_ms);
	}
}

int main(void)
{
	static const uint32_t isns[] = { 1, 0x7ffff000, 0xfffff000, 0xffffffff, 0xfffe0000 };

	for (size_t i = 0; i < sizeof(isns) / sizeof(isns[0]); i++) {
		test_window(isns[i]);
		test_congestion_window(isns[i]);
		test_timeout(isns[i]);
		test_fast_retransmit(isns[i]);
		test_sack(isns[i]);
		test_sack_table_full(isns[i]);
		test_zero_window(isns[i]);
		test_whole(isns[i]);
	}
	return unit_report("test_release");
}
