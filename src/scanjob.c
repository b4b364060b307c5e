/* Scan jobs, their queues, and the sinks that hand them back to the queue threads (a
 * locked list and an eventfd). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "msgfd.h"
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

/* a job for FD (taken), sealed, holding LEN bytes: mapped read-only for what the
 * packet engine reads of it (quarantine, remote scanners) */
static struct scan_job *job_for(int fd, size_t len)
{
	static const uint8_t empty[1];
	struct scan_job *j;
	void *m = (void *)(uintptr_t)empty;
	int e;

	if (fd < 0)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j && len && (m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		free(j);
		j = NULL;
	}
	if (!j) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	j->memfd = fd;
	j->msg = m;
	j->len = len;
	return j;
}

struct scan_job *scan_job_new(const uint8_t *msg, size_t len)
{
	return job_for(msgfd_copy(msg, len), len);
}

struct scan_job *scan_job_from_fd(int fd, size_t len)
{
	int e = msgfd_check(fd);
	struct stat st;

	if (e) {
		errno = -e;
		return NULL;
	}
	if (fstat(fd, &st) || (uint64_t)st.st_size != len) {
		errno = EINVAL;
		return NULL;
	}
	return job_for(fcntl(fd, F_DUPFD_CLOEXEC, 0), len);
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
