/* mailscand: wiring. Runs in the foreground; logs to stderr or syslog. */
#include <errno.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "daemon.h"
#include "live.h"
#include "log.h"
#include "privsep.h"
#include "rules.h"
#include "scan.h"

/* GSO only helps when packets arrive aggregated: on a gateway that needs GRO on the
 * incoming interfaces */
static void warn_gro_off(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (!ifs || fd < 0)
		goto out;
	for (i = ifs; i->if_index; i++) {
		struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
		struct ifreq ifr;

		if (!strcmp(i->if_name, "lo"))
			continue;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		ifr.ifr_data = (void *)&ev;
		if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && !ev.data)
			log_warnx("GRO is off on %s: queued packets arrive one MTU at a time "
				  "(ethtool -K %s gro on)",
				  i->if_name, i->if_name);
	}
out:
	if (ifs)
		if_freenameindex(ifs);
	if (fd >= 0)
		close(fd);
}

/* The packet engine keeps CAP_NET_ADMIN (verdicts, rules) and CAP_NET_RAW (injection)
 * and nothing else; as root it becomes the configured user first. */
static void drop_privileges(struct daemon *d)
{
	struct privsep_id id = { getuid(), getgid() };
	char err[512];

	if (geteuid() == 0 && privsep_lookup(d->cfg.user, &id, err, sizeof(err)))
		fatalx("%s", err);
	if (id.uid == 0)
		log_warnx("user = %s: the packet engine keeps uid 0 (its capabilities are "
			  "still cut to net_admin and net_raw)",
			  d->cfg.user);
	if (privsep_engine(&id, err, sizeof(err)))
		fatalx("%s", err);
	log_info("running as %s (uid %u) with net_admin and net_raw", d->cfg.user,
		 (unsigned int)getuid());
}

static void usage(void)
{
	fprintf(stderr, "usage: mailscand [-v] [-c FILE]\n       mailscand -t [-c FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct daemon d;
	const struct config *cur;
	const char *conf = NULL;
	char err[512];
	sigset_t set;
	unsigned int i;
	int ch, verbose = 0, test = 0;

	scanproc_dispatch(argc, argv); /* a scan master started by the scanner */
	while ((ch = getopt(argc, argv, "c:tv")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 't': /* check the file and exit, as mailscanctl check does */
			test = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (test)
		return check_file(conf, stdout, stderr) ? 1 : 0;
	log_init("mailscand", verbose);
	if (config_load(&d.cfg, conf, err, sizeof(err)))
		fatalx("%s", err);
	d.live = live_new(&d.cfg);
	if (!d.live)
		fatal("configuration snapshot");
	pthread_mutex_init(&d.reload_lock, NULL);
	if (log_open((enum log_target)d.cfg.log_target, d.cfg.log_facility, d.cfg.syslog_socket,
		     err, sizeof(err)))
		fatalx("%s", err);
	d.start_ms = now_ms();
	d.ctl_fd = -1;
	if (daemon_load_ports(&d, err, sizeof(err)))
		fatalx("%s", err);
	/* threads inherit the mask: signals are taken here, with sigwait */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* setup, as root: the scan master (it loads the engine as the user), the queues
	 * and raw sockets, the control and metrics sockets */
	cur = live_get(d.live);
	d.scanner = scanner_new(cur, &d.scan_stats, err, sizeof(err));
	live_put(cur);
	if (!d.scanner)
		fatalx("%s", err);
	d.nq = d.cfg.queue_count;
	d.qt = calloc(d.nq, sizeof(*d.qt));
	if (!d.qt)
		fatal("calloc");
	for (i = 0; i < d.nq; i++) {
		const struct queue_shared sh = {
			.cfg = &d.cfg,
			.live = d.live,
			.port_proto = d.port_proto,
			.scanner = d.scanner,
			.stop = &d.stop,
		};

		d.qt[i] = qthread_new(&sh, (uint16_t)(d.cfg.queue_first + i));
		if (!d.qt[i])
			fatalx("cannot listen on queue %u", d.cfg.queue_first + i);
	}
	if (ctl_server_listen(&d))
		fatal("control socket %s", d.cfg.control_socket);
	if (metrics_listen(&d, err, sizeof(err)))
		fatalx("%s", err);
	drop_privileges(&d);
	/* every thread starts with the packet engine's privileges only */
	if (scanner_start(d.scanner))
		fatalx("cannot start the scanner processes");
	if (ctl_server_start(&d))
		fatal("control socket %s", d.cfg.control_socket);
	if (metrics_start(&d, err, sizeof(err)))
		fatalx("%s", err);
	for (i = 0; i < d.nq; i++) {
		if (qthread_start(d.qt[i]))
			fatalx("cannot start queue thread %u", i);
	}
	if (d.cfg.mode == MODE_GATEWAY)
		warn_gro_off();
	log_info("listening on queues %s, control socket %s",
		 rules_queue_range(err, sizeof(err), d.cfg.queue_first, d.cfg.queue_count),
		 d.cfg.control_socket);
	snprintf(err, sizeof(err), "READY=1\nSTATUS=scanning with %llu signatures",
		 (unsigned long long)d.scan_stats.signatures);
	service_notify(err);
	service_loop(&d, &set);
	log_info("stopping");
	d.stop = 1;
	for (i = 0; i < d.nq; i++)
		qthread_join(d.qt[i]);
	ctl_server_stop(&d);
	metrics_stop(&d);
	/* the scans still running deliver their results to the queue threads' sinks: those
	 * go after the scanner */
	scanner_free(d.scanner);
	for (i = 0; i < d.nq; i++)
		qthread_free(d.qt[i]);
	free(d.qt);
	live_free(d.live);
	return 0;
}
