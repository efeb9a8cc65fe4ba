/* main.c - the ferry command; everything else lives in cli.c. */
#include "config.h"

#include "cli.h"

int main(int argc, char **argv)
{
    return ferry_cli_main(argc, argv);
}
