/* SMTP command lines as servers read them: pure, libc only. */
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h> /* the compiler's: SSE2 is part of every x86-64 */
#endif

#include "smtpcmd.h"

#define MAX_TOKENS 4

/* name and length: the line is compared with every name, so no strlen per line */
#define NAME(s) s, sizeof(s) - 1

static const struct {
	const char *name;
	size_t len;
	enum smtpcmd_verb verb;
	const char *colon; /* exim and OpenSMTPD match "mail from:" with its colon */
	size_t colon_len;
} verbs[] = {
	{ NAME("EHLO"), SMTPCMD_HELO, NULL, 0 },
	{ NAME("HELO"), SMTPCMD_HELO, NULL, 0 },
	{ NAME("LHLO"), SMTPCMD_HELO, NULL, 0 },
	{ NAME("MAIL"), SMTPCMD_MAIL, NAME("MAIL FROM:") },
	{ NAME("RCPT"), SMTPCMD_RCPT, NAME("RCPT TO:") },
	{ NAME("DATA"), SMTPCMD_DATA, NULL, 0 },
	{ NAME("BDAT"), SMTPCMD_BDAT, NULL, 0 },
	{ NAME("STARTTLS"), SMTPCMD_STARTTLS, NULL, 0 },
	{ NAME("RSET"), SMTPCMD_RSET, NULL, 0 },
	{ NAME("QUIT"), SMTPCMD_OTHER, NULL, 0 },
	{ NAME("NOOP"), SMTPCMD_OTHER, NULL, 0 },
	{ NAME("VRFY"), SMTPCMD_OTHER, NULL, 0 },
	{ NAME("EXPN"), SMTPCMD_OTHER, NULL, 0 },
	{ NAME("HELP"), SMTPCMD_OTHER, NULL, 0 },
	{ NAME("AUTH"), SMTPCMD_OTHER, NULL, 0 },
};

#define NVERBS	 (sizeof(verbs) / sizeof(verbs[0]))
#define VERB_MIN 4 /* the shortest name */

/* postfix's ISSPACE and exim's isspace in the C locale */
#define WS " \t\n\v\f\r"

static int is_ws(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* every verb starts with one */
static int is_letter(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

struct span {
	const char *p;
	size_t n;
};

/* L (N bytes) starts with NAME (K bytes, a letter first) in any case; a NUL in L is no
 * match. The first byte is compared here: most lines are not commands, and fail there. */
static int starts_with(const char *l, size_t n, const char *name, size_t k)
{
	return n >= k && ((unsigned char)l[0] | 0x20) == ((unsigned char)name[0] | 0x20) &&
	       !strncasecmp(l, name, k);
}

/* starts_with for the first VERB_MIN bytes of a name, all of them letters: a byte
 * matches a letter in either case exactly when it equals it with bit 0x20 set */
static int starts_letters(const char *l, size_t n, const char *name)
{
	size_t j;

	if (n < VERB_MIN)
		return 0;
	for (j = 0; j < VERB_MIN; j++)
		if (((unsigned char)l[j] | 0x20) != ((unsigned char)name[j] | 0x20))
			return 0;
	return 1;
}

static enum smtpcmd_verb verb_of(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < NVERBS; i++)
		if (n == verbs[i].len && starts_with(p, n, verbs[i].name, n))
			return verbs[i].verb;
	return SMTPCMD_NONE;
}

/* postfix: tokens at white space, in the first 2048 bytes; at most MAX of them, and one
 * more counted when more follow. Only BDAT needs its arguments: other lines are cut no
 * further than their verb, so that a long line that is no command costs little. L ends
 * with a NUL at N or after it (strspn and strcspn stop there; N bounds them). */
static size_t pf_tokens(const char *l, size_t n, struct span *tok, size_t max)
{
	size_t i = 0, argc = 0;

	if (n > SMTPCMD_POSTFIX_LINE)
		n = SMTPCMD_POSTFIX_LINE;
	for (;;) {
		i += strspn(l + i, WS);
		if (i >= n)
			return argc;
		if (argc == max)
			return argc + 1;
		tok[argc].p = l + i;
		i += strcspn(l + i, WS);
		if (i > n)
			i = n;
		tok[argc].n = (size_t)(l + i - tok[argc].p);
		argc++;
	}
}

/* exim and OpenSMTPD: the verb starts the line and ends at a space (SEP) or the end */
static enum smtpcmd_verb prefix_verb(const char *l, size_t n, size_t *vlen)
{
	size_t i, k;

	if (!n || !is_letter((unsigned char)l[0]))
		return SMTPCMD_NONE; /* most lines that are no command stop here */
	for (i = 0; i < NVERBS; i++) {
		const char *name = verbs[i].colon ? verbs[i].colon : verbs[i].name;

		k = verbs[i].colon ? verbs[i].colon_len : verbs[i].len;
		if (starts_with(l, n, name, k) && (verbs[i].colon || n == k || l[k] == ' ')) {
			*vlen = k;
			return verbs[i].verb;
		}
		/* "MAIL" alone, or "MAIL x": a verb with bad arguments */
		k = verbs[i].len;
		if (verbs[i].colon && starts_with(l, n, verbs[i].name, k) &&
		    (n == k || l[k] == ' ')) {
			*vlen = k;
			return verbs[i].verb;
		}
	}
	return SMTPCMD_NONE;
}

static int all_digits(const struct span *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->p[i] < '0' || t->p[i] > '9')
			return 0;
	return t->n > 0;
}

