/* vmattest-verifier evidence: what a run found, recorded and printed (text or JSON). */
#include "verifier/evidence_cmd.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/log.h"
#include "verifier/commands.h"

/* An unusable input (a file that cannot be read, a field that does not parse): exit 2. */
int evidence_input_error(int ret, const char *what) {
        log_error("%s: %s", what, vm_error_detail(ret));
        return EXIT_USAGE;
}

int evidence_read(const char *path, size_t max, char **data, size_t *size) {
        int ret = file_read_all(path, max, data, size);

        if (ret == -ENOENT)
                return vm_error(ret, "no such file");
        if (ret == -EFBIG)
                return vm_error(ret, "larger than %zu bytes", max);
        return ret;
}

json_object *evidence_hex_json(const void *data, size_t size) {
        _cleanup_(freep) char *hex = hex_encode(data, size);

        return json_object_new_string(hex ? hex : "");
}

void fact_hex(json_object *obj, const char *name, const void *data, size_t size) {
        json_object_object_add(obj, name, evidence_hex_json(data, size));
}

void fact_u64x(json_object *obj, const char *name, uint64_t value, int digits) {
        char text[24];

        snprintf(text, sizeof(text), "0x%0*llx", digits, (unsigned long long)value);
        json_object_object_add(obj, name, json_object_new_string(text));
}

void fact_int(json_object *obj, const char *name, int64_t value) {
        json_object_object_add(obj, name, json_object_new_int64(value));
}

/* A check made: `ret` 0 passed, -EACCES or -EPERM failed (the detail is the reason); anything
 * else means the check could not be made on this input, returned for the caller to end with 2. */
int evidence_record_check(struct evidence_out *out, const char *check, int ret) {
        json_object *entry;

        if (ret < 0 && ret != -EACCES && ret != -EPERM)
                return ret;
        entry = json_object_new_object();
        json_object_object_add(entry, "check", json_object_new_string(check));
        json_object_object_add(entry, "result", json_object_new_string(ret == 0 ? "pass" : "fail"));
        if (ret < 0) {
                const char *reason = vm_error_detail(ret);

                json_object_object_add(entry, "reason", json_object_new_string(reason));
                json_object_array_add(out->reasons, json_object_new_string(reason));
                out->failed = true;
        }
        json_object_array_add(out->checks, entry);
        vm_error_clear();
        return 0;
}

void evidence_not_checked(struct evidence_out *out, const char *check, const char *why) {
        json_object *entry = json_object_new_object();

        json_object_object_add(entry, "check", json_object_new_string(check));
        json_object_object_add(entry, "why", json_object_new_string(why));
        json_object_array_add(out->not_checked, entry);
}

/* Text output: the facts as an indented "name: value" tree, then each check. */
static void print_value(const char *name, json_object *value, int depth) {
        int indent = 2 * depth;

        switch (json_object_get_type(value)) {
        case json_type_object:
                printf("%*s%s:\n", indent, "", name);
                json_object_object_foreach(value, key, member) print_value(key, member, depth + 1);
                break;
        case json_type_array: {
                size_t n = json_object_array_length(value);
                bool scalars = true;

                for (size_t i = 0; i < n; i++) {
                        json_type t = json_object_get_type(json_object_array_get_idx(value, i));

                        scalars = scalars && t != json_type_object && t != json_type_array;
                }
                if (scalars && n <= 24) {
                        printf("%*s%s: [", indent, "", name);
                        for (size_t i = 0; i < n; i++)
                                printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(value, i)));
                        printf("]\n");
                        break;
                }
                printf("%*s%s:\n", indent, "", name);
                for (size_t i = 0; i < n; i++) {
                        char index[24];

                        snprintf(index, sizeof(index), "[%zu]", i);
                        print_value(index, json_object_array_get_idx(value, i), depth + 1);
                }
                break;
        }
        default:
                printf("%*s%s: %s\n", indent, "", name, json_object_get_string(value));
        }
}

int evidence_finish(struct evidence_out *out, bool json) {
        if (json) {
                _cleanup_(json_object_putp) json_object *top = json_object_new_object();

                json_object_object_add(top, "kind", json_object_new_string(out->kind));
                json_object_object_add(top, "verdict", json_object_new_string(out->failed ? "fail" : "pass"));
                json_object_object_add(top, "reasons", json_object_get(out->reasons));
                json_object_object_add(top, "checks", json_object_get(out->checks));
                json_object_object_add(top, "not_checked", json_object_get(out->not_checked));
                json_object_object_add(top, "facts", json_object_get(out->facts));
                puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
                printf("%s\n", out->kind);
                json_object_object_foreach(out->facts, key, value) print_value(key, value, 1);
                printf("checks:\n");
                for (size_t i = 0; i < json_object_array_length(out->checks); i++) {
                        json_object *c = json_object_array_get_idx(out->checks, i), *check, *result, *reason;

                        json_object_object_get_ex(c, "check", &check);
                        json_object_object_get_ex(c, "result", &result);
                        if (json_object_object_get_ex(c, "reason", &reason))
                                printf("  %s: %s: %s\n", json_object_get_string(check), json_object_get_string(result),
                                       json_object_get_string(reason));
                        else
                                printf("  %s: %s\n", json_object_get_string(check), json_object_get_string(result));
                }
                for (size_t i = 0; i < json_object_array_length(out->not_checked); i++) {
                        json_object *c = json_object_array_get_idx(out->not_checked, i), *check, *why;

                        json_object_object_get_ex(c, "check", &check);
                        json_object_object_get_ex(c, "why", &why);
                        printf("  %s: not checked: %s\n", json_object_get_string(check), json_object_get_string(why));
                }
                printf("verdict: %s\n", out->failed ? "fail" : "pass");
        }
        return out->failed ? EXIT_FAILED : EXIT_OK;
}
