/* libclamav: the only file that sees clamav.h. An engine is loaded by a scan master and
 * used, copy-on-write, by the scanner processes it forks.
 *
 * libclamav is opened here (dlopen), not linked: only the processes that load an engine
 * (the scan master and its scanners, a configuration check, the tools) map it and the
 * twenty libraries it pulls in (OpenSSL, ICU, libxml2...). The packet engine never
 * does, so it carries none of their relocated data, private to each process that loads
 * them. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clamav.h>

#include "scan.h"

#ifndef CLAMAV_SONAME
#define CLAMAV_SONAME "libclamav.so.12"
#endif

/* the calls this file makes, resolved once (lib_open); their types are
 * clamav.h's, so the compiler checks every call as it would a linked one */
#define CLAMAV_CALLS(X)                                                                            \
	X(cl_init)                                                                                 \
	X(cl_set_clcb_msg)                                                                         \
	X(cl_strerror)                                                                             \
	X(cl_engine_new)                                                                           \
	X(cl_engine_set_num)                                                                       \
	X(cl_engine_set_str)                                                                       \
	X(cl_engine_compile)                                                                       \
	X(cl_engine_free)                                                                          \
	X(cl_load)                                                                                 \
	X(cl_fmap_open_memory)                                                                     \
	X(cl_fmap_close)                                                                           \
	X(cl_scanmap_callback)

#define CLAMAV_POINTER(f) __typeof__(f) *f;
#define CLAMAV_SYMBOL(f)  { #f, (void **)&lib.f },

static struct {
	CLAMAV_CALLS(CLAMAV_POINTER)
} lib;

static const struct {
	const char *name;
	void **at;
} lib_symbols[] = { CLAMAV_CALLS(CLAMAV_SYMBOL) };

#define TEST_MARKER  "MAILSCAN-TEST-SIGNATURES"
#define LIMIT_PREFIX "Heuristics.Limits.Exceeded"

struct scan_engine {
	struct cl_engine *cl;
	unsigned int sigs;
};

/* what libclamav reported during one scan */
struct scan_ctx {
	unsigned int errors;
	char first[96];
};

/* the scan this thread runs: libclamav passes a scan's context only once the scan has
 * one, and some errors (its temporary directory) come before that */
static __thread struct scan_ctx *scanning;

/* libclamav's messages go to stderr as before; an error during a scan marks it. Some
 * failures (a temporary file it could not write) end in CL_CLEAN and only say so here. */
static void on_message(enum cl_msg severity, const char *fullmsg, const char *msg, void *context)
{
	struct scan_ctx *x = context ? context : scanning;

	if (severity < CL_MSG_WARN)
		return;
	fputs(fullmsg, stderr);
	if (severity != CL_MSG_ERROR || !x || x->errors++)
		return;
	snprintf(x->first, sizeof(x->first), "%s", msg);
	x->first[strcspn(x->first, "\n")] = '\0';
}

/* libclamav, once per process (it stays: an engine's code must not go away under it) */
static int lib_open(char *err, size_t errlen)
{
	void *h;
	size_t i;

	if (lib.cl_init)
		return 0;
	h = dlopen(CLAMAV_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "libclamav: %s", dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(lib_symbols) / sizeof(lib_symbols[0]); i++) {
		*lib_symbols[i].at = dlsym(h, lib_symbols[i].name);
		if (!*lib_symbols[i].at) {
			snprintf(err, errlen, "libclamav %s: no %s", CLAMAV_SONAME,
				 lib_symbols[i].name);
			memset(&lib, 0, sizeof(lib));
			dlclose(h);
			return -1;
		}
	}
	return 0;
}

int scan_engine_init(char *err, size_t errlen)
{
	cl_error_t r;

	if (lib_open(err, errlen))
		return -1;
	r = lib.cl_init(CL_INIT_DEFAULT);
	lib.cl_set_clcb_msg(on_message);

	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: %s", lib.cl_strerror(r));
		return -1;
	}
	return 0;
}

/* the bundled test signatures only where the configuration says so, and only them */
static int check_test_marker(const struct config *c, char *err, size_t errlen)
{
	char marker[PATH_MAX + 32];
	int is_test;

	snprintf(marker, sizeof(marker), "%s/%s", c->database, TEST_MARKER);
	is_test = access(marker, F_OK) == 0;
	if (is_test && !c->test_signatures) {
		snprintf(err, errlen,
			 "signature database %s holds mailscan's TEST signatures; "
			 "set test_signatures = yes to use them",
			 c->database);
		return -1;
	}
	if (!is_test && c->test_signatures) {
		snprintf(err, errlen, "test_signatures = yes, but %s is not the test database",
			 c->database);
		return -1;
	}
	return 0;
}