/* postfix's BDAT: digits (off_t), and LAST or nothing */
static int pf_bdat(const struct span *tok, size_t argc, uint64_t *size, int *last)
{
	uint64_t v = 0;
	size_t i;

	if (argc < 2 || argc > 3 || !all_digits(&tok[1]))
		return 0;
	for (i = 0; i < tok[1].n; i++) {
		if (v > (UINT64_MAX / 2 - 9) / 10)
			return 0; /* off_cvt_string overflows */
		v = v * 10 + (uint64_t)(tok[1].p[i] - '0');
	}
	*last = argc == 3;
	if (*last && (tok[2].n != 4 || strncasecmp(tok[2].p, "LAST", 4)))
		return 0;
	*size = v;
	return 1;
}

/* exim's BDAT: sscanf(arg, "%u %n") and an exact "LAST" after it */
static int ex_bdat(const char *a, uint64_t *size, int *last)
{
	uint64_t v = 0;
	int neg = 0, over = 0;
	const char *d;

	while (is_ws((unsigned char)*a))
		a++;
	if (*a == '+' || *a == '-')
		neg = *a++ == '-';
	if (*a < '0' || *a > '9')
		return 0;
	for (d = a; *d >= '0' && *d <= '9'; d++) {
		if (v > (UINT64_MAX - 9) / 10)
			over = 1;
		v = v * 10 + (uint64_t)(*d - '0');
	}
	/* strtoul's value, stored in an unsigned int */
	if (over)
		v = UINT64_MAX;
	else if (neg)
		v = -v;
	*size = v & 0xffffffffULL;
	while (is_ws((unsigned char)*d))
		d++;
	*last = !strcasecmp(d, "LAST");
	return 1;
}

/* exim's reading of a line of at most 16384 bytes (trailing white space stripped) */
static enum smtpcmd_verb ex_read(char *l, size_t n, int nul, struct smtpcmd *c)
{
	size_t vlen = 0;
	enum smtpcmd_verb v;

	if (nul)
		return SMTPCMD_NONE; /* BADCHAR_CMD */
	v = prefix_verb(l, n, &vlen);
	if (v == SMTPCMD_BDAT)
		c->chunk = ex_bdat(l + vlen, &c->size, &c->last);
	return v;
}

static void merge_bdat(struct smtpcmd *c, int pf_ok, uint64_t pf_size, int pf_last, int ex_ok)
{
	if (!ex_ok && !pf_ok) {
		c->chunk = 0;
		return;
	}
	if (!ex_ok) {
		c->size = pf_size;
		c->last = pf_last;
		c->strict = 0;
	} else if (pf_ok && (pf_size != c->size || pf_last != c->last)) {
		/* exim's size is the smaller one (modulo 2^32); where only one of them
		 * reads LAST, the chunk end may end the message */
		if (pf_last != c->last)
			c->last = 2;
		c->strict = 0;
	} else if (!pf_ok) {
		c->strict = 0;
	}
	c->chunk = 1;
}

