/* Security-sensitive: json-c's copies of a secret's text are wiped before json-c frees them. */
#include "secret_json.h"

#include <json-c/printbuf.h>
#include <limits.h>
#include <string.h>

/* bytes past the text's size: printbuf_memappend() wants room for its NUL and one more */
#define SCRATCH_SLACK 8

json_tokener *secret_json_tokener_new(int depth, size_t text_size) {
        json_tokener *tok;

        if (text_size > INT_MAX - SCRATCH_SLACK)
                return NULL;
        tok = json_tokener_new_ex(depth);
        if (!tok)
                return NULL;
        /* json-c 0.13-0.18 publish struct json_tokener (marked as not to be used) and no other
         * way to reach its scratch buffer. No string of a text is longer than the text, so
         * this size is never outgrown. */
        if (printbuf_memset(tok->pb, 0, 0, (int)text_size + SCRATCH_SLACK) < 0) {
                json_tokener_free(tok);
                return NULL;
        }
        printbuf_reset(tok->pb);
        return tok;
}

void secret_json_tokener_wipe(json_tokener *tok) {
        if (tok && tok->pb && tok->pb->buf)
                explicit_bzero(tok->pb->buf, (size_t)tok->pb->size);
}

void secret_json_tokener_free(json_tokener *tok) {
        if (!tok)
                return; /* json_tokener_free(NULL) crashes */
        secret_json_tokener_wipe(tok);
        json_tokener_free(tok);
}

void secret_json_string_wipe(json_object *string) {
        if (!json_object_is_type(string, json_type_string))
                return;
        /* json_object_get_string() of a string object is its own storage, not a copy, and
         * json-c derives nothing from a value's text (only member names are hashed): zeroes in
         * place leave the object consistent, a string of NULs of the same length */
        explicit_bzero((char *)json_object_get_string(string), (size_t)json_object_get_string_len(string));
}

void secret_json_put(json_object *obj, const char *name) {
        json_object *member;

        if (json_object_is_type(obj, json_type_object) && json_object_object_get_ex(obj, name, &member))
                secret_json_string_wipe(member);
        json_object_put(obj);
}
