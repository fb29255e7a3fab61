/* Fuzzes the registrar's routes (verifier/registrar.c: registrar_handle) with whole requests,
 * served by the real listener over loopback (tests/fuzz/http_exchange.h, plain HTTP), on an
 * in-memory store emptied before each input. The registering TPM is the software
 * EK of tests/unit/vectors/credential (rsa2048: its private key too, so that the harness can
 * do TPM2_ActivateCredential itself) with the AK of tests/unit/vectors (ak.pub); its EK hash is
 * on the ek_allowlist. The input is a script of up to 6 steps: register an agent (one of three
 * ids), answer its challenge with the right auth_tag (in mixed case), with any string, read,
 * list or delete agents, or send any request at all.
 * Invariants: every request the handler sees gets exactly one reply, a Keylime envelope whose
 * code is the status, never 500; reading, listing and deleting need a client certificate, so
 * over plain HTTP they are 403; no agent is ever active unless its right auth_tag was sent (the
 * fuzzer cannot make one: only the harness, from the blob, can); and while only the harness's
 * own steps have changed the store, each step has the status docs/protocol.md §1 gives it: a registration
 * 200 with a blob the EK activates, the right tag 200 once, a wrong one 400 and the challenge
 * dropped, 404 for an agent never registered. */
#include <event2/keyvalq_struct.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/credential.h"
#include "lib/encoding.h"
#include "lib/http_response.h"
#include "lib/log.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "verifier/registrar.h"
#include "tests/fuzz/http_exchange.h"
#include "tests/fuzz/input.h"
#include "tests/fuzz/vectors.h"

#define STEPS_MAX 6
#define IDS 3
#define TAG_HEX 96

static struct verifier_config config;
static struct registrar registrar;
static struct http_exchange x;
static TPM2B_PUBLIC ek, ak;
static TPM2B_NAME ak_name;
static EVP_PKEY *ek_private;
static char ek_hash[65];
static char *registration_body; /* the genuine POST body */
static char ids[IDS][AGENT_ID_MAX + 1];

static const enum evhttp_cmd_type methods[] = { EVHTTP_REQ_GET,    EVHTTP_REQ_POST,  EVHTTP_REQ_PUT,
                                                EVHTTP_REQ_DELETE, EVHTTP_REQ_PATCH, EVHTTP_REQ_HEAD };

