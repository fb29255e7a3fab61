/* vmattest-verifier evidence snp-report, tdx-quote, hcl-report: the facts of a confidential
 * VM's hardware report and the verdicts of verifier/snp_verify.h, tdx_verify.h and
 * hcl_verify.h on it. */
#include "verifier/evidence_cmd.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "verifier/cert_chain.h"
#include "verifier/commands.h"
#include "verifier/hcl_report.h"
#include "verifier/hcl_runtime_data.h"
#include "verifier/hcl_verify.h"
#include "verifier/platform_policy.h"
#include "verifier/snp_cert_table.h"
#include "verifier/snp_report.h"
#include "verifier/snp_verify.h"
#include "verifier/tdx_quote.h"
#include "verifier/tdx_verify.h"

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)

/* ---- SEV-SNP ---- */

static json_object *tcb_json(uint64_t raw, enum snp_product product) {
        json_object *obj = json_object_new_object();
        struct snp_tcb tcb;

        snp_tcb_decode(raw, product, &tcb);
        fact_u64x(obj, "u64", raw, 16);
        if (tcb.has_fmc)
                fact_int(obj, "fmc", tcb.fmc);
        fact_int(obj, "bl", tcb.bl);
        fact_int(obj, "tee", tcb.tee);
        fact_int(obj, "snp", tcb.snp);
        fact_int(obj, "ucode", tcb.ucode);
        return obj;
}

static const char *signing_key_name(enum snp_signing_key key) {
        switch (key) {
        case SNP_SIGNING_KEY_VCEK:
                return "VCEK";
        case SNP_SIGNING_KEY_VLEK:
                return "VLEK";
        case SNP_SIGNING_KEY_NONE:
                return "none";
        default:
                return "reserved";
        }
}

static json_object *snp_facts(const struct snp_report *r, enum snp_product product) {
        json_object *f = json_object_new_object(), *bits = json_object_new_object();

        fact_int(f, "version", r->version);
        fact_int(f, "guest_svn", r->guest_svn);
        fact_u64x(f, "policy", r->policy, 16);
        fact_int(bits, "abi_minor", (int64_t)(r->policy & 0xff));
        fact_int(bits, "abi_major", (int64_t)(r->policy >> 8 & 0xff));
        json_object_object_add(bits, "smt", json_object_new_boolean(r->policy & SNP_POLICY_SMT));
        json_object_object_add(bits, "migrate_ma", json_object_new_boolean(r->policy & SNP_POLICY_MIGRATE_MA));
        json_object_object_add(bits, "debug", json_object_new_boolean(r->policy & SNP_POLICY_DEBUG));
        json_object_object_add(f, "policy_bits", bits);
        fact_hex(f, "family_id", r->family_id, sizeof(r->family_id));
        fact_hex(f, "image_id", r->image_id, sizeof(r->image_id));
        fact_int(f, "vmpl", r->vmpl);
        fact_int(f, "signature_algo", r->signature_algo);
        fact_u64x(f, "platform_info", r->platform_info, 16);
        fact_u64x(f, "signer_info", r->signer_info, 8);
        json_object_object_add(f, "signing_key", json_object_new_string(signing_key_name(r->signing_key)));
        fact_hex(f, "report_data", r->report_data, sizeof(r->report_data));
        fact_hex(f, "measurement", r->measurement, sizeof(r->measurement));
        fact_hex(f, "host_data", r->host_data, sizeof(r->host_data));
        fact_hex(f, "id_key_digest", r->id_key_digest, sizeof(r->id_key_digest));
        fact_hex(f, "author_key_digest", r->author_key_digest, sizeof(r->author_key_digest));
        fact_hex(f, "report_id", r->report_id, sizeof(r->report_id));
        fact_hex(f, "report_id_ma", r->report_id_ma, sizeof(r->report_id_ma));
        fact_hex(f, "chip_id", r->chip_id, sizeof(r->chip_id));
        /* the layout of a TCB_VERSION is the product's: the certificate's when it verified, else
         * the report's CPUID (version 3 on), else Milan's (Genoa lays it out the same) */
        json_object_object_add(f, "tcb_layout", json_object_new_string(product == SNP_PRODUCT_UNKNOWN ? "Milan/Genoa (product unknown)" : snp_product_name(product)));
        if (product == SNP_PRODUCT_UNKNOWN)
                product = SNP_PRODUCT_MILAN;
        json_object_object_add(f, "current_tcb", tcb_json(r->current_tcb, product));
        json_object_object_add(f, "reported_tcb", tcb_json(r->reported_tcb, product));
        json_object_object_add(f, "committed_tcb", tcb_json(r->committed_tcb, product));
        json_object_object_add(f, "launch_tcb", tcb_json(r->launch_tcb, product));
        return f;
}

