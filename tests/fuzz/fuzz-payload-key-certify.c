/* Fuzzes payload_key_certify_check (verifier/payload_key_certify.h) on an integrity quote
 * answer's `results` (JSON; `pubkey` taken from it), under the AK that certified the genuine
 * answer (tests/fixtures/payload-key-certify, read at start from the top of the tree).
 * Invariants: only 0, -ENOENT, -EBADMSG or -EPERM; an answer accepted is the genuine
 * certification (the same attest and public bytes: only the AK can sign, and the Name binds the
 * public area) of the genuine pubkey (its SHA-256 is in the attest), so no forged or other key
 * passes as TPM-resident. */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/encoding.h"
#include "lib/log.h"
#include "lib/tpm2b.h"
#include "verifier/payload_key_certify.h"

#define FIXTURE "tests/fixtures/payload-key-certify/"

static TPM2B_PUBLIC ak;
static char *genuine_pubkey, *genuine_attest, *genuine_public;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *read_all(const char *path, size_t *size) {
        FILE *f = fopen(path, "rb");
        char *data = calloc(1, 65536);

        if (!f || !data) {
                fprintf(stderr, "fuzz-payload-key-certify: cannot open %s (run from the top of the tree)\n", path);
                abort();
        }
        *size = fread(data, 1, 65535, f);
        fclose(f);
        return data;
}

static char *member(json_object *obj, const char *name) {
        json_object *value;

        if (!json_object_object_get_ex(obj, name, &value) || !json_object_is_type(value, json_type_string))
                abort();
        return strdup(json_object_get_string(value));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        size_t size;
        char *bytes = read_all(FIXTURE "ak.pub", &size), *text;
        json_object *results, *certify;

        (void)argc;
        (void)argv;
        setenv("TSS2_LOG", "all+NONE", 0);
        log_setup("fuzz-payload-key-certify", LOG_LEVEL_ERROR);
        if (tpm2b_public_unmarshal((const uint8_t *)bytes, size, &ak) < 0)
                abort();
        free(bytes);
        text = read_all(FIXTURE "results.json", &size);
        results = json_tokener_parse(text);
        if (!results || !json_object_object_get_ex(results, "pubkey_certify", &certify))
                abort();
        genuine_pubkey = member(results, "pubkey");
        genuine_attest = member(certify, "attest");
        genuine_public = member(certify, "public");
        if (payload_key_certify_check(results, &ak, TPM2_ALG_SHA256, genuine_pubkey) != 0)
                abort(); /* the genuine answer must pass, or the invariant below says nothing */
        json_object_put(results);
        free(text);
        return 0;
}

/* The base64 member `name` of `certify` decodes to the bytes `genuine` does. */
static bool same_bytes(json_object *certify, const char *name, const char *genuine) {
        json_object *value;
        uint8_t *got = NULL, *want = NULL;
        size_t got_size = 0, want_size = 0;
        bool same;

        if (!json_object_object_get_ex(certify, name, &value) || !json_object_is_type(value, json_type_string))
                return false;
        if (base64_decode(json_object_get_string(value), strlen(json_object_get_string(value)), &got, &got_size) < 0 ||
            base64_decode(genuine, strlen(genuine), &want, &want_size) < 0)
                abort();
        same = got_size == want_size && memcmp(got, want, got_size) == 0;
        free(got);
        free(want);
        return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok = json_tokener_new_ex(16);
        json_object *results, *pubkey, *certify;
        int ret;

        if (!tok)
                abort();
        results = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        json_tokener_free(tok);
        if (!results || !json_object_is_type(results, json_type_object) ||
            !json_object_object_get_ex(results, "pubkey", &pubkey) || !json_object_is_type(pubkey, json_type_string)) {
                json_object_put(results);
                return 0;
        }
        ret = payload_key_certify_check(results, &ak, TPM2_ALG_SHA256, json_object_get_string(pubkey));
        if (ret != 0 && ret != -ENOENT && ret != -EBADMSG && ret != -EPERM)
                abort();
        if (ret == 0) {
                /* accepted: the genuine key text and the genuine attest and public bytes */
                json_object_object_get_ex(results, "pubkey_certify", &certify);
                if (strcmp(json_object_get_string(pubkey), genuine_pubkey) != 0 ||
                    !same_bytes(certify, "attest", genuine_attest) || !same_bytes(certify, "public", genuine_public))
                        abort();
        }
        json_object_put(results);
        return 0;
}
