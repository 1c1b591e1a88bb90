/* openledgerd: the OpenLedger node. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "node/rollup.h"

int main(int argc, char **argv)
{
    if (argc > 1 &&
        (strcmp(argv[1], "export-blocks") == 0 || strcmp(argv[1], "import-blocks") == 0))
        return node_blockio_main(argv[1], argc - 1, argv + 1);
    node_cfg cfg;
    util_err err = {0};
    static const struct {
        const char *name;
        int (*fn)(int, char **, util_err *);
    } cmds[] = {{"init", node_init_main},
                {"node-id", node_node_id_main},
                {"testnet", node_testnet_main},
                {"l1-address", node_l1_address_main},
                {"rollup-deploy", node_rollup_deploy_main},
                {"l1-inbox", node_l1_inbox_main}};
    size_t ci = 0;
    while (argc > 1 && ci < sizeof cmds / sizeof cmds[0] && strcmp(argv[1], cmds[ci].name) != 0)
        ci++;
    if (argc > 1 && ci < sizeof cmds / sizeof cmds[0]) {
        int rc = cmds[ci].fn(argc - 1, argv + 1, &err);
        if (rc == NODE_CFG_EXIT_OK || rc == 0) return 0;
        fprintf(stderr, "openledgerd: %s\n", err.msg);
        return rc == NODE_CFG_USAGE ? 2 : 1;
    }
    /* DIR/config.json (openledgerd testnet writes one) under the flags. */
    int fargc;
    char **fargv;
    if (node_cfg_file_args(argc, argv, &fargc, &fargv, &err)) {
        fprintf(stderr, "openledgerd: %s\n", err.msg);
        return 2;
    }
    int rc =
        fargv ? node_cfg_parse(&cfg, fargc, fargv, &err) : node_cfg_parse(&cfg, argc, argv, &err);
    node_cfg_file_args_free(fargc, fargv);
    if (rc == NODE_CFG_EXIT_OK) return 0;
    if (rc) {
        fprintf(stderr, "openledgerd: %s\n", err.msg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    node *n;
    if (node_start(&n, &cfg, &err)) {
        fprintf(stderr, "openledgerd: %s\n", err.msg);
        return 1;
    }
    rc = node_run(n);
    node_free(n);
    return rc;
}
