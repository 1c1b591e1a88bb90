/* openledgerd: configuration, start-up and the wiring of store, mempool,
 * block production and JSON-RPC on one libuv loop.
 *
 * A node_cfg is a plain value filled by node_cfg_parse. A node owns
 * everything it starts; node_free releases it after node_run returns. */
#ifndef OL_NODE_NODE_H
#define OL_NODE_NODE_H

#include <limits.h>
#include <stdint.h>

#include "util/err.h"

#define NODE_DEFAULT_RPC_HOST "127.0.0.1"
#define NODE_DEFAULT_RPC_PORT 8545
#define NODE_DEFAULT_BLOCK_TIME_MS 1000
/* Blocks whose overwritten state values the node keeps (undo records), so
 * that state_getProof can prove an object at a past height. */
#define NODE_DEFAULT_PROOF_HISTORY 1000
#define NODE_MAX_PROOF_HISTORY 1000000
#define NODE_DEFAULT_P2P_HOST "127.0.0.1"
#define NODE_DEFAULT_P2P_PORT 26656
#define NODE_MAX_PEERS_ARG 4096 /* --peers: bytes */
#define NODE_MAX_TOKEN 256      /* RPC_HTTP_MAX_TOKEN */
#define NODE_MAX_RPC_THREADS 64
/* File descriptors that are not RPC connections: LevelDB's table files
 * (max_open_files in chain/state/store.c) and a margin for the log, the store's
 * own files, listeners and each loop's epoll and wake-up descriptors. */
#define NODE_FD_LEVELDB 512
#define NODE_FD_MARGIN 64
#define NODE_FD_PER_LOOP (8 + 64) /* + RPC_HTTP_REFUSING_MAX */

typedef struct node_cfg {
    int dev;
    char datadir[PATH_MAX];
    char genesis_path[PATH_MAX];
    char rpc_host[64];
    int rpc_port;
    uint64_t block_time_ms;
    uint64_t empty_block_ms; /* 0: never produce empty blocks */
    int log_level;
    int quiet_accounts; /* do not print the development accounts */
    /* JSON-RPC service (docs/node.md, "RPC service flags") */
    char rpc_cors[257];                      /* "" : no CORS headers */
    char rpc_auth_token[NODE_MAX_TOKEN + 1]; /* "" : none */
    int rpc_max_conns;                       /* 0: the server default */
    int rpc_max_conns_per_ip;                /* 0: the server default */
    uint64_t rpc_max_reply;                  /* bytes; 0: the server default */
    unsigned rpc_rate_limit;                 /* requests/s per client address; 0: off */
    uint64_t rpc_ws_send_limit;              /* bytes; 0: the server default */
    uint64_t rpc_max_body;                   /* bytes; 0: the server default */
    unsigned rpc_threads;                    /* loops serving HTTP JSON-RPC; 0 or 1: one */
    /* Peer-to-peer (docs/node.md, "Peers"). p2p_host "" : the layer is off
     * (--p2p off, and a zeroed cfg in tests). */
    char p2p_host[64];
    int p2p_port;
    int p2p_default; /* the address is the default: taken, the node runs without listening */
    int p2p_no_pex;  /* --p2p-pex off */
    char p2p_peers[NODE_MAX_PEERS_ARG]; /* --peers, as given (checked by node_cfg_parse) */
    int follower;                       /* --follower: never produce blocks */
    /* The rollup (docs/rollup.md, "Operating"): --l1, --rollup-config,
     * --l1-explorer, --batch-max-blocks, --batch-max-delay,
     * --batch-frame-max; 0 or "": unset. */
    char l1_url[512];
    char rollup_config_path[PATH_MAX];
    char l1_explorer[256];
    uint32_t batch_max_blocks;
    uint32_t batch_max_delay_ms;
    uint32_t batch_frame_max; /* --batch-frame-max: payload bytes per L1 transaction */
    /* --derive-from-l1 URL (node/derive.c, with --rollup-config): the chain
     * comes from the L1; no peers, no production. "" : off. */
    char derive_l1_url[512];
    /* --batch-da calldata|blobs: how the batcher posts frames (1: blobs).
     * --l1-beacon URL: where blob posts are read (the batcher's inbox scans,
     * derivation); "" : the --l1 or --derive-from-l1 URL. */
    int batch_blobs;
    char l1_beacon_url[512];
    /* --proof-history BLOCKS: undo records kept for state_getProof at a past
     * height (a deriving node keeps at least ROLLUP_DERIVE_UNDO_BLOCKS). */
    uint32_t proof_history;
    /* Clock, randomness and files (util/env.h); NULL: the real ones. Set by
     * tests, never by the command line; borrowed for the node's life. */
    const struct util_env *env;
} node_cfg;