void smtpcmd_parse(struct smtpcmd *c, char *line, size_t len, uint64_t total)
{
	struct span tok[MAX_TOKENS];
	size_t n = strnlen(line, len), argc, ex_len = n, vlen = 0, i;
	int nul = n < len, pf_ok = 0, pf_last = 0;
	uint64_t pf_size = 0;
	enum smtpcmd_verb pf, ex = SMTPCMD_NONE, os;

	memset(c, 0, sizeof(*c));
	/* a NUL ends the line for postfix and OpenSMTPD */
	while (ex_len && is_ws((unsigned char)line[ex_len - 1]))
		ex_len--;
	/* the verb, and whether more follows (DATA takes no argument) */
	argc = pf_tokens(line, n, tok, 1);
	pf = argc ? verb_of(tok[0].p, tok[0].n) : SMTPCMD_NONE;
	if (pf == SMTPCMD_BDAT) {
		argc = pf_tokens(line, n, tok, MAX_TOKENS);
		pf_ok = pf_bdat(tok, argc, &pf_size, &pf_last);
	}
	/* OpenSMTPD (before the trailing white space goes): no leading space, no BDAT */
	os = total < SMTPCMD_POSTFIX_LINE ? prefix_verb(line, n, &vlen) : SMTPCMD_NONE;
	line[ex_len] = '\0';
	if (total <= SMTPCMD_EXIM_LINE)
		ex = ex_read(line, ex_len, nul, c);
	c->verb = pf != SMTPCMD_NONE ? pf : ex;
	c->strict = pf == ex && pf == os;
	/* DATA takes no argument: postfix (in its 2048 bytes), exim and OpenSMTPD refuse one */
	if (c->verb == SMTPCMD_DATA)
		c->refused = argc > 1 && !(ex == SMTPCMD_DATA && ex_len == 4);
	if (c->verb == SMTPCMD_BDAT)
		merge_bdat(c, pf_ok, pf_size, pf_last, ex == SMTPCMD_BDAT && c->chunk);
	/* the argument: after the verb token and its white space */
	i = argc ? (size_t)(tok[0].p - line) + tok[0].n : 0;
	if (i > ex_len)
		i = ex_len;
	while (i < ex_len && is_ws((unsigned char)line[i]))
		i++;
	c->arg = line + i;
}

#define FIRST(c) (1u << (((c) | 0x20) - 'a'))

/* the first letters of the names in verbs[], as bits of their lower case: taken from
 * the table once, so that a name added there is never read as no verb */
static uint32_t verb_firsts(void)
{
	static uint32_t firsts;
	uint32_t v = __atomic_load_n(&firsts, __ATOMIC_RELAXED);
	size_t k;

	if (v)
		return v;
	for (k = 0; k < NVERBS; k++)
		v |= FIRST((unsigned char)verbs[k].name[0]);
	__atomic_store_n(&firsts, v, __ATOMIC_RELAXED);
	return v;
}

static int none(const uint8_t *line, size_t len)
{
	const char *l = (const char *)line;
	size_t i = 0, k;

	/* postfix's verb is the first token, exim's and OpenSMTPD's the line's start: any
	 * of them is at the first byte that is not white space, and every name (with its
	 * colon too) is 4 bytes or more */
	while (i < len && is_ws(line[i]))
		i++;
	if (len > SMTPCMD_EXIM_LINE)
		return 0;
	if (i == len || !is_letter(line[i]) || !(verb_firsts() & FIRST(line[i])))
		return 1; /* most lines that are no command stop here */
	for (k = 0; k < NVERBS; k++)
		if (starts_letters(l + i, len - i, verbs[k].name))
			return 0;
	return 1;
}

