/* The scanner on real libclamav with the generated test signatures (build/testsigs),
 * through its scan master and scanner processes: clean text, EICAR and ClamAV test files
 * in MIME attachments, recursion and size limits, a corrupt archive, the pool, reload
 * under load (also a broken database), the quarantine and its cap, no file written
 * outside the quarantine; every ClamAV test file gets the same verdict in a sandboxed
 * process as from the engine in this process; a crash, a spin, a killed master, the
 * sandbox refusing a socket and an exec, and (as root) the processes' user and
 * capabilities. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "privsep.h"
#include "scan.h"
#include "unit.h"

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static char work[] = "/tmp/mailscan-scan.XXXXXX";
static char sigs[PATH_MAX];

static char *b64(const uint8_t *in, size_t len)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(len * 2 + 8), *o = out;
	size_t i, col = 0;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		*o++ = t[v >> 18 & 63];
		*o++ = t[v >> 12 & 63];
		*o++ = i + 1 < len ? t[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? t[v & 63] : '=';
		if ((col += 4) >= 76) {
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
		}
	}
	*o = '\0';
	return out;
}

/* a MIME message with DATA attached as NAME, base64 */
static char *mime(const uint8_t *data, size_t len, const char *name)
{
	char *enc = b64(data, len), *m = NULL;

	if (asprintf(&m,
		     "From: a@example.org\r\nTo: b@example.org\r\nSubject: test\r\n"
		     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
		     "--BB\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
		     "--BB\r\nContent-Type: application/octet-stream; name=\"%s\"\r\n"
		     "Content-Transfer-Encoding: base64\r\n"
		     "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n%s\r\n--BB--\r\n",
		     name, name, enc) < 0)
		m = NULL;
	free(enc);
	return m;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &sb))
		return NULL;
	b = malloc((size_t)sb.st_size);
	*len = (size_t)read(fd, b, (size_t)sb.st_size);
	close(fd);
	return b;
}

/* one message through the scanner processes, waited for */
static enum scan_result scan_buf(struct scanner *s, const uint8_t *msg, size_t len, char *virus)
{
	struct scan_sink k;
	struct scan_job *j = NULL;
	enum scan_result r;
	int i;

	if (scan_sink_init(&k))
		return SCAN_ERROR;
	scanner_submit(s, scan_job_new(msg, len), &k);
	for (i = 0; i < 3000 && !j; i++) {
		usleep(2000);
		j = scan_sink_take(&k);
	}
	if (!j) {
		scan_sink_destroy(&k);
		return SCAN_RESULT_COUNT;
	}
	r = j->result;
	if (virus)
		strcpy(virus, j->virus);
	scan_job_free(j);
	scan_sink_destroy(&k);
	return r;
}

static enum scan_result scan_text(struct scanner *s, const char *msg, char *virus)
{
	return scan_buf(s, (const uint8_t *)msg, strlen(msg), virus);
}

static struct scanner *started(const struct config *c, struct stats *st)
{
	char err[512];
	struct scanner *s = scanner_new(c, st, err, sizeof(err));

	if (!s)
		fprintf(stderr, "scanner_new: %s\n", err);
	else if (scanner_start(s))
		fprintf(stderr, "scanner_start failed\n");
	return s;
}

static void config_for(struct config *c, const char *db)
{
	config_defaults(c);
	snprintf(c->database, sizeof(c->database), "%s", db);
	snprintf(c->tmpdir, sizeof(c->tmpdir), "%s/tmp", work);
	snprintf(c->quarantine, sizeof(c->quarantine), "%s/quarantine", work);
	c->test_signatures = 1;
	c->workers = 2;
}

