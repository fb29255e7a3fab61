#include "json_member.h"

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
