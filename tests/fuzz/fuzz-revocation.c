/* Fuzzes the agent's reading of revocation notifications (agent/revocation.h, docs/protocol.md
 * §2.8): revocation_message_parse() then revocation_message_verify() under a real RSA-2048 key.
 * The first input byte picks how the body is made (mod 4):
 *   0  the rest of the input is the body, as a peer sends it;
 *   1  a msg (string) the harness signs the way Keylime does (RSA-PSS, SHA-256, MGF1-SHA-256,
 *      longest salt) and puts in {"msg", "signature"}: the signature must verify, and the
 *      message be taken exactly when msg is one JSON object;
 *   2  the same, then one byte (u16 position, u8 xor) flipped in msg or in the signature: it
 *      must never verify;
 *   3  a msg and a signature (strings) as the input gives them: verified exactly when OpenSSL,
 *      asked here directly, says the signature is good and msg is one JSON object.
 * Everywhere: a parsed body's msg and signature are its own members, within their bounds; a
 * verified message is a JSON object; nothing leaks. */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/revocation.h"
#include "lib/encoding.h"
#include "lib/log.h"
#include "tests/fuzz/input.h"

#define MSG_MAX 4096 /* each signed input costs an RSA-2048 signature: keep them small */

static EVP_PKEY *revocation_key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        log_setup("fuzz-revocation", LOG_LEVEL_SILENT);
        revocation_key = EVP_RSA_gen(2048);
        if (!revocation_key)
                abort();
        return 0;
}

static EVP_MD_CTX *pss_context(bool sign, EVP_PKEY *key) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;

        if (!ctx || (sign ? EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key)
                          : EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key)) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, sign ? RSA_PSS_SALTLEN_MAX : RSA_PSS_SALTLEN_AUTO) != 1)
                abort();
        return ctx;
}

static size_t sign(const char *msg, uint8_t signature[256]) {
        EVP_MD_CTX *ctx = pss_context(true, revocation_key);
        size_t size = 256;

        if (EVP_DigestSign(ctx, signature, &size, (const uint8_t *)msg, strlen(msg)) != 1)
                abort();
        EVP_MD_CTX_free(ctx);
        return size;
}

/* The oracle for mode 3: OpenSSL itself on the decoded signature. */
static bool signature_good(const char *msg, const char *signature_b64) {
        uint8_t *signature = NULL;
        size_t size;
        bool good = false;

        if (base64_decode(signature_b64, strlen(signature_b64), &signature, &size) == 0) {
                EVP_MD_CTX *ctx = pss_context(false, revocation_key);

                good = EVP_DigestVerify(ctx, signature, size, (const uint8_t *)msg, strlen(msg)) == 1;
                EVP_MD_CTX_free(ctx);
        }
        free(signature);
        return good;
}

/* msg read on its own: one JSON object under the same depth limit. */
static bool json_object_text(const char *text) {
        json_tokener *tok = json_tokener_new_ex(16);
        json_object *obj = json_tokener_parse_ex(tok, text, (int)strlen(text));
        bool object = json_tokener_get_error(tok) == json_tokener_success &&
                      json_tokener_get_parse_end(tok) == strlen(text) && json_object_is_type(obj, json_type_object);

        json_object_put(obj);
        json_tokener_free(tok);
        return object;
}

static char *body_of(const char *msg, const char *signature) {
        json_object *body = json_object_new_object();
        char *text;

        json_object_object_add(body, "msg", json_object_new_string(msg));
        json_object_object_add(body, "signature", json_object_new_string(signature));
        text = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_SPACED));
        json_object_put(body);
        if (!text)
                abort();
        return text;
}

/* Parse and verify `body`; returns verify's result (parse failures: 1). */
static int check(const char *body, size_t size, const char **msg_out) {
        struct revocation_message m;
        int ret = revocation_message_parse(body, size, &m);

        *msg_out = NULL;
        if (ret < 0)
                return 1;
        if (!m.msg || !m.signature || m.msg_size != strlen(m.msg) || m.msg_size == 0 ||
            strlen(m.signature) > REVOCATION_SIGNATURE_MAX || size > REVOCATION_BODY_MAX)
                abort();
        ret = revocation_message_verify(&m, revocation_key);
        if (ret == 0 && !json_object_is_type(m.message, json_type_object))
                abort();
        if (ret == 0)
                *msg_out = strdup(m.msg);
        revocation_message_done(&m);
        return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };
        uint8_t mode = fuzz_byte(&in) % 4, signature[256];
        char *msg = NULL, *signature_b64 = NULL, *body = NULL;
        const char *verified = NULL;
        size_t signature_size;
        int ret;

        if (mode == 0) {
                ret = check((const char *)in.data, in.size, &verified);
                free((char *)verified);
                return 0;
        }
        msg = fuzz_string(&in, MSG_MAX);
        if (mode == 3) {
                signature_b64 = fuzz_string(&in, REVOCATION_SIGNATURE_MAX);
        } else {
                signature_size = sign(msg, signature);
                if (mode == 2) {
                        uint16_t at = fuzz_u16(&in);
                        uint8_t flip = fuzz_byte(&in) | 1; /* never 0: a byte always changes */
                        size_t msg_len = strlen(msg);

                        if (at < signature_size || !msg_len) {
                                signature[at % signature_size] ^= flip;
                        } else { /* a byte of msg, never made a NUL (C's view of msg would end there) */
                                char *c = &msg[at % msg_len], flipped = (char)(*c ^ flip);

                                *c = flipped ? flipped : *c == 'x' ? 'y' : 'x';
                        }
                }
                signature_b64 = base64_encode(signature, signature_size);
        }
        body = body_of(msg, signature_b64);
        ret = check(body, strlen(body), &verified);
        if (*msg) {
                bool parsed = ret != 1;

                if (!parsed)
                        abort(); /* a non-empty msg and a short signature always fit the bounds */
                if (mode == 1 && ret != (json_object_text(msg) ? 0 : -EBADMSG))
                        abort();
                if (mode == 2 && ret == 0)
                        abort();
                if (mode == 3 && (ret == 0) != (signature_good(msg, signature_b64) && json_object_text(msg)))
                        abort();
                if (ret == 0 && strcmp(verified, msg) != 0)
                        abort();
        }
        free((char *)verified);
        free(body);
        free(signature_b64);
        free(msg);
        return 0;
}
