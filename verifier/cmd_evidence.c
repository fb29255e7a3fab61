/* vmattest-verifier evidence: offline checks of one saved piece of evidence (an SEV-SNP report, a
 * TDX quote, an Azure HCL report, a TPM quote with its AK, a UEFI event log) for a tenant who
 * debugs a platform. It calls the very parsers and checks the verifier polls with, prints the
 * facts they found and the verdict of every check it could make, and says which it could not.
 * Every input is read bounded (file_read_all) and parsed by the bounded parsers. */
#include <getopt.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <tss2/tss2_mu.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/pcr_values.h"
#include "lib/quote_string.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "policy/boot_events.h"
#include "verifier/cert_chain.h"
#include "verifier/commands.h"
#include "verifier/hcl_report.h"
#include "verifier/hcl_runtime_data.h"
#include "verifier/hcl_verify.h"
#include "verifier/platform_policy.h"
#include "verifier/quote_check.h"
#include "verifier/snp_cert_table.h"
#include "verifier/snp_report.h"
#include "verifier/snp_verify.h"
#include "verifier/tdx_quote.h"
#include "verifier/tdx_verify.h"

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(json_object, json_object_put)

/* The largest file any kind reads: an event log (a few hundred KiB on real machines). */
#define EVIDENCE_LOG_MAX (16u << 20)
#define EVIDENCE_SMALL_MAX (256u * 1024)

static const char evidence_help[] =
        "Usage: vmattest-verifier evidence KIND [OPTIONS] FILE\n"
        "\n"
        "Verifies one saved piece of evidence offline, with the verifier's own checks, and prints the\n"
        "facts found and the verdict of each check made (and names the checks not made).\n"
        "\n"
        "Kinds:\n"
        "  snp-report FILE [--vcek DER|PEM] [--certs AUXBLOB|PEM] [--amd-certs DIR] [--test-roots PEM]\n"
        "                  [--policy FILE] [--report-data HEX]\n"
        "  tdx-quote FILE [--intel-root PEM] [--test-roots PEM] [--policy FILE] [--report-data HEX]\n"
        "                 [--ccel FILE]\n"
        "  hcl-report FILE [--type snp|tdx] [--ak PEM|TPMT_PUBLIC|TPM2B_PUBLIC] [--vcek ...] [--certs ...]\n"
        "                  [--amd-certs DIR] [--test-roots PEM]\n"
        "  tpm-quote --attest FILE --signature FILE --ak FILE [--nonce HEX] [--pcrs FILE]\n"
        "  eventlog FILE [--bank sha1|sha256|sha384]\n"
        "\n"
        "      --at TIME        verify certificates at TIME (2026-12-31T23:59:59Z, a date, or seconds\n"
        "                       since the epoch) instead of now\n"
        "      --json           print one JSON object {kind, verdict, reasons, not_checked, facts}\n"
        "  -h, --help           show this help\n"
        "\n"
        "Exit status: 0 every check made passed, 1 a check failed, 2 usage error or an input that\n"
        "cannot be read or parsed.\n";

enum evidence_option {
        OPT_VCEK = 1u << 0,
        OPT_CERTS = 1u << 1,
        OPT_AMD_CERTS = 1u << 2,
        OPT_TEST_ROOTS = 1u << 3,
        OPT_POLICY = 1u << 4,
        OPT_REPORT_DATA = 1u << 5,
        OPT_INTEL_ROOT = 1u << 6,
        OPT_CCEL = 1u << 7,
        OPT_AK = 1u << 8,
        OPT_ATTEST = 1u << 9,
        OPT_SIGNATURE = 1u << 10,
        OPT_NONCE = 1u << 11,
        OPT_PCRS = 1u << 12,
        OPT_BANK = 1u << 13,
        OPT_AT = 1u << 14,
        OPT_JSON = 1u << 15,
        OPT_TYPE = 1u << 16,
};

struct evidence_args {
        unsigned given;
        const char *file, *vcek, *certs, *amd_certs, *test_roots, *policy, *intel_root, *ccel, *ak;
        const char *attest, *signature, *pcrs, *bank, *type;
        uint8_t report_data[64];
        bool has_report_data;
        uint8_t nonce[64];
        size_t nonce_size;
        bool has_nonce;
        time_t at;
        bool json;
};

/* What one run found: the facts, and for each check made its result. */
struct evidence_out {
        const char *kind;
        json_object *facts;
        json_object *checks;      /* [{check, result, reason?}] */
        json_object *reasons;     /* the failures' reasons */
        json_object *not_checked; /* checks that could not be made, and why */
        bool failed;
};

/* An unusable input (a file that cannot be read, a field that does not parse): exit 2. */
static int input_error(int ret, const char *what) {
        log_error("%s: %s", what, vm_error_detail(ret));
        return EXIT_USAGE;
}

static int read_input(const char *path, size_t max, char **data, size_t *size) {
        int ret = file_read_all(path, max, data, size);

        if (ret == -ENOENT)
                return vm_error(ret, "no such file");
        if (ret == -EFBIG)
                return vm_error(ret, "larger than %zu bytes", max);
        return ret;
}

static json_object *hex_json(const void *data, size_t size) {
        _cleanup_(freep) char *hex = hex_encode(data, size);

        return json_object_new_string(hex ? hex : "");
}

static void fact_hex(json_object *obj, const char *name, const void *data, size_t size) {
        json_object_object_add(obj, name, hex_json(data, size));
}