int smtpcmd_none(const uint8_t *line, size_t len)
{
	return none(line, len);
}

#ifdef __SSE2__
#define BLOCK 64

/* the LFs in the BLOCK bytes at D: bit i for D[i] */
static uint64_t lf_mask(const uint8_t *d)
{
	const __m128i lf = _mm_set1_epi8('\n');
	const __m128i *p = (const __m128i *)(const void *)d;
	__m128i a = _mm_cmpeq_epi8(_mm_loadu_si128(p), lf);
	__m128i b = _mm_cmpeq_epi8(_mm_loadu_si128(p + 1), lf);
	__m128i c = _mm_cmpeq_epi8(_mm_loadu_si128(p + 2), lf);
	__m128i e = _mm_cmpeq_epi8(_mm_loadu_si128(p + 3), lf);

	if (!_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, e))))
		return 0; /* most blocks */
	return (uint64_t)(uint16_t)_mm_movemask_epi8(a) |
	       (uint64_t)(uint16_t)_mm_movemask_epi8(b) << 16 |
	       (uint64_t)(uint16_t)_mm_movemask_epi8(c) << 32 |
	       (uint64_t)(uint16_t)_mm_movemask_epi8(e) << 48;
}
#endif

size_t smtpcmd_none_lines(const uint8_t *d, size_t n, size_t max, uint64_t *lines)
{
	const uint8_t *lf;
	uint64_t count = 0;
	size_t i = 0;
#ifdef __SSE2__
	size_t base, at;
	uint64_t m;

	/* whole blocks: every LF of a block found at once, not searched for from each
	 * line's start */
	for (base = 0; base + BLOCK <= n; base += BLOCK) {
		for (m = lf_mask(d + base); m; m &= m - 1) {
			at = base + (size_t)__builtin_ctzll(m);
			if (at - i > max || !none(d + i, at - i)) {
				n = i; /* this line is read in full */
				break;
			}
			i = at + 1;
			count++;
		}
		if (base + BLOCK - i > max)
			break; /* a line longer than MAX (the search below says so) */
	}
#endif
	while (i < n && (lf = memchr(d + i, '\n', n - i <= max ? n - i : max + 1)) &&
	       none(d + i, (size_t)(lf - d) - i)) {
		i = (size_t)(lf - d) + 1;
		count++;
	}
	*lines = count;
	return i;
}

void smtpcmd_piece_feed(struct smtpcmd_piece *p, const uint8_t *d, size_t n)
{
	const uint64_t step = SMTPCMD_EXIM_LINE + 1;
	uint64_t end = p->total + n, start = end - end % step;
	size_t i = 0;

	if (end < step) {
		p->total = end;
		return;
	}
	if (start > p->total) {
		/* a new piece starts in these bytes */
		i = (size_t)(start - p->total);
		p->len = 0;
		p->over = p->nul = 0;
	}
	for (; i < n; i++) {
		char ch = (char)d[i];

		if (!ch)
			p->nul = 1;
		if (is_ws((unsigned char)ch) && p->len && is_ws((unsigned char)p->buf[p->len - 1]))
			continue;
		if (p->len < SMTPCMD_PIECE_KEEP)
			p->buf[p->len++] = ch;
		else
			p->over = 1;
	}
	p->total = end;
}

int smtpcmd_piece_parse(struct smtpcmd_piece *p, struct smtpcmd *c)
{
	size_t n = p->len;

	memset(c, 0, sizeof(*c));
	if (p->total <= SMTPCMD_EXIM_LINE)
		return 0;
	while (n && is_ws((unsigned char)p->buf[n - 1]))
		n--;
	p->buf[n] = '\0';
	if (!p->over)
		c->verb = ex_read(p->buf, n, p->nul, c);
	if (c->verb == SMTPCMD_BDAT && !c->chunk)
		c->verb = SMTPCMD_OTHER;
	c->arg = "";
	return 1;
}

uint64_t smtpcmd_exim_replies(uint64_t total)
{
	return total <= SMTPCMD_EXIM_LINE ? 1 : total / (SMTPCMD_EXIM_LINE + 1) + 1;
}
