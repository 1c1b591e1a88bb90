/* JSON-RPC 2.0 dispatch, independent of the transport.
 *
 * A dispatch table maps method names to functions. rpc_dispatch_handle takes
 * one request body (a single request or a batch), runs the methods and
 * returns the reply text. The rules follow https://www.jsonrpc.org/specification
 * with these explicit limits and choices (see docs/rpc-protocol.md):
 *   - bodies nested deeper than RPC_MAX_DEPTH, with invalid UTF-8, with a NUL
 *     character in a string, with duplicate object keys, or with an integer
 *     outside the signed 64-bit range are a parse error (-32700);
 *   - a batch holds at most RPC_MAX_BATCH entries;
 *   - params must be a positional array or absent; object params get -32602.
 *
 * The table is built once at start-up and read-only afterwards, so
 * rpc_dispatch_handle may run on several threads at once: methods that share
 * state are serialised by rpc_dispatch_set_lock. */
#ifndef OL_RPC_JSONRPC_H
#define OL_RPC_JSONRPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include "util/err.h"

#define RPC_MAX_BATCH 1000
#define RPC_MAX_DEPTH 64 /* arrays/objects, counting the request object itself */

enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL_ERROR = -32603,
    RPC_TX_REJECTED = -32000,
    RPC_NOT_FOUND = -32001,
    RPC_UNAVAILABLE = -32002,
    RPC_EXECUTION_FAILED = -32003, /* data.reason names the execution reason */
    RPC_UNAUTHORIZED = -32004,     /* admin method without admin rights */
    RPC_RATE_LIMITED = -32005,     /* per-address rate limit */
    RPC_REPLY_TOO_LARGE = -32005,  /* the reply would pass rpc_call.max_reply */
    RPC_LIMIT_EXCEEDED = -32006,   /* a documented resource limit (subscriptions, ...) */
};

typedef struct rpc_error {
    int code;
    char message[256];
    json_t *data; /* owned, may be NULL */
} rpc_error;

/* A method. params is borrowed and always an array (absent params -> []).
 * Returns a new reference to the result, or NULL with *e filled (use
 * rpc_fail). Returning NULL without filling *e is reported as -32603. */
typedef json_t *(*rpc_method_fn)(void *ctx, json_t *params, rpc_error *e);

/* Fills *e (code, printf-style message, data which is stolen and may be NULL;
 * any data already in *e is released). Returns NULL so a method can write
 * `return rpc_fail(e, RPC_INVALID_PARAMS, NULL, "...")`. */
