/* lib/host_binding, verifier/host_binding_check, host_evidence and host_policy without a TPM:
 * a host AK made here with OpenSSL signs a TPMS_ATTEST laid out as TPM2_Quote makes it, and each check must fail on its
 * own; the parser refuses every truncation, trailing bytes, a wrong magic or version. The same
 * checks against two swtpms are tests/integration/test-host-binding.sh. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>
#include <openssl/rsa.h>

#include "lib/hashalg.h"
#include "lib/host_binding.h"
#include "lib/tpm2b.h"
#include "verifier/host_binding_check.h"
#include "verifier/host_evidence.h"
#include "verifier/host_policy.h"
#include "lib/encoding.h"

struct fixture {
        EVP_PKEY *host_key, *other_key;
        TPM2B_PUBLIC host_ak, ek, other_ek;
        struct host_binding binding;
        uint8_t blob[HOST_BINDING_MAX_SIZE];
        size_t blob_size;
        struct host_policy policy;
        struct host_class class; /* the policy's one unnamed class */
};

static void rsa_public(EVP_PKEY *key, TPMA_OBJECT attributes, TPM2B_PUBLIC *pub) {
        BIGNUM *n = NULL;
        TPMT_PUBLIC *p = &pub->publicArea;

        memset(pub, 0, sizeof(*pub));
        assert_int_equal(EVP_PKEY_get_bn_param(key, "n", &n), 1);
        p->type = TPM2_ALG_RSA;
        p->nameAlg = TPM2_ALG_SHA256;
        p->objectAttributes = attributes;
        p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p->parameters.rsaDetail.keyBits = 2048;
        p->unique.rsa.size = (UINT16)BN_bn2bin(n, p->unique.rsa.buffer);
        BN_free(n);
}

static void ak_public(EVP_PKEY *key, TPM2B_PUBLIC *pub) {
        rsa_public(key,
                   TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH,
                   pub);
        pub->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        pub->publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
}

/* An EK-shaped public: only its Name matters here. */
static void ek_public(uint8_t fill, TPM2B_PUBLIC *pub) {
        memset(pub, 0, sizeof(*pub));
        pub->publicArea.type = TPM2_ALG_RSA;
        pub->publicArea.nameAlg = TPM2_ALG_SHA256;
        pub->publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM;
        pub->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
        pub->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
        pub->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        pub->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        pub->publicArea.parameters.rsaDetail.keyBits = 2048;
        pub->publicArea.unique.rsa.size = 256;
        memset(pub->publicArea.unique.rsa.buffer, fill, 256);
}

/* What TPM2_Quote would make: the attest over qualifyingData for `ek` (and, with a `nonce`, a
 * fresh binding's over the nonce too) and the PCR values, signed RSASSA-SHA256 by `signer`. */
static void make_binding_for(struct fixture *f, EVP_PKEY *signer, const TPM2B_PUBLIC *ek, const char *nonce) {
        struct host_binding *b = &f->binding;
        TPMS_ATTEST attest = { 0 };
        TPM2B_NAME ek_name;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t sig_size = sizeof(b->signature.signature.rsassa.sig.buffer);

        memset(b, 0, sizeof(*b));
        b->host_ak = f->host_ak;
        b->pcrs.bank = TPM2_ALG_SHA256;
        b->pcrs.mask = 0xff;
        for (unsigned i = 0; i < 8; i++) {
                b->pcrs.value[i].size = 32;
                memset(b->pcrs.value[i].buffer, 0x10 + i, 32);
        }
        attest.magic = TPM2_GENERATED_VALUE;
        attest.type = TPM2_ST_ATTEST_QUOTE;
        attest.qualifiedSigner.size = 0;
        assert_int_equal(tpm2b_public_name(ek, &ek_name), 0);
        if (nonce) {
                b->version = HOST_BINDING_VERSION_FRESH;
                b->nonce_size = strlen(nonce);
                memcpy(b->nonce, nonce, b->nonce_size);
                assert_int_equal(host_binding_fresh_qualifying_data((const uint8_t *)nonce, strlen(nonce), &ek_name,
                                                                    attest.extraData.buffer),
                                 0);
        } else
                assert_int_equal(host_binding_qualifying_data(&ek_name, attest.extraData.buffer), 0);
        attest.extraData.size = HOST_BINDING_QUALIFYING_SIZE;
        attest.clockInfo.clock = 1000;
        attest.clockInfo.safe = 1;
        pcr_selection_from_mask(TPM2_ALG_SHA256, b->pcrs.mask, &attest.attested.quote.pcrSelect);
        assert_int_equal(pcr_values_digest_with(&b->pcrs, TPM2_ALG_SHA256, attest.attested.quote.pcrDigest.buffer), 0);
        attest.attested.quote.pcrDigest.size = 32;
        assert_int_equal(tpms_attest_marshal(&attest, b->attest, sizeof(b->attest), &b->attest_size), 0);

        b->signature.sigAlg = TPM2_ALG_RSASSA;
        b->signature.signature.rsassa.hash = TPM2_ALG_SHA256;
        assert_non_null(ctx);
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, signer), 1);
        assert_int_equal(EVP_DigestSign(ctx, b->signature.signature.rsassa.sig.buffer, &sig_size, b->attest,
                                        b->attest_size),
                         1);
        EVP_MD_CTX_free(ctx);
        b->signature.signature.rsassa.sig.size = (UINT16)sig_size;
        assert_int_equal(host_binding_encode(b, f->blob, sizeof(f->blob), &f->blob_size), 0);
}