static void fact_u64x(json_object *obj, const char *name, uint64_t value, int digits) {
        char text[24];

        snprintf(text, sizeof(text), "0x%0*llx", digits, (unsigned long long)value);
        json_object_object_add(obj, name, json_object_new_string(text));
}

static void fact_int(json_object *obj, const char *name, int64_t value) {
        json_object_object_add(obj, name, json_object_new_int64(value));
}

/* A check made: `ret` 0 passed, -EACCES or -EPERM failed (the detail is the reason); anything
 * else means the check could not be made on this input, returned for the caller to end with 2. */
static int check_result(struct evidence_out *out, const char *check, int ret) {
        json_object *entry;

        if (ret < 0 && ret != -EACCES && ret != -EPERM)
                return ret;
        entry = json_object_new_object();
        json_object_object_add(entry, "check", json_object_new_string(check));
        json_object_object_add(entry, "result", json_object_new_string(ret == 0 ? "pass" : "fail"));
        if (ret < 0) {
                const char *reason = vm_error_detail(ret);

                json_object_object_add(entry, "reason", json_object_new_string(reason));
                json_object_array_add(out->reasons, json_object_new_string(reason));
                out->failed = true;
        }
        json_object_array_add(out->checks, entry);
        vm_error_clear();
        return 0;
}

static void not_checked(struct evidence_out *out, const char *check, const char *why) {
        json_object *entry = json_object_new_object();

        json_object_object_add(entry, "check", json_object_new_string(check));
        json_object_object_add(entry, "why", json_object_new_string(why));
        json_object_array_add(out->not_checked, entry);
}

/* Text output: the facts as an indented "name: value" tree, then each check. */
static void print_value(const char *name, json_object *value, int depth) {
        int indent = 2 * depth;

        switch (json_object_get_type(value)) {
        case json_type_object:
                printf("%*s%s:\n", indent, "", name);
                json_object_object_foreach(value, key, member) print_value(key, member, depth + 1);
                break;
        case json_type_array: {
                size_t n = json_object_array_length(value);
                bool scalars = true;

                for (size_t i = 0; i < n; i++) {
                        json_type t = json_object_get_type(json_object_array_get_idx(value, i));

                        scalars = scalars && t != json_type_object && t != json_type_array;
                }
                if (scalars && n <= 24) {
                        printf("%*s%s: [", indent, "", name);
                        for (size_t i = 0; i < n; i++)
                                printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(value, i)));
                        printf("]\n");
                        break;
                }
                printf("%*s%s:\n", indent, "", name);
                for (size_t i = 0; i < n; i++) {
                        char index[24];

                        snprintf(index, sizeof(index), "[%zu]", i);
                        print_value(index, json_object_array_get_idx(value, i), depth + 1);
                }
                break;
        }
        default:
                printf("%*s%s: %s\n", indent, "", name, json_object_get_string(value));
        }
}

static int finish(struct evidence_out *out, bool json) {
        if (json) {
                _cleanup_(json_object_putp) json_object *top = json_object_new_object();

                json_object_object_add(top, "kind", json_object_new_string(out->kind));
                json_object_object_add(top, "verdict", json_object_new_string(out->failed ? "fail" : "pass"));
                json_object_object_add(top, "reasons", json_object_get(out->reasons));
                json_object_object_add(top, "checks", json_object_get(out->checks));
                json_object_object_add(top, "not_checked", json_object_get(out->not_checked));
                json_object_object_add(top, "facts", json_object_get(out->facts));
                puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        } else {
                printf("%s\n", out->kind);
                json_object_object_foreach(out->facts, key, value) print_value(key, value, 1);
                printf("checks:\n");
                for (size_t i = 0; i < json_object_array_length(out->checks); i++) {
                        json_object *c = json_object_array_get_idx(out->checks, i), *check, *result, *reason;

                        json_object_object_get_ex(c, "check", &check);
                        json_object_object_get_ex(c, "result", &result);
                        if (json_object_object_get_ex(c, "reason", &reason))
                                printf("  %s: %s: %s\n", json_object_get_string(check), json_object_get_string(result),
                                       json_object_get_string(reason));
                        else
                                printf("  %s: %s\n", json_object_get_string(check), json_object_get_string(result));
                }
                for (size_t i = 0; i < json_object_array_length(out->not_checked); i++) {
                        json_object *c = json_object_array_get_idx(out->not_checked, i), *check, *why;

                        json_object_object_get_ex(c, "check", &check);
                        json_object_object_get_ex(c, "why", &why);
                        printf("  %s: not checked: %s\n", json_object_get_string(check), json_object_get_string(why));
                }
                printf("verdict: %s\n", out->failed ? "fail" : "pass");
        }
        return out->failed ? EXIT_FAILED : EXIT_OK;
}

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
        int ret = read_input(path, CERT_DER_MAX * 4, &data, &size);

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

                ret = read_input(a->certs, SNP_CERT_TABLE_BLOB_MAX, &in->certs_blob, &size);
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

static int hex_arg(const char *option, const char *text, uint8_t *out, size_t cap, size_t *size, bool exact) {
        size_t n = 0;
        int ret = hex_decode(text, strlen(text), out, cap, &n);

        if (ret < 0 || (exact && n != cap))
                return vm_error(-EINVAL, "%s: not %s%zu bytes of hex", option, exact ? "" : "at most ", cap);
        if (size)
                *size = n;
        return 0;
}

