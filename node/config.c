/* openledgerd's command line: flags, their checks, --help, and fitting the
 * RPC connection cap to the open-files limit (node/node.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "node/node.h"
#include "p2p/msg.h"
#include "rollup/batch.h"
#include "util/log.h"

void node_print_help(const char *argv0)
{
    printf("Usage: %s --dev [options]\n"
           "       %s --datadir DIR [--genesis FILE] [options]\n"
           "       %s init --datadir DIR [--genesis FILE]\n"
           "       %s node-id --datadir DIR\n"
           "       %s testnet --validators N --out DIR\n"
           "       %s --derive-from-l1 URL --rollup-config FILE [--genesis FILE | --dev]\n"
           "\n"
           "OpenLedger node: orders attribution transactions into blocks and serves JSON-RPC.\n"
           "\n"
           "Commands:\n"
           "  init                       create DIR/validator_key.json (mode 0600, never\n"
           "                             replaced) and print its public key and address\n"
           "  node-id                    print the node id of DIR/node_key.json (created,\n"
           "                             mode 0600, if absent)\n"
           "  testnet --validators N --out DIR [--rpc-port P] [--p2p-port Q]\n"
           "                             write a local network of N validators:\n"
           "                             DIR/genesis.json, DIR/nodeI (keys, config.json),\n"
           "                             DIR/nodes.json; start them with\n"
           "                             scripts/testnet.sh up DIR (docs/node.md)\n"
           "  l1-address --datadir DIR   print the Ethereum address of DIR/l1_key.json\n"
           "                             (created, mode 0600, if absent)\n"
           "  rollup-deploy --l1 URL --datadir DIR --out FILE\n"
           "                             deploy the L1 contracts, write rollup.json\n"
           "  l1-inbox --l1 URL --rollup-config FILE\n"
           "                             print the L2 heights posted to the L1 inbox\n"
           "  export-blocks --datadir DIR --out FILE\n"
           "                             write committed blocks and their commits to FILE\n"
           "  import-blocks --datadir DIR --in FILE\n"
           "                             validate and apply such a file (docs/blocks.md)\n"
           "\n"
           "Options:\n"
           "  --dev                      development chain signed with the public devnet\n"
           "                             validator key, prefunded accounts dev0..dev9\n"
           "  --datadir DIR              data directory (default with --dev: a new temporary\n"
           "                             directory, removed on exit); without --dev the node\n"
           "                             signs with DIR/validator_key.json (see init), and\n"
           "                             reads DIR/config.json first when present (its keys\n"
           "                             genesis, rpc, p2p, peers, logLevel, blockTime are\n"
           "                             these flags; the command line overrides them)\n"
           "  --genesis FILE             genesis JSON to use instead of the embedded devnet one;\n"
           "                             a validator holding more than 2/3 of the power\n"
           "                             produces blocks alone; validators sharing the power\n"
           "                             decide them by BFT consensus with their peers\n"
           "                             (docs/consensus.md); other nodes follow\n"
           "  --rpc HOST:PORT            JSON-RPC listen address (default %s:%d); an IPv6\n"
           "                             address in brackets: [::1]:8545\n"
           "  --block-time MS            block interval in milliseconds (default %d)\n"
           "  --empty-blocks-interval MS also produce an empty block when none was produced\n"
           "                             for MS milliseconds (default 0: never)\n"
           "  --log-level LEVEL          debug, info, warn or error (default info)\n"
           "  --quiet-accounts           with --dev, do not print the development accounts\n"
           "  --proof-history BLOCKS     keep the state values the last BLOCKS blocks overwrote,\n"
           "                             so state_getProof proves objects at those heights\n"
           "                             (default %d, 0 to %d; docs/proofs.md, \"Heights\")\n"
           "\n"
           "Peers (docs/node.md, \"Peers and followers\"; docs/p2p.md):\n"
           "  --p2p HOST:PORT            peer-to-peer listen address (default %s:%d;\n"
           "                             if that default is taken the node runs without\n"
           "                             accepting peers); --p2p off disables the layer\n"
           "  --peers ID@HOST:PORT,...   persistent peers, dialled and re-dialled with backoff\n"
           "                             (ID: 40 hex digits, see node-id and the start log)\n"
           "  --p2p-pex on|off           exchange peer addresses and dial them (default on)\n"
           "  --follower                 never produce blocks: receive, verify and execute\n"
           "                             the chain from peers. With --dev: a follower of a\n"
           "                             devnet (embedded genesis, temporary datadir unless\n"
           "                             --datadir). Without --dev, a data directory with\n"
           "                             no validator key is a follower's when --peers is\n"
           "                             given. Follow `make devnet` on this machine with\n"
           "                               openledgerd --dev --follower --rpc 127.0.0.1:8547 \\\n"
           "                                 --p2p 127.0.0.1:26666 --peers ID@127.0.0.1:26656\n"
           "                             where ID is from the devnet's \"node id ID\" log line\n"
           "\n"
           "Rollup (docs/rollup.md, \"Operating\"):\n"
           "  --l1 URL                   the L1's JSON-RPC endpoint (http or https)\n"
           "  --rollup-config FILE       rollup.json written by rollup-deploy; with --l1 the\n"
           "                             node posts batches and outputs when its L1 account\n"
           "                             (DIR/l1_key.json, see l1-address) is the batcher\n"
           "  --derive-from-l1 URL       build the chain from the L1 alone (with\n"
           "                             --rollup-config; not with --l1): no peers, no block\n"
           "                             production; the L2 genesis is --genesis FILE (or the\n"
           "                             embedded devnet one with --dev) and must match the\n"
           "                             config\n"
           "  --l1-explorer URL          L1 block explorer: the explorer links transactions\n"
           "                             to URL/tx/HASH\n"
           "  --batch-max-blocks N       L2 blocks per batch (default 100)\n"
           "  --batch-max-delay MS       post pending blocks after MS at most (default 5000)\n"
           "  --batch-frame-max BYTES    batch bytes per frame (256..122880, default\n"
           "                             122880); a batch is split into frames\n"
           "  --batch-da calldata|blobs  where frames go: calldata, one post(bytes) per\n"
           "                             frame (default), or EIP-4844 blobs, one frame per\n"
           "                             blob and up to 6 blobs per L1 transaction (an L1 at\n"
           "                             Prague; docs/rollup.md, \"Blobs\")\n"
           "  --l1-beacon URL            the L1 beacon node API serving blobs, read by the\n"
           "                             batcher's inbox scans and by derivation (default:\n"
           "                             the --l1 or --derive-from-l1 URL, as anvil serves it)\n"
           "\n"
           "JSON-RPC service (docs/rpc-protocol.md):\n"
           "  --rpc-cors ORIGIN          send CORS headers allowing ORIGIN (or *) so a browser\n"
           "                             explorer on another origin can call the node\n"
           "  --rpc-auth-token TOKEN     admin methods need 'Authorization: Bearer TOKEN'\n"
           "  --rpc-auth-token-file FILE read the token from the first line of FILE\n"
           "                             (without a token, admin methods work only on a\n"
           "                             loopback --rpc address)\n"
           "  --rpc-max-conns N          open HTTP + WebSocket connections (default 1024; lowered\n"
           "                             at start if the open-files limit is too low for it)\n"
           "  --rpc-max-conns-per-ip N   connections one client address (IPv6: one /64) may\n"
           "                             hold (default 64); more are answered 503\n"
           "  --rpc-rate-limit N         JSON-RPC requests per second per client address;\n"
           "                             a batch is charged its entries before it runs and\n"
           "                             refused whole past the allowance (default 0: off)\n"
           "  --rpc-max-body BYTES       request body / WebSocket message cap (default 1 MiB)\n"
           "  --rpc-max-reply BYTES      JSON-RPC reply cap; a result past it is answered\n"
           "                             -32005 (default 16 MiB)\n"
           "  --rpc-ws-send-limit BYTES  unsent bytes a WebSocket client may fall behind\n"
           "                             before it is disconnected (default 4 MiB)\n"
           "  --rpc-threads N            loops serving HTTP JSON-RPC (default 1); WebSocket\n"
           "                             sessions stay on the main loop\n"
           "\n"
           "  -h, --help                 this help\n"
           "  --version                  print the version\n",
           argv0, argv0, argv0, argv0, argv0, argv0, NODE_DEFAULT_RPC_HOST, NODE_DEFAULT_RPC_PORT,
           NODE_DEFAULT_BLOCK_TIME_MS, NODE_DEFAULT_PROOF_HISTORY, NODE_MAX_PROOF_HISTORY,
           NODE_DEFAULT_P2P_HOST, NODE_DEFAULT_P2P_PORT);
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int read_token_file(node_cfg *cfg, const char *path, util_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return util_err_set(err, NODE_CFG_USAGE, "--rpc-auth-token-file: cannot open %s", path);
    char line[NODE_MAX_TOKEN + 4];
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (!got) return util_err_set(err, NODE_CFG_USAGE, "--rpc-auth-token-file: %s is empty", path);
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0] || strlen(line) > NODE_MAX_TOKEN)
        return util_err_set(err, NODE_CFG_USAGE,
                            "--rpc-auth-token-file: the token must be 1 to %d characters",
                            NODE_MAX_TOKEN);
    snprintf(cfg->rpc_auth_token, sizeof cfg->rpc_auth_token, "%s", line);
    return 0;
}

/* HOST:PORT, or [IPV6]:PORT (RFC 3986 brackets); the host is stored
 * without the brackets. flag names the option in messages. */
