/* Logging to stderr or to syslog (a datagram to the syslog socket, RFC 3164 framing as
 * syslog(3) sends it, so that the socket can be chosen). Warnings of one kind (one format)
 * are limited to log_burst lines per log_period_ms; then a line says how many were
 * suppressed. Events (detections and policy actions) are never limited. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_KINDS 32

/* syslog(3) severities */
enum { SEV_ERR = 3, SEV_WARNING = 4, SEV_NOTICE = 5, SEV_INFO = 6, SEV_DEBUG = 7 };

static const char *log_prog = "mailscan";
static int log_verbose;
static int log_fd = -1; /* the syslog socket, or -1: stderr */
static int log_facility;
static unsigned int log_burst = 20;	   /* warnings of one kind per period */
static unsigned int log_period_ms = 10000; /* then counted */
static struct sockaddr_un log_addr;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static struct limit {
	const char *kind; /* the key: a warning's format, or the kind it was given */
	uint64_t start;
	unsigned int lines, suppressed;
} limits[LOG_KINDS];

/* facility codes in the order of log_facility_names */
static const int facility_codes[] = { 3, 2, 1, 16, 17, 18, 19, 20, 21, 22, 23 };
const char *const log_facility_names[] = { "daemon", "mail",   "user",	 "local0",
					   "local1", "local2", "local3", "local4",
					   "local5", "local6", "local7", NULL };
const char *const log_target_names[] = { "auto", "stderr", "syslog", NULL };

void log_token(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	src += strspn(src, " \t");
	while (*src && *src != ' ' && *src != '\t' && n + 1 < cap) {
		unsigned char c = (unsigned char)*src++;

		dst[n++] = c > ' ' && c < 0x7f && c != '"' ? (char)c : '?';
	}
	dst[n] = '\0';
}

void log_set_limit(unsigned int burst, unsigned int period_ms)
{
	log_burst = burst;
	log_period_ms = period_ms;
}

void log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
}

/* Under systemd, stderr is the journal when it is the stream JOURNAL_STREAM names. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int log_prepare(struct log_dest *d, enum log_target target, unsigned int facility,
		const char *socket_path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	d->fd = -1;
	d->facility = 0;
	d->path[0] = '\0';
	if (target == LOG_TARGET_AUTO)
		target = stderr_is_journal() ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR;
	if (target == LOG_TARGET_STDERR)
		return 0;
	if (facility >= sizeof(facility_codes) / sizeof(facility_codes[0]) ||
	    strlen(socket_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "syslog: bad facility or socket path");
		return -1;
	}
	strcpy(sun.sun_path, socket_path);
	d->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "syslog socket %s: %s", socket_path, strerror(errno));
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		return -1;
	}
	d->facility = facility_codes[facility];
	strcpy(d->path, socket_path);
	return 0;
}

/* A line may be on its way to the socket being replaced: it is closed at the next
 * switch, not at once (its number could be reused meanwhile by another socket). */
void log_switch(const struct log_dest *d)
{
	static int retired = -1;
	int old;

	pthread_mutex_lock(&log_lock);
	if (retired >= 0)
		close(retired);
	memset(&log_addr, 0, sizeof(log_addr));
	log_addr.sun_family = AF_UNIX;
	strcpy(log_addr.sun_path, d->path);
	__atomic_store_n(&log_facility, d->facility, __ATOMIC_RELAXED);
	old = __atomic_exchange_n(&log_fd, d->fd, __ATOMIC_ACQ_REL);
	retired = old;
	pthread_mutex_unlock(&log_lock);
}

int log_open(enum log_target target, unsigned int facility, const char *socket_path, char *err,
	     size_t errlen)
{
	struct log_dest d;

	if (log_prepare(&d, target, facility, socket_path, err, errlen))
		return -1;
	log_switch(&d);
	return 0;
}