static int load_policy(const char *path, enum platform_kind kind, struct platform_policy **policy) {
        _cleanup_(freep) char *text = NULL;
        size_t size;
        int ret = read_input(path, PLATFORM_POLICY_TEXT_MAX, &text, &size);

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
                not_checked(out, "SNP endorsement", "no VCEK or VLEK given (--vcek, or --certs with the extended report's certificate table)");
        else if ((ret = check_result(out, "SNP endorsement (chain to AMD's root, certificate extensions, signature)", check)) < 0)
                goto done;
        if (a->has_report_data) {
                check = memcmp(report->report_data, a->report_data, sizeof(report->report_data)) == 0
                                ? 0
                                : vm_error(-EACCES, "SNP report: REPORT_DATA is not the --report-data given");
                check_result(out, "SNP REPORT_DATA", check);
        } else {
                not_checked(out, "SNP REPORT_DATA", "no --report-data given: what the report binds is not compared");
        }
        if (policy) {
                policy->snp.report_data = a->has_report_data ? a->report_data : report->report_data;
                check = snp_policy_check(report, product == SNP_PRODUCT_UNKNOWN ? SNP_PRODUCT_MILAN : product, &policy->snp);
                ret = check_result(out, "SNP platform policy", check);
        } else if (with_policy) {
                not_checked(out, "SNP platform policy", "no --policy given");
        }
done:
        snp_inputs_clear(&in);
        return ret;
}

