/* Releasing a held range to its receiver: see release.h. */
#include <string.h>

#include "decode.h"
#include "release.h"

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static uint32_t seq_max(uint32_t a, uint32_t b)
{
	return SEQ_GT(a, b) ? a : b;
}

static uint32_t seq_min(uint32_t a, uint32_t b)
{
	return SEQ_LT(a, b) ? a : b;
}

/* SACKed bytes within [a, b) */
static uint32_t sacked_in(const struct release *r, uint32_t a, uint32_t b)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < r->nsacked; i++) {
		uint32_t s = seq_max(a, r->sacked[i].start), e = seq_min(b, r->sacked[i].end);

		if (SEQ_LT(s, e))
			n += e - s;
	}
	return n;
}

/* bytes within [a, b) that the receiver has not reported */
static uint32_t holes_in(const struct release *r, uint32_t a, uint32_t b)
{
	return SEQ_LT(a, b) ? (b - a) - sacked_in(r, a, b) : 0;
}

uint32_t release_pipe(const struct release *r)
{
	uint32_t pipe = holes_in(r, r->una, r->nxt), left;

	if (r->in_recovery)
		pipe -= holes_in(r, seq_max(r->rexmit, r->una), seq_min(r->lost_end, r->nxt));
	/* without SACK each duplicate stands for a segment that left the network (as Linux
	 * counts them for Reno) */
	left = r->nsacked ? 0 : r->dupacks * r->mss;
	return pipe > left ? pipe - left : 0;
}

/* the first hole at or above from, below limit: 1 and [*s, *e) */
static int next_hole(const struct release *r, uint32_t from, uint32_t limit, uint32_t *s,
		     uint32_t *e)
{
	uint32_t at = from;

	for (unsigned int i = 0; i < r->nsacked && SEQ_LT(at, limit); i++) {
		if (SEQ_LEQ(r->sacked[i].end, at))
			continue;
		if (SEQ_LT(at, r->sacked[i].start)) {
			*s = at;
			*e = seq_min(r->sacked[i].start, limit);
			return 1;
		}
		at = r->sacked[i].end;
	}
	if (!SEQ_LT(at, limit))
		return 0;
	*s = at;
	*e = limit;
	return 1;
}

/* drop what una has passed */
static void sack_trim(struct release *r)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < r->nsacked; i++) {
		if (SEQ_LEQ(r->sacked[i].end, r->una))
			continue;
		r->sacked[j] = r->sacked[i];
		r->sacked[j].start = seq_max(r->sacked[j].start, r->una);
		j++;
	}
	r->nsacked = j;
}

/* merge [s, e) in, kept sorted and disjoint; when the table is full the highest range is
 * forgotten, which only means sending it again */
static void sack_add(struct release *r, uint32_t s, uint32_t e)
{
	unsigned int i = 0, j;

	s = seq_max(s, r->una);
	e = seq_min(e, r->nxt);
	if (!SEQ_LT(s, e))
		return;
	while (i < r->nsacked && SEQ_LT(r->sacked[i].end, s))
		i++;
	for (j = i; j < r->nsacked && SEQ_LEQ(r->sacked[j].start, e); j++) {
		s = seq_min(s, r->sacked[j].start);
		e = seq_max(e, r->sacked[j].end);
	}
	if (j == i) { /* overlaps nothing: insert at i */
		if (r->nsacked == RELEASE_SACK_MAX) {
			if (i == RELEASE_SACK_MAX)
				return;
			r->nsacked--;
		}
		memmove(&r->sacked[i + 1], &r->sacked[i], (r->nsacked - i) * sizeof(r->sacked[0]));
		r->nsacked++;
	} else if (j > i + 1) { /* [i, j) become one */
		memmove(&r->sacked[i + 1], &r->sacked[j], (r->nsacked - j) * sizeof(r->sacked[0]));
		r->nsacked -= j - i - 1;
	}
	r->sacked[i].start = s;
	r->sacked[i].end = e;
}

static uint32_t sack_high(const struct release *r)
{
	return r->nsacked ? r->sacked[r->nsacked - 1].end : r->una;
}

