#include "verifier/push_request.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/json_member.h"

#define NAME_MAX_CHARS 64                  /* an evidence_class, a scheme, a format */
#define QUOTE_PART_B64_MAX (64 * 1024)     /* message, signature, subject_data: KiB in base64 */
#define UEFI_LOG_B64_MAX (12u << 20)       /* the firmware's log, as evidence.c bounds it */
#define IMA_LIST_MAX (1024u << 20)         /* as evidence.c bounds the pull model's */
#define ARRAY_MAX 64                       /* schemes, algorithms, PCR numbers, keys, formats */
/* entries an IMA list may claim: a list of more would not fit IMA_LIST_MAX at 40 bytes an entry */
#define IMA_ENTRIES_MAX (IMA_LIST_MAX / 40)

/* data.attributes of a JSON:API document. */
static int attributes_of(json_object *body, const char *type, json_object **attributes) {
        json_object *data, *type_obj;

        if (!json_object_object_get_ex(body, "data", &data) || !json_object_is_type(data, json_type_object))
                return vm_error(-EBADMSG, "/data: a JSON:API resource object is required");
        if (json_object_object_get_ex(data, "type", &type_obj) &&
            (!json_object_is_type(type_obj, json_type_string) || strcmp(json_object_get_string(type_obj), type) != 0))
                return vm_error(-EBADMSG, "/data/type: must be \"%s\"", type);
        if (!json_object_object_get_ex(data, "attributes", attributes) ||
            !json_object_is_type(*attributes, json_type_object))
                return vm_error(-EBADMSG, "/data/attributes: an object is required");
        return 0;
}

/* An array member of at most ARRAY_MAX elements; NULL when absent (optional) */
static int array_member(json_object *obj, const char *name, bool optional, json_object **array) {
        *array = NULL;
        if (!json_object_object_get_ex(obj, name, array) || json_object_is_type(*array, json_type_null)) {
                *array = NULL;
                return optional ? 0 : vm_error(-EBADMSG, "%s: is required", name);
        }
        if (!json_object_is_type(*array, json_type_array))
                return vm_error(-EBADMSG, "%s: must be an array", name);
        if (json_object_array_length(*array) > ARRAY_MAX)
                return vm_error(-EBADMSG, "%s: more than %d elements", name, ARRAY_MAX);
        return 0;
}

static bool array_has_string(json_object *array, const char *want) {
        size_t n = array ? json_object_array_length(array) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(array, i);

                if (json_object_is_type(e, json_type_string) && strcmp(json_object_get_string(e), want) == 0)
                        return true;
        }
        return false;
}

/* A member that carries bytes in base64: refused here, naming it, rather than later where it
 * would be joined into a quote string ("r<message>:<signature>:<subject_data>") in which a
 * ':' inside one part would shift the others. */
static int base64_member(json_object *obj, const char *name, size_t max, bool optional, const char **value) {
        int ret = json_member_string(obj, name, max, optional, value);
        size_t n, pad = 0;

        if (ret < 0 || !*value)
                return ret;
        n = strlen(*value);
        if (n == 0 || n % 4 != 0)
                goto invalid;
        for (size_t i = 0; i < n; i++) {
                char c = (*value)[i];

                if (c == '=' && i + 2 >= n && pad == 0)
                        pad = n - i;
                else if (c == '=' && pad)
                        continue;
                else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                  c == '+' || c == '/'))
                        goto invalid;
        }
        return 0;
invalid:
        *value = NULL;
        return vm_error(-EBADMSG, "%s is not base64", name);
}

static int bank_index(const char *name) {
        return strcmp(name, "sha256") == 0 ? PUSH_SHA256
               : strcmp(name, "sha384") == 0 ? PUSH_SHA384
               : strcmp(name, "sha512") == 0 ? PUSH_SHA512
                                             : -1;
}

/* available_subjects: {"sha256": [0, 1, ...], ...}; banks this verifier does not quote in are
 * skipped, as Keylime skips banks it does not accept */
