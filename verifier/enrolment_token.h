/* Enrolment tokens (vmattest extension, docs/protocol.md): the secret an agent presents at
 * registration to be enrolled in a group without the tenant. Their form, their hash (all the
 * verifier stores of one), and the token file of the group commands. A token is a secret: it is
 * kept in the secure heap, wiped once hashed, and never logged (its hash's first characters
 * name it). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define ENROLMENT_TOKEN_MIN 16
#define ENROLMENT_TOKEN_MAX 256
#define ENROLMENT_TOKEN_SHA256_HEX 65 /* hex digits and a NUL */
#define ENROLMENT_TOKEN_GENERATED 43  /* 32 random bytes, base64url without padding */

/* Whether `token` (`size` bytes) has a token's form: 16-256 printable ASCII characters. */
bool enrolment_token_form_ok(const char *token, size_t size);
/* The lower-case hex SHA-256 of the token's bytes. */
int enrolment_token_hash(const char *token, size_t size, char out[ENROLMENT_TOKEN_SHA256_HEX]);
/* The token file of the group commands, hashed: when `path` does not exist, a new token is
 * generated and written to it (mode 0600, created exclusively; *created true); when it exists,
 * it must be the owner's only and hold one token (a trailing newline is ignored). */
int enrolment_token_file(const char *path, char out[ENROLMENT_TOKEN_SHA256_HEX], bool *created);