void release_init(struct release *r, uint32_t start, uint32_t len, uint32_t mss, uint32_t wnd,
		  uint64_t now)
{
	(void)now;
	memset(r, 0, sizeof(*r));
	r->start = r->una = r->nxt = start;
	r->end = start + len;
	r->mss = mss ? mss : 536;
	r->wnd = wnd;
	r->cwnd = RELEASE_INIT_WINDOW * r->mss;
	r->ssthresh = UINT32_MAX;
	r->rto = RELEASE_RTO_INIT;
}

void release_extend(struct release *r, uint32_t end)
{
	if (SEQ_GT(end, r->end))
		r->end = end;
}

/* RFC 6298 2.2, 2.3 */
static void rtt_sample(struct release *r, uint64_t m64)
{
	uint32_t m = m64 > RELEASE_RTO_MAX ? RELEASE_RTO_MAX : (uint32_t)m64;

	if (m == 0)
		m = 1;
	if (r->srtt == 0) {
		r->srtt = m;
		r->rttvar = m / 2;
	} else {
		uint32_t d = r->srtt > m ? r->srtt - m : m - r->srtt;

		r->rttvar = (3 * r->rttvar + d) / 4;
		r->srtt = (7 * r->srtt + m) / 8;
	}
}

/* the timeout from the estimates, the backoff forgotten: once new data is acknowledged
 * the path works again (Linux, with timestamps, has a sample on every such ack) */
static void rto_set(struct release *r)
{
	if (r->srtt)
		r->rto = min_u32(max_u32(r->srtt + max_u32(1, 4 * r->rttvar), RELEASE_RTO_MIN),
				 RELEASE_RTO_MAX);
	r->backoff = 0;
}

static void enter_recovery(struct release *r, uint32_t lost_end)
{
	r->ssthresh = max_u32(release_pipe(r) / 2, 2 * r->mss);
	r->cwnd = r->ssthresh;
	r->in_recovery = 1;
	r->recover = r->nxt;
	r->rexmit = r->una;
	r->lost_end = seq_min(lost_end, r->nxt);
	r->rexmit_now = 1;
	r->rtt_on = 0;
}

/* una moved to ack */
static void acked(struct release *r, uint32_t ack, uint64_t now)
{
	uint32_t n = ack - r->una;

	r->una = ack;
	r->dupacks = 0;
	r->limited = 0;
	sack_trim(r);
	if (r->rtt_on && SEQ_GEQ(ack, r->rtt_seq)) {
		rtt_sample(r, now - r->rtt_sent);
		r->rtt_on = 0;
	}
	rto_set(r);
	if (r->in_recovery && SEQ_GEQ(r->una, r->recover)) {
		r->in_recovery = 0;
		r->cwnd = min_u32(r->cwnd, r->ssthresh);
	} else if (r->in_recovery) {
		r->rexmit = seq_max(r->rexmit, r->una);
		r->rexmit_now = 1;
		/* without SACK, a partial acknowledgement points at the next loss */
		r->lost_end = seq_max(r->lost_end, seq_min(r->una + r->mss, r->nxt));
	}
	if (r->cwnd < r->ssthresh) /* slow start (RFC 3465, L = 2), also after a timeout */
		r->cwnd += min_u32(n, 2 * r->mss);
	else if (!r->in_recovery)
		r->cwnd += max_u32(1, r->mss * r->mss / r->cwnd);
	r->rto_at = r->una == r->nxt ? 0 : now + r->rto;
}

enum release_ack release_ack(struct release *r, uint32_t ack, uint32_t wnd,
			     const struct release_sack *sack, unsigned int nsack, uint64_t now)
{
	uint32_t before;
	int moved, news;

	if (SEQ_GT(ack, r->nxt))
		return RELEASE_ACK_INVALID;
	if (SEQ_LT(ack, r->una))
		return RELEASE_ACK_OLD;
	moved = SEQ_GT(ack, r->una);
	if (moved)
		acked(r, ack, now);
	before = sacked_in(r, r->una, r->nxt);
	for (unsigned int i = 0; i < nsack; i++)
		sack_add(r, sack[i].start, sack[i].end);
	news = sacked_in(r, r->una, r->nxt) > before;
	if (r->in_recovery)
		r->lost_end = seq_max(r->lost_end, sack_high(r));
	if (moved) {
		r->wnd = wnd;
		return RELEASE_ACK_NEW;
	}
	/* RFC 5681: a duplicate carries the same window, with data outstanding */
	if (r->una == r->nxt || (!news && wnd != r->wnd)) {
		r->wnd = wnd;
		return RELEASE_ACK_WINDOW;
	}
	if (r->dupacks < UINT8_MAX)
		r->dupacks++;
	/* lost: three duplicates, or more than two segments' worth SACKed above (RFC 6675
	 * IsLost); before that, each of the first two duplicates lets one new segment go
	 * (limited transmit, RFC 3042), so that a small window still gets its three */
	if (!r->in_recovery && (r->dupacks >= 3 || sacked_in(r, r->una, r->nxt) > 2 * r->mss))
		enter_recovery(r, r->nsacked ? sack_high(r) : r->una + r->mss);
	else if (!r->in_recovery && r->limited < 2)
		r->limited++;
	return RELEASE_ACK_DUP;
}

