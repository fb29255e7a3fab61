/* The enrolment token of `vmattest register --enrol-token-stdin` (a vmattest extension of
 * Keylime's registration, docs/protocol.md §1): the tenant's group token, which enrols the agent
 * without a human once its credential is activated. A secret: read from stdin only (never
 * argv, the environment or a file), held in the secure heap, wiped, never logged. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/secret.h"

#define ENROL_TOKEN_MIN 16
#define ENROL_TOKEN_MAX 256

/* The token's rule: ENROL_TOKEN_MIN..ENROL_TOKEN_MAX printable ASCII characters (0x20-0x7e).
 * -EINVAL with a detail naming the rule (and the position, never the character). */
int enrol_token_check(const uint8_t *token, size_t size);

/* One line from `fd` (the newline ending it, if any, stripped), checked as above, as a secret.
 * -EINVAL for a token that breaks the rule, more than one line or nothing at all. */
int enrol_token_read(int fd, struct secret **token);
