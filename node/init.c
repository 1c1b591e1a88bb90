/* `openledgerd init`: creates a data directory's validator key, and with
 * --genesis binds the directory to that genesis by writing block 0.
 * `openledgerd node-id`: prints (creating if needed) the node key's id. */
#include <errno.h>
#include <openssl/crypto.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/types/genesis.h"
#include "chain/crypto/hash.h"
#include "chain/state/store.h"
#include "node/node.h"
#include "node/rollup.h"
#include "node/validator_key.h"
#include "p2p/session.h"
#include "util/hex.h"

static void init_help(const char *argv0)
{
    printf("Usage: %s init --datadir DIR [--genesis FILE]\n"
           "\n"
           "Creates a validator key in DIR/" NODE_KEY_FILE " (mode 0600; an existing key is\n"
           "never replaced) and prints its public key and address, to be listed in the\n"
           "genesis validators. With --genesis, also writes block 0 of FILE into DIR, so the\n"
           "directory can only be started with that genesis. Start the node with\n"
           "  %s --datadir DIR --genesis FILE\n",
           argv0, argv0);
}

/* Opens DIR/chain and writes block 0 (or checks an existing one); prints
 * whether the new key is one of the genesis validators. */
static int bind_genesis(const char *datadir, const char *gpath, const chain_keypair *kp,
                        util_err *err)
{
    chain_genesis g;
    memset(&g, 0, sizeof g);
    int rc = chain_genesis_load_file(&g, gpath, err);
    if (rc) return util_err_prefix(err, "genesis: ");
    char dbdir[PATH_MAX + 8];
    snprintf(dbdir, sizeof dbdir, "%s/chain", datadir);
    chain_store *st = NULL;
    if (!(rc = chain_store_open(&st, dbdir, err))) rc = chain_store_init_genesis(st, &g, err);
    chain_store_close(st);
    if (!rc) {
        char gh[65];
        util_hex_encode(gh, g.hash, 32);
        size_t i = 0;
        while (i < g.nval && memcmp(g.vals[i].pubkey, kp->pubkey, 32) != 0)
            i++;
        printf("genesis:     0x%s (chain id %s)\n", gh, g.chain_id);
        if (i < g.nval)
            printf("validator:   yes, %s with power %llu\n", g.vals[i].name,
                   (unsigned long long)g.vals[i].power);
        else
            printf("validator:   no (add the public key to the genesis validators, or this node "
                   "runs read-only)\n");
    }
    chain_genesis_free(&g);
    return rc;
}

int node_init_main(int argc, char **argv, util_err *err)
{
    static const struct option opts[] = {
        {"datadir", required_argument, 0, 'd'},
        {"genesis", required_argument, 0, 'g'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *datadir = NULL, *gpath = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': datadir = optarg; break;
        case 'g': gpath = optarg; break;
        case 'h': init_help("openledgerd"); return NODE_CFG_EXIT_OK;
        case ':': return util_err_set(err, NODE_CFG_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, NODE_CFG_USAGE, "init: unknown option '%s' (see init --help)",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        return util_err_set(err, NODE_CFG_USAGE, "init: unexpected argument '%s'", argv[optind]);
    if (!datadir || !*datadir)
        return util_err_set(err, NODE_CFG_USAGE, "init: --datadir DIR is required");
    if (strlen(datadir) >= PATH_MAX)
        return util_err_set(err, NODE_CFG_USAGE, "--datadir: path too long");
    if (mkdir(datadir, 0700) && errno != EEXIST)
        return util_err_set(err, UTIL_EIO, "cannot create data directory %s: %s", datadir,
                            strerror(errno));
    chain_hash_init();
    char path[PATH_MAX + 32];
    chain_keypair kp;
    int rc = node_key_path(path, sizeof path, datadir, err);
    if (!rc) rc = node_key_create(NULL, path, &kp, err);
    if (rc) return rc;
    char pk[65], addr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr a;
    chain_addr_from_pubkey(&a, kp.pubkey);
    chain_addr_encode(addr, &a);
    util_hex_encode(pk, kp.pubkey, 32);
    printf("key file:    %s (mode 0600; keep it secret, back it up)\n"
           "public key:  0x%s\n"
           "address:     %s\n",
           path, pk, addr);
    /* The L1 account (docs/rollup.md, "Operating"): created beside the
     * validator key so the operator can fund it before the first start. */
    uint8_t l1sk[32];
    rollup_eth_addr l1a;
    int l1new;
    rc = node_l1_key_load_or_create(NULL, datadir, l1sk, &l1a, &l1new, err);
    OPENSSL_cleanse(l1sk, sizeof l1sk);
    if (!rc) {
        char l1hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
        rollup_eth_addr_hex(l1hex, &l1a);
        printf("L1 address:  %s (%s/" NODE_L1_KEY_FILE ", mode 0600; fund it to post to the L1)\n",
               l1hex, datadir);
    }
    if (!rc && gpath) rc = bind_genesis(datadir, gpath, &kp, err);
    chain_keypair_clear(&kp);
    fflush(stdout);
    return rc;
}

int node_node_id_main(int argc, char **argv, util_err *err)
{
    static const struct option opts[] = {
        {"datadir", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *datadir = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': datadir = optarg; break;
        case 'h':
            printf("Usage: openledgerd node-id --datadir DIR\n\n"
                   "Prints the node id (40 hex digits) of DIR/" NODE_NODE_KEY_FILE
                   ", the key that\nauthenticates this node to its peers; creates the key (mode "
                   "0600) when absent.\nPeers name this node ID@HOST:PORT in --peers.\n");
            return NODE_CFG_EXIT_OK;
        case ':': return util_err_set(err, NODE_CFG_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, NODE_CFG_USAGE,
                                "node-id: unknown option '%s' (see node-id --help)",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        return util_err_set(err, NODE_CFG_USAGE, "node-id: unexpected argument '%s'", argv[optind]);
    if (!datadir || !*datadir)
        return util_err_set(err, NODE_CFG_USAGE, "node-id: --datadir DIR is required");
    if (strlen(datadir) >= PATH_MAX)
        return util_err_set(err, NODE_CFG_USAGE, "--datadir: path too long");
    if (mkdir(datadir, 0700) && errno != EEXIST)
        return util_err_set(err, UTIL_EIO, "cannot create data directory %s: %s", datadir,
                            strerror(errno));
    chain_hash_init();
    chain_keypair kp;
    int created;
    int rc = node_keyfile_load_or_create(&node_node_key_kind, NULL, datadir, &kp, &created, err);
    if (rc) return rc;
    uint8_t id[P2P_NODE_ID_LEN];
    char hex[2 * P2P_NODE_ID_LEN + 1];
    p2p_node_id(kp.pubkey, id);
    p2p_node_id_hex(id, hex);
    chain_keypair_clear(&kp);
    printf("%s\n", hex);
    if (created) fprintf(stderr, "created %s/%s (mode 0600)\n", datadir, NODE_NODE_KEY_FILE);
    fflush(stdout);
    return 0;
}