static void make_binding(struct fixture *f, EVP_PKEY *signer, const TPM2B_PUBLIC *ek) {
        make_binding_for(f, signer, ek, NULL);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->host_key = EVP_RSA_gen(2048);
        f->other_key = EVP_RSA_gen(2048);
        assert_non_null(f->host_key);
        assert_non_null(f->other_key);
        ak_public(f->host_key, &f->host_ak);
        ek_public(0xa5, &f->ek);
        ek_public(0x5a, &f->other_ek);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        EVP_PKEY_free(f->host_key);
        EVP_PKEY_free(f->other_key);
        free(f);
        return 0;
}

/* Each test starts from a good binding and a policy trusting the host AK and fixing PCRs 0-7. */
static int reset(void **state) {
        struct fixture *f = *state;

        make_binding(f, f->host_key, &f->ek);
        f->policy = (struct host_policy){ .trusted_aks = &f->host_key, .trusted_ak_count = 1 };
        f->class = (struct host_class){ .pcrs = f->binding.pcrs };
        f->policy.classes = &f->class;
        f->policy.class_count = 1;
        return 0;
}

static void test_good_binding(void **state) {
        struct fixture *f = *state;
        struct host_binding again;

        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), 0);
        assert_int_equal(host_binding_parse(f->blob, f->blob_size, &again), 0);
        assert_int_equal(again.host_ak.publicArea.unique.rsa.size, 256);
        assert_memory_equal(again.host_ak.publicArea.unique.rsa.buffer, f->host_ak.publicArea.unique.rsa.buffer, 256);
        assert_int_equal(again.attest_size, f->binding.attest_size);
        assert_memory_equal(again.attest, f->binding.attest, again.attest_size);
        assert_int_equal(again.pcrs.mask, 0xff);
        assert_memory_equal(&again.pcrs.value[7], &f->binding.pcrs.value[7], sizeof(again.pcrs.value[7]));
}

static void test_untrusted_host_ak(void **state) {
        struct fixture *f = *state;

        f->policy.trusted_aks = &f->other_key;
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "host AK is not one of");
        f->policy.trusted_ak_count = 0;
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "host AK is not one of");
}

/* Another key signed the attest, the blob names the trusted AK: the signature fails. */
static void test_signature_by_another_key(void **state) {
        struct fixture *f = *state;

        make_binding(f, f->other_key, &f->ek);
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "host binding: signature");
}

static void test_pcr_value_not_quoted(void **state) {
        struct fixture *f = *state;

        f->binding.pcrs.value[3].buffer[0] ^= 1;
        assert_int_equal(host_binding_encode(&f->binding, f->blob, sizeof(f->blob), &f->blob_size), 0);
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "host binding: pcrDigest");
}

static void test_binding_of_another_vtpm(void **state) {
        struct fixture *f = *state;

        assert_error(host_binding_check(f->blob, f->blob_size, &f->other_ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "qualifyingData");
}

static void test_host_pcr_outside_policy(void **state) {
        struct fixture *f = *state;

        f->class.pcrs.value[5].buffer[31] ^= 0x80;
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "host PCR 5 is not the policy");
        f->class.pcrs = f->binding.pcrs;
        f->class.pcrs.mask |= 1u << 9;
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "host PCR 9 (sha256) is not quoted");
}

/* No binding at all: an error only when the policy requires one. */
static void test_absent_binding(void **state) {
        struct fixture *f = *state;
        struct host_binding b;

        assert_int_equal(host_binding_parse(f->blob, 0, &b), -EBADMSG);
        assert_error(host_binding_check(NULL, 0, &f->ek, NULL, 0, &f->policy, NULL), -ENOENT, "no host binding");
        f->policy.required = true;
        assert_error(host_binding_check(NULL, 0, &f->ek, NULL, 0, &f->policy, NULL), -EPERM, "requires one");
        assert_error(host_binding_check(f->blob, 0, &f->ek, NULL, 0, &f->policy, NULL), -EPERM, "requires one");
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), 0);
}

/* An NV index read short, at every length: malformed, never a crash or a pass. */
static void test_every_truncation(void **state) {
        struct fixture *f = *state;
        struct host_binding b;

        for (size_t n = 1; n < f->blob_size; n++) {
                assert_int_equal(host_binding_parse(f->blob, n, &b), -EBADMSG);
                assert_error(host_binding_check(f->blob, n, &f->ek, NULL, 0, &f->policy, NULL), -EBADMSG, "malformed");
        }
}

