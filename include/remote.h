/* Remote scanners: clamd (INSTREAM) and ICAP (RFC 3507) clients, and the socket I/O they
 * share, every call bounded by a deadline (now_ms()). They run in the scanner's threads,
 * never in a queue thread. */
#ifndef MAILSCAN_REMOTE_H
#define MAILSCAN_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scan.h"
#include "scanners.h"

enum remote_rc {
	REMOTE_OK,	/* the scanner answered: RESULT and VIRUS say what */
	REMOTE_FAILED,	/* no answer (connection refused or lost, protocol error) */
	REMOTE_TIMEOUT, /* no answer by the deadline */
};

/* --- remote.c: sockets --- */
int remote_connect(const struct scanner_spec *, uint64_t deadline_ms);
int remote_write(int fd, const void *, size_t, uint64_t deadline_ms);
ssize_t remote_read(int fd, void *, size_t, uint64_t deadline_ms);
/* -1 and errno ETIMEDOUT when DEADLINE has passed */
int remote_wait(int fd, short events, uint64_t deadline_ms);
/* what a failed call's errno means: REMOTE_TIMEOUT for ETIMEDOUT, else REMOTE_FAILED */
enum remote_rc remote_failed(void);

/* --- clamd.c --- */
/* INSTREAM in an IDSESSION kept open in *SESSION (-1: none yet; a stale one is opened
 * again once). clamd's StreamMaxLength gives SCAN_OVERSIZE. */
enum remote_rc clamd_scan(const struct scanner_spec *, int *session, const uint8_t *msg, size_t len,
			  uint64_t deadline_ms, enum scan_result *result, char *virus,
			  size_t viruslen);
/* PING, PONG */
enum remote_rc clamd_ping(const struct scanner_spec *, uint64_t deadline_ms);

/* --- icap.c --- */
struct icap_service {
	int reqmod;	      /* the service takes REQMOD only */
	int preview_known;    /* OPTIONS gave a Preview size */
	unsigned int preview; /* bytes */
	char istag[96];
};
/* OPTIONS: methods, preview size, ISTag */
enum remote_rc icap_options(const struct scanner_spec *, struct icap_service *,
			    uint64_t deadline_ms);
/* RESPMOD (or REQMOD) with the message as the encapsulated body, Preview and Allow: 204;
 * infected when the answer carries X-Infection-Found, X-Virus-ID or X-Violations-Found */
enum remote_rc icap_scan(const struct scanner_spec *, struct icap_service *, const uint8_t *msg,
			 size_t len, uint64_t deadline_ms, enum scan_result *result, char *virus,
			 size_t viruslen);

#endif
