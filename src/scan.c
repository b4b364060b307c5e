/* libclamav: the only file that sees clamav.h. An engine is loaded by a scan master and
 * used, copy-on-write, by the scanner processes it forks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clamav.h>

#include "scan.h"

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

int scan_engine_init(char *err, size_t errlen)
{
	cl_error_t r = cl_init(CL_INIT_DEFAULT);

	cl_set_clcb_msg(on_message);

	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: %s", cl_strerror(r));
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
	e = calloc(1, sizeof(*e));
	if (!e || !(e->cl = cl_engine_new())) {
		snprintf(err, errlen, "cl_engine_new failed");
		free(e);
		return NULL;
	}
	cl_engine_set_num(e->cl, CL_ENGINE_MAX_SCANSIZE, (long long)c->scan_max_size);
	cl_engine_set_num(e->cl, CL_ENGINE_MAX_FILESIZE, (long long)c->scan_max_filesize);
	cl_engine_set_num(e->cl, CL_ENGINE_MAX_RECURSION, c->scan_max_recursion);
	cl_engine_set_num(e->cl, CL_ENGINE_MAX_FILES, c->scan_max_files);
	cl_engine_set_num(e->cl, CL_ENGINE_MAX_SCANTIME, (long long)c->scan_timeout * 1000);
	cl_engine_set_str(e->cl, CL_ENGINE_TMPDIR, c->tmpdir);
	r = cl_load(c->database, e->cl, &e->sigs, CL_DB_STDOPT);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "signature database %s: %s", c->database, cl_strerror(r));
		goto err;
	}
	if (e->sigs == 0) {
		snprintf(err, errlen, "signature database %s holds no signatures (run freshclam)",
			 c->database);
		goto err;
	}
	r = cl_engine_compile(e->cl);
	if (r != CL_SUCCESS) {
		snprintf(err, errlen, "compiling %s: %s", c->database, cl_strerror(r));
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
	return cl_engine_set_str(e->cl, CL_ENGINE_TMPDIR, dir) == CL_SUCCESS ? 0 : -1;
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
	map = cl_fmap_open_memory(msg, len);
	if (!map) {
		r = CL_EMEM;
	} else {
		scanning = &x;
		r = cl_scanmap_callback(map, NULL, &virname, &scanned, e->cl, &opts, &x);
		scanning = NULL;
		cl_fmap_close(map);
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
		snprintf(virus, viruslen, "%s", cl_strerror(r));
	else
		virus[0] = '\0';
	return res;
}

void scan_engine_free(struct scan_engine *e)
{
	if (!e)
		return;
	if (e->cl)
		cl_engine_free(e->cl);
	free(e);
}
