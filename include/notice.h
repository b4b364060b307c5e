/* The notice that takes an infected POP3 message's place (pop3_action = replace): a
 * message from mailscan of exactly the original's length, since the server's sequence
 * space is fixed. Pure. */
#ifndef MAILSCAN_NOTICE_H
#define MAILSCAN_NOTICE_H

#include <stddef.h>
#include <stdint.h>

struct notice_info {
	const char *virus;   /* the name the scanner gave */
	const char *qid;     /* the quarantine's name for the original, "" if none */
	unsigned long msgno; /* the message's number on the server */
};

/* Fills OUT with LEN bytes: a notice in the wire form of a POP3 body (CRLF lines, none
 * starting with '.', the last ending in CRLF), taking Subject, Date and Message-ID from
 * ORIG (the original in the same form, its headers at least). 0, or -1 if LEN cannot
 * hold the shortest notice. */
int notice_build(uint8_t *out, size_t len, const uint8_t *orig, size_t olen,
		 const struct notice_info *);

#endif
