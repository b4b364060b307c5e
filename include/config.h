/* mailscan configuration: one file of `key = value` lines read by both programs. */
#ifndef MAILSCAN_CONFIG_H
#define MAILSCAN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#define CONFIG_DEFAULT_PATH "/etc/mailscan/mailscan.conf"

enum config_mode { MODE_GATEWAY, MODE_HOST };
enum config_action { ACTION_REJECT, ACTION_RESET, ACTION_MONITOR, ACTION_DELETE, ACTION_REPLACE };
enum config_policy { POLICY_PASS, POLICY_BLOCK, POLICY_TEMPFAIL };
/* a flow first seen mid-stream, after midstream_grace */
enum config_midstream { MIDSTREAM_RESET, MIDSTREAM_PASS };
/* the kernel's queue is full */
enum config_queue_full { QUEUE_FULL_DROP, QUEUE_FULL_ACCEPT };
/* POP3: a body is kept whole until its scan returns, or only its last segment */
enum config_pop3_hold { POP3_HOLD_WHOLE, POP3_HOLD_END };
/* what applies a changed key: a reload (live) or only a restart */
enum config_class { CONFIG_RESTART, CONFIG_LIVE };

#define CONFIG_KEYS_MAX 96

struct config {
	char path[PATH_MAX]; /* file it was read from, "" for built-in defaults */
	char database[PATH_MAX];
	char ports_file[PATH_MAX];
	char control_socket[PATH_MAX];
	char quarantine[PATH_MAX];
	char tmpdir[PATH_MAX];
	uint16_t queue_first;
	uint16_t queue_count;
	unsigned int workers;
	enum config_mode mode;
	enum config_action smtp_action;
	enum config_action pop3_action;
	enum config_policy oversize;
	enum config_policy on_error;
	enum config_policy on_limit; /* a ClamAV limit hit (archive bombs, deep nesting) */
	enum config_policy on_crash; /* a scanner process died or was killed on the message */
	char user[64];		     /* the packet engine and the scanners run as this user */
	char scanners[1024];	     /* where messages are scanned (scanners.h) */
	uint64_t max_message_size;
	int fail_closed;
	int test_signatures;		/* database holds the bundled test signatures */
	uint32_t offload_mark;		/* conntrack mark bit: flow no longer inspected */
	uint32_t inject_mark;		/* packet mark on the daemon's own packets */
	unsigned int hold_timeout;	/* seconds a packet may be held before on_error applies */
	unsigned int scan_timeout;	/* seconds */
	uint64_t scan_max_size;		/* ClamAV: data scanned per message, extracted included */
	uint64_t scanner_memory;	/* address space a scanner may add to the shared engine */
	unsigned int scanner_max_scans; /* messages before a scanner is replaced; 0 never */
	uint64_t scan_max_filesize;
	unsigned int scan_max_recursion;
	unsigned int scan_max_files;
	uint64_t quarantine_max; /* bytes; the oldest files go first */
	unsigned int max_flows;	 /* per queue thread */
	enum config_midstream midstream;
	unsigned int midstream_grace; /* seconds after start when mid-stream flows pass */
	enum config_queue_full queue_full;
	enum config_pop3_hold pop3_hold;
	uint64_t pop3_hold_max;	   /* larger bodies are held at their end only */
	unsigned int idle_timeout; /* seconds: an idle followed flow is reset */
	unsigned int min_ttl;	   /* gateway: TTL / hop limit floor of protected packets; 0 off */
	unsigned int ooo_segments; /* out-of-order ranges buffered per flow direction */
	uint64_t flow_buffer;	   /* reassembly bytes per flow direction */
	uint64_t total_buffer;	   /* reassembly bytes per queue thread */
	uint64_t message_memory;   /* message bytes kept per queue thread */
	int log_target;		   /* enum log_target */
	unsigned int log_facility; /* index into log_facility_names */
	char syslog_socket[PATH_MAX];
	char metrics_listen[64];     /* "ADDR:PORT" or "[ADDR6]:PORT"; "" off */
	int database_watch;	     /* reload when files in the database directory change */
	unsigned int database_check; /* seconds between database checks; 0 off */
	/* test-only: hold (for test_hold_ms) or reset the packet whose client data
	 * contains the pattern, to exercise holds and injection without a scanner */
	char test_hold[64];
	unsigned int test_hold_ms;
	char test_reset[64];
	/* test-only: a scanner process crashes (SIGSEGV), spins, or tries what its sandbox
	 * forbids and reports the outcome as the virus name, on a message with the pattern */
	char test_crash[64];
	char test_spin[64];
	char test_sandbox[64];
	/* test-only: a scanner makes its own temporary space unusable on a message with
	 * PATTERN:removed, :readonly, :full (before its check) or :late (after it) */
	char test_tmp[64];
	unsigned int line[CONFIG_KEYS_MAX]; /* where each key was set (config_key order); 0 unset */
	/* live.c's reference count when this is a snapshot of the running configuration;
	 * 0 for any other configuration */
	unsigned int snap_refs;
};

void config_defaults(struct config *);
/* Reads PATH over the defaults. Returns 0, or -1 with a message naming the
 * file, line and key in ERR (the first problem). A NULL PATH reads the default file if
 * it exists. */
int config_load(struct config *, const char *path, char *err, size_t errlen);
/* The same, going on past errors: each problem goes to REPORT as "FILE:LINE: problem";
 * returns how many there were. */
unsigned int config_parse(struct config *, const char *path,
			  void (*report)(void *arg, const char *problem), void *arg);
/* The defaults that depend on other keys, once the file is read (config_parse does it):
 * a pop3_action the file does not set is replace with pop3_hold = whole, reset with
 * end. */
void config_resolve(struct config *);
/* Parses one `key = value` pair into the config; -1 with a reason in ERR. */
int config_set(struct config *, const char *key, const char *value, char *err, size_t errlen);
/* Splits "ADDR:PORT" or "[ADDR6]:PORT" into ADDR (of ADDRLEN bytes) and PORT; -1 if it is
 * not an IPv4 or IPv6 address and a port 1-65535. */
int config_split_listen(const char *v, char *addr, size_t addrlen, unsigned int *port);

/* the I-th key's name; NULL past the last */
const char *config_key(size_t i);
enum config_class config_key_class(size_t i);
/* the index of key NAME, -1 if there is none */
int config_key_index(const char *name);
/* the line of the file that set key NAME; 0 when it has its default */
unsigned int config_key_line(const struct config *, const char *name);

/* the keys whose values differ between two configurations, in config_key order */
struct config_diff {
	size_t n;
	unsigned char key[CONFIG_KEYS_MAX];
};
size_t config_diff(const struct config *, const struct config *, struct config_diff *);
/* "applied K, K; needs restart: K", "applied nothing; needs restart: K" or
 * "nothing changed" */
void config_diff_describe(const struct config_diff *, char *buf, size_t len);
/* Copies the live keys of NEXT into RUN, the running configuration: what a reload
 * applies. RUN's restart keys keep the values the daemon runs with. */
void config_apply_live(struct config *run, const struct config *next);
const char *config_mode_name(enum config_mode);
const char *config_action_name(enum config_action);
const char *config_policy_name(enum config_policy);
const char *config_pop3_hold_name(enum config_pop3_hold);

#endif
