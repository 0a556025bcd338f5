/* lcctl's side of container logs, for the commands that make and delete
 * containers (create, run -d, delete) and for main() (the logger mode). */
#ifndef LC_CMD_LOGS_H
#define LC_CMD_LOGS_H

#include <stddef.h>

#include "client.h"

/* The logger the shim starts through lcctl's binary:// URI; an exit code. */
int cmd_logger_main(int argc, char **argv);

/* For delete: the lcctl-owned log of each ID (NULL where none), looked up
 * before the records go; free with cmd_logs_owned_free. */
char **cmd_logs_owned(lc_client *c, char *const *ids, size_t n);
/* Removes an owned log: PATH, its index and its rotated generation. */
void cmd_logs_remove(const char *path);
void cmd_logs_owned_free(char **paths, size_t n);

#endif
