/* Raw-socket injection, IPv4 and IPv6, headers included. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inject.h"

struct inject {
	int fd4;
	int fd6;
};

static int raw_socket(int family, uint32_t mark)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct inject *inject_new(uint32_t mark)
{
	struct inject *in = calloc(1, sizeof(*in));
	int saved;

	if (!in)
		return NULL;
	in->fd6 = -1;
	in->fd4 = raw_socket(AF_INET, mark);
	if (in->fd4 < 0)
		goto err;
	/* IPPROTO_RAW on IPv6 sends the header we build */
	in->fd6 = raw_socket(AF_INET6, mark);
	if (in->fd6 < 0)
		goto err;
	return in;
err:
	saved = errno;
	inject_free(in);
	errno = saved;
	return NULL;
}

void inject_free(struct inject *in)
{
	if (!in)
		return;
	if (in->fd4 >= 0)
		close(in->fd4);
	if (in->fd6 >= 0)
		close(in->fd6);
	free(in);
}

int inject_send(struct inject *in, const struct tcp_spec *s)
{
	uint8_t buf[PACKET_MAX];
	size_t len = packet_build(buf, sizeof(buf), s);
	ssize_t n;

	if (!len) {
		errno = EMSGSIZE;
		return -1;
	}
	if (s->family == 4) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		memcpy(&sin.sin_addr, s->daddr, 4);
		n = sendto(in->fd4, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		memcpy(&sin6.sin6_addr, s->daddr, 16);
		n = sendto(in->fd6, buf, len, 0, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	return n == (ssize_t)len ? 0 : -1;
}
