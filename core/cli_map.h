/*
 * cli_map.h - `ferry map test`: try a Lua mapping on one record, or run a
 * directory of mapping tests (the .test.json files of a directory).
 *
 * The command itself is ferry_cmd_map() (declared in cli.h with the other
 * command groups); this header adds the same entry with its output streams
 * as parameters, for tests.
 */
#ifndef FERRY_CLI_MAP_H
#define FERRY_CLI_MAP_H

#include <stdio.h>

#include "cli.h"

/*
 * Run `ferry map ...` with argv[0] == "map", printing results to `out` and
 * messages to `err`.  Returns the exit code: FERRY_EXIT_OK when the record
 * mapped or was skipped (or every test passed), FERRY_EXIT_FAILURE when the
 * record failed (or a test failed), FERRY_EXIT_CONFIG when the script did
 * not load, FERRY_EXIT_USAGE for bad arguments or unreadable input files.
 */
int ferry_cli_map_run(ferry_cli *cli, int argc, char **argv, FILE *out, FILE *err);

#endif /* FERRY_CLI_MAP_H */