static int parse_hostport(const char *flag, const char *s, char *host_out, size_t host_cap,
                          int *port_out, util_err *err)
{
    const char *host = s, *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || close == s + 1)
            return util_err_set(err, UTIL_EINVAL, "%s: expected [IPV6]:PORT, got '%s'", flag, s);
        host = s + 1;
        hl = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon == s)
            return util_err_set(err, UTIL_EINVAL, "%s: expected HOST:PORT, got '%s'", flag, s);
        hl = (size_t)(colon - s);
        if (memchr(s, ':', hl))
            return util_err_set(err, UTIL_EINVAL, "%s: an IPv6 address needs brackets: [%.*s]:PORT",
                                flag, (int)hl, s);
    }
    if (hl >= host_cap) return util_err_set(err, UTIL_EINVAL, "%s: host too long", flag);
    uint64_t port;
    if (parse_u64(colon + 1, &port) || port > 65535)
        return util_err_set(err, UTIL_EINVAL, "%s: bad port '%s'", flag, colon + 1);
    memcpy(host_out, host, hl);
    host_out[hl] = 0;
    *port_out = (int)port;
    return 0;
}

/* id@host:port,... : each entry checked now so a typo stops the start. */
static int check_peers(node_cfg *cfg, const char *list, util_err *err)
{
    if (strlen(list) >= sizeof cfg->p2p_peers)
        return util_err_set(err, NODE_CFG_USAGE, "--peers: list too long");
    char copy[NODE_MAX_PEERS_ARG];
    snprintf(copy, sizeof copy, "%s", list);
    char *save = NULL;
    size_t n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        p2p_peer_addr a;
        if (p2p_peer_addr_parse(tok, &a, err)) {
            util_err_prefix(err, "--peers: ");
            if (err) err->code = NODE_CFG_USAGE;
            return NODE_CFG_USAGE;
        }
        n++;
    }
    if (n == 0) return util_err_set(err, NODE_CFG_USAGE, "--peers: expected ID@HOST:PORT[,...]");
    snprintf(cfg->p2p_peers, sizeof cfg->p2p_peers, "%s", list);
    return 0;
}

