/* mailscanctl: protected ports, rules, and the running daemon's counters.
 * Exit codes: 0 done, 1 refused, 2 usage or system error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "ctl.h"
#include "ports.h"
#include "rules.h"

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_ERROR = 2 };

struct ctl_cmd {
	const char *group;
	const char *name;
	int (*fn)(struct config *, int argc, char **argv);
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mailscanctl [-c FILE] rules install [--gateway|--host] [--queues N|N-M]\n"
		"       mailscanctl [-c FILE] rules remove | rules show\n"
		"       mailscanctl [-c FILE] ports list\n"
		"       mailscanctl [-c FILE] ports add smtp|pop3 PORT [--force]\n"
		"       mailscanctl [-c FILE] ports remove smtp|pop3 PORT\n"
		"       mailscanctl [-c FILE] stats [--json|--prometheus]\n"
		"       mailscanctl [-c FILE] reload | status\n"
		"       mailscanctl check [-c FILE]\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "mailscanctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return EXIT_ERROR;
}

static int load_ports(const struct config *c, struct port_set *ps)
{
	char err[512];

	if (ports_load(ps, c->ports_file, err, sizeof(err))) {
		fprintf(stderr, "mailscanctl: %s\n", err);
		return -1;
	}
	return 0;
}

static int cmd_rules_install(struct config *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gateway", no_argument, NULL, 'g' },
		{ "host", no_argument, NULL, 'h' },
		{ "queues", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct port_set ps;
	struct rules_spec spec;
	enum rules_backend used;
	char err[512], range[16];
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			c->mode = MODE_GATEWAY;
			break;
		case 'h':
			c->mode = MODE_HOST;
			break;
		case 'q':
			if (config_set(c, "queues", optarg, err, sizeof(err)))
				return usage_error("--queues: %s", err);
			break;
		default:
			return usage_error("%s", "rules install: unknown option");
		}
	}
	if (optind != argc)
		return usage_error("rules install: unexpected argument '%s'", argv[optind]);
	if (load_ports(c, &ps))
		return EXIT_ERROR;
	rules_spec_from_config(&spec, c, &ps);
	if (rules_install(&spec, &used, err, sizeof(err))) {
		fprintf(stderr, "mailscanctl: rules install failed, ruleset unchanged: %s\n", err);
		return EXIT_ERROR;
	}
	printf("installed table inet %s: mode %s, %s %s%s\n", RULES_TABLE,
	       config_mode_name(c->mode), rules_backend_name(used),
	       rules_queue_range(range, sizeof(range), c->queue_first, c->queue_count),
	       spec.bypass ? " bypass" : " fail-closed");
	return EXIT_DONE;
}

static int cmd_rules_remove(struct config *c, int argc, char **argv)
{
	char err[512];
	int was;

	(void)c;
	(void)argv;
	if (argc != 1)
		return usage_error("%s", "rules remove takes no arguments");
	if (rules_remove(&was, err, sizeof(err))) {
		fprintf(stderr, "mailscanctl: rules remove failed: %s\n", err);
		return EXIT_ERROR;
	}
	printf(was ? "removed table inet %s\n" : "table inet %s was not installed\n", RULES_TABLE);
	return EXIT_DONE;
}

static int cmd_rules_show(struct config *c, int argc, char **argv)
{
	char err[512];

	(void)c;
	(void)argv;
	if (argc != 1)
		return usage_error("%s", "rules show takes no arguments");
	if (rules_show(stdout, err, sizeof(err))) {
		fprintf(stderr, "mailscanctl: %s\n", err);
		return EXIT_ERROR;
	}
	return EXIT_DONE;
}

static int cmd_ports_list(struct config *c, int argc, char **argv)
{
	struct port_set ps;
	uint16_t v[PORTS_MAX];
	size_t i, n;
	int p;

	(void)argv;
	if (argc != 1)
		return usage_error("%s", "ports list takes no arguments");
	if (load_ports(c, &ps))
		return EXIT_ERROR;
	for (p = 0; p < PROTO_COUNT; p++) {
		n = ports_of(&ps, (enum ports_proto)p, v, PORTS_MAX);
		for (i = 0; i < n; i++)
			printf("%s %u %s\n", ports_proto_name((enum ports_proto)p), v[i],
			       ports_find(&ps, v[i])->is_default ? "default" : "added");
	}
	return EXIT_DONE;
}

/* Tell a running daemon to re-read the ports file; it may not be running. */
static void notify_daemon(const struct config *c)
{
	char *reply;

	if (ctl_request(c->control_socket, "ports", &reply) == 0)
		free(reply);
}