static void test_trailing_bytes(void **state) {
        struct fixture *f = *state;
        struct host_binding b;

        f->blob[f->blob_size] = 0;
        assert_int_equal(host_binding_parse(f->blob, f->blob_size + 1, &b), -EBADMSG);
        assert_int_equal(host_binding_parse(f->blob, HOST_BINDING_MAX_SIZE + 1, &b), -EBADMSG);
}

static void test_magic_and_version(void **state) {
        struct fixture *f = *state;
        struct host_binding b;

        f->blob[0] ^= 1;
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "magic");
        f->blob[0] ^= 1;
        f->blob[5] = 3;
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "version 3 is not 1 or 2");
        /* a version 1 layout read as version 2: the host AK's size is no nonce size */
        f->blob[5] = 2;
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "nonce of");
}

/* A blob with a bad bank, an empty selection or PCRs beyond 23 is malformed. */
static void test_pcr_selection(void **state) {
        struct fixture *f = *state;
        size_t mask_at = f->blob_size - 8 * 32 - 4;
        struct host_binding b;

        f->blob[mask_at - 1] = 0x99; /* bank 0x0099 */
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "PCR bank");
        f->blob[mask_at - 1] = 0x0b;
        assert_int_equal(host_binding_parse(f->blob, f->blob_size, &b), 0);
        f->blob[mask_at] = 0x01; /* PCR 24 */
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "PCR mask");
        f->blob[mask_at] = 0;
        f->blob[mask_at + 3] = 0;
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "PCR mask");
}

/* Every single flipped bit fails the check, except in the host AK's objectAttributes: the AK is
 * trusted by its key, and the attribute bits an AK need not have (userWithAuth, noDA, ...)
 * change nothing the check relies on. Never a crash. */
static void test_every_bit_flip(void **state) {
        struct fixture *f = *state;
        const size_t attributes_at = 4 + 2 + 2 + 2 + 2; /* magic, version, size, type, nameAlg */

        for (size_t i = 0; i < f->blob_size; i++)
                for (unsigned bit = 0; bit < 8; bit++) {
                        int ret;

                        f->blob[i] ^= (uint8_t)(1u << bit);
                        ret = host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL);
                        f->blob[i] ^= (uint8_t)(1u << bit);
                        if (ret == 0 && (i < attributes_at || i >= attributes_at + 4))
                                fail_msg("byte %zu bit %u flipped and the binding still passed", i, bit);
                }
}

static void write_pem(const char *path, EVP_PKEY *key) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        assert_int_equal(PEM_write_PUBKEY(f, key), 1);
        fclose(f);
}

/* The store: every *.pem key is trusted, other names are ignored, a broken .pem is an error
 * naming it, a missing directory trusts nothing. */
static void test_store_load(void **state) {
        struct fixture *f = *state;
        char dir[] = "/tmp/vmattest-unit-host-aks.XXXXXX", path[128];
        struct host_policy policy = { 0 };
        FILE *junk;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/host1.pem", dir);
        write_pem(path, f->host_key);
        snprintf(path, sizeof(path), "%s/other.pem.disabled", dir);
        write_pem(path, f->other_key);
        assert_int_equal(host_policy_load_aks(dir, &policy), 0);
        assert_int_equal(policy.trusted_ak_count, 1);
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &policy, NULL), 0);
        host_policy_done(&policy);
        unlink(path);

        snprintf(path, sizeof(path), "%s/broken.pem", dir);
        assert_non_null(junk = fopen(path, "w"));
        fputs("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n", junk);
        fclose(junk);
        assert_error(host_policy_load_aks(dir, &policy), -EBADMSG, "broken.pem");
        host_policy_done(&policy);
        unlink(path);
        snprintf(path, sizeof(path), "%s/host1.pem", dir);
        unlink(path);
        rmdir(dir);
        assert_int_equal(host_policy_load_aks(dir, &policy), 0);
        assert_int_equal(policy.trusted_ak_count, 0);
}

/* The answer's member as the agent serves it (docs/protocol.md §5.9). */
static json_object *answer_with(const char *source, const uint8_t *blob, size_t size) {
        json_object *results = json_object_new_object(), *member = json_object_new_object();
        char *b64 = blob ? base64_encode(blob, size) : NULL;

        json_object_object_add(member, "source", json_object_new_string(source));
        if (b64)
                json_object_object_add(member, "binding", json_object_new_string(b64));
        json_object_object_add(results, "host_binding", member);
        free(b64);
        return results;
}

