/* mailscand's shared state: configuration, the port map, the queue threads. */
#ifndef MAILSCAN_DAEMON_H
#define MAILSCAN_DAEMON_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "ports.h"
#include "queue.h"
#include "stats.h"

struct live;
struct qthread;
struct scanner;

struct daemon {
	/* the configuration the daemon started with: its restart keys are the ones in
	 * force; the live keys are read from LIVE's snapshots, which a reload replaces */
	struct config cfg;
	struct live *live;
	pthread_mutex_t reload_lock; /* one reload at a time (signal, control socket) */
	/* server port -> 1 + enum ports_proto, 0 unprotected; written by the control
	 * thread, read by the queue threads (byte stores are atomic) */
	uint8_t port_proto[65536];
	struct qthread **qt;
	unsigned int nq;
	volatile int stop;
	uint64_t start_ms;
	int ctl_fd;
	pthread_t ctl_tid;
	int metrics_fd;
	pthread_t metrics_tid;
	struct scanner *scanner;
	struct stats scan_stats; /* written by the scan threads */
};

/* daemon.c: the services the control socket, the metrics endpoint and the main loop
 * share */
/* Reads the ports file into the port map; -1 with a reason in ERR. */
int daemon_load_ports(struct daemon *, char *err, size_t errlen);
/* Every thread's counters, the kernel's queue drops and the backends, as FMT says. */
void daemon_print_stats(struct daemon *, FILE *, enum stats_format);
/* Accepts on LFD until the daemon stops, one connection at a time: SERVE answers it,
 * then it is closed. For the control socket and the metrics endpoint. */
void daemon_accept_loop(struct daemon *, int lfd, void (*serve)(struct daemon *, int fd));
void daemon_write_all(int fd, const char *p, size_t len);

/* ctl_server.c: the control socket; bound during setup, served by a thread started
 * once privileges are dropped */
int ctl_server_listen(struct daemon *);
int ctl_server_start(struct daemon *);
void ctl_server_stop(struct daemon *);

/* service.c: the main thread's loop until SIGTERM or SIGINT (SIGHUP reloads); systemd
 * notifications (nothing without NOTIFY_SOCKET) */
void service_loop(struct daemon *, const sigset_t *);
void service_notify(const char *state);

/* metrics.c: the Prometheus endpoint on metrics_listen (nothing when it is empty);
 * bound during setup, then served */
int metrics_listen(struct daemon *, char *err, size_t errlen);
int metrics_start(struct daemon *, char *err, size_t errlen);
void metrics_stop(struct daemon *);
/* A reload's new metrics_listen, in two steps so that a refused address changes
 * nothing: prepare binds it (a descriptor, -2 for "off", -1 with a reason in ERR), move
 * puts it in place of the running one. */
int metrics_prepare(const char *listen_on, char *err, size_t errlen);
int metrics_move(struct daemon *, int fd, const char *listen_on, char *err, size_t errlen);

/* reload.c: a reload reads the whole file. With an error nothing changes (OUT names
 * FILE:LINE and the problem, -1); otherwise the live keys change at once, the restart
 * keys are named, and the signatures and the ports file are read again. OUT gets
 * "reloaded: applied K, K; needs restart: K" and the signatures' line; -1 when the
 * signatures failed to load (the running engine stays). WHY is for the log. */
int reload_run(struct daemon *, const char *why, char *out, size_t outlen);

#endif
