/* json-c text that carries a secret (an enrolment token, an escrowed key), wiped where json-c
 * keeps it. json-c has no allocator hook: its tokener gathers each string it parses in a
 * scratch buffer of its own, and a string object holds its text in the object itself; json-c
 * frees both without a wipe. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* A tokener (depth limit `depth`) for one text of `text_size` bytes, its scratch buffer made
 * large enough for every string of that text up front: json-c never grows it by realloc(),
 * which would leave the part of a string gathered so far behind, unwiped. NULL when out of
 * memory or for a text json-c cannot take (over INT_MAX). */
json_tokener *secret_json_tokener_new(int depth, size_t text_size);
/* Zeroes the tokener's scratch buffer. */
void secret_json_tokener_wipe(json_tokener *tok);
/* secret_json_tokener_wipe(), then json_tokener_free() (NULL is fine). */
void secret_json_tokener_free(json_tokener *tok);

/* Zeroes the text of a string object in place (its length stays); nothing for another type or
 * NULL. The object must not have been serialised: json_object_to_json_string() keeps a copy
 * of the text that this does not reach. */
void secret_json_string_wipe(json_object *string);
/* secret_json_string_wipe() of member `name` of `obj` (when it is there), then
 * json_object_put(obj): for a request body that carries a secret, on every path. */
void secret_json_put(json_object *obj, const char *name);
