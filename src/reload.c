/* A reload of the configuration file (reload_run in daemon.h). The file is read whole
 * and refused if anything in it is wrong; what the new values need from the system (a
 * metrics socket, a quarantine directory, a syslog socket) is prepared before anything
 * changes; then one new snapshot carries every live key at once, and the restart keys
 * are named. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "live.h"
#include "log.h"
#include "scan.h"

struct text {
	char *buf;
	size_t len, off;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->off >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->off, t->len - t->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->off += (size_t)n;
}

static void add_problem(void *arg, const char *problem)
{
	add(arg, "%s\n", problem);
}

static int changed(const struct config_diff *df, const char *key)
{
	int k = config_key_index(key);
	size_t i;

	for (i = 0; i < df->n; i++) {
		if (df->key[i] == k)
			return 1;
	}
	return 0;
}

/* what the new values need, made ready before anything changes */
struct prepared {
	int metrics_fd; /* -1 unchanged, -2 off, else the new listener */
	int log;	/* log, log_facility or syslog_socket changed: LOG_TO is ready */
	struct log_dest log_to;
};

/* KEY's line and the problem; a NULL KEY when WHY names it */
static int refuse(struct text *t, const struct config *next, const char *key, const char *shown,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(struct text *t, const struct config *next, const char *key, const char *shown,
		  const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	add(t, "%s:%u: %s%s%s\n", next->path, config_key_line(next, key), shown ? shown : "",
	    shown ? ": " : "", why);
	return -1;
}

static void unprepare(struct prepared *p)
{
	if (p->metrics_fd >= 0)
		close(p->metrics_fd);
	if (p->log && p->log_to.fd >= 0)
		close(p->log_to.fd);
}

static int prepare(const struct config *next, const struct config_diff *df, struct prepared *p,
		   struct text *t)
{
	char err[512];

	p->metrics_fd = -1;
	p->log = changed(df, "log") || changed(df, "log_facility") || changed(df, "syslog_socket");
	if (changed(df, "quarantine") && access(next->quarantine, W_OK | X_OK))
		return refuse(t, next, "quarantine", "quarantine",
			      "%s: %s (it must exist, writable by %s)", next->quarantine,
			      strerror(errno), next->user);
	if (changed(df, "metrics_listen")) {
		p->metrics_fd = metrics_prepare(next->metrics_listen, err, sizeof(err));
		if (p->metrics_fd == -1) /* ERR names the key */
			return refuse(t, next, "metrics_listen", NULL, "%s", err);
	}
	/* connected as the daemon's user: a socket it cannot send to is found here */
	if (p->log && log_prepare(&p->log_to, (enum log_target)next->log_target, next->log_facility,
				  next->syslog_socket, err, sizeof(err))) {
		p->log = 0;
		unprepare(p);
		return refuse(t, next, "syslog_socket", "syslog_socket", "%s", err);
	}
	return 0;
}

/* the snapshot is in force: the services that keep their own copy follow it */
static void follow(struct daemon *d, const struct config *run, const struct prepared *p,
		   struct text *t)
{
	char err[512];

	if (p->log)
		log_switch(&p->log_to);
	if (p->metrics_fd != -1 &&
	    metrics_move(d, p->metrics_fd, run->metrics_listen, err, sizeof(err))) {
		log_warnx("%s", err);
		add(t, "%s\n", err);
	}
	if (scanner_configure(d->scanner, run, err, sizeof(err))) {
		log_warnx("scanners unchanged: %s", err);
		add(t, "scanners unchanged: %s\n", err);
	}
	if (daemon_load_ports(d, err, sizeof(err))) {
		log_warnx("%s", err);
		add(t, "ports file unchanged: %s\n", err);
	}
}

/* the file is good: in force at once, the restart keys named */
static int apply(struct daemon *d, const struct config *next, struct text *t)
{
	const struct config *cur = live_get(d->live), *snap;
	struct config *run = malloc(sizeof(*run));
	struct config_diff df;
	struct prepared p;
	char what[1024];
	int r = -1;

	if (!run) {
		add(t, "out of memory\n");
		goto out;
	}
	memcpy(run, cur, sizeof(*run));
	run->snap_refs = 0;
	config_diff(cur, next, &df);
	if (prepare(next, &df, &p, t))
		goto out;
	config_apply_live(run, next);
	if (live_publish(d->live, run)) {
		unprepare(&p);
		add(t, "out of memory\n");
		goto out;
	}
	snap = live_get(d->live);
	follow(d, snap, &p, t);
	live_put(snap);
	config_diff_describe(&df, what, sizeof(what));
	log_info("reloaded: %s", what);
	add(t, "reloaded: %s\n", what);
	r = 0;
out:
	free(run);
	live_put(cur);
	return r;
}

int reload_run(struct daemon *d, const char *why, char *out, size_t outlen)
{
	struct text t = { out, outlen, 0 }, problems;
	struct config *next = malloc(sizeof(*next));
	char err[512], *plist = NULL;
	int r = -1;

	out[0] = '\0';
	plist = malloc(4096);
	if (!next || !plist) {
		add(&t, "out of memory\n");
		goto out;
	}
	problems = (struct text){ plist, 4096, 0 };
	plist[0] = '\0';
	pthread_mutex_lock(&d->reload_lock);
	service_notify("RELOADING=1");
	log_info("%s: reloading %s and the signatures", why,
		 d->cfg.path[0] ? d->cfg.path : "the built-in defaults");
	if (config_parse(next, d->cfg.path[0] ? d->cfg.path : NULL, add_problem, &problems) ||
	    apply(d, next, &problems)) {
		add(&t, "reload refused, nothing changed:\n%s", plist);
		for (char *sv, *line = strtok_r(plist, "\n", &sv); line;
		     line = strtok_r(NULL, "\n", &sv))
			log_warnx("reload refused, configuration and scanners unchanged: %s", line);
		goto unlock;
	}
	if (scanner_reload(d->scanner, err, sizeof(err)) == 0) {
		add(&t, "%s", plist);
		add(&t, "reloaded %llu signatures from %s\n",
		    (unsigned long long)d->scan_stats.signatures, d->cfg.database);
		r = 0;
	} else {
		add(&t, "reload failed, the running engine stays: %s\n%s", err, plist);
	}
unlock:
	service_notify("READY=1");
	pthread_mutex_unlock(&d->reload_lock);
out:
	free(next);
	free(plist);
	return r;
}
