/* Scan throughput and memory of the scanner on real libclamav. Every message is unique
 * (libclamav caches clean results: a repeated message measures the cache).
 * Usage: scanbench [-i] DBDIR SIZE COUNT WORKERS [test]
 *        scanbench [-i] -f DBDIR WORKERS FILE...   (those messages, test signatures allowed)
 *        scanbench [-i] -m DBDIR WORKERS [test]    (memory)
 * Default: the scanner as mailscand runs it, a scan master and WORKERS sandboxed scanner
 * processes; -i: the engine in this process, scanned by WORKERS threads (the model the
 * processes replaced). SCANBENCH_MAX_SCANS=N in the environment: scanner_max_scans.
 * Prints: size, count, workers, seconds, CPU seconds of the scans (every process's),
 * MB/s, messages/s. With -m: the proportional set size (PSS, shared pages counted once)
 * of this process, the master and the scanners after a few scans, and the highest total
 * while the engine is reloaded. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

static double cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* user and system seconds of another process, with those of its children it has
 * waited for (a scan master's recycled scanners); its parent in *ppid */
static double cpu_of(int pid, int *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	long cut = 0, cst = 0;
	FILE *f;

	*ppid = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld", ppid,
		       &ut, &st, &cut, &cst);
	fclose(f);
	return (double)(ut + st + (unsigned long)cut + (unsigned long)cst) /
	       (double)sysconf(_SC_CLK_TCK);
}

/* the seconds of PID and of every child it has, running or ended and not yet waited for
 * (a scanner the master has replaced but not reaped) */
static double cpu_tree(int pid)
{
	double c;
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int ppid;

	c = cpu_of(pid, &ppid);
	while (dir && (d = readdir(dir))) {
		int child = atoi(d->d_name);
		double cc;

		if (child <= 0 || child == pid)
			continue;
		cc = cpu_of(child, &ppid);
		if (ppid == pid)
			c += cc;
	}
	if (dir)
		closedir(dir);
	return c;
}

/* kB of a /proc/PID/smaps_rollup field ("Pss", "Rss") */
static unsigned long smaps_kb(int pid, const char *key)
{
	char path[64], line[256];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtoul(line + strlen(key) + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

struct bench {
	struct config c;
	struct stats st;
	struct scanner *s;     /* processes */
	struct scan_engine *e; /* -i */
	struct scan_job **jobs;
	unsigned int count, next;
};

/* the CPU of every process that scans: this one, the master and its scanners, those
 * it has replaced included */
static double cpu_all(struct bench *b)
{
	return cpu_self() + (b->s ? cpu_tree(scanner_master_pid(b->s)) : 0);
}

static void *inproc_worker(void *arg)
{
	struct bench *b = arg;
	unsigned int i;

	while ((i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED)) < b->count) {
		struct scan_job *j = b->jobs[i];

		j->result = scan_engine_scan(b->e, j->msg, j->len, j->virus, sizeof(j->virus));
		if (j->result != SCAN_CLEAN)
			fprintf(stderr, "scanbench: %s %s\n", scan_result_name(j->result),
				j->virus);
	}
	return NULL;
}

static void run_inproc(struct bench *b)
{
	pthread_t t[64];
	unsigned int i, n = b->c.workers < 64 ? b->c.workers : 64;

	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, inproc_worker, b);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < b->count; i++)
		scan_job_free(b->jobs[i]);
}

