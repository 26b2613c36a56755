// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * transport.c - the migration's sockets, every wait under a deadline
 * (transport.h).
 *
 * Reachable by a hostile or dead peer: it decides only when bytes arrive,
 * never how many are read (the caller says), and every wait is a poll()
 * bounded by what is left of the deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

double sd_mig_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void sd_mig_sleep_ms(u32 ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Wait for @events on @fd until @until (CLOCK_MONOTONIC ms): 1 ready, 0 deadline, -1 error. */
static int wait_fd(int fd, short events, double until)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = until - sd_mig_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 1e9 ? 1000000000 : (int)left + 1);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* ---- a connection ----------------------------------------------------------- */

/*
 * Move exactly @n bytes in one direction: recv or send without blocking,
 * and poll for the rest, all within the connection's deadline. MSG_NOSIGNAL:
 * a peer that died is an error to report, not a SIGPIPE.
 */
static int conn_xfer(struct sd_mig_conn *c, u8 *p, size_t n, bool out)
{
	double until = sd_mig_now_ms() + c->timeout_ms;

	while (n) {
		ssize_t r = out ? send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL)
				: recv(c->fd, p, n, MSG_DONTWAIT);

		if (r == 0 && !out)
			return -SD_MIG_ERR_EOF;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return -SD_MIG_ERR_EOF;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -SD_MIG_ERR_IO;
			r = wait_fd(c->fd, out ? POLLOUT : POLLIN, until);
			if (r <= 0)
				return r ? -SD_MIG_ERR_IO : -SD_MIG_ERR_TIMEOUT;
			continue;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int conn_read(void *ctx, void *buf, size_t n)
{
	return conn_xfer(ctx, buf, n, false);
}

static int conn_write(void *ctx, const void *buf, size_t n)
{
	return conn_xfer(ctx, (u8 *)(uintptr_t)buf, n, true);
}

struct sd_io sd_io_conn(struct sd_mig_conn *c)
{
	return (struct sd_io){ .read = conn_read, .write = conn_write, .ctx = c };
}

/* ---- addresses ---------------------------------------------------------------- */

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

/* unix:PATH, or [HOST:]PORT with HOST a name, an IPv4 address or [an IPv6 address]. */
static int addr_parse(const char *text, bool passive, struct addr *a, struct sd_mig_status *st)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = passive ? AI_PASSIVE : 0 }, *ai;
	char host[256] = "127.0.0.1";
	const char *port = text, *colon = strrchr(text, ':');
	int rc;

	memset(a, 0, sizeof(*a));
	if (!strncmp(text, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;

		if (!text[5] || strlen(text + 5) >= sizeof(un->sun_path))
			return sd_mig_fail(st, SD_MIG_ERR_IO, "bad address '%s': a Unix socket path "
					   "of 1 to %zu bytes", text, sizeof(un->sun_path) - 1);
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, text + 5, strlen(text + 5) + 1);
		a->len = sizeof(*un);
		a->family = AF_UNIX;
		return 0;
	}
	if (colon) {
		const char *h = text;
		size_t hl = (size_t)(colon - text);

		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {	/* [V6]:PORT */
			h++;
			hl -= 2;
		}
		if (!hl || hl >= sizeof(host))
			return sd_mig_fail(st, SD_MIG_ERR_IO, "bad address '%s': want HOST:PORT, "
					   "[V6]:PORT, PORT or unix:PATH", text);
		memcpy(host, h, hl);
		host[hl] = 0;
		port = colon + 1;
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
		return sd_mig_fail(st, SD_MIG_ERR_IO, "bad address '%s': '%s' is not a port number",
				   text, port);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc)
		return sd_mig_fail(st, SD_MIG_ERR_IO, "bad address '%s': %s", text,
				   gai_strerror(rc));
	memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
	a->len = ai->ai_addrlen;
	a->family = ai->ai_family;
	freeaddrinfo(ai);
	return 0;
}