static int run_snp_report(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(freep) struct snp_report *report = calloc(1, sizeof(*report));
        size_t size;
        int ret;

        if (!report)
                return input_error(-ENOMEM, a->file);
        if ((ret = read_input(a->file, SNP_REPORT_SIZE * 4, &data, &size)) < 0 ||
            (ret = snp_report_parse((const uint8_t *)data, size, report)) < 0)
                return input_error(ret, a->file);
        if ((ret = snp_checks(a, report, out->facts, "snp_report", out, true)) < 0)
                return input_error(ret, a->file);
        return finish(out, a->json);
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

static int run_tdx_quote(const struct evidence_args *a, struct evidence_out *out) {
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
                return input_error(-ENOMEM, a->file);
        if ((ret = read_input(a->file, TDX_QUOTE_MAX, &data, &size)) < 0 ||
            (ret = tdx_quote_parse((const uint8_t *)data, size, quote)) < 0)
                return input_error(ret, a->file);
        if (a->policy && (ret = load_policy(a->policy, PLATFORM_TDX, &policy)) < 0)
                return input_error(ret, a->file);
        if (a->test_roots) {
                if ((ret = cert_pem_load_file(a->test_roots, &test_roots)) < 0)
                        return input_error(ret, a->test_roots);
                trust.test_roots = test_roots;
        }
        if (a->ccel && (ret = read_input(a->ccel, EVIDENCE_LOG_MAX, &ccel, &ccel_size)) < 0)
                return input_error(ret, a->ccel);

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
        if ((ret = check_result(out, "TDX quote signature chain (PCK chain to Intel's root, QE report, attestation key)", check)) < 0)
                return input_error(ret, a->file);
        if (a->has_report_data) {
                check = memcmp(quote->body.report_data, a->report_data, TDX_REPORT_DATA_SIZE) == 0
                                ? 0
                                : vm_error(-EPERM, "TDX quote: REPORTDATA is not the --report-data given");
                check_result(out, "TDX REPORTDATA", check);
        } else {
                not_checked(out, "TDX REPORTDATA", "no --report-data given: what the quote binds is not compared");
        }
        if (ccel) {
                check = tdx_rtmr_replay((const uint8_t *)ccel, ccel_size, &quote->body);
                if ((ret = check_result(out, "TDX RTMR replay of the CC event log", check)) < 0)
                        return input_error(ret, a->ccel);
        } else {
                not_checked(out, "TDX RTMR replay", "no CC event log given (--ccel)");
        }
        if (policy) {
                memcpy(policy->tdx.report_data, a->has_report_data ? a->report_data : quote->body.report_data,
                       TDX_REPORT_DATA_SIZE);
                check = tdx_policy_check(quote, &policy->tdx);
                if ((ret = check_result(out, "TDX platform policy", check)) < 0)
                        return input_error(ret, a->policy);
        } else {
                not_checked(out, "TDX platform policy", "no --policy given");
        }
        return finish(out, a->json);
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

/* An AK as a TPMT_PUBLIC or TPM2B_PUBLIC (binary) or a PEM public key. */
static int load_ak(const char *path, TPM2B_PUBLIC *ak, EVP_PKEY **key);

static int run_hcl_report(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *data = NULL;
        _cleanup_(freep) struct snp_report *snp = calloc(1, sizeof(*snp));
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ak = NULL;
        struct hcl_report report;
        struct hcl_runtime_data runtime = { 0 };
        struct hcl_evidence evidence = { 0 };
        struct hcl_expect expect;
        TPM2B_PUBLIC ak_public;
        json_object *f = json_object_new_object(), *header, *igvm;
        uint8_t digest[32];
        size_t size;
        int ret, check;

        json_object_object_add(out->facts, "hcl_report", f);
        if (!snp)
                return input_error(-ENOMEM, a->file);
        if ((ret = read_input(a->file, HCL_REPORT_MAX, &data, &size)) < 0 ||
            (ret = hcl_report_parse((const uint8_t *)data, size, &report)) < 0)
                return input_error(ret, a->file);
        if (a->ak && (ret = load_ak(a->ak, &ak_public, &ak)) < 0)
                return input_error(ret, a->ak);
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
                return input_error(ret, a->file);
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
                not_checked(out, "HCL report type", "no --type given: the hardware report's type is the report's unsigned claim");
        expect.ak = ak ? ak : runtime.ak_public;
        check = hcl_verify(&report, &expect, &evidence);
        hcl_evidence_clear(&evidence);
        ret = check_result(out, ak ? "HCL type, binding and AK (runtime data in REPORT_DATA, HCLAkPub is --ak)"
                                   : "HCL type and binding (SHA-256 of the runtime data in the hardware report's REPORT_DATA)",
                           check);
        hcl_runtime_data_clear(&runtime);
        if (ret < 0)
                return input_error(ret, a->file);
        if (!ak)
                not_checked(out, "HCL AK", "no --ak given: HCLAkPub is not compared with the AK that signs the quotes");

        if (check < 0) /* of another type, or unbound: its hardware report is not looked into */
                return finish(out, a->json);
        if (report.type == HCL_REPORT_SNP) {
                if ((ret = snp_report_parse(report.hw_report, report.hw_report_size, snp)) < 0)
                        return input_error(ret, a->file);
                if ((ret = snp_checks(a, snp, f, "snp_report", out, false)) < 0)
                        return input_error(ret, a->file);
        } else {
                json_object *td = json_object_new_object();

                tdreport_facts(td, report.hw_report);
                json_object_object_add(f, "tdreport", td);
                not_checked(out, "TDX TDREPORT", "a TDREPORT is MAC-protected for the host, not signed: it cannot be verified offline");
        }
        return finish(out, a->json);
}

/* ---- TPM quote ---- */

DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

/* A PEM public key as the TPMT_PUBLIC of an unrestricted signing key with no scheme: enough for
 * tpmkey_to_evp to give the same key back. */
static int pem_to_tpm_public(EVP_PKEY *key, TPMT_PUBLIC *pub) {
        _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL, *x = NULL, *y = NULL;
        char group[32];

        memset(pub, 0, sizeof(*pub));
        pub->nameAlg = TPM2_ALG_SHA256;
        pub->objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT;
        if (EVP_PKEY_is_a(key, "RSA")) {
                unsigned long exponent;

                if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) || !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) ||
                    BN_num_bytes(n) > (int)sizeof(pub->unique.rsa.buffer) || (exponent = BN_get_word(e)) > UINT32_MAX)
                        return vm_error(-EBADMSG, "RSA key: unreadable or too large");
                pub->type = TPM2_ALG_RSA;
                pub->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
                pub->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
                pub->parameters.rsaDetail.keyBits = (UINT16)BN_num_bits(n);
                pub->parameters.rsaDetail.exponent = exponent == 65537 ? 0 : (UINT32)exponent;
                pub->unique.rsa.size = (UINT16)BN_bn2bin(n, pub->unique.rsa.buffer);
                return 0;
        }
        if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) &&
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) && EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
                int size = strcmp(group, "prime256v1") == 0 ? 32 : strcmp(group, "secp384r1") == 0 ? 48 : 0;

                if (!size)
                        return vm_error(-EBADMSG, "EC key on curve %s: not P-256 or P-384", group);
                pub->type = TPM2_ALG_ECC;
                pub->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
                pub->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
                pub->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
                pub->parameters.eccDetail.curveID = size == 32 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384;
                pub->unique.ecc.x.size = pub->unique.ecc.y.size = (UINT16)size;
                if (BN_bn2binpad(x, pub->unique.ecc.x.buffer, size) != size || BN_bn2binpad(y, pub->unique.ecc.y.buffer, size) != size)
                        return vm_error(-EBADMSG, "EC key: coordinates too large");
                return 0;
        }
        return vm_error(-EBADMSG, "a PEM public key that is neither RSA nor EC P-256/P-384");
}

static int load_ak(const char *path, TPM2B_PUBLIC *ak, EVP_PKEY **key) {
        _cleanup_(freep) char *data = NULL;
        size_t size, offset = 0;
        int ret = read_input(path, EVIDENCE_SMALL_MAX, &data, &size);

        if (ret < 0)
                return ret;
        memset(ak, 0, sizeof(*ak));
        if (size > 10 && memmem(data, size, "-----BEGIN", 10)) {
                BIO *bio = BIO_new_mem_buf(data, (int)size);
                EVP_PKEY *pem = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

                BIO_free(bio);
                if (!pem)
                        return vm_error(-EBADMSG, "not a PEM public key");
                ret = pem_to_tpm_public(pem, &ak->publicArea);
                EVP_PKEY_free(pem);
                if (ret < 0)
                        return ret;
        } else if (Tss2_MU_TPMT_PUBLIC_Unmarshal((const uint8_t *)data, size, &offset, &ak->publicArea) != TSS2_RC_SUCCESS ||
                   offset != size) {
                /* not a TPMT_PUBLIC alone: a TPM2B_PUBLIC (its u16 size first) */
                if ((ret = tpm2b_public_unmarshal((const uint8_t *)data, size, ak)) < 0)
                        return vm_error(-EBADMSG, "neither a TPMT_PUBLIC, a TPM2B_PUBLIC nor a PEM public key");
        }
        ak->size = 1; /* marshalled size unused by the checks; non-zero says present */
        return key ? tpmkey_to_evp(&ak->publicArea, key) : 0;
}

