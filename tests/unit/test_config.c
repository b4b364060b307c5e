/* Configuration parsing: defaults, every key, errors naming file, line and key. */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char dir[] = "/tmp/mailscan-unit.XXXXXX";

static int load_text(struct config *c, const char *text, char *err, size_t errlen)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mailscan.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return config_load(c, path, err, errlen);
}

static void test_defaults(void)
{
	struct config c;

	config_defaults(&c);
	CHECK_STR(c.database, "/var/lib/clamav");
	CHECK_STR(c.ports_file, "/etc/mailscan/ports");
	CHECK_INT(c.mode, MODE_GATEWAY);
	CHECK_INT(c.smtp_action, ACTION_REJECT);
	/* POP3 bodies held whole (up to 32M), an infected one replaced by a notice */
	CHECK_INT(c.pop3_hold, POP3_HOLD_WHOLE);
	CHECK_INT(c.pop3_hold_max, 32 << 20);
	CHECK_INT(c.pop3_action, ACTION_REPLACE);
	CHECK_INT(c.on_error, POLICY_TEMPFAIL);
	/* the exception policies fail closed */
	CHECK_INT(c.midstream, MIDSTREAM_RESET);
	CHECK_INT(c.midstream_grace, 60);
	CHECK_INT(c.queue_full, QUEUE_FULL_DROP);
	CHECK_INT(c.idle_timeout, 900);
	CHECK_INT(c.min_ttl, 16);
	CHECK_INT(c.ooo_segments, 4096);
	CHECK_INT(c.queue_first, 0);
	CHECK_INT(c.queue_count, 1);
	CHECK_INT(c.fail_closed, 0);
	CHECK_INT(c.test_signatures, 0);
}

