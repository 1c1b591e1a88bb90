/* openledger-cli: everything lives in the cli library (cli/app.c) so the
 * unit tests can run commands in-process. */
#include <stdio.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv, stdout, stderr);
}
