/* Protected-port rules and the ports file: pure, libc only. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "ports.h"

static const char *const proto_names[PROTO_COUNT] = {
	[PROTO_SMTP] = "smtp", [PROTO_POP3] = "pop3"
};

/* IANA service names that are the protocol itself, not "another protocol". */
static const char *const own_services[PROTO_COUNT][3] = {
	[PROTO_SMTP] = { "smtp", "submission", NULL },
	[PROTO_POP3] = { "pop3", NULL, NULL },
};

/* Implicit TLS: the whole connection is encrypted, nothing can be scanned. */
static const struct {
	uint16_t port;
	const char *what;
} tls_ports[] = {
	{ 465, "SMTP submission over implicit TLS" },
	{ 993, "IMAP over implicit TLS" },
	{ 995, "POP3 over implicit TLS" },
};

const char *ports_proto_name(enum ports_proto p)
{
	return proto_names[p];
}

int ports_parse_proto(const char *s, enum ports_proto *out)
{
	int i;

	for (i = 0; i < PROTO_COUNT; i++) {
		if (strcmp(s, proto_names[i]) == 0) {
			*out = (enum ports_proto)i;
			return 0;
		}
	}
	return -1;
}

int ports_parse_number(const char *s, uint16_t *out)
{
	unsigned long n = 0;
	size_t i, len = strlen(s);

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n < 1 || n > 65535)
		return -1;
	*out = (uint16_t)n;
	return 0;
}

const struct iana_service *iana_tcp_lookup(uint16_t port)
{
	size_t lo = 0, hi = iana_tcp_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (iana_tcp[mid].port == port)
			return &iana_tcp[mid];
		if (iana_tcp[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void ports_init(struct port_set *s)
{
	memset(s, 0, sizeof(*s));
	s->v[0] = (struct port_entry){ PROTO_SMTP, 25, 1 };
	s->v[1] = (struct port_entry){ PROTO_POP3, 110, 1 };
	s->n = 2;
}

const struct port_entry *ports_find(const struct port_set *s, uint16_t port)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].port == port)
			return &s->v[i];
	}
	return NULL;
}

static int is_own_service(enum ports_proto p, const char *name)
{
	const char *const *o;

	for (o = own_services[p]; *o; o++) {
		if (strcmp(*o, name) == 0)
			return 1;
	}
	return 0;
}

int ports_check_add(const struct port_set *s, enum ports_proto p, uint16_t port, int force,
		    char *why, size_t whylen)
{
	const struct port_entry *e;
	const struct iana_service *svc;
	size_t i;

	if (port == 0) {
		snprintf(why, whylen, "port 0 is not a valid port (expected 1-65535)");
		return PORTS_INVALID;
	}
	for (i = 0; i < sizeof(tls_ports) / sizeof(tls_ports[0]); i++) {
		if (tls_ports[i].port == port) {
			snprintf(why, whylen,
				 "port %u is %s: the traffic is encrypted and cannot be scanned",
				 port, tls_ports[i].what);
			return PORTS_REFUSED;
		}
	}
	e = ports_find(s, port);
	if (e) {
		snprintf(why, whylen, "port %u is already protected (%s%s)", port,
			 proto_names[e->proto], e->is_default ? ", default" : "");
		return PORTS_REFUSED;
	}
	svc = iana_tcp_lookup(port);
	if (svc && !force && !is_own_service(p, svc->name)) {
		snprintf(why, whylen,
			 "port %u is assigned by IANA to another protocol: %s (%s); "
			 "use --force to protect it anyway",
			 port, svc->name, svc->description);
		return PORTS_REFUSED;
	}
	if (s->n >= PORTS_MAX) {
		snprintf(why, whylen, "too many protected ports (at most %d)", PORTS_MAX);
		return PORTS_REFUSED;
	}
	return PORTS_OK;
}

int ports_check_remove(const struct port_set *s, enum ports_proto p, uint16_t port, char *why,
		       size_t whylen)
{
	const struct port_entry *e = ports_find(s, port);

	if (!e || e->proto != p) {
		snprintf(why, whylen, "port %u is not protected for %s", port, proto_names[p]);
		return PORTS_REFUSED;
	}
	if (e->is_default) {
		snprintf(why, whylen, "port %u is the %s default and cannot be removed", port,
			 proto_names[p]);
		return PORTS_REFUSED;
	}
	return PORTS_OK;
}

