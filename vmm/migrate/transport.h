/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * transport.h - the migration's sockets: unix:PATH or HOST:PORT, and a
 * deadline on every accept, connect, read and write.
 *
 * Nothing here waits forever. A connection carries its deadline
 * (timeout_ms): every sd_io read or write call on it completes within that
 * time or fails with -SD_MIG_ERR_TIMEOUT, however the peer trickles its
 * bytes; accept and connect take their own deadline. Errors come back as
 * a negative SD_MIG_ERR_* with a one-line message in the status.
 */
#ifndef SD_MIG_TRANSPORT_H
#define SD_MIG_TRANSPORT_H

#include <stddef.h>
#include "stream.h"

/* A connected socket and the deadline of each transfer on it. */
struct sd_mig_conn {
	int fd;
	u32 timeout_ms;
};

/* sd_io over @c: each read or write of n bytes completes within c->timeout_ms. */
struct sd_io sd_io_conn(struct sd_mig_conn *c);

/* Longest address text sd_mig_listen() reports ("unix:PATH", "HOST:PORT", "[V6]:PORT"). */
#define SD_MIG_ADDR_MAX	128

/*
 * Listen on @addr: unix:PATH, or [HOST:]PORT (HOST defaults to 127.0.0.1;
 * PORT 0 picks a free port). Writes the address actually bound to @bound,
 * so that a caller can tell a peer where to connect. Returns the listening
 * socket, or a negative SD_MIG_ERR_*.
 */
int sd_mig_listen(const char *addr, char bound[SD_MIG_ADDR_MAX], struct sd_mig_status *st);
/* Accept one connection within @timeout_ms: the socket, or -SD_MIG_ERR_TIMEOUT / _IO. */
int sd_mig_accept(int lfd, const char *bound, u32 timeout_ms, struct sd_mig_status *st);
/*
 * Connect to @addr within @timeout_ms, retrying while nobody listens there
 * yet (a destination still starting). The socket, or a negative
 * SD_MIG_ERR_* (TIMEOUT when the deadline passed).
 */
int sd_mig_connect(const char *addr, u32 timeout_ms, struct sd_mig_status *st);

/* Milliseconds on CLOCK_MONOTONIC; sleep that long (signals do not cut it short). */
double sd_mig_now_ms(void);
void sd_mig_sleep_ms(u32 ms);

#endif /* SD_MIG_TRANSPORT_H */
