/* ICAP (RFC 3507): OPTIONS for the methods, the preview size and the ISTag; RESPMOD (or
 * REQMOD) with the message as the encapsulated HTTP body, chunked, with Preview and
 * Allow: 204. Clean: 204 (or a 200 without an infection header). Infected: a 200 with
 * X-Infection-Found (Threat=NAME), X-Virus-ID or X-Violations-Found, as c-icap's
 * virus_scan and commercial servers send them. One connection per request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "backend.h"
#include "clock.h"
#include "remote.h"

#define HEAD_MAX 16384

/* the response's status line and headers, up to the blank line; the status code */
static int read_head(int fd, char *buf, size_t cap, uint64_t deadline)
{
	size_t n = 0;
	int code;

	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			errno = EMSGSIZE;
			return -1;
		}
		r = remote_read(fd, buf + n, 1, deadline);
		if (r <= 0) {
			if (r == 0)
				errno = EPROTO;
			return -1;
		}
		n++;
		buf[n] = '\0';
		if (n >= 4 && !memcmp(buf + n - 4, "\r\n\r\n", 4))
			break;
	}
	if (sscanf(buf, "ICAP/1.0 %d", &code) != 1) {
		errno = EPROTO;
		return -1;
	}
	return code;
}

/* the value of header NAME in HEAD (case-insensitive), up to the line's end */
static int header(const char *head, const char *name, char *out, size_t cap)
{
	const char *p = head;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *end = strstr(v, "\r\n");

			v += strspn(v, " \t");
			snprintf(out, cap, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
			return 0;
		}
	}
	return -1;
}

static void track_istag(const struct scanner_spec *s, struct icap_service *svc, const char *head)
{
	char tag[96];

	if (header(head, "ISTag", tag, sizeof(tag)))
		return;
	if (svc->istag[0] && strcmp(svc->istag, tag))
		log_info("icap %s: service tag %s -> %s (its signatures changed)", s->name,
			 svc->istag, tag);
	snprintf(svc->istag, sizeof(svc->istag), "%s", tag);
}

static int request_line(char *buf, size_t cap, const char *method, const struct scanner_spec *s)
{
	int v6 = strchr(s->host, ':') != NULL;

	return snprintf(buf, cap, "%s icap://%s%s%s:%u/%s ICAP/1.0\r\nHost: %s%s%s\r\n", method,
			v6 ? "[" : "", s->host, v6 ? "]" : "", s->port, s->service, v6 ? "[" : "",
			s->host, v6 ? "]" : "");
}

enum remote_rc icap_options(const struct scanner_spec *s, struct icap_service *svc,
			    uint64_t deadline_ms)
{
	char buf[HEAD_MAX], v[256];
	int fd = remote_connect(s, deadline_ms), n, code;

	if (fd < 0)
		return remote_failed();
	n = request_line(buf, sizeof(buf), "OPTIONS", s);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "Encapsulated: null-body=0\r\n\r\n");
	if (remote_write(fd, buf, (size_t)n, deadline_ms) ||
	    (code = read_head(fd, buf, sizeof(buf), deadline_ms)) < 0) {
		close(fd);
		return remote_failed();
	}
	close(fd);
	if (code != 200) {
		errno = EPROTO;
		return REMOTE_FAILED;
	}
	svc->reqmod = header(buf, "Methods", v, sizeof(v)) == 0 && strstr(v, "REQMOD") &&
		      !strstr(v, "RESPMOD");
	svc->preview_known = header(buf, "Preview", v, sizeof(v)) == 0;
	svc->preview = svc->preview_known ? (unsigned int)strtoul(v, NULL, 10) : 0;
	track_istag(s, svc, buf);
	return REMOTE_OK;
}

static int write_chunk(int fd, const uint8_t *p, size_t len, uint64_t deadline)
{
	char size[24];
	int n;

	if (!len)
		return 0;
	n = snprintf(size, sizeof(size), "%zx\r\n", len);
	return remote_write(fd, size, (size_t)n, deadline) || remote_write(fd, p, len, deadline) ||
	       remote_write(fd, "\r\n", 2, deadline);
}

/* the verdict in the final response's headers */
static void verdict(const char *head, int code, enum scan_result *result, char *virus,
		    size_t viruslen)
{
	char v[256], *t;

	virus[0] = '\0';
	*result = SCAN_CLEAN;
	if (code == 204)
		return;
	if (header(head, "X-Infection-Found", v, sizeof(v)) == 0) {
		*result = SCAN_INFECTED;
		t = strstr(v, "Threat=");
		snprintf(virus, viruslen, "%.*s", t ? (int)strcspn(t + 7, ";") : (int)strlen(v),
			 t ? t + 7 : v);
	} else if (header(head, "X-Virus-ID", v, sizeof(v)) == 0 ||
		   header(head, "X-Violations-Found", v, sizeof(v)) == 0) {
		*result = SCAN_INFECTED;
		snprintf(virus, viruslen, "%s", v);
	}
}