static void test_evidence_member(void **state) {
        struct fixture *f = *state;
        char host[HOST_NAME_SIZE], want[HOST_NAME_SIZE];
        TPM2B_NAME name;
        json_object *results = answer_with("nv", f->blob, f->blob_size);

        assert_int_equal(tpm2b_public_name(&f->host_ak, &name), 0);
        for (size_t i = 0; i < name.size; i++)
                snprintf(want + 2 * i, 3, "%02x", name.name[i]);
        assert_int_equal(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, host, sizeof(host), NULL), 0);
        assert_string_equal(host, want);
        /* a failing check still names the host: the poller reports the untrusted one */
        host[0] = '\0';
        assert_error(host_evidence_check(&f->policy, results, &f->other_ek, NULL, 0, host, sizeof(host), NULL), -EPERM,
                     "qualifyingData");
        assert_string_equal(host, want);
        json_object_put(results);

        results = answer_with("none", NULL, 0);
        json_object_object_add(json_object_object_get(results, "host_binding"), "reason",
                               json_object_new_string("NV index 0x01400100 is not defined"));
        f->policy.required = true;
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, host, sizeof(host), NULL), -EPERM,
                     "requires one (the agent: NV index 0x01400100 is not defined)");
        f->policy.required = false;
        assert_int_equal(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, host, sizeof(host), NULL), 0);
        assert_string_equal(host, "");
        json_object_put(results);

        results = json_object_new_object();
        f->policy.required = true;
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, NULL, 0, NULL), -EPERM,
                     "no host_binding member");
        json_object_object_add(results, "host_binding", json_object_new_string("VMHB"));
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, NULL, 0, NULL), -EBADMSG,
                     "not an object");
        json_object_put(results);
        results = answer_with("fresh", f->blob, f->blob_size);
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, NULL, 0, NULL), -EBADMSG,
                     "source \"fresh\"");
        json_object_put(results);
        results = answer_with("nv", NULL, 0);
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, NULL, 0, NULL), -EBADMSG,
                     "binding is missing");
        json_object_object_add(json_object_object_get(results, "host_binding"), "binding", json_object_new_string("*"));
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, NULL, 0, NULL), -EBADMSG, "not base64");
        json_object_object_add(json_object_object_get(results, "host_binding"), "binding", json_object_new_string(""));
        f->policy.required = false;
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, NULL, 0, NULL), -EBADMSG,
                     "an empty binding");
        json_object_put(results);
        results = answer_with("nv", f->blob, f->blob_size - 1);
        assert_error(host_evidence_check(&f->policy, results, &f->ek, NULL, 0, host, sizeof(host), NULL), -EBADMSG,
                     "malformed");
        assert_string_equal(host, "");
        json_object_put(results);
}

static char *pem_of(EVP_PKEY *key) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data, *copy;
        long size;

        assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
        size = BIO_get_mem_data(bio, &data);
        copy = strndup(data, (size_t)size);
        BIO_free(bio);
        return copy;
}

static int parse_policy(const char *text, struct host_policy **out) {
        return host_policy_parse(text, strlen(text), out);
}

static void test_policy_parse(void **state) {
        struct fixture *f = *state;
        struct host_policy *policy = NULL;
        char *pem = pem_of(f->host_key), *escaped, text[8192], pcrs[600] = "";
        size_t j = 0;
        json_object *json_pem = json_object_new_string(pem);

        escaped = strdup(json_object_to_json_string(json_pem));
        json_object_put(json_pem);
        for (unsigned i = 0; i < 8; i++) {
                char *hex = hex_encode(f->binding.pcrs.value[i].buffer, 32);

                j += (size_t)snprintf(pcrs + j, sizeof(pcrs) - j, "%s\"%u\": \"%s\"", i ? ", " : "", i, hex);
                free(hex);
        }
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"pcrs\": {%s}}", escaped, pcrs);
        assert_int_equal(parse_policy(text, &policy), 0);
        assert_true(policy->required); /* the default */
        assert_int_equal(policy->trusted_ak_count, 1);
        assert_int_equal(policy->class_count, 1);
        assert_string_equal(policy->classes[0].name, "");
        assert_int_equal(policy->classes[0].pcrs.mask, 0xff);
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, policy, NULL), 0);
        host_policy_free(policy);

        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"required\": false}", escaped);
        assert_int_equal(parse_policy(text, &policy), 0);
        assert_false(policy->required);
        assert_int_equal(policy->class_count, 0);
        host_policy_free(policy);

        /* each refused, naming what is wrong */
        assert_error(parse_policy("{\"trusted_host_aks\": [], \"pcr\": {}}", &policy), -EBADMSG,
                     "unknown member \"pcr\"");
        assert_error(parse_policy("{\"trusted_host_aks\": []}", &policy), -EBADMSG, "no trusted host AK");
        assert_error(parse_policy("{\"trusted_host_aks_dir\": \"/nonexistent-host-aks\"}", &policy), -EBADMSG,
                     "/nonexistent-host-aks holds no *.pem key");
        assert_error(parse_policy("{\"trusted_host_aks\": [\"not a key\"]}", &policy), -EBADMSG,
                     "trusted_host_aks[0]: no PEM public key");
        assert_error(parse_policy("{\"trusted_host_aks\": [1]}", &policy), -EBADMSG,
                     "trusted_host_aks[0] is not a string");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"pcrs\": {\"24\": \"00\"}}", escaped);
        assert_error(parse_policy(text, &policy), -EBADMSG, "\"24\" is not a PCR number 0-23");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"pcrs\": {\"07\": \"00\"}}", escaped);
        assert_error(parse_policy(text, &policy), -EBADMSG, "\"07\" is not a PCR number");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"pcrs\": {\"7\": \"00\"}}", escaped);
        assert_error(parse_policy(text, &policy), -EBADMSG, "PCR 7 is not 64 hex digits");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"bank\": \"md5\"}", escaped);
        assert_error(parse_policy(text, &policy), -EBADMSG, "bank is not");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"required\": 1}", escaped);
        assert_error(parse_policy(text, &policy), -EBADMSG, "required is not true or false");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"fresh\": true}", escaped);
        assert_int_equal(parse_policy(text, &policy), 0);
        assert_true(policy->fresh);
        assert_true(policy->required);
        host_policy_free(policy);
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"fresh\": true, \"required\": false}", escaped);
        assert_error(parse_policy(text, &policy), -EBADMSG, "a fresh binding is always required");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"fresh\": \"yes\"}", escaped);
        assert_error(parse_policy(text, &policy), -EBADMSG, "fresh is not true or false");
        assert_error(parse_policy("[]", &policy), -EBADMSG, "not a JSON object");
        assert_error(parse_policy("{", &policy), -EBADMSG, "host policy: the JSON text ends early");
        assert_null(policy);
        free(escaped);
        free(pem);
}