/* pcrs.json: {"bank": "sha256", "pcrs": {"0": "hex", ...}} */
static int load_pcrs(const char *path, struct pcr_values *pcrs) {
        _cleanup_(freep) char *text = NULL;
        _cleanup_(json_object_putp) json_object *doc = NULL;
        json_object *bank, *values;
        size_t size;
        int ret = read_input(path, EVIDENCE_SMALL_MAX, &text, &size);

        if (ret < 0)
                return ret;
        memset(pcrs, 0, sizeof(*pcrs));
        doc = json_tokener_parse(text);
        if (!doc || !json_object_object_get_ex(doc, "bank", &bank) || !json_object_object_get_ex(doc, "pcrs", &values) ||
            !json_object_is_type(values, json_type_object))
                return vm_error(-EBADMSG, "not a JSON object {\"bank\": ..., \"pcrs\": {\"INDEX\": \"HEX\", ...}}");
        pcrs->bank = hashalg_from_name(json_object_get_string(bank));
        if (pcrs->bank == TPM2_ALG_ERROR)
                return vm_error(-EBADMSG, "bank \"%.20s\" is not a hash vmattest knows", json_object_get_string(bank));
        json_object_object_foreach(values, key, value) {
                char *end;
                unsigned long index = strtoul(key, &end, 10);
                const char *hex = json_object_get_string(value);
                size_t n = 0;

                if (*end || key[0] < '0' || key[0] > '9' || index >= EVENTLOG_PCR_COUNT || !hex ||
                    hex_decode(hex, strlen(hex), pcrs->value[index].buffer, sizeof(pcrs->value[index].buffer), &n) < 0 ||
                    n != hashalg_size(pcrs->bank))
                        return vm_error(-EBADMSG, "pcrs.\"%.8s\": not a PCR index 0-23 with a %s value in hex", key,
                                        hashalg_name(pcrs->bank));
                pcrs->value[index].size = (UINT16)n;
                pcrs->mask |= 1u << index;
        }
        return 0;
}

static json_object *selection_json(const TPML_PCR_SELECTION *sel) {
        json_object *array = json_object_new_array();

        for (unsigned i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
                json_object *bank = json_object_new_object(), *list = json_object_new_array();
                const char *name = hashalg_name(sel->pcrSelections[i].hash);

                json_object_object_add(bank, "hash", json_object_new_string(name ? name : "unknown"));
                for (unsigned b = 0; b < sel->pcrSelections[i].sizeofSelect && b < TPM2_PCR_SELECT_MAX; b++)
                        for (unsigned bit = 0; bit < 8; bit++)
                                if (sel->pcrSelections[i].pcrSelect[b] & (1u << bit))
                                        json_object_array_add(list, json_object_new_int((int)(8 * b + bit)));
                json_object_object_add(bank, "pcrs", list);
                json_object_array_add(array, bank);
        }
        return array;
}

static int run_tpm_quote(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *attest_bytes = NULL, *sig_bytes = NULL;
        TPMS_ATTEST attest;
        TPMT_SIGNATURE signature;
        TPM2B_PUBLIC ak;
        struct pcr_values pcrs;
        struct quote_signed q = { 0 };
        json_object *f = json_object_new_object();
        size_t attest_size, sig_size, offset = 0;
        TPM2_ALG_ID sig_hash;
        int ret, check;

        json_object_object_add(out->facts, "tpms_attest", f);
        if ((ret = read_input(a->attest, sizeof(TPMS_ATTEST), &attest_bytes, &attest_size)) < 0 ||
            (ret = quote_attest_parse((const uint8_t *)attest_bytes, attest_size, &attest)) < 0)
                return input_error(ret, a->attest);
        if ((ret = read_input(a->signature, sizeof(TPMT_SIGNATURE), &sig_bytes, &sig_size)) < 0)
                return input_error(ret, a->signature);
        if (Tss2_MU_TPMT_SIGNATURE_Unmarshal((const uint8_t *)sig_bytes, sig_size, &offset, &signature) != TSS2_RC_SUCCESS ||
            offset != sig_size)
                return input_error(vm_error(-EBADMSG, "not one TPMT_SIGNATURE"), a->signature);
        if ((ret = load_ak(a->ak, &ak, NULL)) < 0)
                return input_error(ret, a->ak);
        if (a->pcrs && (ret = load_pcrs(a->pcrs, &pcrs)) < 0)
                return input_error(ret, a->pcrs);

        fact_u64x(f, "magic", attest.magic, 8);
        fact_u64x(f, "type", attest.type, 4);
        fact_hex(f, "qualified_signer", attest.qualifiedSigner.name, attest.qualifiedSigner.size);
        fact_hex(f, "extra_data", attest.extraData.buffer, attest.extraData.size);
        fact_int(f, "clock", (int64_t)attest.clockInfo.clock);
        fact_int(f, "reset_count", attest.clockInfo.resetCount);
        fact_int(f, "restart_count", attest.clockInfo.restartCount);
        fact_int(f, "safe", attest.clockInfo.safe);
        fact_u64x(f, "firmware_version", attest.firmwareVersion, 16);
        json_object_object_add(f, "pcr_select", selection_json(&attest.attested.quote.pcrSelect));
        fact_hex(f, "pcr_digest", attest.attested.quote.pcrDigest.buffer, attest.attested.quote.pcrDigest.size);

        /* The hash the signature is checked with is the AK's scheme's, as the verifier has it;
         * a key without one (a PEM key) takes the signature's, which must be one quotes may use. */
        sig_hash = ak.publicArea.type == TPM2_ALG_RSA ? ak.publicArea.parameters.rsaDetail.scheme.details.anySig.hashAlg
                                                      : ak.publicArea.parameters.eccDetail.scheme.details.anySig.hashAlg;
        if ((ak.publicArea.type == TPM2_ALG_RSA ? ak.publicArea.parameters.rsaDetail.scheme.scheme
                                                : ak.publicArea.parameters.eccDetail.scheme.scheme) == TPM2_ALG_NULL) {
                sig_hash = signature.signature.any.hashAlg;
                if (!hashalg_name(sig_hash) || hashalg_for_quotes(hashalg_name(sig_hash)) == TPM2_ALG_ERROR)
                        return input_error(vm_error(-EBADMSG, "the AK names no scheme and the signature's hash 0x%04x is not one quotes use",
                                                    sig_hash),
                                           a->signature);
        }
        json_object_object_add(out->facts, "signature_hash", json_object_new_string(hashalg_name(sig_hash) ? hashalg_name(sig_hash) : "unknown"));
        q.attest = (const uint8_t *)attest_bytes, q.attest_size = attest_size, q.signature = &signature, q.ak = &ak;
        q.sig_hash = sig_hash;
        q.nonce = a->has_nonce ? a->nonce : attest.extraData.buffer;
        q.nonce_size = a->has_nonce ? a->nonce_size : attest.extraData.size;
        q.pcrs = a->pcrs ? &pcrs : NULL;
        check = quote_check_signed(&q, &attest);
        if ((ret = check_result(out, a->pcrs ? "TPM quote (signature by the AK, nonce, PCR values and pcrDigest)"
                                             : "TPM quote (signature by the AK, nonce)",
                                check)) < 0)
                return input_error(ret, a->attest);
        if (!a->has_nonce)
                not_checked(out, "TPM quote nonce", "no --nonce given: extraData is not compared");
        if (!a->pcrs)
                not_checked(out, "TPM quote PCR values", "no --pcrs given: pcrDigest is not compared with any values");
        return finish(out, a->json);
}

