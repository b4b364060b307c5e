/* Scan throughput of the scanner pool on real libclamav. Every message is unique
 * (libclamav caches clean results: a repeated message measures the cache).
 * Usage: scanbench DBDIR SIZE COUNT WORKERS [test]
 *        scanbench -f DBDIR WORKERS FILE...   (those messages, test signatures allowed)
 * Prints: size, count, workers, seconds, CPU seconds of the scans, MB/s, messages/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *m = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (m = malloc((size_t)n + 1)) && fread(m, 1, (size_t)n, f) != (size_t)n) {
		free(m);
		m = NULL;
	}
	*len = m ? (size_t)n : 0;
	fclose(f);
	return m;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	struct config c;
	struct stats st = { 0 };
	struct scan_sink sink;
	struct scanner *s;
	struct scan_job **jobs;
	char err[512], tmp[] = "/tmp/mailscan-bench.XXXXXX";
	size_t size = 0, total = 0;
	unsigned int count, i, done = 0;
	int files = argc > 1 && strcmp(argv[1], "-f") == 0;
	uint64_t t0, us;
	double cpu0;

	if (argc < 5) {
		fprintf(stderr, "usage: scanbench DBDIR SIZE COUNT WORKERS [test]\n"
				"       scanbench -f DBDIR WORKERS FILE...\n");
		return 2;
	}
	config_defaults(&c);
	snprintf(c.database, sizeof(c.database), "%s", argv[files ? 2 : 1]);
	if (files) {
		c.workers = (unsigned int)atoi(argv[3]);
		count = (unsigned int)(argc - 4);
		c.test_signatures = 1;
	} else {
		size = strtoull(argv[2], NULL, 0);
		count = (unsigned int)atoi(argv[3]);
		c.workers = (unsigned int)atoi(argv[4]);
		c.test_signatures = argc > 5;
	}
	if (!mkdtemp(tmp))
		return 2;
	snprintf(c.tmpdir, sizeof(c.tmpdir), "%s/tmp", tmp);
	snprintf(c.quarantine, sizeof(c.quarantine), "%s/q", tmp);
	s = scanner_new(&c, &st, err, sizeof(err));
	if (!s || scanner_start(s) || scan_sink_init(&sink)) {
		fprintf(stderr, "scanbench: %s\n", err);
		return 2;
	}
	jobs = calloc(count, sizeof(*jobs));
	for (i = 0; i < count; i++) {
		size_t len;
		uint8_t *m = files ? read_file(argv[4 + i], &len) : make_message(size, i + 1, &len);

		if (!m) {
			fprintf(stderr, "scanbench: %s: cannot read\n", argv[4 + i]);
			return 2;
		}
		jobs[i] = scan_job_new(m, len);
		total += len;
		free(m);
	}
	t0 = now_us();
	cpu0 = cpu_seconds();
	for (i = 0; i < count; i++)
		scanner_submit(s, jobs[i], &sink);
	free(jobs);
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
	printf("size=%zu count=%u workers=%u seconds=%.2f cpu=%.3f MB/s=%.1f msgs/s=%.1f\n",
	       files ? total / (count ? count : 1) : size, count, c.workers, us / 1e6,
	       cpu_seconds() - cpu0, total / (double)us, count / (us / 1e6));
	scanner_free(s);
	scan_sink_destroy(&sink);
	snprintf(err, sizeof(err), "rm -rf %s", tmp);
	return system(err) ? 2 : 0;
}