static void test_good(void)
{
	struct config c;
	char err[512] = "";

	CHECK_INT(load_text(&c,
			    "# comment\n"
			    "\n"
			    "database = /tmp/x/sigs   # trailing comment\n"
			    "  queues=2-5\n"
			    "workers = 4\n"
			    "mode = host\n"
			    "ports_file = /tmp/x/ports\n"
			    "control_socket = /tmp/x/ctl.sock\n"
			    "quarantine = /tmp/x/q\n"
			    "tmpdir = /tmp/x/tmp\n"
			    "smtp_action = monitor\n"
			    "pop3_action = monitor\n"
			    "max_message_size = 10M\n"
			    "oversize = block\n"
			    "on_error = block\n"
			    "fail_closed = yes\n"
			    "test_signatures = yes\n"
			    "offload_mark = 0x1000\n"
			    "inject_mark = 0x2000\n"
			    "on_limit = pass\n"
			    "hold_timeout = 30\n"
			    "scan_timeout = 20\n"
			    "scan_max_size = 20M\n"
			    "scan_max_filesize = 10M\n"
			    "scan_max_recursion = 8\n"
			    "scan_max_files = 500\n"
			    "quarantine_max = 2G\n"
			    "max_flows = 1000\n"
			    "flow_buffer = 64K\n"
			    "total_buffer = 64M\n"
			    "message_memory = 512M\n"
			    "midstream = pass\n"
			    "midstream_grace = 0\n"
			    "queue_full = accept\n"
			    "idle_timeout = 30\n"
			    "min_ttl = 0\n"
			    "ooo_segments = 64\n"
			    "on_crash = tempfail\n"
			    "test_hold = HOLDME\n"
			    "test_hold_ms = 250\n"
			    "test_reset = RESETME\n",
			    err, sizeof(err)),
		  0);
	CHECK_STR(err, "");
	CHECK_STR(c.database, "/tmp/x/sigs");
	CHECK_INT(c.queue_first, 2);
	CHECK_INT(c.queue_count, 4);
	CHECK_INT(c.workers, 4);
	CHECK_INT(c.mode, MODE_HOST);
	CHECK_STR(c.ports_file, "/tmp/x/ports");
	CHECK_STR(c.control_socket, "/tmp/x/ctl.sock");
	CHECK_STR(c.quarantine, "/tmp/x/q");
	CHECK_STR(c.tmpdir, "/tmp/x/tmp");
	CHECK_INT(c.smtp_action, ACTION_MONITOR);
	CHECK_INT(c.pop3_action, ACTION_MONITOR);
	CHECK_INT(c.max_message_size, 10 << 20);
	CHECK_INT(c.oversize, POLICY_BLOCK);
	CHECK_INT(c.on_error, POLICY_BLOCK);
	CHECK_INT(c.fail_closed, 1);
	CHECK_INT(c.test_signatures, 1);
	CHECK_INT(c.offload_mark, 0x1000);
	CHECK_INT(c.inject_mark, 0x2000);
	CHECK_INT(c.on_limit, POLICY_PASS);
	CHECK_INT(c.hold_timeout, 30);
	CHECK_INT(c.scan_timeout, 20);
	CHECK_INT(c.scan_max_size, 20 << 20);
	CHECK_INT(c.scan_max_filesize, 10 << 20);
	CHECK_INT(c.scan_max_recursion, 8);
	CHECK_INT(c.scan_max_files, 500);
	CHECK_INT(c.quarantine_max, 2ULL << 30);
	CHECK_INT(c.max_flows, 1000);
	CHECK_INT(c.midstream, MIDSTREAM_PASS);
	CHECK_INT(c.midstream_grace, 0);
	CHECK_INT(c.queue_full, QUEUE_FULL_ACCEPT);
	CHECK_INT(c.idle_timeout, 30);
	CHECK_INT(c.min_ttl, 0);
	CHECK_INT(c.ooo_segments, 64);
	CHECK_INT(c.on_crash, POLICY_TEMPFAIL);
	CHECK_INT(c.flow_buffer, 64 << 10);
	CHECK_INT(c.total_buffer, 64 << 20);
	CHECK_INT(c.message_memory, 512 << 20);
	CHECK_STR(c.test_hold, "HOLDME");
	CHECK_INT(c.test_hold_ms, 250);
	CHECK_STR(c.test_reset, "RESETME");
	CHECK_INT(load_text(&c, "queues = 7\nmax_message_size = 2048\n", err, sizeof(err)), 0);
	CHECK_INT(c.queue_first, 7);
	CHECK_INT(c.queue_count, 1);
	CHECK_INT(c.max_message_size, 2048);
	CHECK_INT(load_text(&c, "queues = 0-63\nmax_message_size = 1k\n", err, sizeof(err)), 0);
	CHECK_INT(c.queue_count, 64);
	CHECK_INT(c.max_message_size, 1024);
	CHECK_INT(load_text(&c, "", err, sizeof(err)), 0);
	CHECK_STR(c.database, "/var/lib/clamav");
}

