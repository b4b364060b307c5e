/* The notice of a removed POP3 message: see notice.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "notice.h"

#define VALUE_MAX 200 /* of a header value taken from the original */
#define PAD_LINE  78  /* padding lines, their CRLF included */

/* The first line of header NAME among ORIG's headers, printable, into VAL; its length. */
static size_t header(const uint8_t *o, size_t n, const char *name, char *val, size_t max)
{
	size_t nl = strlen(name), i = 0;

	val[0] = '\0';
	while (i < n) {
		size_t e = i, ll, k, j = 0;

		while (e < n && o[e] != '\n')
			e++;
		ll = e - i;
		if (ll && o[i + ll - 1] == '\r')
			ll--;
		if (ll == 0)
			return 0; /* the end of the headers */
		if (ll > nl && o[i + nl] == ':' && !strncasecmp((const char *)o + i, name, nl)) {
			for (k = i + nl + 1; k < i + ll && (o[k] == ' ' || o[k] == '\t'); k++)
				;
			for (; k < i + ll && j + 1 < max; k++)
				val[j++] = o[k] >= 0x20 && o[k] < 0x7f ? (char)o[k] : '?';
			val[j] = '\0';
			return j;
		}
		i = e + 1;
	}
	return 0;
}

static void printable(const char *s, char *out, size_t max)
{
	size_t j = 0;

	for (; *s && j + 1 < max; s++)
		out[j++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	out[j] = '\0';
}

/* the notice's text, long or short; its length (not more than CAP) */
static size_t text(char *t, size_t cap, int shortest, const uint8_t *orig, size_t olen,
		   const struct notice_info *in)
{
	char subj[VALUE_MAX], date[VALUE_MAX], mid[VALUE_MAX], virus[VALUE_MAX], qid[VALUE_MAX];
	int n;

	printable(in->virus ? in->virus : "unknown", virus, sizeof(virus));
	if (shortest) {
		n = snprintf(t, cap,
			     "From: mailscan\r\nSubject: [virus removed]\r\n"
			     "X-Mailscan-Virus: %s\r\n\r\nRemoved by mailscan.\r\n",
			     virus);
		return n < 0 ? cap + 1 : (size_t)n;
	}
	header(orig, olen, "Subject", subj, sizeof(subj));
	header(orig, olen, "Date", date, sizeof(date));
	header(orig, olen, "Message-ID", mid, sizeof(mid));
	printable(in->qid ? in->qid : "", qid, sizeof(qid));
	n = snprintf(
		t, cap,
		"From: mailscan <mailscan@localhost>\r\n"
		"Subject: [virus removed] %s\r\n"
		"%s%s%s%s%s%s"
		"X-Mailscan-Virus: %s\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n"
		"mailscan removed this message (number %lu on the server): it carried\r\n"
		"a virus, %s.\r\n"
		"%s%s%s"
		"Ask the sender to send it again if you expected it. Deleting this\r\n"
		"notice deletes the original from the server.\r\n",
		subj, date[0] ? "Date: " : "", date, date[0] ? "\r\n" : "",
		mid[0] ? "Message-ID: " : "", mid, mid[0] ? "\r\n" : "", virus, in->msgno, virus,
		qid[0] ? "Your administrator can find the original in the quarantine as\r\n" : "",
		qid, qid[0] ? ".\r\n" : "");
	return n < 0 ? cap + 1 : (size_t)n;
}

int notice_build(uint8_t *out, size_t len, const uint8_t *orig, size_t olen,
		 const struct notice_info *in)
{
	char t[2048];
	size_t n = text(t, sizeof(t), 0, orig, olen, in), rem;

	if (n >= sizeof(t) || n > len)
		n = text(t, sizeof(t), 1, orig, olen, in);
	if (n >= sizeof(t) || n > len)
		return -1;
	memcpy(out, t, n);
	rem = len - n;
	if (rem == 1) {
		/* one byte: a space before the last line's CRLF */
		memmove(out + n - 1, out + n - 2, 2);
		out[n - 2] = ' ';
		return 0;
	}
	/* whitespace lines, none left of a single byte */
	while (rem) {
		size_t k = rem > PAD_LINE ? PAD_LINE : rem;

		if (rem - k == 1)
			k--;
		memset(out + n, ' ', k - 2);
		out[n + k - 2] = '\r';
		out[n + k - 1] = '\n';
		n += k;
		rem -= k;
	}
	return 0;
}
