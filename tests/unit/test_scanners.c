/* The scanners list: every kind, options, spacing, IPv6, defaults, and each refusal
 * with its reason. */
#include "scanners.h"
#include "unit.h"

static struct scanner_spec v[SCANNERS_MAX];
static char err[256];

static int parse(const char *text)
{
	err[0] = '\0';
	return scanners_parse(text, v, SCANNERS_MAX, err, sizeof(err));
}

static void test_kinds(void)
{
	CHECK_INT(parse("local"), 1);
	CHECK_INT(v[0].kind, SCANNER_LOCAL);
	CHECK_STR(v[0].name, "local");
	CHECK_INT(v[0].max, 0);

	CHECK_INT(parse("clamd:unix:/run/clamav/clamd.ctl"), 1);
	CHECK_INT(v[0].kind, SCANNER_CLAMD_UNIX);
	CHECK_STR(v[0].path, "/run/clamav/clamd.ctl");

	CHECK_INT(parse("clamd:tcp:10.0.3.2:3310"), 1);
	CHECK_INT(v[0].kind, SCANNER_CLAMD_TCP);
	CHECK_STR(v[0].host, "10.0.3.2");
	CHECK_INT(v[0].port, 3310);

	CHECK_INT(parse("clamd:tcp:[fd00::2]:3310"), 1);
	CHECK_STR(v[0].host, "fd00::2");
	CHECK_INT(v[0].port, 3310);

	CHECK_INT(parse("clamd:tcp:scan1.example.org:3310"), 1);
	CHECK_STR(v[0].host, "scan1.example.org");

	CHECK_INT(parse("icap://icap.example.org/avscan"), 1);
	CHECK_INT(v[0].kind, SCANNER_ICAP);
	CHECK_STR(v[0].host, "icap.example.org");
	CHECK_INT(v[0].port, 1344);
	CHECK_STR(v[0].service, "avscan");

	CHECK_INT(parse("icap://10.0.3.2:11344/srv_clamav"), 1);
	CHECK_INT(v[0].port, 11344);
	CHECK_STR(v[0].service, "srv_clamav");

	CHECK_INT(parse("icap://[fd00::2]/avscan"), 1);
	CHECK_STR(v[0].host, "fd00::2");
	CHECK_INT(v[0].port, 1344);
	CHECK_STR(scanners_kind_name(SCANNER_ICAP), "icap");
}

static void test_lists(void)
{
	CHECK_INT(parse(" clamd:tcp:10.0.3.2:3310 max=8 ,\ticap://h/s max=2,local "), 3);
	CHECK_STR(v[0].name, "clamd:tcp:10.0.3.2:3310");
	CHECK_INT(v[0].max, 8);
	CHECK_STR(v[1].name, "icap://h/s");
	CHECK_INT(v[1].max, 2);
	CHECK_STR(v[2].name, "local");
	CHECK_INT(v[2].max, 0);
	/* empty entries are skipped */
	CHECK_INT(parse("local,,"), 1);
	{
		char many[1024] = "";
		int i;

		for (i = 0; i < SCANNERS_MAX; i++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many),
				 "clamd:tcp:10.0.0.%d:3310,", i + 1);
		CHECK_INT(parse(many), SCANNERS_MAX);
		strcat(many, "local");
		CHECK_INT(parse(many), -1);
		CHECK_HAS(err, "at most 16");
	}
}

static void test_refusals(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "empty" },
		{ " , ", "empty" },
		{ "clamd", "expected local" },
		{ "clamd:unix:relative/path", "clamd:unix:relative/path" },
		{ "clamd:tcp:10.0.3.2", "expected" },
		{ "clamd:tcp:10.0.3.2:0", "expected" },
		{ "clamd:tcp:10.0.3.2:65536", "expected" },
		{ "clamd:tcp::3310", "expected" },
		{ "clamd:tcp:[fd00::2:3310", "expected" },
		{ "icap://host", "expected" },
		{ "icap://host/", "expected" },
		{ "icap://host/a/b", "expected" },
		{ "icap://host:99999/s", "expected" },
		{ "http://host/s", "expected" },
		{ "local max=0", "max=1..256" },
		{ "local max=257", "max=1..256" },
		{ "local max=x", "max=1..256" },
		{ "local weight=2", "unknown option" },
		{ "local, local", "listed twice" },
		{ "local, clamd:tcp:h:1 max=2, clamd:tcp:h:1", "listed twice" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(parse(bad[i].text), -1);
		if (!strstr(err, bad[i].why))
			fprintf(stderr, "'%s': %s\n", bad[i].text, err);
		CHECK_HAS(err, bad[i].why);
	}
}

int main(void)
{
	test_kinds();
	test_lists();
	test_refusals();
	return unit_report("test_scanners");
}
