/* The scanner processes' seccomp filter. The only file that sees libseccomp. */
#ifndef MAILSCAN_SANDBOX_H
#define MAILSCAN_SANDBOX_H

#include <stddef.h>

/* From now on this process may make only the system calls that scanning a message in
 * memory needs: no socket, connect, exec, ptrace, no signal to another process, no
 * executable memory. Others fail with EPERM. -1 with a reason in ERR. */
int sandbox_scanner(char *err, size_t errlen);

#endif
