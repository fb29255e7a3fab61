/* Typed, bounded access to members of JSON objects that came from the network: a member that
 * is missing, of another type or too long is an error naming it, never a NULL dereference. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* -EBADMSG when missing (unless `optional`), not a string, or longer than `max` bytes.
 * *value is NULL for an optional member that is absent or null. */
int json_member_string(json_object *obj, const char *name, size_t max, bool optional, const char **value);

/* A whole text that must be exactly one JSON value (whitespace around it), nested at most
 * `depth` deep: -EBADMSG with a detail starting with `what` ("platform policy: not JSON: ...
 * at offset N", "... ends early", "... unexpected data after the JSON value at offset N"). */
int json_parse_document(const char *what, const char *text, size_t size, int depth, json_object **out);