/* One certificate, PEM (the first of the file) or DER. */
static int load_cert(const char *path, const char *what, X509 **cert) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *certs = NULL;
        size_t size;
        int ret = evidence_read(path, CERT_DER_MAX * 4, &data, &size);

        if (ret < 0)
                return ret;
        if (size > 10 && memmem(data, size, "-----BEGIN", 10)) {
                ret = cert_pem_parse_all(what, data, size, &certs);
                if (ret < 0)
                        return ret;
                *cert = sk_X509_shift(certs);
                return 0;
        }
        return cert_der_parse(what, (const uint8_t *)data, size, cert);
}

static int stack_append(STACK_OF(X509) **to, STACK_OF(X509) *from) {
        X509 *cert;

        if (!*to && !(*to = sk_X509_new_null()))
                return -ENOMEM;
        while ((cert = sk_X509_shift(from)))
                if (!sk_X509_push(*to, cert)) {
                        X509_free(cert);
                        return -ENOMEM;
                }
        return 0;
}

struct snp_inputs {
        struct snp_trust trust;
        X509 *cert;
        STACK_OF(X509) *intermediates;
        STACK_OF(X509) *test_roots;
        char *certs_blob;
};

static void snp_inputs_clear(struct snp_inputs *in) {
        if (in->trust.amd_certs)
                sk_X509_pop_free(in->trust.amd_certs, X509_free);
        if (in->test_roots)
                sk_X509_pop_free(in->test_roots, X509_free);
        if (in->intermediates)
                sk_X509_pop_free(in->intermediates, X509_free);
        X509_free(in->cert);
        free(in->certs_blob);
}

/* The VCEK/VLEK and the AMD certificates: --vcek, --certs (PEM certificates, or the extended
 * report's certificate table), --amd-certs (or the installed bundles), --test-roots. Returns 0,
 * or a negative errno with the option named (exit 2). */
