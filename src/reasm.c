/* Per-direction TCP reassembly: pure, libc only. */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "reasm.h"

#define KEEP_MIN    512	       /* a command line or two; grows by doubling */
#define KEEP_IDLE   4096       /* a ring this small is given back when all of it is acknowledged */
#define OLD_HORIZON (1u << 30) /* further back than this: not a retransmission */
#define PAWS_WINDOW 1	       /* Linux's TCP_PAWS_WINDOW */

#define OOO_LEVELS 16 /* skip list height: ample for the segment bound */

/* A range of out-of-order bytes; the head of a list is a node with every level and no
 * bytes. Ranges never overlap: a segment adds only what is not buffered yet. */
struct reasm_seg {
	uint32_t seq;
	uint32_t len;
	uint8_t *data;
	unsigned int levels;
	struct reasm_seg *next[];
};

void reasm_init(struct reasm *r, uint32_t next)
{
	memset(r, 0, sizeof(*r));
	r->next = next;
	r->acked = next;
	r->keep_seq = next;
	r->started = 1;
	/* levels must not be the peer's to predict: the structure's address mixes in */
	r->rng = (next ^ (uint32_t)(uintptr_t)r) | 1;
}

static void keep_release(struct reasm *r, const struct reasm_limits *lim)
{
	*lim->total -= r->keep_size;
	free(r->keep);
	r->keep = NULL;
	r->keep_size = r->keep_head = 0;
}

static void ooo_purge(struct reasm *r, const struct reasm_limits *lim)
{
	struct reasm_seg *s, *n;

	if (!r->ooo)
		return;
	for (s = r->ooo; s; s = n) {
		n = s->next[0];
		free(s);
	}
	*lim->total -= r->ooo_bytes;
	r->ooo = NULL;
	r->ooo_bytes = 0;
	r->ooo_count = 0;
}

void reasm_free(struct reasm *r, const struct reasm_limits *lim)
{
	ooo_purge(r, lim);
	keep_release(r, lim);
	/* nothing delivered is kept any more: older copies cannot be checked */
	r->keep_len = 0;
	r->keep_seq = r->next;
}

/* --- the ring of delivered bytes --- */

static void keep_drop(struct reasm *r, size_t n)
{
	if (n > r->keep_len)
		n = r->keep_len;
	r->keep_head = r->keep_size ? (r->keep_head + n) % r->keep_size : 0;
	r->keep_len -= n;
	r->keep_seq += (uint32_t)n;
}

/* Makes the ring hold [keep_seq, END): every unacknowledged byte up to END. Growing it
 * now means the bytes buffered out of order always fit once they are in order. -1 past
 * the flow's own cap (or no memory), -2 past the total shared with other flows. */
static int keep_room(struct reasm *r, const struct reasm_limits *lim, uint32_t end)
{
	size_t want = end - r->keep_seq, size = r->keep_size ? r->keep_size : KEEP_MIN, first;
	uint8_t *nb;

	if (want <= r->keep_size)
		return 0;
	if (want > lim->keep_cap)
		return -1;
	while (size < want)
		size *= 2;
	if (size > lim->keep_cap)
		size = lim->keep_cap;
	if (*lim->total + size - r->keep_size > lim->total_cap)
		return -2;
	nb = malloc(size);
	if (!nb)
		return -1;
	/* linearise: the oldest byte goes to index 0 */
	first = r->keep_size - r->keep_head;
	if (first > r->keep_len)
		first = r->keep_len;
	if (r->keep_len) {
		memcpy(nb, r->keep + r->keep_head, first);
		memcpy(nb + first, r->keep, r->keep_len - first);
	}
	*lim->total += size - r->keep_size;
	free(r->keep);
	r->keep = nb;
	r->keep_size = size;
	r->keep_head = 0;
	return 0;
}

/* appends after keep_room made space */
static void keep_append(struct reasm *r, const uint8_t *d, size_t len)
{
	size_t tail = (r->keep_head + r->keep_len) % r->keep_size, first = r->keep_size - tail;

	if (first > len)
		first = len;
	memcpy(r->keep + tail, d, first);
	memcpy(r->keep, d + first, len - first);
	r->keep_len += len;
}

/* Makes old bytes [seq, seq+len), all before r->next, equal to what was delivered.
 * Bytes the receiver acknowledged are discarded by it and need nothing. */