static void test_errors(void)
{
	static const struct {
		const char *text;
		const char *msg; /* after "<path>:" */
	} cases[] = {
		{ "bogus = 1\n", "1: bogus: unknown key" },
		{ "# c\nmode = gateway\nquarantin = /q\n", "3: quarantin: unknown key" },
		{ "mode\n", "1: expected 'key = value'" },
		{ "mode =\n", "1: mode: expected 'key = value'" },
		{ "= host\n", "1: (empty key): expected 'key = value'" },
		{ "mode = router\n", "1: mode: invalid mode 'router' (expected gateway, host)" },
		{ "smtp_action = drop\n",
		  "1: smtp_action: invalid action 'drop' (expected reject, reset, monitor)" },
		{ "smtp_action = delete\n",
		  "1: smtp_action: invalid action 'delete' (expected reject, reset, monitor)" },
		{ "pop3_action = reject\n", "1: pop3_action: invalid action 'reject' (expected "
					    "reset, monitor, delete, replace)" },
		{ "oversize = maybe\n",
		  "1: oversize: invalid policy 'maybe' (expected pass, block, tempfail)" },
		{ "midstream = drop\n",
		  "1: midstream: invalid midstream 'drop' (expected reset, pass)" },
		{ "queue_full = maybe\n",
		  "1: queue_full: invalid queue_full 'maybe' (expected drop, accept)" },
		{ "idle_timeout = 1\n", "1: idle_timeout: invalid number '1' (expected 5-86400)" },
		{ "on_error = fail\n", "1: on_error: invalid policy" },
		{ "queues = 3-1\n", "1: queues: invalid queues '3-1'" },
		{ "queues = 0-64\n", "1: queues: invalid queues" },
		{ "queues = 65536\n", "1: queues: invalid queues" },
		{ "queues = a\n", "1: queues: invalid queues" },
		{ "queues = 1-\n", "1: queues: invalid queues" },
		{ "workers = 0\n", "1: workers: invalid number '0' (expected 1-64)" },
		{ "workers = 65\n", "1: workers: invalid number" },
		{ "workers = -1\n", "1: workers: invalid number" },
		{ "workers = 2x\n", "1: workers: invalid number" },
		{ "max_message_size = 10T\n", "1: max_message_size: invalid number" },
		{ "max_message_size = 100\n", "1: max_message_size: invalid number" },
		{ "database = relative/dir\n",
		  "1: database: path 'relative/dir' must be absolute" },
		{ "fail_closed = perhaps\n", "1: fail_closed: invalid boolean" },
		{ "offload_mark = 0x3\n", "1: offload_mark: invalid mark" },
		{ "inject_mark = 0\n", "1: inject_mark: invalid mark" },
		{ "hold_timeout = 0\n", "1: hold_timeout: invalid number" },
		{ "message_memory = 1K\n", "1: message_memory: invalid number" },
		{ "test_hold = "
		  "0123456789012345678901234567890123456789012345678901234567890123456789\n",
		  "1: test_hold: value too long" },
	};
	char err[512], want[512];
	struct config c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		CHECK_INT(load_text(&c, cases[i].text, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s/mailscan.conf:%s", dir, cases[i].msg);
		CHECK_HAS(err, want);
	}
	/* a file named with -c must exist */
	CHECK_INT(config_load(&c, "/nonexistent/mailscan.conf", err, sizeof(err)), -1);
	CHECK_STR(err, "/nonexistent/mailscan.conf: No such file or directory");
}

/* a line longer than the reader's buffer is an error, not a silent split */
static void test_long_line(void)
{
	char *text = malloc(10000), err[512];
	struct config c;

	memset(text, 'a', 9998);
	text[9998] = '\n';
	text[9999] = '\0';
	CHECK_INT(load_text(&c, text, err, sizeof(err)), -1);
	CHECK_HAS(err, ":1: line too long");
	free(text);
}

/* the actions each protocol takes */
static void test_actions(void)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	CHECK_INT(config_set(&c, "pop3_action", "delete", err, sizeof(err)), 0);
	CHECK_INT(c.pop3_action, ACTION_DELETE);
	CHECK_STR(config_action_name(c.pop3_action), "delete");
	CHECK_INT(config_set(&c, "pop3_action", "replace", err, sizeof(err)), 0);
	CHECK_STR(config_action_name(c.pop3_action), "replace");
	CHECK(config_set(&c, "smtp_action", "replace", err, sizeof(err)) < 0);
	CHECK_INT(config_set(&c, "smtp_action", "delete", err, sizeof(err)), -1);
	CHECK_INT(c.smtp_action, ACTION_REJECT);
}

/* pop3_action's default follows pop3_hold: replace needs the whole body, so with
 * pop3_hold = end it is reset; an action the file names is the action */
