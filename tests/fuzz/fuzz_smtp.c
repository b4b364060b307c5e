/* Fuzz target: the SMTP parser. The first byte of each record picks the direction and
 * the next its length, so one input is a whole dialogue in arbitrary pieces. */
#include <stddef.h>
#include <stdint.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_budget budget = { .cap = 1 << 16 };
	struct smtp *p = smtp_new(4096, &budget, 256);
	struct smtp_event e;

	while (size >= 2) {
		enum smtp_dir dir = data[0] & 1 ? SMTP_SERVER : SMTP_CLIENT;
		size_t n = data[1] < size - 2 ? data[1] : size - 2;

		smtp_push(p, dir, data + 2, n);
		while (smtp_next(p, &e))
			if (e.type == SMTP_EV_MESSAGE && e.len && e.msg[0] == 0xff)
				(void)e.msg[e.len - 1]; /* the event's bytes are readable */
		data += 2 + n;
		size -= 2 + n;
	}
	smtp_free(p);
	return 0;
}