static int snp_inputs_load(const struct evidence_args *a, const struct snp_report *report, struct snp_inputs *in) {
        const char *dir = a->amd_certs ? a->amd_certs : SNP_AMD_CERTS_DIR;
        struct stat st;
        int ret;

        in->trust.at = a->at;
        /* the installed bundles when there are any; a directory named with --amd-certs must have some */
        if (a->amd_certs || stat(dir, &st) == 0) {
                ret = snp_amd_certs_load_dir(dir, &in->trust.amd_certs);
                if (ret < 0 && (a->amd_certs || ret != -ENOENT))
                        return vm_error(ret, "--amd-certs %s: %s", dir, vm_error_detail(ret));
        }
        if (a->test_roots) {
                ret = cert_pem_load_file(a->test_roots, &in->test_roots);
                if (ret < 0)
                        return vm_error(ret, "--test-roots %s: %s", a->test_roots, vm_error_detail(ret));
                in->trust.extra_roots = in->test_roots;
        }
        if (a->vcek && (ret = load_cert(a->vcek, "--vcek", &in->cert)) < 0)
                return vm_error(ret, "--vcek %s: %s", a->vcek, vm_error_detail(ret));
        if (a->certs) {
                size_t size;

                ret = evidence_read(a->certs, SNP_CERT_TABLE_BLOB_MAX, &in->certs_blob, &size);
                if (ret < 0)
                        return vm_error(ret, "--certs %s: %s", a->certs, vm_error_detail(ret));
                if (size > 10 && memmem(in->certs_blob, size, "-----BEGIN", 10)) {
                        _cleanup_(cert_stack_freep) STACK_OF(X509) *pem = NULL;

                        /* untrusted like the installed bundles: only a pinned ARK among them anchors */
                        ret = cert_pem_parse_all(a->certs, in->certs_blob, size, &pem);
                        if (ret >= 0)
                                ret = stack_append(&in->trust.amd_certs, pem);
                        if (ret < 0)
                                return vm_error(ret, "--certs %s: %s", a->certs, vm_error_detail(ret));
                } else {
                        struct snp_cert_table table;
                        enum snp_cert_kind kind = report->signing_key == SNP_SIGNING_KEY_VLEK ? SNP_CERT_VLEK : SNP_CERT_VCEK;
                        const struct snp_cert_entry *entry;
                        X509 *ask = NULL;

                        ret = snp_cert_table_parse((const uint8_t *)in->certs_blob, size, &table);
                        if (ret < 0)
                                return vm_error(ret, "--certs %s: %s", a->certs, vm_error_detail(ret));
                        entry = snp_cert_table_find(&table, kind);
                        if (!in->cert && entry && (ret = cert_der_parse(snp_cert_kind_name(kind), entry->data, entry->size, &in->cert)) < 0)
                                return vm_error(ret, "--certs %s: %s", a->certs, vm_error_detail(ret));
                        entry = snp_cert_table_find(&table, SNP_CERT_ASK);
                        if (entry) {
                                if ((ret = cert_der_parse("ASK", entry->data, entry->size, &ask)) < 0)
                                        return vm_error(ret, "--certs %s: %s", a->certs, vm_error_detail(ret));
                                if (!(in->intermediates = sk_X509_new_null()) || !sk_X509_push(in->intermediates, ask)) {
                                        X509_free(ask);
                                        return -ENOMEM;
                                }
                        }
                }
        }
        return 0;
}

static int load_policy(const char *path, enum platform_kind kind, struct platform_policy **policy) {
        _cleanup_(freep) char *text = NULL;
        size_t size;
        int ret = evidence_read(path, PLATFORM_POLICY_TEXT_MAX, &text, &size);

        if (ret < 0)
                return vm_error(ret, "--policy %s: %s", path, vm_error_detail(ret));
        ret = platform_policy_parse(text, size, policy);
        if (ret < 0)
                return vm_error(ret, "--policy %s: %s", path, vm_error_detail(ret));
        if ((*policy)->kind != kind)
                return vm_error(-EINVAL, "--policy %s: a %s policy, not %s", path, platform_kind_name((*policy)->kind),
                                platform_kind_name(kind));
        return 0;
}

/* The SNP checks on a parsed report (alone or inside an HCL report): endorsement if a signing
 * certificate is at hand, then the policy and the expected REPORT_DATA when given. Returns 0 or
 * an errno for exit 2; check failures are recorded in `out`. */