static int parse_subjects(json_object *caps, struct push_capabilities *out) {
        json_object *subjects;

        if (!json_object_object_get_ex(caps, "available_subjects", &subjects) ||
            !json_object_is_type(subjects, json_type_object))
                return vm_error(-EBADMSG, "available_subjects: a dictionary of PCR banks is required for tpm_quote");
        json_object_object_foreach(subjects, bank, pcrs) {
                int index = bank_index(bank);
                size_t n;

                if (index < 0)
                        continue;
                if (!json_object_is_type(pcrs, json_type_array) || (n = json_object_array_length(pcrs)) > ARRAY_MAX)
                        return vm_error(-EBADMSG, "available_subjects/%s: must be an array of PCR numbers", bank);
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(pcrs, i);
                        int64_t pcr = json_object_is_type(e, json_type_int) ? json_object_get_int64(e) : -1;

                        if (pcr < 0 || pcr > 23)
                                return vm_error(-EBADMSG, "available_subjects/%s: element %zu is not a PCR number 0-23",
                                                bank, i);
                        out->subjects[index] |= 1u << pcr;
                }
        }
        return 0;
}

static int parse_quote_capabilities(json_object *caps, struct push_capabilities *out) {
        json_object *schemes, *hashes, *keys;
        const char *version;
        int ret = json_member_string(caps, "component_version", NAME_MAX_CHARS, true, &version);

        if (ret < 0)
                return ret;
        /* Keylime selects a tpm_quote item only of component_version "2.0" */
        if (!version || strcmp(version, "2.0") != 0)
                return 0;
        ret = array_member(caps, "signature_schemes", false, &schemes);
        if (ret >= 0)
                ret = array_member(caps, "hash_algorithms", false, &hashes);
        if (ret >= 0)
                ret = array_member(caps, "certification_keys", false, &keys);
        if (ret >= 0)
                ret = parse_subjects(caps, out);
        if (ret < 0)
                return ret;
        out->tpm_quote = true;
        out->rsassa |= array_has_string(schemes, "rsassa");
        out->ecdsa |= array_has_string(schemes, "ecdsa");
        for (int bank = PUSH_SHA256; bank <= PUSH_SHA512; bank++)
                if (array_has_string(hashes, bank == PUSH_SHA256 ? "sha256" : bank == PUSH_SHA384 ? "sha384" : "sha512"))
                        out->hash_algorithms |= 1u << bank;
        for (size_t i = 0; i < json_object_array_length(keys); i++) {
                json_object *key = json_object_array_get_idx(keys, i);
                const char *alg = NULL;

                if (!json_object_is_type(key, json_type_object))
                        return vm_error(-EBADMSG, "certification_keys: may only contain objects");
                ret = json_member_string(key, "key_algorithm", NAME_MAX_CHARS, true, &alg);
                if (ret < 0)
                        return vm_error(ret, "certification_keys/%zu: %s", i, vm_error_detail(ret));
                out->key_rsa |= alg && strcmp(alg, "rsa") == 0;
                out->key_ecc |= alg && strcmp(alg, "ecc") == 0;
        }
        return 0;
}

static int parse_log_capabilities(json_object *caps, const char *type, struct push_capabilities *out) {
        json_object *formats, *partial = NULL, *count = NULL;
        int ret = array_member(caps, "formats", true, &formats);

        if (ret < 0)
                return ret;
        if (strcmp(type, "uefi_log") == 0) {
                out->uefi_log |= array_has_string(formats, "application/octet-stream");
                return 0;
        }
        if (strcmp(type, "ima_log") != 0)
                return 0;
        /* Keylime's LogCapabilities: a boolean, and a count >= 0 where one is given */
        if (json_object_object_get_ex(caps, "supports_partial_access", &partial) &&
            !json_object_is_type(partial, json_type_boolean))
                return vm_error(-EBADMSG, "supports_partial_access: must be a boolean");
        if (json_object_object_get_ex(caps, "entry_count", &count) && !json_object_is_type(count, json_type_null) &&
            (!json_object_is_type(count, json_type_int) || json_object_get_int64(count) < 0 ||
             json_object_get_int64(count) > IMA_ENTRIES_MAX))
                return vm_error(-EBADMSG, "entry_count: must be a number of entries from 0 to %llu",
                                (unsigned long long)IMA_ENTRIES_MAX);
        if (!partial || !json_object_get_boolean(partial) || !array_has_string(formats, "text/plain"))
                return 0;
        if (!count || json_object_is_type(count, json_type_null))
                return vm_error(-EBADMSG, "entry_count: is required when supports_partial_access is true");
        out->ima_log = true;
        out->ima_entry_count = (uint64_t)json_object_get_int64(count);
        return 0;
}