int ports_add(struct port_set *s, enum ports_proto p, uint16_t port, int force, char *why,
	      size_t whylen)
{
	int r = ports_check_add(s, p, port, force, why, whylen);

	if (r == PORTS_OK)
		s->v[s->n++] = (struct port_entry){ p, port, 0 };
	return r;
}

int ports_remove(struct port_set *s, enum ports_proto p, uint16_t port, char *why, size_t whylen)
{
	int r = ports_check_remove(s, p, port, why, whylen);
	struct port_entry *e;

	if (r != PORTS_OK)
		return r;
	e = (struct port_entry *)ports_find(s, port);
	*e = s->v[--s->n];
	return PORTS_OK;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

size_t ports_of(const struct port_set *s, enum ports_proto p, uint16_t *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < s->n && n < max; i++) {
		if (s->v[i].proto == p)
			out[n++] = s->v[i].port;
	}
	qsort(out, n, sizeof(*out), cmp_u16);
	return n;
}

int ports_read(struct port_set *s, FILE *f, const char *name, char *err, size_t errlen)
{
	char line[256], proto[16], num[16], extra[2];
	unsigned int lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		enum ports_proto p;
		uint16_t port;
		char *hash = strchr(line, '#');
		int n;

		lineno++;
		if (hash)
			*hash = '\0';
		n = sscanf(line, "%15s %15s %1s", proto, num, extra);
		if (n <= 0)
			continue;
		if (n != 2) {
			snprintf(err, errlen, "%s:%u: expected 'smtp|pop3 PORT'", name, lineno);
			return -1;
		}
		if (ports_parse_proto(proto, &p)) {
			snprintf(err, errlen, "%s:%u: unknown protocol '%s'", name, lineno, proto);
			return -1;
		}
		if (ports_parse_number(num, &port)) {
			snprintf(err, errlen, "%s:%u: invalid port '%s' (expected 1-65535)", name,
				 lineno, num);
			return -1;
		}
		if (ports_find(s, port)) {
			snprintf(err, errlen, "%s:%u: port %u listed twice", name, lineno, port);
			return -1;
		}
		if (s->n >= PORTS_MAX) {
			snprintf(err, errlen, "%s:%u: too many ports", name, lineno);
			return -1;
		}
		/* written by `ports add`, possibly with --force: not checked against IANA again */
		s->v[s->n++] = (struct port_entry){ p, port, 0 };
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", name);
		return -1;
	}
	return 0;
}

int ports_write(const struct port_set *s, FILE *f)
{
	uint16_t v[PORTS_MAX];
	size_t i, n;
	int p;

	fprintf(f, "# Ports protected by mailscan besides the defaults (smtp 25, pop3 110).\n"
		   "# Written by `mailscanctl ports add|remove`.\n");
	for (p = 0; p < PROTO_COUNT; p++) {
		n = ports_of(s, (enum ports_proto)p, v, PORTS_MAX);
		for (i = 0; i < n; i++) {
			const struct port_entry *e = ports_find(s, v[i]);

			if (!e->is_default)
				fprintf(f, "%s %u\n", proto_names[p], v[i]);
		}
	}
	return ferror(f) ? -1 : 0;
}

int ports_load(struct port_set *s, const char *path, char *err, size_t errlen)
{
	FILE *f;
	int r;

	ports_init(s);
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = ports_read(s, f, path, err, errlen);
	fclose(f);
	return r;
}

/* mkdir -p of PATH's directory */
static int make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(dir))
		return -1;
	strcpy(dir, path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0755) && errno != EEXIST ? -1 : 0;
}

int ports_save(const struct port_set *s, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (make_parent(path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		goto fail;
	}
	fchmod(fd, 0644);
	if (ports_write(s, f) || fflush(f) || fsync(fd)) {
		fclose(f);
		goto fail;
	}
	if (fclose(f) || rename(tmp, path))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	unlink(tmp);
	return -1;
}