/* The rollup's flags, in the order of their option codes from O_L1. */
static int parse_rollup_flag(node_cfg *cfg, int which, const char *v, util_err *err)
{
    static const char *const names[] = {"--l1",
                                        "--rollup-config",
                                        "--l1-explorer",
                                        "--batch-max-blocks",
                                        "--batch-max-delay",
                                        "--batch-frame-max"};
    char *dst[] = {cfg->l1_url, cfg->rollup_config_path, cfg->l1_explorer};
    size_t cap[] = {sizeof cfg->l1_url, sizeof cfg->rollup_config_path, sizeof cfg->l1_explorer};
    if (which < 3) {
        if (!v[0] || strlen(v) >= cap[which])
            return util_err_set(err, NODE_CFG_USAGE, "%s: 1 to %zu characters", names[which],
                                cap[which] - 1);
        if (which != 1 && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
            return util_err_set(err, NODE_CFG_USAGE, "%s: expected an http:// or https:// URL",
                                names[which]);
        snprintf(dst[which], cap[which], "%s", v);
        return 0;
    }
    uint64_t n;
    static const uint64_t lo[] = {1, 1, 256}, hi[] = {10000, 3600000, ROLLUP_FRAME_MAX};
    uint32_t *dst_n[] = {&cfg->batch_max_blocks, &cfg->batch_max_delay_ms, &cfg->batch_frame_max};
    if (parse_u64(v, &n) || n < lo[which - 3] || n > hi[which - 3])
        return util_err_set(err, NODE_CFG_USAGE, "%s: expected %llu..%llu, got '%s'", names[which],
                            (unsigned long long)lo[which - 3], (unsigned long long)hi[which - 3],
                            v);
    *dst_n[which - 3] = (uint32_t)n;
    return 0;
}

int node_cfg_parse(node_cfg *cfg, int argc, char **argv, util_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->rpc_host, sizeof cfg->rpc_host, "%s", NODE_DEFAULT_RPC_HOST);
    cfg->rpc_port = NODE_DEFAULT_RPC_PORT;
    cfg->block_time_ms = NODE_DEFAULT_BLOCK_TIME_MS;
    cfg->proof_history = NODE_DEFAULT_PROOF_HISTORY;
    cfg->log_level = UTIL_LOG_INFO;
    snprintf(cfg->p2p_host, sizeof cfg->p2p_host, "%s", NODE_DEFAULT_P2P_HOST);
    cfg->p2p_port = NODE_DEFAULT_P2P_PORT;
    cfg->p2p_default = 1;
    enum {
        O_DEV = 256,
        O_DATADIR,
        O_GENESIS,
        O_RPC,
        O_BT,
        O_EMPTY,
        O_LOG,
        O_QUIET,
        O_VER,
        O_CORS,
        O_TOKEN,
        O_TOKEN_FILE,
        O_MAX_CONNS,
        O_RATE,
        O_MAX_BODY,
        O_WS_SEND,
        O_THREADS,
        O_CONNS_PER_IP,
        O_MAX_REPLY,
        O_P2P,
        O_PEERS,
        O_PEX,
        O_FOLLOWER,
        O_L1,
        O_ROLLUP_CFG,
        O_L1_EXPLORER,
        O_BATCH_BLOCKS,
        O_BATCH_DELAY,
        O_BATCH_FRAME,
        O_DERIVE,
        O_PROOF_HISTORY,
        O_BATCH_DA,
        O_L1_BEACON,
    };
    static const struct option opts[] = {
        {"dev", no_argument, 0, O_DEV},
        {"datadir", required_argument, 0, O_DATADIR},
        {"genesis", required_argument, 0, O_GENESIS},
        {"rpc", required_argument, 0, O_RPC},
        {"block-time", required_argument, 0, O_BT},
        {"empty-blocks-interval", required_argument, 0, O_EMPTY},
        {"log-level", required_argument, 0, O_LOG},
        {"quiet-accounts", no_argument, 0, O_QUIET},
        {"rpc-cors", required_argument, 0, O_CORS},
        {"rpc-auth-token", required_argument, 0, O_TOKEN},
        {"rpc-auth-token-file", required_argument, 0, O_TOKEN_FILE},
        {"rpc-max-conns", required_argument, 0, O_MAX_CONNS},
        {"rpc-rate-limit", required_argument, 0, O_RATE},
        {"rpc-max-body", required_argument, 0, O_MAX_BODY},
        {"rpc-ws-send-limit", required_argument, 0, O_WS_SEND},
        {"rpc-threads", required_argument, 0, O_THREADS},
        {"rpc-max-conns-per-ip", required_argument, 0, O_CONNS_PER_IP},
        {"rpc-max-reply", required_argument, 0, O_MAX_REPLY},
        {"p2p", required_argument, 0, O_P2P},
        {"peers", required_argument, 0, O_PEERS},
        {"p2p-pex", required_argument, 0, O_PEX},
        {"follower", no_argument, 0, O_FOLLOWER},
        {"l1", required_argument, 0, O_L1},
        {"rollup-config", required_argument, 0, O_ROLLUP_CFG},
        {"l1-explorer", required_argument, 0, O_L1_EXPLORER},
        {"batch-max-blocks", required_argument, 0, O_BATCH_BLOCKS},
        {"batch-max-delay", required_argument, 0, O_BATCH_DELAY},
        {"batch-frame-max", required_argument, 0, O_BATCH_FRAME},
        {"derive-from-l1", required_argument, 0, O_DERIVE},
        {"proof-history", required_argument, 0, O_PROOF_HISTORY},
        {"batch-da", required_argument, 0, O_BATCH_DA},
        {"l1-beacon", required_argument, 0, O_L1_BEACON},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, O_VER},
        {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_DEV: cfg->dev = 1; break;
        case O_DATADIR:
            if (strlen(optarg) >= sizeof cfg->datadir)
                return util_err_set(err, NODE_CFG_USAGE, "--datadir: path too long");
            snprintf(cfg->datadir, sizeof cfg->datadir, "%s", optarg);
            break;
        case O_GENESIS:
            if (strlen(optarg) >= sizeof cfg->genesis_path)
                return util_err_set(err, NODE_CFG_USAGE, "--genesis: path too long");
            snprintf(cfg->genesis_path, sizeof cfg->genesis_path, "%s", optarg);
            break;
        case O_RPC:
            if (parse_hostport("--rpc", optarg, cfg->rpc_host, sizeof cfg->rpc_host, &cfg->rpc_port,
                               err))
                return err ? (err->code = NODE_CFG_USAGE) : 2;
            break;
        case O_P2P:
            cfg->p2p_default = 0;
            if (strcmp(optarg, "off") == 0) {
                cfg->p2p_host[0] = 0;
                break;
            }
            if (parse_hostport("--p2p", optarg, cfg->p2p_host, sizeof cfg->p2p_host, &cfg->p2p_port,
                               err))
                return err ? (err->code = NODE_CFG_USAGE) : 2;
            break;
        case O_PEERS:
            if (check_peers(cfg, optarg, err)) return NODE_CFG_USAGE;
            break;
        case O_PEX:
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
                return util_err_set(err, NODE_CFG_USAGE, "--p2p-pex: expected on or off");
            cfg->p2p_no_pex = strcmp(optarg, "off") == 0;
            break;
        case O_FOLLOWER: cfg->follower = 1; break;
        case O_L1:
        case O_ROLLUP_CFG:
        case O_L1_EXPLORER:
        case O_BATCH_BLOCKS:
        case O_BATCH_DELAY:
        case O_BATCH_FRAME:
            if (parse_rollup_flag(cfg, c - O_L1, optarg, err)) return NODE_CFG_USAGE;
            break;
        case O_DERIVE:
            if (!optarg[0] || strlen(optarg) >= sizeof cfg->derive_l1_url)
                return util_err_set(err, NODE_CFG_USAGE, "--derive-from-l1: empty or too long");
            snprintf(cfg->derive_l1_url, sizeof cfg->derive_l1_url, "%s", optarg);
            break;
        case O_BATCH_DA:
            if (strcmp(optarg, "calldata") != 0 && strcmp(optarg, "blobs") != 0)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--batch-da: expected calldata or blobs, got '%s'", optarg);
            cfg->batch_blobs = strcmp(optarg, "blobs") == 0;
            break;
        case O_L1_BEACON:
            if (!optarg[0] || strlen(optarg) >= sizeof cfg->l1_beacon_url)
                return util_err_set(err, NODE_CFG_USAGE, "--l1-beacon: 1 to %zu characters",
                                    sizeof cfg->l1_beacon_url - 1);
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--l1-beacon: expected an http:// or https:// URL");
            snprintf(cfg->l1_beacon_url, sizeof cfg->l1_beacon_url, "%s", optarg);
            break;
        case O_PROOF_HISTORY:
            if (parse_u64(optarg, &v) || v > NODE_MAX_PROOF_HISTORY)
                return util_err_set(
                    err, NODE_CFG_USAGE,
                    "--proof-history: expected a number of blocks in 0..%d, got '%s'",
                    NODE_MAX_PROOF_HISTORY, optarg);
            cfg->proof_history = (uint32_t)v;
            break;
        case O_BT:
            if (parse_u64(optarg, &v) || v < 1 || v > 3600000)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--block-time: expected milliseconds in 1..3600000, got '%s'",
                                    optarg);
            cfg->block_time_ms = v;
            break;
        case O_EMPTY:
            if (parse_u64(optarg, &v) || v > 86400000)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--empty-blocks-interval: expected milliseconds, got '%s'",
                                    optarg);
            cfg->empty_block_ms = v;
            break;
        case O_LOG:
            if ((cfg->log_level = util_log_parse_level(optarg)) < 0)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--log-level: expected debug, info, warn or error");
            break;
        case O_QUIET: cfg->quiet_accounts = 1; break;
        case O_CORS:
            if (!optarg[0] || strlen(optarg) >= sizeof cfg->rpc_cors)
                return util_err_set(err, NODE_CFG_USAGE, "--rpc-cors: 1 to 256 characters");
            snprintf(cfg->rpc_cors, sizeof cfg->rpc_cors, "%s", optarg);
            break;
        case O_TOKEN:
            if (!optarg[0] || strlen(optarg) > NODE_MAX_TOKEN)
                return util_err_set(err, NODE_CFG_USAGE, "--rpc-auth-token: 1 to %d characters",
                                    NODE_MAX_TOKEN);
            snprintf(cfg->rpc_auth_token, sizeof cfg->rpc_auth_token, "%s", optarg);
            break;
        case O_TOKEN_FILE:
            if (read_token_file(cfg, optarg, err)) return NODE_CFG_USAGE;
            break;
        case O_MAX_CONNS:
            if (parse_u64(optarg, &v) || v < 1 || v > 1000000)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--rpc-max-conns: expected 1..1000000, got '%s'", optarg);
            cfg->rpc_max_conns = (int)v;
            break;
        case O_RATE:
            if (parse_u64(optarg, &v) || v > 1000000000)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--rpc-rate-limit: expected requests per second, got '%s'",
                                    optarg);
            cfg->rpc_rate_limit = (unsigned)v;
            break;
        case O_MAX_BODY:
            if (parse_u64(optarg, &v) || v < 1024 || v > (256u << 20))
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--rpc-max-body: expected 1024..268435456 bytes, got '%s'",
                                    optarg);
            cfg->rpc_max_body = v;
            break;
        case O_WS_SEND:
            if (parse_u64(optarg, &v) || v < 65536 || v > (1ull << 32))
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--rpc-ws-send-limit: expected 65536..4294967296 bytes, got "
                                    "'%s'",
                                    optarg);
            cfg->rpc_ws_send_limit = v;
            break;
        case O_THREADS:
            if (parse_u64(optarg, &v) || v < 1 || v > NODE_MAX_RPC_THREADS)
                return util_err_set(err, NODE_CFG_USAGE, "--rpc-threads: expected 1..%d, got '%s'",
                                    NODE_MAX_RPC_THREADS, optarg);
            cfg->rpc_threads = (unsigned)v;
            break;
        case O_CONNS_PER_IP:
            if (parse_u64(optarg, &v) || v < 1 || v > 1000000)
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--rpc-max-conns-per-ip: expected 1..1000000, got '%s'",
                                    optarg);
            cfg->rpc_max_conns_per_ip = (int)v;
            break;
        case O_MAX_REPLY:
            if (parse_u64(optarg, &v) || v < 65536 || v > (1ull << 30))
                return util_err_set(err, NODE_CFG_USAGE,
                                    "--rpc-max-reply: expected 65536..1073741824 bytes, got '%s'",
                                    optarg);
            cfg->rpc_max_reply = v;
            break;
        case 'h': node_print_help(argv[0]); return NODE_CFG_EXIT_OK;
        case O_VER: printf("openledgerd %s\n", OL_VERSION); return NODE_CFG_EXIT_OK;
        case ':': return util_err_set(err, NODE_CFG_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, NODE_CFG_USAGE, "unknown option '%s' (see --help)",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        return util_err_set(err, NODE_CFG_USAGE, "unexpected argument '%s' (see --help)",
                            argv[optind]);
    if (cfg->p2p_peers[0] && !cfg->p2p_host[0])
        return util_err_set(err, NODE_CFG_USAGE,
                            "--peers needs the peer-to-peer layer (not --p2p off)");
    if (cfg->l1_url[0] && !cfg->rollup_config_path[0])
        return util_err_set(err, NODE_CFG_USAGE, "--l1 needs --rollup-config FILE");
    if (cfg->batch_blobs && !cfg->l1_url[0])
        return util_err_set(err, NODE_CFG_USAGE, "--batch-da blobs needs --l1 URL");
    if (cfg->l1_beacon_url[0] && !cfg->l1_url[0] && !cfg->derive_l1_url[0])
        return util_err_set(err, NODE_CFG_USAGE, "--l1-beacon needs --l1 or --derive-from-l1");
    if (cfg->derive_l1_url[0]) {
        /* The chain comes from the L1 alone: nothing to sign, nobody to
         * talk to; one loop, so the deriver's status is read where it is
         * written. */
        if (!cfg->rollup_config_path[0])
            return util_err_set(err, NODE_CFG_USAGE, "--derive-from-l1 needs --rollup-config FILE");
        if (cfg->l1_url[0])
            return util_err_set(err, NODE_CFG_USAGE,
                                "--derive-from-l1 and --l1 exclude each other: a deriving node "
                                "posts nothing");
        if (cfg->p2p_peers[0] || cfg->rpc_threads > 1)
            return util_err_set(err, NODE_CFG_USAGE,
                                "--derive-from-l1 runs without --peers and with one RPC loop");
        cfg->follower = 1;
        cfg->p2p_host[0] = 0;
    }
    if (!cfg->dev && !cfg->datadir[0])
        return util_err_set(err, NODE_CFG_USAGE,
                            "--datadir DIR is needed (its key made by `openledgerd init --datadir "
                            "DIR`), or --dev for a development chain (see --help)");
    return NODE_CFG_RUN;
}