static void test_detections(void)
{
	struct config c;
	struct stats st = { 0 };
	struct scanner *s;
	char virus[128], *m;
	uint8_t *zip;
	size_t zlen;

	config_for(&c, sigs);
	s = started(&c, &st);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(st.signatures, 45);
	CHECK_INT(st.test_signatures, 1);
	CHECK_INT(scan_text(s, "Subject: hello\r\n\r\nJust text.\r\n", virus), SCAN_CLEAN);
	CHECK_INT(scan_text(s, "", virus), SCAN_CLEAN);

	m = mime((const uint8_t *)eicar, strlen(eicar), "eicar.com");
	CHECK_INT(scan_text(s, m, virus), SCAN_INFECTED);
	CHECK_STR(virus, "MailscanTest.EICAR.UNOFFICIAL");
	free(m);

	zip = slurp("/usr/share/clamav-testfiles/clam.zip", &zlen);
	CHECK(zip != NULL);
	m = mime(zip, zlen, "clam.zip");
	CHECK_INT(scan_text(s, m, virus), SCAN_INFECTED);
	CHECK_STR(virus, "MailscanTest.clam.exe.UNOFFICIAL");
	free(m);
	/* a corrupt archive: the first half of clam.zip */
	m = mime(zip, zlen / 2, "broken.zip");
	CHECK_INT(scan_text(s, m, virus), SCAN_CLEAN);
	free(m);
	CHECK_INT(st.scans, 5);
	CHECK_INT(st.scans_infected, 2);
	CHECK_INT(st.scans_clean, 3);
	scanner_free(s);

	/* over the recursion limit: mail -> zip -> exe is three levels */
	config_for(&c, sigs);
	c.scan_max_recursion = 1;
	memset(&st, 0, sizeof(st));
	s = started(&c, &st);
	m = mime(zip, zlen, "clam.zip");
	CHECK_INT(scan_text(s, m, virus), SCAN_LIMIT);
	CHECK_HAS(virus, "Heuristics.Limits.Exceeded");
	CHECK_INT(st.scans_limits, 1);
	free(m);
	scanner_free(s);

	/* over the scan size limit */
	config_for(&c, sigs);
	c.scan_max_size = 4096;
	c.scan_max_filesize = 4096;
	memset(&st, 0, sizeof(st));
	s = started(&c, &st);
	{
		char *big = malloc(200000);

		memset(big, 'a', 199999);
		big[199999] = '\0';
		memcpy(big, "Subject: big\r\n\r\n", 16);
		CHECK_INT(scan_text(s, big, virus), SCAN_LIMIT);
		CHECK_HAS(virus, "Heuristics.Limits.Exceeded");
		/* the scanner that hit the limit is replaced; the next message is scanned */
		CHECK_INT(st.scanner_recycled, 1);
		CHECK_INT(scan_text(s, "Subject: a\r\n\r\nb\r\n", virus), SCAN_CLEAN);
		free(big);
	}
	scanner_free(s);
	free(zip);
}

static void test_database_errors(void)
{
	char err[512], empty[PATH_MAX];
	struct stats st = { 0 };
	struct config c;

	config_for(&c, "/nonexistent/clamav");
	CHECK(scanner_new(&c, &st, err, sizeof(err)) == NULL);
	CHECK_HAS(err, "signature database /nonexistent/clamav");
	snprintf(empty, sizeof(empty), "%s/empty", work);
	mkdir(empty, 0755);
	config_for(&c, empty);
	c.test_signatures = 0;
	CHECK(scanner_new(&c, &st, err, sizeof(err)) == NULL);
	CHECK_HAS(err, empty);
	/* the test database is refused unless the configuration names it */
	config_for(&c, sigs);
	c.test_signatures = 0;
	CHECK(scanner_new(&c, &st, err, sizeof(err)) == NULL);
	CHECK_HAS(err, "TEST signatures");
}

struct sinkwait {
	struct scan_sink sink;
	unsigned int got, infected, clean, failed;
};

static void drain(struct sinkwait *w)
{
	struct scan_job *j, *n;

	for (j = scan_sink_take(&w->sink); j; j = n) {
		n = j->next;
		w->got++;
		if (j->result == SCAN_INFECTED)
			w->infected++;
		else if (j->result == SCAN_CLEAN)
			w->clean++;
		else
			w->failed++;
		scan_job_free(j);
	}
}