static void test_pop3_default_action(void)
{
	static const struct {
		const char *text;
		enum config_pop3_hold hold;
		enum config_action action;
	} cases[] = {
		{ "", POP3_HOLD_WHOLE, ACTION_REPLACE },
		{ "pop3_hold = whole\n", POP3_HOLD_WHOLE, ACTION_REPLACE },
		{ "pop3_hold = end\n", POP3_HOLD_END, ACTION_RESET },
		{ "pop3_hold = whole\npop3_hold = end\n", POP3_HOLD_END, ACTION_RESET },
		{ "pop3_hold = end\npop3_hold = whole\n", POP3_HOLD_WHOLE, ACTION_REPLACE },
		{ "pop3_action = reset\n", POP3_HOLD_WHOLE, ACTION_RESET },
		{ "pop3_action = monitor\npop3_hold = end\n", POP3_HOLD_END, ACTION_MONITOR },
		{ "pop3_hold = end\npop3_action = delete\n", POP3_HOLD_END, ACTION_DELETE },
		/* named, it stays: such a body is reset when its notice cannot be made */
		{ "pop3_hold = end\npop3_action = replace\n", POP3_HOLD_END, ACTION_REPLACE },
		{ "pop3_hold_max = 1M\n", POP3_HOLD_WHOLE, ACTION_REPLACE },
	};
	struct config c;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(load_text(&c, cases[i].text, err, sizeof(err)), 0);
		if (c.pop3_hold != cases[i].hold || c.pop3_action != cases[i].action)
			fprintf(stderr, "'%s': pop3_hold %d pop3_action %s\n", cases[i].text,
				c.pop3_hold, config_action_name(c.pop3_action));
		CHECK_INT(c.pop3_hold, cases[i].hold);
		CHECK_INT(c.pop3_action, cases[i].action);
	}
	/* the resolution keeps the file's errors, and resolves what was read */
	CHECK_INT(load_text(&c, "pop3_hold = end\npop3_action = bounce\n", err, sizeof(err)), -1);
	CHECK_INT(c.pop3_action, ACTION_RESET);
	/* config_resolve on its own: a set action is left alone */
	config_defaults(&c);
	c.pop3_hold = POP3_HOLD_END;
	config_resolve(&c);
	CHECK_INT(c.pop3_action, ACTION_RESET);
	c.pop3_action = ACTION_DELETE;
	c.line[config_key_index("pop3_action")] = 4;
	config_resolve(&c);
	CHECK_INT(c.pop3_action, ACTION_DELETE);
}

/* what a reload of TEXT over RUN says, then applies */
static void reload_text(struct config *run, const char *text, const char *said)
{
	struct config next;
	struct config_diff d;
	char err[512], out[256];

	CHECK_INT(load_text(&next, text, err, sizeof(err)), 0);
	config_diff(run, &next, &d);
	config_diff_describe(&d, out, sizeof(out));
	CHECK_STR(out, said);
	config_apply_live(run, &next);
}

/* A reload that changes pop3_hold and names no pop3_action changes the action too */
static void test_reload_pop3_default_action(void)
{
	struct config run;
	char err[512];

	CHECK_INT(load_text(&run, "hold_timeout = 30\n", err, sizeof(err)), 0);
	CHECK_INT(run.pop3_action, ACTION_REPLACE);
	reload_text(&run, "hold_timeout = 30\npop3_hold = end\n", "applied pop3_action, pop3_hold");
	CHECK_INT(run.pop3_hold, POP3_HOLD_END);
	CHECK_INT(run.pop3_action, ACTION_RESET);
	CHECK_INT(config_key_line(&run, "pop3_action"), 0);
	/* and back */
	reload_text(&run, "hold_timeout = 30\n", "applied pop3_action, pop3_hold");
	CHECK_INT(run.pop3_hold, POP3_HOLD_WHOLE);
	CHECK_INT(run.pop3_action, ACTION_REPLACE);
	/* an action in the file stays through a change of the hold */
	reload_text(&run, "pop3_action = reset\n", "applied pop3_action, hold_timeout");
	reload_text(&run, "pop3_action = reset\npop3_hold = end\n", "applied pop3_hold");
	CHECK_INT(run.pop3_action, ACTION_RESET);
	CHECK_INT(config_key_line(&run, "pop3_action"), 1);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b = calloc(1, 1 << 16);

	if (f) {
		if (fread(b, 1, (1 << 16) - 1, f) == 0)
			b[0] = '\0';
		fclose(f);
	}
	return b;
}

