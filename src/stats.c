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

static size_t def_index(const char *name)
{
	size_t i;

	for (i = 0; i < NDEFS; i++) {
		if (!strcmp(defs[i].name, name))
			return i;
	}
	return NDEFS;
}

/* Prometheus: counters that differ by protocol, direction or result are one metric
 * with labels; the scan times are a histogram; times are in seconds. */
static const struct family {
	const char *metric, *help;
	const char *members[8][2]; /* counter, its labels */
} families[] = {
	{ "packets_total",
	  "queued packets",
	  { { "packets_to_server", "direction=\"to_server\"" },
	    { "packets_to_client", "direction=\"to_client\"" } } },
	{ "bytes_total",
	  "TCP payload bytes queued",
	  { { "bytes_to_server", "direction=\"to_server\"" },
	    { "bytes_to_client", "direction=\"to_client\"" } } },
	{ "stream_bytes_total",
	  "bytes reassembled in order (each byte once)",
	  { { "stream_bytes_to_server", "direction=\"to_server\"" },
	    { "stream_bytes_to_client", "direction=\"to_client\"" } } },
	{ "sessions_total",
	  "sessions followed",
	  { { "smtp_sessions", "protocol=\"smtp\"" }, { "pop3_sessions", "protocol=\"pop3\"" } } },
	{ "messages_total",
	  "messages by protocol and result (oversize: over max_message_size; error: scan failed "
	  "or hit a limit)",
	  { { "smtp_messages_clean", "protocol=\"smtp\",result=\"clean\"" },
	    { "smtp_messages_infected", "protocol=\"smtp\",result=\"infected\"" },
	    { "smtp_messages_oversize", "protocol=\"smtp\",result=\"oversize\"" },
	    { "smtp_messages_errors", "protocol=\"smtp\",result=\"error\"" },
	    { "pop3_messages_clean", "protocol=\"pop3\",result=\"clean\"" },
	    { "pop3_messages_infected", "protocol=\"pop3\",result=\"infected\"" },
	    { "pop3_messages_oversize", "protocol=\"pop3\",result=\"oversize\"" },
	    { "pop3_messages_errors", "protocol=\"pop3\",result=\"error\"" } } },
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

static const struct bucket {
	const char *stat, *le;
} buckets[] = {
	{ "scan_time_le_10ms", "0.01" },
	{ "scan_time_le_100ms", "0.1" },
	{ "scan_time_le_1s", "1" },
	{ "scan_time_le_10s", "10" },
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* "x_us_total" -> "x_seconds_total", "x_us_max" -> "x_seconds_max", "x_s" ->
 * "x_seconds"; DIV says what to divide the value by */
static void prom_name(const char *name, char *out, size_t len, double *div)
{
	const char *us = strstr(name, "_us_");
	size_t n = strlen(name);

	*div = 1;
	if (us) {
		snprintf(out, len, "%.*s_seconds%s", (int)(us - name), name, us + 3);
		*div = 1e6;
	} else if (n > 2 && !strcmp(name + n - 2, "_s")) {
		snprintf(out, len, "%.*s_seconds", (int)(n - 2), name);
	} else {
		snprintf(out, len, "%s", name);
	}
}

static void print_prometheus(FILE *f, const struct stats *s)
{
	unsigned char done[NDEFS] = { 0 };
	const char *mu;
	uint64_t count, scans = get(s, def_index("scans"));
	size_t i, j, k;
	char name[96];
	double div;

	for (i = 0; i < NFAMILIES; i++) {
		fprintf(f, "# HELP mailscan_%s %s\n# TYPE mailscan_%s counter\n",
			families[i].metric, families[i].help, families[i].metric);
		for (j = 0; j < 8 && families[i].members[j][0]; j++) {
			k = def_index(families[i].members[j][0]);
			done[k] = 1;
			fprintf(f, "mailscan_%s{%s} %" PRIu64 "\n", families[i].metric,
				families[i].members[j][1], get(s, k));
		}
	}
	fputs("# HELP mailscan_scan_duration_seconds time spent scanning a message\n"
	      "# TYPE mailscan_scan_duration_seconds histogram\n",
	      f);
	count = scans;
	for (i = 0; i < NBUCKETS; i++) {
		k = def_index(buckets[i].stat);
		done[k] = 1;
		/* read apart from scans: a scan counted since must not make a bucket exceed it */
		if (get(s, k) > count)
			count = get(s, k);
		fprintf(f, "mailscan_scan_duration_seconds_bucket{le=\"%s\"} %" PRIu64 "\n",
			buckets[i].le, get(s, k));
	}
	k = def_index("scan_time_us_total");
	done[k] = 1;
	fprintf(f,
		"mailscan_scan_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
		"mailscan_scan_duration_seconds_sum %.6f\n"
		"mailscan_scan_duration_seconds_count %" PRIu64 "\n",
		count, (double)get(s, k) / 1e6, count);
	for (i = 0; i < NDEFS; i++) {
		int counter = defs[i].kind == 'C';
		size_t n = strlen(defs[i].name);

		if (done[i])
			continue;
		prom_name(defs[i].name, name, sizeof(name), &div);
		if (counter && !(n > 6 && !strcmp(defs[i].name + n - 6, "_total")))
			strcat(name, "_total");
		/* a time in microseconds is shown in seconds */
		mu = div == 1 ? NULL : strstr(defs[i].help, "microseconds");
		fprintf(f, "# HELP mailscan_%s %.*s%s\n# TYPE mailscan_%s %s\n", name,
			(int)(mu ? (size_t)(mu - defs[i].help) : strlen(defs[i].help)),
			defs[i].help, mu ? "seconds" : "", name, counter ? "counter" : "gauge");
		if (div == 1)
			fprintf(f, "mailscan_%s %" PRIu64 "\n", name, get(s, i));
		else
			fprintf(f, "mailscan_%s %.6f\n", name, (double)get(s, i) / div);
	}
}

static const struct {
	const char *name, *help;
	size_t off;
} backend_counters[] = {
	{ "scans", "messages scanned", offsetof(struct backend_stats, scans) },
	{ "bytes", "message bytes sent", offsetof(struct backend_stats, bytes) },
	{ "errors", "scans it did not answer (failed over)",
	  offsetof(struct backend_stats, errors) },
	{ "timeouts", "of those, no answer in time", offsetof(struct backend_stats, timeouts) },
};

static uint64_t bget(const struct backend_stats *b, size_t off)
{
	return __atomic_load_n((const uint64_t *)(const void *)((const char *)b + off),
			       __ATOMIC_RELAXED);
}

static void print_backends_prometheus(FILE *f, const struct backend_report *b, size_t n)
{
	static const struct {
		const char *le;
		size_t off;
	} le[] = {
		{ "0.01", offsetof(struct backend_stats, le_10ms) },
		{ "0.1", offsetof(struct backend_stats, le_100ms) },
		{ "1", offsetof(struct backend_stats, le_1s) },
		{ "10", offsetof(struct backend_stats, le_10s) },
	};
	size_t i, k;

	if (!n)
		return;
	for (k = 0; k < sizeof(backend_counters) / sizeof(backend_counters[0]); k++) {
		fprintf(f,
			"# HELP mailscan_backend_%s_total %s\n# TYPE mailscan_backend_%s_total "
			"counter\n",
			backend_counters[k].name, backend_counters[k].help,
			backend_counters[k].name);
		for (i = 0; i < n; i++)
			fprintf(f,
				"mailscan_backend_%s_total{backend=\"%s\",kind=\"%s\"} %" PRIu64
				"\n",
				backend_counters[k].name, b[i].name, b[i].kind,
				bget(&b[i].st, backend_counters[k].off));
	}
	fputs("# HELP mailscan_backend_up 1 while the scanner answers its health checks\n"
	      "# TYPE mailscan_backend_up gauge\n",
	      f);
	for (i = 0; i < n; i++)
		fprintf(f, "mailscan_backend_up{backend=\"%s\",kind=\"%s\"} %d\n", b[i].name,
			b[i].kind, b[i].up);
	fputs("# HELP mailscan_backend_outstanding scans sent or queued to the scanner\n"
	      "# TYPE mailscan_backend_outstanding gauge\n",
	      f);
	for (i = 0; i < n; i++)
		fprintf(f, "mailscan_backend_outstanding{backend=\"%s\",kind=\"%s\"} %u\n",
			b[i].name, b[i].kind, b[i].outstanding);
	fputs("# HELP mailscan_backend_duration_seconds time a scan took on the scanner\n"
	      "# TYPE mailscan_backend_duration_seconds histogram\n",
	      f);
	for (i = 0; i < n; i++) {
		uint64_t count = bget(&b[i].st, offsetof(struct backend_stats, scans));

		for (k = 0; k < sizeof(le) / sizeof(le[0]); k++) {
			uint64_t v = bget(&b[i].st, le[k].off);

			if (v > count)
				count = v;
			fprintf(f,
				"mailscan_backend_duration_seconds_bucket{backend=\"%s\",le=\"%s\"}"
				" %" PRIu64 "\n",
				b[i].name, le[k].le, v);
		}
		fprintf(f,
			"mailscan_backend_duration_seconds_bucket{backend=\"%s\",le=\"+Inf\"} "
			"%" PRIu64 "\n"
			"mailscan_backend_duration_seconds_sum{backend=\"%s\"} %.6f\n"
			"mailscan_backend_duration_seconds_count{backend=\"%s\"} %" PRIu64 "\n",
			b[i].name, count, b[i].name,
			(double)bget(&b[i].st, offsetof(struct backend_stats, time_us_total)) / 1e6,
			b[i].name, count);
	}
}

static void print_backend(FILE *f, const struct backend_report *b, int json)
{
	size_t k;

	if (json)
		fprintf(f,
			"{\"name\": \"%s\", \"kind\": \"%s\", \"state\": \"%s\", \"max\": %u, "
			"\"outstanding\": %u",
			b->name, b->kind, b->up ? "up" : "down", b->max, b->outstanding);
	else
		fprintf(f, "backend=%s kind=%s state=%s max=%u outstanding=%u", b->name, b->kind,
			b->up ? "up" : "down", b->max, b->outstanding);
	for (k = 0; k < sizeof(backend_counters) / sizeof(backend_counters[0]); k++)
		fprintf(f, json ? ", \"%s\": %" PRIu64 : " %s=%" PRIu64, backend_counters[k].name,
			bget(&b->st, backend_counters[k].off));
	fprintf(f, json ? ", \"time_us_total\": %" PRIu64 "}" : " time_us_total=%" PRIu64 "\n",
		bget(&b->st, offsetof(struct backend_stats, time_us_total)));
}

void stats_print(FILE *f, const struct stats *s, const struct backend_report *b, size_t nb,
		 enum stats_format fmt)
{
	size_t i;

	if (fmt == STATS_PROMETHEUS) {
		print_prometheus(f, s);
		print_backends_prometheus(f, b, nb);
		return;
	}
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
		default:
			break;
		}
	}
	if (fmt == STATS_JSON)
		fputs(", \"backends\": [", f);
	for (i = 0; i < nb; i++) {
		if (fmt == STATS_JSON && i)
			fputs(", ", f);
		print_backend(f, &b[i], fmt == STATS_JSON);
	}
	if (fmt == STATS_JSON)
		fputs("]}\n", f);
}