enum remote_rc icap_scan(const struct scanner_spec *s, struct icap_service *svc, const uint8_t *msg,
			 size_t len, uint64_t deadline_ms, enum scan_result *result, char *virus,
			 size_t viruslen)
{
	char head[HEAD_MAX], http[256], req[1024];
	size_t preview = svc->preview_known && svc->preview < len ? svc->preview : len;
	int fd, n, hn, code, reqmod = svc->reqmod;

	hn = reqmod ? snprintf(http, sizeof(http),
			       "POST /message.eml HTTP/1.1\r\nHost: mailscan\r\n"
			       "Content-Type: message/rfc822\r\nContent-Length: %zu\r\n\r\n",
			       len)
		    : snprintf(http, sizeof(http),
			       "HTTP/1.1 200 OK\r\nContent-Type: message/rfc822\r\n"
			       "Content-Length: %zu\r\n\r\n",
			       len);
	n = request_line(req, sizeof(req), reqmod ? "REQMOD" : "RESPMOD", s);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "Allow: 204\r\n");
	if (svc->preview_known)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Preview: %zu\r\n", preview);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "Encapsulated: %s=0, %s=%d\r\n\r\n",
		      reqmod ? "req-hdr" : "res-hdr", reqmod ? "req-body" : "res-body", hn);
	fd = remote_connect(s, deadline_ms);
	if (fd < 0)
		return remote_failed();
	if (remote_write(fd, req, (size_t)n, deadline_ms) ||
	    remote_write(fd, http, (size_t)hn, deadline_ms) ||
	    write_chunk(fd, msg, preview, deadline_ms))
		goto fail;
	if (svc->preview_known) {
		/* all of it in the preview: say so, the server answers at once */
		if (remote_write(fd, preview == len ? "0; ieof\r\n\r\n" : "0\r\n\r\n",
				 preview == len ? 11 : 5, deadline_ms) ||
		    (code = read_head(fd, head, sizeof(head), deadline_ms)) < 0)
			goto fail;
		if (code != 100)
			goto done;
	}
	if (write_chunk(fd, msg + preview, len - preview, deadline_ms) ||
	    remote_write(fd, "0\r\n\r\n", 5, deadline_ms) ||
	    (code = read_head(fd, head, sizeof(head), deadline_ms)) < 0)
		goto fail;
done:
	close(fd);
	track_istag(s, svc, head);
	if (code != 200 && code != 204) {
		errno = EPROTO;
		log_warnx("icap %s: status %d", s->name, code);
		return REMOTE_FAILED;
	}
	verdict(head, code, result, virus, viruslen);
	return REMOTE_OK;
fail:
	n = errno;
	close(fd);
	errno = n;
	return remote_failed();
}

/* --- the backend: the service's options per thread --- */

struct icap_slot {
	struct icap_service svc;
	int known; /* OPTIONS answered */
};

static int icap_open(struct backend_slot *bs)
{
	bs->priv = calloc(1, sizeof(struct icap_slot));
	return bs->priv ? 0 : -1;
}

static void icap_close(struct backend_slot *bs)
{
	free(bs->priv);
	bs->priv = NULL;
}

static enum remote_rc icap_health(struct backend_slot *bs, uint64_t deadline_ms)
{
	struct icap_slot *sl = bs->priv;
	enum remote_rc rc = icap_options(bs->spec, &sl->svc, deadline_ms);

	sl->known = rc == REMOTE_OK;
	return rc;
}

static enum remote_rc icap_backend_scan(struct backend_slot *bs, struct scan_job *j, uint64_t gen,
					uint64_t deadline_ms)
{
	struct icap_slot *sl = bs->priv;
	uint64_t t0 = now_us();
	enum remote_rc rc;

	(void)gen;
	if (!sl->known && icap_health(bs, deadline_ms) != REMOTE_OK)
		rc = remote_failed();
	else
		rc = icap_scan(bs->spec, &sl->svc, j->msg, j->len, deadline_ms, &j->result,
			       j->virus, sizeof(j->virus));
	j->scan_us = now_us() - t0;
	return rc;
}

const struct backend_ops icap_ops = {
	.thread = "ms-remote",
	.open = icap_open,
	.close = icap_close,
	.health = icap_health,
	.scan = icap_backend_scan,
};
