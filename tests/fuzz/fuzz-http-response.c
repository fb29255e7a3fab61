/* Fuzzes the reading of HTTP response bodies (lib/http_response.h): a body as a peer sends it
 * becomes a response the way lib/http_event_client.c builds one (NUL-terminated, parsed with
 * http_parse_json when not empty), then Keylime's envelope (http_keylime_results), the excerpt
 * for error messages (http_body_excerpt) and the agent's reading of the registrar's answers
 * (registrar_version_answer, registrar_blob_answer, then the blob's base64 and layout as
 * agent/registration.c reads them before the TPM sees it; registrar_answer_text, the reason an
 * error shows; escrow_answer_pending, the 409 agent/escrow_client.c waits out). The first input
 * byte picks the excerpt buffer's size and, by its low bit, the status (200 or 409); the rest
 * is the body.
 * Invariants: a parsed object or array is one JSON document that json-c writes and reads back; results is
 * an object and the envelope's own member; an excerpt is NUL-terminated inside its buffer, at
 * most 200 printable characters, the body's first ones with the others as '.'; a version is
 * 2.0-2.6 or one of two errors; a blob is the envelope's string; an answer's text is
 * NUL-terminated inside its buffer, at most 200 characters, the envelope's status string when
 * there is one; only a 409 whose status says "not attested yet" is waited out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/escrow_client.h"
#include "agent/registrar_client.h"
#include "lib/credential.h"
#include "lib/encoding.h"
#include "lib/http_response.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tss2-mu logs every rejected structure to stderr; TSS2_LOG set by hand is left alone. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        setenv("TSS2_LOG", "all+NONE", 0);
        return 0;
}

static void expect_json_round_trip(json_object *json) {
        const char *text = json_object_to_json_string_ext(json, JSON_C_TO_STRING_PLAIN);
        json_object *again = http_parse_json(text, strlen(text));

        if (!again)
                abort();
        json_object_put(again);
}

static void expect_excerpt(const struct http_response *resp, size_t buf_size) {
        char *buf = malloc(buf_size); /* exactly buf_size: ASan sees any write past it */
        const char *excerpt;
        size_t n, want = resp->body_size;

        if (!buf)
                return;
        excerpt = http_body_excerpt(resp, buf, buf_size);
        n = strnlen(excerpt, buf_size);
        if (want > buf_size - 1)
                want = buf_size - 1;
        if (want > 200)
                want = 200;
        if (excerpt != buf || n != want) /* as much of the body as fits, NUL-terminated */
                abort();
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)resp->body[i];

                if (excerpt[i] != ((c >= 0x20 && c < 0x7f) ? (char)c : '.'))
                        abort();
        }
        free(buf);
}

static void expect_version(const struct http_response *resp) {
        int minor = registrar_version_answer(resp);

        if (minor < 0 ? minor != -EBADMSG && minor != -EPROTONOSUPPORT : minor > REGISTRAR_API_MAX_MINOR)
                abort();
        if (minor != -EBADMSG && !http_keylime_results(resp))
                abort();
}

static void expect_blob(const struct http_response *resp) {
        json_object *blob = NULL;
        char *blob_b64 = NULL;
        uint8_t *bytes = NULL;
        size_t blob_size;
        TPM2B_ID_OBJECT id_object;
        TPM2B_ENCRYPTED_SECRET secret;

        if (registrar_blob_answer(resp, &blob_b64) < 0)
                return;
        if (!json_object_object_get_ex(http_keylime_results(resp), "blob", &blob) ||
            strcmp(blob_b64, json_object_get_string(blob)) != 0)
                abort();
        /* agent/registration.c's activation_tag, up to the TPM */
        if (base64_decode(blob_b64, strlen(blob_b64), &bytes, &blob_size) == 0)
                (void)credential_blob_parse(bytes, blob_size, &id_object, &secret);
        free(bytes);
        free(blob_b64);
}

static void expect_answer_text(const struct http_response *resp, size_t buf_size) {
        char *buf = malloc(buf_size); /* exactly buf_size: ASan sees any write past it */
        json_object *status = NULL;
        const char *text, *pending;
        bool has_status;

        if (!buf)
                return;
        text = registrar_answer_text(resp, buf, buf_size);
        if (text != buf || strnlen(text, buf_size) >= buf_size || strlen(text) > 200)
                abort();
        has_status = json_object_is_type(resp->json, json_type_object) &&
                     json_object_object_get_ex(resp->json, "status", &status) &&
                     json_object_is_type(status, json_type_string);
        /* the status's first characters, as many as fit (json-c's strings may hold a NUL) */
        if (has_status && strncmp(text, json_object_get_string(status), strlen(text)) != 0)
                abort();
        pending = escrow_answer_pending(resp);
        if (pending && (resp->status != 409 || !has_status || !strstr(json_object_get_string(status), "not attested yet")))
                abort();
        if (!pending && resp->status == 409 && has_status && strstr(json_object_get_string(status), "not attested yet"))
                abort();
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct http_response resp = { .status = 200 };
        json_object *results, *member;
        size_t buf_size;

        if (size == 0 || size - 1 > HTTP_BODY_MAX)
                return 0;
        buf_size = 1 + data[0] % 256;
        resp.status = data[0] & 1 ? 409 : 200;
        resp.body_size = size - 1;
        resp.body = malloc(resp.body_size + 1);
        if (!resp.body)
                return 0;
        memcpy(resp.body, data + 1, resp.body_size);
        resp.body[resp.body_size] = '\0';
        if (resp.body_size > 0)
                resp.json = http_parse_json(resp.body, resp.body_size);

        /* json-c cannot tell a bare number at the end of its input from a truncated one ("0"
         * is refused, "0 " parsed): no answer is a bare number, so only containers are held
         * to reading back */
        if (json_object_is_type(resp.json, json_type_object) || json_object_is_type(resp.json, json_type_array))
                expect_json_round_trip(resp.json);
        results = http_keylime_results(&resp);
        if (results && (!json_object_is_type(results, json_type_object) ||
                        !json_object_object_get_ex(resp.json, "results", &member) || member != results))
                abort();
        expect_excerpt(&resp, buf_size);
        expect_version(&resp);
        expect_blob(&resp);
        expect_answer_text(&resp, buf_size);
        http_response_done(&resp);
        return 0;
}
