/* The daemon's shared services, below the control socket, the metrics endpoint and
 * the main thread's loop: the port map, the counters of every thread, the accept and
 * write helpers of the sockets the daemon serves. */
#include <poll.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "scan.h"
#include "scanners.h"

int daemon_load_ports(struct daemon *d, char *err, size_t errlen)
{
	struct port_set ps;
	uint8_t map[65536] = { 0 };
	size_t i;

	if (ports_load(&ps, d->cfg.ports_file, err, errlen))
		return -1;
	for (i = 0; i < ps.n; i++)
		map[ps.v[i].port] = (uint8_t)(1 + ps.v[i].proto);
	for (i = 0; i < sizeof(map); i++)
		__atomic_store_n(&d->port_proto[i], map[i], __ATOMIC_RELAXED);
	log_info("protecting %zu ports", ps.n);
	return 0;
}

/* kernel counters of our queues from /proc/net/netfilter/nfnetlink_queue */
static void kernel_queue_drops(const struct daemon *d, uint64_t *qdrop, uint64_t *udrop)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	unsigned long long q, dropped, user;
	char line[256];

	*qdrop = *udrop = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu %*u %*u %*u %*u %llu %llu", &q, &dropped, &user) != 3)
			continue;
		if (q >= d->cfg.queue_first &&
		    q < (unsigned)d->cfg.queue_first + d->cfg.queue_count) {
			*qdrop += dropped;
			*udrop += user;
		}
	}
	fclose(f);
}

void daemon_print_stats(struct daemon *d, FILE *f, enum stats_format fmt)
{
	const struct stats *per[65];
	struct backend_report b[SCANNERS_MAX];
	struct stats sum;
	unsigned int i, nb;

	for (i = 0; i < d->nq; i++)
		per[i] = qthread_stats(d->qt[i]);
	scanner_update_gauges(d->scanner);
	per[i] = &d->scan_stats;
	stats_sum(&sum, per, d->nq + 1);
	kernel_queue_drops(d, &sum.queue_kernel_dropped, &sum.queue_user_dropped);
	/* the kernel counts a full queue's packets only when it drops them */
	sum.queue_dropped = d->cfg.queue_full == QUEUE_FULL_DROP ? sum.queue_kernel_dropped : 0;
	nb = scanner_backends(d->scanner, b, SCANNERS_MAX);
	stats_print(f, &sum, b, nb, fmt);
}

void daemon_write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

void daemon_accept_loop(struct daemon *d, int lfd, void (*serve_fn)(struct daemon *, int))
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	while (!d->stop) {
		int fd;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_fn(d, fd);
		close(fd);
	}
}

/* one sd_notify(3) state to the service manager, where it listens (NOTIFY_SOCKET) */
void service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* an abstract socket */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0)
		log_warn("notify %s", path);
	close(fd);
}
