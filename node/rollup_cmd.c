/* The rollup's commands: `openledgerd l1-address` (the node's L1 account),
 * `openledgerd rollup-deploy` (the L1 contracts, rollup.json) and
 * `openledgerd l1-inbox` (the L2 heights the inbox holds) (node/rollup.h,
 * docs/rollup.md "Operating"). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "chain/types/genesis.h"
#include "node/rollup.h"
#include "rollup/bridge_abi.h"
#include "rollup/config.h"
#include "rollup/deploy.h"
#include "rollup/inbox.h"
#include "rollup/l1/client.h"
#include "rollup/l1/txmgr.h"
#include "util/hex.h"

static int parse_num(const char *flag, const char *s, uint64_t max, uint64_t *out, util_err *err)
{
    char *end;
    errno = 0;
    unsigned long long v = s[0] == '-' ? 0 : strtoull(s, &end, 10);
    if (s[0] == '-' || !s[0] || errno || *end || v > max)
        return util_err_set(err, NODE_CFG_USAGE, "%s: expected a number up to %llu, got '%s'", flag,
                            (unsigned long long)max, s);
    *out = v;
    return 0;
}

static int make_datadir(const char *d, util_err *err)
{
    if (!d || !*d) return util_err_set(err, NODE_CFG_USAGE, "--datadir DIR is required");
    if (strlen(d) >= PATH_MAX) return util_err_set(err, NODE_CFG_USAGE, "--datadir: too long");
    if (mkdir(d, 0700) && errno != EEXIST)
        return util_err_set(err, UTIL_EIO, "cannot create data directory %s: %s", d,
                            strerror(errno));
    return 0;
}

int node_l1_address_main(int argc, char **argv, util_err *err)
{
    static const struct option opts[] = {
        {"datadir", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *datadir = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': datadir = optarg; break;
        case 'h':
            printf("Usage: openledgerd l1-address --datadir DIR\n\n"
                   "Prints the Ethereum address of DIR/" NODE_L1_KEY_FILE
                   ", the account the node\nsends its L1 transactions from (batches, outputs, "
                   "the deployment); creates\nthe key (mode 0600) when absent. Fund this "
                   "address on the L1.\n");
            return NODE_CFG_EXIT_OK;
        case ':': return util_err_set(err, NODE_CFG_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, NODE_CFG_USAGE, "l1-address: unknown option '%s'",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        return util_err_set(err, NODE_CFG_USAGE, "l1-address: unexpected argument '%s'",
                            argv[optind]);
    int rc = make_datadir(datadir, err);
    if (rc) return rc;
    chain_hash_init();
    uint8_t sk[32];
    rollup_eth_addr a;
    int created;
    if ((rc = node_l1_key_load_or_create(NULL, datadir, sk, &a, &created, err))) return rc;
    OPENSSL_cleanse(sk, sizeof sk);
    char hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(hex, &a);
    printf("%s\n", hex);
    if (created) fprintf(stderr, "created %s/%s (mode 0600)\n", datadir, NODE_L1_KEY_FILE);
    fflush(stdout);
    return 0;
}

/* What --dev-fund gives each development key on the L1. */
#define DEV_FUND_OPEN 1000000000000000ull      /* 1,000,000 OPEN, 9 decimals */
#define DEV_FUND_WEI_HEX "0x56bc75e2d63100000" /* 100 ether */
#define DEV_FUND_KEYS 10

/* Mints DEV_FUND_OPEN to the Ethereum address of each of dev0..dev9 (the
 * even-y normalisation of node/rollup.h: the address follows from the x-only
 * public key) from the token's minter, the deploying account, and gives each
 * 100 ether. An L1 that refuses anvil_setBalance (not anvil) is only warned
 * about: the tokens are minted anyway. */
