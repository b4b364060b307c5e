/* The quarantine: each infected message with a record of its connection and virus; the
 * oldest files go first past quarantine_max. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "scan.h"

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest files (names start with the time) until the directory fits. */
static void trim(const struct config *c, struct stats *st)
{
	const char *dir = c->quarantine;
	char **names = NULL, path[PATH_MAX + 300];
	size_t n = 0, cap = 0, i;
	uint64_t total = 0;
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue;
		total += (uint64_t)sb.st_size;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn)
				break;
			names = nn;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && total > c->quarantine_max; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &sb) == 0 && unlink(path) == 0) {
			total -= (uint64_t)sb.st_size;
			STATS_ADD(st, quarantine_removed, 1);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

void quarantine_write(const struct config *c, struct stats *st, uint64_t *qseq, struct scan_job *j)
{
	char base[PATH_MAX + 64], path[PATH_MAX + 80], stamp[32], *meta = NULL;
	time_t now = time(NULL);
	struct tm tm;
	uint64_t seq = __atomic_add_fetch(qseq, 1, __ATOMIC_RELAXED);
	int len;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(base, sizeof(base), "%s/%s-%d-%06llu", c->quarantine, stamp, (int)getpid(),
		 (unsigned long long)seq);

	len = asprintf(&meta, "time=%s\nvirus=%s\naction=%s\nsize=%zu\n%s\n", stamp, j->virus,
		       j->action ? j->action : "-", j->len, j->meta);
	snprintf(path, sizeof(path), "%s.eml", base);
	if (len < 0 || write_file(path, j->msg, j->len)) {
		STATS_ADD(st, quarantine_errors, 1);
		log_warn("quarantine %s", path);
		free(meta);
		return;
	}
	snprintf(path, sizeof(path), "%s.meta", base);
	if (write_file(path, meta, (size_t)len))
		log_warn("quarantine %s", path);
	free(meta);
	snprintf(j->qid, sizeof(j->qid), "%s-%d-%06llu", stamp, (int)getpid(),
		 (unsigned long long)seq);
	STATS_ADD(st, quarantined, 1);
	trim(c, st);
}