static int ports_change(struct config *c, int argc, char **argv, int add)
{
	struct port_set ps, old;
	enum ports_proto proto;
	uint16_t port;
	char why[512];
	int force = 0, r;

	if (argc == 4 && add && !strcmp(argv[3], "--force")) {
		force = 1;
		argc--;
	}
	if (argc != 3)
		return usage_error("ports %s: expected smtp|pop3 PORT", add ? "add" : "remove");
	if (ports_parse_proto(argv[1], &proto))
		return usage_error("unknown protocol '%s' (expected smtp or pop3)", argv[1]);
	if (ports_parse_number(argv[2], &port))
		return usage_error("invalid port '%s' (expected an integer 1-65535)", argv[2]);
	if (load_ports(c, &ps))
		return EXIT_ERROR;
	old = ps;
	r = add ? ports_add(&ps, proto, port, force, why, sizeof(why))
		: ports_remove(&ps, proto, port, why, sizeof(why));
	if (r != PORTS_OK) {
		fprintf(stderr, "mailscanctl: refused: %s\n", why);
		return r == PORTS_INVALID ? EXIT_ERROR : EXIT_REFUSED;
	}
	/* live sets first: if the kernel refuses, the file still matches what runs */
	r = rules_sync_ports(&ps, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "mailscanctl: updating the live port sets failed: %s\n", why);
		return EXIT_ERROR;
	}
	if (ports_save(&ps, c->ports_file, why, sizeof(why))) {
		fprintf(stderr, "mailscanctl: %s\n", why);
		if (r == 0)
			rules_sync_ports(&old, why, sizeof(why));
		return EXIT_ERROR;
	}
	notify_daemon(c);
	printf("%s %s %u%s\n", add ? "added" : "removed", ports_proto_name(proto), port,
	       r == 1 ? " (rules not installed: applies at the next rules install)" : "");
	return EXIT_DONE;
}

static int cmd_ports_add(struct config *c, int argc, char **argv)
{
	return ports_change(c, argc, argv, 1);
}

static int cmd_ports_remove(struct config *c, int argc, char **argv)
{
	return ports_change(c, argc, argv, 0);
}

/* stats, reload, status: ask the daemon */
static int daemon_request(const struct config *c, const char *req)
{
	char *reply;
	int rc;

	if (ctl_request(c->control_socket, req, &reply)) {
		fprintf(stderr, "mailscanctl: daemon not reachable at %s: %s\n", c->control_socket,
			strerror(errno));
		return EXIT_ERROR;
	}
	if (!strncmp(reply, "OK\n", 3)) {
		fputs(reply + 3, stdout);
		rc = EXIT_DONE;
	} else {
		fprintf(stderr, "mailscanctl: %s", !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
		rc = EXIT_REFUSED;
	}
	free(reply);
	return rc;
}

static int cmd_stats(struct config *c, int argc, char **argv)
{
	if (argc == 1)
		return daemon_request(c, "stats");
	if (argc == 2 && !strcmp(argv[1], "--json"))
		return daemon_request(c, "stats json");
	if (argc == 2 && !strcmp(argv[1], "--prometheus"))
		return daemon_request(c, "stats prometheus");
	return usage_error("%s", "stats takes --json or --prometheus");
}

static int cmd_simple(struct config *c, int argc, char **argv)
{
	if (argc != 1)
		return usage_error("%s takes no arguments", argv[0]);
	return daemon_request(c, argv[0]);
}

static const struct ctl_cmd cmds[] = {
	{ "rules", "install", cmd_rules_install },
	{ "rules", "remove", cmd_rules_remove },
	{ "rules", "show", cmd_rules_show },
	{ "ports", "list", cmd_ports_list },
	{ "ports", "add", cmd_ports_add },
	{ "ports", "remove", cmd_ports_remove },
	{ "stats", NULL, cmd_stats },
	{ "reload", NULL, cmd_simple },
	{ "status", NULL, cmd_simple },
};

/* check [-c FILE]: the file is read here, never sent to the daemon */
static int cmd_check(const char *conf, int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "-c"))
		conf = argv[2];
	else if (argc != 1)
		return usage_error("%s", "check takes -c FILE only");
	return check_file(conf, stdout, stderr) ? EXIT_REFUSED : EXIT_DONE;
}

static void ignore_problem(void *arg, const char *problem)
{
	(void)arg;
	(void)problem;
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	struct config c;
	char err[512];
	size_t i;
	int ch;

	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_DONE;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[0], "check"))
		return cmd_check(conf, argc, argv);
	/* the requests to the daemon go with a file that has errors (a reload is refused
	 * with them named; stats and status still answer): the control socket is taken from
	 * what could be read */
	if (!strcmp(argv[0], "reload") || !strcmp(argv[0], "stats") || !strcmp(argv[0], "status")) {
		config_parse(&c, conf, ignore_problem, NULL);
	} else if (config_load(&c, conf, err, sizeof(err))) {
		fprintf(stderr, "mailscanctl: %s\n", err);
		return EXIT_ERROR;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].group))
			continue;
		if (!cmds[i].name)
			return cmds[i].fn(&c, argc, argv);
		if (argc >= 2 && !strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(&c, argc - 1, argv + 1);
	}
	return usage_error("unknown command '%s'", argc >= 2 ? argv[1] : argv[0]);
}
