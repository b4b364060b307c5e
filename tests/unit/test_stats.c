/* Counter output: sums, the text and JSON forms, and the Prometheus exposition (labelled
 * families, the scan time histogram, seconds, _total suffixes). */
#include <stdlib.h>

#include "stats.h"
#include "unit.h"

static char *render(const struct stats *s, enum stats_format fmt)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	stats_print(f, s, NULL, 0, fmt);
	fclose(f);
	return out;
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

static void test_sum(void)
{
	struct stats a = { 0 }, b = { 0 }, sum;
	const struct stats *in[] = { &a, &b };

	a.scans = 2;
	b.scans = 3;
	a.scan_time_us_max = 70;
	b.scan_time_us_max = 50;
	stats_sum(&sum, in, 2);
	CHECK_INT(sum.scans, 5);
	CHECK_INT(sum.scan_time_us_max, 70); /* maxima are not added */
}

static void test_formats(void)
{
	struct stats s = { 0 };
	char *t;

	s.flows_total = 6;
	s.packets_to_server = 11;
	s.packets_to_client = 12;
	s.smtp_messages_infected = 3;
	s.pop3_messages_clean = 4;
	s.scans = 5;
	s.scan_time_le_10ms = 1;
	s.scan_time_le_100ms = 3;
	s.scan_time_le_1s = 4;
	s.scan_time_le_10s = 5;
	s.scan_time_us_total = 2500000;
	s.hold_time_us_total = 1500;
	s.engine_age_s = 42;
	s.holds_current = 2;

	t = render(&s, STATS_TEXT);
	CHECK(has_line(t, "flows_total=6"));
	CHECK(has_line(t, "packets_to_server=11"));
	free(t);
	t = render(&s, STATS_JSON);
	CHECK(strstr(t, "\"flows_total\": 6") != NULL);
	free(t);

	t = render(&s, STATS_PROMETHEUS);
	CHECK(has_line(t, "# TYPE mailscan_flows_total counter"));
	CHECK(has_line(t, "mailscan_flows_total 6"));
	CHECK(has_line(t, "# TYPE mailscan_packets_total counter"));
	CHECK(has_line(t, "mailscan_packets_total{direction=\"to_server\"} 11"));
	CHECK(has_line(t, "mailscan_packets_total{direction=\"to_client\"} 12"));
	CHECK(has_line(t, "mailscan_messages_total{protocol=\"smtp\",result=\"infected\"} 3"));
	CHECK(has_line(t, "mailscan_messages_total{protocol=\"pop3\",result=\"clean\"} 4"));
	CHECK(has_line(t, "# TYPE mailscan_scan_duration_seconds histogram"));
	CHECK(has_line(t, "mailscan_scan_duration_seconds_bucket{le=\"0.01\"} 1"));
	CHECK(has_line(t, "mailscan_scan_duration_seconds_bucket{le=\"0.1\"} 3"));
	CHECK(has_line(t, "mailscan_scan_duration_seconds_bucket{le=\"10\"} 5"));
	CHECK(has_line(t, "mailscan_scan_duration_seconds_bucket{le=\"+Inf\"} 5"));
	CHECK(has_line(t, "mailscan_scan_duration_seconds_sum 2.500000"));
	CHECK(has_line(t, "mailscan_scan_duration_seconds_count 5"));
	CHECK(has_line(t, "mailscan_hold_time_seconds_total 0.001500"));
	CHECK(has_line(t, "# TYPE mailscan_engine_age_seconds gauge"));
	CHECK(has_line(t, "mailscan_engine_age_seconds 42"));
	CHECK(has_line(t, "mailscan_holds_current 2"));
	CHECK(has_line(t, "mailscan_scans_total 5"));
	/* a counter in a family or the histogram is not repeated on its own */
	CHECK(strstr(t, "mailscan_packets_to_server") == NULL);
	CHECK(strstr(t, "scan_time_le_") == NULL);
	CHECK(strstr(t, "_us_") == NULL);
	CHECK(strstr(t, "microseconds") == NULL);
	CHECK(has_line(t,
		       "# HELP mailscan_hold_time_seconds_total time packets spent held, seconds"));
	free(t);
}

int main(void)
{
	test_sum();
	test_formats();
	return unit_report("test_stats");
}