json_t *rpc_fail(rpc_error *e, int code, json_t *data, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Releases e->data and zeroes *e. */
void rpc_error_clear(rpc_error *e);

typedef struct rpc_dispatch rpc_dispatch;

/* A WebSocket connection seen by methods (rpc/transport/ws.h); opaque here. */
typedef struct rpc_session rpc_session;

/* Budgets of VM work, in gas (docs/rpc-protocol.md, "Budgets of work").
 * Methods that run the VM (contract_call, the dry run of tx_send) take gas
 * from the budgets of their call before running and give back what they did
 * not use. Every request body (a single request or a whole batch) gets
 * RPC_BODY_GAS; a connection whose transport keeps an rpc_budget gets
 * RPC_CONN_GAS_PER_S, refilled continuously up to the same amount. */
#define RPC_BODY_GAS 20000000ull
#define RPC_CONN_GAS_PER_S 20000000ull

typedef struct rpc_budget {
    uint64_t gas;      /* left */
    uint64_t stamp_ns; /* connection budgets: last refill (monotonic); 0: never used, full */
} rpc_budget;

/* What the transport knows about one request body. */
typedef struct rpc_call {
    int admin;            /* admin methods are allowed (rpc-protocol.md, "Admin methods") */
    rpc_session *session; /* the WebSocket session, NULL over HTTP */
    size_t ncalls;        /* set by the dispatcher: requests in the body (batch length) */
    /* Optional, kept by the transport for the life of a connection (zeroed
     * at its start): its gas allowance. NULL: none. */
    rpc_budget *conn;
    /* Set by the dispatcher for the body being handled (RPC_BODY_GAS); NULL
     * for in-process calls (rpc_dispatch_call_ex), which only the per-method
     * caps bound. */
    rpc_budget *body;
    /* Rate limit, set by the transport (NULL: none): called once the body is
     * parsed, before anything runs, with the number of requests it holds (a
     * batch's length; 1 for a single request or a body that is refused
     * whole). Nonzero refuses the whole body: its reply is one -32005 "rate
     * limit exceeded" error and `refused` is set. */
    int (*admit)(void *ctx, size_t n);
    void *admit_ctx;
    int refused;
    /* Reply cap in bytes (0: none). A result that would take the reply past
     * it is replaced by a -32005 "reply too large" error with the request's
     * id, and the batch entries after it are answered the same without
     * running. */
    size_t max_reply;
} rpc_call;

/* Takes `want` gas from the call's budgets (both, when both are there) and
 * returns it, or returns 0 and takes nothing when less than `want` is left
 * in either. want must be > 0. Not thread-safe: one body is handled by one
 * thread at a time. */
OL_MUST_CHECK uint64_t rpc_budget_take(const rpc_call *call, uint64_t want);
/* Gives back the unused part of a take. */
void rpc_budget_give_back(const rpc_call *call, uint64_t unused);
/* Gas the call could take now: the smaller of what its budgets hold. */
uint64_t rpc_budget_left(const rpc_call *call);

/* A method that also sees the request's rpc_call (never NULL). */
typedef json_t *(*rpc_method_ex_fn)(void *ctx, const rpc_call *call, json_t *params, rpc_error *e);

enum {
    RPC_METHOD_ADMIN = 1u << 0,   /* refused with -32004 unless call->admin */
    RPC_METHOD_SESSION = 1u << 1, /* needs a WebSocket session: -32601 over HTTP */
};

/* Description of a method for rpc_discover (OpenRPC 1.2): JSON texts, static. */
typedef struct rpc_method_spec {
    const char *summary;
    const char *params; /* array of content descriptors: [{"name","required","schema"},...] */
    const char *result; /* one content descriptor: {"name","schema"} */
} rpc_method_spec;

OL_MUST_CHECK rpc_dispatch *rpc_dispatch_new(void);
void rpc_dispatch_free(rpc_dispatch *d);
/* Returns 0, UTIL_EEXIST for a name already added, UTIL_EINVAL for an empty
 * name, UTIL_ENOMEM. The name is copied. */
OL_MUST_CHECK int rpc_dispatch_add(rpc_dispatch *d, const char *name, rpc_method_fn fn, void *ctx);
/* Same, for a method that needs the call context or RPC_METHOD_* flags. */
OL_MUST_CHECK int rpc_dispatch_add_ex(rpc_dispatch *d, const char *name, rpc_method_ex_fn fn,
                                      void *ctx, unsigned flags);
/* Attaches a description (borrowed, must be static) to a registered method.
 * Returns 0 or UTIL_ENOTFOUND. */
OL_MUST_CHECK int rpc_dispatch_describe(rpc_dispatch *d, const char *name,
                                        const rpc_method_spec *spec);

/* Called after every call of a registered method (also notifications and
 * batch entries): method index, duration in ns, 0 or the error code. Unknown
 * method names are reported with index SIZE_MAX. For metrics. */
typedef void (*rpc_observer_fn)(void *ctx, size_t method, uint64_t ns, int code);
void rpc_dispatch_set_observer(rpc_dispatch *d, rpc_observer_fn fn, void *ctx);

/* Batch hooks: hook is called once with the whole (valid, non-empty, within
 * the limit) batch array before its entries are dispatched, so a method
 * family can pre-process a batch in parallel (e.g. verify the signatures of
 * many tx_send entries on threads). The array is borrowed; entries may be any
 * JSON (the hook must check their shape itself). end, when set, is called
 * after the batch's last entry, on the same thread, so state the hook made
 * for this batch's entries can be dropped. Both run under the dispatch lock.
 * The hook sees the batch's rpc_call, so work it does ahead for the entries
 * is charged to the same budgets. Optional; NULL removes them. */
void rpc_dispatch_set_batch_hook(rpc_dispatch *d,
                                 void (*hook)(void *ctx, const rpc_call *call, json_t *batch),
                                 void (*end)(void *ctx), void *ctx);

/* A lock held around the batch hook and around every method call (with its
 * observer call), for a table served by several threads; parsing requests
 * and writing replies happen outside it. lock and unlock are both set or
 * both NULL, and must allow recursion: a method may run where the caller
 * already holds the lock (a WebSocket frame fed under it). */
void rpc_dispatch_set_lock(rpc_dispatch *d, void (*lock)(void *ctx), void (*unlock)(void *ctx),
                           void *ctx);

/* Handles one request body. Returns malloc'd compact JSON text (free() it)
 * and its length in *out_len, or NULL when nothing is to be sent back (the
 * body held only notifications, or memory ran out). */
OL_MUST_CHECK char *rpc_dispatch_handle(rpc_dispatch *d, const char *body, size_t len,
                                        size_t *out_len);
/* Same with the transport's call context (NULL: no admin, no session). */
OL_MUST_CHECK char *rpc_dispatch_handle_call(rpc_dispatch *d, const char *body, size_t len,
                                             size_t *out_len, rpc_call *call);

/* Calls one method directly, as a request with that name and params would
 * (params NULL means []; a non-array gets -32602). Returns a new reference or
 * NULL with *e filled. For in-process callers and tests. */
OL_MUST_CHECK json_t *rpc_dispatch_call(rpc_dispatch *d, const char *method, json_t *params,
                                        rpc_error *e);
/* Same with a call context (NULL: no admin, no session). */
OL_MUST_CHECK json_t *rpc_dispatch_call_ex(rpc_dispatch *d, const rpc_call *call,
                                           const char *method, json_t *params, rpc_error *e);

/* Registered methods, in the order they were added. */
size_t rpc_dispatch_count(const rpc_dispatch *d);
const char *rpc_dispatch_name(const rpc_dispatch *d, size_t i); /* NULL when i >= count */
unsigned rpc_dispatch_flags(const rpc_dispatch *d, size_t i);
OL_MUST_CHECK const rpc_method_spec *rpc_dispatch_spec(const rpc_dispatch *d,
                                                       size_t i); /* NULL: none */

#endif