/* What docs/protocol.md §1 says the registrar holds of each of the three agents, in this input. */
struct model {
        bool lost; /* a free-form request may have changed the store */
        bool registered[IDS];
        char open_tag[IDS][TAG_HEX + 1]; /* the tag the open challenge wants; "" when none is open */
        bool right_sent[IDS];            /* a right tag was sent: only then may the agent be active */
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_public(const char *argv0, const char *name, TPM2B_PUBLIC *pub) {
        size_t size;
        _cleanup_(freep) uint8_t *bytes = (uint8_t *)fuzz_vector(argv0, name, &size);

        if (tpm2b_public_unmarshal(bytes, size, pub) < 0)
                abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        _cleanup_(freep) char *ek_pem = NULL;
        _cleanup_(freep) char *ek_b64 = NULL, *ak_b64 = NULL;
        struct store *store;
        struct ek_trust *trust;
        BIO *bio;
        size_t size;

        setenv("TSS2_LOG", "all+NONE", 0);
        log_setup("fuzz-registrar-route", LOG_LEVEL_SILENT);
        load_public((*argv)[0], "credential/rsa2048.pub", &ek);
        load_public((*argv)[0], "ak.pub", &ak);
        ek_pem = fuzz_vector((*argv)[0], "credential/rsa2048.pem", &size);
        bio = BIO_new_mem_buf(ek_pem, (int)size);
        ek_private = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        ek_b64 = tpm2b_public_base64(&ek);
        ak_b64 = tpm2b_public_base64(&ak);
        if (!ek_private || !ek_b64 || !ak_b64 || tpmkey_hash_ek(&ek.publicArea, ek_hash) < 0 ||
            tpm2b_public_name(&ak, &ak_name) < 0 ||
            asprintf(&registration_body,
                     "{\"ek_tpm\": \"%s\", \"ekcert\": null, \"aik_tpm\": \"%s\", \"mtls_cert\": \"disabled\", "
                     "\"ip\": \"127.0.0.1\", \"port\": 9002}",
                     ek_b64, ak_b64) < 0)
                abort();
        strcpy(ids[0], "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
        strcpy(ids[1], "agent.two_2");
        strcpy(ids[2], ek_hash); /* a hash_ek id: only this EK may take it */

        verifier_config_defaults(&config);
        snprintf(config.ek_allowlist, sizeof(config.ek_allowlist), "%s", ek_hash);
        /* SQLite's own in-memory database: nothing on disk to clean up after a crash ("create"
         * would make a file of that name first) */
        strcpy(config.database, ":memory:");
        /* the harness registers thousands of times a minute from loopback: no per-source bound
         * (test-registrar-bounds checks the bound) */
        config.registrations_per_minute = 0;
        strcpy(config.tpm_cert_store, "/nonexistent/tpm_cert_store"); /* no CA: EK certificates never chain */
        if (store_open(config.database, false, &store) < 0 || ek_trust_load(config.tpm_cert_store, &trust) < 0)
                abort();
        registrar = (struct registrar){ .config = &config, .store = store, .trust = trust };
        http_exchange_start(&x, registrar_handle, &registrar);
        return 0;
}

/* TPM2_ActivateCredential as the TPM holding the EK does it (Part 1, 24), then docs/protocol.md §1's
 * auth_tag: HMAC-SHA384(base64(credential), agent id), lower-case hex. */
static bool activate(const char *blob_b64, const char *agent_id, char tag[TAG_HEX + 1]) {
        static const char digits[] = "0123456789abcdef";
        _cleanup_(freep) uint8_t *blob = NULL;
        _cleanup_(freep) char *credential_b64 = NULL;
        TPM2B_ID_OBJECT id_object;
        TPM2B_ENCRYPTED_SECRET encrypted_seed;
        uint8_t seed[512], sym_key[16], plain[sizeof(id_object.credential)], mac[48];
        size_t blob_size, seed_size = sizeof(seed), integrity_size, enc_size;
        unsigned mac_size = 0;
        int out_size = 0;
        bool ok = false;

        if (base64_decode(blob_b64, strlen(blob_b64), &blob, &blob_size) < 0 ||
            credential_blob_parse(blob, blob_size, &id_object, &encrypted_seed) < 0)
                return false;
        /* the seed: RSA-OAEP with the EK's nameAlg and the label "IDENTITY" with its NUL */
        {
                EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek_private, NULL);
                OSSL_PARAM params[] = {
                        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, (char *)"oaep", 0),
                        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, (char *)"SHA256", 0),
                        OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, (char *)"SHA256", 0),
                        OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, (char *)"IDENTITY", 9),
                        OSSL_PARAM_construct_end(),
                };

                ok = ctx && EVP_PKEY_decrypt_init_ex(ctx, params) == 1 &&
                     EVP_PKEY_decrypt(ctx, seed, &seed_size, encrypted_seed.secret, encrypted_seed.size) == 1;
                EVP_PKEY_CTX_free(ctx);
        }
        /* symKey = KDFa(nameAlg, seed, "STORAGE", AK name, 128 bits) */
        if (ok) {
                EVP_KDF *kdf = EVP_KDF_fetch(NULL, "KBKDF", NULL);
                EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
                OSSL_PARAM params[] = {
                        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"COUNTER", 0),
                        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *)"HMAC", 0),
                        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
                        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, seed, seed_size),
                        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (char *)"STORAGE", 7),
                        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, ak_name.name, ak_name.size),
                        OSSL_PARAM_construct_end(),
                };

                ok = kctx && EVP_KDF_derive(kctx, sym_key, sizeof(sym_key), params) > 0;
                EVP_KDF_CTX_free(kctx);
                EVP_KDF_free(kdf);
        }
        /* TPMS_ID_OBJECT: integrityHMAC (TPM2B), then encIdentity = AES-128-CFB(TPM2B credential) */
        if (ok && id_object.size >= 2) {
                integrity_size = (size_t)id_object.credential[0] << 8 | id_object.credential[1];
                ok = id_object.size >= 2 + integrity_size + 2;
        } else
                ok = false;
        if (ok) {
                EVP_CIPHER_CTX *cctx = EVP_CIPHER_CTX_new();
                static const uint8_t iv[16];

                enc_size = id_object.size - 2 - integrity_size;
                ok = cctx && EVP_DecryptInit_ex(cctx, EVP_aes_128_cfb(), NULL, sym_key, iv) == 1 &&
                     EVP_DecryptUpdate(cctx, plain, &out_size, id_object.credential + 2 + integrity_size,
                                       (int)enc_size) == 1 &&
                     (size_t)out_size == enc_size;
                EVP_CIPHER_CTX_free(cctx);
        }
        if (!ok || ((size_t)plain[0] << 8 | plain[1]) + 2 != enc_size)
                return false;
        credential_b64 = base64_encode(plain + 2, enc_size - 2);
        if (!credential_b64 || !HMAC(EVP_sha384(), credential_b64, (int)strlen(credential_b64), (const uint8_t *)agent_id,
                                     strlen(agent_id), mac, &mac_size) || mac_size != sizeof(mac))
                return false;
        for (unsigned i = 0; i < sizeof(mac); i++) {
                tag[2 * i] = digits[mac[i] >> 4];
                tag[2 * i + 1] = digits[mac[i] & 0xf];
        }
        tag[TAG_HEX] = '\0';
        return true;
}