int node_fd_conn_cap(uint64_t fd_limit, unsigned loops, int max_conns)
{
    if (loops == 0) loops = 1;
    uint64_t other = NODE_FD_LEVELDB + NODE_FD_MARGIN + (uint64_t)NODE_FD_PER_LOOP * loops;
    if (fd_limit <= other) return 0;
    uint64_t per_loop = (fd_limit - other) / loops;
    return per_loop >= (uint64_t)max_conns ? max_conns : (int)per_loop;
}

int node_fit_fd_limit(unsigned loops, int *max_conns, util_err *err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0; /* nothing known: leave it */
    rlim_t before = rl.rlim_cur;
    if (rl.rlim_cur != rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = before;
    }
    uint64_t limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    int want = *max_conns;
    int cap = node_fd_conn_cap(limit, loops, want);
    if (cap < 1)
        return util_err_set(err, UTIL_ELIMIT,
                            "the open-files limit (%llu) leaves no room for RPC connections: "
                            "raise it (ulimit -n) above %d",
                            (unsigned long long)limit,
                            NODE_FD_LEVELDB + NODE_FD_MARGIN + NODE_FD_PER_LOOP * (int)loops);
    if (cap < want)
        LOG_WARN("node",
                 "open-files limit %llu (raised from %llu): --rpc-max-conns lowered from %d to %d "
                 "per loop, keeping %d for LevelDB and the node",
                 (unsigned long long)limit, (unsigned long long)before, want, cap,
                 NODE_FD_LEVELDB + NODE_FD_MARGIN + NODE_FD_PER_LOOP * (int)loops);
    else
        LOG_INFO("node",
                 "open-files limit %llu (raised from %llu): room for %d RPC connections "
                 "per loop",
                 (unsigned long long)limit, (unsigned long long)before, want);
    *max_conns = cap;
    return 0;
}