/* ---- event log ---- */

struct log_walk {
        uint32_t events, no_action;
        json_object *app_digests; /* {bank: [hex]} */
        json_object *applications;
        json_object *cmdlines;
        const struct eventlog_spec_id *spec;
};

#define GRUB_KERNEL_CMDLINE "kernel_cmdline: "

static int log_event(const struct eventlog_event *ev, void *user) {
        struct log_walk *w = user;

        w->events++;
        if (ev->type == EV_NO_ACTION)
                w->no_action++;
        if (ev->pcr == 4 && ev->type == EV_EFI_BOOT_SERVICES_APPLICATION) {
                char text[300];

                boot_event_describe(ev, text, sizeof(text));
                json_object_array_add(w->applications, json_object_new_string(text));
                for (uint32_t i = 0; i < ev->digest_count; i++) {
                        const char *bank = hashalg_name(ev->digests[i].alg);
                        json_object *list;

                        if (!bank)
                                continue;
                        if (!json_object_object_get_ex(w->app_digests, bank, &list)) {
                                list = json_object_new_array();
                                json_object_object_add(w->app_digests, bank, list);
                        }
                        json_object_array_add(list, hex_json(ev->digests[i].digest, ev->digests[i].size));
                }
        }
        /* GRUB measures the kernel's command line into PCR 8 as "kernel_cmdline: ..." text */
        if (ev->pcr == 8 && ev->type == EV_IPL && ev->data_size > strlen(GRUB_KERNEL_CMDLINE) &&
            memcmp(ev->data, GRUB_KERNEL_CMDLINE, strlen(GRUB_KERNEL_CMDLINE)) == 0) {
                size_t n = ev->data_size - strlen(GRUB_KERNEL_CMDLINE);
                const char *text = (const char *)ev->data + strlen(GRUB_KERNEL_CMDLINE);

                while (n > 0 && text[n - 1] == '\0')
                        n--;
                json_object_array_add(w->cmdlines, json_object_new_string_len(text, (int)n));
        }
        return 0;
}

