/* Fuzz target: the POP3 parser, records as in fuzz_smtp.c. */
#include <stddef.h>
#include <stdint.h>

#include "pop3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_budget budget = { .cap = 1 << 16 };
	struct pop3 *p = pop3_new(4096, &budget, 256);
	struct pop3_event e;

	while (size >= 2) {
		enum pop3_dir dir = data[0] & 1 ? POP3_SERVER : POP3_CLIENT;
		size_t n = data[1] < size - 2 ? data[1] : size - 2;

		pop3_push(p, dir, data + 2, n);
		while (pop3_next(p, &e))
			if (e.type == POP3_EV_MESSAGE && e.len && e.msg[0] == 0xff)
				(void)e.msg[e.len - 1];
		data += 2 + n;
		size -= 2 + n;
	}
	pop3_close(p); /* the server's FIN: a body being read is a candidate */
	while (pop3_next(p, &e))
		if (e.type == POP3_EV_MESSAGE && e.len)
			(void)e.msg[e.len - 1];
	pop3_free(p);
	return 0;
}
