/* How SMTP servers read a command line, as their sources do. Pure.
 *
 * postfix 3.7 (smtp_stream.c, smtpd_token.c, smtpd.c): a line ends at LF, every CR
 * before the LF is stripped, and the line is cut into tokens at any white space
 * (space, tab, LF, VT, FF, CR), leading white space skipped; the verb is the first
 * token, matched without case; a NUL ends the line. A line longer than
 * line_length_limit (2048) is read as its first 2048 bytes, the rest skipped up to the
 * LF. BDAT takes a size of digits only (leading zeros allowed, no sign, an overflow is
 * refused) and LAST in any case; a malformed BDAT hangs up.
 * exim 4.96 (smtp_in.c): a line ends at LF, trailing white space (CR too) is stripped;
 * the verb must start the line and be followed by a space or the end; a NUL makes the
 * command an error. A line of more than 16384 bytes is answered as an error after
 * 16384 bytes, the next byte is lost, and the line goes on as a new command: its last
 * piece is a command of its own. BDAT's size is sscanf "%u": white space, then a sign
 * (+ or -) and digits, the value modulo 2^32; LAST is anything after it that equals
 * "LAST" in any case, and any other tail is a chunk that is not the last.
 * OpenSMTPD 6.8 (smtp_session.c): a line ends at LF, one CR is stripped, the verb ends
 * at the first space, a NUL ends the line; no BDAT, and a line of LINE_MAX bytes or
 * more closes the session.
 *
 * mailscand takes the union: postfix's tokens (the widest reading of every verb), with
 * a note of whether every server reads the line the same way ("strict"), and exim's
 * last piece of a huge line. */
#ifndef MAILSCAN_SMTPCMD_H
#define MAILSCAN_SMTPCMD_H

#include <stddef.h>
#include <stdint.h>

#define SMTPCMD_POSTFIX_LINE 2048  /* postfix's line_length_limit */
#define SMTPCMD_EXIM_LINE    16384 /* exim's SMTP_CMD_BUFFER_SIZE */
#define SMTPCMD_PIECE_KEEP   128   /* of exim's last piece, white space runs folded */

enum smtpcmd_verb {
	SMTPCMD_NONE, /* an empty line or one no server reads as a verb it knows */
	SMTPCMD_HELO, /* HELO, EHLO, LHLO */
	SMTPCMD_MAIL,
	SMTPCMD_RCPT,
	SMTPCMD_DATA,
	SMTPCMD_BDAT,
	SMTPCMD_STARTTLS,
	SMTPCMD_RSET,
	SMTPCMD_OTHER, /* another verb servers know (QUIT, NOOP, AUTH...) */
};

struct smtpcmd {
	enum smtpcmd_verb verb;
	int strict;	 /* every server reads this verb (and BDAT's size) the same */
	int refused;	 /* every server refuses it (DATA with an argument) */
	const char *arg; /* after the verb and its white space, in the line (NUL-ended) */
	/* BDAT: a chunk follows when CHUNK is set */
	int chunk, last;
	uint64_t size;
};

/* Reads LINE (LEN bytes kept, NUL-terminated at LEN, without its LF; it may be modified)
 * as the union of the servers' readings. TOTAL is the line's length in the stream (more
 * than LEN when only its start was kept); past 16384 bytes exim's reading is the last
 * piece's (smtpcmd_piece_parse). */
void smtpcmd_parse(struct smtpcmd *, char *line, size_t len, uint64_t total);

/* 1 when LINE (LEN bytes, without its LF) is read by no server as a verb, a line as
 * short as this (exim's pieces start past 16384 bytes): smtpcmd_parse would find
 * SMTPCMD_NONE in it, nothing else. 0 when it may be a verb. */
int smtpcmd_none(const uint8_t *line, size_t len);
/* The whole lines at the start of D (N bytes) that smtpcmd_none finds are no verb, each
 * no longer than MAX bytes before its LF: the bytes they take, their LFs included, and
 * their number in LINES. */
size_t smtpcmd_none_lines(const uint8_t *d, size_t n, size_t max, uint64_t *lines);

/* The piece of a command line that exim reads as a command of its own: the bytes after
 * the last 16385-byte boundary, white space runs folded to their first byte. */
struct smtpcmd_piece {
	uint64_t total; /* bytes of the line so far */
	size_t len;
	int over; /* the piece does not fit: not a command that matters */
	int nul;
	char buf[SMTPCMD_PIECE_KEEP + 1];
};

void smtpcmd_piece_feed(struct smtpcmd_piece *, const uint8_t *d, size_t n);
/* The command exim reads from the last piece once the line ended (the line had more
 * than 16384 bytes); 0 when it was not that long. */
int smtpcmd_piece_parse(struct smtpcmd_piece *, struct smtpcmd *);
/* The replies exim sends for a line of TOTAL bytes: one per 16385 bytes, and one. */
uint64_t smtpcmd_exim_replies(uint64_t total);

#endif
