/* Parsers of the verifier's push-model answers (agent/push_answer.h). Security-sensitive: the
 * input is whatever the network gave. */
#include "agent/push_answer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/json_member.h"

#define PCR_COUNT 24
#define CHALLENGE_TEXT_MAX 128 /* base64 of PUSH_CHALLENGE_MAX bytes, with room */
#define FORMAT_MAX 64

static int member_object(json_object *obj, const char *name, json_object **out) {
        if (!obj || !json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, name, out) ||
            !json_object_is_type(*out, json_type_object))
                return vm_error(-EBADMSG, "no object %s", name);
        return 0;
}

/* data.attributes of a JSON:API document */
static int attributes(json_object *answer, json_object **data, json_object **attrs) {
        int ret = member_object(answer, "data", data);

        return ret < 0 ? ret : member_object(*data, "attributes", attrs);
}

/* An optional integer member in [0, max]: 0 and *present false when absent or null. */
static int member_uint(json_object *obj, const char *name, uint64_t max, bool *present, uint64_t *value) {
        json_object *member;
        int64_t v;

        *present = false;
        *value = 0;
        if (!json_object_object_get_ex(obj, name, &member) || json_object_is_type(member, json_type_null))
                return 0;
        if (!json_object_is_type(member, json_type_int))
                return vm_error(-EBADMSG, "%s is not an integer", name);
        errno = 0;
        v = json_object_get_int64(member);
        if (errno || v < 0 || (uint64_t)v > max)
                return vm_error(-EBADMSG, "%s is not an integer 0-%llu", name, (unsigned long long)max);
        *present = true;
        *value = (uint64_t)v;
        return 0;
}

static int challenge_decode(json_object *params, uint8_t *out, size_t *size) {
        _cleanup_(freep) uint8_t *bytes = NULL;
        const char *text;
        size_t n;
        int ret;

        ret = json_member_string(params, "challenge", CHALLENGE_TEXT_MAX, false, &text);
        if (ret < 0)
                return vm_error(ret, "challenge: %s", vm_error_detail(ret));
        ret = base64_decode(text, strlen(text), &bytes, &n);
        if (ret < 0)
                return vm_error(-EBADMSG, "challenge is not base64: %s", vm_error_detail(ret));
        if (n == 0 || n > PUSH_CHALLENGE_MAX)
                return vm_error(-EBADMSG, "challenge of %zu bytes (1-%d)", n, PUSH_CHALLENGE_MAX);
        memcpy(out, bytes, n);
        *size = n;
        return 0;
}

