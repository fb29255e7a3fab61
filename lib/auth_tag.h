/* Keylime's auth_tag: hex HMAC-SHA384(key, agent id). The registrar's activation proof uses
 * key = base64 of the activated credential (docs/protocol.md §1); the payload release uses key = K
 * (§3). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_TAG_HEX_SIZE 97 /* 96 hex digits and a NUL */
#define AUTH_TAG_DIGEST_HEX_SIZE 65 /* hex SHA-256 and a NUL */

int auth_tag_compute(const void *key, size_t key_size, const char *agent_id, char out[AUTH_TAG_HEX_SIZE]);
/* Constant-time comparison of a received tag with the expected one (case-insensitive hex). */
bool auth_tag_equal(const char *expected, const char *received);
/* The hex SHA-256 of a tag (lower-cased first): what the registrar keeps of the tag it expects,
 * so that its database never holds a tag that would answer an open challenge. */
int auth_tag_digest(const char *tag, char out[AUTH_TAG_DIGEST_HEX_SIZE]);
/* Constant-time: whether `received` (case-insensitive hex) is the tag `expected_digest` was
 * made from. */
bool auth_tag_digest_equal(const char *expected_digest, const char *received);
