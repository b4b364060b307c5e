/* Configuration file parser: pure, libc only. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "config.h"
#include "scanners.h"
#include "log.h"

static const char *const mode_names[] = { [MODE_GATEWAY] = "gateway", [MODE_HOST] = "host" };
static const char *const action_names[] = {
	[ACTION_REJECT] = "reject", [ACTION_RESET] = "reset",	  [ACTION_MONITOR] = "monitor",
	[ACTION_DELETE] = "delete", [ACTION_REPLACE] = "replace",
};
static const char *const policy_names[] = {
	[POLICY_PASS] = "pass",
	[POLICY_BLOCK] = "block",
	[POLICY_TEMPFAIL] = "tempfail",
};
static const char *const midstream_names[] = {
	[MIDSTREAM_RESET] = "reset", [MIDSTREAM_PASS] = "pass"
};
static const char *const queue_full_names[] = {
	[QUEUE_FULL_DROP] = "drop", [QUEUE_FULL_ACCEPT] = "accept"
};
static const char *const pop3_hold_names[] = {
	[POP3_HOLD_WHOLE] = "whole", [POP3_HOLD_END] = "end"
};

const char *config_mode_name(enum config_mode m)
{
	return mode_names[m];
}

const char *config_action_name(enum config_action a)
{
	return action_names[a];
}

const char *config_policy_name(enum config_policy p)
{
	return policy_names[p];
}

const char *config_pop3_hold_name(enum config_pop3_hold h)
{
	return pop3_hold_names[h];
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->database, "/var/lib/clamav");
	strcpy(c->ports_file, "/etc/mailscan/ports");
	strcpy(c->control_socket, "/run/mailscan/control.sock");
	strcpy(c->quarantine, "/var/lib/mailscan/quarantine");
	strcpy(c->tmpdir, "/run/mailscan/tmp");
	c->queue_first = 0;
	c->queue_count = 1;
	c->workers = 2;
	c->mode = MODE_GATEWAY;
	c->smtp_action = ACTION_REJECT;
	c->pop3_action = ACTION_REPLACE; /* the default with the default hold: config_resolve */
	c->oversize = POLICY_PASS;
	c->on_error = POLICY_TEMPFAIL;
	c->max_message_size = 50ULL << 20;
	c->offload_mark = 0x40000000;
	c->inject_mark = 0x20000000;
	c->hold_timeout = 120;
	c->on_limit = POLICY_BLOCK;
	c->on_crash = POLICY_BLOCK;
	strcpy(c->user, "mailscan");
	strcpy(c->scanners, "local");
	c->scan_timeout = 60;
	c->scan_max_size = 100ULL << 20;
	c->scan_max_filesize = 50ULL << 20;
	c->scanner_memory = 1ULL << 30;
	c->scanner_max_scans = 100;
	c->scan_max_recursion = 16;
	c->scan_max_files = 10000;
	c->quarantine_max = 1ULL << 30;
	c->max_flows = 65536;
	c->midstream = MIDSTREAM_RESET;
	c->midstream_grace = 60;
	c->queue_full = QUEUE_FULL_DROP;
	c->pop3_hold = POP3_HOLD_WHOLE;
	c->pop3_hold_max = 32ULL << 20;
	c->idle_timeout = 900;
	c->min_ttl = 16;
	c->ooo_segments = 4096;
	c->flow_buffer = 1 << 20;
	c->total_buffer = 256ULL << 20;
	c->message_memory = 1ULL << 30;
	c->test_hold_ms = 1000;
	c->log_target = LOG_TARGET_AUTO;
	c->log_facility = 1; /* mail */
	strcpy(c->syslog_socket, "/dev/log");
	c->database_watch = 1;
}

static int parse_enum(const char *v, const char *const *names, size_t n, const char *what,
		      char *err, size_t errlen)
{
	size_t i, off = 0;
	char list[128] = "";

	for (i = 0; i < n; i++) {
		if (names[i] && strcmp(v, names[i]) == 0)
			return (int)i;
	}
	for (i = 0; i < n; i++) {
		if (names[i])
			off += snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "",
					names[i]);
	}
	snprintf(err, errlen, "invalid %s '%s' (expected %s)", what, v, list);
	return -1;
}

