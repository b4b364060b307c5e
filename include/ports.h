/* Protected ports: the product's rules for which ports may be added or removed. Pure. */
#ifndef MAILSCAN_PORTS_H
#define MAILSCAN_PORTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PORTS_MAX 256

enum ports_proto { PROTO_SMTP, PROTO_POP3, PROTO_COUNT };

struct port_entry {
	enum ports_proto proto;
	uint16_t port;
	int is_default;
};

struct port_set {
	struct port_entry v[PORTS_MAX];
	size_t n;
};

/* Results of a check: 0 allowed, or one of these. */
enum {
	PORTS_OK = 0,
	PORTS_REFUSED = 1, /* the product's rules say no; WHY says which */
	PORTS_INVALID = 2, /* not a port number or protocol: a usage error */
};

struct iana_service {
	uint16_t port;
	const char *name;
	const char *description;
};

/* The shipped IANA TCP registry (src/iana_tcp.c), sorted by port. */
extern const struct iana_service iana_tcp[];
extern const size_t iana_tcp_count;
extern const char iana_tcp_source[];

const struct iana_service *iana_tcp_lookup(uint16_t port);

const char *ports_proto_name(enum ports_proto);
int ports_parse_proto(const char *, enum ports_proto *);
/* A decimal integer 1-65535, nothing else. */
int ports_parse_number(const char *, uint16_t *);

/* The defaults, SMTP 25 and POP3 110. */
void ports_init(struct port_set *);
const struct port_entry *ports_find(const struct port_set *, uint16_t port);

int ports_check_add(const struct port_set *, enum ports_proto, uint16_t port, int force, char *why,
		    size_t whylen);
int ports_check_remove(const struct port_set *, enum ports_proto, uint16_t port, char *why,
		       size_t whylen);
/* Both return PORTS_* after checking; the set changes only on PORTS_OK. */
int ports_add(struct port_set *, enum ports_proto, uint16_t port, int force, char *why,
	      size_t whylen);
int ports_remove(struct port_set *, enum ports_proto, uint16_t port, char *why, size_t whylen);

/* Ports of one protocol, ascending; returns how many were written (at most MAX). */
size_t ports_of(const struct port_set *, enum ports_proto, uint16_t *out, size_t max);

/* The ports file holds the added ports, one `smtp PORT` or `pop3 PORT` a line.
 * ports_read adds them to the set (over the defaults); -1 with file:line in ERR. */
int ports_read(struct port_set *, FILE *, const char *name, char *err, size_t errlen);
int ports_write(const struct port_set *, FILE *);

/* The ports file by path: a missing file means defaults only. ports_save writes a
 * temporary file beside PATH and renames it over, so readers see old or new whole. */
int ports_load(struct port_set *, const char *path, char *err, size_t errlen);
int ports_save(const struct port_set *, const char *path, char *err, size_t errlen);
#endif