/* the timer ran out: a zero window is probed, anything outstanding is lost (RFC 6298
 * 5.4-5.6: back off, go back to una with one segment of congestion window) */
static int timeout(struct release *r, uint64_t now, struct release_seg *seg)
{
	if (r->backoff < 16)
		r->backoff++;
	r->rto = min_u32(r->rto * 2, RELEASE_RTO_MAX);
	r->rto_at = now + r->rto;
	if (r->una == r->nxt) {
		memset(seg, 0, sizeof(*seg));
		seg->seq = r->una - 1;
		seg->probe = 1;
		return 1;
	}
	r->in_recovery = 0;
	enter_recovery(r, r->nxt);
	r->cwnd = r->mss;
	r->dupacks = 0;
	return 0;
}

/* the first lost byte range not yet sent again */
static int retransmission(struct release *r, uint64_t now, struct release_seg *seg)
{
	uint32_t s, e;

	if (!r->in_recovery ||
	    !next_hole(r, seq_max(r->rexmit, r->una), seq_min(r->lost_end, r->nxt), &s, &e))
		return 0;
	memset(seg, 0, sizeof(*seg));
	seg->seq = s;
	seg->len = min_u32(e - s, r->mss);
	seg->retransmit = 1;
	r->rexmit = s + seg->len;
	r->retransmits++;
	if (r->rto_at == 0)
		r->rto_at = now + r->rto;
	return 1;
}

/* new bytes within the receiver's window; no small segment while others are in flight
 * (the sender's silly window avoidance, RFC 1122 4.2.3.4) */
static int new_data(struct release *r, uint64_t now, struct release_seg *seg)
{
	uint32_t edge = r->una + r->wnd, left = r->end - r->nxt, room, len;

	if (left == 0)
		return 0;
	room = SEQ_GT(edge, r->nxt) ? edge - r->nxt : 0;
	len = min_u32(min_u32(left, r->mss), room);
	if (len == 0 || (len < r->mss && len < left && r->una != r->nxt)) {
		if (r->una == r->nxt && r->rto_at == 0)
			r->rto_at = now + r->rto; /* the zero-window probe */
		return 0;
	}
	memset(seg, 0, sizeof(*seg));
	seg->seq = r->nxt;
	seg->len = len;
	if (!r->rtt_on) {
		r->rtt_on = 1;
		r->rtt_seq = r->nxt + len;
		r->rtt_sent = now;
	}
	r->nxt += len;
	if (r->rto_at == 0)
		r->rto_at = now + r->rto;
	return 1;
}

int release_next(struct release *r, uint64_t now, struct release_seg *seg)
{
	if (release_done(r))
		return 0;
	if (r->rto_at && now >= r->rto_at && timeout(r, now, seg))
		return 1;
	/* the first loss of a recovery, and the one a partial acknowledgement points at, go
	 * at once (RFC 6675 4.3, RFC 6582 3.2) */
	if (r->rexmit_now) {
		r->rexmit_now = 0;
		if (retransmission(r, now, seg))
			return 1;
	}
	if (release_pipe(r) >= r->cwnd) {
		if (r->limited && !r->in_recovery && new_data(r, now, seg)) {
			r->limited--;
			return 1;
		}
		return 0;
	}
	return retransmission(r, now, seg) || new_data(r, now, seg);
}

uint64_t release_deadline(const struct release *r)
{
	return release_done(r) ? 0 : r->rto_at;
}

int release_done(const struct release *r)
{
	return r->una == r->end;
}
