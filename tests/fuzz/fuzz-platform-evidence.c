/* Fuzzes the verifier's check of the hardware report beside a quote (verifier/platform_evidence.c)
 * on a whole `results` JSON object from the agent, under a fixed sev-snp policy that allows the
 * real Milan report's measurement and debugging, with AMD's real roots (verifier/amd) at a pinned
 * time, and the AK of tests/unit/vectors as AK and EK. Invariant: the check never passes, since
 * passing needs a report AMD signed over this nonce and these keys' Names, which no input can
 * hold; it returns -EPERM, -EBADMSG or -ENOMEM, and parses nothing out of bounds. Seeds: the
 * real Milan report with a certificate table of its VCEK and AMD's ASK (genuine but not bound,
 * so it goes as far as the REPORT_DATA check), variants without the table, and one with an
 * SVSM vTPM manifest (swtpm's EK). Each input is also checked under svsm-sev-snp, and under an
 * azure-sev-snp policy (the outblob an HCL report, with the AK as the registered one), seeded
 * with the real Azure SNP HCL report, without and with a VCEK: that report has no user-data, so
 * no input passes either. And under a tdx policy that requires the CC event log, with Intel's real
 * root: no input holds a quote Intel's chain signed over this binding, so none passes, whatever
 * its cc_event_log. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/http_response.h"
#include "lib/tpm2b.h"
#include "verifier/platform_evidence.h"
#include "tests/fuzz/vectors.h"

#define PINNED_TIME ((time_t)1767225600)
#define POLICY                                                                                              \
        "{\"platform\": \"sev-snp\", \"allow_debug\": true, \"measurements\": "                                \
        "[\"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01\"]}"

static struct platform_trust trust;
#define SVSM_POLICY                                                                                         \
        "{\"platform\": \"svsm-sev-snp\", \"allow_debug\": true, \"measurements\": "                           \
        "[\"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01\"]}"
#define AZURE_POLICY                                                                                        \
        "{\"platform\": \"azure-sev-snp\", \"allow_debug\": true, \"measurements\": "                          \
        "[\"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01\"]}"

#define TDX_POLICY                                                                                          \
        "{\"platform\": \"tdx\", \"require_cc_event_log\": true, \"mrtd\": "                                 \
        "[\"6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb\"]}"

static struct platform_policy *policy, *svsm_policy, *azure_policy, *tdx_policy;
static TPM2B_PUBLIC ak;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        uint8_t *bytes;
        size_t size;
        char top[4096], *self = strdup((*argv)[0]);

        (void)argc;
        /* the trust files are read from the top of the tree, as tests/run runs harnesses */
        if (access("verifier/amd", R_OK) != 0 && self) {
                snprintf(top, sizeof(top), "%s/../../../..", dirname(self));
                if (chdir(top) != 0)
                        abort();
        }
        free(self);
        bytes = (uint8_t *)fuzz_vector((*argv)[0], "ak.pub", &size);
        if (tpm2b_public_unmarshal(bytes, size, &ak) < 0 ||
            platform_trust_load("verifier/amd", "tests/fixtures/platforms/tdx/trusted_root.pem", "", &trust) < 0 ||
            platform_policy_parse(POLICY, strlen(POLICY), &policy) < 0 ||
            platform_policy_parse(SVSM_POLICY, strlen(SVSM_POLICY), &svsm_policy) < 0 ||
            platform_policy_parse(AZURE_POLICY, strlen(AZURE_POLICY), &azure_policy) < 0 ||
            platform_policy_parse(TDX_POLICY, strlen(TDX_POLICY), &tdx_policy) < 0)
                abort();
        free(bytes);
        trust.snp.at = trust.tdx.at = PINNED_TIME;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok = json_tokener_new_ex(8);
        json_object *results;
        char facts[160];
        int ret;

        if (!tok)
                return 0;
        results = json_tokener_parse_ex(tok, (const char *)data, (int)(size > INT32_MAX ? INT32_MAX : size));
        json_tokener_free(tok);
        if (!results || !json_object_is_type(results, json_type_object)) {
                json_object_put(results);
                return 0;
        }
        ret = platform_evidence_check(policy, &trust, results, "fuzz-nonce", &ak, &ak, facts, sizeof(facts));
        if (ret != -EPERM && ret != -EBADMSG && ret != -ENOMEM)
                abort();
        ret = platform_evidence_check(svsm_policy, &trust, results, "fuzz-nonce", &ak, &ak, facts, sizeof(facts));
        if (ret != -EPERM && ret != -EBADMSG && ret != -ENOMEM)
                abort();
        ret = platform_evidence_check(azure_policy, &trust, results, "fuzz-nonce", &ak, &ak, facts, sizeof(facts));
        if (ret != -EPERM && ret != -EBADMSG && ret != -ENOMEM)
                abort();
        ret = platform_evidence_check(tdx_policy, &trust, results, "fuzz-nonce", &ak, &ak, facts, sizeof(facts));
        if (ret != -EPERM && ret != -EBADMSG && ret != -ENOMEM)
                abort();
        json_object_put(results);
        return 0;
}