static int dev_fund_accounts(const char *url, const uint8_t sk[32], const rollup_config *cfg,
                             util_err *err)
{
    rollup_txmgr_opts txo;
    memset(&txo, 0, sizeof txo);
    txo.chain_id = cfg->l1_chain_id;
    /* Devnets only, whose L1 mines at once or every second: ten mints
     * waited for at the default 500 ms took 5 s of every test's start. */
    txo.poll_ms = 100;
    util_buf cd;
    util_buf_init(&cd);
    int rc = 0, warned = 0;
    for (uint32_t i = 0; i < DEV_FUND_KEYS && !rc; i++) {
        chain_keypair kp;
        rollup_eth_addr a;
        if (chain_keypair_dev(&kp, i)) {
            rc = util_err_set(err, UTIL_ECRYPTO, "dev-fund: cannot derive dev%u", (unsigned)i);
            break;
        }
        rc = rollup_eth_addr_from_xonly(&a, kp.pubkey, err);
        chain_keypair_clear(&kp);
        if (rc) break;
        util_buf_reset(&cd);
        rollup_l1_receipt r;
        if ((rc = rollup_token_mint_calldata(&cd, &a, DEV_FUND_OPEN))) {
            util_err_set(err, rc, "dev-fund: out of memory");
            break;
        }
        rc = rollup_txmgr_send_sync(url, sk, &txo, &cfg->token, cd.data, cd.len, 0, &r, err);
        if (rc) {
            util_err_prefix(err, "dev-fund: mint to dev%u: ", (unsigned)i);
            break;
        }
        char hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
        rollup_eth_addr_hex(hex, &a);
        json_t *params = json_pack("[ss]", hex, DEV_FUND_WEI_HEX), *res = NULL;
        util_err e = {0};
        int brc =
            params ? rollup_l1_call_sync(url, "anvil_setBalance", params, &res, &e) : UTIL_ENOMEM;
        json_decref(params);
        json_decref(res);
        if (brc && !warned) {
            fprintf(stderr,
                    "warning: dev-fund: the L1 refused anvil_setBalance (%s); "
                    "the development accounts get OPEN but no ether\n",
                    e.msg[0] ? e.msg : "out of memory");
            warned = 1;
        }
        printf("dev%u: %s: 1000000 OPEN%s\n", (unsigned)i, hex, brc ? "" : ", 100 ether");
    }
    util_buf_free(&cd);
    return rc;
}

static void deploy_help(void)
{
    printf("Usage: openledgerd rollup-deploy --l1 URL --datadir DIR --out FILE [options]\n"
           "\n"
           "Deploys BatchInbox, OutputOracle, OpenToken and Bridge on the L1 at URL from\n"
           "the account of\n"
           "DIR/" NODE_L1_KEY_FILE " (created when absent; see l1-address) and writes the\n"
           "rollup config FILE for --rollup-config. The account must hold L1 ether.\n"
           "\n"
           "  --genesis FILE               the L2 genesis (default: the embedded devnet one)\n"
           "  --batcher ADDR               the only address BatchInbox accepts (default: the\n"
           "                               DIR account, so the node started on DIR posts)\n"
           "  --finalization-period S      seconds before an output is final (default 3600)\n"
           "  --confirmations N            L1 depth before data counts as safe (default 2)\n"
           "  --channel-timeout N          L1 blocks an incomplete channel waits (default 50)\n"
           "  --deposit-confirmations N    L1 depth a bridge deposit needs before it is\n"
           "                               minted on the L2 (default: --confirmations)\n"
           "  --dev-fund                   mint 1,000,000 OPEN on the L1 token to the Ethereum\n"
           "                               address of each development key dev0..dev9 and\n"
           "                               give each 100 ether (anvil_setBalance); devnets only\n");
}

