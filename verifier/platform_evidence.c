#include "verifier/platform_evidence.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/json_member.h"
#include "lib/log.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "lib/tsm_binding.h"
#include "verifier/cert_chain.h"
#include "verifier/hcl_verify.h"
#include "verifier/snp_cert_table.h"
#include "verifier/svsm_manifest.h"

/* configfs-tsm's outblob and auxblob are each at most 64 KiB (the agent's bound too) */
#define BLOB_MAX (64 * 1024)
/* the TD's CC event log, without the unused rest of its ACPI log area (the agent's bound too) */
#define CC_EVENT_LOG_MAX (1024 * 1024)

DEFINE_POINTER_CLEANUP(X509, X509_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)

/* A VCEK file: one DER certificate, or PEM with AMD's chain after it */
#define VCEK_FILE_MAX (16 * 1024)

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

/* A base64 member of `evidence`, decoded, 1 to `max` bytes. */
static int blob_member_max(json_object *evidence, const char *name, bool optional, size_t max, uint8_t **out,
                           size_t *size) {
        const char *text = NULL;
        int ret = json_member_string(evidence, name, (max + 2) / 3 * 4, optional, &text);

        *out = NULL, *size = 0;
        if (ret < 0)
                return vm_error(ret, "platform evidence: %s", vm_error_detail(ret));
        if (!text)
                return 0;
        ret = base64_decode(text, strlen(text), out, size);
        if (ret < 0)
                return vm_error(-EBADMSG, "platform evidence: %s is not base64", name);
        if (*size == 0 || *size > max) {
                free(*out), *out = NULL;
                return vm_error(-EBADMSG, "platform evidence: %s holds %zu bytes, not 1-%zu", name, *size, max);
        }
        return 0;
}

/* A report's blob: at most BLOB_MAX bytes. */
static int blob_member(json_object *evidence, const char *name, bool optional, uint8_t **out, size_t *size) {
        return blob_member_max(evidence, name, optional, BLOB_MAX, out, size);
}

/* A PEM list: the VCEK first, then any of AMD's chain (untrusted: path building only). */
static int vcek_pem_list(const char *what, const void *pem, size_t size, X509 **cert, STACK_OF(X509) *intermediates) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *certs = NULL;
        int ret = cert_pem_parse_all(what, pem, size, &certs);

        if (ret < 0)
                return ret;
        *cert = sk_X509_shift(certs);
        while (sk_X509_num(certs) > 0) {
                X509 *x = sk_X509_shift(certs);

                if (!sk_X509_push(intermediates, x)) {
                        X509_free(x);
                        return -ENOMEM;
                }
        }
        return 0;
}

/* The tenant's VCEK for the report's chip, from vcek_cache_dir: a file named by the chip id's
 * hex (DER, or PEM with the VCEK first and AMD's chain after it), for hosts that attach no
 * certificate (Azure's vTPM carries none; a plain SEV-SNP host may serve no certificate table).
 * The file is as untrusted as an auxblob: snp_verify() chains it to AMD's pinned root and matches
 * its hwID with the signed CHIP_ID. A VLEK is the cloud's, not the chip's: no file name selects
 * it, so a VLEK-signed report needs the host's table. */