static int keep_check(const struct reasm *r, uint32_t seq, uint8_t *d, size_t len)
{
	int flags = REASM_RETRANS;
	size_t off, i, at;

	if (SEQ_LT(seq, r->acked)) {
		size_t skip = r->acked - seq;

		if (skip >= len)
			return flags;
		seq += (uint32_t)skip;
		d += skip;
		len -= skip;
	}
	if (SEQ_LT(seq, r->keep_seq)) {
		/* not reached: every unacknowledged byte is kept */
		size_t skip = r->keep_seq - seq;

		flags |= REASM_UNVERIFIED;
		if (skip >= len)
			return flags;
		seq += (uint32_t)skip;
		d += skip;
		len -= skip;
	}
	off = seq - r->keep_seq;
	for (i = 0; i < len; i++) {
		at = (r->keep_head + off + i) % r->keep_size;
		if (r->keep[at] != d[i]) {
			d[i] = r->keep[at];
			flags |= REASM_REWRITTEN;
		}
	}
	return flags;
}

/* --- out-of-order segments: a skip list of disjoint ranges --- */

/* The last range starting before SEQ (or the head), with the last node before SEQ at
 * each level in UPD. */
static struct reasm_seg *seg_before(const struct reasm *r, uint32_t seq, struct reasm_seg **upd)
{
	struct reasm_seg *x = r->ooo;
	int l;

	for (l = OOO_LEVELS - 1; l >= 0; l--) {
		while (x->next[l] && SEQ_LT(x->next[l]->seq, seq))
			x = x->next[l];
		upd[l] = x;
	}
	return x;
}

static unsigned int seg_levels(struct reasm *r)
{
	unsigned int n = 1;

	/* xorshift32: one bit per level, each kept with probability 1/2 */
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 17;
	r->rng ^= r->rng << 5;
	while (n < OOO_LEVELS && (r->rng >> (n - 1) & 1))
		n++;
	return n;
}

/* The first range that ends after SEQ, or NULL. */
static struct reasm_seg *seg_at(const struct reasm *r, uint32_t seq, struct reasm_seg **upd)
{
	struct reasm_seg *x = seg_before(r, seq, upd);

	if (x != r->ooo && SEQ_GT(x->seq + x->len, seq))
		return x;
	return x->next[0];
}

/* Makes [seq, seq+len) equal to the buffered bytes it overlaps; counts in GAPS and
 * GAP_BYTES what of it is not buffered yet. Returns REASM_REWRITTEN if a byte changed. */
static int ooo_check(const struct reasm *r, uint32_t seq, uint8_t *d, size_t len, size_t *gaps,
		     size_t *gap_bytes)
{
	struct reasm_seg *upd[OOO_LEVELS], *s;
	uint32_t end = seq + (uint32_t)len, pos = seq;
	int flags = 0;

	*gaps = 0;
	*gap_bytes = 0;
	s = r->ooo ? seg_at(r, seq, upd) : NULL;
	for (; s && SEQ_LT(s->seq, end); s = s->next[0]) {
		uint32_t send = s->seq + s->len, lo = SEQ_GT(s->seq, seq) ? s->seq : seq;
		uint32_t hi = SEQ_LT(send, end) ? send : end;

		if (SEQ_GT(lo, pos)) {
			(*gaps)++;
			*gap_bytes += lo - pos;
		}
		if (memcmp(s->data + (lo - s->seq), d + (lo - seq), hi - lo)) {
			memcpy(d + (lo - seq), s->data + (lo - s->seq), hi - lo);
			flags = REASM_REWRITTEN;
		}
		pos = hi;
	}
	if (SEQ_LT(pos, end)) {
		(*gaps)++;
		*gap_bytes += end - pos;
	}
	return flags;
}

static int seg_link(struct reasm *r, uint32_t seq, const uint8_t *d, size_t len,
		    struct reasm_seg **upd)
{
	unsigned int lv = seg_levels(r), l;
	struct reasm_seg *s = malloc(sizeof(*s) + lv * sizeof(s->next[0]) + len);

	if (!s)
		return -1;
	s->seq = seq;
	s->len = (uint32_t)len;
	s->levels = lv;
	s->data = (uint8_t *)&s->next[lv];
	memcpy(s->data, d, len);
	for (l = 0; l < lv; l++) {
		s->next[l] = upd[l]->next[l];
		upd[l]->next[l] = s;
	}
	return 0;
}

