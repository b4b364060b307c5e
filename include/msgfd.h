/* Message bodies in memfds: the store (msg.h) the packet engine reads messages into.
 * Each body is a memfd of its own, mapped while it is read; at its end the memfd is cut
 * to the message's length, sealed (F_SEAL_WRITE, F_SEAL_GROW, F_SEAL_SHRINK) and mapped
 * read-only. That is the one copy of the message: scanners get the descriptor as it is,
 * and none can change what it or the next one sees. */
#ifndef MAILSCAN_MSGFD_H
#define MAILSCAN_MSGFD_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

extern const struct msg_store_ops msgfd_store;

/* A new sealed memfd holding a copy of P (LEN bytes); -1 with errno. */
int msgfd_copy(const uint8_t *p, size_t len);
/* 0 when FD is a memfd sealed as above, else -errno (EPERM: it is not). */
int msgfd_check(int fd);

#endif
