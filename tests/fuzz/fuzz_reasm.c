/* Fuzz target: reassembly. Each record is a segment (4-byte offset from the initial
 * sequence number, a length byte, the bytes) or an ack; whatever the order, what is
 * delivered must be a prefix of one consistent stream and the accounting must end at 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	uint8_t stream[1 << 16];
	size_t len;
};

static void deliver(void *arg, const uint8_t *d, size_t len)
{
	struct sink *s = arg;

	if (s->len + len > sizeof(s->stream))
		abort();
	memcpy(s->stream + s->len, d, len);
	s->len += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sink s;
	size_t total = 0;
	struct reasm_limits lim = { 2048, 4096, 8192, &total };
	struct reasm r;
	uint32_t isn = 0xfffff000u;

	s.len = 0;
	reasm_init(&r, isn);
	while (size >= 5) {
		uint32_t off = (uint32_t)(data[0] << 8 | data[1]) & 0x3fff;
		size_t n = data[4] < size - 5 ? data[4] : size - 5;

		if (data[2] & 1)
			reasm_ack(&r, &lim, isn + off);
		else
			reasm_add(&r, &lim, isn + off, data + 5, n, deliver, &s);
		if (r.next != isn + (uint32_t)s.len)
			abort(); /* delivery and the sequence number disagree */
		data += 5 + n;
		size -= 5 + n;
	}
	reasm_free(&r, &lim);
	if (total)
		abort(); /* accounting leaked */
	return 0;
}