/* The installed example names every key with its default (uncommented, it is the
 * defaults), and the manual page describes every key. */
static void test_example_and_manual(void)
{
	const char *top = getenv("TOP");
	char path[PATH_MAX], want[128], line[256], err[256];
	char *ex, *man, *p;
	struct config def, c;
	size_t i;

	snprintf(path, sizeof(path), "%s/scripts/dist/mailscan.conf", top ? top : ".");
	ex = slurp(path);
	snprintf(path, sizeof(path), "%s/scripts/dist/man/mailscan.conf.5", top ? top : ".");
	man = slurp(path);
	CHECK(ex[0] != '\0' && man[0] != '\0');
	for (i = 0; config_key(i); i++) {
		int in_man;

		/* the keys for mailscan's own tests are left out of the example */
		snprintf(want, sizeof(want), "\n#%s =", config_key(i));
		if (!strstr(ex, want) && strncmp(config_key(i), "test_", 5) == 0 &&
		    strcmp(config_key(i), "test_signatures"))
			snprintf(want, sizeof(want), "\n");
		if (!strstr(ex, want))
			fprintf(stderr, "example lacks %s\n", config_key(i));
		CHECK(strstr(ex, want) != NULL);
		snprintf(want, sizeof(want), ".It Cm %s ", config_key(i));
		in_man = strstr(man, want) != NULL;
		snprintf(want, sizeof(want), " %s ,", config_key(i));
		in_man |= strstr(man, want) != NULL;
		snprintf(want, sizeof(want), ", %s ", config_key(i));
		in_man |= strstr(man, want) != NULL;
		snprintf(want, sizeof(want), ", %s\n", config_key(i));
		in_man |= strstr(man, want) != NULL;
		if (!in_man)
			fprintf(stderr, "mailscan.conf.5 lacks %s\n", config_key(i));
		CHECK(in_man);
	}
	config_defaults(&def);
	config_defaults(&c);
	for (p = strtok(ex, "\n"); p; p = strtok(NULL, "\n")) {
		char *eq = strstr(p, " = ");

		if (p[0] != '#' || !eq || p[1] == ' ' || !eq[3])
			continue; /* prose, or a key whose default is empty */
		snprintf(line, sizeof(line), "%.*s", (int)(eq - p - 1), p + 1);
		if (config_set(&c, line, eq + 3, err, sizeof(err)))
			fprintf(stderr, "example: %s: %s\n", p, err);
		CHECK_INT(config_set(&c, line, eq + 3, err, sizeof(err)), 0);
	}
	CHECK(memcmp(&c, &def, sizeof(c)) == 0);
	free(ex);
	free(man);
}

/* every problem of a file, each with its line, in one pass */
static unsigned int nproblems;
static char problems[2048];

static void collect(void *arg, const char *problem)
{
	(void)arg;
	nproblems++;
	strncat(problems, problem, sizeof(problems) - strlen(problems) - 2);
	strcat(problems, "\n");
}

static void test_all_errors(void)
{
	char path[128], want[256];
	struct config c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/all.conf", dir);
	f = fopen(path, "w");
	fputs("# three mistakes, and good lines between them\n"
	      "queues = 3-1\n"
	      "smtp_action = monitor\n"
	      "no_such_key = 1\n"
	      "hold_timeout = 30\n"
	      "junk\n",
	      f);
	fclose(f);
	nproblems = 0;
	problems[0] = '\0';
	CHECK_INT(config_parse(&c, path, collect, NULL), 3);
	CHECK_INT(nproblems, 3);
	snprintf(want, sizeof(want), "%s:2: queues: invalid queues", path);
	CHECK_HAS(problems, want);
	snprintf(want, sizeof(want), "%s:4: no_such_key: unknown key", path);
	CHECK_HAS(problems, want);
	snprintf(want, sizeof(want), "%s:6: expected 'key = value'", path);
	CHECK_HAS(problems, want);
	/* the good lines were read, with their lines */
	CHECK_INT(c.smtp_action, ACTION_MONITOR);
	CHECK_INT(c.hold_timeout, 30);
	CHECK_INT(config_key_line(&c, "hold_timeout"), 5);
	CHECK_INT(config_key_line(&c, "queues"), 0);
	CHECK_INT(config_key_line(&c, "database"), 0);
	CHECK_INT(config_key_line(&c, "nonsense"), 0);
}

