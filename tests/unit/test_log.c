/* Logging to a syslog socket: RFC 3164 framing with the facility and severity, events
 * never limited, a flood of one warning limited and its suppressed count said, stderr
 * when asked or when stderr is not systemd's journal. */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

static int sock;

/* the next datagram, "" if none within 1 s */
static const char *next(char *buf, size_t len)
{
	struct timeval tv = { .tv_sec = 1 };
	ssize_t n;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(sock, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int main(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[] = "/tmp/mailscan-log.XXXXXX", buf[2048], want[128], err[256];
	unsigned int i, got;

	CHECK(mkdtemp(path) != NULL);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/log.sock", path);
	sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_INT(bind(sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	log_init("mailscand", 0);

	CHECK_INT(log_open(LOG_TARGET_SYSLOG, 6 /* local3 */, "/nonexistent/log", err, sizeof(err)),
		  -1);
	CHECK(strstr(err, "/nonexistent/log") != NULL);
	CHECK_INT(log_open(LOG_TARGET_SYSLOG, 6, sun.sun_path, err, sizeof(err)), 0);
	CHECK_STR(log_facility_names[6], "local3");

	/* local3 (19) * 8 + notice (5) */
	log_event("detection result=infected virus=%s action=%s", "Eicar", "reject");
	next(buf, sizeof(buf));
	CHECK(starts(buf, "<157>"));
	snprintf(want, sizeof(want),
		 " mailscand[%d]: detection result=infected virus=Eicar "
		 "action=reject",
		 (int)getpid());
	CHECK(strstr(buf, want) != NULL && strlen(strstr(buf, want)) == strlen(want));
	log_info("loaded");
	CHECK(starts(next(buf, sizeof(buf)), "<158>")); /* info */

	/* 3 warnings of a kind per 300 ms: 10 sent, 3 out; then the count */
	log_set_limit(3, 300);
	for (i = 0; i < 10; i++)
		log_warnx("tcp urgent pointer: flow=%u", i);
	for (got = 0; *next(buf, sizeof(buf)) && strstr(buf, "tcp urgent pointer"); got++)
		CHECK(starts(buf, "<156>")); /* warning */
	CHECK_INT(got, 3);
	/* events are never limited */
	for (i = 0; i < 10; i++)
		log_event("detection n=%u", i);
	for (got = 0; got < 10 && strstr(next(buf, sizeof(buf)), "detection n="); got++)
		;
	CHECK_INT(got, 10);
	usleep(350000);
	log_flush();
	CHECK(strstr(next(buf, sizeof(buf)),
		     "suppressed=7 warnings like \"tcp urgent pointer: flow=%u\"") != NULL);
	log_warnx("tcp urgent pointer: flow=%u", 11u);
	CHECK(strstr(next(buf, sizeof(buf)), "flow=11") != NULL);

	/* one format, two kinds: each has its own limit, and its count names the kind */
	for (i = 0; i < 10; i++)
		log_warnx_kind("policy=midstream", "policy=%s n=%u", "midstream", i);
	for (i = 0; i < 2; i++)
		log_warnx_kind("policy=idle_timeout", "policy=%s n=%u", "idle_timeout", i);
	for (got = 0; *next(buf, sizeof(buf)) && strstr(buf, "policy=midstream n="); got++)
		;
	CHECK_INT(got, 3); /* the loop ended on the first idle_timeout line */
	CHECK(strstr(buf, "policy=idle_timeout n=0") != NULL);
	CHECK(strstr(next(buf, sizeof(buf)), "policy=idle_timeout n=1") != NULL);
	usleep(350000);
	log_flush();
	CHECK(strstr(next(buf, sizeof(buf)), "suppressed=7 warnings like \"policy=midstream\"") !=
	      NULL);

	/* auto with no journal stream: stderr, and nothing more on the socket */
	unsetenv("JOURNAL_STREAM");
	CHECK_INT(log_open(LOG_TARGET_AUTO, 1, sun.sun_path, err, sizeof(err)), 0);
	log_event("to stderr");
	CHECK_STR(next(buf, sizeof(buf)), "");

	/* log fields: the first word, nothing that could break key=value parsing */
	log_token(buf, 16, " \t<a@example.org> SIZE=706");
	CHECK_STR(buf, "<a@example.org>");
	log_token(buf, 16, "x\001\"y\tz");
	CHECK_STR(buf, "x??y");
	log_token(buf, 4, "abcdef");
	CHECK_STR(buf, "abc");
	log_token(buf, 4, "");
	CHECK_STR(buf, "");

	unlink(sun.sun_path);
	rmdir(path);
	return unit_report("test_log");
}
