/* The memfd store: a message read through the real readers lands in one memfd, sealed
 * at its end, which a scan job takes as it is; what no process can do to it after; the
 * budget while it is kept. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msgfd.h"
#include "pop3.h"
#include "scan.h"
#include "smtp.h"
#include "unit.h"

struct seen {
	int n, fds[4];
	size_t lens[4];
	char text[4][16384];
	int candidate[4];
};

static struct msg_reader *reader_of_cb; /* the reader the callback asks */

static void on_end(void *arg, const uint8_t *msg, size_t len, int candidate, int oversize)
{
	struct seen *s = arg;
	const struct msg_body *done = msg_reader_done(reader_of_cb, msg, len);

	(void)oversize;
	if (s->n >= 4)
		return;
	s->fds[s->n] = done ? done->fd : -1;
	s->lens[s->n] = len;
	s->candidate[s->n] = candidate;
	snprintf(s->text[s->n], sizeof(s->text[0]), "%.*s", (int)len, (const char *)msg);
	s->n++;
}

/* a sealed memfd refuses every change, and holds exactly WANT */
static void check_sealed(int fd, const char *want)
{
	size_t len = strlen(want);
	struct stat st;
	char back[16384];
	void *m;

	CHECK_INT(msgfd_check(fd), 0);
	CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == len);
	CHECK_INT(pread(fd, back, sizeof(back), 0), len);
	CHECK(!memcmp(back, want, len));
	errno = 0;
	CHECK(pwrite(fd, "x", 1, 0) < 0 && errno == EPERM);
	CHECK(pwrite(fd, "x", 1, (off_t)len) < 0 && errno == EPERM);
	if (len)
		CHECK(ftruncate(fd, 0) < 0 && errno == EPERM);
	CHECK(ftruncate(fd, (off_t)len + 4096) < 0 && errno == EPERM);
	m = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m == MAP_FAILED && errno == EPERM);
	CHECK(fcntl(fd, F_ADD_SEALS, 0) < 0); /* F_SEAL_SEAL: no seal comes off or on */
}

/* a message of N lines of 60 bytes, some starting with a dot (stuffed on the wire) */
static void make_body(char *wire, char *plain, unsigned int n)
{
	unsigned int i;

	wire[0] = plain[0] = '\0';
	for (i = 0; i < n; i++) {
		char line[80];

		snprintf(line, sizeof(line),
			 "%s%05u abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ\r\n",
			 i % 7 ? "" : ".", i);
		strcat(plain, line);
		strcat(wire, i % 7 ? "" : ".");
		strcat(wire, line);
	}
}

static void test_reader(void)
{
	static char wire[16384], plain[16384];
	struct msg_budget b = { .cap = 1 << 20, .store = &msgfd_store };
	struct msg_reader m;
	struct seen s;
	size_t i, n;
	int bytewise, done;

	make_body(wire, plain, 150); /* past the first 4096 bytes of room: it grows */
	strcat(wire, ".\r\n");
	for (bytewise = 0; bytewise < 2; bytewise++) {
		memset(&s, 0, sizeof(s));
		msg_reader_init(&m, 1 << 20, &b, "DATA", 0);
		reader_of_cb = &m;
		n = strlen(wire);
		for (i = 0, done = 0; i < n && !done;)
			i += msg_reader_push(&m, (const uint8_t *)wire + i, bytewise ? 1 : n - i,
					     &done, on_end, &s);
		CHECK_INT(done, 1);
		CHECK_INT(s.n, 1);
		CHECK(s.fds[0] >= 0);
		CHECK_STR(s.text[0], plain);
		check_sealed(s.fds[0], plain);
		/* kept, and counted, until its events are done with it */
		CHECK_INT(b.used, strlen(plain));
		msg_reader_reset(&m);
		CHECK_INT(b.used, strlen(plain));
		msg_reader_trim(&m, 0);
		CHECK_INT(b.used, 0);
		CHECK_INT(fcntl(s.fds[0], F_GETFD), -1); /* closed with it */
		msg_reader_free(&m);
	}
}

