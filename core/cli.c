/* cli.c - placeholder dispatch, replaced as the subcommands land. */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

#include <ferry/version.h>

int ferry_cli_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("ferry %s\n", FERRY_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: ferry --version\n");
    return 2;
}
