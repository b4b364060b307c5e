/* Configuration file parser: pure, libc only. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "config.h"
#include "scanners.h"
#include "log.h"

static const char *const mode_names[] = { [MODE_GATEWAY] = "gateway", [MODE_HOST] = "host" };
static const char *const action_names[] = {
	[ACTION_REJECT] = "reject",
	[ACTION_RESET] = "reset",
	[ACTION_MONITOR] = "monitor",
	[ACTION_DELETE] = "delete",
};
static const char *const policy_names[] = { [POLICY_PASS] = "pass", [POLICY_BLOCK] = "block" };

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
	c->pop3_action = ACTION_RESET;
	c->oversize = POLICY_PASS;
	c->on_error = POLICY_PASS;
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
	c->scan_max_recursion = 16;
	c->scan_max_files = 10000;
	c->quarantine_max = 1ULL << 30;
	c->max_flows = 65536;
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
};

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t off;
	uint64_t lo, hi; /* for numbers; for actions: allowed mask */
};

#define OFF(f) offsetof(struct config, f)
static const struct key_def keys[] = {
	{ "database", K_PATH, OFF(database), 0, 0 },
	{ "ports_file", K_PATH, OFF(ports_file), 0, 0 },
	{ "control_socket", K_PATH, OFF(control_socket), 0, 0 },
	{ "quarantine", K_PATH, OFF(quarantine), 0, 0 },
	{ "tmpdir", K_PATH, OFF(tmpdir), 0, 0 },
	{ "queues", K_QUEUES, 0, 0, 0 },
	{ "workers", K_UINT, OFF(workers), 1, 64 },
	{ "mode", K_MODE, OFF(mode), 0, 0 },
	{ "smtp_action", K_ACTION, OFF(smtp_action),
	  (1 << ACTION_REJECT) | (1 << ACTION_RESET) | (1 << ACTION_MONITOR), 0 },
	{ "pop3_action", K_ACTION, OFF(pop3_action),
	  (1 << ACTION_RESET) | (1 << ACTION_MONITOR) | (1 << ACTION_DELETE), 0 },
	{ "oversize", K_POLICY, OFF(oversize), 0, 0 },
	{ "on_error", K_POLICY, OFF(on_error), 0, 0 },
	{ "on_limit", K_POLICY, OFF(on_limit), 0, 0 },
	{ "on_crash", K_POLICY, OFF(on_crash), 0, 0 },
	{ "user", K_STRING, OFF(user), 0, 0 },
	{ "scan_timeout", K_UINT, OFF(scan_timeout), 1, 3600 },
	{ "scan_max_size", K_SIZE, OFF(scan_max_size), 1024, 4ULL << 30 },
	{ "scan_max_filesize", K_SIZE, OFF(scan_max_filesize), 1024, 4ULL << 30 },
	{ "scan_max_recursion", K_UINT, OFF(scan_max_recursion), 1, 64 },
	{ "scan_max_files", K_UINT, OFF(scan_max_files), 1, 1000000 },
	{ "quarantine_max", K_SIZE, OFF(quarantine_max), 4096, 1ULL << 40 },
	{ "max_message_size", K_SIZE, OFF(max_message_size), 1024, 1ULL << 32 },
	{ "fail_closed", K_BOOL, OFF(fail_closed), 0, 0 },
	{ "test_signatures", K_BOOL, OFF(test_signatures), 0, 0 },
	{ "offload_mark", K_MARK, OFF(offload_mark), 0, 0 },
	{ "inject_mark", K_MARK, OFF(inject_mark), 0, 0 },
	{ "hold_timeout", K_UINT, OFF(hold_timeout), 1, 3600 },
	{ "max_flows", K_UINT, OFF(max_flows), 16, 1 << 24 },
	{ "flow_buffer", K_SIZE, OFF(flow_buffer), 4096, 1ULL << 30 },
	{ "total_buffer", K_SIZE, OFF(total_buffer), 65536, 1ULL << 40 },
	{ "message_memory", K_SIZE, OFF(message_memory), 65536, 1ULL << 40 },
	{ "test_hold", K_STRING, OFF(test_hold), 0, 0 },
	{ "test_hold_ms", K_UINT, OFF(test_hold_ms), 1, 600000 },
	{ "test_reset", K_STRING, OFF(test_reset), 0, 0 },
	{ "test_crash", K_STRING, OFF(test_crash), 0, 0 },
	{ "test_spin", K_STRING, OFF(test_spin), 0, 0 },
	{ "test_sandbox", K_STRING, OFF(test_sandbox), 0, 0 },
	{ "log", K_LOG, OFF(log_target), 0, 0 },
	{ "log_facility", K_FACILITY, OFF(log_facility), 0, 0 },
	{ "syslog_socket", K_PATH, OFF(syslog_socket), 0, 0 },
	{ "metrics_listen", K_LISTEN, OFF(metrics_listen), 0, 0 },
	{ "scanners", K_SCANNERS, OFF(scanners), 0, 0 },
	{ "database_watch", K_BOOL, OFF(database_watch), 0, 0 },
	{ "database_check", K_UINT, OFF(database_check), 0, 86400 },
};
#undef OFF

