/* The messages between the packet engine, a scan master and its scanner processes:
 * small fixed-format records over SOCK_SEQPACKET socketpairs, descriptors passed with
 * SCM_RIGHTS. Both ends are the same build, so records are sent as they are. */
#ifndef MAILSCAN_SCANPROC_H
#define MAILSCAN_SCANPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SCANPROC_ARG	 "--scan-master"
#define SCANPROC_CHAN_FD 3 /* the master's end of its socketpair to the packet engine */

/* engine -> master, first: struct config. master -> engine, once loaded: */
struct scanproc_loaded {
	int ok;
	pid_t pid;
	unsigned int sigs;
	char err[512];
};

/* engine -> master: fork a scanner. master -> engine: its pid, with its socket and a
 * pidfd (the engine kills a scanner past scan_timeout without a pid race) */
struct scanproc_spawn {
	uint32_t slot;
};
struct scanproc_spawned {
	pid_t pid;
	int err; /* errno when the fork failed; then no descriptors */
};

/* scanner -> engine, once, before any message: confined and ready, or why not (then it
 * exits without scanning anything) */
struct scanproc_ready {
	int ok;
	uint32_t flags; /* SCANPROC_TMP_ERROR: its temporary space could not be set up */
	char err[256];
};

/* engine -> scanner: a message of LEN bytes in the sealed memfd that comes with it */
struct scanproc_job {
	uint64_t len;
	pid_t engine; /* the packet engine's pid, for the sandbox probe */
};

#define SCANPROC_TMP_ERROR (1u << 0) /* the scanner's temporary space failed */
#define SCANPROC_RECYCLED  (1u << 1) /* the scanner exits after this verdict */

/* scanner -> engine */
struct scanproc_verdict {
	int result; /* enum scan_result */
	uint32_t flags;
	uint64_t scan_us;
	char virus[128];
	char probe[448]; /* test_sandbox: each way out and its errno */
};

/* One record and up to NFDS descriptors; -1 with errno. */
ssize_t scanproc_send(int fd, const void *rec, size_t len, const int *fds, unsigned int nfds);
/* One record into REC (LEN bytes at most) and up to MAXFDS descriptors into FDS
 * (*NFDS says how many came; the caller owns them). 0 at end of file, -1 with errno. */
ssize_t scanproc_recv(int fd, void *rec, size_t len, int *fds, unsigned int maxfds,
		      unsigned int *nfds);

#endif
