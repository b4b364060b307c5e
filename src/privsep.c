/* libcap-ng: the only file that sees cap-ng.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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
			 "user %s: %s (create it: adduser --system --group %s; or set user)", user,
			 errno ? strerror(errno) : "no such user", user);
		return -1;
	}
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	return 0;
}

/* the effective and permitted sets, from the kernel */
static int caps_now(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	*eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	*prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	return 0;
}

/* As root: capng_change_id keeps what was selected across setuid and empties the
 * bounding set. Started as the user already (systemd's User= with ambient capabilities,
 * where capset may be filtered out): the sets are only cut when they hold more than
 * WANT. Either way nothing ambient is passed on to programs this one executes. */
static int become(const struct privsep_id *id, uint64_t want, const char *what, char *err,
		  size_t errlen)
{
	uint64_t eff, prm;
	int r = 0;

	if (geteuid() == 0 && id->uid != 0)
		r = capng_change_id((int)id->uid, (int)id->gid,
				    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	else if (geteuid() == 0)
		r = capng_apply(CAPNG_SELECT_BOTH);
	else if (caps_now(&eff, &prm) || eff != want || prm != want)
		r = capng_apply(CAPNG_SELECT_CAPS);
	if (r) {
		snprintf(err, errlen, "%s: cannot drop privileges (uid %u): libcap-ng error %d",
			 what, (unsigned int)id->uid, r);
		return -1;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return 0;
}

int privsep_engine(const struct privsep_id *id, char *err, size_t errlen)
{
	capng_clear(CAPNG_SELECT_BOTH);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
		      CAP_NET_ADMIN, CAP_NET_RAW, -1);
	if (become(id, 1ULL << CAP_NET_ADMIN | 1ULL << CAP_NET_RAW, "packet engine", err, errlen))
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
	if (become(id, 0, "scan master", err, errlen))
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}
