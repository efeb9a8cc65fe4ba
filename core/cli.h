/* cli.h - the ferry command line: parsing and dispatch of subcommands. */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

/* Run the ferry command with argv; returns the process exit code (enum ferry_exit). */
int ferry_cli_main(int argc, char **argv);

#endif /* FERRY_CLI_H */
