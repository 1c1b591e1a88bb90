/* The CLI's WebSocket client, for `watch` and subscriptions
 * (cli/ws_client.h). */
#include "cli/ws_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#include "cli/http_client.h"
#include "util/net.h"
#include "util/time.h"

typedef struct qmsg {
    char *text;
    size_t len;
} qmsg;

struct cli_ws {
    util_net_stream *s; /* libcurl's connection: TCP, or TLS for wss:// */
    int fd;             /* its socket, for poll */
    wslay_event_context_ptr ctx;
    uint8_t *pre; /* bytes that arrived with the handshake answer */
    size_t pre_len, pre_off;
    qmsg *q;
    size_t qhead, qn, qcap;
    int eof;
    int closed; /* close frame received */
    uint16_t close_code;
    char close_reason[128];
};

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    cli_ws *w = user;
    if (w->pre_off < w->pre_len) {
        size_t n = w->pre_len - w->pre_off;
        if (n > len) n = len;
        memcpy(buf, w->pre + w->pre_off, n);
        w->pre_off += n;
        return (ssize_t)n;
    }
    size_t n;
    util_err e;
    if (util_net_stream_recv(w->s, buf, len, &n, &e)) {
        w->eof = 1;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    return (ssize_t)n;
}

/* Waits until fd is ready for ev or deadline (ns) passes; 0 when ready. */
static int wait_fd(int fd, short ev, uint64_t deadline)
{
    for (;;) {
        uint64_t now = util_mono_ns();
        if (now >= deadline) return -1;
        struct pollfd pf = {.fd = fd, .events = ev};
        uint64_t ms = (deadline - now) / 1000000 + 1;
        int r = poll(&pf, 1, ms > 60000 ? 60000 : (int)ms);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -1;
    }
}

/* Sends all of p before deadline (ns), waiting when the socket is full. */
static int send_all(cli_ws *w, const uint8_t *p, size_t n, uint64_t deadline, util_err *err)
{
    while (n) {
        size_t k;
        if (util_net_stream_send(w->s, p, n, &k, err)) return -1;
        p += k;
        n -= k;
        if (n && k == 0 && wait_fd(w->fd, POLLOUT, deadline)) {
            util_err_set(err, UTIL_EIO, "timed out sending to the node");
            return -1;
        }
    }
    return 0;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    cli_ws *w = user;
    util_err e;
    if (send_all(w, data, len, util_mono_ns() + 10000u * 1000000u, &e)) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    cli_ws *w = user;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        w->closed = 1;
        w->close_code = arg->status_code;
        size_t rl = arg->msg_length > 2 ? arg->msg_length - 2 : 0;
        if (rl >= sizeof w->close_reason) rl = sizeof w->close_reason - 1;
        if (rl) memcpy(w->close_reason, arg->msg + 2, rl);
        w->close_reason[rl] = 0;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME) return;
    if (w->qhead + w->qn == w->qcap) {
        if (w->qhead) {
            memmove(w->q, w->q + w->qhead, w->qn * sizeof *w->q);
            w->qhead = 0;
        } else {
            size_t cap = w->qcap ? 2 * w->qcap : 8;
            qmsg *v = realloc(w->q, cap * sizeof *v);
            if (!v) return;
            w->q = v;
            w->qcap = cap;
        }
    }
    char *t = malloc(arg->msg_length + 1);
    if (!t) return;
    memcpy(t, arg->msg, arg->msg_length);
    t[arg->msg_length] = 0;
    w->q[w->qhead + w->qn++] = (qmsg){t, arg->msg_length};
}

/* --- handshake ----------------------------------------------------------- */

typedef struct hs {
    char accept[64];
    size_t accept_len;
    int in_accept, last_value;
    char field[32];
    size_t field_len;
    int done;
} hs;

static int hs_field(http_parser *p, const char *at, size_t n)
{
    hs *h = p->data;
    if (h->last_value) h->field_len = 0;
    h->last_value = 0;
    for (size_t i = 0; i < n && h->field_len < sizeof h->field - 1; i++)
        h->field[h->field_len++] = at[i];
    h->field[h->field_len] = 0;
    return 0;
}

