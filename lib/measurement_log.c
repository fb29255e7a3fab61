#include "measurement_log.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "cleanup.h"
#include "error.h"
#include "hashalg.h"
#include "json_member.h"

int measurement_event_bytes(const char *event, const char *data, char **out, size_t *size) {
        size_t event_len = strlen(event), data_len = strlen(data);
        char *typed;

        if (event_len == 0 || event_len > MEASUREMENT_EVENT_MAX || data_len > MEASUREMENT_DATA_MAX)
                return vm_error(-EINVAL, "measurement: the event name must be 1-%d bytes, the data at most %d",
                                MEASUREMENT_EVENT_MAX, MEASUREMENT_DATA_MAX);
        typed = malloc(event_len + 1 + data_len);
        if (!typed)
                return -ENOMEM;
        memcpy(typed, event, event_len + 1); /* the NUL separates the name from the data */
        memcpy(typed + event_len + 1, data, data_len);
        *out = typed;
        *size = event_len + 1 + data_len;
        return 0;
}

int measurement_digest(TPM2_ALG_ID bank, const char *event, const char *data, uint8_t *digest) {
        _cleanup_(freep) char *typed = NULL;
        size_t size;
        int ret = measurement_event_bytes(event, data, &typed, &size);

        return ret < 0 ? ret : hashalg_digest(bank, typed, size, digest);
}

