/* libcap-ng: the only file that sees cap-ng.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include "privsep.h"

int privsep_lookup(const char *user, struct privsep_id *id, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen,
			 "user %s: %s (create it: adduser --system --group %s; or set user)",
			 user, errno ? strerror(errno) : "no such user", user);
		return -1;
	}
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	return 0;
}

/* capng_change_id keeps what was selected across setuid; as the user itself, only
 * the capabilities are cut down */
static int become(const struct privsep_id *id, const char *what, char *err, size_t errlen)
{
	int r;

	if (geteuid() == 0 && id->uid != 0)
		r = capng_change_id((int)id->uid, (int)id->gid,
				    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	else
		r = capng_apply(CAPNG_SELECT_BOTH);
	if (r) {
		snprintf(err, errlen, "%s: cannot drop privileges (uid %u): libcap-ng error %d",
			 what, (unsigned int)id->uid, r);
		return -1;
	}
	return 0;
}

int privsep_engine(const struct privsep_id *id, char *err, size_t errlen)
{
	capng_clear(CAPNG_SELECT_BOTH);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
		      CAP_NET_ADMIN, CAP_NET_RAW, -1);
	if (become(id, "packet engine", err, errlen))
		return -1;
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer stops the threads with ptrace, which needs a dumpable process */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

int privsep_none(const struct privsep_id *id, char *err, size_t errlen)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (become(id, "scan master", err, errlen))
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}