/* A policy of `classes` named classes (at most 4) whose PCRs 0-7 are the binding's, each with
 * its own values where `differs` says (class, PCR, byte to xor). */
struct class_change {
        unsigned class, pcr;
        uint8_t xor;
};

static void set_classes(struct fixture *f, struct host_class *classes, size_t count, const struct class_change *changes,
                        size_t change_count) {
        for (size_t i = 0; i < count; i++) {
                classes[i] = (struct host_class){ .pcrs = f->binding.pcrs };
                snprintf(classes[i].name, sizeof(classes[i].name), "gen%zu", i + 1);
        }
        for (size_t i = 0; i < change_count; i++)
                classes[changes[i].class].pcrs.value[changes[i].pcr].buffer[0] ^= changes[i].xor;
        f->policy.classes = classes;
        f->policy.class_count = count;
}

/* The binding passes when one class matches it whole, and names that class. */
static void test_host_classes(void **state) {
        struct fixture *f = *state;
        struct host_class classes[3];
        const char *matched = "unset";
        /* gen1: another PCR 0; gen2: another PCR 7; gen3: the binding's */
        const struct class_change three[] = { { 0, 0, 1 }, { 1, 7, 1 } };

        set_classes(f, classes, 3, three, ELEMENTSOF(three));
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, &matched), 0);
        assert_string_equal(matched, "gen3");
        /* the first in the policy's order of those that match */
        set_classes(f, classes, 3, three, 1);
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, &matched), 0);
        assert_string_equal(matched, "gen2");
        /* the unnamed class of a top-level "pcrs": "" */
        f->class = (struct host_class){ .pcrs = f->binding.pcrs };
        f->policy.classes = &f->class;
        f->policy.class_count = 1;
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, &matched), 0);
        assert_string_equal(matched, "");
}

/* PCR 0 of gen1 and PCR 7 of gen2, each class wrong at the other's PCR: no host the provider
 * runs, though every PCR the binding quotes is allowed by some class. */
static void test_host_classes_never_mixed(void **state) {
        struct fixture *f = *state;
        struct host_class classes[2];
        const char *matched = "unset";
        const struct class_change mixed[] = { { 0, 7, 1 }, { 1, 0, 1 } };

        set_classes(f, classes, 2, mixed, ELEMENTSOF(mixed));
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, &matched), -EPERM,
                     "host binding: no host class matches: the closest, \"gen1\" (7 of its 8 PCRs), differs at "
                     "host PCR 7 (another value)");
        assert_string_equal(matched, "unset");
}

/* The failure names the class closest to what the host booted, and its first PCR that differs. */
static void test_host_classes_closest(void **state) {
        struct fixture *f = *state;
        struct host_class classes[3];
        /* gen1 differs at 1, 2, 3; gen2 at 4 and 6; gen3 at 0, 5, 6 */
        const struct class_change far[] = { { 0, 1, 1 }, { 0, 2, 1 }, { 0, 3, 1 }, { 1, 4, 1 }, { 1, 6, 1 },
                                             { 2, 0, 1 }, { 2, 5, 1 }, { 2, 6, 1 } };

        set_classes(f, classes, 3, far, ELEMENTSOF(far));
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "the closest, \"gen2\" (6 of its 8 PCRs), differs at host PCR 4 (another value)");
        /* a PCR the class fixes and the binding does not quote */
        classes[1].pcrs = f->binding.pcrs;
        classes[1].pcrs.mask |= 1u << 9;
        classes[1].pcrs.value[9].size = 32;
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "the closest, \"gen2\" (8 of its 9 PCRs), differs at host PCR 9 (not quoted)");
}