int push_capabilities_parse(json_object *body, struct push_capabilities *caps) {
        struct push_capabilities parsed = { .boot_time = -1 }, *out = &parsed;
        json_object *attributes, *items, *system_info;
        const char *boot_time = NULL;
        int ret;

        /* nothing half-applied: the caller's copy changes only when the whole body is good */
        memset(caps, 0, sizeof(*caps));
        caps->boot_time = -1;
        ret = attributes_of(body, "attestation", &attributes);
        if (ret >= 0)
                ret = array_member(attributes, "evidence_supported", false, &items);
        if (ret < 0)
                return ret;
        if (json_object_array_length(items) == 0)
                return vm_error(-EBADMSG, "evidence_supported: is required");
        if (json_object_array_length(items) > PUSH_ITEMS_MAX)
                return vm_error(-EBADMSG, "evidence_supported: more than %d items", PUSH_ITEMS_MAX);
        for (size_t i = 0; i < json_object_array_length(items); i++) {
                json_object *item = json_object_array_get_idx(items, i), *item_caps;
                const char *class, *type;

                if (!json_object_is_type(item, json_type_object))
                        return vm_error(-EBADMSG, "evidence_supported: may only contain objects with key-value pairs");
                ret = json_member_string(item, "evidence_class", NAME_MAX_CHARS, false, &class);
                if (ret >= 0)
                        ret = json_member_string(item, "evidence_type", NAME_MAX_CHARS, false, &type);
                if (ret < 0)
                        return vm_error(ret, "evidence_supported/%zu: %s", i, vm_error_detail(ret));
                if (!json_object_object_get_ex(item, "capabilities", &item_caps) ||
                    json_object_is_type(item_caps, json_type_null))
                        continue; /* nothing this verifier can choose from */
                if (!json_object_is_type(item_caps, json_type_object))
                        return vm_error(-EBADMSG, "evidence_supported/%zu/capabilities: must be an object", i);
                if (strcmp(class, "certification") == 0 && strcmp(type, "tpm_quote") == 0)
                        ret = parse_quote_capabilities(item_caps, out);
                else if (strcmp(class, "log") == 0)
                        ret = parse_log_capabilities(item_caps, type, out);
                if (ret < 0)
                        return vm_error(ret, "evidence_supported/%zu (%s): %s", i, type, vm_error_detail(ret));
        }
        if (json_object_object_get_ex(attributes, "system_info", &system_info) &&
            json_object_is_type(system_info, json_type_object)) {
                ret = json_member_string(system_info, "boot_time", NAME_MAX_CHARS, true, &boot_time);
                if (ret >= 0 && boot_time)
                        ret = push_time_parse(boot_time, &out->boot_time);
                if (ret < 0)
                        return vm_error(-EBADMSG, "system_info/boot_time: %s", vm_error_detail(ret));
        } else if (json_object_object_get_ex(attributes, "system_info", &system_info) &&
                   !json_object_is_type(system_info, json_type_null))
                return vm_error(-EBADMSG, "system_info: must be an object");
        *caps = parsed;
        return 0;
}

static const char *item_type(enum push_item item) {
        return item == PUSH_TPM_QUOTE ? "tpm_quote" : item == PUSH_UEFI_LOG ? "uefi_log" : "ima_log";
}

