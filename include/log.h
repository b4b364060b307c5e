/* Logging: stderr (a foreground daemon, systemd style) or syslog. */
#ifndef MAILSCAN_LOG_H
#define MAILSCAN_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

/* NULL-terminated names, in the order of enum log_target and of the facility numbers
 * log_open takes */
extern const char *const log_target_names[];
extern const char *const log_facility_names[];

void log_init(const char *progname, int verbose);
/* SRC's first word as one key=value field: no spaces, quotes or control characters */
void log_token(char *dst, size_t cap, const char *src);
/* Sends what follows to TARGET: auto is syslog when stderr is systemd's journal stream,
 * else stderr. -1 with a reason in ERR when the syslog socket cannot be reached. */
int log_open(enum log_target target, unsigned int facility, const char *socket_path, char *err,
	     size_t errlen);
/* log_open in two steps, for a reload that must know the new log works before it
 * changes anything: prepare connects (-1 with a reason in ERR), switch takes it over. */
struct log_dest {
	int fd; /* the syslog socket; -1: stderr */
	int facility;
	char path[108];
};
int log_prepare(struct log_dest *, enum log_target target, unsigned int facility,
		const char *socket_path, char *err, size_t errlen);
void log_switch(const struct log_dest *);
/* warnings: one format floods at most 20 lines per 10 s, then it is counted */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* with errno */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* the same, limited as KIND (a string that lives as long as the program): warnings of one
 * format but of different kinds do not share a limit */
void log_warnx_kind(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the limit: BURST warnings of one kind per PERIOD_MS (20 per 10 s unless set) */
void log_set_limit(unsigned int burst, unsigned int period_ms);
/* says what the limit suppressed in periods that are over */
void log_flush(void);
/* a detection or a policy action: key=value fields, never suppressed */
void log_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
