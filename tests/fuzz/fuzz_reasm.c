/* Fuzz target: reassembly against a model of the receiver. Each record is a segment (a
 * 14-bit offset from the initial sequence number, a flags byte, a length byte, the
 * bytes), an acknowledgement (the model's own, as a real receiver sends it) or a window
 * edge. Every segment reasm does not refuse is passed, as reasm left it (rewritten), to a
 * small model of Linux's receive queue (tcp_data_queue, tcp_data_queue_ofo: old bytes
 * dropped, an out-of-order copy covered by one already queued dropped, one that covers
 * queued copies from their start replaces them, partial overlaps kept and trimmed in
 * order). Whatever the order and the overlaps, the stream the model's application reads
 * must be a prefix of the stream reasm delivered for scanning, and the accounting must
 * end at 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPACE (1 << 15)

struct sink {
	uint8_t stream[SPACE];
	size_t len;
};

struct model_seg {
	uint32_t off, len;
	uint8_t data[256];
};

struct model {
	uint8_t stream[SPACE];
	uint32_t len; /* rcv_nxt, as an offset */
	struct model_seg ofo[64];
	unsigned int n; /* sorted by off */
};

static void deliver(void *arg, const uint8_t *d, size_t len)
{
	struct sink *s = arg;

	if (s->len + len > sizeof(s->stream))
		abort();
	memcpy(s->stream + s->len, d, len);
	s->len += len;
}

static void model_append(struct model *m, uint32_t off, const uint8_t *d, uint32_t len)
{
	uint32_t skip = m->len - off;

	memcpy(m->stream + m->len, d + skip, len - skip);
	m->len = off + len;
}

static void model_drain(struct model *m)
{
	unsigned int i = 0, j;

	while (i < m->n && m->ofo[i].off <= m->len) {
		if (m->ofo[i].off + m->ofo[i].len > m->len)
			model_append(m, m->ofo[i].off, m->ofo[i].data, m->ofo[i].len);
		i++;
	}
	for (j = 0; i + j < m->n; j++)
		m->ofo[j] = m->ofo[i + j];
	m->n = j;
}

static void model_add(struct model *m, uint32_t off, const uint8_t *d, uint32_t len)
{
	uint32_t end = off + len;
	unsigned int i, j, at;

	if (!len || end <= m->len)
		return; /* old: the receiver has it */
	if (off <= m->len) {
		model_append(m, off, d, len);
		model_drain(m);
		return;
	}
	for (i = 0; i < m->n; i++) {
		if (m->ofo[i].off <= off && m->ofo[i].off + m->ofo[i].len >= end)
			return; /* all the bits are present */
	}
	/* copies it covers from their start on are replaced */
	for (i = j = 0; i < m->n; i++) {
		if (!(m->ofo[i].off >= off && m->ofo[i].off + m->ofo[i].len <= end))
			m->ofo[j++] = m->ofo[i];
	}
	m->n = j;
	if (m->n == sizeof(m->ofo) / sizeof(m->ofo[0]))
		return; /* the receiver's queue is full: dropped */
	for (at = 0; at < m->n && m->ofo[at].off <= off; at++)
		;
	memmove(&m->ofo[at + 1], &m->ofo[at], (m->n - at) * sizeof(m->ofo[0]));
	m->ofo[at].off = off;
	m->ofo[at].len = len;
	memcpy(m->ofo[at].data, d, len);
	m->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sink s;
	static struct model m;
	size_t total = 0;
	struct reasm_limits lim = { 2048, 4096, 16384, &total, 64 };
	struct reasm r;
	uint32_t isn = 0xfffff000u;

	s.len = 0;
	m.len = 0;
	m.n = 0;
	reasm_init(&r, isn);
	while (size >= 5) {
		uint32_t off = (uint32_t)(data[0] << 8 | data[1]) & 0x3fff;
		size_t n = data[4] < size - 5 ? data[4] : size - 5;

		if (data[2] & 1) {
			reasm_ack(&r, &lim, isn + m.len);
		} else if (data[2] & 2) {
			reasm_window(&r, isn + off);
		} else {
			uint8_t seg[256];
			int res;

			memcpy(seg, data + 5, n);
			res = reasm_add(&r, &lim, isn + off, seg, n, deliver, &s);
			if (!(res & (REASM_OVERFLOW | REASM_WINDOW | REASM_AFTER_FIN)))
				model_add(&m, off, seg, (uint32_t)n);
		}
		if (r.next != isn + (uint32_t)s.len)
			abort(); /* delivery and the sequence number disagree */
		if (m.len > s.len || memcmp(m.stream, s.stream, m.len))
			abort(); /* the receiver reads bytes that were not scanned */
		data += 5 + n;
		size -= 5 + n;
	}
	reasm_free(&r, &lim);
	if (total)
		abort(); /* accounting leaked */
	return 0;
}