static void wait_all(struct sinkwait *w, unsigned int n)
{
	int i;

	for (i = 0; i < 3000 && w->got < n; i++) {
		usleep(10000);
		drain(w);
	}
}

/* two databases: without the EICAR signature, then with it */
static void test_reload_under_load(void)
{
	char noeicar[PATH_MAX + 16], cmd[5 * PATH_MAX], err[512], *m;
	struct stats st = { 0 };
	struct sinkwait w = { .got = 0 };
	struct config c;
	struct scanner *s;
	unsigned int i;

	snprintf(noeicar, sizeof(noeicar), "%s/noeicar", work);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s && cp %s/mailscan-test.hdb %s/MAILSCAN-TEST-SIGNATURES %s/", noeicar,
		 sigs, sigs, noeicar);
	CHECK_INT(system(cmd), 0);
	config_for(&c, noeicar);
	s = scanner_new(&c, &st, err, sizeof(err));
	CHECK(s != NULL);
	CHECK_INT(scanner_start(s), 0);
	CHECK_INT(scan_sink_init(&w.sink), 0);
	m = mime((const uint8_t *)eicar, strlen(eicar), "eicar.com");
	/* before: EICAR is not known */
	for (i = 0; i < 50; i++)
		scanner_submit(s, scan_job_new((const uint8_t *)m, strlen(m)), &w.sink);
	/* a broken database while scans run: refused, the engine stays */
	snprintf(c.database, sizeof(c.database), "%s/empty", work);
	CHECK_INT(scanner_reload(s, err, sizeof(err)), -1);
	wait_all(&w, 50);
	CHECK_INT(w.got, 50);
	CHECK_INT(w.clean, 50);
	/* 50 at once on 2 threads: the queue waits far longer in all than the scans take */
	CHECK(st.scan_wait_us_total >= st.scan_time_us_total);
	CHECK(st.scan_time_us_total > 0);
	/* swap to the full database with scans queued and running */
	snprintf(c.database, sizeof(c.database), "%s", sigs);
	for (i = 0; i < 50; i++)
		scanner_submit(s, scan_job_new((const uint8_t *)m, strlen(m)), &w.sink);
	CHECK_INT(scanner_reload(s, err, sizeof(err)), 0);
	wait_all(&w, 100);
	CHECK_INT(w.got, 100);
	CHECK_INT(w.failed, 0);
	/* after the swap, every new message sees the new signatures */
	w.infected = 0;
	for (i = 0; i < 20; i++)
		scanner_submit(s, scan_job_new((const uint8_t *)m, strlen(m)), &w.sink);
	wait_all(&w, 120);
	CHECK_INT(w.got, 120);
	CHECK_INT(w.infected, 20);
	CHECK_INT(st.reloads_ok, 1);
	CHECK_INT(st.reloads_failed, 1);
	CHECK_INT(st.signatures, 45);
	free(m);
	scanner_free(s);
	scan_sink_destroy(&w.sink);
}

static unsigned int count_dir(const char *dir, const char *suffix)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);

		if (de->d_name[0] != '.' && l >= sl && !strcmp(de->d_name + l - sl, suffix))
			n++;
	}
	closedir(d);
	return n;
}

/* entries of DIR whose name holds NEEDLE (libclamav names its scan directories
 * DATE-scantemp.HEX) */
static unsigned int count_containing(const char *dir, const char *needle)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		n += strstr(de->d_name, needle) != NULL;
	if (d)
		closedir(d);
	return n;
}