static void addr_format(const struct sockaddr_storage *ss, char out[SD_MIG_ADDR_MAX])
{
	char h[INET6_ADDRSTRLEN] = "?";

	switch (ss->ss_family) {
	case AF_UNIX:
		snprintf(out, SD_MIG_ADDR_MAX, "unix:%s", ((const struct sockaddr_un *)ss)->sun_path);
		break;
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, h, sizeof(h));
		snprintf(out, SD_MIG_ADDR_MAX, "%s:%u", h, ntohs(in->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, h, sizeof(h));
		snprintf(out, SD_MIG_ADDR_MAX, "[%s]:%u", h, ntohs(in6->sin6_port));
		break;
	}
	default:
		snprintf(out, SD_MIG_ADDR_MAX, "(family %u)", ss->ss_family);
	}
}

/* ---- listen, accept, connect ----------------------------------------------------- */

int sd_mig_listen(const char *text, char bound[SD_MIG_ADDR_MAX], struct sd_mig_status *st)
{
	struct sockaddr_storage got;
	socklen_t glen = sizeof(got);
	struct addr a;
	int fd, one = 1, e, rc;

	rc = addr_parse(text, true, &a, st);
	if (rc)
		return rc;
	fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sd_mig_fail(st, SD_MIG_ERR_IO, "listen on %s: %s", text, strerror(errno));
	if (a.family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else
		unlink(((struct sockaddr_un *)&a.ss)->sun_path);	/* a stale socket file */
	if (bind(fd, (struct sockaddr *)&a.ss, a.len) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&got, &glen)) {
		e = errno;
		close(fd);
		return sd_mig_fail(st, SD_MIG_ERR_IO, "listen on %s: %s", text, strerror(e));
	}
	addr_format(&got, bound);
	return fd;
}

int sd_mig_accept(int lfd, const char *bound, u32 timeout_ms, struct sd_mig_status *st)
{
	double until = sd_mig_now_ms() + timeout_ms;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), r;

		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			return sd_mig_fail(st, SD_MIG_ERR_IO, "accept on %s: %s", bound,
					   strerror(errno));
		r = wait_fd(lfd, POLLIN, until);
		if (r == 0)
			return sd_mig_fail(st, SD_MIG_ERR_TIMEOUT, "no source connected to %s within "
					   "%u ms", bound, timeout_ms);
		if (r < 0)
			return sd_mig_fail(st, SD_MIG_ERR_IO, "waiting on %s: %s", bound,
					   strerror(errno));
	}
}

/* One non-blocking connect, waited for until @until: 0, or an errno (ETIMEDOUT at the deadline). */
static int connect_once(const struct addr *a, double until, int *out)
{
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), e = 0;
	socklen_t elen = sizeof(e);

	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len)) {
		if (errno != EINPROGRESS) {
			e = errno;
		} else {
			int r = wait_fd(fd, POLLOUT, until);

			if (r == 0)
				e = ETIMEDOUT;
			else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen))
				e = errno;
		}
	}
	if (e) {
		close(fd);
		return e;
	}
	*out = fd;
	return 0;
}

int sd_mig_connect(const char *text, u32 timeout_ms, struct sd_mig_status *st)
{
	double until = sd_mig_now_ms() + timeout_ms;
	struct addr a;
	int rc, fd = -1, e;

	rc = addr_parse(text, false, &a, st);
	if (rc)
		return rc;
	for (;;) {
		e = connect_once(&a, until, &fd);
		if (!e)
			return fd;
		/* Nobody listens yet (a destination still starting): try again, until the deadline. */
		if (e != ECONNREFUSED && e != ENOENT && e != EAGAIN)
			break;
		if (sd_mig_now_ms() + 20 >= until) {
			e = ETIMEDOUT;
			break;
		}
		usleep(20000);
	}
	if (e == ETIMEDOUT)
		return sd_mig_fail(st, SD_MIG_ERR_TIMEOUT, "could not connect to %s within %u ms",
				   text, timeout_ms);
	return sd_mig_fail(st, SD_MIG_ERR_IO, "connect to %s: %s", text, strerror(e));
}