int measurement_record(uint64_t recnum, TPM2_ALG_ID bank, const char *event, const char *data, char **line) {
        uint8_t digest[TPM2_MAX_DIGEST_BUFFER];
        int ret = measurement_digest(bank, event, data, digest);

        if (ret < 0)
                return ret;
        json_object *rec = json_object_new_object(), *digests = json_object_new_array(), *d = json_object_new_object(),
                    *content = json_object_new_object();
        char *hex = hex_encode(digest, hashalg_size(bank));

        if (!rec || !digests || !d || !content || !hex || !hashalg_name(bank))
                ret = -ENOMEM;
        else {
                json_object_object_add(d, "hashAlg", json_object_new_string(hashalg_name(bank)));
                json_object_object_add(d, "digest", json_object_new_string(hex));
                json_object_array_add(digests, d), d = NULL;
                json_object_object_add(content, "event", json_object_new_string(event));
                json_object_object_add(content, "data", json_object_new_string(data));
                json_object_object_add(rec, "recnum", json_object_new_int64((int64_t)recnum));
                json_object_object_add(rec, "pcr", json_object_new_int(MEASUREMENT_PCR));
                json_object_object_add(rec, "digests", digests), digests = NULL;
                json_object_object_add(rec, "content_type", json_object_new_string("vmattest"));
                json_object_object_add(rec, "content", content), content = NULL;
                if (asprintf(line, "%s\n", json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
                                                                                        JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                        ret = -ENOMEM;
        }
        json_object_put(d);
        json_object_put(digests);
        json_object_put(content);
        json_object_put(rec);
        free(hex);
        return ret;
}

/* What one record, once its digest is checked, tells the verifier (the header's table). */
static void classify(const char *event, unsigned index, struct measurement_summary *s) {
        if (strcmp(event, MEASUREMENT_EVENT_ROOT_IDENTITY) == 0)
                return;
        if (strcmp(event, MEASUREMENT_EVENT_LEAVE_INITRD) == 0) {
                if (!s->left_initrd)
                        s->leave_record = index;
                s->left_initrd = true;
                return;
        }
        if (s->releases++ == 0) /* key-released, or an event nobody defined: a release */
                s->first_release = index;
}

/* One record: checks it and extends `pcr15`. */
static int replay_record(json_object *rec, unsigned index, TPM2_ALG_ID bank, struct measurement_summary *s) {
        size_t digest_size = hashalg_size(bank);
        json_object *member, *digests, *content, *d;
        const char *alg, *hex, *event, *data, *type;
        uint8_t digest[TPM2_MAX_DIGEST_BUFFER], want[TPM2_MAX_DIGEST_BUFFER], chain[2 * TPM2_MAX_DIGEST_BUFFER];
        size_t size;
        int ret;

        if (!json_object_is_type(rec, json_type_object))
                return vm_error(-EBADMSG, "record %u is not a JSON object", index);
        if (!json_object_object_get_ex(rec, "recnum", &member) || !json_object_is_type(member, json_type_int) ||
            json_object_get_int64(member) != (int64_t)index)
                return vm_error(-EBADMSG, "record %u: recnum is not %u", index, index);
        if (!json_object_object_get_ex(rec, "pcr", &member) || !json_object_is_type(member, json_type_int) ||
            json_object_get_int(member) != MEASUREMENT_PCR)
                return vm_error(-EBADMSG, "record %u: pcr is not %d", index, MEASUREMENT_PCR);
        ret = json_member_string(rec, "content_type", 64, false, &type);
        if (ret >= 0 && strcmp(type, "vmattest") != 0)
                ret = vm_error(-EBADMSG, "content_type \"%.64s\" is not vmattest", type);
        if (ret < 0)
                return vm_error(-EBADMSG, "record %u: %s", index, vm_error_detail(ret));
        if (!json_object_object_get_ex(rec, "content", &content) || !json_object_is_type(content, json_type_object) ||
            json_member_string(content, "event", MEASUREMENT_EVENT_MAX, false, &event) < 0 ||
            json_member_string(content, "data", MEASUREMENT_DATA_MAX, false, &data) < 0)
                return vm_error(-EBADMSG, "record %u: content needs string members event and data", index);
        if (!json_object_object_get_ex(rec, "digests", &digests) || !json_object_is_type(digests, json_type_array) ||
            json_object_array_length(digests) != 1 || !(d = json_object_array_get_idx(digests, 0)) ||
            json_member_string(d, "hashAlg", 16, false, &alg) < 0 || json_member_string(d, "digest", 256, false, &hex) < 0 ||
            hashalg_from_name(alg) != bank || hex_decode(hex, strlen(hex), digest, sizeof(digest), &size) < 0 ||
            size != digest_size)
                return vm_error(-EBADMSG, "record %u: digests must be one %s digest", index, hashalg_name(bank));
        ret = measurement_digest(bank, event, data, want);
        if (ret < 0)
                return ret;
        if (memcmp(digest, want, digest_size) != 0)
                return vm_error(-EBADMSG, "record %u: digest is not H(event, data)", index);
        memcpy(chain, s->pcr15, digest_size);
        memcpy(chain + digest_size, digest, digest_size);
        ret = hashalg_digest(bank, chain, 2 * digest_size, s->pcr15);
        if (ret < 0)
                return ret;
        classify(event, index, s);
        return 0;
}

int measurement_log_replay(const char *text, size_t size, TPM2_ALG_ID bank, struct measurement_summary *s) {
        const char *line = text, *end = text + size;

        memset(s, 0, sizeof(*s));
        if (!hashalg_size(bank))
                return vm_error(-EINVAL, "unsupported bank 0x%04x", bank);
        while (line < end) {
                const char *nl = memchr(line, '\n', (size_t)(end - line));
                size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
                json_tokener *tok;
                json_object *rec;
                int ret;

                if (len == 0) {
                        line += 1;
                        continue;
                }
                if (len > MEASUREMENT_LINE_MAX || s->records >= MEASUREMENT_RECORDS_MAX)
                        return vm_error(-EBADMSG, "record %u: line longer than %d bytes, or too many records", s->records,
                                        MEASUREMENT_LINE_MAX);
                tok = json_tokener_new_ex(8);
                if (!tok)
                        return -ENOMEM;
                rec = json_tokener_parse_ex(tok, line, (int)len);
                ret = json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == len
                              ? replay_record(rec, s->records, bank, s)
                              : vm_error(-EBADMSG, "record %u is not one JSON object", s->records);
                json_tokener_free(tok);
                json_object_put(rec);
                if (ret < 0)
                        return ret;
                s->records++;
                line += len + (nl ? 1 : 0);
        }
        return 0;
}