static int hs_value(http_parser *p, const char *at, size_t n)
{
    hs *h = p->data;
    if (!h->last_value) h->in_accept = strcasecmp(h->field, "sec-websocket-accept") == 0;
    h->last_value = 1;
    if (h->in_accept)
        for (size_t i = 0; i < n && h->accept_len < sizeof h->accept - 1; i++)
            h->accept[h->accept_len++] = at[i];
    return 0;
}

static int hs_headers_done(http_parser *p)
{
    hs *h = p->data;
    h->done = 1;
    return 0;
}

/* Not paused: after an upgrade answer http-parser returns by itself,
 * counting every byte of the headers. */
static int hs_message_done(http_parser *p)
{
    hs *h = p->data;
    h->done = 1;
    return 0;
}

static int handshake(cli_ws *w, const cli_url *u, const char *url, int timeout_ms, util_err *err)
{
    uint64_t deadline = util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    uint8_t raw[16];
    char key[32], path[1100];
    if (RAND_bytes(raw, sizeof raw) != 1) return util_err_set(err, UTIL_EIO, "no randomness");
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    size_t pl = strcspn(u->path, "?");
    snprintf(path, sizeof path, "%.*s%sws", (int)pl, u->path,
             pl && u->path[pl - 1] == '/' ? "" : "/");
    char req[1600];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: openledger-cli/" OL_VERSION
                     "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, u->hosthdr, key);
    if (n < 0 || (size_t)n >= sizeof req) return util_err_set(err, UTIL_EINVAL, "URL too long");
    if (send_all(w, (const uint8_t *)req, (size_t)n, deadline, err)) {
        util_err_prefix(err, "sending the WebSocket handshake: ");
        return err ? err->code : UTIL_EIO;
    }

    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_header_field = hs_field;
    s.on_header_value = hs_value;
    s.on_headers_complete = hs_headers_done;
    s.on_message_complete = hs_message_done;
    http_parser p;
    http_parser_init(&p, HTTP_RESPONSE);
    hs h = {.last_value = 1};
    p.data = &h;
    char buf[8192];
    size_t have = 0, used = 0;
    while (!h.done) {
        if (have == sizeof buf)
            return util_err_set(err, UTIL_EIO, "WebSocket handshake answer too long");
        /* Read first, then wait: over TLS, decrypted bytes may already wait
         * in the stream, and poll would not see them. */
        size_t r;
        util_err e2;
        if (util_net_stream_recv(w->s, buf + have, sizeof buf - have, &r, &e2))
            return util_err_set(err, UTIL_EIO,
                                "node at %s closed the connection during the "
                                "WebSocket handshake",
                                url);
        if (r == 0) {
            if (wait_fd(w->fd, POLLIN, deadline))
                return util_err_set(err, UTIL_EIO, "timed out waiting for the WebSocket handshake");
            continue;
        }
        size_t k = http_parser_execute(&p, &s, buf + have, r);
        enum http_errno e = HTTP_PARSER_ERRNO(&p);
        if (e != HPE_OK)
            return util_err_set(err, UTIL_EIO, "malformed WebSocket handshake answer: %s",
                                http_errno_description(e));
        used = have + k;
        have += r;
    }
    if (p.status_code != 101)
        return util_err_set(err, UTIL_EIO, "node at %s refused the WebSocket upgrade: HTTP %u", url,
                            p.status_code);
    /* Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) */
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char cat[80], want[32];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdl = 0;
    snprintf(cat, sizeof cat, "%s%s", key, guid);
    if (!EVP_Digest(cat, strlen(cat), md, &mdl, EVP_sha1(), NULL))
        return util_err_set(err, UTIL_EIO, "SHA-1 unavailable");
    EVP_EncodeBlock((unsigned char *)want, md, (int)mdl);
    if (h.accept_len != strlen(want) || memcmp(h.accept, want, h.accept_len) != 0)
        return util_err_set(err, UTIL_EIO, "bad Sec-WebSocket-Accept from %s", url);
    if (used < have) {
        w->pre = malloc(have - used);
        if (!w->pre) return util_err_set(err, UTIL_ENOMEM, "out of memory");
        memcpy(w->pre, buf + used, have - used);
        w->pre_len = have - used;
    }
    return 0;
}