static int collect_id(const struct registered_agent *agent, void *user) {
        char (*all)[AGENT_ID_MAX + 1] = user;

        for (unsigned i = 0; i < 64; i++)
                if (!all[i][0]) {
                        strcpy(all[i], agent->agent_id);
                        break;
                }
        return 0;
}

/* Every agent the store holds (at most 64 in one input). */
static void stored_ids(char all[64][AGENT_ID_MAX + 1]) {
        memset(all, 0, 64 * (AGENT_ID_MAX + 1));
        if (store_agent_foreach(registrar.store, collect_id, all) < 0)
                abort();
}

static int id_index(const char *agent_id) {
        for (int i = 0; i < IDS; i++)
                if (strcmp(agent_id, ids[i]) == 0)
                        return i;
        return -1;
}

/* The invariants that hold whatever was sent. */
static void check_reply(void) {
        json_object *reply, *code, *results;

        if (!x.handled)
                return;
        if (x.status == 0 || x.status == 500)
                abort(); /* unanswered, or a request the registrar could not handle */
        reply = http_parse_json(x.reply, x.reply_size);
        if (!json_object_is_type(reply, json_type_object) || !json_object_object_get_ex(reply, "code", &code) ||
            json_object_get_int(code) != x.status || !json_object_object_get_ex(reply, "results", &results) ||
            !json_object_is_type(results, json_type_object))
                abort();
        json_object_put(reply);
}

static void check_store(const struct model *m) {
        char all[64][AGENT_ID_MAX + 1];

        stored_ids(all);
        for (unsigned i = 0; i < 64 && all[i][0]; i++) {
                struct registered_agent agent = { 0 };
                int index = id_index(all[i]);

                if (store_agent_get(registrar.store, all[i], &agent) < 0)
                        abort();
                if (agent.active && (index < 0 || !m->right_sent[index]))
                        abort(); /* activated without its auth_tag */
                registered_agent_done(&agent);
        }
}

static void request(enum evhttp_cmd_type method, const char *target, const char *body) {
        http_exchange_request(&x, method, target, body, strlen(body));
        check_reply();
}

static void expect(int status) {
        if (x.status != status)
                abort();
}

static void step_register(struct model *m, struct fuzz_input *in) {
        int i = fuzz_byte(in) % IDS;
        unsigned minor = fuzz_byte(in) % 8;
        char target[128], tag[TAG_HEX + 1];
        json_object *reply, *results, *blob;

        snprintf(target, sizeof(target), "/v2.%u/agents/%s", minor, ids[i]);
        request(EVHTTP_REQ_POST, target, registration_body);
        if (minor > REGISTRAR_API_MAX_MINOR) {
                expect(404);
                return;
        }
        if (m->lost && x.status != 200)
                return;
        expect(200);
        reply = http_parse_json(x.reply, x.reply_size);
        if (!json_object_object_get_ex(reply, "results", &results) || !json_object_object_get_ex(results, "blob", &blob) ||
            !activate(json_object_get_string(blob), ids[i], tag))
                abort(); /* a challenge the EK cannot answer */
        json_object_put(reply);
        m->registered[i] = true;
        memcpy(m->open_tag[i], tag, sizeof(tag));
}