int node_rollup_deploy_main(int argc, char **argv, util_err *err)
{
    static const struct option opts[] = {
        {"l1", required_argument, 0, 'l'},
        {"datadir", required_argument, 0, 'd'},
        {"genesis", required_argument, 0, 'g'},
        {"out", required_argument, 0, 'o'},
        {"batcher", required_argument, 0, 'b'},
        {"finalization-period", required_argument, 0, 'f'},
        {"confirmations", required_argument, 0, 'c'},
        {"channel-timeout", required_argument, 0, 't'},
        {"deposit-confirmations", required_argument, 0, 'D'},
        {"dev-fund", no_argument, 0, 'F'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *url = NULL, *datadir = NULL, *gpath = NULL, *out = NULL, *batcher = NULL;
    uint64_t fin = 3600, conf = 2, timeout = 50, depconf = UINT64_MAX;
    int dev_fund = 0;
    optind = 1;
    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': url = optarg; break;
        case 'd': datadir = optarg; break;
        case 'g': gpath = optarg; break;
        case 'o': out = optarg; break;
        case 'b': batcher = optarg; break;
        case 'f':
            if ((rc = parse_num("--finalization-period", optarg, 315360000, &fin, err))) return rc;
            break;
        case 'c':
            if ((rc = parse_num("--confirmations", optarg, 1000, &conf, err))) return rc;
            break;
        case 't':
            if ((rc = parse_num("--channel-timeout", optarg, 100000, &timeout, err))) return rc;
            break;
        case 'D':
            if ((rc = parse_num("--deposit-confirmations", optarg, 1000000, &depconf, err)))
                return rc;
            break;
        case 'F': dev_fund = 1; break;
        case 'h': deploy_help(); return NODE_CFG_EXIT_OK;
        case ':': return util_err_set(err, NODE_CFG_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, NODE_CFG_USAGE,
                                "rollup-deploy: unknown option '%s' (see rollup-deploy --help)",
                                argv[optind - 1]);
        }
    }
    if (optind < argc)
        return util_err_set(err, NODE_CFG_USAGE, "rollup-deploy: unexpected argument '%s'",
                            argv[optind]);
    if (!url || !out)
        return util_err_set(err, NODE_CFG_USAGE,
                            "rollup-deploy: --l1 URL and --out FILE are "
                            "required");
    if ((rc = make_datadir(datadir, err))) return rc;
    chain_hash_init();
    chain_genesis g;
    memset(&g, 0, sizeof g);
    if (gpath)
        rc = chain_genesis_load_file(&g, gpath, err);
    else {
        const char *js = chain_genesis_devnet_json();
        rc = chain_genesis_parse(&g, js, strlen(js), err);
    }
    if (rc) {
        chain_genesis_free(&g);
        return util_err_prefix(err, "genesis: "), rc;
    }
    uint8_t sk[32];
    rollup_eth_addr me, b;
    int created;
    rc = node_l1_key_load_or_create(NULL, datadir, sk, &me, &created, err);
    b = me;
    if (!rc && batcher) rc = rollup_eth_addr_parse(&b, batcher, err);
    rollup_config cfg;
    rollup_deploy_opts o = {.finalization_period_s = fin,
                            .confirmations = (uint32_t)conf,
                            .channel_timeout_blocks = (uint32_t)timeout,
                            .deposit_confirmations =
                                (uint32_t)(depconf == UINT64_MAX ? conf : depconf)};
    if (!rc) rc = rollup_deploy(url, sk, &g, &b, &o, &cfg, err);
    if (!rc && dev_fund) rc = dev_fund_accounts(url, sk, &cfg, err);
    OPENSSL_cleanse(sk, sizeof sk);
    chain_genesis_free(&g);
    if (!rc) rc = rollup_config_save(&cfg, out, err);
    if (rc) return rc;
    char ib[ROLLUP_ETH_ADDR_HEX_LEN + 1], oo[ROLLUP_ETH_ADDR_HEX_LEN + 1],
        ba[ROLLUP_ETH_ADDR_HEX_LEN + 1], tk[ROLLUP_ETH_ADDR_HEX_LEN + 1],
        br[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(ib, &cfg.batch_inbox);
    rollup_eth_addr_hex(oo, &cfg.output_oracle);
    rollup_eth_addr_hex(ba, &cfg.batcher);
    rollup_eth_addr_hex(tk, &cfg.token);
    rollup_eth_addr_hex(br, &cfg.bridge);
    printf("BatchInbox:   %s\nOutputOracle: %s\nOpenToken:    %s\nBridge:       %s\n"
           "batcher:      %s\ndeploy block: %llu\n"
           "wrote %s; start the node with --l1 %s --rollup-config %s\n",
           ib, oo, tk, br, ba, (unsigned long long)cfg.deploy_block, out, url, out);
    fflush(stdout);
    return 0;
}

int node_l1_inbox_main(int argc, char **argv, util_err *err)
{
    static const struct option opts[] = {{"l1", required_argument, 0, 'l'},
                                         {"l1-beacon", required_argument, 0, 'b'},
                                         {"rollup-config", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *url = NULL, *cpath = NULL, *beacon = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': url = optarg; break;
        case 'b': beacon = optarg; break;
        case 'r': cpath = optarg; break;
        case 'h':
            printf("Usage: openledgerd l1-inbox --l1 URL [--l1-beacon URL] --rollup-config FILE\n\n"
                   "Scans the BatchInbox as the batcher does (calldata and blob posts, the blobs\n"
                   "read from the beacon API at --l1-beacon, default the --l1 URL) and prints,\n"
                   "in L1 order, one line per decoded batch:\n"
                   "  batch FIRST LAST L1BLOCK L1TX FRAMES\n"
                   "then 'next N': the first L2 height the L1 lacks (batches taken in L1\n"
                   "order, a batch starting past the next height ignored, as derivation does).\n");
            return NODE_CFG_EXIT_OK;
        case ':': return util_err_set(err, NODE_CFG_USAGE, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, NODE_CFG_USAGE, "l1-inbox: unknown option '%s'",
                                argv[optind - 1]);
        }
    }
    if (!url || !cpath || optind < argc)
        return util_err_set(err, NODE_CFG_USAGE,
                            "usage: openledgerd l1-inbox --l1 URL [--l1-beacon URL] "
                            "--rollup-config FILE");
    chain_hash_init();
    rollup_config cfg;
    int rc = rollup_config_load(&cfg, cpath, err);
    if (rc) return rc;
    rollup_inbox_batch *b = NULL;
    size_t n = 0;
    uint64_t head = 0;
    if ((rc = rollup_inbox_scan_sync(url, beacon ? beacon : url, &cfg, &b, &n, &head, err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        char tx[65];
        util_hex_encode(tx, b[i].tx_hash, 32);
        printf("batch %llu %llu %llu 0x%s %u\n", (unsigned long long)b[i].first,
               (unsigned long long)b[i].last, (unsigned long long)b[i].l1_block, tx, b[i].frames);
    }
    printf("next %llu\nl1head %llu\n", (unsigned long long)rollup_inbox_next(b, n, NULL),
           (unsigned long long)head);
    free(b);
    fflush(stdout);
    return 0;
}