static void test_host_classes_parse(void **state) {
        struct fixture *f = *state;
        struct host_policy *policy = NULL;
        char *pem = pem_of(f->host_key), *escaped, pcrs[600] = "", pcr7[600], classes[8192], text[16384];
        const char *matched = NULL;
        size_t j = 0;
        json_object *json_pem = json_object_new_string(pem);

        escaped = strdup(json_object_to_json_string(json_pem));
        json_object_put(json_pem);
        for (unsigned i = 0; i < 8; i++) {
                char *hex = hex_encode(f->binding.pcrs.value[i].buffer, 32);

                j += (size_t)snprintf(pcrs + j, sizeof(pcrs) - j, "%s\"%u\": \"%s\"", i ? ", " : "", i, hex);
                free(hex);
        }
        snprintf(pcr7, sizeof(pcr7), "\"7\": \"%064d\"", 0);
#define POLICY(...)                                                                                           \
        (snprintf(classes, sizeof(classes), __VA_ARGS__),                                                    \
         snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"host_classes\": %s}", escaped, classes), text)

        assert_int_equal(parse_policy(POLICY("[{\"name\": \"old-fw\", \"pcrs\": {%s}}, {\"name\": \"new_fw.2\", "
                                             "\"pcrs\": {%s}}]", pcr7, pcrs), &policy), 0);
        assert_int_equal(policy->class_count, 2);
        assert_string_equal(policy->classes[0].name, "old-fw");
        assert_int_equal(policy->classes[0].pcrs.mask, 0x80);
        assert_int_equal(policy->classes[1].pcrs.mask, 0xff);
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, policy, &matched), 0);
        assert_string_equal(matched, "new_fw.2");
        host_policy_free(policy);

        /* hostile or mistaken: each refused, naming the class and what is wrong */
        assert_error(parse_policy(POLICY("[{\"name\": \"a\", \"pcrs\": {%s}, \"pcr\": {}}]", pcrs), &policy), -EBADMSG,
                     "host policy: host_classes[0]: unknown member \"pcr\"");
        assert_error(parse_policy(POLICY("[{\"name\": \"a\", \"pcrs\": {}}]"), &policy), -EBADMSG,
                     "host_classes[0] (\"a\"): pcrs is empty: a class fixes at least one host PCR");
        assert_error(parse_policy(POLICY("[{\"name\": \"a\"}]"), &policy), -EBADMSG,
                     "host_classes[0] (\"a\"): pcrs is missing");
        assert_error(parse_policy(POLICY("[]"), &policy), -EBADMSG, "host_classes is empty");
        assert_error(parse_policy(POLICY("{\"a\": {\"pcrs\": {%s}}}", pcrs), &policy), -EBADMSG,
                     "host_classes is not an array");
        assert_error(parse_policy(POLICY("[{\"name\": \"a\", \"pcrs\": {\"7\": \"%064dzz\"}}]", 0), &policy),
                     -EBADMSG, "host_classes[0] (\"a\"): pcrs: PCR 7 is not 64 hex digits");
        assert_error(parse_policy(POLICY("[{\"name\": \"a\", \"pcrs\": {\"7\": \"%062dzz\"}}]", 0), &policy),
                     -EBADMSG, "host_classes[0] (\"a\"): pcrs: PCR 7 is not 64 hex digits");
        assert_error(parse_policy(POLICY("[{\"name\": \"a\", \"pcrs\": {\"31\": \"%064d\"}}]", 0), &policy),
                     -EBADMSG, "\"31\" is not a PCR number 0-23");
        assert_error(parse_policy(POLICY("[{\"name\": \"a\", \"pcrs\": {%s}}, {\"name\": \"b\", \"pcrs\": {%s}}, "
                                         "{\"name\": \"a\", \"pcrs\": {%s}}]", pcr7, pcrs, pcr7), &policy),
                     -EBADMSG, "host_classes[2]: the name \"a\" is given twice");
        assert_error(parse_policy(POLICY("[{\"name\": \"\", \"pcrs\": {%s}}]", pcr7), &policy), -EBADMSG,
                     "host_classes[0]: name is not 1-64 letters");
        assert_error(parse_policy(POLICY("[{\"name\": \"a b\\n\", \"pcrs\": {%s}}]", pcr7), &policy), -EBADMSG,
                     "host_classes[0]: name is not");
        assert_error(parse_policy(POLICY("[{\"name\": \"%065d\", \"pcrs\": {%s}}]", 0, pcr7), &policy), -EBADMSG,
                     "host_classes[0]: name is not");
        assert_error(parse_policy(POLICY("[{\"pcrs\": {%s}}]", pcr7), &policy), -EBADMSG,
                     "host_classes[0]: name is not");
        assert_error(parse_policy(POLICY("[7]"), &policy), -EBADMSG, "host_classes[0] is not an object");
        assert_error(parse_policy(POLICY("[{\"name\": \"a\", \"pcrs\": [1]}]"), &policy), -EBADMSG,
                     "host_classes[0] (\"a\"): pcrs is not an object");
        snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"pcrs\": {%s}, \"host_classes\": "
                 "[{\"name\": \"a\", \"pcrs\": {%s}}]}", escaped, pcrs, pcr7);
        assert_error(parse_policy(text, &policy), -EBADMSG, "pcrs and host_classes both given");
        /* bounded: HOST_CLASSES_MAX classes, not one more */
        for (unsigned n = HOST_CLASSES_MAX; n <= HOST_CLASSES_MAX + 1; n++) {
                size_t k = (size_t)snprintf(classes, sizeof(classes), "[");

                for (unsigned i = 0; i < n; i++)
                        k += (size_t)snprintf(classes + k, sizeof(classes) - k, "%s{\"name\": \"c%u\", \"pcrs\": {%s}}",
                                              i ? ", " : "", i, pcr7);
                snprintf(classes + k, sizeof(classes) - k, "]");
                snprintf(text, sizeof(text), "{\"trusted_host_aks\": [%s], \"host_classes\": %s}", escaped, classes);
                if (n == HOST_CLASSES_MAX) {
                        assert_int_equal(parse_policy(text, &policy), 0);
                        assert_int_equal(policy->class_count, HOST_CLASSES_MAX);
                        host_policy_free(policy);
                } else
                        assert_error(parse_policy(text, &policy), -EBADMSG,
                                     "host_classes holds 33 classes, more than 32");
        }
        assert_null(policy);