struct scan_engine *scan_engine_load(const struct config *c, char *err, size_t errlen)
{
	struct scan_engine *e;
	struct stat sb;
	cl_error_t r;

	if (stat(c->database, &sb) || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "signature database %s: %s", c->database,
			 errno ? strerror(errno) : "not a directory");
		return NULL;
	}
	if (check_test_marker(c, err, errlen))
		return NULL;
	if (lib_open(err, errlen))
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->cl = lib.cl_engine_new())) {
		snprintf(err, errlen, "cl_engine_new failed");
		free(e);
		return NULL;
	}
	lib.cl_engine_set_num(e->cl, CL_ENGINE_MAX_SCANSIZE, (long long)c->scan_max_size);
	lib.cl_engine_set_num(e->cl, CL_ENGINE_MAX_FILESIZE, (long long)c->scan_max_filesize);
	lib.cl_engine_set_num(e->cl, CL_ENGINE_MAX_RECURSION, c->scan_max_recursion);
	lib.cl_engine_set_num(e->cl, CL_ENGINE_MAX_FILES, c->scan_max_files);
	lib.cl_engine_set_num(e->cl, CL_ENGINE_MAX_SCANTIME, (long long)c->scan_timeout * 1000);
	lib.cl_engine_set_str(e->cl, CL_ENGINE_TMPDIR, c->tmpdir);
	r = lib.cl_load(c->database, e->cl, &e->sigs, CL_DB_STDOPT);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "signature database %s: %s", c->database, lib.cl_strerror(r));
		goto err;
	}
	if (e->sigs == 0) {
		snprintf(err, errlen, "signature database %s holds no signatures (run freshclam)",
			 c->database);
		goto err;
	}
	r = lib.cl_engine_compile(e->cl);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "compiling %s: %s", c->database, lib.cl_strerror(r));
		goto err;
	}
	return e;
err:
	scan_engine_free(e);
	return NULL;
}

unsigned int scan_engine_signatures(const struct scan_engine *e)
{
	return e->sigs;
}

int scan_engine_set_tmpdir(struct scan_engine *e, const char *dir)
{
	return lib.cl_engine_set_str(e->cl, CL_ENGINE_TMPDIR, dir) == CL_SUCCESS ? 0 : -1;
}

enum scan_result scan_engine_scan(struct scan_engine *e, const uint8_t *msg, size_t len,
				  char *virus, size_t viruslen)
{
	struct cl_scan_options opts = { 0 };
	struct scan_ctx x = { 0 };
	const char *virname = NULL;
	unsigned long scanned = 0;
	enum scan_result res;
	cl_fmap_t *map;
	cl_error_t r;

	/* every parser (mail, archives, documents); limit hits are reported as such */
	opts.parse = ~0u;
	opts.general = CL_SCAN_GENERAL_HEURISTICS;
	opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	map = lib.cl_fmap_open_memory(msg, len);
	if (!map) {
		r = CL_EMEM;
	} else {
		scanning = &x;
		r = lib.cl_scanmap_callback(map, NULL, &virname, &scanned, e->cl, &opts, &x);
		scanning = NULL;
		lib.cl_fmap_close(map);
	}
	/* a signature always names itself; libclamav reports some limit hits (the
	 * message over the scan size) as a detection without a name */
	if (r == CL_VIRUS && !virname)
		virname = LIMIT_PREFIX;
	if (r == CL_VIRUS && !strncmp(virname, LIMIT_PREFIX, strlen(LIMIT_PREFIX)))
		res = SCAN_LIMIT;
	else if (r == CL_VIRUS)
		res = SCAN_INFECTED;
	else if (r == CL_CLEAN)
		res = SCAN_CLEAN;
	else if (r == CL_ETIMEOUT)
		res = SCAN_TIMEOUT;
	else
		res = SCAN_ERROR;
	/* not clean if it did not really run: an error on the way is a failed scan */
	if (res == SCAN_CLEAN && x.errors) {
		res = SCAN_ERROR;
		snprintf(virus, viruslen, "libclamav: %s", x.first);
	} else if (virname)
		snprintf(virus, viruslen, "%s", virname);
	else if (res == SCAN_ERROR)
		snprintf(virus, viruslen, "%s", lib.cl_strerror(r));
	else
		virus[0] = '\0';
	return res;
}

void scan_engine_free(struct scan_engine *e)
{
	if (!e)
		return;
	if (e->cl)
		lib.cl_engine_free(e->cl);
	free(e);
}
