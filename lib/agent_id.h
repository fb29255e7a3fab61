/* Agent ids (docs/protocol.md §1): a UUID or Keylime's hash_ek. Both ends check them: the id
 * becomes part of URL paths and database keys. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define AGENT_ID_MAX 80

/* 1-80 characters of [A-Za-z0-9._-]. */
bool agent_id_valid(const char *id);
/* A URL path's "/agents/:id" prefix: the id (valid, shorter than `size`) copied into `id`;
 * returns what follows it in `path`, or NULL when the path does not start so. */
const char *agent_id_path_take(const char *path, char *id, size_t size);
/* Whether `id` has the form of a hash_ek (docs/protocol.md §1): 64 lower-case hex digits. The
 * registrar takes such an id only from the TPM whose EK it is the hash of. */
bool agent_id_is_hash_ek_form(const char *id);
/* A random (version 4) UUID; out holds 37 bytes. */
int agent_id_generate(char out[37]);