#undef POLICY
        free(escaped);
        free(pem);
}

static void test_qualifying_data_known_answer(void **state) {
        /* python3: hashlib.sha256(b'vmattest-host-binding' + bytes.fromhex('000b' + '00' * 32)) */
        static const uint8_t answer[32] = {
                0xf7, 0xd2, 0x7b, 0x00, 0x8a, 0x10, 0x6c, 0x63, 0xb2, 0x7e, 0xc7, 0x3e, 0x34, 0x13, 0x6a, 0xdc,
                0x6a, 0x5e, 0x6a, 0x0d, 0x5e, 0x8e, 0x77, 0x63, 0xda, 0x88, 0x96, 0x97, 0x51, 0x53, 0x38, 0x0e,
        };
        TPM2B_NAME name = { .size = 34 };
        uint8_t out[32], mine[32], input[21 + 34];

        name.name[1] = 0x0b;
        assert_int_equal(host_binding_qualifying_data(&name, out), 0);
        assert_memory_equal(out, answer, 32);
        memcpy(input, "vmattest-host-binding", 21);
        memcpy(input + 21, name.name, 34);
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, input, sizeof(input), mine), 0);
        assert_memory_equal(out, mine, 32);
        name.size = 33;
        assert_error(host_binding_qualifying_data(&name, out), -EINVAL, "EK name");
        name.size = 1;
        assert_error(host_binding_qualifying_data(&name, out), -EINVAL, "EK name");
}

#define POLL_NONCE "pollnonce0123456789a"

/* A fresh binding (version 2) passes for its vTPM and this poll's nonce only; each other case
 * is refused by its own name. */
static void test_fresh_binding(void **state) {
        struct fixture *f = *state;
        const uint8_t *nonce = (const uint8_t *)POLL_NONCE;
        size_t n = strlen(POLL_NONCE);
        struct host_binding b;

        make_binding_for(f, f->host_key, &f->ek, POLL_NONCE);
        assert_int_equal(host_binding_parse(f->blob, f->blob_size, &b), 0);
        assert_int_equal(b.version, 2);
        assert_int_equal(b.nonce_size, n);
        assert_memory_equal(b.nonce, nonce, n);
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, nonce, n, &f->policy, NULL), 0);
        f->policy.fresh = true;
        assert_int_equal(host_binding_check(f->blob, f->blob_size, &f->ek, nonce, n, &f->policy, NULL), 0);
        /* the same binding at the next poll: replayed */
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, (const uint8_t *)"nextpoll", 8, &f->policy,
                     NULL),
                     -EPERM, "host binding: stale: a fresh binding for an earlier nonce (\"" POLL_NONCE "\")");
        /* and for another vTPM's EK */
        assert_error(host_binding_check(f->blob, f->blob_size, &f->other_ek, nonce, n, &f->policy, NULL), -EPERM,
                     "qualifyingData is not over this agent's EK and the nonce the binding names");
        /* no nonce asked (a check on files): a fresh binding cannot pass */
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, NULL, 0, &f->policy, NULL), -EPERM,
                     "no nonce was asked");
        /* the unsigned nonce field rewritten to the poll's: not stale, but not signed either */
        make_binding_for(f, f->host_key, &f->ek, "oldnonce000000000000");
        memcpy(f->blob + 8, POLL_NONCE, n);
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, nonce, n, &f->policy, NULL), -EPERM,
                     "qualifyingData");
        /* a fresh policy refuses an NV binding, however good */
        make_binding(f, f->host_key, &f->ek);
        assert_error(host_binding_check(f->blob, f->blob_size, &f->ek, nonce, n, &f->policy, NULL), -EPERM,
                     "an NV binding (version 1), and the host policy requires a fresh one");
}