const char *config_key(size_t i)
{
	return i < sizeof(keys) / sizeof(keys[0]) ? keys[i].name : NULL;
}

static int set_action(enum config_action *dst, const char *v, uint64_t allowed, char *err,
		      size_t errlen)
{
	const char *names[ACTION_DELETE + 1] = { NULL };
	unsigned int i;
	int r;

	for (i = 0; i <= ACTION_DELETE; i++) {
		if (allowed & (1u << i))
			names[i] = action_names[i];
	}
	r = parse_enum(v, names, ACTION_DELETE + 1, "action", err, errlen);
	if (r < 0)
		return -1;
	*dst = (enum config_action)r;
	return 0;
}

int config_set(struct config *c, const char *key, const char *v, char *err, size_t errlen)
{
	const struct key_def *k = NULL;
	char *field;
	uint64_t n;
	size_t i;
	int r;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	}
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
		snprintf(field, sizeof(c->metrics_listen), "%s", v);
		return 0;
	}
	case K_SCANNERS: {
		struct scanner_spec specs[SCANNERS_MAX];

		if (strlen(v) >= sizeof(c->scanners) ||
		    scanners_parse(v, specs, SCANNERS_MAX, err, errlen) < 0)
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
		r = parse_enum(v, policy_names, 2, "policy", err, errlen);
		if (r < 0)
			return -1;
		*(enum config_policy *)(void *)field = (enum config_policy)r;
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
		if (strlen(v) >= sizeof(c->test_hold)) {
			snprintf(err, errlen, "value too long (at most %zu bytes)",
				 sizeof(c->test_hold) - 1);
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

static int config_read(struct config *c, FILE *f, const char *path, char *err, size_t errlen)
{
	char line[4096], why[256];
	unsigned int lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		char *key, *val, *eq, *hash;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			return -1;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			return -1;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (*key == '\0' || *val == '\0') {
			snprintf(err, errlen, "%s:%u: %s: expected 'key = value'", path, lineno,
				 *key ? key : "(empty key)");
			return -1;
		}
		if (config_set(c, key, val, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, key, why);
			return -1;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	return 0;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	const char *p = path ? path : CONFIG_DEFAULT_PATH;
	FILE *f;
	int r;

	config_defaults(c);
	f = fopen(p, "r");
	if (!f) {
		if (!path && errno == ENOENT)
			return 0; /* no file at the default place: built-in defaults */
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	if (strlen(p) < sizeof(c->path))
		strcpy(c->path, p);
	r = config_read(c, f, p, err, errlen);
	fclose(f);
	return r;
}
