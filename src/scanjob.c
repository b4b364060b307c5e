/* Scan jobs, their queues, and the sinks that hand them back to the queue threads (a
 * locked list and an eventfd). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "scan.h"

static const char *const result_names[SCAN_RESULT_COUNT] = {
	[SCAN_CLEAN] = "clean",	  [SCAN_INFECTED] = "infected", [SCAN_LIMIT] = "limit",
	[SCAN_ERROR] = "error",	  [SCAN_TIMEOUT] = "timeout",	[SCAN_CRASHED] = "crashed",
	[SCAN_KILLED] = "killed", [SCAN_OVERSIZE] = "oversize",
};

const char *scan_result_name(enum scan_result r)
{
	return (unsigned int)r < SCAN_RESULT_COUNT ? result_names[r] : "error";
}

void scan_jobs_push(struct scan_job **head, struct scan_job **tail, struct scan_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

struct scan_job *scan_jobs_pop(struct scan_job **head, struct scan_job **tail)
{
	struct scan_job *j = *head;

	if (j) {
		*head = j->next;
		if (!*head)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

void scan_sink_push(struct scan_sink *k, struct scan_job *j)
{
	uint64_t one = 1;

	pthread_mutex_lock(&k->lock);
	scan_jobs_push(&k->head, &k->tail, j);
	pthread_mutex_unlock(&k->lock);
	if (write(k->efd, &one, sizeof(one)) < 0)
		log_warn("scan sink eventfd");
}

void scan_jobs_free(struct scan_job *j)
{
	struct scan_job *n;

	for (; j; j = n) {
		n = j->next;
		scan_job_free(j);
	}
}

static int pwrite_all(int fd, const uint8_t *p, size_t len)
{
	off_t off = 0;

	while (len) {
		ssize_t w = pwrite(fd, p, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		off += w;
		len -= (size_t)w;
	}
	return 0;
}

/* the message's one copy: a memfd, sealed once written; -1 with errno */
static int sealed_memfd(const uint8_t *p, size_t len)
{
	int fd = memfd_create("mailscan-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd >= 0 &&
	    (ftruncate(fd, (off_t)len) || pwrite_all(fd, p, len) ||
	     fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK))) {
		int e = errno;

		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

struct scan_job *scan_job_new(const uint8_t *msg, size_t len)
{
	static const uint8_t empty[1];
	struct scan_job *j = calloc(1, sizeof(*j));
	void *m;

	if (!j)
		return NULL;
	j->memfd = sealed_memfd(msg, len);
	if (j->memfd < 0) {
		free(j);
		return NULL;
	}
	j->msg = empty;
	j->len = len;
	if (len) {
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, j->memfd, 0);
		if (m == MAP_FAILED) {
			close(j->memfd);
			free(j);
			return NULL;
		}
		j->msg = m;
	}
	return j;
}

void scan_job_free(struct scan_job *j)
{
	if (!j)
		return;
	if (j->len)
		munmap((void *)(uintptr_t)j->msg, j->len);
	close(j->memfd);
	free(j);
}

int scan_sink_init(struct scan_sink *k)
{
	memset(k, 0, sizeof(*k));
	k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->efd < 0)
		return -1;
	pthread_mutex_init(&k->lock, NULL);
	return 0;
}

void scan_sink_destroy(struct scan_sink *k)
{
	scan_jobs_free(k->head);
	if (k->efd >= 0)
		close(k->efd);
	pthread_mutex_destroy(&k->lock);
}

struct scan_job *scan_sink_take(struct scan_sink *k)
{
	struct scan_job *j;
	uint64_t v;

	if (read(k->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("scan sink eventfd");
	pthread_mutex_lock(&k->lock);
	j = k->head;
	k->head = k->tail = NULL;
	pthread_mutex_unlock(&k->lock);
	return j;
}