static void test_reader_cases(void)
{
	struct msg_budget b = { .cap = 1 << 20, .store = &msgfd_store };
	struct msg_budget small = { .cap = 4, .store = &msgfd_store };
	struct msg_reader m;
	struct seen s;
	int done;

	/* a bare-LF end is a candidate, not the message: no descriptor; the end is */
	memset(&s, 0, sizeof(s));
	msg_reader_init(&m, 100, &b, NULL, 0);
	reader_of_cb = &m;
	msg_reader_push(&m, (const uint8_t *)"a\n.\nb\r\n.\r\n", 10, &done, on_end, &s);
	CHECK_INT(s.n, 2);
	CHECK(s.candidate[0] && s.fds[0] == -1);
	CHECK_STR(s.text[0], "a\n");
	CHECK(!s.candidate[1] && s.fds[1] >= 0);
	check_sealed(s.fds[1], "a\n.\nb\r\n");
	msg_reader_free(&m);
	CHECK_INT(b.used, 0);

	/* an empty message has its memfd too */
	memset(&s, 0, sizeof(s));
	msg_reader_init(&m, 100, &b, NULL, 0);
	reader_of_cb = &m;
	msg_reader_push(&m, (const uint8_t *)".\r\n", 3, &done, on_end, &s);
	CHECK(s.n == 1 && s.fds[0] >= 0 && s.lens[0] == 0);
	check_sealed(s.fds[0], "");
	msg_reader_free(&m);

	/* past the budget: oversize, never sealed (it is not scanned) */
	memset(&s, 0, sizeof(s));
	msg_reader_init(&m, 100, &small, NULL, 0);
	reader_of_cb = &m;
	msg_reader_push(&m, (const uint8_t *)"0123456789\r\n.\r\n", 15, &done, on_end, &s);
	CHECK(s.n == 1 && s.fds[0] == -1);
	CHECK_INT(small.used, 4);
	msg_reader_free(&m);
	CHECK_INT(small.used, 0);
}

static void push_smtp(struct smtp *s, int dir, const char *t)
{
	smtp_push(s, (enum smtp_dir)dir, (const uint8_t *)t, strlen(t));
}

/* two messages in one push: each its own sealed memfd; a job takes it without a copy
 * and keeps it after the parser gives its own back */
