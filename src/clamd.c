/* clamd's INSTREAM: the message in length-prefixed chunks, a zero-length chunk at the
 * end, one NUL-terminated reply. Inside an IDSESSION the connection serves scan after
 * scan (replies carry "N: "); clamd closes an idle session, so a stale one is opened
 * again once before the scanner counts as failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "remote.h"

#define CHUNK (64 * 1024)

/* one NUL-terminated reply into BUF; its length, 0 at end of file, -1 on error */
static ssize_t read_reply(int fd, char *buf, size_t cap, uint64_t deadline)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = remote_read(fd, buf + n, 1, deadline);

		if (r <= 0)
			return n ? -1 : r;
		if (buf[n] == '\0')
			return (ssize_t)n;
		n++;
	}
	buf[n] = '\0';
	return (ssize_t)n; /* longer than any reply: cut */
}

static int send_stream(int fd, const uint8_t *msg, size_t len, uint64_t deadline)
{
	uint32_t hdr;

	if (remote_write(fd, "zINSTREAM", 10, deadline))
		return -1;
	while (len) {
		size_t n = len < CHUNK ? len : CHUNK;

		hdr = htonl((uint32_t)n);
		if (remote_write(fd, &hdr, 4, deadline) || remote_write(fd, msg, n, deadline))
			return -1;
		msg += n;
		len -= n;
	}
	hdr = 0;
	return remote_write(fd, &hdr, 4, deadline);
}

static void parse_reply(char *r, enum scan_result *result, char *virus, size_t viruslen)
{
	char *p = r, *found;
	size_t n;

	/* "12: stream: OK" in a session */
	if (*p >= '0' && *p <= '9' && (p = strstr(r, ": ")) && p < r + 12)
		r = p + 2;
	if (!strncmp(r, "stream: ", 8))
		r += 8;
	n = strlen(r);
	virus[0] = '\0';
	if (!strcmp(r, "OK")) {
		*result = SCAN_CLEAN;
	} else if (n > 6 && (found = r + n - 6) && !strcmp(found, " FOUND")) {
		*result = SCAN_INFECTED;
		snprintf(virus, viruslen, "%.*s", (int)(n - 6), r);
	} else if (strstr(r, "size limit exceeded")) {
		*result = SCAN_OVERSIZE;
		snprintf(virus, viruslen, "clamd: %s", r);
	} else {
		*result = SCAN_ERROR;
		snprintf(virus, viruslen, "clamd: %s", r);
	}
}

enum remote_rc clamd_scan(const struct scanner_spec *s, int *session, const uint8_t *msg,
			  size_t len, uint64_t deadline_ms, enum scan_result *result, char *virus,
			  size_t viruslen)
{
	char reply[512];
	int tries;

	for (tries = 0; tries < 2; tries++) {
		int fresh = *session < 0, wrote;
		ssize_t n;

		if (fresh) {
			*session = remote_connect(s, deadline_ms);
			if (*session < 0 || remote_write(*session, "zIDSESSION", 11, deadline_ms))
				goto fail;
		}
		wrote = send_stream(*session, msg, len, deadline_ms) == 0;
		if (!wrote && errno == ETIMEDOUT)
			goto fail;
		/* over StreamMaxLength clamd answers and closes while the stream still goes */
		n = read_reply(*session, reply, sizeof(reply), deadline_ms);
		if (n > 0) {
			parse_reply(reply, result, virus, viruslen);
			if (*result == SCAN_OVERSIZE || *result == SCAN_ERROR) {
				close(*session); /* clamd ends the session after an error */
				*session = -1;
			}
			return REMOTE_OK;
		}
		if (n < 0 && errno == ETIMEDOUT)
			goto fail;
		close(*session);
		*session = -1;
		if (fresh)
			break; /* a new connection that fails says something: fail over */
	}
	errno = EPROTO;
fail : {
	int e = errno;

	if (*session >= 0)
		close(*session);
	*session = -1;
	errno = e;
}
	return remote_failed();
}

enum remote_rc clamd_ping(const struct scanner_spec *s, uint64_t deadline_ms)
{
	char reply[16];
	enum remote_rc rc = REMOTE_FAILED;
	int fd = remote_connect(s, deadline_ms);

	if (fd < 0)
		return remote_failed();
	if (remote_write(fd, "zPING", 6, deadline_ms) == 0 &&
	    read_reply(fd, reply, sizeof(reply), deadline_ms) > 0 && !strcmp(reply, "PONG"))
		rc = REMOTE_OK;
	else if (errno == ETIMEDOUT)
		rc = REMOTE_TIMEOUT;
	close(fd);
	return rc;
}

/* --- the backend: a session kept open per thread --- */

static int clamd_open(struct backend_slot *bs)
{
	int *conn = malloc(sizeof(*conn));

	if (!conn)
		return -1;
	*conn = -1;
	bs->priv = conn;
	return 0;
}

static void clamd_close(struct backend_slot *bs)
{
	int *conn = bs->priv;

	if (*conn >= 0)
		close(*conn);
	free(conn);
	bs->priv = NULL;
}

static enum remote_rc clamd_health(struct backend_slot *bs, uint64_t deadline_ms)
{
	return clamd_ping(bs->spec, deadline_ms);
}

static enum remote_rc clamd_backend_scan(struct backend_slot *bs, struct scan_job *j, uint64_t gen,
					 uint64_t deadline_ms)
{
	uint64_t t0 = now_us();
	enum remote_rc rc = clamd_scan(bs->spec, bs->priv, j->msg, j->len, deadline_ms, &j->result,
				       j->virus, sizeof(j->virus));

	(void)gen;
	j->scan_us = now_us() - t0;
	return rc;
}

const struct backend_ops clamd_ops = {
	.thread = "ms-remote",
	.open = clamd_open,
	.close = clamd_close,
	.health = clamd_health,
	.scan = clamd_backend_scan,
};