static void test_quarantine_and_files(void)
{
	char err[512], qdir[PATH_MAX], tdir[PATH_MAX], path[PATH_MAX + 300], *m;
	unsigned int tmp_before = count_containing("/tmp", "scantemp"), i;
	struct stats st = { 0 };
	struct sinkwait w = { .got = 0 };
	struct config c;
	struct scanner *s;
	struct stat sb;
	struct dirent *de;
	DIR *d;

	config_for(&c, sigs);
	snprintf(c.quarantine, sizeof(c.quarantine), "%s/quarantine2", work);
	c.quarantine_max = 2000;
	s = scanner_new(&c, &st, err, sizeof(err));
	snprintf(qdir, sizeof(qdir), "%s", c.quarantine);
	snprintf(tdir, sizeof(tdir), "%s", c.tmpdir);
	CHECK_INT(stat(qdir, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0700);
	CHECK_INT(scanner_start(s), 0);
	CHECK_INT(scan_sink_init(&w.sink), 0);
	m = mime((const uint8_t *)eicar, strlen(eicar), "eicar.com");
	for (i = 0; i < 6; i++) {
		struct scan_job *j = scan_job_new((const uint8_t *)m, strlen(m));

		snprintf(j->meta, sizeof(j->meta), "proto=smtp flow=test from=<a@example.org>");
		j->action = "reject";
		scanner_submit(s, j, &w.sink);
		wait_all(&w, i + 1);
		usleep(1100000 * (i == 2)); /* later files get later names */
	}
	CHECK_INT(w.infected, 6);
	CHECK_INT(st.quarantined, 6);
	/* nothing waits for a scan thread any more */
	scanner_update_gauges(s);
	CHECK_INT(st.scan_queue_current, 0);
	/* each message is ~600 bytes with its record: the cap keeps the newest */
	CHECK(st.quarantine_removed >= 2);
	CHECK(count_dir(qdir, ".eml") < 6);
	CHECK(count_dir(qdir, ".eml") >= 2);
	d = opendir(qdir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", qdir, de->d_name);
		stat(path, &sb);
		CHECK_INT(sb.st_mode & 0777, 0600);
		if (strstr(de->d_name, ".meta")) {
			size_t len;
			char *meta = (char *)slurp(path, &len);

			meta = realloc(meta, len + 1);
			meta[len] = '\0';
			CHECK_HAS(meta, "virus=MailscanTest.EICAR.UNOFFICIAL\naction=reject\n");
			CHECK_HAS(meta, "from=<a@example.org>");
			free(meta);
		}
	}
	if (d)
		closedir(d);
	free(m);
	scanner_free(s);
	scan_sink_destroy(&w.sink);
	/* libclamav wrote only inside the scanners' own tmpfs: nothing in the directory they
	 * mount it on, no scan directory of its own anywhere else */
	CHECK_INT(count_dir(tdir, ""), 0);
	CHECK_INT(count_containing("/tmp", "scantemp"), tmp_before);
}

/* every ClamAV test file, attached to a mail: a sandboxed scanner process says what the
 * engine says in this process (the seccomp filter takes nothing libclamav needs) */
static void test_sandboxed_like_in_process(void)
{
	const char *dir = "/usr/share/clamav-testfiles";
	char err[512], v1[128], v2[128], path[PATH_MAX + 300];
	struct stats st = { 0 };
	struct scan_engine *e;
	struct scanner *s;
	struct dirent *de;
	struct config c;
	unsigned int files = 0, same = 0, infected = 0;
	DIR *d;

	config_for(&c, sigs);
	snprintf(c.tmpdir, sizeof(c.tmpdir), "%s/tmp-inprocess", work);
	mkdir(c.tmpdir, 0700);
	CHECK_INT(scan_engine_init(err, sizeof(err)), 0);
	e = scan_engine_load(&c, err, sizeof(err));
	CHECK(e != NULL);
	config_for(&c, sigs);
	s = started(&c, &st);
	d = opendir(dir);
	CHECK(d != NULL);
	while (e && s && d && (de = readdir(d))) {
		enum scan_result r1, r2;
		size_t len;
		uint8_t *f;
		char *m;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = slurp(path, &len);
		if (!f)
			continue;
		m = mime(f, len, de->d_name);
		r1 = scan_engine_scan(e, (const uint8_t *)m, strlen(m), v1, sizeof(v1));
		r2 = scan_text(s, m, v2);
		files++;
		if (r1 == r2 && !strcmp(v1, v2))
			same++;
		else
			fprintf(stderr, "%s: in process %s %s, sandboxed %s %s\n", de->d_name,
				scan_result_name(r1), v1, scan_result_name(r2), v2);
		infected += r2 == SCAN_INFECTED;
		free(m);
		free(f);
	}
	if (d)
		closedir(d);
	CHECK(files >= 40);
	CHECK_INT(same, files);
	CHECK(infected >= 30);
	CHECK_INT(st.scans_errors, 0);
	CHECK_INT(st.scans_crashed, 0);
	scanner_free(s);
	scan_engine_free(e);
}

/* The scanner's temporary space made unusable inside it (removed, read-only, full before
 * the check; removed after it, which only libclamav's message tells): never clean, a
 * scan error counted as such, the scanner replaced; the same messages scan as usual in
 * the next one. Outside, the configured directory filled and made read-only: nothing
 * changes, it is only a mount point. */
static void test_tmp_space(void)
{
	static const char *const how[] = { "removed", "readonly", "full" };
	char virus[128], path[PATH_MAX + 16], *m, *late;
	struct stats st = { 0 };
	struct config c;
	struct scanner *s;
	unsigned int i;
	int fd;

	config_for(&c, sigs);
	strcpy(c.test_tmp, "MAILSCAN-TMP");
	c.scan_max_size = 1 << 20; /* a small tmpfs to fill */
	c.scan_max_filesize = 1 << 20;
	s = started(&c, &st);
	CHECK(s != NULL);
	if (!s)
		return;
	m = mime((const uint8_t *)eicar, strlen(eicar), "eicar.com");
	for (i = 0; i < 3; i++) {
		char text[128];

		snprintf(text, sizeof(text), "Subject: x\r\n\r\nMAILSCAN-TMP-%s-TRIGGER\r\n",
			 how[i]);
		CHECK_INT(scan_text(s, text, virus), SCAN_ERROR);
		CHECK_HAS(virus, "temporary space");
		CHECK_INT(scan_text(s, m, virus), SCAN_INFECTED);
	}
	CHECK_INT(st.scans_tmp_errors, 3);
	CHECK_INT(st.scans_errors, 3);
	CHECK_INT(st.scanner_recycled, 3);
	/* removed once the check passed: libclamav cannot write the attachment out, answers
	 * CL_CLEAN and says so only in its message; the scan is an error, not clean */
	if (asprintf(&late, "X-Test: MAILSCAN-TMP:late\r\n%s", m) > 0) {
		CHECK_INT(scan_text(s, late, virus), SCAN_ERROR);
		CHECK_HAS(virus, "libclamav: ");
		free(late);
	}
	CHECK_INT(st.scans_clean, 0);
	/* from outside: the directory on the host filled and read-only */
	snprintf(path, sizeof(path), "%s/filler", c.tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(ftruncate(fd, 1 << 20) == 0);
		close(fd);
	}
	chmod(c.tmpdir, 0500);
	for (i = 0; i < 6; i++)
		CHECK_INT(scan_text(s, m, virus), SCAN_INFECTED);
	CHECK_INT(scan_text(s, "Subject: fine\r\n\r\nnothing\r\n", virus), SCAN_CLEAN);
	chmod(c.tmpdir, 0700);
	unlink(path);
	free(m);
	scanner_free(s);
}

/* a scanner is replaced after scanner_max_scans messages (after a limit: above); every
 * message still gets its verdict */
static void test_recycling(void)
{
	char virus[128], *m;
	struct stats st = { 0 };
	struct config c;
	struct scanner *s;
	unsigned int i;

	config_for(&c, sigs);
	c.workers = 1;
	c.scanner_max_scans = 3;
	s = started(&c, &st);
	CHECK(s != NULL);
	if (!s)
		return;
	m = mime((const uint8_t *)eicar, strlen(eicar), "eicar.com");
	for (i = 0; i < 9; i++)
		CHECK_INT(scan_text(s, i % 2 ? m : "Subject: a\r\n\r\nb\r\n", virus),
			  i % 2 ? SCAN_INFECTED : SCAN_CLEAN);
	CHECK_INT(st.scanner_recycled, 3);
	CHECK(st.scanner_forks >= 3);
	scanner_free(s);
	free(m);
}

/* two instances on the same directories, started and stopped in turn: neither
 * disturbs the other's scans (each removes only what it made: nothing on the host) */
static void test_two_instances(void)
{
	struct stats st1 = { 0 }, st2 = { 0 };
	char virus[128], *m;
	struct scanner *a, *b;
	struct config c;
	unsigned int i;

	config_for(&c, sigs);
	m = mime((const uint8_t *)eicar, strlen(eicar), "eicar.com");
	a = started(&c, &st1);
	b = started(&c, &st2);
	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK_INT(scan_text(a, m, virus), SCAN_INFECTED);
	CHECK_INT(scan_text(b, m, virus), SCAN_INFECTED);
	scanner_free(a);
	for (i = 0; i < 6; i++)
		CHECK_INT(scan_text(b, m, virus), SCAN_INFECTED);
	a = started(&c, &st1);
	scanner_free(b);
	for (i = 0; i < 6; i++)
		CHECK_INT(scan_text(a, m, virus), SCAN_INFECTED);
	CHECK_INT(st1.scans_errors + st2.scans_errors, 0);
	CHECK_INT(st1.scans_clean + st2.scans_clean, 0);
	scanner_free(a);
	free(m);
}

/* a job's message: one copy, in a memfd sealed against writing, growing and shrinking
 * before anyone is handed it; its mapping reads the same bytes */
static void test_job_memfd(void)
{
	static const char text[] = "Subject: sealed\r\n\r\nbody\r\n";
	struct scan_job *j = scan_job_new((const uint8_t *)text, strlen(text));
	struct scan_job *e = scan_job_new((const uint8_t *)"", 0);
	int seals;

	CHECK(j != NULL && e != NULL);
	if (!j || !e)
		return;
	seals = fcntl(j->memfd, F_GET_SEALS);
	CHECK_INT(seals & (F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK),
		  F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK);
	CHECK_INT((int)j->len, (int)strlen(text));
	CHECK(!memcmp(j->msg, text, j->len));
	CHECK_INT((int)pwrite(j->memfd, "X", 1, 0), -1);
	CHECK_INT(errno, EPERM);
	CHECK(ftruncate(j->memfd, 0) < 0);
	CHECK(mmap(NULL, j->len, PROT_READ | PROT_WRITE, MAP_SHARED, j->memfd, 0) == MAP_FAILED);
	CHECK(fcntl(e->memfd, F_GET_SEALS) & F_SEAL_GROW);
	CHECK_INT((int)e->len, 0);
	scan_job_free(j);
	scan_job_free(e);
}

static int wait_processes(struct stats *st, uint64_t n)
{
	int i;

	for (i = 0; i < 3000 && __atomic_load_n(&st->scanner_processes, __ATOMIC_RELAXED) != n; i++)
		usleep(10000);
	return (int)__atomic_load_n(&st->scanner_processes, __ATOMIC_RELAXED);
}

/* a field of /proc/PID/status, e.g. "CapEff" */
static void proc_status(int pid, const char *key, char *out, size_t cap)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	out[0] = '\0';
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			snprintf(out, cap, "%s", line + strlen(key) + 1);
			out[strcspn(out, "\n")] = '\0';
			memmove(out, out + strspn(out, " \t"),
				strlen(out + strspn(out, " \t")) + 1);
		}
	}
	if (f)
		fclose(f);
}