static void test_smtp(void)
{
	struct msg_budget b = { .cap = 1 << 20, .store = &msgfd_store };
	struct smtp *s = smtp_new(1 << 20, &b, 4096);
	struct scan_job *j[2] = { NULL, NULL };
	struct smtp_event e;
	int n = 0, fd = -1;

	push_smtp(s, SMTP_SERVER, "220 mx ESMTP\r\n");
	push_smtp(s, SMTP_CLIENT, "EHLO c\r\n");
	push_smtp(s, SMTP_SERVER, "250-mx\r\n250 PIPELINING\r\n");
	push_smtp(s, SMTP_CLIENT, "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n");
	push_smtp(s, SMTP_SERVER, "250 ok\r\n250 ok\r\n354 go\r\n");
	push_smtp(s, SMTP_CLIENT,
		  "one\r\n..two\r\n.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n");
	push_smtp(s, SMTP_SERVER, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
	smtp_trim(s);
	push_smtp(s, SMTP_CLIENT, "three\r\n.\r\n");
	while (smtp_next(s, &e))
		if (e.type == SMTP_EV_MESSAGE && n < 1) {
			CHECK(e.fd >= 0 && !e.candidate);
			check_sealed(e.fd, "three\r\n");
			j[n++] = scan_job_from_fd(e.fd, e.len);
			fd = e.fd;
		}
	CHECK_INT(n, 1);
	CHECK(j[0] && j[0]->memfd != fd && j[0]->len == 7 && !memcmp(j[0]->msg, "three\r\n", 7));
	smtp_trim(s);
	CHECK_INT(b.used, 0);
	/* the job's descriptor outlives the parser's */
	if (j[0]) {
		check_sealed(j[0]->memfd, "three\r\n");
		CHECK(!memcmp(j[0]->msg, "three\r\n", 7));
	}
	scan_job_free(j[0]);
	smtp_free(s);
}

/* the first message's event, seen in the same push as the next DATA */
static void test_smtp_two_in_one_push(void)
{
	struct msg_budget b = { .cap = 1 << 20, .store = &msgfd_store };
	struct smtp *s = smtp_new(1 << 20, &b, 4096);
	struct smtp_event e;
	int n = 0, fds[2] = { -1, -1 };
	const char *want[2] = { "m1\r\n", "m2\r\n" };

	push_smtp(s, SMTP_SERVER, "220 mx ESMTP\r\n");
	push_smtp(s, SMTP_CLIENT, "DATA\r\n");
	push_smtp(s, SMTP_SERVER, "354 go\r\n");
	push_smtp(s, SMTP_CLIENT, "m1\r\n.\r\nDATA\r\nm2\r\n.\r\n");
	while (smtp_next(s, &e))
		if (e.type == SMTP_EV_MESSAGE && !e.candidate && n < 2) {
			CHECK(e.fd >= 0);
			if (e.fd >= 0)
				check_sealed(e.fd, want[n]);
			fds[n++] = e.fd;
		}
	CHECK_INT(n, 2);
	CHECK(fds[0] != fds[1]);
	smtp_trim(s);
	CHECK_INT(b.used, 0);
	smtp_free(s);
}

static void push_pop3(struct pop3 *p, int dir, const char *t)
{
	pop3_push(p, (enum pop3_dir)dir, (const uint8_t *)t, strlen(t));
}

/* A RETR body is sealed at its end; when the server sends on before the client speaks
 * (curl's reading goes on past the end), that reading starts from a copy of it. */
static void test_pop3(void)
{
	struct msg_budget b = { .cap = 1 << 20, .store = &msgfd_store };
	struct pop3 *p = pop3_new(1 << 20, &b, 4096);
	struct pop3_event e;
	int n = 0, cand = 0;

	push_pop3(p, POP3_SERVER, "+OK ready\r\n");
	push_pop3(p, POP3_CLIENT, "RETR 1\r\n");
	push_pop3(p, POP3_SERVER, "+OK\r\nbody\r\n.\r\n");
	while (pop3_next(p, &e))
		if (e.type == POP3_EV_MESSAGE && !e.candidate) {
			CHECK(e.fd >= 0);
			if (e.fd >= 0)
				check_sealed(e.fd, "body\r\n");
			n++;
		}
	CHECK_INT(n, 1);
	pop3_trim(p);
	push_pop3(p, POP3_SERVER, "more\r\n.\r\n");
	while (pop3_next(p, &e))
		if (e.candidate && e.len == 15 && !memcmp(e.msg, "body\r\n.\r\nmore\r\n", 15))
			cand++;
	CHECK_INT(cand, 1);
	pop3_trim(p);
	push_pop3(p, POP3_CLIENT, "QUIT\r\n");
	pop3_trim(p);
	CHECK_INT(b.used, 0);
	pop3_free(p);
}

/* BDAT's last chunk ends the message: sealed as a DATA one */
static void test_smtp_bdat(void)
{
	struct msg_budget b = { .cap = 1 << 20, .store = &msgfd_store };
	struct smtp *s = smtp_new(1 << 20, &b, 4096);
	struct smtp_event e;
	int n = 0;

	push_smtp(s, SMTP_SERVER, "220 mx ESMTP\r\n");
	push_smtp(s, SMTP_CLIENT, "EHLO c\r\n");
	push_smtp(s, SMTP_SERVER, "250-mx\r\n250 CHUNKING\r\n");
	push_smtp(s, SMTP_CLIENT, "MAIL FROM:<a@x>\r\n");
	push_smtp(s, SMTP_SERVER, "250 ok\r\n");
	push_smtp(s, SMTP_CLIENT, "BDAT 3\r\nab\n");
	push_smtp(s, SMTP_SERVER, "250 ok\r\n");
	push_smtp(s, SMTP_CLIENT, "BDAT 4 LAST\r\ncd\r\n");
	while (smtp_next(s, &e))
		if (e.type == SMTP_EV_MESSAGE && !e.candidate) {
			CHECK(e.fd >= 0 && e.bdat);
			if (e.fd >= 0)
				check_sealed(e.fd, "ab\ncd\r\n");
			n++;
		}
	CHECK_INT(n, 1);
	smtp_free(s);
	CHECK_INT(b.used, 0);
}

/* a job refuses a descriptor that is not sealed, or of another length */
static void test_job_refuses(void)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING), sealed;

	CHECK(fd >= 0 && pwrite(fd, "abc", 3, 0) == 3);
	errno = 0;
	CHECK(scan_job_from_fd(fd, 3) == NULL && errno == EPERM);
	close(fd);
	sealed = msgfd_copy((const uint8_t *)"abc", 3);
	CHECK(sealed >= 0);
	check_sealed(sealed, "abc");
	errno = 0;
	CHECK(scan_job_from_fd(sealed, 4) == NULL && errno == EINVAL);
	close(sealed);
}

int main(void)
{
	test_reader();
	test_reader_cases();
	test_smtp();
	test_smtp_two_in_one_push();
	test_smtp_bdat();
	test_pop3();
	test_job_refuses();
	return unit_report("test_msgfd");
}