static int snp_checks(const struct evidence_args *a, const struct snp_report *report, json_object *facts_parent,
                      const char *facts_name, struct evidence_out *out, bool with_policy) {
        _cleanup_(platform_policy_freep) struct platform_policy *policy = NULL;
        struct snp_inputs in = { 0 };
        struct snp_verified verified = { 0 };
        enum snp_product product = report->has_cpuid ? snp_product_of_cpuid(report->cpuid_fam_id, report->cpuid_mod_id)
                                                     : SNP_PRODUCT_UNKNOWN;
        int ret = 0, check = -1;
        json_object *facts;

        if (with_policy && a->policy && (ret = load_policy(a->policy, PLATFORM_SEV_SNP, &policy)) < 0)
                goto done;
        if ((ret = snp_inputs_load(a, report, &in)) < 0)
                goto done;
        if (in.cert) {
                check = snp_verify_endorsement(report, in.cert, in.intermediates, &in.trust, &verified);
                if (check == 0)
                        product = verified.product;
        }
        facts = snp_facts(report, product);
        if (check == 0) {
                json_object_object_add(facts, "product", json_object_new_string(snp_product_name(verified.product)));
                json_object_object_add(facts, "root", json_object_new_string(verified.pinned_root ? "pinned AMD ARK" : "--test-roots"));
        }
        json_object_object_add(facts_parent, facts_name, facts);
        if (!in.cert)
                evidence_not_checked(out, "SNP endorsement", "no VCEK or VLEK given (--vcek, or --certs with the extended report's certificate table)");
        else if ((ret = evidence_record_check(out, "SNP endorsement (chain to AMD's root, certificate extensions, signature)", check)) < 0)
                goto done;
        if (a->has_report_data) {
                check = memcmp(report->report_data, a->report_data, sizeof(report->report_data)) == 0
                                ? 0
                                : vm_error(-EACCES, "SNP report: REPORT_DATA is not the --report-data given");
                evidence_record_check(out, "SNP REPORT_DATA", check);
        } else {
                evidence_not_checked(out, "SNP REPORT_DATA", "no --report-data given: what the report binds is not compared");
        }
        if (policy) {
                policy->snp.report_data = a->has_report_data ? a->report_data : report->report_data;
                check = snp_policy_check(report, product == SNP_PRODUCT_UNKNOWN ? SNP_PRODUCT_MILAN : product, &policy->snp);
                ret = evidence_record_check(out, "SNP platform policy", check);
        } else if (with_policy) {
                evidence_not_checked(out, "SNP platform policy", "no --policy given");
        }
done:
        snp_inputs_clear(&in);
        return ret;
}

int evidence_snp_report(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(freep) struct snp_report *report = calloc(1, sizeof(*report));
        size_t size;
        int ret;

        if (!report)
                return evidence_input_error(-ENOMEM, a->file);
        if ((ret = evidence_read(a->file, SNP_REPORT_SIZE * 4, &data, &size)) < 0 ||
            (ret = snp_report_parse((const uint8_t *)data, size, report)) < 0)
                return evidence_input_error(ret, a->file);
        if ((ret = snp_checks(a, report, out->facts, "snp_report", out, true)) < 0)
                return evidence_input_error(ret, a->file);
        return evidence_finish(out, a->json);
}

/* ---- TDX ---- */

static void tdx_body_facts(json_object *f, const struct tdx_quote_body *b) {
        char name[8];

        fact_hex(f, "tee_tcb_svn", b->tee_tcb_svn, sizeof(b->tee_tcb_svn));
        fact_hex(f, "mrseam", b->mrseam, sizeof(b->mrseam));
        fact_hex(f, "mrsignerseam", b->mrsignerseam, sizeof(b->mrsignerseam));
        fact_hex(f, "seam_attributes", b->seam_attributes, sizeof(b->seam_attributes));
        fact_hex(f, "td_attributes", b->td_attributes, sizeof(b->td_attributes));
        json_object_object_add(f, "td_debug", json_object_new_boolean(b->td_attributes[0] & TDX_TD_ATTRIBUTE_DEBUG));
        fact_hex(f, "xfam", b->xfam, sizeof(b->xfam));
        fact_hex(f, "mrtd", b->mrtd, sizeof(b->mrtd));
        fact_hex(f, "mrconfigid", b->mrconfigid, sizeof(b->mrconfigid));
        fact_hex(f, "mrowner", b->mrowner, sizeof(b->mrowner));
        fact_hex(f, "mrownerconfig", b->mrownerconfig, sizeof(b->mrownerconfig));
        for (unsigned i = 0; i < TDX_RTMR_COUNT; i++) {
                snprintf(name, sizeof(name), "rtmr%u", i);
                fact_hex(f, name, b->rtmr[i], TDX_MR_SIZE);
        }
        fact_hex(f, "report_data", b->report_data, sizeof(b->report_data));
}

