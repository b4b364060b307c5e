/* Feeding a protocol parser a scripted dialogue, whole and in every small split: the
 * events it reports (logged as text) must be the same however the bytes arrive. */
#ifndef MAILSCAN_DIALOGUE_H
#define MAILSCAN_DIALOGUE_H

#include <stdint.h>
#include <string.h>

#include "unit.h"

struct step {
	int dir; /* the parser's direction value */
	const char *bytes;
};

struct dialogue_ops {
	void *(*new)(size_t max_msg);
	void (*free)(void *);
	void (*push)(void *, int dir, const uint8_t *, size_t);
	void (*log)(void *, char *log, size_t cap); /* appends the pending events */
};

/* feeds each step in pieces of CHUNK bytes (0: whole) to a new parser */
static inline void *dialogue_run(const struct dialogue_ops *ops, const struct step *st,
				 size_t chunk, char *log, size_t cap, size_t max_msg)
{
	void *p = ops->new (max_msg);

	log[0] = '\0';
	for (; st->bytes; st++) {
		const uint8_t *b = (const uint8_t *)st->bytes;
		size_t len = strlen(st->bytes), off = 0;

		while (off < len) {
			size_t n = chunk && chunk < len - off ? chunk : len - off;

			ops->push(p, st->dir, b + off, n);
			ops->log(p, log, cap);
			off += n;
		}
	}
	return p;
}

/* Checks WANT whole, byte by byte and in pieces of 2 to 8 bytes; returns the parser of
 * the whole run, for its counters. */
static inline void *dialogue_check(const struct dialogue_ops *ops, const char *name,
				   const struct step *st, const char *want, size_t max_msg)
{
	static char whole[16384], other[16384];
	void *p = dialogue_run(ops, st, 0, whole, sizeof(whole), max_msg), *q;
	size_t chunk;

	if (strcmp(whole, want))
		fprintf(stderr, "%s: whole\n", name);
	CHECK_STR(whole, want);
	for (chunk = 1; chunk < 9; chunk++) {
		q = dialogue_run(ops, st, chunk, other, sizeof(other), max_msg);
		if (strcmp(other, want)) {
			fprintf(stderr, "%s: pieces of %zu\n", name, chunk);
			CHECK_STR(other, want);
		}
		ops->free(q);
	}
	return p;
}

#endif
