/* Admin methods. Registered with RPC_METHOD_ADMIN, so the dispatcher refuses
 * them (-32004) unless the transport granted admin rights: a loopback bind
 * without a token, or the configured token (docs/rpc-protocol.md). */
#include "rpc/methods/queries.h"
#include "rpc/params.h"
#include "util/log.h"

static const char *level_name(int l)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    return l >= 0 && l < 4 ? names[l] : "unknown";
}

static json_t *m_flush(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    rpc_env *env = ctx;
    if (rpc_param_count(params, 0, 0, e)) return NULL;
    size_t n = env->mempool_flush(env->ctx);
    LOG_WARN("rpc", "admin_mempoolFlush: %zu transactions dropped", n);
    return json_pack("{s:I}", "removed", (json_int_t)n);
}

static json_t *m_log_level(void *ctx, const rpc_call *call, json_t *params, rpc_error *e)
{
    const char *s;
    if (rpc_param_count(params, 1, 1, e) || rpc_param_str(params, 0, "level", 16, &s, e))
        return NULL;
    int l = util_log_parse_level(s);
    if (l < 0)
        return rpc_fail(e, RPC_INVALID_PARAMS, NULL,
                        "param 0 (level): expected debug, info, warn or error");
    int prev = util_log_level();
    util_log_set_level(l);
    LOG_INFO("rpc", "admin_setLogLevel: %s -> %s", level_name(prev), level_name(l));
    return json_pack("{s:s,s:s}", "previous", level_name(prev), "level", level_name(l));
}

int rpc_methods_admin_register(rpc_dispatch *d, rpc_env *env)
{
    if (rpc_dispatch_add_ex(d, "admin_mempoolFlush", m_flush, env, RPC_METHOD_ADMIN) ||
        rpc_dispatch_add_ex(d, "admin_setLogLevel", m_log_level, env, RPC_METHOD_ADMIN))
        return -1;
    return 0;
}
