/* openledgerd: the OpenLedger node. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "node/node.h"

int main(int argc, char **argv)
{
    if (argc > 1 &&
        (strcmp(argv[1], "export-blocks") == 0 || strcmp(argv[1], "import-blocks") == 0))
        return node_blockio_main(argv[1], argc - 1, argv + 1);
    node_cfg cfg;
    util_err err = {0};
    if (argc > 1 && (strcmp(argv[1], "init") == 0 || strcmp(argv[1], "node-id") == 0 ||
                     strcmp(argv[1], "testnet") == 0)) {
        int rc = strcmp(argv[1], "init") == 0      ? node_init_main(argc - 1, argv + 1, &err)
                 : strcmp(argv[1], "testnet") == 0 ? node_testnet_main(argc - 1, argv + 1, &err)
                                                   : node_node_id_main(argc - 1, argv + 1, &err);
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