static void describe(const struct config *a, const struct config *b, char *out, size_t len)
{
	struct config_diff d;

	config_diff(a, b, &d);
	config_diff_describe(&d, out, len);
}

/* what a reload says it changed */
static void test_diff(void)
{
	struct config a, b;
	char err[256], out[512];
	struct config_diff d;

	config_defaults(&a);
	config_defaults(&b);
	CHECK_INT(config_diff(&a, &b, &d), 0);
	describe(&a, &b, out, sizeof(out));
	CHECK_STR(out, "nothing changed");
	/* a string is compared as a string: what lies after its end does not count */
	strcpy(b.database, "/x");
	strcpy(b.database, "/var/lib/clamav");
	b.database[sizeof(b.database) - 1] = 'z';
	b.database[sizeof(b.database) - 1] = '\0';
	memset(b.database + strlen(b.database) + 1, 'q', 8);
	CHECK_INT(config_diff(&a, &b, &d), 0);
	/* the line a key was read from is not a change */
	b.line[0] = 7;
	CHECK_INT(config_diff(&a, &b, &d), 0);
	CHECK_INT(config_set(&b, "hold_timeout", "30", err, sizeof(err)), 0);
	CHECK_INT(config_set(&b, "smtp_action", "monitor", err, sizeof(err)), 0);
	CHECK_INT(config_set(&b, "queues", "2-3", err, sizeof(err)), 0);
	CHECK_INT(config_diff(&a, &b, &d), 3);
	describe(&a, &b, out, sizeof(out));
	CHECK_STR(out, "applied smtp_action, hold_timeout; needs restart: queues");
	/* the same value set again is no change */
	CHECK_INT(config_set(&b, "smtp_action", "reject", err, sizeof(err)), 0);
	describe(&a, &b, out, sizeof(out));
	CHECK_STR(out, "applied hold_timeout; needs restart: queues");
	CHECK_INT(config_set(&b, "hold_timeout", "120", err, sizeof(err)), 0);
	describe(&a, &b, out, sizeof(out));
	CHECK_STR(out, "applied nothing; needs restart: queues");
	/* the second number of a queue range is part of the key */
	config_defaults(&b);
	b.queue_count = 2;
	describe(&a, &b, out, sizeof(out));
	CHECK_STR(out, "applied nothing; needs restart: queues");
	/* a short buffer is cut, not overrun */
	describe(&a, &b, out, 8);
	CHECK_STR(out, "applied");
}

/* a reload applies the live keys and leaves the restart keys as they run */
static void test_apply_live(void)
{
	struct config run, next, again;
	struct config_diff d;
	char err[256];

	config_defaults(&run);
	config_defaults(&next);
	CHECK_INT(config_set(&next, "pop3_action", "delete", err, sizeof(err)), 0);
	CHECK_INT(config_set(&next, "metrics_listen", "127.0.0.1:9311", err, sizeof(err)), 0);
	CHECK_INT(config_set(&next, "max_message_size", "2M", err, sizeof(err)), 0);
	CHECK_INT(config_set(&next, "user", "nobody", err, sizeof(err)), 0);
	CHECK_INT(config_set(&next, "control_socket", "/tmp/x.sock", err, sizeof(err)), 0);
	next.line[config_key_index("pop3_action")] = 3;
	config_apply_live(&run, &next);
	CHECK_INT(run.pop3_action, ACTION_DELETE);
	CHECK_STR(run.metrics_listen, "127.0.0.1:9311");
	CHECK_INT(run.max_message_size, 2 << 20);
	CHECK_INT(config_key_line(&run, "pop3_action"), 3);
	CHECK_STR(run.user, "mailscan");
	CHECK_STR(run.control_socket, "/run/mailscan/control.sock");
	/* what is left between the running and the file: the restart keys only */
	CHECK_INT(config_diff(&run, &next, &d), 2);
	again = run;
	config_apply_live(&again, &next);
	CHECK_INT(config_diff(&run, &again, &d), 0);
}

