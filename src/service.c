/* The main thread's loop: signals, signature updates (inotify on the database directory,
 * debounced, or a periodic check for filesystems without inotify), and systemd's notify
 * protocol (readiness, reloads, stopping, and a watchdog that is fed only while every
 * queue thread goes round its loop). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "live.h"
#include "log.h"
#include "scan.h"

#define DEBOUNCE_MS   2000  /* quiet time after the last change before a reload */
#define QUEUE_LATE_MS 10000 /* a queue thread this late misses the watchdog */

/* half of WATCHDOG_USEC when the watchdog is meant for this process; 0 without one */
static uint64_t watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");

	if (!usec || (pid && strtol(pid, NULL, 10) != (long)getpid()))
		return 0;
	return strtoull(usec, NULL, 10) / 2000;
}

static int watch_open(const struct config *c)
{
	int fd;

	if (!c->database_watch)
		return -1;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0 || inotify_add_watch(fd, c->database,
					IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
						IN_DELETE) < 0) {
		log_warn("cannot watch %s for signature updates (database_check = SECONDS "
			 "checks it instead)",
			 c->database);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Drains the events; 1 if one is about a signature file (not a hidden temporary). */
static int watch_read(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	int hit = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (!ev->len || ev->name[0] != '.')
				hit = 1;
		}
	}
	return hit;
}

static int queues_alive(const struct daemon *d, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < d->nq; i++) {
		if (now - qthread_last_sweep(d->qt[i]) > QUEUE_LATE_MS)
			return 0;
	}
	return 1;
}

/* the signatures only: the database changed */
static void reload_signatures(struct daemon *d, const char *why)
{
	char err[512];

	pthread_mutex_lock(&d->reload_lock);
	service_notify("RELOADING=1");
	log_info("%s: reloading the signatures", why);
	scanner_reload(d->scanner, err, sizeof(err));
	service_notify("READY=1");
	pthread_mutex_unlock(&d->reload_lock);
}

/* database_watch and database_check as a reload left them */
static void follow_config(struct daemon *d, const struct config **c, unsigned long *gen,
			  struct pollfd *watch, uint64_t *next_check, uint64_t now)
{
	const struct config *old = *c;

	if (*c && live_generation(d->live) == *gen)
		return;
	*gen = live_generation(d->live);
	*c = live_get(d->live);
	if (!old || old->database_watch != (*c)->database_watch) {
		if (watch->fd >= 0)
			close(watch->fd);
		watch->fd = watch_open(*c);
		if (old)
			log_info("database_watch: %s", watch->fd >= 0 ? "watching" : "off");
	}
	if (!old || old->database_check != (*c)->database_check) {
		*next_check = now + (*c)->database_check * 1000ULL;
		if (old)
			log_info("database_check: every %u s (0: off)", (*c)->database_check);
	}
	live_put(old);
}

/* at most this long between looks at the configuration (a reload through the control
 * socket does not wake the poll) */
#define FOLLOW_MS 1000

void service_loop(struct daemon *d, const sigset_t *set)
{
	struct pollfd pfd[2] = { { .fd = signalfd(-1, set, SFD_CLOEXEC), .events = POLLIN },
				 { .fd = -1, .events = POLLIN } };
	uint64_t wd = watchdog_ms(), now = now_ms(), due = 0, next_wd = now, next_check = 0;
	const struct config *c = NULL;
	struct signalfd_siginfo si;
	unsigned long gen = 0;
	char *text = malloc(8192);

	if (pfd[0].fd < 0 || !text)
		fatal("signalfd");
	for (;;) {
		uint64_t wake = now + FOLLOW_MS;
		int timeout;

		follow_config(d, &c, &gen, &pfd[1], &next_check, now);
		if (wd && next_wd < wake)
			wake = next_wd;
		if (due && due < wake)
			wake = due;
		if (c->database_check && next_check < wake)
			wake = next_check;
		now = now_ms();
		timeout = wake <= now ? 0 : (int)(wake - now);
		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			fatal("poll");
		now = now_ms();
		if (pfd[0].revents & POLLIN && read(pfd[0].fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo != SIGHUP)
				break;
			reload_run(d, "SIGHUP", text, 8192);
			continue; /* the snapshot first */
		}
		if (pfd[1].fd >= 0 && pfd[1].revents & POLLIN && watch_read(pfd[1].fd))
			due = now + DEBOUNCE_MS;
		if (due && now >= due) {
			due = 0;
			reload_signatures(d, "signature files changed");
		}
		if (c->database_check && now >= next_check) {
			next_check = now + c->database_check * 1000ULL;
			if (scanner_database_changed(d->scanner))
				reload_signatures(d, "database_check: signature files changed");
		}
		if (wd && now >= next_wd) {
			next_wd = now + wd;
			if (queues_alive(d, now))
				service_notify("WATCHDOG=1");
		}
	}
	service_notify("STOPPING=1");
	close(pfd[0].fd);
	if (pfd[1].fd >= 0)
		close(pfd[1].fd);
	live_put(c);
	free(text);
}
