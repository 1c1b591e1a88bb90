/* openledgerd: the OpenLedger node. */
#include <signal.h>
#include <stdio.h>

#include "node/node.h"

int main(int argc, char **argv)
{
    node_cfg cfg;
    util_err err = {0};
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