/* Buffers the parts of [seq, seq+len) not buffered yet (GAPS ranges, BYTES bytes, from
 * ooo_check); -1 past the flow's bounds, -2 past the total. */
static int ooo_insert(struct reasm *r, const struct reasm_limits *lim, uint32_t seq,
		      const uint8_t *d, size_t len, size_t gaps, size_t bytes)
{
	struct reasm_seg *upd[OOO_LEVELS], *s;
	uint32_t pos = seq, end = seq + (uint32_t)len;

	if ((lim->ooo_segs && r->ooo_count + gaps > lim->ooo_segs) ||
	    r->ooo_bytes + bytes > lim->ooo_cap)
		return -1;
	if (*lim->total + bytes > lim->total_cap)
		return -2;
	if (!r->ooo) {
		r->ooo = calloc(1, sizeof(*r->ooo) + OOO_LEVELS * sizeof(r->ooo->next[0]));
		if (!r->ooo)
			return -1;
		r->ooo->levels = OOO_LEVELS;
	}
	while (SEQ_LT(pos, end)) {
		uint32_t stop = end;

		s = seg_at(r, pos, upd);
		if (s && SEQ_LEQ(s->seq, pos)) {
			pos = s->seq + s->len; /* buffered already */
			continue;
		}
		if (s && SEQ_LT(s->seq, end))
			stop = s->seq;
		if (seg_link(r, pos, d + (pos - seq), stop - pos, upd)) {
			/* what was linked stays: it is equal to the segment */
			if (!r->ooo->next[0]) {
				free(r->ooo);
				r->ooo = NULL;
			}
			return -1;
		}
		r->ooo_count++;
		r->ooo_bytes += stop - pos;
		*lim->total += stop - pos;
		pos = stop;
	}
	return 0;
}

/* the first range, taken out of the list */
static struct reasm_seg *seg_pop(struct reasm *r)
{
	struct reasm_seg *s = r->ooo->next[0];
	unsigned int l;

	for (l = 0; l < s->levels; l++)
		r->ooo->next[l] = s->next[l];
	r->ooo_count--;
	r->ooo_bytes -= s->len;
	return s;
}

/* A FIN waiting out of order takes effect when the stream reaches it, and is dropped
 * when data passes over its place. */
static int fin_reached(struct reasm *r)
{
	if (r->fin != FIN_PENDING)
		return 0;
	if (SEQ_GT(r->next, r->fin_seq)) {
		r->fin = FIN_NONE;
		return 0;
	}
	if (r->next != r->fin_seq)
		return 0;
	r->fin = FIN_SEEN;
	return REASM_FIN;
}

static void deliver(struct reasm *r, const uint8_t *d, size_t len, reasm_deliver_fn fn, void *arg)
{
	keep_append(r, d, len);
	r->next += (uint32_t)len;
	fn(arg, d, len);
}

/* Delivers the buffered ranges that have become contiguous, up to a FIN. */
static int ooo_drain(struct reasm *r, const struct reasm_limits *lim, reasm_deliver_fn fn,
		     void *arg)
{
	struct reasm_seg *s;
	int flags = fin_reached(r);

	while (!flags && r->ooo && (s = r->ooo->next[0]) && SEQ_LEQ(s->seq, r->next)) {
		uint32_t send = s->seq + s->len;

		seg_pop(r);
		*lim->total -= s->len;
		if (SEQ_GT(send, r->next)) {
			size_t skip = r->next - s->seq;

			deliver(r, s->data + skip, s->len - skip, fn, arg);
		}
		free(s);
		flags = fin_reached(r);
	}
	if (r->ooo && !r->ooo->next[0]) {
		free(r->ooo);
		r->ooo = NULL;
	}
	return flags;
}

/* A segment that could not be kept: past the total shared by all flows (E -2), which
 * other flows may hold, or past the flow's own bound (OWN). */
static int refused(int e, int own)
{
	return REASM_OVERFLOW | (e == -2 ? REASM_TOTAL_FULL : own);
}

