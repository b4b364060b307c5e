/* Message bodies in memfds, sealed at their end. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msgfd.h"

#define MSGFD_SEALS (F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

static uint8_t msgfd_empty[1]; /* what an empty message maps to */

static int msgfd_new(void)
{
	return memfd_create("mailscan-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* Doubling, as a heap buffer grows; only the pages written take memory. */
static int msgfd_grow(struct msg_body *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	void *p;

	while (cap < need)
		cap *= 2;
	if (!b->cap && (b->fd = msgfd_new()) < 0)
		return -1;
	if (ftruncate(b->fd, (off_t)cap))
		goto fail;
	if (b->cap)
		p = mremap(b->p, b->cap, cap, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	b->p = p;
	b->cap = cap;
	return 0;
fail:
	if (!b->cap) {
		close(b->fd);
		b->fd = -1;
	}
	return -1;
}

static void msgfd_drop(struct msg_body *b)
{
	if (b->cap) {
		munmap(b->p, b->cap);
		close(b->fd);
	}
	b->p = NULL;
	b->len = b->cap = 0;
	b->fd = -1;
}

/* The writable mapping goes before the seals (F_SEAL_WRITE refuses while a shared
 * mapping exists, even a read-only one), the read-only one after. Should cutting or
 * sealing fail, the bytes are mapped all the same, with no descriptor: the scan then
 * takes a copy of them. Past the unmapping there is no way back: -1 then means the
 * body is lost. */
static int msgfd_seal(struct msg_body *b, struct msg_body *done)
{
	void *ro = msgfd_empty;
	int fd;

	if (!b->cap && msgfd_grow(b, 1))
		return -1; /* an empty message has its memfd too */
	fd = b->fd;
	munmap(b->p, b->cap);
	done->len = b->len;
	done->cap = 0;
	done->fd = fd;
	b->p = NULL;
	b->len = b->cap = 0;
	b->fd = -1;
	if (ftruncate(fd, (off_t)done->len) || fcntl(fd, F_ADD_SEALS, MSGFD_SEALS))
		done->fd = -1;
	if (done->len && (ro = mmap(NULL, done->len, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		close(fd);
		return -1;
	}
	if (done->fd < 0)
		close(fd);
	done->p = ro;
	return 0;
}

static void msgfd_release(struct msg_body *done)
{
	if (done->len)
		munmap(done->p, done->len);
	if (done->fd >= 0)
		close(done->fd);
	done->p = NULL;
	done->len = 0;
	done->fd = -1;
}

const struct msg_store_ops msgfd_store = {
	.grow = msgfd_grow,
	.drop = msgfd_drop,
	.seal = msgfd_seal,
	.release = msgfd_release,
};

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

int msgfd_copy(const uint8_t *p, size_t len)
{
	int fd = msgfd_new();

	if (fd >= 0 && (ftruncate(fd, (off_t)len) || pwrite_all(fd, p, len) ||
			fcntl(fd, F_ADD_SEALS, MSGFD_SEALS))) {
		int e = errno;

		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

int msgfd_check(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return -errno;
	return (seals & MSGFD_SEALS) == MSGFD_SEALS ? 0 : -EPERM;
}
