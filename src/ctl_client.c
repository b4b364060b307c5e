/* Control socket client, used by mailscanctl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

int ctl_request(const char *path, const char *request, char **reply)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto err;
	if (write(fd, request, strlen(request)) < 0 || write(fd, "\n", 1) < 0)
		goto err;
	shutdown(fd, SHUT_WR);
	buf = malloc(cap);
	if (!buf)
		goto err;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				goto err;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (n < 0) {
		free(buf);
		goto err;
	}
	buf[len] = '\0';
	close(fd);
	*reply = buf;
	return 0;
err:
	n = errno;
	close(fd);
	errno = (int)n;
	return -1;
}