/* One entry of the manual page: from its .It line to the next one of its list. */
static const char *man_entry(const char *man, const char *key, char *out, size_t len)
{
	char want[128];
	const char *p, *e;
	int depth = 0;

	snprintf(want, sizeof(want), "\n.It Cm %s ", key);
	p = strstr(man, want);
	if (!p) { /* the second or later key of an entry */
		snprintf(want, sizeof(want), " , %s ", key);
		p = strstr(man, want);
		snprintf(want, sizeof(want), " , %s\n", key);
		if (!p)
			p = strstr(man, want);
		if (!p)
			return NULL;
		while (p > man && strncmp(p, "\n.It", 4))
			p--;
	}
	for (e = strchr(p + 1, '\n'); e; e = strchr(e + 1, '\n')) {
		if (!strncmp(e, "\n.Bl", 4))
			depth++;
		else if (!strncmp(e, "\n.El", 4) && depth-- == 0)
			break;
		else if (!strncmp(e, "\n.It", 4) && depth == 0)
			break;
	}
	if (!e)
		return NULL;
	snprintf(out, len, "%.*s", (int)(e - p), p);
	return out;
}

/* Every key is live or restart, and its entry in mailscan.conf.5 says the same. */
static void test_classes_in_manual(void)
{
	const char *top = getenv("TOP");
	char path[PATH_MAX], entry[8192];
	size_t i, live = 0;
	char *man;

	snprintf(path, sizeof(path), "%s/scripts/dist/man/mailscan.conf.5", top ? top : ".");
	man = slurp(path);
	for (i = 0; config_key(i); i++) {
		enum config_class cls = config_key_class(i);
		int says_live, says_restart;

		CHECK(cls == CONFIG_LIVE || cls == CONFIG_RESTART);
		live += cls == CONFIG_LIVE;
		if (!man_entry(man, config_key(i), entry, sizeof(entry))) {
			fprintf(stderr, "mailscan.conf.5: no entry for %s\n", config_key(i));
			CHECK(0);
			continue;
		}
		says_live = strstr(entry, "A reload applies") != NULL;
		says_restart = strstr(entry, "Only a restart applies") != NULL;
		if (says_live == says_restart || says_live != (cls == CONFIG_LIVE))
			fprintf(stderr, "mailscan.conf.5: %s is %s, the page says %s\n",
				config_key(i), cls == CONFIG_LIVE ? "live" : "restart",
				says_live == says_restart ? "neither or both"
				: says_live		  ? "live"
							  : "restart");
		CHECK(says_live != says_restart && says_live == (cls == CONFIG_LIVE));
	}
	/* the ones the reload is for */
	CHECK(live > 20);
	CHECK_INT(config_key_class((size_t)config_key_index("smtp_action")), CONFIG_LIVE);
	CHECK_INT(config_key_class((size_t)config_key_index("queues")), CONFIG_RESTART);
	CHECK_INT(config_key_class(1000), CONFIG_RESTART);
	free(man);
}

int main(void)
{
	char cmd[64];

	test_actions();
	test_example_and_manual();

	if (!mkdtemp(dir))
		return 2;
	test_defaults();
	test_good();
	test_errors();
	test_long_line();
	test_pop3_default_action();
	test_reload_pop3_default_action();
	test_all_errors();
	test_diff();
	test_apply_live();
	test_classes_in_manual();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 2;
	return unit_report("test_config");
}
