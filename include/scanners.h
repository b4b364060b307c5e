/* The `scanners` list: where messages are scanned. Pure: parsing only. */
#ifndef MAILSCAN_SCANNERS_H
#define MAILSCAN_SCANNERS_H

#include <stddef.h>

#define SCANNERS_MAX 16

enum scanner_kind {
	SCANNER_LOCAL,	    /* sandboxed libclamav processes on this machine */
	SCANNER_CLAMD_UNIX, /* clamd's INSTREAM on a unix socket */
	SCANNER_CLAMD_TCP,  /* clamd's INSTREAM over TCP */
	SCANNER_ICAP,	    /* an RFC 3507 service */
};

struct scanner_spec {
	enum scanner_kind kind;
	char name[160]; /* as configured, without options: "clamd:tcp:10.0.3.2:3310" */
	char path[108]; /* clamd:unix */
	char host[64];	/* clamd:tcp, icap: a name or an address ([v6] without brackets) */
	unsigned int port;
	char service[64]; /* icap: the path after the port, without the slash */
	unsigned int max; /* scans at once; 0: the default (workers for local, 4 remote) */
};

/* Parses "ENTRY[ max=N], ENTRY..." where ENTRY is local, clamd:unix:PATH,
 * clamd:tcp:HOST:PORT or icap://HOST[:PORT]/SERVICE (port 1344 by default). Returns
 * the number of entries (1..SCANNERS_MAX), or -1 with the reason in ERR. */
int scanners_parse(const char *text, struct scanner_spec *out, size_t cap, char *err,
		   size_t errlen);
const char *scanners_kind_name(enum scanner_kind);

#endif
