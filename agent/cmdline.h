/* The initrd's kernel command line options (rd.vmattest.*): which registrar `unlock` reports
 * to, where the verifier reaches it and which LUKS volumes it unlocks, over agent.conf. Words
 * are split and quoted as the kernel's next_arg() does; an unknown rd.vmattest. word or a bad
 * value is an error, so that a typo never falls back to agent.conf's values unnoticed. */
#pragma once

#include <stddef.h>

#include "agent/config.h"

#define CMDLINE_PATH "/proc/cmdline"
#define CMDLINE_MAX 4096 /* longer: refused */

/* Applies the rd.vmattest.* options found in `text` (a kernel command line, `len` bytes, not
 * necessarily NUL-terminated) to `config`. Other words are ignored. On error (-EINVAL, -E2BIG
 * with a detail "kernel command line: ...") `config` is left as it was. */
int cmdline_apply(const char *text, size_t len, struct agent_config *config);
/* The same for a file (the kernel's /proc/cmdline); a missing file is not an error (returns 0). */
int cmdline_apply_file(const char *path, struct agent_config *config);
