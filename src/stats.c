/* Counter formatting: pure, libc only. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "stats.h"

struct stat_def {
	const char *name;
	char kind;
	const char *help;
	size_t off;
};

#define STATS_DEF(name, kind, help) { #name, #kind[0], help, offsetof(struct stats, name) },
static const struct stat_def defs[] = { STATS_TABLE(STATS_DEF) };
#undef STATS_DEF
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static uint64_t get(const struct stats *s, size_t i)
{
	return __atomic_load_n((const uint64_t *)(const void *)((const char *)s + defs[i].off),
			       __ATOMIC_RELAXED);
}

void stats_sum(struct stats *out, const struct stats *const *in, unsigned int n)
{
	unsigned int t;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (t = 0; t < n; t++) {
		for (i = 0; i < NDEFS; i++) {
			uint64_t *o = (uint64_t *)(void *)((char *)out + defs[i].off);
			uint64_t v = get(in[t], i);

			if (strstr(defs[i].name, "_max"))
				*o = v > *o ? v : *o;
			else
				*o += v;
		}
	}
}

void stats_print(FILE *f, const struct stats *s, enum stats_format fmt)
{
	size_t i;

	if (fmt == STATS_JSON)
		fputc('{', f);
	for (i = 0; i < NDEFS; i++) {
		uint64_t v = get(s, i);

		switch (fmt) {
		case STATS_TEXT:
			fprintf(f, "%s=%" PRIu64 "\n", defs[i].name, v);
			break;
		case STATS_JSON:
			fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", defs[i].name, v);
			break;
		case STATS_PROMETHEUS:
			fprintf(f,
				"# HELP mailscan_%s %s\n# TYPE mailscan_%s %s\nmailscan_%s %" PRIu64
				"\n",
				defs[i].name, defs[i].help, defs[i].name,
				defs[i].kind == 'C' ? "counter" : "gauge", defs[i].name, v);
			break;
		}
	}
	if (fmt == STATS_JSON)
		fputs("}\n", f);
}
