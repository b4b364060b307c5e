/* Per-direction TCP reassembly: pure, libc only. */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "reasm.h"

#define KEEP_MIN    4096
#define OLD_HORIZON (1u << 30) /* further back than this: not a retransmission */

struct reasm_seg {
	struct reasm_seg *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

void reasm_init(struct reasm *r, uint32_t next)
{
	memset(r, 0, sizeof(*r));
	r->next = next;
	r->acked = next;
	r->keep_seq = next;
	r->started = 1;
}

void reasm_free(struct reasm *r, const struct reasm_limits *lim)
{
	struct reasm_seg *s, *n;

	for (s = r->ooo; s; s = n) {
		n = s->next;
		free(s);
	}
	*lim->total -= r->ooo_bytes + r->keep_size;
	free(r->keep);
	r->ooo = NULL;
	r->ooo_bytes = 0;
	r->keep = NULL;
	r->keep_size = r->keep_len = 0;
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

static int keep_grow(struct reasm *r, const struct reasm_limits *lim, size_t want)
{
	size_t size = r->keep_size ? r->keep_size : KEEP_MIN, first;
	uint8_t *nb;

	while (size < want)
		size *= 2;
	if (size > lim->keep_cap)
		size = lim->keep_cap;
	if (size <= r->keep_size || *lim->total + size - r->keep_size > lim->total_cap)
		return -1;
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

static void keep_append(struct reasm *r, const struct reasm_limits *lim, const uint8_t *d,
			size_t len)
{
	size_t tail, first;

	if (r->keep_len + len > r->keep_size)
		keep_grow(r, lim, r->keep_len + len);
	if (len > r->keep_size) {
		/* larger than the ring: keep its newest bytes */
		keep_drop(r, r->keep_len);
		r->keep_seq += (uint32_t)(len - r->keep_size);
		d += len - r->keep_size;
		len = r->keep_size;
	}
	if (r->keep_len + len > r->keep_size)
		keep_drop(r, r->keep_len + len - r->keep_size);
	if (!len)
		return;
	tail = (r->keep_head + r->keep_len) % r->keep_size;
	first = r->keep_size - tail;
	if (first > len)
		first = len;
	memcpy(r->keep + tail, d, first);
	memcpy(r->keep, d + first, len - first);
	r->keep_len += len;
}

/* Compares old bytes [seq, seq+len), all before r->next, with what was delivered.
 * Bytes the receiver acknowledged are ignored by it and need no check. */
static int keep_check(const struct reasm *r, uint32_t seq, const uint8_t *d, size_t len)
{
	int flags = REASM_RETRANS;
	size_t off, i;

	if (SEQ_LT(seq, r->acked)) {
		size_t skip = r->acked - seq;

		if (skip >= len)
			return flags;
		seq += (uint32_t)skip;
		d += skip;
		len -= skip;
	}
	if (SEQ_LT(seq, r->keep_seq)) {
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
		if (r->keep[(r->keep_head + off + i) % r->keep_size] != d[i])
			return REASM_CONFLICT;
	}
	return flags;
}

/* --- out-of-order segments --- */

/* Compares [seq, seq+len) with every buffered segment it overlaps. Returns
 * REASM_CONFLICT on a difference, else whether it was already wholly buffered. */
static int ooo_check(const struct reasm *r, uint32_t seq, const uint8_t *d, size_t len,
		     int *covered)
{
	uint32_t end = seq + (uint32_t)len, cov = seq;
	const struct reasm_seg *s;

	for (s = r->ooo; s; s = s->next) {
		uint32_t send = s->seq + s->len, lo, hi;

		if (SEQ_GEQ(s->seq, end))
			break;
		if (SEQ_LEQ(send, seq))
			continue;
		lo = SEQ_GT(s->seq, seq) ? s->seq : seq;
		hi = SEQ_LT(send, end) ? send : end;
		if (memcmp(s->data + (lo - s->seq), d + (lo - seq), hi - lo))
			return REASM_CONFLICT;
		if (SEQ_LEQ(s->seq, cov) && SEQ_GT(send, cov))
			cov = send;
	}
	*covered = SEQ_GEQ(cov, end);
	return 0;
}

static int ooo_insert(struct reasm *r, const struct reasm_limits *lim, uint32_t seq,
		      const uint8_t *d, size_t len)
{
	struct reasm_seg *s, **pp;

	if (r->ooo_bytes + len > lim->ooo_cap || *lim->total + len > lim->total_cap)
		return -1;
	s = malloc(sizeof(*s) + len);
	if (!s)
		return -1;
	s->seq = seq;
	s->len = (uint32_t)len;
	memcpy(s->data, d, len);
	for (pp = &r->ooo; *pp && SEQ_LEQ((*pp)->seq, seq); pp = &(*pp)->next)
		;
	s->next = *pp;
	*pp = s;
	r->ooo_bytes += len;
	*lim->total += len;
	return 0;
}

static void deliver(struct reasm *r, const struct reasm_limits *lim, const uint8_t *d, size_t len,
		    reasm_deliver_fn fn, void *arg)
{
	keep_append(r, lim, d, len);
	r->next += (uint32_t)len;
	fn(arg, d, len);
}

/* Delivers the buffered segments that have become contiguous. */
static void ooo_drain(struct reasm *r, const struct reasm_limits *lim, reasm_deliver_fn fn,
		      void *arg)
{
	struct reasm_seg *s;

	while ((s = r->ooo) && SEQ_LEQ(s->seq, r->next)) {
		uint32_t send = s->seq + s->len;

		if (SEQ_GT(send, r->next)) {
			size_t skip = r->next - s->seq;

			deliver(r, lim, s->data + skip, s->len - skip, fn, arg);
		}
		r->ooo = s->next;
		r->ooo_bytes -= s->len;
		*lim->total -= s->len;
		free(s);
	}
}

int reasm_add(struct reasm *r, const struct reasm_limits *lim, uint32_t seq, const uint8_t *d,
	      size_t len, reasm_deliver_fn fn, void *arg)
{
	int flags = 0, covered = 0;

	if (len == 0)
		return 0;
	if (SEQ_LT(seq, r->next)) {
		size_t old = r->next - seq;

		if (old > OLD_HORIZON)
			return REASM_RETRANS | REASM_UNVERIFIED;
		if (old > len)
			old = len;
		flags = keep_check(r, seq, d, old);
		if (flags & REASM_CONFLICT)
			return REASM_CONFLICT;
		if (old == len)
			return flags;
		seq += (uint32_t)old;
		d += old;
		len -= old;
	}
	/* from here on [seq, seq+len) is new to the receiver's stream */
	if (ooo_check(r, seq, d, len, &covered))
		return REASM_CONFLICT;
	if (seq != r->next) {
		if ((size_t)(seq - r->next) + len > lim->ooo_cap)
			return REASM_OVERFLOW;
		if (covered)
			return flags | REASM_RETRANS;
		if (ooo_insert(r, lim, seq, d, len))
			return REASM_OVERFLOW;
		return flags | REASM_QUEUED;
	}
	deliver(r, lim, d, len, fn, arg);
	ooo_drain(r, lim, fn, arg);
	return flags | REASM_DATA;
}

void reasm_ack(struct reasm *r, const struct reasm_limits *lim, uint32_t ack)
{
	(void)lim;
	if (SEQ_LEQ(ack, r->acked) || SEQ_GT(ack, r->next))
		return;
	r->acked = ack;
	if (SEQ_GT(ack, r->keep_seq))
		keep_drop(r, ack - r->keep_seq);
}