/* a process counted as soon as it is forked: waits (30 s at most) until it has named
 * itself and entered its own sandbox (a filter more than the master's, which it
 * inherits), as it does before it takes a message */
static void sandboxed(int pid, int master)
{
	char name[64], mine[64], masters[64];
	int i;

	proc_status(master, "Seccomp_filters", masters, sizeof(masters));
	for (i = 0; i < 3000; i++) {
		proc_status(pid, "Name", name, sizeof(name));
		proc_status(pid, "Seccomp_filters", mine, sizeof(mine));
		if (!strcmp(name, "ms-scanner") && atoi(mine) > atoi(masters))
			return;
		usleep(10000);
	}
}

/* the soft limit of one line of /proc/PID/limits; -1 for unlimited or missing */
static long long proc_limit(int pid, const char *name)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ' ')
			v = strncmp(line + 26, "unlimited", 9) ? strtoll(line + 26, NULL, 10) : -1;
	if (f)
		fclose(f);
	return v;
}

static void test_processes(void)
{
	static const char clean[] = "Subject: fine\r\n\r\nnothing here\r\n";
	char virus[128], *m, buf[128], want[32];
	struct stats st = { 0 };
	struct sinkwait w = { .got = 0 };
	struct config c;
	struct scanner *s;
	unsigned int i, crashed = 0;
	int pids[9], n;

	config_for(&c, sigs);
	strcpy(c.test_crash, "CRASH-ME");
	strcpy(c.test_spin, "SPIN-ME");
	strcpy(c.test_sandbox, "PROBE-SANDBOX");
	c.scan_timeout = 1;
	s = started(&c, &st);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(wait_processes(&st, 2), 2);
	n = (int)scanner_pids(s, pids, 8);
	CHECK_INT(n, 2);
	/* no capability, the sandbox, and as root the configured user */
	for (i = 0; i < (unsigned int)n; i++) {
		sandboxed(pids[i], scanner_master_pid(s));
		proc_status(pids[i], "CapEff", buf, sizeof(buf));
		CHECK_STR(buf, "0000000000000000");
		proc_status(pids[i], "Seccomp", buf, sizeof(buf));
		CHECK_STR(buf, "2");
		proc_status(pids[i], "NoNewPrivs", buf, sizeof(buf));
		CHECK_STR(buf, "1");
		proc_status(pids[i], "Name", buf, sizeof(buf));
		CHECK_STR(buf, "ms-scanner");
	}
	proc_status(scanner_master_pid(s), "CapEff", buf, sizeof(buf));
	CHECK_STR(buf, "0000000000000000");
	/* the master and the scanners: filtered, not dumpable (their /proc files are
	 * root's: no /proc/PID/mem or ptrace for the user's other processes), bounded */
	pids[n] = scanner_master_pid(s);
	for (i = 0; i <= (unsigned int)n; i++) {
		char path[64];
		struct stat sb;

		proc_status(pids[i], "Seccomp", buf, sizeof(buf));
		CHECK_STR(buf, "2");
		proc_status(pids[i], "NoNewPrivs", buf, sizeof(buf));
		CHECK_STR(buf, "1");
		snprintf(path, sizeof(path), "/proc/%d/mem", pids[i]);
		CHECK_INT(stat(path, &sb), 0);
		CHECK_INT(sb.st_uid, 0);
		if (i == (unsigned int)n)
			break;
		CHECK(proc_limit(pids[i], "Max address space") > 0);
		CHECK(proc_limit(pids[i], "Max address space") < (1LL << 46));
		CHECK_INT(proc_limit(pids[i], "Max processes"), 0);
		CHECK_INT(proc_limit(pids[i], "Max core file size"), 0);
		CHECK_INT(proc_limit(pids[i], "Max open files"), 128);
		CHECK_INT(proc_limit(pids[i], "Max file size"),
			  (long long)(c.scan_max_size + c.scan_max_filesize + (1 << 20)));
	}
	if (geteuid() == 0) {
		struct privsep_id id;
		char e2[256];

		CHECK_INT(privsep_lookup("mailscan", &id, e2, sizeof(e2)), 0);
		snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", id.uid, id.uid, id.uid, id.uid);
		proc_status(pids[0], "Uid", buf, sizeof(buf));
		CHECK_STR(buf, want);
		proc_status(scanner_master_pid(s), "Uid", buf, sizeof(buf));
		CHECK_STR(buf, want);
	}
	/* every way out the probe tries is refused */
	CHECK_INT(scan_text(s, "Subject: x\r\n\r\nPROBE-SANDBOX\r\n", virus), SCAN_INFECTED);
	CHECK_STR(virus, "Mailscan.Test.Sandbox.refused-18-of-18");
	/* a crash costs its message (tried twice), the next ones are scanned */
	CHECK_INT(scan_text(s, "Subject: x\r\n\r\nCRASH-ME\r\n", virus), SCAN_CRASHED);
	CHECK_HAS(virus, "died");
	CHECK_INT(st.scans_crashed, 1);
	CHECK_INT(st.scans_retried, 1);
	CHECK_INT(scan_text(s, clean, virus), SCAN_CLEAN);
	m = mime((const uint8_t *)eicar, strlen(eicar), "eicar.com");
	CHECK_INT(scan_text(s, m, virus), SCAN_INFECTED);
	/* a spin is killed past scan_timeout */
	CHECK_INT(scan_text(s, "Subject: x\r\n\r\nSPIN-ME\r\n", virus), SCAN_KILLED);
	CHECK_INT(st.scans_killed, 1);
	CHECK_INT(scan_text(s, clean, virus), SCAN_CLEAN);
	CHECK_INT(wait_processes(&st, 2), 2);
	CHECK_INT(st.scanner_forks, 5); /* 2, 2 for the crash, 1 for the kill */
	CHECK_INT(st.scan_masters_started, 1);
	/* 100 at once, every tenth a crash: each costs its own message only */
	CHECK_INT(scan_sink_init(&w.sink), 0);
	for (i = 0; i < 100; i++) {
		const char *t = i % 10 == 0 ? "Subject: x\r\n\r\nCRASH-ME\r\n" : i % 2 ? m : clean;

		scanner_submit(s, scan_job_new((const uint8_t *)t, strlen(t)), &w.sink);
	}
	for (i = 0; i < 3000 && w.got < 100; i++) {
		struct scan_job *j, *nx;

		usleep(10000);
		for (j = scan_sink_take(&w.sink); j; j = nx) {
			nx = j->next;
			w.got++;
			w.infected += j->result == SCAN_INFECTED;
			w.clean += j->result == SCAN_CLEAN;
			crashed += j->result == SCAN_CRASHED;
			scan_job_free(j);
		}
	}
	CHECK_INT(w.got, 100);
	CHECK_INT(crashed, 10);
	CHECK_INT(w.infected, 50);
	CHECK_INT(w.clean, 40);
	/* the master killed, then an idle scanner (SIGKILL: a sanitizer build reports a SEGV): a
	 * new master forks its replacement and nothing is lost */
	kill(scanner_master_pid(s), SIGKILL);
	n = (int)scanner_pids(s, pids, 8);
	CHECK(n >= 1);
	kill(pids[0], SIGKILL);
	usleep(200000);
	for (i = 0; i < 10; i++)
		CHECK_INT(scan_text(s, i % 2 ? m : clean, virus),
			  i % 2 ? SCAN_INFECTED : SCAN_CLEAN);
	CHECK_INT(st.scan_masters_started, 2);
	free(m);
	scanner_free(s);
	scan_sink_destroy(&w.sink);
}

int main(int argc, char **argv)
{
	char cmd[2 * PATH_MAX + 64];
	const char *top = getenv("TOP");

	scanproc_dispatch(argc, argv);
	/* the scanners run as the unprivileged user: the signatures go where it can read */
	if (!mkdtemp(work) || chmod(work, 0755))
		return 2;
	snprintf(sigs, sizeof(sigs), "%s/build/testsigs", top ? top : ".");
	snprintf(cmd, sizeof(cmd), "cp -r %s %s/sigs", sigs, work);
	if (access(sigs, F_OK) == 0 && system(cmd) == 0)
		snprintf(sigs, sizeof(sigs), "%s/sigs", work);
	else {
		fprintf(stderr, "test_scan: %s missing (make testsigs)\n", sigs);
		CHECK(0);
		return unit_report("test_scan");
	}
	test_detections();
	test_database_errors();
	test_reload_under_load();
	test_quarantine_and_files();
	test_sandboxed_like_in_process();
	test_job_memfd();
	test_tmp_space();
	test_recycling();
	test_two_instances();
	test_processes();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
	if (system(cmd))
		return 2;
	return unit_report("test_scan");
}
