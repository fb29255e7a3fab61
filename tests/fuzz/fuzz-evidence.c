/* Fuzzes the verifier's judgement of one poll (verifier/evidence.h: evidence_check) on a whole
 * `results` object, with the registered AK, the nonces and the payload key of the quote vectors
 * a real TPM made (tests/unit/vectors/quote-check/make-vectors.sh: quotes over nonceA and nonceB
 * of PCRs 0 and 16, PCR 16 bound to payload.pem). The first input byte picks the nonce asked for,
 * what the verifier remembers of the last accepted quote (nothing, or the clock of quote 1 or 2),
 * the tenant's tpm_policy (none, PCR 0 as quoted, PCR 0 otherwise) and whether a payload is to
 * be released (PCR 15 asked for); the rest is the results JSON. The seeds are the genuine
 * answers, which pass, so that the fuzzer works around a passing input.
 * Invariant: evidence_check succeeds exactly when a verifier that knows the genuine quotes says
 * it must: the quote member decodes to the very bytes the TPM signed over the nonce asked for,
 * their signature and the PCR values they vouch for; pubkey is the key PCR 16 is bound to;
 * hash_alg is sha256; the quote is newer than the last one accepted; the policy allows PCR 0;
 * every PCR asked for was quoted. A success without all of that is a forged or replayed quote
 * let through; a failure with all of it is a good agent failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/encoding.h"
#include "lib/http_response.h"
#include "lib/log.h"
#include "lib/pcrblob.h"
#include "lib/quote_string.h"
#include "lib/tpm2b.h"
#include "verifier/evidence.h"
#include "verifier/quote_check.h"
#include "tests/fuzz/vectors.h"

static TPM2B_PUBLIC ak;
static char *payload_pem;
static const char *const nonces[2] = { "nonceA", "nonceB" };
static struct {
        char *text;
        struct quote_parts parts;
        struct pcr_values pcrs;
        struct quote_clock clock;
} genuine[2];
static struct tpm_policy policies[3]; /* none, PCR 0 as quoted, PCR 0 otherwise */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_policy(struct tpm_policy *policy, const uint8_t *pcr0, bool flip) {
        char text[256], *hex = hex_encode(pcr0, 32);

        if (!hex)
                abort();
        if (flip)
                hex[0] = hex[0] == '0' ? '1' : '0';
        snprintf(text, sizeof(text), "{\"0\": [\"%s\"]}", hex);
        if (tpm_policy_load(text, strlen(text), TPM2_ALG_SHA256, policy) < 0)
                abort();
        free(hex);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        uint8_t *ak_bytes;
        size_t size;
        struct quote quote;

        setenv("TSS2_LOG", "all+NONE", 0);
        log_setup("fuzz-evidence", LOG_LEVEL_ERROR);
        ak_bytes = (uint8_t *)fuzz_vector((*argv)[0], "quote-check/ak.pub", &size);
        if (tpm2b_public_unmarshal(ak_bytes, size, &ak) < 0)
                abort();
        free(ak_bytes);
        payload_pem = fuzz_vector((*argv)[0], "quote-check/payload.pem", &size);
        for (int i = 0; i < 2; i++) {
                char name[32];
                struct quote_expect expect = { .ak = &ak, .nonce = nonces[i], .hash_alg = TPM2_ALG_SHA256, .mask = 1u };

                snprintf(name, sizeof(name), "quote-check/quote%d.txt", i + 1);
                genuine[i].text = fuzz_vector((*argv)[0], name, &size);
                genuine[i].text[strcspn(genuine[i].text, "\n")] = '\0';
                expect.pubkey_pem = payload_pem;
                if (quote_string_decode(genuine[i].text, strlen(genuine[i].text), &genuine[i].parts) < 0 ||
                    quote_check(genuine[i].text, &expect, &quote, &genuine[i].clock) < 0)
                        abort();
                genuine[i].pcrs = quote.pcrs;
                if (i == 0) {
                        load_policy(&policies[1], quote.pcrs.value[0].buffer, false);
                        load_policy(&policies[2], quote.pcrs.value[0].buffer, true);
                }
        }
        policies[0].bank = TPM2_ALG_SHA256;
        /* the vectors are two quotes of one boot, quote 2 the later */
        if (genuine[1].clock.clock <= genuine[0].clock.clock)
                abort();
        return 0;
}

