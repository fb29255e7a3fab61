#include "json_member.h"

#include <stdint.h>
#include <string.h>

#include "error.h"

int json_member_string(json_object *obj, const char *name, size_t max, bool optional, const char **value) {
        json_object *member;

        *value = NULL;
        if (!json_object_object_get_ex(obj, name, &member) || json_object_is_type(member, json_type_null)) {
                if (optional)
                        return 0;
                return vm_error(-EBADMSG, "missing %s", name);
        }
        if (!json_object_is_type(member, json_type_string))
                return vm_error(-EBADMSG, "%s is not a string", name);
        if ((size_t)json_object_get_string_len(member) > max)
                return vm_error(-EBADMSG, "%s is longer than %zu bytes", name, max);
        /* a NUL inside the string would make C's view of it shorter than what was sent */
        if (strlen(json_object_get_string(member)) != (size_t)json_object_get_string_len(member))
                return vm_error(-EBADMSG, "%s contains a NUL byte", name);
        *value = json_object_get_string(member);
        return 0;
}

static bool json_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int json_parse_document(const char *what, const char *text, size_t size, int depth, json_object **out) {
        json_tokener *tok;
        json_object *obj;
        enum json_tokener_error error;
        size_t end;
        int ret = 0;

        *out = NULL;
        if (size > INT32_MAX)
                return vm_error(-EBADMSG, "%s: %zu bytes", what, size);
        tok = json_tokener_new_ex(depth);
        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, text, (int)size);
        error = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (error == json_tokener_continue) {
                /* a top-level number or literal ends only at the end of the input */
                obj = json_tokener_parse_ex(tok, "", 1);
                error = json_tokener_get_error(tok) == json_tokener_success ? json_tokener_success : json_tokener_continue;
                end = size;
        }
        if (error == json_tokener_continue)
                ret = vm_error(-EBADMSG, "%s: the JSON text ends early (at %zu bytes)", what, size);
        else if (error != json_tokener_success)
                ret = vm_error(-EBADMSG, "%s: not JSON: %s at offset %zu", what, json_tokener_error_desc(error), end);
        else {
                while (end < size && json_space(text[end]))
                        end++;
                if (end != size)
                        ret = vm_error(-EBADMSG, "%s: unexpected data after the JSON value at offset %zu", what, end);
        }
        json_tokener_free(tok);
        if (ret < 0) {
                json_object_put(obj);
                return ret;
        }
        *out = obj;
        return 0;
}