int push_evidence_parse(json_object *body, const enum push_item *requested, size_t count,
                        struct push_evidence *out) {
        struct push_evidence parsed = { 0 }, *ev = &parsed;
        json_object *attributes, *items;
        int ret;

        memset(out, 0, sizeof(*out));
        ret = attributes_of(body, "attestation", &attributes);
        if (ret >= 0)
                ret = array_member(attributes, "evidence_collected", false, &items);
        if (ret < 0)
                return ret;
        if (json_object_array_length(items) != count)
                return vm_error(-EBADMSG, "evidence_collected: must contain a number of elements equal to that which "
                                          "were requested (%zu)",
                                count);
        for (size_t i = 0; i < count; i++) {
                json_object *item = json_object_array_get_idx(items, i), *data;
                const char *class, *type;

                if (!json_object_is_type(item, json_type_object))
                        return vm_error(-EBADMSG, "evidence_collected/%zu: must be an object", i);
                ret = json_member_string(item, "evidence_class", NAME_MAX_CHARS, false, &class);
                if (ret >= 0)
                        ret = json_member_string(item, "evidence_type", NAME_MAX_CHARS, false, &type);
                if (ret < 0)
                        return vm_error(ret, "evidence_collected/%zu: %s", i, vm_error_detail(ret));
                if (strcmp(type, item_type(requested[i])) != 0 ||
                    strcmp(class, requested[i] == PUSH_TPM_QUOTE ? "certification" : "log") != 0)
                        return vm_error(-EBADMSG, "evidence_collected: must appear in the same order as the evidence "
                                                  "requested (item %zu is %s, %s was asked for)",
                                        i, type, item_type(requested[i]));
                if (!json_object_object_get_ex(item, "data", &data) || !json_object_is_type(data, json_type_object))
                        return vm_error(-EBADMSG, "evidence_collected/%zu/data: an object is required", i);
                switch (requested[i]) {
                case PUSH_TPM_QUOTE:
                        ret = base64_member(data, "message", QUOTE_PART_B64_MAX, false, &ev->message);
                        if (ret >= 0)
                                ret = base64_member(data, "signature", QUOTE_PART_B64_MAX, false, &ev->signature);
                        if (ret >= 0)
                                ret = base64_member(data, "subject_data", QUOTE_PART_B64_MAX, false, &ev->subject_data);
                        break;
                case PUSH_UEFI_LOG:
                        ret = base64_member(data, "entries", UEFI_LOG_B64_MAX, false, &ev->uefi_entries);
                        break;
                case PUSH_IMA_LOG:
                        /* an empty list (nothing new since the offset) may come as null */
                        ret = json_member_string(data, "entries", IMA_LIST_MAX, true, &ev->ima_entries);
                        if (ret >= 0 && !ev->ima_entries)
                                ev->ima_entries = "";
                        break;
                }
                if (ret < 0)
                        return vm_error(ret, "evidence_collected/%zu/data (%s): %s", i, type, vm_error_detail(ret));
        }
        *out = parsed;
        return 0;
}

