/* Typed, bounded access to members of JSON objects that came from the network: a member that
 * is missing, of another type or too long is an error naming it, never a NULL dereference. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* -EBADMSG when missing (unless `optional`), not a string, or longer than `max` bytes.
 * *value is NULL for an optional member that is absent or null. */
int json_member_string(json_object *obj, const char *name, size_t max, bool optional, const char **value);