/* PUT .../activate with the right tag (upper-casing the digits the next byte picks), or with
 * any string. */
static void step_activate(struct model *m, struct fuzz_input *in, bool right) {
        int i = fuzz_byte(in) % IDS;
        unsigned minor = fuzz_byte(in) % (REGISTRAR_API_MAX_MINOR + 1);
        char target[128];
        char *tag;
        bool matches;
        json_object *body = json_object_new_object();

        if (right) {
                uint8_t upper = fuzz_byte(in);

                tag = strdup(m->open_tag[i][0] ? m->open_tag[i] : "none open");
                for (size_t c = 0; tag && c < strlen(tag); c++)
                        if (tag[c] >= 'a' && tag[c] <= 'f' && (upper >> (c % 8) & 1))
                                tag[c] = (char)(tag[c] - 0x20);
        } else
                tag = fuzz_string(in, 300);
        if (!body || !tag)
                abort();
        json_object_object_add(body, "auth_tag", json_object_new_string(tag));
        snprintf(target, sizeof(target), "/v2.%u/agents/%s/activate", minor, ids[i]);
        request(EVHTTP_REQ_PUT, target, json_object_to_json_string(body));
        json_object_put(body);
        matches = m->open_tag[i][0] && strcasecmp(tag, m->open_tag[i]) == 0;
        if (matches && x.status == 200)
                m->right_sent[i] = true;
        if (!m->lost) {
                if (strlen(tag) > 256)
                        expect(400);
                else if (!m->registered[i])
                        expect(404);
                else if (!m->open_tag[i][0])
                        expect(400);
                else
                        expect(matches ? 200 : 400);
        }
        if (x.status != 404 && strlen(tag) <= 256)
                m->open_tag[i][0] = '\0'; /* answered, or dropped by a wrong answer */
        free(tag);
}

/* GET or DELETE an agent, or GET the list: never over plain HTTP. */
static void step_read(struct fuzz_input *in) {
        uint8_t how = fuzz_byte(in);
        char target[128];

        if (how % 3 == 2)
                snprintf(target, sizeof(target), "/v2.%u/agents%s", fuzz_byte(in) % (REGISTRAR_API_MAX_MINOR + 1),
                         how & 4 ? "/" : "");
        else
                snprintf(target, sizeof(target), "/v2.%u/agents/%s", fuzz_byte(in) % (REGISTRAR_API_MAX_MINOR + 1),
                         ids[fuzz_byte(in) % IDS]);
        request(how % 3 == 1 ? EVHTTP_REQ_DELETE : EVHTTP_REQ_GET, target, "");
        expect(403);
}

static void step_any(struct model *m, struct fuzz_input *in) {
        enum evhttp_cmd_type method = methods[fuzz_byte(in) % ELEMENTSOF(methods)];
        char *target = fuzz_string(in, 1024), *body = fuzz_string(in, 4096);

        request(method, target, body);
        if (x.handled && method != EVHTTP_REQ_GET)
                m->lost = true;
        free(target);
        free(body);
}

static void empty_store(void) {
        char all[64][AGENT_ID_MAX + 1];

        stored_ids(all);
        for (unsigned i = 0; i < 64 && all[i][0]; i++)
                if (store_agent_delete(registrar.store, all[i]) < 0)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };
        struct model m = { 0 };

        empty_store();
        for (unsigned step = 0; step < STEPS_MAX && !fuzz_input_empty(&in); step++) {
                switch (fuzz_byte(&in) % 5) {
                case 0:
                        step_register(&m, &in);
                        break;
                case 1:
                        step_activate(&m, &in, true);
                        break;
                case 2:
                        step_activate(&m, &in, false);
                        break;
                case 3:
                        step_read(&in);
                        break;
                default:
                        step_any(&m, &in);
                }
                check_store(&m);
        }
        return 0;
}
