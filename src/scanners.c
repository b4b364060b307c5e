/* The `scanners` list. Pure: libc only. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanners.h"

static const char *const kind_names[] = {
	[SCANNER_LOCAL] = "local",
	[SCANNER_CLAMD_UNIX] = "clamd-unix",
	[SCANNER_CLAMD_TCP] = "clamd-tcp",
	[SCANNER_ICAP] = "icap",
};

const char *scanners_kind_name(enum scanner_kind k)
{
	return kind_names[k];
}

static int parse_port(const char *p, unsigned int *port)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*p))
		return -1;
	v = strtoul(p, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	*port = (unsigned int)v;
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT"; with DEF, the port may be left out */
static int parse_host_port(const char *p, struct scanner_spec *s, unsigned int def)
{
	const char *colon;
	size_t n;

	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (!close || close == p + 1)
			return -1;
		n = (size_t)(close - p - 1);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return -1;
		p++;
	} else {
		colon = strrchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
	}
	if (n == 0 || n >= sizeof(s->host))
		return -1;
	memcpy(s->host, p, n);
	s->host[n] = '\0';
	if (colon)
		return parse_port(colon + 1, &s->port);
	if (!def)
		return -1;
	s->port = def;
	return 0;
}

static int parse_entry(char *e, struct scanner_spec *s, char *err, size_t errlen)
{
	char *opt = strpbrk(e, " \t");

	memset(s, 0, sizeof(*s));
	if (opt) {
		*opt++ = '\0';
		opt += strspn(opt, " \t");
		if (strncmp(opt, "max=", 4) || parse_port(opt + 4, &s->max) || s->max > 256) {
			snprintf(err, errlen, "scanner '%s': unknown option '%s' (max=1..256)", e,
				 opt);
			return -1;
		}
	}
	if (strlen(e) >= sizeof(s->name)) {
		snprintf(err, errlen, "scanner '%.40s...': too long", e);
		return -1;
	}
	strcpy(s->name, e);
	if (!strcmp(e, "local")) {
		s->kind = SCANNER_LOCAL;
	} else if (!strncmp(e, "clamd:unix:", 11)) {
		s->kind = SCANNER_CLAMD_UNIX;
		if (e[11] != '/' || strlen(e + 11) >= sizeof(s->path))
			goto bad;
		strcpy(s->path, e + 11);
	} else if (!strncmp(e, "clamd:tcp:", 10)) {
		s->kind = SCANNER_CLAMD_TCP;
		if (parse_host_port(e + 10, s, 0))
			goto bad;
	} else if (!strncmp(e, "icap://", 7)) {
		char *slash = strchr(e + 7, '/'), hp[160];

		s->kind = SCANNER_ICAP;
		if (!slash || !slash[1] || strlen(slash + 1) >= sizeof(s->service) ||
		    strpbrk(slash + 1, "/?# "))
			goto bad;
		snprintf(hp, sizeof(hp), "%.*s", (int)(slash - e - 7), e + 7);
		if (parse_host_port(hp, s, 1344))
			goto bad;
		strcpy(s->service, slash + 1);
	} else {
		goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "scanner '%s': expected local, clamd:unix:/PATH, clamd:tcp:HOST:PORT or "
		 "icap://HOST[:PORT]/SERVICE",
		 e);
	return -1;
}

int scanners_parse(const char *text, struct scanner_spec *out, size_t cap, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *e;
	size_t n = 0, i;

	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "scanners: list too long");
		return -1;
	}
	strcpy(buf, text);
	for (e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		char *end;

		e += strspn(e, " \t");
		end = e + strlen(e);
		while (end > e && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*e)
			continue;
		if (n == cap || n == SCANNERS_MAX) {
			snprintf(err, errlen, "scanners: at most %d", SCANNERS_MAX);
			return -1;
		}
		if (parse_entry(e, &out[n], err, errlen))
			return -1;
		for (i = 0; i < n; i++) {
			if (!strcmp(out[i].name, out[n].name)) {
				snprintf(err, errlen, "scanner '%s' is listed twice", e);
				return -1;
			}
		}
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "scanners: the list is empty");
		return -1;
	}
	return (int)n;
}