int evidence_tdx_quote(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *data = NULL, *ccel = NULL;
        _cleanup_(freep) struct tdx_quote *quote = calloc(1, sizeof(*quote));
        _cleanup_(platform_policy_freep) struct platform_policy *policy = NULL;
        _cleanup_(cert_stack_freep) STACK_OF(X509) *test_roots = NULL;
        struct tdx_trust trust = { .intel_root_file = a->intel_root, .at = a->at };
        json_object *f = json_object_new_object();
        size_t size, ccel_size;
        char tee[8];
        int ret, check;

        json_object_object_add(out->facts, "tdx_quote", f);
        if (!quote)
                return evidence_input_error(-ENOMEM, a->file);
        if ((ret = evidence_read(a->file, TDX_QUOTE_MAX, &data, &size)) < 0 ||
            (ret = tdx_quote_parse((const uint8_t *)data, size, quote)) < 0)
                return evidence_input_error(ret, a->file);
        if (a->policy && (ret = load_policy(a->policy, PLATFORM_TDX, &policy)) < 0)
                return evidence_input_error(ret, a->file);
        if (a->test_roots) {
                if ((ret = cert_pem_load_file(a->test_roots, &test_roots)) < 0)
                        return evidence_input_error(ret, a->test_roots);
                trust.test_roots = test_roots;
        }
        if (a->ccel && (ret = evidence_read(a->ccel, EVIDENCE_LOG_MAX, &ccel, &ccel_size)) < 0)
                return evidence_input_error(ret, a->ccel);

        fact_int(f, "version", quote->version);
        fact_int(f, "attestation_key_type", quote->attestation_key_type);
        snprintf(tee, sizeof(tee), "0x%02x", quote->tee_type);
        json_object_object_add(f, "tee_type", json_object_new_string(tee));
        fact_hex(f, "qe_vendor_id", quote->qe_vendor_id, sizeof(quote->qe_vendor_id));
        fact_hex(f, "user_data", quote->user_data, sizeof(quote->user_data));
        tdx_body_facts(f, &quote->body);
        fact_int(f, "signature_data_len", quote->signature_data_size);
        fact_int(f, "qe_auth_data_len", quote->qe_auth_data_size);
        fact_hex(f, "qe_report_data", quote->qe_report.report_data, sizeof(quote->qe_report.report_data));
        fact_int(f, "trailing_bytes_after_signature_data", (int64_t)quote->trailing_size);

        check = tdx_quote_verify(quote, &trust);
        if ((ret = evidence_record_check(out, "TDX quote signature chain (PCK chain to Intel's root, QE report, attestation key)", check)) < 0)
                return evidence_input_error(ret, a->file);
        if (a->has_report_data) {
                check = memcmp(quote->body.report_data, a->report_data, TDX_REPORT_DATA_SIZE) == 0
                                ? 0
                                : vm_error(-EPERM, "TDX quote: REPORTDATA is not the --report-data given");
                evidence_record_check(out, "TDX REPORTDATA", check);
        } else {
                evidence_not_checked(out, "TDX REPORTDATA", "no --report-data given: what the quote binds is not compared");
        }
        if (ccel) {
                check = tdx_rtmr_replay((const uint8_t *)ccel, ccel_size, &quote->body);
                if ((ret = evidence_record_check(out, "TDX RTMR replay of the CC event log", check)) < 0)
                        return evidence_input_error(ret, a->ccel);
        } else {
                evidence_not_checked(out, "TDX RTMR replay", "no CC event log given (--ccel)");
        }
        if (policy) {
                memcpy(policy->tdx.report_data, a->has_report_data ? a->report_data : quote->body.report_data,
                       TDX_REPORT_DATA_SIZE);
                check = tdx_policy_check(quote, &policy->tdx);
                if ((ret = evidence_record_check(out, "TDX platform policy", check)) < 0)
                        return evidence_input_error(ret, a->policy);
        } else {
                evidence_not_checked(out, "TDX platform policy", "no --policy given");
        }
        return evidence_finish(out, a->json);
}

/* ---- Azure HCL ---- */

/* TDREPORT (Intel TDX module ABI): REPORTMACSTRUCT (256 bytes: REPORTTYPE at 0, REPORTDATA at
 * 128), TEE_TCB_INFO (239) and 17 reserved bytes, then TDINFO at 512: ATTRIBUTES, XFAM, MRTD,
 * MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3. A MAC the host checks covers it, no signature:
 * these are facts to read, not verifiable here. */
