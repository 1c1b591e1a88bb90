/* `openledgerd testnet --validators N --out DIR`: keys, genesis and configs
 * of a local network of N validators on loopback (docs/node.md, "A local
 * testnet"), and the data directory's config file DIR/config.json that
 * `openledgerd --datadir DIR` reads (node_cfg_file_args). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/crypto/address.h"
#include "chain/types/genesis.h"
#include "node/node.h"
#include "node/validator_key.h"
#include "p2p/session.h"
#include "util/hex.h"

#define TESTNET_MAX 64

static void testnet_help(const char *argv0)
{
    printf("Usage: %s testnet --validators N --out DIR [--rpc-port P] [--p2p-port Q]\n"
           "\n"
           "Writes a local network of N validators (1..%d) on 127.0.0.1:\n"
           "  DIR/genesis.json        the devnet's accounts and contracts, N validators of\n"
           "                          equal power, short consensus timeouts\n"
           "  DIR/nodeI/              validator_key.json, node_key.json and config.json\n"
           "                          (genesis, RPC on P+I, p2p on Q+I, the others as peers)\n"
           "  DIR/nodes.json          each node's id, RPC URL and p2p address\n"
           "P defaults to 18545 and Q to 26756. Start one node with\n"
           "  %s --datadir DIR/node0\n"
           "or all of them with scripts/testnet.sh up DIR.\n",
           argv0, TESTNET_MAX, argv0);
}

static int write_json(const char *path, json_t *j, util_err *err)
{
    int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    return rc ? util_err_set(err, UTIL_EIO, "cannot write %s", path) : 0;
}

static int make_genesis(const char *out, unsigned nval, uint8_t (*pubs)[32], util_err *err)
{
    const char *js = chain_genesis_devnet_json();
    json_error_t je;
    json_t *g = json_loads(js, 0, &je);
    if (!g) return util_err_set(err, UTIL_EINVAL, "embedded genesis: %s", je.text);
    json_object_set_new(g, "chainId", json_string("openledger-testnet"));
    json_t *p = json_object_get(g, "params");
    /* Short timeouts for loopback: a round that fails costs well under a
     * second. Idle, half of timeoutProposeMs (a proposer's longest wait for
     * a transaction) sets the pace of empty blocks; timeoutCommitMs only
     * applies while a validator's precommit is missing. */
    static const struct {
        const char *k;
        int v;
    } t[] = {{"timeoutProposeMs", 1000},  {"timeoutProposeDeltaMs", 250},
             {"timeoutPrevoteMs", 500},   {"timeoutPrevoteDeltaMs", 250},
             {"timeoutPrecommitMs", 500}, {"timeoutPrecommitDeltaMs", 250},
             {"timeoutCommitMs", 200}};
    for (size_t i = 0; p && i < sizeof t / sizeof t[0]; i++)
        json_object_set_new(p, t[i].k, json_integer(t[i].v));
    json_t *vals = json_array();
    for (unsigned i = 0; i < nval; i++) {
        char name[32], pk[67] = "0x";
        snprintf(name, sizeof name, "validator%u", i);
        util_hex_encode(pk + 2, pubs[i], 32);
        json_array_append_new(vals,
                              json_pack("{s:s,s:s,s:i}", "name", name, "pubkey", pk, "power", 10));
    }
    json_object_set_new(g, "validators", vals);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/genesis.json", out);
    int rc = write_json(path, g, err);
    json_decref(g);
    return rc;
}

