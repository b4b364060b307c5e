/* Protected-port rules: validation, IANA refusals, defaults, the ports file. */
#include <stdlib.h>
#include <unistd.h>

#include "ports.h"
#include "unit.h"

static void test_parse_number(void)
{
	static const struct {
		const char *in;
		int ok;
		uint16_t port;
	} cases[] = {
		{ "0", 0, 0 },	       { "1", 1, 1 },	   { "25", 1, 25 },
		{ "65535", 1, 65535 }, { "65536", 0, 0 },  { "99999", 0, 0 },
		{ "100000", 0, 0 },    { "", 0, 0 },	   { "abc", 0, 0 },
		{ "25a", 0, 0 },       { "-1", 0, 0 },	   { "+25", 0, 0 },
		{ " 25", 0, 0 },       { "25 ", 0, 0 },	   { "2.5", 0, 0 },
		{ "0x19", 0, 0 },      { "00025", 1, 25 }, { "4294967321", 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t p = 0;
		int r = ports_parse_number(cases[i].in, &p);

		CHECK_INT(r == 0, cases[i].ok);
		if (cases[i].ok)
			CHECK_INT(p, cases[i].port);
	}
}

static void test_parse_proto(void)
{
	enum ports_proto p;

	CHECK_INT(ports_parse_proto("smtp", &p), 0);
	CHECK_INT(p, PROTO_SMTP);
	CHECK_INT(ports_parse_proto("pop3", &p), 0);
	CHECK_INT(p, PROTO_POP3);
	CHECK_INT(ports_parse_proto("SMTP", &p), -1);
	CHECK_INT(ports_parse_proto("imap", &p), -1);
	CHECK_INT(ports_parse_proto("", &p), -1);
}

static void test_iana(void)
{
	size_t i, unsorted, missed;

	CHECK_STR(iana_tcp_lookup(25)->name, "smtp");
	CHECK_STR(iana_tcp_lookup(110)->name, "pop3");
	CHECK_STR(iana_tcp_lookup(587)->name, "submission");
	CHECK_STR(iana_tcp_lookup(2525)->name, "ms-v-worlds");
	CHECK(iana_tcp_lookup(0) == NULL);     /* reserved, no service */
	CHECK(iana_tcp_lookup(10025) == NULL); /* unassigned */
	CHECK(iana_tcp_count > 5000);
	CHECK_HAS(iana_tcp_source, "port-numbers");
	/* sorted, unique, so the binary search finds every entry */
	for (i = 1, unsorted = 0; i < iana_tcp_count; i++)
		unsorted += iana_tcp[i - 1].port >= iana_tcp[i].port;
	CHECK_INT(unsorted, 0);
	for (i = 0, missed = 0; i < iana_tcp_count; i++)
		missed += iana_tcp_lookup(iana_tcp[i].port) != &iana_tcp[i];
	CHECK_INT(missed, 0);
}

static void test_defaults(void)
{
	struct port_set s;
	uint16_t v[4];
	char why[512];

	ports_init(&s);
	CHECK_INT(s.n, 2);
	CHECK_INT(ports_of(&s, PROTO_SMTP, v, 4), 1);
	CHECK_INT(v[0], 25);
	CHECK_INT(ports_of(&s, PROTO_POP3, v, 4), 1);
	CHECK_INT(v[0], 110);
	CHECK(ports_find(&s, 25)->is_default);
	/* defaults cannot be removed */
	CHECK_INT(ports_remove(&s, PROTO_SMTP, 25, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "default and cannot be removed");
	CHECK_INT(ports_remove(&s, PROTO_POP3, 110, why, sizeof(why)), PORTS_REFUSED);
	CHECK_INT(s.n, 2);
	/* nor re-added, for either protocol */
	CHECK_INT(ports_add(&s, PROTO_SMTP, 25, 0, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "already protected (smtp, default)");
	CHECK_INT(ports_add(&s, PROTO_POP3, 25, 1, why, sizeof(why)), PORTS_REFUSED);
	CHECK_INT(ports_add(&s, PROTO_SMTP, 110, 1, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "already protected (pop3, default)");
	CHECK_INT(s.n, 2);
}

static void test_add_rules(void)
{
	struct port_set s;
	char why[512];

	ports_init(&s);
	/* boundaries */
	CHECK_INT(ports_add(&s, PROTO_SMTP, 0, 1, why, sizeof(why)), PORTS_INVALID);
	CHECK_INT(ports_add(&s, PROTO_SMTP, 1, 0, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "tcpmux");
	CHECK_INT(ports_add(&s, PROTO_SMTP, 1, 1, why, sizeof(why)), PORTS_OK);
	CHECK_INT(ports_add(&s, PROTO_SMTP, 65535, 0, why, sizeof(why)), PORTS_OK);
	/* implicit TLS: refused with the reason, even with --force */
	CHECK_INT(ports_add(&s, PROTO_SMTP, 465, 0, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "encrypted and cannot be scanned");
	CHECK_INT(ports_add(&s, PROTO_SMTP, 465, 1, why, sizeof(why)), PORTS_REFUSED);
	CHECK_INT(ports_add(&s, PROTO_POP3, 995, 1, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "POP3 over implicit TLS");
	CHECK_INT(ports_add(&s, PROTO_POP3, 993, 0, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "IMAP");
	/* IANA: another protocol's port is refused, naming it, unless forced */
	CHECK_INT(ports_add(&s, PROTO_SMTP, 2525, 0, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "ms-v-worlds (MS V-Worlds)");
	CHECK_HAS(why, "--force");
	CHECK_INT(ports_add(&s, PROTO_SMTP, 2525, 1, why, sizeof(why)), PORTS_OK);
	/* SMTP's own registered ports are not another protocol; not POP3's */
	CHECK_INT(ports_add(&s, PROTO_POP3, 587, 0, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "submission");
	CHECK_INT(ports_add(&s, PROTO_SMTP, 587, 0, why, sizeof(why)), PORTS_OK);
	/* unassigned port: allowed; then a duplicate across protocols */
	CHECK_INT(ports_add(&s, PROTO_SMTP, 10025, 0, why, sizeof(why)), PORTS_OK);
	CHECK_INT(ports_add(&s, PROTO_POP3, 10025, 0, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "already protected (smtp)");
	CHECK_INT(ports_add(&s, PROTO_SMTP, 10025, 1, why, sizeof(why)), PORTS_REFUSED);
	CHECK_INT(ports_add(&s, PROTO_POP3, 10111, 0, why, sizeof(why)), PORTS_OK);
	CHECK_INT(s.n, 8);
	/* remove: wrong protocol, not protected, then the real thing */
	CHECK_INT(ports_remove(&s, PROTO_POP3, 10025, why, sizeof(why)), PORTS_REFUSED);
	CHECK_HAS(why, "not protected for pop3");
	CHECK_INT(ports_remove(&s, PROTO_SMTP, 12345, why, sizeof(why)), PORTS_REFUSED);
	CHECK_INT(ports_remove(&s, PROTO_SMTP, 10025, why, sizeof(why)), PORTS_OK);
	CHECK(ports_find(&s, 10025) == NULL);
	CHECK_INT(ports_remove(&s, PROTO_SMTP, 10025, why, sizeof(why)), PORTS_REFUSED);
	CHECK_INT(s.n, 7);
	/* a refused change changes nothing */
	{
		struct port_set before = s;

		ports_add(&s, PROTO_SMTP, 995, 1, why, sizeof(why));
		ports_remove(&s, PROTO_SMTP, 25, why, sizeof(why));
		CHECK(memcmp(&before, &s, sizeof(s)) == 0);
	}
}

static void test_full(void)
{
	struct port_set s;
	char why[512];
	unsigned int p;
	int r = PORTS_OK;

	ports_init(&s);
	for (p = 20000; r == PORTS_OK; p++)
		r = ports_add(&s, PROTO_SMTP, (uint16_t)p, 1, why, sizeof(why));
	CHECK_INT(r, PORTS_REFUSED);
	CHECK_HAS(why, "too many");
	CHECK_INT(s.n, PORTS_MAX);
}

static int read_text(struct port_set *s, const char *text, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	ports_init(s);
	r = ports_read(s, f, "ports", err, errlen);
	fclose(f);
	return r;
}

static void test_file(void)
{
	struct port_set s, t;
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *f;

	CHECK_INT(read_text(&s, "# comment\n\nsmtp 10026\npop3 10111  # trailing\n", err,
			    sizeof(err)),
		  0);
	CHECK_INT(s.n, 4);
	CHECK_INT(ports_find(&s, 10026)->proto, PROTO_SMTP);
	CHECK_INT(ports_find(&s, 10111)->proto, PROTO_POP3);
	CHECK(!ports_find(&s, 10111)->is_default);
	/* write and read back: same set, defaults not written */
	f = open_memstream(&text, &len);
	CHECK_INT(ports_write(&s, f), 0);
	fclose(f);
	CHECK(strstr(text, "smtp 25\n") == NULL);
	CHECK_HAS(text, "smtp 10026\npop3 10111\n");
	CHECK_INT(read_text(&t, text, err, sizeof(err)), 0);
	CHECK_INT(t.n, 4);
	free(text);

	CHECK_INT(read_text(&s, "smtp 10026\nimap 143\n", err, sizeof(err)), -1);
	CHECK_STR(err, "ports:2: unknown protocol 'imap'");
	CHECK_INT(read_text(&s, "smtp 0\n", err, sizeof(err)), -1);
	CHECK_STR(err, "ports:1: invalid port '0' (expected 1-65535)");
	CHECK_INT(read_text(&s, "smtp 65536\n", err, sizeof(err)), -1);
	CHECK_INT(read_text(&s, "smtp x\n", err, sizeof(err)), -1);
	CHECK_INT(read_text(&s, "pop3 25\n", err, sizeof(err)), -1);
	CHECK_STR(err, "ports:1: port 25 listed twice");
	CHECK_INT(read_text(&s, "smtp 10026\npop3 10026\n", err, sizeof(err)), -1);
	CHECK_STR(err, "ports:2: port 10026 listed twice");
	CHECK_INT(read_text(&s, "smtp\n", err, sizeof(err)), -1);
	CHECK_STR(err, "ports:1: expected 'smtp|pop3 PORT'");
	CHECK_INT(read_text(&s, "smtp 1 2\n", err, sizeof(err)), -1);
}

static void test_load_save(void)
{
	char dir[] = "/tmp/mailscan-unit.XXXXXX", path[128], err[512];
	struct port_set s, t;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sub/dir/ports", dir);
	/* a missing file: defaults only */
	CHECK_INT(ports_load(&s, path, err, sizeof(err)), 0);
	CHECK_INT(s.n, 2);
	CHECK_INT(ports_add(&s, PROTO_SMTP, 10025, 0, err, sizeof(err)), PORTS_OK);
	CHECK_INT(ports_save(&s, path, err, sizeof(err)), 0);
	CHECK_INT(ports_load(&t, path, err, sizeof(err)), 0);
	CHECK_INT(t.n, 3);
	CHECK(ports_find(&t, 10025) != NULL);
	unlink(path);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK_INT(system(path), 0);
}

int main(void)
{
	test_parse_number();
	test_parse_proto();
	test_iana();
	test_defaults();
	test_add_rules();
	test_full();
	test_file();
	test_load_save();
	return unit_report("test_ports");
}
