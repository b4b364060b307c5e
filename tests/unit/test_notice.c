/* The notice of a removed POP3 message: exactly the length asked, at every length from
 * the shortest up; CRLF lines, none that a client would take for the end or unstuff; the
 * original's Subject, Date and Message-ID, the virus and the quarantine name. */
#include <stdlib.h>

#include "notice.h"
#include "unit.h"

static const char orig[] = "Received: from x\r\nSubject: Invoice\r\n\t folded\r\n"
			   "date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
			   "Message-ID: <a.b@example.org>\r\n\r\n.body line\r\n";

/* CRLF lines only, no line starting with '.', one blank line after the headers */
static int wire_ok(const uint8_t *b, size_t n)
{
	size_t i, start = 0;
	int blank = 0;

	if (n < 2 || b[n - 2] != '\r' || b[n - 1] != '\n')
		return 0;
	for (i = 0; i < n; i++) {
		if (b[i] == '\n') {
			if (i == 0 || b[i - 1] != '\r')
				return 0;
			if (i - start == 1 && !blank)
				blank = 1;
			start = i + 1;
		} else if (b[i] == '\r' && (i + 1 >= n || b[i + 1] != '\n')) {
			return 0;
		} else if (i == start && b[i] == '.') {
			return 0;
		}
	}
	return blank;
}

int main(void)
{
	struct notice_info in = { "Win.Test.EICAR_HDB-1", "20261201T100000-42-000007", 3 };
	uint8_t *b = malloc(70000);
	size_t len, shortest = 0, full = 0;

	for (len = 0; len < 4000; len++) {
		memset(b, 'Z', len + 8);
		if (notice_build(b, len, (const uint8_t *)orig, sizeof(orig) - 1, &in) < 0) {
			CHECK(shortest == 0); /* every length from the shortest on fits */
			continue;
		}
		if (!shortest)
			shortest = len;
		CHECK(wire_ok(b, len));
		CHECK_INT(b[len], 'Z'); /* not a byte more */
		CHECK(memmem(b, len, "Subject: [virus removed]", 24) != NULL);
		CHECK(memmem(b, len, "X-Mailscan-Virus: Win.Test.EICAR_HDB-1\r\n", 40) != NULL);
		if (!full && memmem(b, len, "Subject: [virus removed] Invoice\r\n", 34))
			full = len;
		if (full) {
			CHECK(memmem(b, len, "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n", 38) !=
			      NULL);
			CHECK(memmem(b, len, "Message-ID: <a.b@example.org>\r\n", 31) != NULL);
			CHECK(memmem(b, len, "20261201T100000-42-000007", 25) != NULL);
		}
	}
	CHECK(shortest > 0 && shortest < 120);
	CHECK(full > shortest && full < 1000);
	/* a large one: padding lines to the end */
	CHECK_INT(notice_build(b, 65536, (const uint8_t *)orig, sizeof(orig) - 1, &in), 0);
	CHECK(wire_ok(b, 65536));
	/* no headers to take, odd bytes in the virus name */
	in.virus = "Bad\r\nName";
	in.qid = "";
	CHECK_INT(notice_build(b, 900, (const uint8_t *)"\r\n", 2, &in), 0);
	CHECK(wire_ok(b, 900));
	CHECK(memmem(b, 900, "X-Mailscan-Virus: Bad??Name\r\n", 29) != NULL);
	CHECK(memmem(b, 900, "Date:", 5) == NULL);
	free(b);
	return unit_report("test_notice");
}
