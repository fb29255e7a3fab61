/* Reading a whole file that must stay small (a policy, a log to serve, data to hash): bounded,
 * NUL-terminated, with an error that names the file. */
#pragma once

#include <stddef.h>

/* *data: malloc'ed, `*size` bytes plus a NUL. -ENOENT (no detail) when the file does not exist;
 * -EFBIG when it holds more than `max` bytes. */
int file_read_all(const char *path, size_t max, char **data, size_t *size);