int reasm_add(struct reasm *r, const struct reasm_limits *lim, uint32_t seq, uint8_t *d, size_t len,
	      reasm_deliver_fn fn, void *arg)
{
	int flags = 0, e;
	size_t gaps, gap_bytes;
	uint32_t end = seq + (uint32_t)len;

	if (len == 0)
		return 0;
	/* no sender has data after its FIN: whether the receiver took the FIN or not, it
	 * would read nothing or something else than a scanner that believed the FIN */
	if ((r->fin == FIN_DONE || r->fin == FIN_SEEN) && SEQ_GT(end, r->fin_seq))
		return REASM_AFTER_FIN;
	/* tcp_data_queue: a segment starting at or past the window's edge is dropped */
	if (r->edge_known && SEQ_GEQ(seq, r->edge) && SEQ_GEQ(seq, r->next))
		return REASM_WINDOW;
	if (SEQ_LT(seq, r->next)) {
		size_t old = r->next - seq;

		if (old > OLD_HORIZON)
			return REASM_RETRANS | REASM_UNVERIFIED;
		if (old > len)
			old = len;
		flags = keep_check(r, seq, d, old);
		if (old == len)
			return flags;
		seq += (uint32_t)old;
		d += old;
		len -= old;
	}
	/* from here on [seq, end) is new to the receiver's stream */
	if (seq != r->next && (size_t)(seq - r->next) + len > lim->ooo_cap)
		return REASM_OVERFLOW | REASM_OOO_FULL;
	flags |= ooo_check(r, seq, d, len, &gaps, &gap_bytes);
	if (seq != r->next) {
		if (!gaps)
			return flags | REASM_RETRANS;
		if ((e = keep_room(r, lim, end)))
			return refused(e, 0);
		if ((e = ooo_insert(r, lim, seq, d, len, gaps, gap_bytes)))
			return refused(e, REASM_OOO_FULL);
		return flags | REASM_QUEUED;
	}
	if ((e = keep_room(r, lim, end)))
		return refused(e, 0);
	deliver(r, d, len, fn, arg);
	return flags | REASM_DATA | ooo_drain(r, lim, fn, arg);
}

int reasm_fin(struct reasm *r, const struct reasm_limits *lim, uint32_t pos)
{
	(void)lim;
	if (r->fin == FIN_DONE || r->fin == FIN_SEEN || SEQ_LT(pos, r->next))
		return 0;
	if (r->fin == FIN_NONE || SEQ_LT(pos, r->fin_seq)) {
		r->fin = FIN_PENDING;
		r->fin_seq = pos;
	}
	return fin_reached(r);
}

void reasm_ack(struct reasm *r, const struct reasm_limits *lim, uint32_t ack)
{
	if (r->fin == FIN_SEEN && ack == r->fin_seq + 1) {
		/* the receiver has the FIN: the stream has ended, and what was buffered
		 * beyond it is gone (tcp_fin purges the queue) */
		r->fin = FIN_DONE;
		ooo_purge(r, lim);
	}
	if (SEQ_LEQ(ack, r->acked) || SEQ_GT(ack, reasm_rcv_nxt(r)))
		return;
	if (SEQ_GT(ack, r->next))
		ack = r->next; /* the FIN's sequence number */
	r->acked = ack;
	if (SEQ_GT(ack, r->keep_seq))
		keep_drop(r, ack - r->keep_seq);
	/* a dialogue between commands keeps nothing: small rings go back at once (a
	 * bulk transfer's large one waits for reasm_trim, so it is not regrown) */
	if (!r->keep_len && r->keep_size <= KEEP_IDLE && !r->ooo)
		keep_release(r, lim);
}

void reasm_trim(struct reasm *r, const struct reasm_limits *lim)
{
	if (!r->keep_len && !r->ooo)
		keep_release(r, lim);
}

size_t reasm_mem(const struct reasm *r)
{
	return r->keep_size + r->ooo_bytes;
}

void reasm_window(struct reasm *r, uint32_t edge)
{
	if (!r->edge_known || SEQ_GT(edge, r->edge)) {
		r->edge = edge;
		r->edge_known = 1;
	}
}

int reasm_paws_reject(const struct reasm *r, uint32_t tsval)
{
	return r->ts_on && (int32_t)(r->ts_recent - tsval) > PAWS_WINDOW;
}

void reasm_ts_update(struct reasm *r, uint32_t seq, uint32_t tsval)
{
	/* tcp_replace_ts_recent: only from segments at or before what was received */
	if (r->ts_on && SEQ_LEQ(seq, r->next) && (int32_t)(tsval - r->ts_recent) >= 0)
		r->ts_recent = tsval;
}

uint32_t reasm_rcv_nxt(const struct reasm *r)
{
	return r->next + (r->fin == FIN_DONE ? 1 : 0);
}
