/* The listening socket of the RPC server, with SO_REUSEPORT for several
 * loops (rpc/transport/listen.h). */
#include "rpc/transport/listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rpc_listen_open(const char *host, int port, int reuseport, int *fd_out, util_err *err)
{
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0)
        return util_err_set(err, UTIL_EINVAL, "rpc: bad listen address %s: %s", host,
                            gai_strerror(gai));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return util_err_set(err, UTIL_EIO, "rpc: socket: %s", strerror(errno));
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        int e = errno;
        freeaddrinfo(res);
        close(fd);
        return util_err_set(err, UTIL_EIO, "rpc: SO_REUSEPORT: %s", strerror(e));
    }
    int rc = bind(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 || listen(fd, RPC_LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(fd);
        return util_err_set(err, UTIL_EIO, "rpc: cannot listen on %s:%d: %s", host, port,
                            strerror(e));
    }
    *fd_out = fd;
    return 0;
}
