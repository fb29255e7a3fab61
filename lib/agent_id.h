/* Agent ids (docs/protocol.md §1): a UUID or Keylime's hash_ek. Both ends check them: the id
 * becomes part of URL paths and database keys. */
#pragma once

#include <stdbool.h>

#define AGENT_ID_MAX 80

/* 1-80 characters of [A-Za-z0-9._-]. */
bool agent_id_valid(const char *id);
/* Whether `id` has the form of a hash_ek (docs/protocol.md §1): 64 lower-case hex digits. The
 * registrar takes such an id only from the TPM whose EK it is the hash of. */
bool agent_id_is_hash_ek_form(const char *id);
/* A random (version 4) UUID; out holds 37 bytes. */
int agent_id_generate(char out[37]);
