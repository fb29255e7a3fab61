/* The subcommands of vmattest-policy; the table is in main.c. */
#pragma once

#include <stdio.h>

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1, /* the policy could not be made */
        EXIT_USAGE = 2,  /* bad command line */
};

int cmd_runtime(int argc, char **argv);
int cmd_measured_boot(int argc, char **argv);

/* Writes what `write` produces to `path` through a temporary file renamed over it, so that a
 * failed run leaves no half-written policy (stdout when `path` is NULL or "-"; a path that
 * exists and is no regular file, /dev/null or a FIFO, is written as it is). */
int output_write(const char *path, int (*write)(FILE *out, const void *data), const void *data);