int cli_ws_connect(cli_ws **out, const char *rpc_url, const char *ca_file, int timeout_ms,
                   util_err *err)
{
    *out = NULL;
    cli_url u;
    int rc = cli_url_parse(&u, rpc_url, err);
    if (rc) return rc;
    cli_ws *w = calloc(1, sizeof *w);
    if (!w) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    w->fd = -1;
    util_net_opts o = {.ca_file = ca_file,
                       .timeout_ms = timeout_ms > 0 ? timeout_ms : 1,
                       .connect_timeout_ms = CLI_HTTP_CONNECT_TIMEOUT_MS,
                       .user_agent = "openledger-cli/" OL_VERSION,
                       .peer_name = "node"};
    util_net_fail fail;
    if ((rc = util_net_stream_open(&w->s, rpc_url, &o, &fail, err))) {
        if (fail == UTIL_NET_FAIL_CA_FILE && ca_file) util_err_prefix(err, "--cacert: ");
        cli_cert_hint(ca_file, fail, err);
        free(w);
        return rc;
    }
    w->fd = util_net_stream_fd(w->s);
    if ((rc = handshake(w, &u, rpc_url, timeout_ms, err))) {
        cli_ws_close(w);
        return rc;
    }
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = recv_cb,
        .send_callback = send_cb,
        .genmask_callback = genmask_cb,
        .on_msg_recv_callback = on_msg,
    };
    if (wslay_event_context_client_init(&w->ctx, &cbs, w) != 0) {
        cli_ws_close(w);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    wslay_event_config_set_max_recv_msg_length(w->ctx, CLI_WS_MAX_MESSAGE);
    *out = w;
    return 0;
}

int cli_ws_send_text(cli_ws *w, const char *text, size_t len, util_err *err)
{
    struct wslay_event_msg m = {
        .opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)text, .msg_length = len};
    if (wslay_event_queue_msg(w->ctx, &m) != 0 || wslay_event_send(w->ctx) != 0)
        return util_err_set(err, UTIL_EIO, "sending on the WebSocket failed");
    return 0;
}

static int ended(cli_ws *w, util_err *err)
{
    if (w->closed)
        return util_err_set(err, UTIL_EIO, "the node closed the WebSocket: %u%s%s", w->close_code,
                            w->close_reason[0] ? " " : "", w->close_reason);
    return util_err_set(err, UTIL_EIO, "the WebSocket connection to the node ended");
}

int cli_ws_recv_text(cli_ws *w, int timeout_ms, char **msg, size_t *len, util_err *err)
{
    uint64_t deadline =
        timeout_ms < 0 ? UINT64_MAX : util_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        if (w->qn) {
            *msg = w->q[w->qhead].text;
            if (len) *len = w->q[w->qhead].len;
            w->qhead++;
            w->qn--;
            return 0;
        }
        if (w->eof || w->closed || !wslay_event_want_read(w->ctx)) {
            wslay_event_send(w->ctx); /* the close reply, if any */
            return ended(w, err);
        }
        /* Read everything already there (the handshake's leftover, bytes
         * decrypted inside the TLS stream, the socket) before waiting:
         * wslay reads until the stream has nothing more, so poll is then
         * the only way more can come. */
        if (wslay_event_recv(w->ctx) != 0 && !w->eof)
            return util_err_set(err, UTIL_EIO, "WebSocket protocol error from the node");
        wslay_event_send(w->ctx);
        if (w->qn || w->eof || w->closed || !wslay_event_want_read(w->ctx)) continue;
        struct pollfd pf = {.fd = w->fd, .events = POLLIN};
        int ms = -1;
        if (deadline != UINT64_MAX) {
            uint64_t now = util_mono_ns();
            if (now >= deadline) return util_err_set(err, UTIL_ESTATE, "timed out");
            ms = (int)((deadline - now) / 1000000 + 1);
        }
        int r = poll(&pf, 1, ms);
        if (r == 0) return util_err_set(err, UTIL_ESTATE, "timed out");
        if (r < 0 && errno != EINTR)
            return util_err_set(err, UTIL_EIO, "poll: %s", strerror(errno));
    }
}

void cli_ws_close(cli_ws *w)
{
    if (!w) return;
    if (w->ctx) {
        if (!w->eof && !w->closed) {
            wslay_event_queue_close(w->ctx, 1000, NULL, 0);
            wslay_event_send(w->ctx);
        }
        wslay_event_context_free(w->ctx);
    }
    for (size_t i = 0; i < w->qn; i++)
        free(w->q[w->qhead + i].text);
    free(w->q);
    free(w->pre);
    util_net_stream_close(w->s);
    free(w);
}