#define TDREPORT_TDINFO 512
static void tdreport_facts(json_object *f, const uint8_t *r) {
        char name[8];

        fact_hex(f, "report_type", r, 4);
        fact_hex(f, "report_data", r + 128, 64);
        fact_hex(f, "td_attributes", r + TDREPORT_TDINFO, 8);
        fact_hex(f, "xfam", r + TDREPORT_TDINFO + 8, 8);
        fact_hex(f, "mrtd", r + TDREPORT_TDINFO + 16, TDX_MR_SIZE);
        fact_hex(f, "mrconfigid", r + TDREPORT_TDINFO + 16 + TDX_MR_SIZE, TDX_MR_SIZE);
        fact_hex(f, "mrowner", r + TDREPORT_TDINFO + 16 + 2 * TDX_MR_SIZE, TDX_MR_SIZE);
        fact_hex(f, "mrownerconfig", r + TDREPORT_TDINFO + 16 + 3 * TDX_MR_SIZE, TDX_MR_SIZE);
        for (unsigned i = 0; i < TDX_RTMR_COUNT; i++) {
                snprintf(name, sizeof(name), "rtmr%u", i);
                fact_hex(f, name, r + TDREPORT_TDINFO + 16 + (4 + i) * TDX_MR_SIZE, TDX_MR_SIZE);
        }
}

static void runtime_facts(json_object *f, const struct hcl_report *report, const struct hcl_runtime_data *rt) {
        json_object *kids = json_object_new_array(), *vm = json_object_new_object(), *top = json_object_new_array();
        _cleanup_(json_object_putp) json_object *doc = NULL;
        json_tokener *tok = json_tokener_new();

        /* the top-level members as the paravisor wrote them, in order (the parse above refused
         * anything that is not one object) */
        if (tok) {
                doc = json_tokener_parse_ex(tok, (const char *)report->var_data, (int)report->var_data_size);
                json_tokener_free(tok);
        }
        if (doc && json_object_is_type(doc, json_type_object)) {
                json_object_object_foreach(doc, key, value) {
                        (void)value;
                        json_object_array_add(top, json_object_new_string(key));
                }
        }
        json_object_object_add(f, "variable_data_json_top_keys", top);
        for (size_t i = 0; i < rt->n_keys; i++)
                json_object_array_add(kids, json_object_new_string(rt->kids[i]));
        json_object_object_add(f, "key_ids", kids);
        json_object_object_add(vm, "console-enabled", json_object_new_boolean(rt->vm.console_enabled));
        if (rt->vm.has_current_time)
                fact_int(vm, "current-time", rt->vm.current_time);
        if (rt->vm.root_cert_thumbprint[0])
                json_object_object_add(vm, "root-cert-thumbprint", json_object_new_string(rt->vm.root_cert_thumbprint));
        json_object_object_add(vm, "secure-boot", json_object_new_boolean(rt->vm.secure_boot));
        json_object_object_add(vm, "tpm-enabled", json_object_new_boolean(rt->vm.tpm_enabled));
        if (rt->vm.has_tpm_persisted)
                json_object_object_add(vm, "tpm-persisted", json_object_new_boolean(rt->vm.tpm_persisted));
        if (rt->vm.vm_unique_id[0])
                json_object_object_add(vm, "vmUniqueId", json_object_new_string(rt->vm.vm_unique_id));
        json_object_object_add(f, "vm_configuration", vm);
        if (rt->has_user_data)
                fact_hex(f, "user_data", rt->user_data, sizeof(rt->user_data));
}

