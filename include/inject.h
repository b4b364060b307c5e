/* Sending our own TCP packets (RSTs, replies) through raw sockets. Every packet carries
 * the inject mark, which the rules accept before queueing. */
#ifndef MAILSCAN_INJECT_H
#define MAILSCAN_INJECT_H

#include "packet.h"

struct inject;

struct inject *inject_new(uint32_t mark);
void inject_free(struct inject *);
/* 0, or -1 with errno */
int inject_send(struct inject *, const struct tcp_spec *);

#endif
