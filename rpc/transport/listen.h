/* Internal to rpc/: the RPC server's listening socket, made by hand rather
 * than with uv_tcp_bind so that a bind failure leaves no libuv handle behind
 * to be closed asynchronously, and so that several loops can share a port
 * (SO_REUSEPORT, openledgerd --rpc-threads). */
#ifndef OL_RPC_LISTEN_H
#define OL_RPC_LISTEN_H

#include "util/err.h"

#define RPC_LISTEN_BACKLOG 511

/* A non-blocking, close-on-exec socket bound to host:port (numeric; also
 * "localhost") and listening. Returns 0 with *fd_out set (the caller owns
 * it), or UTIL_EINVAL (bad address) / UTIL_EIO with err filled. */
OL_MUST_CHECK int rpc_listen_open(const char *host, int port, int reuseport, int *fd_out,
                                  util_err *err);

#endif