static int run_eventlog(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *data = NULL;
        struct eventlog_spec_id spec;
        struct log_walk w = { 0 };
        json_object *f = out->facts, *algs, *banks;
        TPM2_ALG_ID only = TPM2_ALG_ERROR;
        enum eventlog_secure_boot sb;
        size_t size;
        char version[32];
        int ret;

        if (a->bank && (only = hashalg_from_name(a->bank)) == TPM2_ALG_ERROR) {
                log_error("--bank %s: not sha1, sha256, sha384 or sha512", a->bank);
                return EXIT_USAGE;
        }
        if ((ret = read_input(a->file, EVIDENCE_LOG_MAX, &data, &size)) < 0 ||
            (ret = eventlog_spec_id((const uint8_t *)data, size, &spec)) < 0)
                return input_error(ret, a->file);
        w.app_digests = json_object_new_object();
        w.applications = json_object_new_array();
        w.cmdlines = json_object_new_array();
        w.spec = &spec;
        json_object_object_add(f, "efi_app_digests", w.app_digests);
        json_object_object_add(f, "efi_applications", w.applications);
        json_object_object_add(f, "kernel_cmdlines", w.cmdlines);
        if ((ret = eventlog_foreach((const uint8_t *)data, size, log_event, &w)) < 0)
                return input_error(ret, a->file);
        algs = json_object_new_array();
        banks = json_object_new_array();
        json_object_object_add(f, "format", json_object_new_string(spec.format == EVENTLOG_FORMAT_SHA1 ? "sha1-legacy" : "crypto-agile"));
        fact_int(f, "event_count", w.events);
        fact_int(f, "ev_no_action_count", w.no_action);
        if (spec.format == EVENTLOG_FORMAT_CRYPTO_AGILE) {
                snprintf(version, sizeof(version), "%u.%u errata %u", spec.spec_version_major, spec.spec_version_minor,
                         spec.spec_errata);
                json_object_object_add(f, "spec_version", json_object_new_string(version));
        }
        for (uint32_t i = 0; i < spec.algorithm_count && i < EVENTLOG_MAX_ALGORITHMS; i++) {
                const char *name = hashalg_name(spec.algorithms[i].alg);
                char other[16];

                snprintf(other, sizeof(other), "0x%04x", spec.algorithms[i].alg);
                json_object_array_add(algs, json_object_new_string(name ? name : other));
        }
        json_object_object_add(f, "spec_id_algorithms", algs);

        /* every bank the log declares that vmattest can hash, or the one asked for */
        json_object_object_add(f, "pcrs", banks);
        for (uint32_t i = 0; i < spec.algorithm_count && i < EVENTLOG_MAX_ALGORITHMS; i++) {
                TPM2_ALG_ID alg = spec.algorithms[i].alg;
                json_object *entry, *values;
                struct pcr_values pcrs;

                if (!hashalg_name(alg) || !hashalg_md(alg) || (only != TPM2_ALG_ERROR && alg != only))
                        continue;
                if ((ret = eventlog_replay((const uint8_t *)data, size, alg, &pcrs)) < 0)
                        return input_error(ret, a->file);
                entry = json_object_new_object();
                values = json_object_new_object();
                json_object_object_add(entry, "bank", json_object_new_string(hashalg_name(alg)));
                for (unsigned p = 0; p < EVENTLOG_PCR_COUNT; p++)
                        if (pcrs.mask & (1u << p)) {
                                char index[4];

                                snprintf(index, sizeof(index), "%u", p);
                                fact_hex(values, index, pcrs.value[p].buffer, pcrs.value[p].size);
                        }
                json_object_object_add(entry, "pcrs", values);
                json_object_array_add(banks, entry);
        }
        if (only != TPM2_ALG_ERROR && json_object_array_length(banks) == 0) {
                log_error("%s: the log carries no %s digests (it declares %u algorithm(s))", a->file, a->bank, spec.algorithm_count);
                return EXIT_USAGE;
        }
        ret = eventlog_secure_boot((const uint8_t *)data, size, &sb);
        if (ret < 0) {
                json_object_object_add(f, "secure_boot", json_object_new_string("undecidable"));
                json_object_object_add(f, "secure_boot_why", json_object_new_string(vm_error_detail(ret)));
                vm_error_clear();
        } else {
                json_object_object_add(f, "secure_boot", json_object_new_string(eventlog_secure_boot_name(sb)));
        }
        check_result(out, "event log parses and replays", 0);
        not_checked(out, "event log against a quote", "a log alone proves nothing: compare its PCRs with a verified quote (tpm-quote --pcrs)");
        return finish(out, a->json);
}

/* ---- command line ---- */

static int parse_at(const char *text, time_t *out) {
        struct tm tm = { 0 };
        const char *end;
        char *num_end;
        unsigned long long n;

        if (text[0] >= '0' && text[0] <= '9' && strlen(text) <= 12) {
                n = strtoull(text, &num_end, 10);
                if (!*num_end) {
                        *out = (time_t)n;
                        return 0;
                }
        }
        end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(text, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        }
        if (!end || *end) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(text, "%Y-%m-%d", &tm);
        }
        if (end && !*end) {
                *out = timegm(&tm);
                return 0;
        }
        return vm_error(-EINVAL, "--at \"%.40s\" is neither a UTC time (2026-12-31T23:59:59Z), a date nor seconds since the epoch",
                        text);
}

static const struct evidence_kind {
        const char *name;
        int (*run)(const struct evidence_args *a, struct evidence_out *out);
        unsigned allowed;
        bool file_argument;
} kinds[] = {
        { "snp-report", run_snp_report, OPT_VCEK | OPT_CERTS | OPT_AMD_CERTS | OPT_TEST_ROOTS | OPT_POLICY | OPT_REPORT_DATA, true },
        { "tdx-quote", run_tdx_quote, OPT_INTEL_ROOT | OPT_TEST_ROOTS | OPT_POLICY | OPT_REPORT_DATA | OPT_CCEL, true },
        { "hcl-report", run_hcl_report, OPT_TYPE | OPT_AK | OPT_VCEK | OPT_CERTS | OPT_AMD_CERTS | OPT_TEST_ROOTS, true },
        { "tpm-quote", run_tpm_quote, OPT_ATTEST | OPT_SIGNATURE | OPT_AK | OPT_NONCE | OPT_PCRS, false },
        { "eventlog", run_eventlog, OPT_BANK, true },
};

