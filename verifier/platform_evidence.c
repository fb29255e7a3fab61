#include "verifier/platform_evidence.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/json_member.h"
#include "lib/log.h"
#include "lib/tpm2b.h"
#include "lib/tsm_binding.h"
#include "verifier/cert_chain.h"
#include "verifier/snp_cert_table.h"
#include "verifier/svsm_manifest.h"

/* configfs-tsm's outblob and auxblob are each at most 64 KiB (the agent's bound too) */
#define BLOB_MAX (64 * 1024)

DEFINE_POINTER_CLEANUP(X509, X509_free)

int platform_trust_load(const char *amd_certs_dir, const char *intel_root, const char *test_roots,
                        struct platform_trust *trust) {
        int ret;

        *trust = (struct platform_trust){ .tdx.intel_root_file = intel_root };
        ret = snp_amd_certs_load_dir(amd_certs_dir, &trust->snp.amd_certs);
        if (ret < 0) {
                log_warning("verifier: %s: SEV-SNP reports cannot be verified", vm_error_detail(ret));
                trust->snp.amd_certs = NULL;
        }
        if (test_roots && test_roots[0]) {
                ret = cert_pem_load_file(test_roots, &trust->test_roots);
                if (ret < 0)
                        return vm_error(ret, "platform_test_roots: %s", vm_error_detail(ret));
                log_warning("verifier: platform_test_roots %s: %d root(s) trusted without the vendors' pins: "
                            "for test doubles only",
                            test_roots, sk_X509_num(trust->test_roots));
                trust->snp.extra_roots = trust->tdx.test_roots = trust->test_roots;
        }
        return 0;
}

void platform_trust_done(struct platform_trust *trust) {
        if (trust->snp.amd_certs)
                sk_X509_pop_free(trust->snp.amd_certs, X509_free);
        if (trust->test_roots)
                sk_X509_pop_free(trust->test_roots, X509_free);
        *trust = (struct platform_trust){ 0 };
}

/* A base64 member of `evidence`, decoded, at most BLOB_MAX bytes. */
static int blob_member(json_object *evidence, const char *name, bool optional, uint8_t **out, size_t *size) {
        const char *text = NULL;
        int ret = json_member_string(evidence, name, (BLOB_MAX + 2) / 3 * 4, optional, &text);

        *out = NULL, *size = 0;
        if (ret < 0)
                return vm_error(ret, "platform evidence: %s", vm_error_detail(ret));
        if (!text)
                return 0;
        ret = base64_decode(text, strlen(text), out, size);
        if (ret < 0)
                return vm_error(-EBADMSG, "platform evidence: %s is not base64", name);
        if (*size == 0 || *size > BLOB_MAX) {
                free(*out), *out = NULL;
                return vm_error(-EBADMSG, "platform evidence: %s holds %zu bytes, not 1-%d", name, *size, BLOB_MAX);
        }
        return 0;
}

/* The report is the CPU's; the VCEK (or VLEK) that signed it and the ASK come from the
 * certificate table the host attached (auxblob): untrusted, they only have to chain to AMD's
 * pinned root. */
