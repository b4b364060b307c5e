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
	CHECK_INT(c.pop3_action, ACTION_RESET);
	CHECK_INT(c.on_error, POLICY_PASS);
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
		{ "pop3_action = reject\n",
		  "1: pop3_action: invalid action 'reject' (expected reset, monitor, delete)" },
		{ "oversize = maybe\n",
		  "1: oversize: invalid policy 'maybe' (expected pass, block)" },
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
	CHECK_INT(config_set(&c, "smtp_action", "delete", err, sizeof(err)), -1);
	CHECK_INT(c.smtp_action, ACTION_REJECT);
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
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 2;
	return unit_report("test_config");
}