static bool session_id_valid(const char *id) {
        size_t len = strlen(id);

        return len > 0 && len <= PUSH_SESSION_ID_MAX &&
               strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

int push_session_parse(json_object *answer, const char *agent_id, struct push_challenge *out) {
        json_object *data, *attrs, *requested, *method, *params;
        const char *id, *text;
        size_t n;
        int ret;

        memset(out, 0, sizeof(*out));
        ret = attributes(answer, &data, &attrs);
        if (ret >= 0)
                ret = json_member_string(data, "id", PUSH_SESSION_ID_MAX, false, &id);
        if (ret < 0)
                return vm_error(ret, "session: %s", vm_error_detail(ret));
        if (!session_id_valid(id))
                return vm_error(-EBADMSG, "session: id is not 1-%d of A-Z a-z 0-9 -", PUSH_SESSION_ID_MAX);
        strcpy(out->session_id, id);
        ret = json_member_string(attrs, "agent_id", 256, true, &text);
        if (ret < 0 || (text && strcmp(text, agent_id) != 0))
                return vm_error(-EBADMSG, "session: agent_id is not this agent's");
        if (!json_object_object_get_ex(attrs, "authentication_requested", &requested) ||
            !json_object_is_type(requested, json_type_array))
                return vm_error(-EBADMSG, "session: no array authentication_requested");
        n = json_object_array_length(requested);
        for (size_t i = 0; i < n && i < 16; i++) {
                method = json_object_array_get_idx(requested, i);
                if (!json_object_is_type(method, json_type_object) ||
                    json_member_string(method, "authentication_type", 64, false, &text) < 0 ||
                    strcmp(text, "tpm_pop") != 0)
                        continue;
                if (member_object(method, "chosen_parameters", &params) < 0)
                        return vm_error(-EBADMSG, "session: tpm_pop without chosen_parameters");
                ret = challenge_decode(params, out->challenge, &out->challenge_size);
                return ret < 0 ? vm_error(ret, "session: %s", vm_error_detail(ret)) : 0;
        }
        return vm_error(-EBADMSG, "session: the verifier asks for no tpm_pop authentication");
}

int push_token_parse(json_object *answer, char token[PUSH_TOKEN_MAX + 1]) {
        json_object *data, *attrs;
        const char *evaluation, *text;
        size_t len;
        int ret;

        token[0] = '\0';
        ret = attributes(answer, &data, &attrs);
        if (ret >= 0)
                ret = json_member_string(attrs, "evaluation", 16, false, &evaluation);
        if (ret < 0)
                return vm_error(ret, "session: %s", vm_error_detail(ret));
        if (strcmp(evaluation, "fail") == 0)
                return vm_error(-EACCES, "session: the verifier did not take the proof of possession "
                                         "(evaluation fail)");
        if (strcmp(evaluation, "pass") != 0)
                return vm_error(-EBADMSG, "session: evaluation is neither pass nor fail");
        ret = json_member_string(attrs, "token", PUSH_TOKEN_MAX, false, &text);
        if (ret < 0)
                return vm_error(ret, "session: token: %s", vm_error_detail(ret));
        len = strlen(text);
        for (size_t i = 0; i < len; i++)
                if (text[i] <= 0x20 || text[i] >= 0x7f)
                        return vm_error(-EBADMSG, "session: token holds a byte that is not printable ASCII");
        if (len == 0)
                return vm_error(-EBADMSG, "session: empty token");
        memcpy(token, text, len + 1);
        return 0;
}

/* tpm_quote's chosen_parameters: the challenge, rsassa, `bank`, and PCRs of that bank only */
static int quote_parameters(json_object *params, TPM2_ALG_ID bank, struct push_evidence_item *item) {
        json_object *subjects, *pcrs;
        const char *text;
        size_t n;
        int ret;

        ret = challenge_decode(params, item->challenge, &item->challenge_size);
        if (ret < 0)
                return ret;
        ret = json_member_string(params, "signature_scheme", 32, false, &text);
        if (ret < 0 || strcmp(text, "rsassa") != 0)
                return vm_error(-EBADMSG, "signature_scheme is not rsassa (the AK's)");
        ret = json_member_string(params, "hash_algorithm", 32, false, &text);
        if (ret < 0 || strcmp(text, hashalg_name(bank)) != 0)
                return vm_error(-EBADMSG, "hash_algorithm is not %s (the AK's)", hashalg_name(bank));
        if (member_object(params, "selected_subjects", &subjects) < 0)
                return vm_error(-EBADMSG, "no object selected_subjects");
        json_object_object_foreach(subjects, name, value) {
                bool ours = strcmp(name, hashalg_name(bank)) == 0;

                if (json_object_is_type(value, json_type_null))
                        continue;
                if (!json_object_is_type(value, json_type_array))
                        return vm_error(-EBADMSG, "selected_subjects: a bank's PCRs are not an array");
                n = json_object_array_length(value);
                if (!ours && n > 0)
                        return vm_error(-EBADMSG, "selected_subjects: PCRs of a bank not offered");
                if (n > PCR_COUNT)
                        return vm_error(-EBADMSG, "selected_subjects: more than %d PCRs", PCR_COUNT);
                for (size_t i = 0; i < n; i++) {
                        pcrs = json_object_array_get_idx(value, i);
                        if (!json_object_is_type(pcrs, json_type_int) || json_object_get_int64(pcrs) < 0 ||
                            json_object_get_int64(pcrs) >= PCR_COUNT)
                                return vm_error(-EBADMSG, "selected_subjects: not a PCR number 0-%d", PCR_COUNT - 1);
                        item->mask |= 1u << json_object_get_int64(pcrs);
                }
        }
        return 0;
}

static int log_parameters(json_object *params, const char *format, struct push_evidence_item *item) {
        const char *text;
        bool present;
        int ret;

        ret = json_member_string(params, "format", FORMAT_MAX, true, &text);
        if (ret < 0 || (text && strcmp(text, format) != 0))
                return vm_error(-EBADMSG, "format is not %s", format);
        if (item->type != PUSH_IMA_LOG)
                return 0;
        /* Keylime 7.14.3 sends null when it cannot decide (no boot_time, an empty list): 0 */
        ret = member_uint(params, "starting_offset", UINT64_MAX >> 1, &present, &item->starting_offset);
        if (ret >= 0)
                ret = member_uint(params, "entry_count", UINT64_MAX >> 1, &item->entry_count_limited,
                                  &item->entry_count);
        return ret;
}

static int evidence_item(json_object *obj, TPM2_ALG_ID bank, struct push_evidence_item *item) {
        static const struct {
                const char *class, *type;
                enum push_evidence_type kind;
        } known[] = {
                { "certification", "tpm_quote", PUSH_TPM_QUOTE },
                { "log", "uefi_log", PUSH_UEFI_LOG },
                { "log", "ima_log", PUSH_IMA_LOG },
        };
        json_object *params = NULL;
        const char *class, *type;
        size_t i;
        int ret;

        if (!json_object_is_type(obj, json_type_object))
                return vm_error(-EBADMSG, "an item is not an object");
        ret = json_member_string(obj, "evidence_class", 32, false, &class);
        if (ret >= 0)
                ret = json_member_string(obj, "evidence_type", 32, false, &type);
        if (ret < 0)
                return ret;
        for (i = 0; i < ELEMENTSOF(known); i++)
                if (strcmp(class, known[i].class) == 0 && strcmp(type, known[i].type) == 0)
                        break;
        if (i == ELEMENTSOF(known))
                return vm_error(-EBADMSG, "evidence %.32s/%.32s was not offered", class, type);
        memset(item, 0, sizeof(*item));
        item->type = known[i].kind;
        if (json_object_object_get_ex(obj, "chosen_parameters", &params) &&
            !json_object_is_type(params, json_type_object))
                return vm_error(-EBADMSG, "%s: chosen_parameters is not an object", type);
        if (item->type == PUSH_TPM_QUOTE) {
                if (!params)
                        return vm_error(-EBADMSG, "tpm_quote without chosen_parameters");
                ret = quote_parameters(params, bank, item);
        } else if (params)
                ret = log_parameters(params, item->type == PUSH_IMA_LOG ? "text/plain" : "application/octet-stream",
                                     item);
        return ret < 0 ? vm_error(ret, "%s: %s", type, vm_error_detail(ret)) : 0;
}

int push_evidence_request_parse(json_object *answer, TPM2_ALG_ID bank, struct push_evidence_request *out) {
        json_object *data, *attrs, *requested;
        size_t n;
        int ret;

        memset(out, 0, sizeof(*out));
        ret = attributes(answer, &data, &attrs);
        if (ret < 0)
                return vm_error(ret, "attestation: %s", vm_error_detail(ret));
        if (!json_object_object_get_ex(attrs, "evidence_requested", &requested) ||
            !json_object_is_type(requested, json_type_array))
                return vm_error(-EBADMSG, "attestation: no array evidence_requested");
        n = json_object_array_length(requested);
        if (n > PUSH_EVIDENCE_MAX)
                return vm_error(-EBADMSG, "attestation: %zu items of evidence requested (at most %d)", n,
                                PUSH_EVIDENCE_MAX);
        for (size_t i = 0; i < n; i++) {
                ret = evidence_item(json_object_array_get_idx(requested, i), bank, &out->items[i]);
                if (ret < 0)
                        return vm_error(ret, "attestation: evidence_requested[%zu]: %s", i, vm_error_detail(ret));
                for (size_t j = 0; j < i; j++)
                        if (out->items[j].type == out->items[i].type)
                                return vm_error(-EBADMSG,
                                                "attestation: evidence_requested[%zu] asks again for an item", i);
                out->count = i + 1;
        }
        return 0;
}

static bool decimal_parse(const char *text, size_t len, uint64_t max, uint64_t *value) {
        uint64_t v = 0;

        if (len == 0 || len > 19 || (len > 1 && text[0] == '0'))
                return false;
        for (size_t i = 0; i < len; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return false;
                v = v * 10 + (uint64_t)(text[i] - '0');
        }
        if (v > max)
                return false;
        *value = v;
        return true;
}

int push_location_parse(const char *location, const char *prefix, uint64_t *index) {
        size_t len = strlen(prefix);

        if (strncmp(location, prefix, len) != 0 || location[len] != '/' ||
            !decimal_parse(location + len + 1, strlen(location + len + 1), UINT32_MAX, index))
                return vm_error(-EBADMSG, "Location is not %s/INDEX", prefix);
        return 0;
}

int push_retry_after_parse(const char *text, unsigned *seconds) {
        size_t len = strlen(text);
        uint64_t v;

        /* a huge number is still a number: cut, not refused */
        if (len > 10 && strspn(text, "0123456789") == len && text[0] != '0')
                v = PUSH_RETRY_AFTER_MAX;
        else if (!decimal_parse(text, len, UINT64_MAX >> 1, &v))
                return vm_error(-EBADMSG, "Retry-After is not a number of seconds");
        *seconds = v > PUSH_RETRY_AFTER_MAX ? PUSH_RETRY_AFTER_MAX : (unsigned)v;
        return 0;
}

int push_next_attestation_parse(json_object *answer, unsigned *seconds) {
        json_object *meta;
        uint64_t v;
        bool present;
        int ret;

        if (member_object(answer, "meta", &meta) < 0)
                return -ENOENT;
        ret = member_uint(meta, "seconds_to_next_attestation", PUSH_WAIT_MAX, &present, &v);
        if (ret < 0)
                return vm_error(ret, "meta: %s", vm_error_detail(ret));
        if (!present)
                return -ENOENT;
        *seconds = (unsigned)v;
        return 0;
}