static bool same_pcrs(const struct pcr_values *a, const struct pcr_values *b) {
        if (a->bank != b->bank || a->mask != b->mask)
                return false;
        for (unsigned i = 0; i < PCR_MAX; i++)
                if ((a->mask & (1u << i)) && (a->value[i].size != b->value[i].size ||
                                              memcmp(a->value[i].buffer, b->value[i].buffer, a->value[i].size) != 0))
                        return false;
        return true;
}

/* The genuine quote: the bytes the TPM signed, its signature, and the PCR values it vouches for.
 * Not byte for byte the pcrblob: tpm2-tools leaves its unused slots as its memory held them,
 * and lib/pcrblob.c ignores them, as it must. */
static bool genuine_quote(const struct quote_parts *parts, int nonce) {
        const struct quote_parts *g = &genuine[nonce].parts;
        struct pcr_values pcrs;

        return parts->attest_size == g->attest_size && memcmp(parts->attest, g->attest, g->attest_size) == 0 &&
               parts->signature_size == g->signature_size &&
               memcmp(parts->signature, g->signature, g->signature_size) == 0 &&
               pcrblob_decode(parts->pcrblob, parts->pcrblob_size, &pcrs) == 0 && same_pcrs(&pcrs, &genuine[nonce].pcrs);
}

/* A string member without a NUL inside, or NULL. */
static const char *member(json_object *results, const char *name) {
        json_object *m;

        if (!json_object_object_get_ex(results, name, &m) || !json_object_is_type(m, json_type_string) ||
            strlen(json_object_get_string(m)) != (size_t)json_object_get_string_len(m))
                return NULL;
        return json_object_get_string(m);
}

/* What a verifier that knows the genuine quotes concludes. */
static bool must_pass(json_object *results, int nonce, const struct quote_clock *last, unsigned policy, uint32_t mask) {
        static struct quote_parts parts;
        const char *quote = member(results, "quote"), *pubkey = member(results, "pubkey");
        const char *hash_alg = member(results, "hash_alg");

        if (!quote || !pubkey || !hash_alg || strlen(quote) > 64 * 1024 || strlen(pubkey) > 4096)
                return false;
        if (quote_string_decode(quote, strlen(quote), &parts) < 0 || !genuine_quote(&parts, nonce))
                return false;
        return strcmp(pubkey, payload_pem) == 0 && strcmp(hash_alg, "sha256") == 0 &&
               (!last->valid || genuine[nonce].clock.clock > last->clock) && policy != 2 && (mask & ~1u) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct attestation state = { .released_reset = -1 };
        char *pubkey = NULL;
        json_object *results;
        struct measurement_summary measurements;
        int nonce, ret;
        unsigned policy;
        bool payload;
        uint32_t mask;

        if (size == 0)
                return 0;
        nonce = data[0] & 1;
        switch (data[0] >> 1 & 3) {
        case 1:
                state.clock = genuine[0].clock;
                break;
        case 2:
                state.clock = genuine[1].clock;
                break;
        default: /* the first poll */
                break;
        }
        policy = (data[0] >> 3 & 3) % 3;
        payload = data[0] >> 5 & 1;
        mask = evidence_mask(&policies[policy], false, false, payload);

        results = http_parse_json((const char *)data + 1, size - 1);
        if (!json_object_is_type(results, json_type_object)) {
                json_object_put(results);
                return 0;
        }
        struct evidence_input in = {
                .ak = &ak,
                .tpm_policy = &policies[policy],
                .nonce = nonces[nonce],
                .mask = mask,
                .measurements = &measurements,
                .pubkey_pem = &pubkey,
        };
        struct quote_clock last = state.clock;

        ret = evidence_check(&in, results, &state);
        if ((ret == 0) != must_pass(results, nonce, &last, policy, mask))
                abort();
        if (ret == 0 && (!pubkey || strcmp(pubkey, payload_pem) != 0 || state.clock.clock != genuine[nonce].clock.clock))
                abort();
        free(pubkey);
        json_object_put(results);
        return 0;
}
