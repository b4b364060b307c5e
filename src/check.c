/* A configuration file checked as the daemon would use it (check.h). */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "ports.h"
#include "scan.h"
#include "scanners.h"

struct check {
	const struct config *c;
	const char *file;
	FILE *errors;
	unsigned int n;
};

static void print_problem(void *arg, const char *problem)
{
	struct check *k = arg;

	fprintf(k->errors, "%s\n", problem);
}

/* a problem with the value of KEY: on the line that set it, or the file's */
static void key_problem(struct check *k, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void key_problem(struct check *k, const char *key, const char *fmt, ...)
{
	unsigned int line = config_key_line(k->c, key);
	va_list ap;

	if (line)
		fprintf(k->errors, "%s:%u: %s: ", k->file, line, key);
	else
		fprintf(k->errors, "%s: %s (default): ", k->file, key);
	va_start(ap, fmt);
	vfprintf(k->errors, fmt, ap);
	va_end(ap);
	fputc('\n', k->errors);
	k->n++;
}

static int uses_local(const struct config *c)
{
	struct scanner_spec specs[SCANNERS_MAX];
	char err[256];
	int i, n = scanners_parse(c->scanners, specs, SCANNERS_MAX, err, sizeof(err));

	for (i = 0; i < n; i++) {
		if (specs[i].kind == SCANNER_LOCAL)
			return 1;
	}
	return 0;
}

/* the signature database loads (as the scan master would load it) */
static unsigned int check_database(struct check *k)
{
	struct scan_engine *e;
	unsigned int sigs;
	char err[512];

	if (scan_engine_init(err, sizeof(err))) {
		key_problem(k, "database", "%s", err);
		return 0;
	}
	e = scan_engine_load(k->c, err, sizeof(err));
	if (!e) {
		key_problem(k, "database", "%s", err);
		return 0;
	}
	sigs = scan_engine_signatures(e);
	scan_engine_free(e);
	return sigs;
}

/* a directory the daemon creates: whatever is there already must be one */
static void check_dir(struct check *k, const char *key, const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
		key_problem(k, key, "%s exists and is not a directory", dir);
}

static void check_paths(struct check *k)
{
	const struct config *c = k->c;
	struct stat sb;

	if (!getpwnam(c->user))
		key_problem(k, "user", "no such user '%s'", c->user);
	check_dir(k, "quarantine", c->quarantine);
	check_dir(k, "tmpdir", c->tmpdir);
	if (c->log_target != LOG_TARGET_SYSLOG)
		return;
	if (stat(c->syslog_socket, &sb))
		key_problem(k, "syslog_socket", "%s: %s", c->syslog_socket, strerror(errno));
	else if (!S_ISSOCK(sb.st_mode))
		key_problem(k, "syslog_socket", "%s: not a socket", c->syslog_socket);
}

/* the line of the ports file that holds its Nth entry (they are read in order, one a
 * line that is not blank or a comment); 0 if it cannot be found */
static unsigned int ports_line(const char *path, size_t nth)
{
	FILE *f = fopen(path, "r");
	unsigned int lineno = 0, found = 0;
	char line[256], word[16];
	size_t seen = 0;

	while (f && !found && fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "#")] = '\0';
		if (sscanf(line, "%15s", word) == 1 && seen++ == nth)
			found = lineno;
	}
	if (f)
		fclose(f);
	return found;
}

/* the ports file's entries under the rules `ports add --force` applies (encrypted
 * ports are never protected; a port once) */
static void check_ports(struct check *k, struct port_set *ps)
{
	struct port_set again;
	char err[512];
	size_t i, ndef;

	if (ports_load(ps, k->c->ports_file, err, sizeof(err))) {
		fprintf(k->errors, "%s\n", err);
		k->n++;
		return;
	}
	ports_init(&again);
	ndef = again.n; /* the defaults come first, then the file's lines */
	for (i = ndef; i < ps->n; i++) {
		const struct port_entry *e = &ps->v[i];

		if (ports_add(&again, e->proto, e->port, 1, err, sizeof(err)) != PORTS_OK) {
			fprintf(k->errors, "%s:%u: %s %u: %s\n", k->c->ports_file,
				ports_line(k->c->ports_file, i - ndef), ports_proto_name(e->proto),
				e->port, err);
			k->n++;
		}
	}
}

unsigned int check_file(const char *path, FILE *out, FILE *errors)
{
	struct config *c = malloc(sizeof(*c));
	struct check k = { c, path ? path : CONFIG_DEFAULT_PATH, errors, 0 };
	unsigned int sigs = 0;
	struct port_set ps = { .n = 0 };

	if (!c) {
		fprintf(errors, "%s: out of memory\n", k.file);
		return 1;
	}
	k.n = config_parse(c, path, print_problem, &k);
	if (access(k.file, R_OK) && path) {
		free(c);
		return k.n; /* the file itself: said */
	}
	check_ports(&k, &ps);
	check_paths(&k);
	if (uses_local(c))
		sigs = check_database(&k);
	if (!k.n) {
		fprintf(out, "%s: ok (%u signatures, %zu protected ports; ", k.file, sigs, ps.n);
		fprintf(out, "pop3_hold %s, pop3_action %s%s)\n",
			config_pop3_hold_name(c->pop3_hold), config_action_name(c->pop3_action),
			config_key_line(c, "pop3_action") ? "" : " by default");
	}
	free(c);
	return k.n;
}