int node_testnet_main(int argc, char **argv, util_err *err)
{
    static const struct option opts[] = {
        {"validators", required_argument, 0, 'n'},
        {"out", required_argument, 0, 'o'},
        {"rpc-port", required_argument, 0, 'r'},
        {"p2p-port", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    long nval = 0, rpc_port = 18545, p2p_port = 26756;
    const char *out = NULL;
    optind = 1;
    opterr = 0;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        long *num = c == 'n' ? &nval : c == 'r' ? &rpc_port : c == 'p' ? &p2p_port : NULL;
        if (num && ((*num = strtol(optarg, &end, 10)), *end || end == optarg))
            return util_err_set(err, NODE_CFG_USAGE, "testnet: expected a number, got '%s'",
                                optarg);
        switch (c) {
        case 'n':
        case 'r':
        case 'p': break;
        case 'o': out = optarg; break;
        case 'h': testnet_help("openledgerd"); return NODE_CFG_EXIT_OK;
        case ':': return util_err_set(err, NODE_CFG_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, NODE_CFG_USAGE, "testnet: unknown option '%s'",
                                argv[optind - 1]);
        }
    }
    if (nval < 1 || nval > TESTNET_MAX || !out)
        return util_err_set(err, NODE_CFG_USAGE,
                            "testnet: --validators N (1..%d) and --out DIR are needed",
                            TESTNET_MAX);
    if (rpc_port < 1 || rpc_port + nval > 65535 || p2p_port < 1 || p2p_port + nval > 65535)
        return util_err_set(err, NODE_CFG_USAGE, "testnet: ports out of range");
    if (mkdir(out, 0700) != 0)
        return util_err_set(err, UTIL_EEXIST, "testnet: cannot create %s (it must not exist)", out);

    uint8_t pubs[TESTNET_MAX][32];
    char ids[TESTNET_MAX][2 * P2P_NODE_ID_LEN + 1];
    int rc = 0;
    for (long i = 0; i < nval && !rc; i++) {
        char dir[PATH_MAX], path[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s/node%ld", out, i);
        if (mkdir(dir, 0700) != 0) return util_err_set(err, UTIL_EIO, "cannot create %s", dir);
        chain_keypair kp;
        snprintf(path, sizeof path, "%s/%s", dir, NODE_KEY_FILE);
        if ((rc = node_key_create(NULL, path, &kp, err))) break;
        memcpy(pubs[i], kp.pubkey, 32);
        chain_keypair_clear(&kp);
        int created;
        if ((rc = node_keyfile_load_or_create(&node_node_key_kind, NULL, dir, &kp, &created, err)))
            break;
        uint8_t id[P2P_NODE_ID_LEN];
        p2p_node_id(kp.pubkey, id);
        p2p_node_id_hex(id, ids[i]);
        chain_keypair_clear(&kp);
    }
    if (rc || (rc = make_genesis(out, (unsigned)nval, pubs, err))) return rc;

    json_t *nodes = json_array();
    for (long i = 0; i < nval && !rc; i++) {
        char peers[NODE_MAX_PEERS_ARG] = "", addr[64], rpc[64], path[PATH_MAX + 32];
        size_t used = 0;
        for (long k = 0; k < nval; k++) {
            if (k == i) continue;
            int w = snprintf(peers + used, sizeof peers - used, "%s%s@127.0.0.1:%ld",
                             used ? "," : "", ids[k], p2p_port + k);
            if (w > 0 && (size_t)w < sizeof peers - used) used += (size_t)w;
        }
        snprintf(addr, sizeof addr, "127.0.0.1:%ld", p2p_port + i);
        snprintf(rpc, sizeof rpc, "127.0.0.1:%ld", rpc_port + i);
        json_t *cfg = json_pack("{s:s,s:s,s:s,s:s}", "genesis", "../genesis.json", "rpc", rpc,
                                "p2p", addr, "peers", peers);
        snprintf(path, sizeof path, "%s/node%ld/config.json", out, i);
        rc = write_json(path, cfg, err);
        json_decref(cfg);
        char url[80];
        snprintf(url, sizeof url, "http://%s", rpc);
        json_array_append_new(nodes, json_pack("{s:s,s:s,s:s,s:s}", "name",
                                               (snprintf(path, sizeof path, "node%ld", i), path),
                                               "id", ids[i], "rpc", url, "p2p", addr));
    }
    if (!rc) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/nodes.json", out);
        rc = write_json(path, nodes, err);
    }
    json_decref(nodes);
    if (!rc)
        printf("testnet of %ld validators in %s\nstart it: scripts/testnet.sh up %s\n"
               "or one node: openledgerd --datadir %s/node0\n",
               nval, out, out, out);
    return rc;
}

/* ---- DIR/config.json ---- */

static int add_arg(char ***av, int *ac, const char *s)
{
    char **n = realloc(*av, (size_t)(*ac + 2) * sizeof *n);
    if (!n) return -1;
    *av = n;
    if (!(n[*ac] = strdup(s))) return -1;
    n[++*ac] = NULL;
    return 0;
}

int node_cfg_file_args(int argc, char **argv, int *out_argc, char ***out_argv, util_err *err)
{
    *out_argc = 0;
    *out_argv = NULL;
    const char *datadir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--datadir") == 0 && i + 1 < argc) datadir = argv[i + 1];
        if (strncmp(argv[i], "--datadir=", 10) == 0) datadir = argv[i] + 10;
    }
    if (!datadir) return 0;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", datadir);
    if (access(path, F_OK) != 0) return 0;
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return util_err_set(err, NODE_CFG_USAGE, "%s: %s", path, j ? "not an object" : je.text);
    }
    /* The file's settings as flags before the command line's, so these
     * override them and one parser checks both. */
    static const char *keys[] = {"genesis", "rpc", "p2p", "peers", "logLevel", "blockTime"};
    static const char *flags[] = {"--genesis", "--rpc",       "--p2p",
                                  "--peers",   "--log-level", "--block-time"};
    int rc = add_arg(out_argv, out_argc, argv[0]);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i], k) != 0)
            i++;
        if (i == sizeof keys / sizeof keys[0]) {
            rc = util_err_set(err, NODE_CFG_USAGE, "%s: unknown setting \"%s\"", path, k);
            break;
        }
        char val[NODE_MAX_PEERS_ARG + PATH_MAX];
        if (json_is_string(v))
            snprintf(val, sizeof val, "%s", json_string_value(v));
        else if (json_is_integer(v))
            snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
        else {
            rc = util_err_set(err, NODE_CFG_USAGE, "%s: \"%s\" must be a string", path, k);
            break;
        }
        if (i == 3 && !val[0]) continue; /* no peers */
        if (i == 0 && val[0] != '/') {
            /* relative to the data directory */
            char tmp[sizeof val];
            snprintf(tmp, sizeof tmp, "%s/%s", datadir, val);
            snprintf(val, sizeof val, "%s", tmp);
        }
        if ((rc = add_arg(out_argv, out_argc, flags[i]) || add_arg(out_argv, out_argc, val))) {
            rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
            break;
        }
    }
    json_decref(j);
    for (int i = 1; !rc && i < argc; i++)
        if (add_arg(out_argv, out_argc, argv[i]))
            rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (rc) {
        node_cfg_file_args_free(*out_argc, *out_argv);
        *out_argc = 0;
        *out_argv = NULL;
    }
    return rc;
}

void node_cfg_file_args_free(int argc, char **argv)
{
    for (int i = 0; argv && i < argc; i++)
        free(argv[i]);
    free(argv);
}