static int parse_session_request(json_object *body, bool proof, struct push_session_request *req) {
        json_object *attributes, *methods, *method, *data;
        const char *agent_id, *type;
        int ret = attributes_of(body, "session", &attributes);

        if (ret >= 0)
                ret = json_member_string(attributes, "agent_id", AGENT_ID_MAX, false, &agent_id);
        if (ret < 0)
                return vm_error(-EBADMSG, "%s", vm_error_detail(ret));
        if (!agent_id_valid(agent_id))
                return vm_error(-EBADMSG, "agent_id: not an agent id (A-Z a-z 0-9 . _ -)");
        snprintf(req->agent_id, sizeof(req->agent_id), "%s", agent_id);
        ret = array_member(attributes, proof ? "authentication_provided" : "authentication_supported", false, &methods);
        if (ret < 0)
                return ret;
        if (!proof) {
                for (size_t i = 0; i < json_object_array_length(methods); i++) {
                        method = json_object_array_get_idx(methods, i);
                        if (json_object_is_type(method, json_type_object) &&
                            json_member_string(method, "authentication_type", NAME_MAX_CHARS, false, &type) >= 0 &&
                            strcmp(type, "tpm_pop") == 0)
                                return 0;
                }
                return vm_error(-EBADMSG, "authentication_supported: must include tpm_pop authentication type");
        }
        method = json_object_array_length(methods) ? json_object_array_get_idx(methods, 0) : NULL;
        if (!method || !json_object_is_type(method, json_type_object))
                return vm_error(-EBADMSG, "authentication_provided: must include at least one authentication method");
        if (json_member_string(method, "authentication_type", NAME_MAX_CHARS, false, &type) < 0 ||
            strcmp(type, "tpm_pop") != 0)
                return vm_error(-EBADMSG, "authentication_provided: must include tpm_pop authentication type");
        if (!json_object_object_get_ex(method, "data", &data) || !json_object_is_type(data, json_type_object))
                return vm_error(-EBADMSG, "authentication_provided/0/data: must include both message and signature "
                                          "in proof data");
        ret = base64_member(data, "message", QUOTE_PART_B64_MAX, false, &req->message);
        if (ret >= 0)
                ret = base64_member(data, "signature", QUOTE_PART_B64_MAX, false, &req->signature);
        return ret < 0 ? vm_error(-EBADMSG, "authentication_provided/0/data: %s", vm_error_detail(ret)) : 0;
}

int push_session_request_parse(json_object *body, bool proof, struct push_session_request *req) {
        int ret;

        memset(req, 0, sizeof(*req));
        ret = parse_session_request(body, proof, req);
        if (ret < 0)
                memset(req, 0, sizeof(*req)); /* nothing half-applied */
        return ret;
}

/* `width` decimal digits at *text (no sign, no blank: sscanf's %d took both), moved past them */
static bool digits(const char **text, int width, int *value) {
        *value = 0;
        for (int i = 0; i < width; i++, (*text)++) {
                if (**text < '0' || **text > '9')
                        return false;
                *value = *value * 10 + (**text - '0');
        }
        return true;
}

int push_time_parse(const char *text, int64_t *seconds) {
        static const uint8_t month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        struct tm tm;
        int year, month, day, hour, minute, second, offset_h = 0, offset_m = 0;
        const char *p = text;

        *seconds = 0;
        if (strlen(text) > NAME_MAX_CHARS || !digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &month) ||
            *p++ != '-' || !digits(&p, 2, &day) || *p++ != 'T' || !digits(&p, 2, &hour) || *p++ != ':' ||
            !digits(&p, 2, &minute) || *p++ != ':' || !digits(&p, 2, &second))
                return vm_error(-EBADMSG, "\"%.64s\" is not an ISO 8601 time (YYYY-MM-DDTHH:MM:SS)", text);
        if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 ||
            minute > 59 || second > 60)
                return vm_error(-EBADMSG, "\"%.64s\" is not a time", text);
        if (*p == '.') { /* fractions of a second: at least one digit, ignored */
                if (*++p < '0' || *p > '9')
                        return vm_error(-EBADMSG, "\"%.64s\": a fraction of a second needs digits", text);
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (strcmp(p, "Z") == 0 || *p == '\0') /* Keylime takes a naive time as UTC */
                ;
        else if ((p[0] == '+' || p[0] == '-') && (p++, digits(&p, 2, &offset_h)) && *p++ == ':' &&
                 digits(&p, 2, &offset_m) && *p == '\0' && offset_h <= 23 && offset_m <= 59) {
                if (text[strlen(text) - 6] == '-')
                        offset_h = -offset_h, offset_m = -offset_m;
        } else
                return vm_error(-EBADMSG, "\"%.64s\": the time zone is not Z or +HH:MM", text);
        tm = (struct tm){ .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = hour,
                          .tm_min = minute, .tm_sec = second };
        *seconds = (int64_t)timegm(&tm) - offset_h * 3600 - offset_m * 60;
        return 0;
}