static int check_sev_snp(const struct platform_policy *policy, const struct platform_trust *trust,
                         const uint8_t *report_bytes, size_t report_size, const uint8_t *aux, size_t aux_size,
                         const uint8_t binding[TSM_BINDING_SIZE], char *facts, size_t facts_size) {
        struct snp_report *report = calloc(1, sizeof(*report));
        struct snp_cert_table table;
        const struct snp_cert_entry *signer, *ask;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *intermediates = sk_X509_new_null();
        struct snp_policy snp = policy->snp;
        struct snp_verified verified = { 0 };
        int ret;

        if (!report || !intermediates) {
                free(report);
                return -ENOMEM;
        }
        ret = snp_report_parse(report_bytes, report_size, report);
        if (ret >= 0 && !aux)
                ret = vm_error(-EPERM, "platform evidence: the SEV-SNP report came without its certificate table "
                                       "(auxblob): no VCEK to verify it with");
        if (ret >= 0)
                ret = snp_cert_table_parse(aux, aux_size, &table);
        if (ret >= 0) {
                /* which key signed is the report's SIGNER_INFO, inside the signature */
                enum snp_cert_kind kind = report->signing_key == SNP_SIGNING_KEY_VLEK ? SNP_CERT_VLEK : SNP_CERT_VCEK;

                signer = snp_cert_table_find(&table, kind);
                if (!signer)
                        ret = vm_error(-EPERM, "platform evidence: the certificate table has no %s, which signed the "
                                               "report", snp_cert_kind_name(kind));
                else
                        ret = cert_der_parse(snp_cert_kind_name(kind), signer->data, signer->size, &cert);
        }
        if (ret >= 0 && (ask = snp_cert_table_find(&table, SNP_CERT_ASK))) {
                X509 *ask_cert = NULL;

                ret = cert_der_parse("ASK", ask->data, ask->size, &ask_cert);
                if (ret >= 0 && !sk_X509_push(intermediates, ask_cert)) {
                        X509_free(ask_cert);
                        ret = -ENOMEM;
                }
        }
        snp.report_data = binding;
        if (ret >= 0)
                ret = snp_verify(report, cert, intermediates, &trust->snp, &snp, &verified);
        if (ret >= 0 && facts) {
                _cleanup_(freep) char *measurement = hex_encode(report->measurement, sizeof(report->measurement));

                snprintf(facts, facts_size, "SEV-SNP %s, measurement %.16s..., TCB bl %u tee %u snp %u ucode %u%s",
                         snp_product_name(verified.product), measurement ? measurement : "?", verified.reported_tcb.bl,
                         verified.reported_tcb.tee, verified.reported_tcb.snp, verified.reported_tcb.ucode,
                         verified.pinned_root ? "" : ", chain to a test root");
        }
        free(report);
        if (ret < 0 && strncmp(vm_error_detail(ret), "platform evidence", 17) != 0)
                ret = vm_error(ret < 0 && ret != -ENOMEM ? -EPERM : ret, "platform evidence: %s", vm_error_detail(ret));
        return ret;
}

/* The report as sev-snp's, over SHA-512(binding || manifest); then the manifest, which that
 * digest and the AMD signature over it vouch for, must carry the registered EK. A report made at
 * VMPL 0 comes from the SVSM, not from the guest above it: no other VMPL is allowed here,
 * whatever the policy's snp members say. */
static int check_svsm_sev_snp(const struct platform_policy *policy, const struct platform_trust *trust,
                              const uint8_t *report_bytes, size_t report_size, const uint8_t *aux, size_t aux_size,
                              const uint8_t *manifest, size_t manifest_size, const uint8_t binding[TSM_BINDING_SIZE],
                              const TPM2B_PUBLIC *ek, char *facts, size_t facts_size) {
        struct platform_policy at_vmpl0 = *policy;
        uint8_t report_data[TSM_BINDING_SIZE];
        TPMT_PUBLIC manifest_ek;
        int ret;

        at_vmpl0.snp.allowed_vmpls = 1u << 0;
        if (!manifest)
                return vm_error(-EPERM, "platform evidence: the policy requires an SVSM vTPM report and the agent "
                                        "served no manifest with it (agent.conf tsm_service_provider = svsm)");
        if (manifest_size > SVSM_MANIFEST_MAX)
                return vm_error(-EBADMSG, "platform evidence: the manifest holds %zu bytes, at most %d", manifest_size,
                                SVSM_MANIFEST_MAX);
        ret = svsm_manifest_report_data(binding, manifest, manifest_size, report_data);
        if (ret >= 0)
                ret = check_sev_snp(&at_vmpl0, trust, report_bytes, report_size, aux, aux_size, report_data, facts,
                                    facts_size);
        if (ret == -EPERM && strstr(vm_error_detail(ret), "report_data is not the expected one"))
                return vm_error(-EPERM, "platform evidence: SVSM report: REPORT_DATA is not SHA-512(binding || "
                                        "manifest) for this nonce, these keys and this manifest (not a report the "
                                        "SVSM's vTPM service made for this poll)");
        if (ret >= 0)
                ret = svsm_manifest_parse(manifest, manifest_size, &manifest_ek);
        if (ret >= 0)
                ret = svsm_manifest_ek_match(&manifest_ek, &ek->publicArea);
        if (ret < 0 && strncmp(vm_error_detail(ret), "platform evidence", 17) != 0)
                ret = vm_error(ret != -ENOMEM ? -EPERM : ret, "platform evidence: %s", vm_error_detail(ret));
        if (ret < 0 && facts && facts_size)
                facts[0] = 0;
        if (ret >= 0 && facts) {
                size_t used = strlen(facts);

                snprintf(facts + used, facts_size - used, ", through the SVSM's vTPM (its manifest's EK is the "
                                                          "registered one)");
        }
        return ret;
}