int evidence_hcl_report(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(freep) struct snp_report *snp = calloc(1, sizeof(*snp));
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ak = NULL;
        struct hcl_report report;
        struct hcl_runtime_data runtime = { 0 };
        struct hcl_evidence evidence = { 0 };
        struct hcl_expect expect = { 0 };
        TPM2B_PUBLIC ak_public;
        json_object *f = json_object_new_object(), *header, *igvm;
        uint8_t digest[32];
        size_t size;
        int ret, check;

        json_object_object_add(out->facts, "hcl_report", f);
        if (!snp)
                return evidence_input_error(-ENOMEM, a->file);
        if ((ret = evidence_read(a->file, HCL_REPORT_MAX, &data, &size)) < 0 ||
            (ret = hcl_report_parse((const uint8_t *)data, size, &report)) < 0)
                return evidence_input_error(ret, a->file);
        if (a->ak && (ret = evidence_load_ak(a->ak, &ak_public, &ak)) < 0)
                return evidence_input_error(ret, a->ak);
        header = json_object_new_object();
        igvm = json_object_new_object();
        fact_int(header, "version", report.version);
        fact_int(header, "report_size", report.report_size);
        fact_int(header, "request_type", report.request_type);
        fact_int(header, "status", report.status);
        json_object_object_add(f, "header", header);
        json_object_object_add(f, "type", json_object_new_string(hcl_report_type_name(report.type)));
        fact_int(igvm, "data_size", report.data_size);
        fact_int(igvm, "version", report.request_version);
        fact_int(igvm, "report_type", report.type);
        fact_int(igvm, "report_data_hash_type", report.hash_type);
        fact_int(igvm, "variable_data_size", (int64_t)report.var_data_size);
        json_object_object_add(f, "igvm_request_data", igvm);
        if (hashalg_digest(TPM2_ALG_SHA256, report.var_data, report.var_data_size, digest) >= 0)
                fact_hex(f, "variable_data_sha256", digest, sizeof(digest));
        fact_hex(f, "hw_report_data",
                 report.hw_report + (report.type == HCL_REPORT_SNP ? HCL_SNP_REPORT_DATA_OFFSET : HCL_TDX_REPORT_DATA_OFFSET),
                 HCL_REPORT_DATA_SIZE);
        if ((ret = hcl_runtime_data_parse(report.var_data, report.var_data_size, &runtime)) < 0)
                return evidence_input_error(ret, a->file);
        runtime_facts(f, &report, &runtime);

        /* The type is not signed: the platform is the tenant's word (--type), as the verifier
         * takes it from its policy; without it the report's own claim stands, and is said to. An
         * SNP report relabelled TDX would otherwise escape the SNP signature check. Without --ak
         * the runtime data's own HCLAkPub stands in, so that the binding is checked all the same. */
        expect.type = report.type;
        if (a->type && (expect.type = strcmp(a->type, "snp") == 0 ? HCL_REPORT_SNP
                                      : strcmp(a->type, "tdx") == 0 ? HCL_REPORT_TDX : 0) == 0) {
                hcl_runtime_data_clear(&runtime);
                log_error("--type %.20s: not snp or tdx", a->type);
                return EXIT_USAGE;
        }
        if (!a->type)
                evidence_not_checked(out, "HCL report type", "no --type given: the hardware report's type is the report's unsigned claim");
        expect.ak = ak ? ak : runtime.ak_public;
        check = hcl_verify(&report, &expect, &evidence);
        hcl_evidence_clear(&evidence);
        ret = evidence_record_check(out, ak ? "HCL type, binding and AK (runtime data in REPORT_DATA, HCLAkPub is --ak)"
                                   : "HCL type and binding (SHA-256 of the runtime data in the hardware report's REPORT_DATA)",
                           check);
        hcl_runtime_data_clear(&runtime);
        if (ret < 0)
                return evidence_input_error(ret, a->file);
        if (!ak)
                evidence_not_checked(out, "HCL AK", "no --ak given: HCLAkPub is not compared with the AK that signs the quotes");

        if (check < 0) /* of another type, or unbound: its hardware report is not looked into */
                return evidence_finish(out, a->json);
        if (report.type == HCL_REPORT_SNP) {
                if ((ret = snp_report_parse(report.hw_report, report.hw_report_size, snp)) < 0)
                        return evidence_input_error(ret, a->file);
                if ((ret = snp_checks(a, snp, f, "snp_report", out, false)) < 0)
                        return evidence_input_error(ret, a->file);
        } else {
                json_object *td = json_object_new_object();

                tdreport_facts(td, report.hw_report);
                json_object_object_add(f, "tdreport", td);
                evidence_not_checked(out, "TDX TDREPORT", "a TDREPORT is MAC-protected for the host, not signed: it cannot be verified offline");
        }
        return evidence_finish(out, a->json);
}
