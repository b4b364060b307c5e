/* What `mailscanctl check` and `mailscand -t` verify in a configuration file, without
 * the running daemon: every key and value, the paths that must exist (the signature
 * database is loaded and counted, then freed), the ports file's rules, the user. */
#ifndef MAILSCAN_CHECK_H
#define MAILSCAN_CHECK_H

#include <stdio.h>

/* Checks PATH (NULL: the default file). Each problem goes to ERRORS as
 * "FILE:LINE: problem" (FILE alone for a key left at its default); a summary of a good
 * file goes to OUT. Returns the number of problems. */
unsigned int check_file(const char *path, FILE *out, FILE *errors);

#endif