/* Decimal integer in [lo, hi], optionally with a K/M/G suffix when SIZES. */
static int parse_u64(const char *v, uint64_t lo, uint64_t hi, int sizes, uint64_t *out)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno)
		return -1;
	if (sizes && *end) {
		unsigned int shift = 0;

		switch (*end) {
		case 'K':
		case 'k':
			shift = 10;
			break;
		case 'M':
		case 'm':
			shift = 20;
			break;
		case 'G':
		case 'g':
			shift = 30;
			break;
		default:
			return -1;
		}
		if (n > (UINT64_MAX >> shift))
			return -1;
		n <<= shift;
		end++;
	}
	if (*end || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

int config_split_listen(const char *v, char *addr, size_t addrlen, unsigned int *port)
{
	const char *colon = strrchr(v, ':');
	const char *a = v;
	size_t n;
	uint64_t p;
	unsigned char bin[16];

	if (!colon)
		return -1;
	n = (size_t)(colon - v);
	if (*v == '[') {
		if (n < 2 || v[n - 1] != ']')
			return -1;
		a = v + 1;
		n -= 2;
	}
	if (n >= addrlen || parse_u64(colon + 1, 1, 65535, 0, &p))
		return -1;
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (inet_pton(*v == '[' ? AF_INET6 : AF_INET, addr, bin) != 1)
		return -1;
	*port = (unsigned int)p;
	return 0;
}

static int parse_bool(const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* `N` or `N-M`, queue numbers 0-65535, at most 64 queues. */
static int parse_queues(struct config *c, const char *v, char *err, size_t errlen)
{
	uint64_t a, b;
	const char *dash = strchr(v, '-');
	char first[16];

	if (dash) {
		if ((size_t)(dash - v) >= sizeof(first))
			goto bad;
		memcpy(first, v, dash - v);
		first[dash - v] = '\0';
		if (parse_u64(first, 0, 65535, 0, &a) || parse_u64(dash + 1, 0, 65535, 0, &b))
			goto bad;
	} else {
		if (parse_u64(v, 0, 65535, 0, &a))
			goto bad;
		b = a;
	}
	if (b < a || b - a >= 64)
		goto bad;
	c->queue_first = (uint16_t)a;
	c->queue_count = (uint16_t)(b - a + 1);
	return 0;
bad:
	snprintf(err, errlen, "invalid queues '%s' (expected N or N-M, 0-65535, at most 64)", v);
	return -1;
}

static int set_path(char *dst, const char *v, char *err, size_t errlen)
{
	if (v[0] != '/') {
		snprintf(err, errlen, "path '%s' must be absolute", v);
		return -1;
	}
	if (strlen(v) >= PATH_MAX) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	strcpy(dst, v);
	return 0;
}

enum key_kind {
	K_PATH,
	K_QUEUES,
	K_UINT,
	K_SIZE,
	K_MODE,
	K_ACTION,
	K_POLICY,
	K_BOOL,
	K_MARK,
	K_STRING,
	K_LOG,
	K_FACILITY,
	K_LISTEN,
	K_SCANNERS,
	K_MIDSTREAM,
	K_QUEUE_FULL,
	K_POP3_HOLD,
};

/* the words of the two-word keys */
static const char *const *const choice_names[] = {
	[K_MIDSTREAM] = midstream_names,
	[K_QUEUE_FULL] = queue_full_names,
	[K_POP3_HOLD] = pop3_hold_names,
};

/* A key is live when a reload applies it to the running daemon, restart when only a
 * restart does (the reload names it). */
#define RESTART CONFIG_RESTART
#define LIVE	CONFIG_LIVE

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t off, size; /* the field(s) it sets */
	uint64_t lo, hi;  /* for numbers; for actions: allowed mask */
	enum config_class cls;
};

#define F(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define SPAN(a, b)                                                                                 \
	offsetof(struct config, a), offsetof(struct config, b) + sizeof(((struct config *)0)->b) - \
					    offsetof(struct config, a)
static const struct key_def keys[] = {
	{ "database", K_PATH, F(database), 0, 0, RESTART },
	{ "ports_file", K_PATH, F(ports_file), 0, 0, RESTART },
	{ "control_socket", K_PATH, F(control_socket), 0, 0, RESTART },
	{ "quarantine", K_PATH, F(quarantine), 0, 0, LIVE },
	{ "tmpdir", K_PATH, F(tmpdir), 0, 0, RESTART },
	{ "queues", K_QUEUES, SPAN(queue_first, queue_count), 0, 0, RESTART },
	{ "workers", K_UINT, F(workers), 1, 64, RESTART },
	{ "mode", K_MODE, F(mode), 0, 0, RESTART },
	{ "smtp_action", K_ACTION, F(smtp_action),
	  (1 << ACTION_REJECT) | (1 << ACTION_RESET) | (1 << ACTION_MONITOR), 0, LIVE },
	{ "pop3_action", K_ACTION, F(pop3_action),
	  (1 << ACTION_RESET) | (1 << ACTION_MONITOR) | (1 << ACTION_DELETE) |
		  (1 << ACTION_REPLACE),
	  0, LIVE },
	{ "oversize", K_POLICY, F(oversize), 0, 0, LIVE },
	{ "on_error", K_POLICY, F(on_error), 0, 0, LIVE },
	{ "on_limit", K_POLICY, F(on_limit), 0, 0, LIVE },
	{ "on_crash", K_POLICY, F(on_crash), 0, 0, LIVE },
	{ "user", K_STRING, F(user), 0, 0, RESTART },
	{ "scan_timeout", K_UINT, F(scan_timeout), 1, 3600, LIVE },
	{ "scan_max_size", K_SIZE, F(scan_max_size), 1024, 4ULL << 30, LIVE },
	{ "scan_max_filesize", K_SIZE, F(scan_max_filesize), 1024, 4ULL << 30, LIVE },
	{ "scan_max_recursion", K_UINT, F(scan_max_recursion), 1, 64, LIVE },
	{ "scan_max_files", K_UINT, F(scan_max_files), 1, 1000000, LIVE },
	{ "scanner_memory", K_SIZE, F(scanner_memory), 16ULL << 20, 1ULL << 40, LIVE },
	{ "scanner_max_scans", K_UINT, F(scanner_max_scans), 0, 1000000000, LIVE },
	{ "quarantine_max", K_SIZE, F(quarantine_max), 4096, 1ULL << 40, LIVE },
	{ "max_message_size", K_SIZE, F(max_message_size), 1024, 1ULL << 32, LIVE },
	{ "fail_closed", K_BOOL, F(fail_closed), 0, 0, RESTART },
	{ "test_signatures", K_BOOL, F(test_signatures), 0, 0, RESTART },
	{ "offload_mark", K_MARK, F(offload_mark), 0, 0, RESTART },
	{ "inject_mark", K_MARK, F(inject_mark), 0, 0, RESTART },
	{ "hold_timeout", K_UINT, F(hold_timeout), 1, 3600, LIVE },
	{ "max_flows", K_UINT, F(max_flows), 16, 1 << 24, RESTART },
	{ "midstream", K_MIDSTREAM, F(midstream), 0, 0, LIVE },
	{ "midstream_grace", K_UINT, F(midstream_grace), 0, 86400, LIVE },
	{ "queue_full", K_QUEUE_FULL, F(queue_full), 0, 0, RESTART },
	{ "pop3_hold", K_POP3_HOLD, F(pop3_hold), 0, 0, LIVE },
	{ "pop3_hold_max", K_SIZE, F(pop3_hold_max), 1024, 1ULL << 32, LIVE },
	{ "idle_timeout", K_UINT, F(idle_timeout), 5, 86400, LIVE },
	{ "min_ttl", K_UINT, F(min_ttl), 0, 255, LIVE },
	{ "ooo_segments", K_UINT, F(ooo_segments), 16, 1 << 20, LIVE },
	{ "flow_buffer", K_SIZE, F(flow_buffer), 4096, 1ULL << 30, LIVE },
	{ "total_buffer", K_SIZE, F(total_buffer), 65536, 1ULL << 40, LIVE },
	{ "message_memory", K_SIZE, F(message_memory), 65536, 1ULL << 40, LIVE },
	{ "test_hold", K_STRING, F(test_hold), 0, 0, LIVE },
	{ "test_hold_ms", K_UINT, F(test_hold_ms), 1, 600000, LIVE },
	{ "test_reset", K_STRING, F(test_reset), 0, 0, LIVE },
	{ "test_crash", K_STRING, F(test_crash), 0, 0, LIVE },
	{ "test_spin", K_STRING, F(test_spin), 0, 0, LIVE },
	{ "test_sandbox", K_STRING, F(test_sandbox), 0, 0, LIVE },
	{ "test_tmp", K_STRING, F(test_tmp), 0, 0, LIVE },
	{ "log", K_LOG, F(log_target), 0, 0, LIVE },
	{ "log_facility", K_FACILITY, F(log_facility), 0, 0, LIVE },
	{ "syslog_socket", K_PATH, F(syslog_socket), 0, 0, LIVE },
	{ "metrics_listen", K_LISTEN, F(metrics_listen), 0, 0, LIVE },
	{ "scanners", K_SCANNERS, F(scanners), 0, 0, LIVE },
	{ "database_watch", K_BOOL, F(database_watch), 0, 0, LIVE },
	{ "database_check", K_UINT, F(database_check), 0, 86400, LIVE },
};
#undef F
#undef SPAN
#undef RESTART
#undef LIVE
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

const char *config_key(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

enum config_class config_key_class(size_t i)
{
	return i < NKEYS ? keys[i].cls : CONFIG_RESTART;
}

int config_key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

unsigned int config_key_line(const struct config *c, const char *name)
{
	int i = config_key_index(name);

	return i < 0 ? 0 : c->line[i];
}

static int set_action(enum config_action *dst, const char *v, uint64_t allowed, char *err,
		      size_t errlen)
{
	const char *names[ACTION_REPLACE + 1] = { NULL };
	unsigned int i;
	int r;

	for (i = 0; i <= ACTION_REPLACE; i++) {
		if (allowed & (1u << i))
			names[i] = action_names[i];
	}
	r = parse_enum(v, names, ACTION_REPLACE + 1, "action", err, errlen);
	if (r < 0)
		return -1;
	*dst = (enum config_action)r;
	return 0;
}

int config_set(struct config *c, const char *key, const char *v, char *err, size_t errlen)
{
	int i = config_key_index(key);
	const struct key_def *k = i < 0 ? NULL : &keys[i];
	char *field;
	uint64_t n;
	int r;

	if (!k) {
		snprintf(err, errlen, "unknown key");
		return -1;
	}
	field = (char *)c + k->off;
	switch (k->kind) {
	case K_PATH:
		return set_path(field, v, err, errlen);
	case K_QUEUES:
		return parse_queues(c, v, err, errlen);
	case K_UINT:
	case K_SIZE:
		if (parse_u64(v, k->lo, k->hi, k->kind == K_SIZE, &n)) {
			snprintf(err, errlen, "invalid number '%s' (expected %llu-%llu%s)", v,
				 (unsigned long long)k->lo, (unsigned long long)k->hi,
				 k->kind == K_SIZE ? ", K/M/G suffix allowed" : "");
			return -1;
		}
		if (k->kind == K_UINT)
			*(unsigned int *)(void *)field = (unsigned int)n;
		else
			*(uint64_t *)(void *)field = n;
		return 0;
	case K_LOG:
	case K_FACILITY: {
		const char *const *names = k->kind == K_LOG ? log_target_names : log_facility_names;
		size_t count = 0;

		while (names[count])
			count++;
		r = parse_enum(v, names, count, k->kind == K_LOG ? "log" : "facility", err, errlen);
		if (r < 0)
			return -1;
		*(int *)(void *)field = r;
		return 0;
	}
	case K_LISTEN: {
		char addr[64];
		unsigned int port;

		if (*v && config_split_listen(v, addr, sizeof(addr), &port)) {
			snprintf(err, errlen,
				 "invalid address '%s' (expected ADDR:PORT or [ADDR6]:PORT)", v);
			return -1;
		}
		snprintf(field, k->size, "%s", v);
		return 0;
	}
	case K_SCANNERS: {
		struct scanner_spec specs[SCANNERS_MAX];

		if (strlen(v) >= k->size || scanners_parse(v, specs, SCANNERS_MAX, err, errlen) < 0)
			return -1;
		strcpy(field, v);
		return 0;
	}
	case K_MODE:
		r = parse_enum(v, mode_names, 2, "mode", err, errlen);
		if (r < 0)
			return -1;
		*(enum config_mode *)(void *)field = (enum config_mode)r;
		return 0;
	case K_ACTION:
		return set_action((enum config_action *)(void *)field, v, k->lo, err, errlen);
	case K_POLICY:
		r = parse_enum(v, policy_names, 3, "policy", err, errlen);
		if (r < 0)
			return -1;
		*(enum config_policy *)(void *)field = (enum config_policy)r;
		return 0;
	case K_MIDSTREAM:
	case K_QUEUE_FULL:
	case K_POP3_HOLD:
		r = parse_enum(v, choice_names[k->kind], 2, k->name, err, errlen);
		if (r < 0)
			return -1;
		*(int *)(void *)field = r;
		return 0;
	case K_BOOL:
		r = parse_bool(v);
		if (r < 0) {
			snprintf(err, errlen, "invalid boolean '%s' (expected yes or no)", v);
			return -1;
		}
		*(int *)(void *)field = r;
		return 0;
	case K_STRING:
		if (strlen(v) >= k->size) {
			snprintf(err, errlen, "value too long (at most %zu bytes)", k->size - 1);
			return -1;
		}
		strcpy(field, v);
		return 0;
	case K_MARK:
		/* a single bit, so it cannot collide with other users' marks by accident */
		if (parse_u64(v, 1, UINT32_MAX, 0, &n) || (n & (n - 1))) {
			snprintf(err, errlen,
				 "invalid mark '%s' (expected one bit, e.g. 0x40000000)", v);
			return -1;
		}
		*(uint32_t *)(void *)field = (uint32_t)n;
		return 0;
	}
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* every problem of the file goes to REPORT as "FILE:LINE: problem"; how many */
struct config_report {
	void (*fn)(void *arg, const char *problem);
	void *arg;
	unsigned int n;
};

static void report(struct config_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct config_report *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->n++;
	r->fn(r->arg, msg);
}

static void config_line(struct config *c, char *line, const char *path, unsigned int lineno,
			struct config_report *r)
{
	char *key, *val, *eq, *hash, why[256];
	int i;

	hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	key = trim(line);
	if (*key == '\0')
		return;
	eq = strchr(key, '=');
	if (!eq) {
		report(r, "%s:%u: expected 'key = value'", path, lineno);
		return;
	}
	*eq = '\0';
	key = trim(key);
	val = trim(eq + 1);
	if (*key == '\0' || *val == '\0') {
		report(r, "%s:%u: %s: expected 'key = value'", path, lineno,
		       *key ? key : "(empty key)");
		return;
	}
	if (config_set(c, key, val, why, sizeof(why))) {
		report(r, "%s:%u: %s: %s", path, lineno, key, why);
		return;
	}
	i = config_key_index(key);
	c->line[i] = lineno; /* the last setting wins, as it does for the value */
}

static void config_read(struct config *c, FILE *f, const char *path, struct config_report *r)
{
	char line[4096];
	unsigned int lineno = 0;
	int skip = 0;

	while (fgets(line, sizeof(line), f)) {
		int whole = strchr(line, '\n') || feof(f);

		if (skip) { /* the rest of a line too long */
			skip = !whole;
			continue;
		}
		lineno++;
		if (!whole) {
			report(r, "%s:%u: line too long", path, lineno);
			skip = 1;
			continue;
		}
		config_line(c, line, path, lineno, r);
	}
	if (ferror(f))
		report(r, "%s: read error", path);
}

void config_resolve(struct config *c)
{
	/* a notice needs the whole body held; with only its end held, reset */
	if (!config_key_line(c, "pop3_action"))
		c->pop3_action = c->pop3_hold == POP3_HOLD_WHOLE ? ACTION_REPLACE : ACTION_RESET;
}

unsigned int config_parse(struct config *c, const char *path,
			  void (*fn)(void *arg, const char *problem), void *arg)
{
	const char *p = path ? path : CONFIG_DEFAULT_PATH;
	struct config_report r = { fn, arg, 0 };
	FILE *f;

	config_defaults(c);
	f = fopen(p, "r");
	if (!f) {
		if (!path && errno == ENOENT)
			return 0; /* no file at the default place: built-in defaults */
		report(&r, "%s: %s", p, strerror(errno));
		return r.n;
	}
	if (strlen(p) < sizeof(c->path))
		strcpy(c->path, p);
	config_read(c, f, p, &r);
	fclose(f);
	config_resolve(c);
	return r.n;
}

struct first_error {
	char *err;
	size_t len;
};

static void keep_first(void *arg, const char *problem)
{
	struct first_error *e = arg;

	if (e->err[0] == '\0')
		snprintf(e->err, e->len, "%s", problem);
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct first_error e = { err, errlen };

	if (errlen)
		err[0] = '\0';
	return config_parse(c, path, keep_first, &e) ? -1 : 0;
}

/* --- what a reload changes --- */

static int is_string(enum key_kind k)
{
	return k == K_PATH || k == K_STRING || k == K_LISTEN || k == K_SCANNERS;
}

static int key_differs(const struct key_def *k, const struct config *a, const struct config *b)
{
	const char *fa = (const char *)a + k->off, *fb = (const char *)b + k->off;

	return is_string(k->kind) ? strncmp(fa, fb, k->size) != 0 : memcmp(fa, fb, k->size) != 0;
}

size_t config_diff(const struct config *a, const struct config *b, struct config_diff *d)
{
	size_t i;

	d->n = 0;
	for (i = 0; i < NKEYS; i++) {
		if (key_differs(&keys[i], a, b))
			d->key[d->n++] = (unsigned char)i;
	}
	return d->n;
}

static size_t list_class(const struct config_diff *d, enum config_class cls, char *buf, size_t len,
			 size_t off)
{
	size_t i, n = 0;

	for (i = 0; i < d->n; i++) {
		if (keys[d->key[i]].cls != cls)
			continue;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", n ? ", " : "",
						keys[d->key[i]].name);
		n++;
	}
	if (!n && off < len)
		off += (size_t)snprintf(buf + off, len - off, "nothing");
	return off;
}

void config_diff_describe(const struct config_diff *d, char *buf, size_t len)
{
	size_t i, off, restart = 0;

	for (i = 0; i < d->n; i++)
		restart += keys[d->key[i]].cls == CONFIG_RESTART;
	if (!d->n) {
		snprintf(buf, len, "nothing changed");
		return;
	}
	off = (size_t)snprintf(buf, len, "applied ");
	off = list_class(d, CONFIG_LIVE, buf, len, off);
	if (restart && off < len) {
		off += (size_t)snprintf(buf + off, len - off, "; needs restart: ");
		list_class(d, CONFIG_RESTART, buf, len, off);
	}
}

void config_apply_live(struct config *run, const struct config *next)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].cls != CONFIG_LIVE)
			continue;
		memcpy((char *)run + keys[i].off, (const char *)next + keys[i].off, keys[i].size);
		run->line[i] = next->line[i];
	}
}