int cmd_evidence(int argc, char **argv, const char *config_path) {
        static const struct option options[] = {
                { "vcek", required_argument, NULL, 'v' },        { "certs", required_argument, NULL, 'c' },
                { "amd-certs", required_argument, NULL, 'A' },   { "test-roots", required_argument, NULL, 'T' },
                { "policy", required_argument, NULL, 'p' },      { "report-data", required_argument, NULL, 'r' },
                { "intel-root", required_argument, NULL, 'I' },  { "ccel", required_argument, NULL, 'C' },
                { "ak", required_argument, NULL, 'k' },          { "attest", required_argument, NULL, 'a' },
                { "signature", required_argument, NULL, 's' },   { "nonce", required_argument, NULL, 'n' },
                { "pcrs", required_argument, NULL, 'P' },        { "bank", required_argument, NULL, 'b' },
                { "at", required_argument, NULL, 't' },          { "json", no_argument, NULL, 'j' },
                { "type", required_argument, NULL, 'y' },        { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        static const unsigned option_bit[128] = {
                ['v'] = OPT_VCEK,     ['c'] = OPT_CERTS,     ['A'] = OPT_AMD_CERTS, ['T'] = OPT_TEST_ROOTS,
                ['p'] = OPT_POLICY,   ['r'] = OPT_REPORT_DATA, ['I'] = OPT_INTEL_ROOT, ['C'] = OPT_CCEL,
                ['k'] = OPT_AK,       ['a'] = OPT_ATTEST,    ['s'] = OPT_SIGNATURE, ['n'] = OPT_NONCE,
                ['P'] = OPT_PCRS,     ['b'] = OPT_BANK,      ['t'] = OPT_AT,        ['j'] = OPT_JSON,
                ['y'] = OPT_TYPE,
        };
        struct evidence_args a = { 0 };
        struct evidence_out out = { 0 };
        const struct evidence_kind *kind = NULL;
        int c, ret, longindex;

        (void)config_path;
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                fputs(evidence_help, stdout);
                return EXIT_OK;
        }
        if (argc < 2) {
                fputs(evidence_help, stderr);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (strcmp(kinds[i].name, argv[1]) == 0)
                        kind = &kinds[i];
        if (!kind) {
                log_error("evidence: unknown kind \"%.40s\" (snp-report, tdx-quote, hcl-report, tpm-quote, eventlog)", argv[1]);
                return EXIT_USAGE;
        }
        argc--, argv++;
        optind = 1;
        while ((longindex = -1, c = getopt_long(argc, argv, "h", options, &longindex)) != -1) {
                if (c == 'h') {
                        fputs(evidence_help, stdout);
                        return EXIT_OK;
                }
                if (c < 0 || c >= 128 || !option_bit[c]) {
                        log_error("evidence %s: unknown option or missing argument: %s", kind->name, argv[optind - 1]);
                        return EXIT_USAGE;
                }
                if (!(option_bit[c] & (kind->allowed | OPT_AT | OPT_JSON))) {
                        log_error("evidence %s: --%s does not apply to this kind (see 'vmattest-verifier help evidence')",
                                  kind->name, longindex >= 0 ? options[longindex].name : "?");
                        return EXIT_USAGE;
                }
                a.given |= option_bit[c];
                switch (c) {
                case 'v': a.vcek = optarg; break;
                case 'c': a.certs = optarg; break;
                case 'A': a.amd_certs = optarg; break;
                case 'T': a.test_roots = optarg; break;
                case 'p': a.policy = optarg; break;
                case 'I': a.intel_root = optarg; break;
                case 'C': a.ccel = optarg; break;
                case 'k': a.ak = optarg; break;
                case 'a': a.attest = optarg; break;
                case 's': a.signature = optarg; break;
                case 'P': a.pcrs = optarg; break;
                case 'b': a.bank = optarg; break;
                case 'j': a.json = true; break;
                case 'y': a.type = optarg; break;
                case 'r':
                        if ((ret = hex_arg("--report-data", optarg, a.report_data, sizeof(a.report_data), NULL, true)) < 0)
                                return input_error(ret, "evidence");
                        a.has_report_data = true;
                        break;
                case 'n':
                        if ((ret = hex_arg("--nonce", optarg, a.nonce, sizeof(a.nonce), &a.nonce_size, false)) < 0)
                                return input_error(ret, "evidence");
                        a.has_nonce = true;
                        break;
                case 't':
                        if ((ret = parse_at(optarg, &a.at)) < 0)
                                return input_error(ret, "evidence");
                        break;
                }
        }
        if (kind->file_argument) {
                if (optind + 1 != argc) {
                        log_error("evidence %s: expects exactly one FILE (see 'vmattest-verifier help evidence')", kind->name);
                        return EXIT_USAGE;
                }
                a.file = argv[optind];
        } else if (optind != argc || !a.attest || !a.signature || !a.ak) {
                log_error("evidence %s: needs --attest FILE --signature FILE --ak FILE and no other argument", kind->name);
                return EXIT_USAGE;
        }
        out.kind = kind->name;
        out.facts = json_object_new_object();
        out.checks = json_object_new_array();
        out.reasons = json_object_new_array();
        out.not_checked = json_object_new_array();
        ret = kind->run(&a, &out);
        json_object_put(out.facts);
        json_object_put(out.checks);
        json_object_put(out.reasons);
        json_object_put(out.not_checked);
        return ret;
}
