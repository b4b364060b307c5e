/* The metrics endpoint: HTTP/1.0 GET /metrics in the Prometheus text format, on
 * metrics_listen. One request at a time in its own thread, off the packet path; a
 * request is read for at most METRICS_TIMEOUT_S and METRICS_MAX_REQUEST bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define METRICS_MAX_REQUEST 4096
#define METRICS_TIMEOUT_S   2

/* HEAD_ONLY: the headers a GET would get, without the body */
static void respond(int fd, const char *status, const char *type, const char *body, size_t len,
		    int head_only)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	daemon_write_all(fd, head, (size_t)n);
	if (!head_only)
		daemon_write_all(fd, body, len);
}

static void serve(struct daemon *d, int fd)
{
	char req[METRICS_MAX_REQUEST + 1], *body = NULL;
	struct timeval tv = { .tv_sec = METRICS_TIMEOUT_S };
	size_t len = 0, blen = 0;
	ssize_t n;
	FILE *f;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len < METRICS_MAX_REQUEST &&
	       (n = recv(fd, req + len, METRICS_MAX_REQUEST - len, 0)) > 0) {
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	if (strncmp(req, "GET ", 4) && strncmp(req, "HEAD ", 5)) {
		respond(fd, "405 Method Not Allowed", "text/plain", "GET or HEAD only\n", 17, 0);
		return;
	}
	if (strncmp(strchr(req, ' ') + 1, "/metrics", 8) || !strchr(" ?", strchr(req, ' ')[9])) {
		respond(fd, "404 Not Found", "text/plain", "see /metrics\n", 13, req[0] == 'H');
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f)
		return;
	daemon_print_stats(d, f, STATS_PROMETHEUS);
	fclose(f);
	respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, blen,
		req[0] == 'H');
	free(body);
}

static void *metrics_main(void *arg)
{
	struct daemon *d = arg;

	daemon_accept_loop(d, d->metrics_fd, serve);
	return NULL;
}

/* a listening socket on ADDR ("ADDR:PORT" or "[ADDR6]:PORT"); -1 with a reason in ERR */
static int metrics_bind(const char *listen_on, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char addr[64];
	unsigned int port;
	int fd, one = 1, v6 = listen_on[0] == '[';

	if (config_split_listen(listen_on, addr, sizeof(addr), &port)) {
		snprintf(err, errlen, "metrics_listen '%s': not ADDR:PORT", listen_on);
		return -1;
	}
	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &in4->sin_addr);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss,
		 v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0 ||
	    listen(fd, 16) < 0) {
		snprintf(err, errlen, "metrics_listen %s: %s", listen_on, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int metrics_listen(struct daemon *d, char *err, size_t errlen)
{
	d->metrics_fd = -1;
	if (!d->cfg.metrics_listen[0])
		return 0;
	d->metrics_fd = metrics_bind(d->cfg.metrics_listen, err, errlen);
	return d->metrics_fd < 0 ? -1 : 0;
}

static int start_thread(struct daemon *d, const char *listen_on, char *err, size_t errlen)
{
	int e;

	if ((e = pthread_create(&d->metrics_tid, NULL, metrics_main, d))) {
		snprintf(err, errlen, "metrics thread: %s", strerror(e));
		return -1;
	}
	pthread_setname_np(d->metrics_tid, "ms-metrics");
	log_info("metrics on http://%s/metrics", listen_on);
	return 0;
}

int metrics_start(struct daemon *d, char *err, size_t errlen)
{
	if (d->metrics_fd < 0)
		return 0;
	return start_thread(d, d->cfg.metrics_listen, err, errlen);
}

int metrics_prepare(const char *listen_on, char *err, size_t errlen)
{
	return listen_on[0] ? metrics_bind(listen_on, err, errlen) : -2;
}

/* The serving thread keeps its descriptor: the new socket takes that number (dup2 closes
 * the old one), so its next poll accepts on the new address. Off, the number holds an
 * eventfd that never becomes readable. */
int metrics_move(struct daemon *d, int fd, const char *listen_on, char *err, size_t errlen)
{
	if (fd == -2)
		fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "metrics_listen: %s", strerror(errno));
		return -1;
	}
	if (d->metrics_fd < 0) { /* no thread yet */
		if (!listen_on[0]) {
			close(fd);
			return 0;
		}
		d->metrics_fd = fd;
		if (start_thread(d, listen_on, err, errlen)) {
			d->metrics_fd = -1;
			close(fd);
			return -1;
		}
		return 0;
	}
	if (dup2(fd, d->metrics_fd) < 0) {
		snprintf(err, errlen, "metrics_listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (listen_on[0])
		log_info("metrics on http://%s/metrics", listen_on);
	else
		log_info("metrics endpoint closed");
	return 0;
}

void metrics_stop(struct daemon *d)
{
	if (d->metrics_fd < 0)
		return;
	pthread_join(d->metrics_tid, NULL);
	close(d->metrics_fd);
}