static void run_processes(struct bench *b)
{
	struct scan_sink sink;
	unsigned int i, done = 0;

	scan_sink_init(&sink);
	for (i = 0; i < b->count; i++)
		scanner_submit(b->s, b->jobs[i], &sink);
	while (done < b->count) {
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
	scan_sink_destroy(&sink);
}

static int start(struct bench *b, int inproc)
{
	char err[512];
	int i;

	if (inproc) {
		if (scan_engine_init(err, sizeof(err)) ||
		    !(b->e = scan_engine_load(&b->c, err, sizeof(err)))) {
			fprintf(stderr, "scanbench: %s\n", err);
			return -1;
		}
		return 0;
	}
	b->s = scanner_new(&b->c, &b->st, err, sizeof(err));
	if (!b->s || scanner_start(b->s)) {
		fprintf(stderr, "scanbench: %s\n", err);
		return -1;
	}
	for (i = 0; i < 500 && b->st.scanner_processes < b->c.workers; i++)
		usleep(10000);
	return 0;
}

/* PSS of every process that holds an engine, in kB: this one, and every scan master
 * and scanner (during a reload the old and the new ones) */
/* a process's name and parent, from /proc/PID/stat; -1 when it is gone */
static int proc_parent(int pid, char *comm, size_t cap)
{
	char path[64], line[512], *open_, *close_;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f) && (open_ = strchr(line, '(')) &&
	    (close_ = strrchr(line, ')'))) {
		snprintf(comm, cap, "%.*s", (int)(close_ - open_ - 1), open_ + 1);
		if (sscanf(close_ + 2, "%*c %d", &ppid) != 1)
			ppid = -1;
	}
	if (f)
		fclose(f);
	return ppid;
}

/* this process, its masters (its children: it is their subreaper) and their scanners;
 * the machine's other mailscan processes are not counted */
static unsigned long pss_all(struct bench *b)
{
	unsigned long kb = smaps_kb(getpid(), "Pss");
	int masters[64], nm = 0, pass;

	if (!b->s)
		return kb;
	for (pass = 0; pass < 2; pass++) {
		struct dirent *de;
		DIR *d = opendir("/proc");

		while (d && (de = readdir(d))) {
			char comm[32] = "";
			int pid, ppid, k, mine = 0;

			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			pid = atoi(de->d_name);
			ppid = proc_parent(pid, comm, sizeof(comm));
			if (pass == 0 && !strcmp(comm, "ms-master") && ppid == getpid() &&
			    nm < 64) {
				masters[nm++] = pid;
				kb += smaps_kb(pid, "Pss");
			}
			for (k = 0; pass == 1 && k < nm; k++)
				mine |= ppid == masters[k];
			if (mine && !strcmp(comm, "ms-scanner"))
				kb += smaps_kb(pid, "Pss");
		}
		if (d)
			closedir(d);
	}
	return kb;
}

struct sampler {
	struct bench *b;
	volatile int stop;
	unsigned long peak;
};

static void *sample(void *arg)
{
	struct sampler *sp = arg;

	while (!sp->stop) {
		unsigned long kb = pss_all(sp->b);

		if (kb > sp->peak)
			sp->peak = kb;
		usleep(20000);
	}
	return NULL;
}