static int check_tdx(const struct platform_policy *policy, const struct platform_trust *trust,
                     const uint8_t *quote_bytes, size_t quote_size, const uint8_t binding[TSM_BINDING_SIZE],
                     char *facts, size_t facts_size) {
        struct tdx_quote *quote = calloc(1, sizeof(*quote));
        struct tdx_policy tdx = policy->tdx;
        int ret;

        if (!quote)
                return -ENOMEM;
        memcpy(tdx.report_data, binding, sizeof(tdx.report_data));
        ret = tdx_verify(quote_bytes, quote_size, &trust->tdx, &tdx, quote);
        if (ret >= 0 && facts) {
                _cleanup_(freep) char *mrtd = hex_encode(quote->body.mrtd, TDX_MR_SIZE);

                snprintf(facts, facts_size, "TDX, MRTD %.16s...", mrtd ? mrtd : "?");
        }
        free(quote);
        if (ret < 0 && ret != -ENOMEM)
                ret = vm_error(-EPERM, "platform evidence: %s", vm_error_detail(ret));
        return ret;
}

int platform_evidence_check(const struct platform_policy *policy, const struct platform_trust *trust,
                            json_object *results, const char *nonce, const TPM2B_PUBLIC *ak, const TPM2B_PUBLIC *ek,
                            char *facts, size_t facts_size) {
        json_object *evidence;
        _cleanup_(freep) uint8_t *outblob = NULL;
        _cleanup_(freep) uint8_t *auxblob = NULL;
        _cleanup_(freep) uint8_t *manifest = NULL;
        size_t out_size = 0, aux_size = 0, manifest_size = 0;
        uint8_t binding[TSM_BINDING_SIZE];
        TPM2B_NAME ak_name, ek_name;
        int ret;

        if (facts && facts_size)
                facts[0] = 0;
        if (!json_object_object_get_ex(results, "platform_evidence", &evidence) ||
            !json_object_is_type(evidence, json_type_object))
                return vm_error(-EPERM, "platform evidence: the policy requires a %s report and the agent served "
                                        "none (agent.conf platform_report)",
                                platform_kind_name(policy->kind));
        ret = blob_member(evidence, "outblob", false, &outblob, &out_size);
        if (ret >= 0)
                ret = blob_member(evidence, "auxblob", true, &auxblob, &aux_size);
        if (ret >= 0 && policy->kind == PLATFORM_SVSM_SEV_SNP)
                ret = blob_member(evidence, "manifest", true, &manifest, &manifest_size);
        /* what the report must bind: this poll's nonce and the registered keys, never the
         * agent's word for them */
        if (ret >= 0 && ((ret = tpm2b_public_name(ak, &ak_name)) < 0 || (ret = tpm2b_public_name(ek, &ek_name)) < 0))
                ret = vm_error(ret, "platform evidence: the registered AK or EK has no Name");
        if (ret >= 0)
                ret = tsm_report_binding((const uint8_t *)nonce, strlen(nonce), &ak_name, &ek_name, binding);
        if (ret < 0)
                return ret;
        switch (policy->kind) {
        case PLATFORM_SEV_SNP:
                return check_sev_snp(policy, trust, outblob, out_size, auxblob, aux_size, binding, facts, facts_size);
        case PLATFORM_SVSM_SEV_SNP:
                return check_svsm_sev_snp(policy, trust, outblob, out_size, auxblob, aux_size, manifest, manifest_size,
                                          binding, ek, facts, facts_size);
        case PLATFORM_TDX:
                return check_tdx(policy, trust, outblob, out_size, binding, facts, facts_size);
        }
        return vm_error(-EPERM, "platform evidence: no check for platform %d", (int)policy->kind);
}
