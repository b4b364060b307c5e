/* Scan throughput of the scanner pool on real libclamav. Every message is unique
 * (libclamav caches clean results: a repeated message measures the cache).
 * Usage: scanbench DBDIR SIZE COUNT WORKERS [test]
 * Prints: size, count, workers, seconds, MB/s, messages/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "scan.h"

/* a MIME message: a text part and a base64 attachment of pseudo-random bytes */
static uint8_t *make_message(size_t size, unsigned int seed, size_t *len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t *m = malloc(size + 1024);
	size_t n, col = 0;
	uint32_t x = seed * 2654435761u + 1;

	n = (size_t)sprintf(
		(char *)m,
		"From: a@example.org\r\nTo: b@example.org\r\nSubject: bench %u\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
		"--B\r\nContent-Type: text/plain\r\n\r\nmessage %u, see attached.\r\n"
		"--B\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n",
		seed, seed);
	while (n < size) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		m[n++] = (uint8_t)b64[x & 63];
		if (++col == 76) {
			m[n++] = '\r';
			m[n++] = '\n';
			col = 0;
		}
	}
	n += (size_t)sprintf((char *)m + n, "\r\n--B--\r\n");
	*len = n;
	return m;
}

int main(int argc, char **argv)
{
	struct config c;
	struct stats st = { 0 };
	struct scan_sink sink;
	struct scanner *s;
	char err[512], tmp[] = "/tmp/mailscan-bench.XXXXXX";
	size_t size, total = 0;
	unsigned int count, i, done = 0;
	uint64_t t0, us;

	if (argc < 5) {
		fprintf(stderr, "usage: scanbench DBDIR SIZE COUNT WORKERS [test]\n");
		return 2;
	}
	size = strtoull(argv[2], NULL, 0);
	count = (unsigned int)atoi(argv[3]);
	config_defaults(&c);
	snprintf(c.database, sizeof(c.database), "%s", argv[1]);
	c.test_signatures = argc > 5;
	c.workers = (unsigned int)atoi(argv[4]);
	if (!mkdtemp(tmp))
		return 2;
	snprintf(c.tmpdir, sizeof(c.tmpdir), "%s/tmp", tmp);
	snprintf(c.quarantine, sizeof(c.quarantine), "%s/q", tmp);
	s = scanner_new(&c, &st, err, sizeof(err));
	if (!s || scanner_start(s) || scan_sink_init(&sink)) {
		fprintf(stderr, "scanbench: %s\n", err);
		return 2;
	}
	{
		struct scan_job **jobs = calloc(count, sizeof(*jobs));

		for (i = 0; i < count; i++) {
			size_t len;
			uint8_t *m = make_message(size, i + 1, &len);

			jobs[i] = scan_job_new(m, len);
			total += len;
			free(m);
		}
		t0 = now_us();
		for (i = 0; i < count; i++)
			scanner_submit(s, jobs[i], &sink);
		free(jobs);
	}
	while (done < count) {
		struct scan_job *j, *n;

		usleep(1000);
		for (j = scan_sink_take(&sink); j; j = n) {
			n = j->next;
			if (j->result != SCAN_CLEAN)
				fprintf(stderr, "scanbench: %s %s\n", scan_result_name(j->result),
					j->virus);
			scan_job_free(j);
			done++;
		}
	}
	us = now_us() - t0;
	printf("size=%zu count=%u workers=%u seconds=%.2f MB/s=%.1f msgs/s=%.1f\n", size, count,
	       c.workers, us / 1e6, total / (double)us, count / (us / 1e6));
	scanner_free(s);
	scan_sink_destroy(&sink);
	snprintf(err, sizeof(err), "rm -rf %s", tmp);
	return system(err) ? 2 : 0;
}