static void emit(int sev, const char *line)
{
	char buf[1280], stamp[32];
	int n, fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE);
	time_t t;
	struct tm tm;

	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", log_prog, line);
		return;
	}
	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(buf, sizeof(buf), "<%d>%s %s[%d]: %s",
		     __atomic_load_n(&log_facility, __ATOMIC_RELAXED) * 8 + sev, stamp, log_prog,
		     (int)getpid(), line);
	if (n < 0)
		return;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* syslogd restarted: connect again once, else stderr */
		pthread_mutex_lock(&log_lock);
		if (connect(fd, (struct sockaddr *)&log_addr, sizeof(log_addr)) < 0 ||
		    send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
			fprintf(stderr, "%s: %s\n", log_prog, line);
		pthread_mutex_unlock(&log_lock);
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void say_suppressed(const char *kind, unsigned int n)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "suppressed=%u warnings like \"%.80s\" in the last %u s", n,
		 kind, log_period_ms / 1000);
	emit(SEV_WARNING, msg);
}

/* May a warning of KIND go out now? Says first what the last period suppressed. */
static int allowed(const char *kind)
{
	uint64_t now = mono_ms();
	struct limit *l;
	unsigned int i, suppressed = 0;
	int ok;

	pthread_mutex_lock(&log_lock);
	for (i = 0; i < LOG_KINDS && limits[i].kind; i++) {
		if (limits[i].kind == kind)
			break;
	}
	if (i == LOG_KINDS) {
		pthread_mutex_unlock(&log_lock);
		return 1; /* more kinds than slots: not limited */
	}
	l = &limits[i];
	if (!l->kind || now - l->start >= log_period_ms) {
		suppressed = l->suppressed;
		l->kind = kind;
		l->start = now;
		l->lines = l->suppressed = 0;
	}
	ok = l->lines < log_burst;
	if (ok)
		l->lines++;
	else
		l->suppressed++;
	pthread_mutex_unlock(&log_lock);
	if (suppressed)
		say_suppressed(kind, suppressed);
	return ok;
}

void log_flush(void)
{
	uint64_t now = mono_ms();
	unsigned int i, n;
	const char *kind;

	for (i = 0; i < LOG_KINDS; i++) {
		pthread_mutex_lock(&log_lock);
		kind = limits[i].kind;
		n = kind && now - limits[i].start >= log_period_ms ? limits[i].suppressed : 0;
		if (n)
			limits[i].suppressed = 0;
		pthread_mutex_unlock(&log_lock);
		if (n)
			say_suppressed(kind, n);
	}
}

static void vlog(int sev, const char *level, int with_errno, const char *kind, const char *fmt,
		 va_list ap)
{
	char msg[1024], line[1200];
	int saved = errno;

	if (sev == SEV_WARNING && !allowed(kind ? kind : fmt)) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		snprintf(line, sizeof(line), "%s%s: %s", level, msg, strerror(saved));
	else
		snprintf(line, sizeof(line), "%s%s", level, msg);
	emit(sev, line);
	errno = saved;
}

#define LOG_FN(name, sev, level, with_errno, cond)                                                 \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		if (!(cond))                                                                       \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		vlog(sev, level, with_errno, NULL, fmt, ap);                                       \
		va_end(ap);                                                                        \
	}

LOG_FN(log_warn, SEV_WARNING, "", 1, 1)
LOG_FN(log_warnx, SEV_WARNING, "", 0, 1)
LOG_FN(log_event, SEV_NOTICE, "", 0, 1)
LOG_FN(log_info, SEV_INFO, "", 0, 1)
LOG_FN(log_debug, SEV_DEBUG, "debug: ", 0, log_verbose)

void log_warnx_kind(const char *kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(SEV_WARNING, "", 0, kind, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(SEV_ERR, "fatal: ", 1, NULL, fmt, ap);
	va_end(ap);
	exit(2);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(SEV_ERR, "fatal: ", 0, NULL, fmt, ap);
	va_end(ap);
	exit(2);
}