/* -m: memory after a few scans, and the peak during a reload */
static int memory(struct bench *b, int inproc)
{
	unsigned int i;

	for (i = 0; i < b->count; i++) {
		size_t len;
		uint8_t *m = make_message(100000, i + 1, &len);

		b->jobs[i] = scan_job_new(m, len);
		free(m);
	}
	if (inproc)
		run_inproc(b);
	else
		run_processes(b);
	if (inproc) {
		printf("model=in-process workers=%u pss_kb=%lu rss_kb=%lu\n", b->c.workers,
		       smaps_kb(getpid(), "Pss"), smaps_kb(getpid(), "Rss"));
	} else {
		struct sampler sp = { .b = b };
		unsigned long self = smaps_kb(getpid(), "Pss");
		unsigned long master = smaps_kb(scanner_master_pid(b->s), "Pss");
		unsigned long total = pss_all(b);
		pthread_t t;
		char err[512];

		printf("model=processes workers=%u pss_kb=%lu engine_process_kb=%lu master_kb=%lu "
		       "scanners_kb=%lu",
		       b->c.workers, total, self, master, total - self - master);
		pthread_create(&t, NULL, sample, &sp);
		if (scanner_reload(b->s, err, sizeof(err)))
			fprintf(stderr, "scanbench: reload: %s\n", err);
		for (i = 0; i < 100; i++) /* the old master and scanners leave */
			usleep(20000);
		sp.stop = 1;
		pthread_join(t, NULL);
		printf(" reload_peak_kb=%lu after_reload_kb=%lu\n", sp.peak, pss_all(b));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	char tmp[] = "/tmp/mailscan-bench.XXXXXX", cmd[64];
	size_t size = 0, total = 0;
	unsigned int i;
	int inproc, files, mem, first;
	uint64_t t0, us;
	double cpu0;

	scanproc_dispatch(argc, argv);
	/* the masters leave their double fork as this process's children: only they and
	 * their scanners are counted */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	inproc = argc > 1 && !strcmp(argv[1], "-i");
	first = 1 + inproc;
	files = argc > first && !strcmp(argv[first], "-f");
	mem = argc > first && !strcmp(argv[first], "-m");
	if (argc < first + ((files || mem) ? 3 : 4)) {
		fprintf(stderr, "usage: scanbench [-i] DBDIR SIZE COUNT WORKERS [test]\n"
				"       scanbench [-i] -f DBDIR WORKERS FILE...\n"
				"       scanbench [-i] -m DBDIR WORKERS [test]\n");
		return 2;
	}
	config_defaults(&b.c);
	if (getenv("SCANBENCH_MAX_SCANS"))
		b.c.scanner_max_scans = (unsigned int)atoi(getenv("SCANBENCH_MAX_SCANS"));
	if (files || mem) {
		first++;
		snprintf(b.c.database, sizeof(b.c.database), "%s", argv[first]);
		b.c.workers = (unsigned int)atoi(argv[first + 1]);
		b.count = files ? (unsigned int)(argc - first - 2) : 8;
		b.c.test_signatures = files || argc > first + 2;
	} else {
		snprintf(b.c.database, sizeof(b.c.database), "%s", argv[first]);
		size = strtoull(argv[first + 1], NULL, 0);
		b.count = (unsigned int)atoi(argv[first + 2]);
		b.c.workers = (unsigned int)atoi(argv[first + 3]);
		b.c.test_signatures = argc > first + 4;
	}
	/* the scanners run as the unprivileged user: their directories must be reachable */
	if (!mkdtemp(tmp) || chmod(tmp, 0755))
		return 2;
	snprintf(b.c.tmpdir, sizeof(b.c.tmpdir), "%s/tmp", tmp);
	snprintf(b.c.quarantine, sizeof(b.c.quarantine), "%s/q", tmp);
	mkdir(b.c.tmpdir, 0700);
	b.jobs = calloc(b.count, sizeof(*b.jobs));
	if (start(&b, inproc))
		return 2;
	if (mem) {
		memory(&b, inproc);
		goto out;
	}
	for (i = 0; i < b.count; i++) {
		size_t len;
		uint8_t *m = files ? read_file(argv[first + 2 + i], &len)
				   : make_message(size, i + 1, &len);

		if (!m) {
			fprintf(stderr, "scanbench: %s: cannot read\n", argv[first + 2 + i]);
			return 2;
		}
		b.jobs[i] = scan_job_new(m, len);
		total += len;
		free(m);
	}
	t0 = now_us();
	cpu0 = cpu_all(&b);
	if (inproc)
		run_inproc(&b);
	else
		run_processes(&b);
	us = now_us() - t0;
	printf("model=%s size=%zu count=%u workers=%u seconds=%.2f cpu=%.3f MB/s=%.1f "
	       "msgs/s=%.1f\n",
	       inproc ? "in-process" : "processes", files ? total / (b.count ? b.count : 1) : size,
	       b.count, b.c.workers, us / 1e6, cpu_all(&b) - cpu0, total / (double)us,
	       b.count / (us / 1e6));
out:
	free(b.jobs);
	scanner_free(b.s);
	scan_engine_free(b.e);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) ? 2 : 0;
}
