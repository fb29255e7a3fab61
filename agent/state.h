/* The agent's state directory (root-only, 0700): the generated agent id and the mTLS key and
 * certificate. In the initrd it lives on /run's tmpfs. Nothing secret is ever logged. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "agent/config.h"

/* Creates the state directory (0700) if missing. */
int state_dir_ensure(const struct agent_config *config);
/* `name` inside the state directory, unless `name` is absolute. */
int state_path(const struct agent_config *config, const char *name, char *out, size_t size);
/* Reads a small text file (at most `size`-1 bytes, trailing newline removed); -ENOENT if absent. */
int state_read_text(const char *path, char *out, size_t size);
/* Writes `data` to `path` atomically (temp file + rename) with `mode`. */
int state_write_file(const char *path, const void *data, size_t size, unsigned mode);
/* The same, the file given to `owner` before any byte is written ((uid_t)-1: the caller's). */
int state_write_file_owned(const char *path, const void *data, size_t size, unsigned mode, uid_t owner);