/* Every truncation of a fresh binding, and bytes after it, are malformed. */
static void test_fresh_truncation(void **state) {
        struct fixture *f = *state;
        struct host_binding b;

        make_binding_for(f, f->host_key, &f->ek, POLL_NONCE);
        for (size_t n = 0; n < f->blob_size; n++)
                assert_error(host_binding_parse(f->blob, n, &b), -EBADMSG, "host binding");
        f->blob[f->blob_size] = 0;
        assert_error(host_binding_parse(f->blob, f->blob_size + 1, &b), -EBADMSG, "host binding");
        f->blob[7] = 0; /* nonce size 0 */
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "nonce of 0 bytes");
        f->blob[6] = 1; /* nonce size 256+ */
        assert_error(host_binding_parse(f->blob, f->blob_size, &b), -EBADMSG, "not 1-64");
}

/* The agent's member: "fresh" carries a version 2 blob, "nv" a version 1 one; the poll's nonce
 * reaches the check. */
static void test_fresh_evidence_member(void **state) {
        struct fixture *f = *state;
        const uint8_t *nonce = (const uint8_t *)POLL_NONCE;
        json_object *results;

        f->policy.fresh = true;
        f->policy.required = true;
        make_binding_for(f, f->host_key, &f->ek, POLL_NONCE);
        results = answer_with("fresh", f->blob, f->blob_size);
        assert_int_equal(host_evidence_check(&f->policy, results, &f->ek, nonce, strlen(POLL_NONCE), NULL, 0, NULL), 0);
        assert_error(host_evidence_check(&f->policy, results, &f->ek, (const uint8_t *)"other", 5, NULL, 0, NULL),
                     -EPERM,
                     "stale");
        json_object_put(results);
        results = answer_with("nv", f->blob, f->blob_size);
        assert_error(host_evidence_check(&f->policy, results, &f->ek, nonce, strlen(POLL_NONCE), NULL, 0, NULL),
                     -EBADMSG,
                     "source \"nv\" with a version 2 binding");
        json_object_put(results);
        make_binding(f, f->host_key, &f->ek);
        results = answer_with("nv", f->blob, f->blob_size);
        assert_error(host_evidence_check(&f->policy, results, &f->ek, nonce, strlen(POLL_NONCE), NULL, 0, NULL), -EPERM,
                     "requires a fresh one");
        json_object_put(results);
}

static void test_fresh_qualifying_data_known_answer(void **state) {
        /* python3: hashlib.sha256(b'vmattest-host-binding-fresh' + b'abc' + bytes.fromhex('000b' + '00' * 32)) */
        TPM2B_NAME name = { .size = 34 };
        uint8_t out[32], mine[32], input[27 + 3 + 34];

        name.name[1] = 0x0b;
        assert_int_equal(host_binding_fresh_qualifying_data((const uint8_t *)"abc", 3, &name, out), 0);
        memcpy(input, "vmattest-host-binding-fresh", 27);
        memcpy(input + 27, "abc", 3);
        memcpy(input + 30, name.name, 34);
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, input, sizeof(input), mine), 0);
        assert_memory_equal(out, mine, 32);
        assert_error(host_binding_fresh_qualifying_data((const uint8_t *)"abc", 0, &name, out), -EINVAL, "nonce");
        assert_error(host_binding_fresh_qualifying_data(mine, 65, &name, out), -EINVAL, "nonce");
        name.size = 33;
        assert_error(host_binding_fresh_qualifying_data((const uint8_t *)"abc", 3, &name, out), -EINVAL, "EK name");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_good_binding, reset),
                cmocka_unit_test_setup(test_untrusted_host_ak, reset),
                cmocka_unit_test_setup(test_signature_by_another_key, reset),
                cmocka_unit_test_setup(test_pcr_value_not_quoted, reset),
                cmocka_unit_test_setup(test_binding_of_another_vtpm, reset),
                cmocka_unit_test_setup(test_host_pcr_outside_policy, reset),
                cmocka_unit_test_setup(test_absent_binding, reset),
                cmocka_unit_test_setup(test_every_truncation, reset),
                cmocka_unit_test_setup(test_trailing_bytes, reset),
                cmocka_unit_test_setup(test_magic_and_version, reset),
                cmocka_unit_test_setup(test_pcr_selection, reset),
                cmocka_unit_test_setup(test_every_bit_flip, reset),
                cmocka_unit_test_setup(test_store_load, reset),
                cmocka_unit_test(test_qualifying_data_known_answer),
                cmocka_unit_test_setup(test_evidence_member, reset),
                cmocka_unit_test_setup(test_policy_parse, reset),
                cmocka_unit_test_setup(test_host_classes, reset),
                cmocka_unit_test_setup(test_host_classes_never_mixed, reset),
                cmocka_unit_test_setup(test_host_classes_closest, reset),
                cmocka_unit_test_setup(test_host_classes_parse, reset),
                cmocka_unit_test_setup(test_fresh_binding, reset),
                cmocka_unit_test_setup(test_fresh_truncation, reset),
                cmocka_unit_test_setup(test_fresh_evidence_member, reset),
                cmocka_unit_test(test_fresh_qualifying_data_known_answer),
        };

        /* tss2-mu logs every structure the hostile inputs break; the tests check the details */
        setenv("TSS2_LOG", "all+none", 0);

        return cmocka_run_group_tests(tests, setup, teardown);
}
