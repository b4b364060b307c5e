/* The control socket: a unix stream socket, root only (peer credentials), one request
 * per connection. Runs in its own thread, off the packet path. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "scan.h"
#include "scanners.h"

/* who scans: the backends, the user, the master, the scanner processes */
static void print_processes(struct daemon *d, FILE *f)
{
	struct backend_report b[SCANNERS_MAX];
	int pids[64];
	unsigned int i, n = scanner_backends(d->scanner, b, SCANNERS_MAX);

	for (i = 0; i < n; i++)
		fprintf(f, "scanner=%s kind=%s state=%s max=%u outstanding=%u\n", b[i].name,
			b[i].kind, b[i].up ? "up" : "down", b[i].max, b[i].outstanding);
	n = scanner_pids(d->scanner, pids, 64);

	fprintf(f, "user=%s\nscan_master=%d\nscanners=", d->cfg.user,
		scanner_master_pid(d->scanner));
	for (i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", pids[i]);
	fputc('\n', f);
}

static void handle_request(struct daemon *d, int fd, const char *req)
{
	char *out = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return;
	if (!strcmp(req, "status")) {
		scanner_update_gauges(d->scanner);
		fprintf(f,
			"OK\nstatus=running\nengine=loaded\nsignatures=%llu\ntest_signatures=%s\n"
			"database=%s\nqueues=%u\nuptime_s=%llu\n",
			(unsigned long long)d->scan_stats.signatures,
			d->cfg.test_signatures ? "yes (NOT FOR PRODUCTION)" : "no", d->cfg.database,
			d->nq, (unsigned long long)((now_ms() - d->start_ms) / 1000));
		print_processes(d, f);
	} else if (!strcmp(req, "reload")) {
		char *text = malloc(8192);

		if (!text)
			fputs("ERR out of memory\n", f);
		else if (reload_run(d, "control socket", text, 8192) == 0)
			fprintf(f, "OK\n%s", text);
		else
			fprintf(f, "ERR %s", text);
		free(text);
	} else if (!strcmp(req, "stats")) {
		fputs("OK\n", f);
		daemon_print_stats(d, f, STATS_TEXT);
	} else if (!strcmp(req, "stats json")) {
		fputs("OK\n", f);
		daemon_print_stats(d, f, STATS_JSON);
	} else if (!strcmp(req, "stats prometheus")) {
		fputs("OK\n", f);
		daemon_print_stats(d, f, STATS_PROMETHEUS);
	} else if (!strcmp(req, "ports")) {
		if (daemon_load_ports(d, err, sizeof(err)) == 0)
			fputs("OK\n", f);
		else
			fprintf(f, "ERR %s\n", err);
	} else {
		fprintf(f, "ERR unknown request '%s'\n", req);
	}
	fclose(f);
	daemon_write_all(fd, out, len);
	free(out);
}

static void serve(struct daemon *d, int fd)
{
	char req[CTL_MAX_REQUEST + 2];
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct timeval tv = { .tv_sec = 2 };
	size_t len = 0;
	ssize_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0) {
		daemon_write_all(fd, "ERR permission denied\n", 22);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < CTL_MAX_REQUEST && (n = read(fd, req + len, CTL_MAX_REQUEST - len)) > 0) {
		len += (size_t)n;
		if (memchr(req, '\n', len))
			break;
	}
	req[len] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	handle_request(d, fd, req);
}

static void *ctl_main(void *arg)
{
	struct daemon *d = arg;

	daemon_accept_loop(d, d->ctl_fd, serve);
	return NULL;
}

int ctl_server_listen(struct daemon *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = d->cfg.control_socket;
	char dir[sizeof(sun.sun_path)], *slash;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	d->ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->ctl_fd < 0)
		return -1;
	unlink(path);
	if (bind(d->ctl_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
	    listen(d->ctl_fd, 16) < 0)
		return -1;
	return 0;
}

int ctl_server_start(struct daemon *d)
{
	int e;

	if ((e = pthread_create(&d->ctl_tid, NULL, ctl_main, d)))
		return -e;
	pthread_setname_np(d->ctl_tid, "ms-control");
	return 0;
}

void ctl_server_stop(struct daemon *d)
{
	if (d->ctl_fd < 0)
		return;
	pthread_join(d->ctl_tid, NULL);
	close(d->ctl_fd);
	unlink(d->cfg.control_socket);
	d->ctl_fd = -1;
}
