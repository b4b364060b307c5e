/* Privileges: who runs what. The only file that sees libcap-ng. */
#ifndef MAILSCAN_PRIVSEP_H
#define MAILSCAN_PRIVSEP_H

#include <stddef.h>
#include <sys/types.h>

struct privsep_id {
	uid_t uid;
	gid_t gid;
};

/* The user's ids; -1 with a reason in ERR when there is no such user. */
int privsep_lookup(const char *user, struct privsep_id *, char *err, size_t errlen);
/* The packet engine, after its setup and before its first thread: becomes ID (when run
 * as root) keeping CAP_NET_ADMIN and CAP_NET_RAW only, in every set, the bounding set
 * included. -1 with a reason in ERR. */
int privsep_engine(const struct privsep_id *, char *err, size_t errlen);
/* A scan master and its scanners: becomes ID (when run as root) with no capability at
 * all, and can gain none (no_new_privs). -1 with a reason in ERR. */
int privsep_none(const struct privsep_id *, char *err, size_t errlen);

#endif
