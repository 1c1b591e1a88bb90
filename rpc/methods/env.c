/* rpc_methods_register: every method family registered with the one rpc_env
 * the node fills (rpc/methods/env.h), in the order rpc_discover lists them. */
#include "rpc/methods/env.h"

#include "rpc/methods/methods.h"
#include "rpc/methods/openrpc.h"
#include "rpc/methods/queries.h"
#include "rpc/methods/subs.h"

int rpc_methods_register(rpc_dispatch *d, rpc_env *env)
{
    /* The subscription methods need only the hub: they read nothing of the
     * node, the node feeds the hub (rpc_subs_block, rpc_subs_pending_tx). */
    if (rpc_methods_chain_register(d, env) || rpc_methods_queries_register(d, env) ||
        (env->subs && rpc_subs_register(d, env->subs)) || rpc_methods_admin_register(d, env) ||
        rpc_openrpc_register(d))
        return -1;
    return 0;
}
