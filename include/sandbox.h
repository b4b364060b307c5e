/* The scan master's and the scanner processes' confinement: seccomp filters, Landlock
 * scopes, a private filesystem, resource limits. The only file that sees libseccomp. */
#ifndef MAILSCAN_SANDBOX_H
#define MAILSCAN_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* libclamav's directory inside a scanner's private tmpfs */
#define SANDBOX_TMP "/tmp"

/* The scan master, once its engine is loaded: not dumpable (its /proc entries are
 * root's: no /proc/PID/mem, no ptrace for the user's other processes), signals only to
 * itself and the scanners it forks (a Landlock scope; *SCOPED says whether the kernel
 * has them, ABI 6), and only the system calls it and its scanners need: no socket but
 * socketpair, no connect, exec or ptrace. -1 with a reason in ERR. */
int sandbox_master(int *scoped, char *err, size_t errlen);
/* A new scanner, before it takes a message: its own user and mount namespace whose
 * whole filesystem is a tmpfs of BYTES and INODES files mounted on MOUNTPOINT (nothing
 * outside sees or fills it; it goes with the process), SANDBOX_TMP in it; no capability
 * left. -1 with a reason in ERR. */
int sandbox_scanner_fs(const char *mountpoint, uint64_t bytes, unsigned int inodes, char *err,
		       size_t errlen);
/* Resource limits: MEMORY bytes of address space beyond what the process maps now (the
 * engine it shares), files up to FSIZE, NOFILE descriptors, no new process, no core. */
int sandbox_scanner_limits(uint64_t memory, uint64_t fsize, unsigned int nofile, char *err,
			   size_t errlen);
/* From now on this process may make only the system calls that scanning a message in
 * memory needs: no socket, connect, exec, fork, ptrace, mount; signals and resource
 * limits on itself only; fcntl without F_SETOWN or F_SETSIG; no executable memory.
 * Others fail with EPERM. -1 with a reason in ERR. */
int sandbox_scanner(char *err, size_t errlen);

#endif