static int vcek_from_cache(const struct platform_trust *trust, const struct snp_report *report, const char *missing,
                           X509 **cert, STACK_OF(X509) *intermediates) {
        _cleanup_(freep) char *chip = NULL;
        _cleanup_(freep) char *path = NULL;
        _cleanup_(freep) char *data = NULL;
        size_t size = 0;
        int ret;

        if (report->signing_key == SNP_SIGNING_KEY_VLEK)
                return vm_error(-EPERM, "%s, and the report is signed with a VLEK, which vcek_cache_dir cannot hold "
                                        "(a VLEK is not per chip): the host must attach it",
                                missing);
        if (!trust->vcek_cache_dir || !trust->vcek_cache_dir[0])
                return vm_error(-EPERM, "%s and vcek_cache_dir is not set: no VCEK to verify it with", missing);
        if (report->mask_chip_id)
                return vm_error(-EPERM, "%s and the SNP report masks its CHIP_ID: no VCEK to look up in "
                                        "vcek_cache_dir",
                                missing);
        if (!(chip = hex_encode(report->chip_id, sizeof(report->chip_id))) ||
            asprintf(&path, "%s/%s", trust->vcek_cache_dir, chip) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        ret = file_read_all(path, VCEK_FILE_MAX, &data, &size);
        if (ret == -ENOENT)
                return vm_error(-EPERM, "vcek_cache_dir has no VCEK for this chip (%s)", path);
        if (ret < 0)
                return vm_error(-EPERM, "vcek_cache_dir: %s", vm_error_detail(ret));
        if (size >= 10 && memcmp(data, "-----BEGIN", 10) == 0)
                return vcek_pem_list(path, data, size, cert, intermediates);
        return cert_der_parse(path, (const uint8_t *)data, size, cert);
}

/* What a verified SNP report shows in the verdict's facts, after `platform` ("SEV-SNP"). */
static void snp_facts(const char *platform, const struct snp_report *report, const struct snp_verified *verified,
                      char *facts, size_t facts_size) {
        _cleanup_(freep) char *measurement = hex_encode(report->measurement, sizeof(report->measurement));

        snprintf(facts, facts_size, "%s %s, measurement %.16s..., TCB bl %u tee %u snp %u ucode %u%s", platform,
                 snp_product_name(verified->product), measurement ? measurement : "?", verified->reported_tcb.bl,
                 verified->reported_tcb.tee, verified->reported_tcb.snp, verified->reported_tcb.ucode,
                 verified->pinned_root ? "" : ", chain to a test root");
}

/* The report is the CPU's; the VCEK (or VLEK) that signed it and the ASK come from the
 * certificate table the host attached (auxblob), or the VCEK from the tenant's vcek_cache_dir when
 * the host attached none or a table without it: untrusted either way, they only have to chain to
 * AMD's pinned root, and the VCEK's hwID must be the signed CHIP_ID. */
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
                ret = vcek_from_cache(trust, report, "the SEV-SNP report came without its certificate table (auxblob)",
                                      &cert, intermediates);
        else if (ret >= 0)
                ret = snp_cert_table_parse(aux, aux_size, &table);
        if (ret >= 0 && aux) {
                /* which key signed is the report's SIGNER_INFO, inside the signature */
                enum snp_cert_kind kind = report->signing_key == SNP_SIGNING_KEY_VLEK ? SNP_CERT_VLEK : SNP_CERT_VCEK;
                char missing[96];

                signer = snp_cert_table_find(&table, kind);
                snprintf(missing, sizeof(missing), "the certificate table has no %s, which signed the report",
                         snp_cert_kind_name(kind));
                if (!signer)
                        ret = vcek_from_cache(trust, report, missing, &cert, intermediates);
                else
                        ret = cert_der_parse(snp_cert_kind_name(kind), signer->data, signer->size, &cert);
        }
        if (ret >= 0 && aux && (ask = snp_cert_table_find(&table, SNP_CERT_ASK))) {
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
        if (ret >= 0 && facts)
                snp_facts("SEV-SNP", report, &verified, facts, facts_size);
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

/* Azure's vTPM does not carry the VCEK: the agent may have fetched it from Azure's IMDS (auxblob:
 * PEM, the VCEK first, then AMD's chain), else the tenant keeps it in vcek_cache_dir. */
static int azure_vcek(const struct platform_trust *trust, const struct snp_report *report, const uint8_t *aux,
                      size_t aux_size, X509 **cert, STACK_OF(X509) *intermediates) {
        if (aux)
                return vcek_pem_list("the VCEK and chain (auxblob)", aux, aux_size, cert, intermediates);
        return vcek_from_cache(trust, report, "the Azure report came without its VCEK (auxblob)", cert,
                               intermediates);
}

/* The paravisor copies the user-data the agent wrote to NV 0x01400002 into the HCL report's
 * runtime data: it must be this poll's binding, or the report is stale or another's. */
static int hcl_user_data_check(const struct hcl_evidence *evidence, const uint8_t binding[TSM_BINDING_SIZE]) {
        if (!evidence->runtime.has_user_data)
                return vm_error(-EPERM, "HCL report: the runtime data has no user-data: it does not bind this "
                                        "nonce and these keys");
        if (memcmp(evidence->runtime.user_data, binding, TSM_BINDING_SIZE) != 0)
                return vm_error(-EPERM, "HCL report: the runtime data's user-data is not this nonce's binding of "
                                        "the registered AK and EK (a stale or replayed report)");
        return 0;
}

/* The end of an Azure HCL check: the evidence cleared, and a failure named the platform
 * evidence's: a malformed report stays -EBADMSG, -ENOMEM stays as it is, any other is a
 * refusal (-EPERM). */
static int azure_hcl_done(struct hcl_evidence *evidence, int ret) {
        hcl_evidence_clear(evidence);
        if (ret < 0 && ret != -ENOMEM)
                ret = vm_error(ret == -EBADMSG ? -EBADMSG : -EPERM, "platform evidence: %s", vm_error_detail(ret));
        return ret;
}

/* Azure's HCL report (hcl_verify.h): the paravisor's runtime data carries the AK and the
 * user-data the agent wrote, the SNP report binds the runtime data by its SHA-256 in
 * REPORT_DATA. Every check is chosen by the policy; the report's own type and hash fields only
 * have to agree. */
static int check_azure_sev_snp(const struct platform_policy *policy, const struct platform_trust *trust,
                               const uint8_t *hcl_bytes, size_t hcl_size, const uint8_t *aux, size_t aux_size,
                               const TPM2B_PUBLIC *ak, const uint8_t binding[TSM_BINDING_SIZE], char *facts,
                               size_t facts_size) {
        struct hcl_report hcl;
        struct hcl_evidence evidence = { 0 };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ak_key = NULL;
        struct snp_report *report = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *intermediates = sk_X509_new_null();
        struct snp_policy snp = policy->snp;
        struct snp_verified verified = { 0 };
        uint8_t report_data[HCL_REPORT_DATA_SIZE] = { 0 };
        int ret;

        if (!intermediates)
                return -ENOMEM;
        ret = hcl_report_parse(hcl_bytes, hcl_size, &hcl);
        if (ret >= 0 && (ret = tpmkey_to_evp(&ak->publicArea, &ak_key)) < 0)
                ret = vm_error(ret, "the registered AK: %s", vm_error_detail(ret));
        if (ret >= 0)
                ret = hcl_verify(&hcl, &(struct hcl_expect){ .type = HCL_REPORT_SNP, .ak = ak_key }, &evidence);
        if (ret < 0)
                goto out_named;
        ret = hcl_user_data_check(&evidence, binding);
        if (ret >= 0 && !(report = calloc(1, sizeof(*report))))
                ret = -ENOMEM;
        if (ret >= 0)
                ret = snp_report_parse(evidence.hw_report, evidence.hw_report_size, report);
        if (ret >= 0)
                ret = azure_vcek(trust, report, aux, aux_size, &cert, intermediates);
        /* hcl_verify() checked that the report's REPORT_DATA is this; the SNP checks compare
         * it again under the signature they verify */
        if (ret >= 0 && !SHA256(hcl.var_data, hcl.var_data_size, report_data))
                ret = -ENOMEM;
        snp.report_data = report_data;
        if (ret >= 0)
                ret = snp_verify(report, cert, intermediates, &trust->snp, &snp, &verified);
        if (ret >= 0 && facts)
                snp_facts("Azure HCL, SEV-SNP", report, &verified, facts, facts_size);
        free(report);
out_named:
        return azure_hcl_done(&evidence, ret);
}

/* Azure TDX: the HCL report's TDREPORT is MAC'd for its CPU alone, so it decides nothing here;
 * the agent served the TD quote Azure's IMDS made of it (td_quote). The quote is verified to
 * Intel's root, its signed REPORTDATA must be SHA-256(runtime data) || 32 zeros (the HCL's
 * binding), the runtime data's HCLAkPub the registered AK and its user-data this poll's
 * binding; only then is the tdx policy applied, to the quote's body. */
static int check_azure_tdx(const struct platform_policy *policy, const struct platform_trust *trust,
                           const uint8_t *hcl_bytes, size_t hcl_size, const uint8_t *quote_bytes, size_t quote_size,
                           const TPM2B_PUBLIC *ak, const uint8_t binding[TSM_BINDING_SIZE], char *facts,
                           size_t facts_size) {
        struct hcl_report hcl;
        struct hcl_evidence evidence = { 0 };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ak_key = NULL;
        _cleanup_(freep) struct tdx_quote *quote = calloc(1, sizeof(*quote));
        struct tdx_policy tdx = policy->tdx;
        int ret;

        if (!quote)
                return -ENOMEM;
        if (!quote_bytes)
                return vm_error(-EPERM, "platform evidence: the policy requires Azure's TD quote and the agent served "
                                        "none with its HCL report (td_quote, from the IMDS at the agent's "
                                        "azure_imds_url)");
        ret = hcl_report_parse(hcl_bytes, hcl_size, &hcl);
        if (ret >= 0 && hcl.type != HCL_REPORT_TDX)
                ret = vm_error(-EPERM, "HCL report: holds a %s report, the policy expects TDX",
                               hcl_report_type_name(hcl.type));
        if (ret >= 0 && (ret = tdx_quote_parse(quote_bytes, quote_size, quote)) >= 0)
                ret = tdx_quote_verify(quote, &trust->tdx);
        if (ret >= 0 && (ret = tpmkey_to_evp(&ak->publicArea, &ak_key)) < 0)
                ret = vm_error(ret, "the registered AK: %s", vm_error_detail(ret));
        if (ret >= 0)
                ret = hcl_verify(&hcl,
                                 &(struct hcl_expect){ .type = HCL_REPORT_TDX,
                                                       .ak = ak_key,
                                                       .signed_report_data = quote->body.report_data },
                                 &evidence);
        if (ret < 0)
                goto out;
        ret = hcl_user_data_check(&evidence, binding);
        /* the REPORTDATA is the HCL's binding (hcl_verify above): the policy's members remain */
        memcpy(tdx.report_data, quote->body.report_data, sizeof(tdx.report_data));
        if (ret >= 0)
                ret = tdx_policy_check(quote, &tdx);
        if (ret >= 0 && facts) {
                _cleanup_(freep) char *mrtd = hex_encode(quote->body.mrtd, TDX_MR_SIZE);

                snprintf(facts, facts_size, "Azure HCL, TDX (TD quote from IMDS), MRTD %.16s...", mrtd ? mrtd : "?");
        }
out:
        return azure_hcl_done(&evidence, ret);
}

/* The quote through Intel's pinned root, its body against the policy; then, when the agent served
 * the TD's CC event log, RTMR0-3 replayed from it must be the quote's. Whether a log is there is
 * the agent's choice, never a way around a check: a policy that names RTMR values compares them
 * with the quote whatever the log says, and require_cc_event_log refuses a quote without one. */
static int check_tdx(const struct platform_policy *policy, const struct platform_trust *trust,
                     const uint8_t *quote_bytes, size_t quote_size, const uint8_t *cc_event_log, size_t log_size,
                     const uint8_t binding[TSM_BINDING_SIZE], char *facts, size_t facts_size) {
        struct tdx_quote *quote = calloc(1, sizeof(*quote));
        struct tdx_policy tdx = policy->tdx;
        int ret;

        if (!quote)
                return -ENOMEM;
        memcpy(tdx.report_data, binding, sizeof(tdx.report_data));
        ret = tdx_verify(quote_bytes, quote_size, &trust->tdx, &tdx, quote);
        if (ret >= 0 && !cc_event_log && policy->tdx_require_cc_event_log)
                ret = vm_error(-EPERM, "the policy requires the CC event log (require_cc_event_log) and the agent "
                                       "served none with its TDX quote (cc_event_log)");
        /* only now, the quote verified, do its RTMRs say anything about the log */
        if (ret >= 0 && cc_event_log && (ret = tdx_rtmr_replay(cc_event_log, log_size, &quote->body)) < 0 &&
            ret != -ENOMEM && strncmp(vm_error_detail(ret), "CC event log", 12) != 0)
                ret = vm_error(ret, "CC event log: %s", vm_error_detail(ret));
        if (ret >= 0 && facts) {
                _cleanup_(freep) char *mrtd = hex_encode(quote->body.mrtd, TDX_MR_SIZE);

                snprintf(facts, facts_size, "TDX, MRTD %.16s...%s", mrtd ? mrtd : "?",
                         cc_event_log ? ", RTMR0-3 replayed from the CC event log" : ", no CC event log");
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
        _cleanup_(freep) uint8_t *cc_event_log = NULL;
        _cleanup_(freep) uint8_t *td_quote = NULL;
        size_t out_size = 0, aux_size = 0, manifest_size = 0, log_size = 0, td_quote_size = 0;
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
        if (ret >= 0 && policy->kind == PLATFORM_TDX)
                ret = blob_member_max(evidence, "cc_event_log", true, CC_EVENT_LOG_MAX, &cc_event_log, &log_size);
        if (ret >= 0 && policy->kind == PLATFORM_AZURE_TDX)
                ret = blob_member_max(evidence, "td_quote", true, TDX_QUOTE_MAX, &td_quote, &td_quote_size);
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
                return check_tdx(policy, trust, outblob, out_size, cc_event_log, log_size, binding, facts,
                                 facts_size);
        case PLATFORM_AZURE_SEV_SNP:
                return check_azure_sev_snp(policy, trust, outblob, out_size, auxblob, aux_size, ak, binding, facts,
                                           facts_size);
        case PLATFORM_AZURE_TDX:
                return check_azure_tdx(policy, trust, outblob, out_size, td_quote, td_quote_size, ak, binding, facts,
                                       facts_size);
        }
        return vm_error(-EPERM, "platform evidence: no check for platform %d", (int)policy->kind);
}
