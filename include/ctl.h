/* The control socket protocol: one request line, one reply, then the daemon closes.
 * A reply starts with "OK\n" followed by the body, or "ERR reason\n". */
#ifndef MAILSCAN_CTL_H
#define MAILSCAN_CTL_H

#include <stddef.h>

#define CTL_MAX_REQUEST 256

/* Sends REQUEST to the daemon at PATH and returns its reply in a malloc'd string
 * (*REPLY); -1 with errno when the daemon cannot be reached. */
int ctl_request(const char *path, const char *request, char **reply);

#endif
