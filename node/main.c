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
    if (argc > 1 && (strcmp(argv[1], "init") == 0 || strcmp(argv[1], "node-id") == 0)) {
        int rc = strcmp(argv[1], "init") == 0 ? node_init_main(argc - 1, argv + 1, &err)
                                              : node_node_id_main(argc - 1, argv + 1, &err);
        if (rc == NODE_CFG_EXIT_OK || rc == 0) return 0;
        fprintf(stderr, "openledgerd: %s\n", err.msg);
        return rc == NODE_CFG_USAGE ? 2 : 1;
    }
    int rc = node_cfg_parse(&cfg, argc, argv, &err);
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