enum { NODE_CFG_RUN = 0, NODE_CFG_EXIT_OK = 1, NODE_CFG_USAGE = 2 };

/* Parses argv. Returns NODE_CFG_RUN, NODE_CFG_EXIT_OK (--help/--version
 * printed) or NODE_CFG_USAGE (err says what is wrong). */
OL_MUST_CHECK int node_cfg_parse(node_cfg *cfg, int argc, char **argv, util_err *err);
void node_print_help(const char *argv0);
/* `openledgerd node-id --datadir DIR`: prints the node id of DIR's node
 * key, creating the key when absent. Same returns as node_init_main. */
OL_MUST_CHECK int node_node_id_main(int argc, char **argv, util_err *err);
/* `openledgerd init ARGS` (argv[0] is "init"): creates the validator key of a
 * data directory (docs/node.md). Returns 0, NODE_CFG_EXIT_OK (help printed),
 * NODE_CFG_USAGE or another UTIL_E* code with err set. */
OL_MUST_CHECK int node_init_main(int argc, char **argv, util_err *err);

/* The per-loop connection cap that fits in fd_limit descriptors with
 * `loops` loops, leaving NODE_FD_LEVELDB + NODE_FD_MARGIN + NODE_FD_PER_LOOP
 * per loop for the rest: max_conns when it fits, else the largest cap that
 * does, or 0 when not even one connection per loop does. */
OL_MUST_CHECK int node_fd_conn_cap(uint64_t fd_limit, unsigned loops, int max_conns);
/* At start: raises the soft RLIMIT_NOFILE to the hard limit, then lowers
 * *max_conns (per loop) with node_fd_conn_cap so that the descriptor limit
 * cannot be reached before the connection cap; logs the outcome. Returns 0,
 * or UTIL_ELIMIT with err filled when no connection fits. */
OL_MUST_CHECK int node_fit_fd_limit(unsigned loops, int *max_conns, util_err *err);

/* `openledgerd testnet ARGS` (argv[0] is "testnet"): a local network's
 * keys, genesis and configs (node/testnet.c). Same returns as
 * node_init_main. */
OL_MUST_CHECK int node_testnet_main(int argc, char **argv, util_err *err);
/* With --datadir DIR in argv and DIR/config.json present: *out_argv is argv
 * with the file's settings inserted as flags before the command line's (so
 * flags override the file); otherwise *out_argv stays NULL. 0 or
 * NODE_CFG_USAGE (the file is malformed) / UTIL_ENOMEM with err set. */
OL_MUST_CHECK int node_cfg_file_args(int argc, char **argv, int *out_argc, char ***out_argv,
                                     util_err *err);
void node_cfg_file_args_free(int argc, char **argv);

typedef struct node node;

/* `openledgerd export-blocks` / `import-blocks` (node/blockio.c): argv
 * without the program and the command name's position is argv[0]. Returns
 * the process exit status. */
OL_MUST_CHECK int node_blockio_main(const char *cmd, int argc, char **argv);

OL_MUST_CHECK int node_start(node **out, const node_cfg *cfg, util_err *err);
/* Runs the loop until SIGINT/SIGTERM. Returns 0 on a clean stop. */
OL_MUST_CHECK int node_run(node *n);
void node_free(node *n);

#endif
