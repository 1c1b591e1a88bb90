/* rpc_discover: an OpenRPC 1.2 document (https://spec.open-rpc.org) of every
 * method in the dispatch table, built from the table itself when called, so
 * methods registered by any family appear without a list to keep in sync.
 *
 * A method's params and result come from the spec attached with
 * rpc_dispatch_describe, else from the built-in specs in rpc/methods/openrpc.c (the
 * chain, contract, subscription and admin methods), else the method is
 * listed with "summary": "" and no params (tests/unit/rpc/test_rpc_discover.c
 * fails on such a method). */
#ifndef OL_RPC_OPENRPC_H
#define OL_RPC_OPENRPC_H

#include "rpc/jsonrpc.h"
#include "util/err.h"

/* Registers rpc_discover on d (which it describes). 0 or -1. */
OL_MUST_CHECK int rpc_openrpc_register(rpc_dispatch *d);

/* The built-in spec of a method name, or NULL. */
const rpc_method_spec *rpc_openrpc_builtin(const char *name);

#endif
