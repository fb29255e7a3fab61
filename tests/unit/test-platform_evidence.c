/* verifier/platform_evidence.c on the real Milan report of tests/fixtures/platforms/snp: AMD
 * signed it and its VCEK chains to AMD's pinned Milan root, yet it is refused, because its
 * REPORT_DATA does not bind this poll's nonce and the registered AK and EK: a genuine report
 * replayed from another VM or another moment proves nothing. Also refused, each named: no
 * report at all, no certificate table, a blob that is not base64 or too large, and a report of
 * another platform than the policy's (the policy, not the agent's `provider`, decides), and under
 * svsm-sev-snp a report without the vTPM's manifest or not over SHA-512(binding || manifest). */
#include "tests/unit/unit.h"

#include <ctype.h>
#include <openssl/pem.h>

#include "lib/encoding.h"
#include "lib/tpm2b.h"
#include "verifier/cert_chain.h"
#include "verifier/platform_evidence.h"
#include "lib/tpmkey.h"
#include "lib/tsm_binding.h"
#include "tests/tools/forge/hcl_forge.h"
#include "tests/tools/forge/tdx_forge.h"

#define SNP "tests/fixtures/platforms/snp/"
#define PINNED_TIME ((time_t)1767225600) /* 2026-01-01: the VCEK and AMD's chain are valid */
/* the real report's launch measurement (its manifest entry) */
#define MILAN_MEASUREMENT                                                                                  \
        "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"

static const uint8_t vcek_guid[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t ask_guid[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };

struct fixture {
        struct platform_trust trust;
        TPM2B_PUBLIC ak, ek;
        json_object *results;
};

static void put_entry(uint8_t *e, const uint8_t guid[16], uint32_t offset, uint32_t length) {
        memcpy(e, guid, 16);
        for (int i = 0; i < 4; i++) {
                e[16 + i] = (uint8_t)(offset >> (8 * i));
                e[20 + i] = (uint8_t)(length >> (8 * i));
        }
}

/* The host's certificate table: the real VCEK and Milan's ASK, then the all-zero terminator. */
static char *real_table_base64(void) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *bundle = NULL;
        _cleanup_(freep) uint8_t *vcek = NULL;
        uint8_t *ask = NULL, blob[8192] = { 0 };
        size_t vcek_size = 0, ask_size, cursor = 3 * 24;
        char *b64;

        vcek = read_vector(SNP "vcek.testcer", &vcek_size);
        assert_int_equal(cert_pem_load_file(SNP "ask_ark_milan.pem", &bundle), 0);
        ask_size = (size_t)i2d_X509(sk_X509_value(bundle, 0), &ask);
        assert_true(cursor + vcek_size + ask_size <= sizeof(blob));
        put_entry(blob, vcek_guid, (uint32_t)cursor, (uint32_t)vcek_size);
        memcpy(blob + cursor, vcek, vcek_size);
        put_entry(blob + 24, ask_guid, (uint32_t)(cursor + vcek_size), (uint32_t)ask_size);
        memcpy(blob + cursor + vcek_size, ask, ask_size);
        OPENSSL_free(ask);
        b64 = base64_encode(blob, cursor + vcek_size + ask_size);
        assert_non_null(b64);
        return b64;
}

static json_object *evidence_of(const char *outblob_path, bool with_table) {
        _cleanup_(freep) uint8_t *report = NULL;
        _cleanup_(freep) char *report_b64 = NULL;
        _cleanup_(freep) char *table_b64 = NULL;
        json_object *results = json_object_new_object(), *evidence = json_object_new_object();
        size_t size = 0;

        report = read_vector(outblob_path, &size);
        report_b64 = base64_encode(report, size);
        json_object_object_add(evidence, "provider", json_object_new_string("sev_guest"));
        json_object_object_add(evidence, "outblob", json_object_new_string(report_b64));
        if (with_table) {
                table_b64 = real_table_base64();
                json_object_object_add(evidence, "auxblob", json_object_new_string(table_b64));
        }
        json_object_object_add(results, "platform_evidence", evidence);
        return results;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        size_t size = 0;
        _cleanup_(freep) uint8_t *ak = read_vector(VECTOR("ak.pub"), &size);

        assert_non_null(f);
        assert_int_equal(tpm2b_public_unmarshal(ak, size, &f->ak), 0);
        f->ek = f->ak; /* any key with a Name: what matters is that the report binds neither */
        assert_int_equal(platform_trust_load("verifier/amd", "tests/fixtures/platforms/tdx/trusted_root.pem", "",
                                             &f->trust),
                         0);
        f->trust.snp.at = f->trust.tdx.at = PINNED_TIME;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        platform_trust_done(&f->trust);
        json_object_put(f->results);
        free(f);
        return 0;
}

static struct platform_policy *policy_of(const char *text) {
        struct platform_policy *policy = NULL;

        assert_int_equal(platform_policy_parse(text, strlen(text), &policy), 0);
        return policy;
}

/* The fixture's guest allows debugging (policy 0xb0000): allowed here, so that only the
 * binding is left to refuse it. */
#define SNP_POLICY "{\"platform\": \"sev-snp\", \"measurements\": [\"" MILAN_MEASUREMENT "\"], \"allow_debug\": true}"

static void test_genuine_report_not_bound(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(SNP_POLICY);

        f->results = evidence_of(SNP "attestation.bin", true);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-1", &f->ak, &f->ek, NULL, 0),
                     -EPERM, "platform evidence: SNP report: report_data is not the expected one");
}

static void test_missing_parts(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(SNP_POLICY);
        json_object *evidence;
        char *big;

        f->results = json_object_new_object();
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "the policy requires a sev-snp report and the agent served none");
        json_object_put(f->results);

        f->results = evidence_of(SNP "attestation.bin", false);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "without its certificate table (auxblob)");

        assert_true(json_object_object_get_ex(f->results, "platform_evidence", &evidence));
        json_object_object_add(evidence, "outblob", json_object_new_string("not base64!"));
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EBADMSG,
                     "outblob is not base64");

        big = malloc(128 * 1024);
        assert_non_null(big);
        memset(big, 'A', 128 * 1024 - 1);
        big[128 * 1024 - 1] = 0;
        json_object_object_add(evidence, "outblob", json_object_new_string(big));
        free(big);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EBADMSG,
                     "outblob");

        json_object_object_add(evidence, "outblob", json_object_new_int(1));
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EBADMSG,
                     "outblob is not a string");
}

#define SVSM_POLICY                                                                                        \
        "{\"platform\": \"svsm-sev-snp\", \"measurements\": [\"" MILAN_MEASUREMENT "\"], \"allow_debug\": true}"

/* Under svsm-sev-snp the report must come with the vTPM's manifest, and its REPORT_DATA must be
 * SHA-512(binding || manifest): the genuine Milan report, which binds neither, is refused by
 * that check, named; without a manifest it is refused before anything is parsed. */
static void test_svsm_report(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(SVSM_POLICY);
        _cleanup_(freep) uint8_t *ek = NULL;
        _cleanup_(freep) char *ek_b64 = NULL;
        json_object *evidence;
        size_t size = 0;

        f->results = evidence_of(SNP "attestation.bin", true);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: the policy requires an SVSM vTPM report and the agent served no manifest");

        ek = read_vector(VECTOR("svsm-manifest-ek-rsa.bin"), &size);
        ek_b64 = base64_encode(ek, size);
        assert_true(json_object_object_get_ex(f->results, "platform_evidence", &evidence));
        json_object_object_add(evidence, "manifest", json_object_new_string(ek_b64));
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "SVSM report: REPORT_DATA is not SHA-512(binding || manifest)");

        json_object_object_add(evidence, "manifest", json_object_new_string("not base64!"));
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EBADMSG,
                     "manifest is not base64");

        /* the plain sev-snp policy does not read a manifest: the agent's extra member is ignored */
        platform_policy_free(policy);
        policy = policy_of(SNP_POLICY);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: SNP report: report_data is not the expected one");
}

/* A host that attaches no certificate table: the real Milan report's VCEK from the tenant's
 * vcek_cache_dir (named by the report's chip id) verifies it as far as the REPORT_DATA check, as
 * does a table without a VCEK; a cache without this chip, another chip's VCEK under this chip's
 * name and a report signed with a VLEK (not per chip) are refused, named. */
static void test_snp_vcek_cache(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(SNP_POLICY);
        _cleanup_(cert_stack_freep) STACK_OF(X509) *azure_certs = NULL;
        _cleanup_(freep) uint8_t *report_bytes = NULL;
        _cleanup_(freep) uint8_t *vcek = NULL;
        _cleanup_(freep) char *chip = NULL;
        struct snp_report *report = calloc(1, sizeof(*report));
        size_t report_size = 0, vcek_size = 0;
        char dir[64] = "/tmp/vmattest-test.vcekXXXXXX", path[256], cmd[128];
        FILE *file;

        assert_non_null(report);
        assert_non_null(mkdtemp(dir));
        report_bytes = read_vector(SNP "attestation.bin", &report_size);
        assert_int_equal(snp_report_parse(report_bytes, report_size, report), 0);
        chip = hex_encode(report->chip_id, sizeof(report->chip_id));
        snprintf(path, sizeof(path), "%s/%s", dir, chip);

        f->results = evidence_of(SNP "attestation.bin", false);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: the SEV-SNP report came without its certificate table (auxblob) and "
                     "vcek_cache_dir is not set");
        f->trust.vcek_cache_dir = dir;
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: vcek_cache_dir has no VCEK for this chip");
        /* the chip's own VCEK (DER, as AMD's KDS serves it): only the binding is left to refuse */
        vcek = read_vector(SNP "vcek.testcer", &vcek_size);
        file = fopen(path, "we");
        assert_true(file && fwrite(vcek, 1, vcek_size, file) == vcek_size && fclose(file) == 0);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: SNP report: report_data is not the expected one");
        /* the same under svsm-sev-snp, through the same lookup */
        {
                _cleanup_(platform_policy_freep) struct platform_policy *svsm = policy_of(SVSM_POLICY);
                _cleanup_(freep) uint8_t *ek = NULL;
                _cleanup_(freep) char *ek_b64 = NULL;
                json_object *evidence;
                size_t size = 0;

                ek = read_vector(VECTOR("svsm-manifest-ek-rsa.bin"), &size);
                ek_b64 = base64_encode(ek, size);
                assert_true(json_object_object_get_ex(f->results, "platform_evidence", &evidence));
                json_object_object_add(evidence, "manifest", json_object_new_string(ek_b64));
                assert_error(platform_evidence_check(svsm, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0),
                             -EPERM, "SVSM report: REPORT_DATA is not SHA-512(binding || manifest)");
        }
        /* another chip's VCEK (Azure's fixture) under this chip's name */
        assert_int_equal(cert_pem_load_file("tests/fixtures/platforms/azure/certs.pem", &azure_certs), 0);
        file = fopen(path, "we");
        assert_true(file && PEM_write_X509(file, sk_X509_value(azure_certs, 0)) && fclose(file) == 0);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "hwID is not the report's chip_id (the certificate is another chip's)");
        /* a table without a VCEK (only the ASK) falls back to the cache too */
        file = fopen(path, "we");
        assert_true(file && fwrite(vcek, 1, vcek_size, file) == vcek_size && fclose(file) == 0);
        {
                _cleanup_(cert_stack_freep) STACK_OF(X509) *bundle = NULL;
                uint8_t *ask = NULL, blob[4096] = { 0 };
                _cleanup_(freep) char *b64 = NULL;
                json_object *evidence;
                size_t ask_size;

                assert_int_equal(cert_pem_load_file(SNP "ask_ark_milan.pem", &bundle), 0);
                ask_size = (size_t)i2d_X509(sk_X509_value(bundle, 0), &ask);
                assert_true(2 * 24 + ask_size <= sizeof(blob));
                put_entry(blob, ask_guid, 2 * 24, (uint32_t)ask_size);
                memcpy(blob + 2 * 24, ask, ask_size);
                OPENSSL_free(ask);
                b64 = base64_encode(blob, 2 * 24 + ask_size);
                assert_true(json_object_object_get_ex(f->results, "platform_evidence", &evidence));
                json_object_object_add(evidence, "auxblob", json_object_new_string(b64));
                assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0),
                             -EPERM, "platform evidence: SNP report: report_data is not the expected one");
                unlink(path);
                assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0),
                             -EPERM, "platform evidence: vcek_cache_dir has no VCEK for this chip");
        }
        /* a report whose SIGNER_INFO says VLEK (bits 4:2 = 1): the cache is not asked for it,
         * whatever it holds (the lookup comes before the signature, which this relabelling broke) */
        {
                char vlek_path[256];

                file = fopen(path, "we");
                assert_true(file && fwrite(vcek, 1, vcek_size, file) == vcek_size && fclose(file) == 0);
                report_bytes[0x48] |= 0x04;
                snprintf(vlek_path, sizeof(vlek_path), "%s/vlek-report", dir);
                file = fopen(vlek_path, "we");
                assert_true(file && fwrite(report_bytes, 1, report_size, file) == report_size && fclose(file) == 0);
                json_object_put(f->results);
                f->results = evidence_of(vlek_path, false);
                assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0),
                             -EPERM, "and the report is signed with a VLEK, which vcek_cache_dir cannot hold");
        }
        f->trust.vcek_cache_dir = NULL;
        free(report);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir); /* this test's own directory only */
        assert_int_equal(system(cmd), 0);
}

/* The policy says TDX: the same bytes are parsed as a TDX quote, whatever `provider` says. */
static void test_policy_decides_the_platform(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy =
                policy_of("{\"platform\": \"tdx\", \"mrtd\": [\"" MILAN_MEASUREMENT "\"]}");

        f->results = evidence_of(SNP "attestation.bin", true);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: TDX quote");
}

/* ---- TDX: a synthetic quote under a test root, RTMRs replayed from the CC event log ---- */

#define TDX_MRTD "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
#define TDX_POLICY "{\"platform\": \"tdx\", \"mrtd\": [\"" TDX_MRTD "\"]"

struct tdx_case {
        struct tdx_forge forge;
        struct tdx_quote_body body;
        struct tdx_forge_log log;
};

/* A TD whose RTMR0-2 four events extended, its quote binding `nonce` and the fixture's keys. */
static void tdx_case_init(struct fixture *f, struct tdx_case *c, const char *nonce) {
        TPM2B_NAME ak_name, ek_name;

        assert_int_equal(tdx_forge_init(&c->forge, PINNED_TIME), 0);
        f->trust.tdx.test_roots = c->forge.roots;
        memset(&c->body, 0, sizeof(c->body));
        c->body.tee_tcb_svn[0] = 3;
        memset(c->body.mrtd, 0x11, TDX_MR_SIZE);
        c->body.td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
        assert_int_equal(tpm2b_public_name(&f->ak, &ak_name), 0);
        assert_int_equal(tpm2b_public_name(&f->ek, &ek_name), 0);
        assert_int_equal(tsm_report_binding((const uint8_t *)nonce, strlen(nonce), &ak_name, &ek_name,
                                            c->body.report_data),
                         0);
        assert_int_equal(tdx_forge_log_start(&c->log), 0);
        assert_int_equal(tdx_forge_log_event(&c->log, 1, "TDVF configuration", c->body.rtmr[0]), 0);
        assert_int_equal(tdx_forge_log_event(&c->log, 2, "boot loader", c->body.rtmr[1]), 0);
        assert_int_equal(tdx_forge_log_event(&c->log, 1, "Secure Boot variables", c->body.rtmr[0]), 0);
        assert_int_equal(tdx_forge_log_event(&c->log, 3, "kernel command line", c->body.rtmr[2]), 0);
}

static void tdx_case_done(struct fixture *f, struct tdx_case *c) {
        f->trust.tdx.test_roots = NULL;
        tdx_forge_log_done(&c->log);
        tdx_forge_done(&c->forge);
}

/* results.platform_evidence as the agent serves it: the quote, and the log when given. */
static json_object *tdx_evidence(const struct tdx_case *c, const uint8_t *log, size_t log_size) {
        _cleanup_(freep) uint8_t *quote = NULL;
        _cleanup_(freep) char *quote_b64 = NULL;
        json_object *results = json_object_new_object(), *evidence = json_object_new_object();
        size_t size = 0;

        assert_int_equal(tdx_forge_quote(&c->forge, &c->body, &quote, &size), 0);
        quote_b64 = base64_encode(quote, size);
        json_object_object_add(evidence, "provider", json_object_new_string("tdx_guest"));
        json_object_object_add(evidence, "outblob", json_object_new_string(quote_b64));
        if (log) {
                _cleanup_(freep) char *log_b64 = base64_encode(log, log_size);

                json_object_object_add(evidence, "cc_event_log", json_object_new_string(log_b64));
        }
        json_object_object_add(results, "platform_evidence", evidence);
        return results;
}

static void test_tdx_cc_event_log(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(TDX_POLICY "}");
        _cleanup_(platform_policy_freep) struct platform_policy *required =
                policy_of(TDX_POLICY ", \"require_cc_event_log\": true}");
        struct tdx_case c;
        char facts[256];

        tdx_case_init(f, &c, "nonce-tdx");
        /* the log replays to the quote's RTMRs */
        f->results = tdx_evidence(&c, c.log.data, c.log.size);
        vm_error_clear();
        if (platform_evidence_check(required, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, facts,
                                    sizeof(facts)) < 0)
                fail_msg("%s", vm_error_detail(-EPERM));
        assert_non_null(strstr(facts, "RTMR0-3 replayed from the CC event log"));
        /* another nonce: the quote does not bind it, whatever the log */
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-other", &f->ak, &f->ek, NULL, 0),
                     -EPERM, "platform evidence: TDX quote: REPORTDATA");
        json_object_put(f->results);

        /* no log: the quote alone, unless the policy requires the log */
        f->results = tdx_evidence(&c, NULL, 0);
        vm_error_clear();
        if (platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, facts,
                                    sizeof(facts)) < 0)
                fail_msg("%s", vm_error_detail(-EPERM));
        assert_non_null(strstr(facts, "no CC event log"));
        assert_error(platform_evidence_check(required, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL, 0),
                     -EPERM,
                     "platform evidence: the policy requires the CC event log (require_cc_event_log) and the agent "
                     "served none");
        json_object_put(f->results);
        f->results = NULL;
        tdx_case_done(f, &c);
}

/* Each lie of the log, refused by name; a log never stands in for the policy's own RTMRs. */
static void test_tdx_cc_event_log_hostile(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(TDX_POLICY "}");
        struct tdx_case c;
        json_object *evidence;
        char *big;

        tdx_case_init(f, &c, "nonce-tdx");
        /* a digest changed in the log (the last event's, RTMR2) */
        c.log.data[c.log.size - 19 - 4 - 48] ^= 1;
        f->results = tdx_evidence(&c, c.log.data, c.log.size);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL, 0),
                     -EPERM, "platform evidence: CC event log: RTMR2 replays to");
        c.log.data[c.log.size - 19 - 4 - 48] ^= 1;
        json_object_put(f->results);

        /* an event the quote's RTMR3 never saw; one for MRTD, which no event extends */
        {
                struct tdx_forge_log copy = { .data = malloc(c.log.size), .size = c.log.size,
                                              .capacity = c.log.size };

                assert_non_null(copy.data);
                memcpy(copy.data, c.log.data, c.log.size);
                assert_int_equal(tdx_forge_log_event(&copy, 4, "a late extend", NULL), 0);
                f->results = tdx_evidence(&c, copy.data, copy.size);
                assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL,
                                                     0),
                             -EPERM, "platform evidence: CC event log: RTMR3 replays to");
                json_object_put(f->results);
                copy.size = c.log.size;
                assert_int_equal(tdx_forge_log_event(&copy, 0, "MRTD", NULL), 0);
                f->results = tdx_evidence(&c, copy.data, copy.size);
                assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL,
                                                     0),
                             -EPERM, "platform evidence: CC event log: an event extends measurement register index 0");
                json_object_put(f->results);
                tdx_forge_log_done(&copy);
        }

        /* cut short at every length: refused, named, never accepted */
        for (size_t cut = 0; cut < c.log.size; cut++) {
                int ret;

                f->results = tdx_evidence(&c, c.log.data, cut);
                vm_error_clear();
                ret = platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL, 0);
                if (cut == 0)
                        assert_int_equal(ret, -EBADMSG); /* an empty member is malformed */
                else {
                        assert_int_equal(ret, -EPERM);
                        assert_detail_contains(ret, "platform evidence: CC event log");
                }
                json_object_put(f->results);
        }
        /* with the unused rest of the ACPI log area (0xff) still on: the agent's to cut */
        {
                _cleanup_(freep) uint8_t *padded = malloc(c.log.size + 64);

                assert_non_null(padded);
                memcpy(padded, c.log.data, c.log.size);
                memset(padded + c.log.size, 0xff, 64);
                f->results = tdx_evidence(&c, padded, c.log.size + 64);
                assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL,
                                                     0),
                             -EPERM, "platform evidence: CC event log: ");
                json_object_put(f->results);
        }

        /* the log replays, and the policy's own RTMR1 is another: the policy still decides */
        {
                _cleanup_(platform_policy_freep) struct platform_policy *pinned = policy_of(
                        TDX_POLICY ", \"rtmr1\": \"" TDX_MRTD "\"}");

                f->results = tdx_evidence(&c, c.log.data, c.log.size);
                assert_error(platform_evidence_check(pinned, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL,
                                                     0),
                             -EPERM, "platform evidence: TDX quote: RTMR1 is");
        }
        /* not base64, too large */
        assert_true(json_object_object_get_ex(f->results, "platform_evidence", &evidence));
        json_object_object_add(evidence, "cc_event_log", json_object_new_string("not base64!"));
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL, 0),
                     -EBADMSG, "platform evidence: cc_event_log is not base64");
        big = malloc(1500 * 1024);
        assert_non_null(big);
        memset(big, 'A', 1500 * 1024 - 1);
        big[1500 * 1024 - 1] = 0;
        json_object_object_add(evidence, "cc_event_log", json_object_new_string(big));
        free(big);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "nonce-tdx", &f->ak, &f->ek, NULL, 0),
                     -EBADMSG, "cc_event_log");
        tdx_case_done(f, &c);
}

#define AZURE "tests/fixtures/platforms/azure/"
#define AZURE_POLICY "{\"platform\": \"azure-sev-snp\", \"measurements\": [\"" MILAN_MEASUREMENT "\"]}"

/* The RSA key of a PEM file as the TPM2B_PUBLIC a registrar would hold for it. */
static void rsa_public_of(const char *path, TPM2B_PUBLIC *pub) {
        FILE *f = fopen(path, "re");
        EVP_PKEY *key;
        BIGNUM *n = NULL;

        assert_non_null(f);
        key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        assert_non_null(key);
        assert_true(EVP_PKEY_get_bn_param(key, "n", &n));
        *pub = (TPM2B_PUBLIC){ 0 };
        pub->publicArea.type = TPM2_ALG_RSA;
        pub->publicArea.nameAlg = TPM2_ALG_SHA256;
        pub->publicArea.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED |
                                           TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                           TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
        pub->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        pub->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        pub->publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        pub->publicArea.parameters.rsaDetail.keyBits = (TPMI_RSA_KEY_BITS)BN_num_bits(n);
        pub->publicArea.unique.rsa.size = (UINT16)BN_num_bytes(n);
        BN_bn2bin(n, pub->publicArea.unique.rsa.buffer);
        BN_free(n);
        EVP_PKEY_free(key);
}

static json_object *azure_evidence_of(const uint8_t *report, size_t size) {
        _cleanup_(freep) char *b64 = base64_encode(report, size);
        json_object *results = json_object_new_object(), *evidence = json_object_new_object();

        json_object_object_add(evidence, "provider", json_object_new_string("azure-hcl"));
        json_object_object_add(evidence, "outblob", json_object_new_string(b64));
        json_object_object_add(results, "platform_evidence", evidence);
        return results;
}

/* The real Azure SEV-SNP HCL report of tests/fixtures/platforms/azure: its HCLAkPub is not the
 * registered AK, and when it is, its runtime data has no user-data, so it binds no nonce. */
static void test_azure_real_report(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(AZURE_POLICY);
        _cleanup_(freep) uint8_t *report = NULL;
        size_t size = 0;
        TPM2B_PUBLIC hcl_ak;

        report = read_vector(AZURE "hcl-report-snp.bin", &size);
        f->results = azure_evidence_of(report, size);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &f->ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: HCL report: HCLAkPub is not the AK that signs the agent's quotes");
        rsa_public_of(VECTOR("hcl-akpub-snp.pem"), &hcl_ak);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &hcl_ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: HCL report: the runtime data has no user-data");
}

/* Every unsigned field of the HCL report only has to agree: the TDX report under an
 * azure-sev-snp policy is refused for its type; a report cut short or flipped is named. */
static void test_azure_hostile(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(AZURE_POLICY);
        _cleanup_(freep) uint8_t *report = NULL;
        size_t size = 0;
        TPM2B_PUBLIC hcl_ak;

        rsa_public_of(VECTOR("hcl-akpub-tdx.pem"), &hcl_ak);
        report = read_vector(AZURE "hcl-report-tdx.bin", &size);
        f->results = azure_evidence_of(report, size);
        assert_error(platform_evidence_check(policy, &f->trust, f->results, "n", &hcl_ak, &f->ek, NULL, 0), -EPERM,
                     "platform evidence: HCL report: holds a TDX report, the policy expects SEV-SNP");
        for (size_t cut = 0; cut < size; cut += 97) {
                int ret;

                json_object_put(f->results);
                f->results = azure_evidence_of(report, cut ? cut : 1);
                ret = platform_evidence_check(policy, &f->trust, f->results, "n", &hcl_ak, &f->ek, NULL, 0);
                assert_true(ret == -EBADMSG || ret == -EPERM);
                assert_non_null(strstr(vm_error_detail(ret), "platform evidence: HCL report"));
        }
}

/* Synthetic Azure reports, signed with the fake AMD keys (tests/tools/forge), the fake ARK a
 * test root: what passes and what each lie is refused for. */
#define FORGE_MEASUREMENT "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
#define FORGE_POLICY "{\"platform\": \"azure-sev-snp\", \"measurements\": [\"" FORGE_MEASUREMENT "\"]}"
#define FORGE_NV_SIZE 2600

struct forged {
        struct snp_forge forge;
        struct snp_forge_fields fields;
        STACK_OF(X509) *roots;
        EVP_PKEY *ak_key;
        uint8_t binding[TSM_BINDING_SIZE];
        char dir[64];
};

static void forged_init(struct fixture *f, struct forged *g, const char *nonce) {
        uint8_t chip_id[64];
        TPM2B_NAME ak_name, ek_name;

        memset(chip_id, 0xc1, sizeof(chip_id));
        assert_int_equal(snp_forge_init(&g->forge, SNP "fake-keys", chip_id, 0xdb18000000000004ull), 0);
        g->fields = (struct snp_forge_fields){ .policy = 0x30000 };
        memset(g->fields.measurement, 0x5a, sizeof(g->fields.measurement));
        g->roots = sk_X509_new_null();
        assert_true(X509_up_ref(g->forge.ark) && sk_X509_push(g->roots, g->forge.ark));
        f->trust.snp.extra_roots = g->roots;
        /* as AMD's bundles hold the real ASKs, so that a VCEK alone chains */
        assert_true(X509_up_ref(g->forge.ask) && sk_X509_push(f->trust.snp.amd_certs, g->forge.ask));
        f->trust.snp.at = 0; /* the fake chain is made now */
        assert_int_equal(tpmkey_to_evp(&f->ak.publicArea, &g->ak_key), 0);
        assert_int_equal(tpm2b_public_name(&f->ak, &ak_name), 0);
        assert_int_equal(tpm2b_public_name(&f->ek, &ek_name), 0);
        assert_int_equal(tsm_report_binding((const uint8_t *)nonce, strlen(nonce), &ak_name, &ek_name, g->binding), 0);
        strcpy(g->dir, "/tmp/vmattest-test.vcekXXXXXX");
        assert_non_null(mkdtemp(g->dir));
}

static void forged_done(struct fixture *f, struct forged *g) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g->dir); /* this test's own directory only */
        assert_int_equal(system(cmd), 0);
        f->trust.snp.extra_roots = NULL;
        sk_X509_pop_free(g->roots, X509_free);
        EVP_PKEY_free(g->ak_key);
        snp_forge_done(&g->forge);
}

/* The VCEK then the ASK, PEM, as the agent would pass on Azure's IMDS answer. */
static char *vcek_pem_base64(struct forged *g) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem, *b64;
        long size;

        assert_true(PEM_write_bio_X509(bio, g->forge.vcek) && PEM_write_bio_X509(bio, g->forge.ask));
        size = BIO_get_mem_data(bio, &pem);
        b64 = base64_encode((const uint8_t *)pem, (size_t)size);
        BIO_free(bio);
        return b64;
}

static json_object *forged_evidence(struct forged *g, EVP_PKEY *hcl_ak, const uint8_t *user_data, bool with_vcek) {
        _cleanup_(freep) uint8_t *report = NULL;
        json_object *results, *evidence;

        assert_int_equal(hcl_forge_report(&g->forge, &g->fields, hcl_ak ? hcl_ak : g->ak_key, user_data, FORGE_NV_SIZE,
                                          &report),
                         0);
        results = azure_evidence_of(report, FORGE_NV_SIZE);
        if (with_vcek) {
                _cleanup_(freep) char *aux = vcek_pem_base64(g);

                assert_true(json_object_object_get_ex(results, "platform_evidence", &evidence));
                json_object_object_add(evidence, "auxblob", json_object_new_string(aux));
        }
        return results;
}

static int check(struct fixture *f, const struct platform_policy *policy, const char *nonce, char *facts,
                 size_t facts_size) {
        return platform_evidence_check(policy, &f->trust, f->results, nonce, &f->ak, &f->ek, facts, facts_size);
}

static void test_azure_forged_accepted(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(FORGE_POLICY);
        struct forged g;
        char facts[256];

        forged_init(f, &g, "nonce-1");
        f->results = forged_evidence(&g, NULL, g.binding, true);
        vm_error_clear();
        if (check(f, policy, "nonce-1", facts, sizeof(facts)) < 0)
                fail_msg("%s", vm_error_detail(-EPERM));
        assert_non_null(strstr(facts, "Azure HCL, SEV-SNP Milan"));
        assert_non_null(strstr(facts, "chain to a test root"));
        forged_done(f, &g);
}

/* Each lie of the guest, refused with its reason. */
static void test_azure_forged_refused(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(FORGE_POLICY);
        _cleanup_(platform_policy_freep) struct platform_policy *other_measurement = policy_of(
                "{\"platform\": \"azure-sev-snp\", \"measurements\": [\"" MILAN_MEASUREMENT "\"]}");
        _cleanup_(freep) uint8_t *report = NULL;
        _cleanup_(freep) char *stale_hex = NULL;
        _cleanup_(freep) char *fresh_hex = NULL;
        EVP_PKEY *other_ak;
        FILE *file;
        struct forged g;
        uint8_t stale[TSM_BINDING_SIZE];
        json_object *evidence;
        char *at;

        forged_init(f, &g, "nonce-2");
        /* a report made for another poll's nonce: replayed */
        memcpy(stale, g.binding, sizeof(stale));
        stale[0] ^= 1;
        f->results = forged_evidence(&g, NULL, stale, true);
        assert_error(check(f, policy, "nonce-2", NULL, 0), -EPERM,
                     "platform evidence: HCL report: the runtime data's user-data is not this nonce's binding");
        json_object_put(f->results);
        /* the same, its user-data rewritten to this nonce's binding: no longer what the SNP
         * report's REPORT_DATA binds */
        assert_int_equal(hcl_forge_report(&g.forge, &g.fields, g.ak_key, stale, FORGE_NV_SIZE, &report), 0);
        stale_hex = hex_encode(stale, sizeof(stale));
        fresh_hex = hex_encode(g.binding, sizeof(g.binding));
        for (char *c = stale_hex; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        for (char *c = fresh_hex; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        at = memmem(report, FORGE_NV_SIZE, stale_hex, strlen(stale_hex));
        assert_non_null(at);
        memcpy(at, fresh_hex, strlen(fresh_hex));
        f->results = azure_evidence_of(report, FORGE_NV_SIZE);
        assert_error(check(f, policy, "nonce-2", NULL, 0), -EPERM,
                     "platform evidence: HCL report: the SEV-SNP report's REPORT_DATA does not bind the variable data");
        json_object_put(f->results);
        /* no user-data at all */
        f->results = forged_evidence(&g, NULL, NULL, true);
        assert_error(check(f, policy, "nonce-2", NULL, 0), -EPERM, "the runtime data has no user-data");
        json_object_put(f->results);
        /* HCLAkPub another key than the registered AK */
        file = fopen(VECTOR("hcl-akpub-snp.pem"), "re");
        assert_non_null(file);
        other_ak = PEM_read_PUBKEY(file, NULL, NULL, NULL);
        fclose(file);
        f->results = forged_evidence(&g, other_ak, g.binding, true);
        EVP_PKEY_free(other_ak);
        assert_error(check(f, policy, "nonce-2", NULL, 0), -EPERM,
                     "platform evidence: HCL report: HCLAkPub is not the AK that signs the agent's quotes");
        json_object_put(f->results);
        /* a launch measurement the tenant did not allow */
        f->results = forged_evidence(&g, NULL, g.binding, true);
        assert_error(check(f, other_measurement, "nonce-2", NULL, 0), -EPERM,
                     "platform evidence: SNP report: measurement");
        /* a signed byte flipped: the SNP signature no longer verifies */
        assert_true(json_object_object_get_ex(f->results, "platform_evidence", &evidence));
        {
                _cleanup_(freep) uint8_t *bytes = NULL;
                _cleanup_(freep) char *b64 = NULL;
                size_t size;

                assert_int_equal(base64_decode(json_object_get_string(json_object_object_get(evidence, "outblob")),
                                               (size_t)json_object_get_string_len(json_object_object_get(evidence,
                                                                                                          "outblob")),
                                               &bytes, &size),
                                 0);
                bytes[32 + 0x90] ^= 0x01; /* MEASUREMENT */
                b64 = base64_encode(bytes, size);
                json_object_object_add(evidence, "outblob", json_object_new_string(b64));
        }
        assert_error(check(f, policy, "nonce-2", NULL, 0), -EPERM, "platform evidence: ");
        assert_null(strstr(vm_error_detail(-EPERM), "HCL report"));
        forged_done(f, &g);
}

/* Without an auxblob the VCEK is the tenant's: vcek_cache_dir, a file named by the chip id. */
static void test_azure_vcek_cache(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(FORGE_POLICY);
        _cleanup_(freep) char *chip = NULL;
        struct forged g;
        char path[256];
        FILE *file;

        forged_init(f, &g, "nonce-3");
        f->results = forged_evidence(&g, NULL, g.binding, false);
        assert_error(check(f, policy, "nonce-3", NULL, 0), -EPERM,
                     "platform evidence: the Azure report came without its VCEK (auxblob) and vcek_cache_dir "
                     "is not set");
        f->trust.vcek_cache_dir = g.dir;
        assert_error(check(f, policy, "nonce-3", NULL, 0), -EPERM,
                     "platform evidence: vcek_cache_dir has no VCEK for this chip");
        chip = hex_encode(g.forge.chip_id, sizeof(g.forge.chip_id));
        snprintf(path, sizeof(path), "%s/%s", g.dir, chip);
        /* DER */
        file = fopen(path, "we");
        assert_true(file && i2d_X509_fp(file, g.forge.vcek) && fclose(file) == 0);
        vm_error_clear();
        if (check(f, policy, "nonce-3", NULL, 0) < 0)
                fail_msg("DER: %s", vm_error_detail(-EPERM));
        /* PEM */
        file = fopen(path, "we");
        assert_true(file && PEM_write_X509(file, g.forge.vcek) && fclose(file) == 0);
        if (check(f, policy, "nonce-3", NULL, 0) < 0)
                fail_msg("PEM: %s", vm_error_detail(-EPERM));
        /* another chip's certificate under this chip's name: its hwID is not the CHIP_ID */
        file = fopen(path, "we");
        assert_true(file && PEM_write_X509(file, g.forge.ask) && fclose(file) == 0);
        assert_true(check(f, policy, "nonce-3", NULL, 0) < 0);
        f->trust.vcek_cache_dir = NULL;
        forged_done(f, &g);
}

/* ---- Azure TDX: the HCL report's TDREPORT (unsigned for the verifier), the TD quote IMDS
 * made of it (a synthetic one, under a test root) ---- */

#define AZURE_TDX_POLICY "{\"platform\": \"azure-tdx\", \"mrtd\": [\"" TDX_MRTD "\"]}"

struct azure_td {
        struct tdx_forge forge;
        struct hcl_forge_td td;
        EVP_PKEY *ak_key;
        uint8_t binding[TSM_BINDING_SIZE];
};

static void azure_td_init(struct fixture *f, struct azure_td *a, const char *nonce) {
        TPM2B_NAME ak_name, ek_name;

        assert_int_equal(tdx_forge_init(&a->forge, PINNED_TIME), 0);
        f->trust.tdx.test_roots = a->forge.roots;
        memset(&a->td, 0, sizeof(a->td));
        memset(a->td.mrtd, 0x11, sizeof(a->td.mrtd));
        memset(a->td.rtmr[2], 0x22, sizeof(a->td.rtmr[2]));
        assert_int_equal(tpmkey_to_evp(&f->ak.publicArea, &a->ak_key), 0);
        assert_int_equal(tpm2b_public_name(&f->ak, &ak_name), 0);
        assert_int_equal(tpm2b_public_name(&f->ek, &ek_name), 0);
        assert_int_equal(tsm_report_binding((const uint8_t *)nonce, strlen(nonce), &ak_name, &ek_name, a->binding), 0);
}

static void azure_td_done(struct fixture *f, struct azure_td *a) {
        f->trust.tdx.test_roots = NULL;
        EVP_PKEY_free(a->ak_key);
        tdx_forge_done(&a->forge);
}

/* The HCL report with `user_data` and HCLAkPub `ak` (NULL: the registered AK), and the quote of
 * its TDREPORT by `quoter` (NULL: none served), `tamper` applied to the quote's body first. */
static json_object *azure_td_evidence(struct azure_td *a, EVP_PKEY *ak, const uint8_t *user_data,
                                      const struct tdx_forge *quoter, void (*tamper)(struct tdx_quote_body *)) {
        _cleanup_(freep) uint8_t *report = NULL;
        _cleanup_(freep) uint8_t *quote = NULL;
        struct tdx_quote_body body;
        json_object *results, *evidence;
        size_t size = 0;

        assert_int_equal(hcl_forge_tdx_report(&a->td, ak ? ak : a->ak_key, user_data, FORGE_NV_SIZE, &report), 0);
        results = azure_evidence_of(report, FORGE_NV_SIZE);
        if (quoter) {
                _cleanup_(freep) char *b64 = NULL;

                hcl_forge_td_quote_body(report + HCL_FORGE_TDREPORT_OFFSET, &body);
                if (tamper)
                        tamper(&body);
                assert_int_equal(tdx_forge_quote(quoter, &body, &quote, &size), 0);
                b64 = base64_encode(quote, size);
                assert_true(json_object_object_get_ex(results, "platform_evidence", &evidence));
                json_object_object_add(evidence, "td_quote", json_object_new_string(b64));
        }
        return results;
}

static void test_azure_tdx_accepted(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(AZURE_TDX_POLICY);
        _cleanup_(platform_policy_freep) struct platform_policy *with_rtmr = policy_of(
                "{\"platform\": \"azure-tdx\", \"mrtd\": [\"" TDX_MRTD "\"], \"rtmr2\": \""
                "222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222\"}");
        struct azure_td a;
        char facts[256];

        azure_td_init(f, &a, "nonce-td");
        f->results = azure_td_evidence(&a, NULL, a.binding, &a.forge, NULL);
        vm_error_clear();
        if (check(f, policy, "nonce-td", facts, sizeof(facts)) < 0)
                fail_msg("%s", vm_error_detail(-EPERM));
        assert_non_null(strstr(facts, "Azure HCL, TDX (TD quote from IMDS), MRTD 1111111111111111..."));
        if (check(f, with_rtmr, "nonce-td", NULL, 0) < 0)
                fail_msg("rtmr2: %s", vm_error_detail(-EPERM));
        azure_td_done(f, &a);
}

static void other_report_data(struct tdx_quote_body *body) {
        body->report_data[5] ^= 0x01;
}

static void other_mrtd(struct tdx_quote_body *body) {
        memset(body->mrtd, 0x33, sizeof(body->mrtd));
}

static void zero_tail(struct tdx_quote_body *body) {
        body->report_data[40] = 0x01;
}

/* a byte of the outblob or the td_quote, base64 in `evidence`, flipped */
static void flip_blob(json_object *results, const char *member, size_t offset) {
        _cleanup_(freep) uint8_t *bytes = NULL;
        _cleanup_(freep) char *b64 = NULL;
        json_object *evidence, *blob;
        size_t size = 0;

        assert_true(json_object_object_get_ex(results, "platform_evidence", &evidence));
        assert_true(json_object_object_get_ex(evidence, member, &blob));
        assert_int_equal(base64_decode(json_object_get_string(blob), (size_t)json_object_get_string_len(blob), &bytes,
                                       &size),
                         0);
        assert_true(offset < size);
        bytes[offset] ^= 0x01;
        b64 = base64_encode(bytes, size);
        json_object_object_add(evidence, member, json_object_new_string(b64));
}

/* Each lie, refused by name; the TDREPORT itself decides nothing. */
static void test_azure_tdx_refused(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(AZURE_TDX_POLICY);
        struct tdx_forge untrusted;
        struct azure_td a;
        uint8_t stale[TSM_BINDING_SIZE];
        EVP_PKEY *other_ak;
        FILE *file;

        azure_td_init(f, &a, "nonce-tdx");
        /* no quote served with the report */
        f->results = azure_td_evidence(&a, NULL, a.binding, NULL, NULL);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM,
                     "platform evidence: the policy requires Azure's TD quote and the agent served none");
        json_object_put(f->results);
        /* a quote whose REPORTDATA is not SHA-256(runtime data): another report's quote */
        f->results = azure_td_evidence(&a, NULL, a.binding, &a.forge, other_report_data);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM,
                     "platform evidence: HCL report: the TD quote's REPORTDATA does not bind the variable data");
        json_object_put(f->results);
        f->results = azure_td_evidence(&a, NULL, a.binding, &a.forge, zero_tail);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM,
                     "platform evidence: HCL report: the TD quote's REPORTDATA[32:64] is not zero");
        json_object_put(f->results);
        /* a quote under a root the verifier does not trust */
        assert_int_equal(tdx_forge_init(&untrusted, PINNED_TIME), 0);
        f->results = azure_td_evidence(&a, NULL, a.binding, &untrusted, NULL);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM, "platform evidence: TDX quote: PCK certificate");
        tdx_forge_done(&untrusted);
        json_object_put(f->results);
        /* an MRTD the policy does not allow, in the signed quote */
        f->results = azure_td_evidence(&a, NULL, a.binding, &a.forge, other_mrtd);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM,
                     "platform evidence: TDX quote: MRTD 333333333333");
        json_object_put(f->results);
        /* a report made for another poll */
        memcpy(stale, a.binding, sizeof(stale));
        stale[0] ^= 1;
        f->results = azure_td_evidence(&a, NULL, stale, &a.forge, NULL);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM,
                     "platform evidence: HCL report: the runtime data's user-data is not this nonce's binding");
        json_object_put(f->results);
        f->results = azure_td_evidence(&a, NULL, NULL, &a.forge, NULL);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM, "the runtime data has no user-data");
        json_object_put(f->results);
        /* HCLAkPub another key */
        file = fopen(VECTOR("hcl-akpub-snp.pem"), "re");
        assert_non_null(file);
        other_ak = PEM_read_PUBKEY(file, NULL, NULL, NULL);
        fclose(file);
        f->results = azure_td_evidence(&a, other_ak, a.binding, &a.forge, NULL);
        EVP_PKEY_free(other_ak);
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM,
                     "platform evidence: HCL report: HCLAkPub is not the AK that signs the agent's quotes");
        json_object_put(f->results);
        /* the quote's signed body changed after signing */
        f->results = azure_td_evidence(&a, NULL, a.binding, &a.forge, NULL);
        flip_blob(f->results, "td_quote", TDX_HEADER_SIZE + 136 + 3); /* MRTD */
        assert_error(check(f, policy, "nonce-tdx", NULL, 0), -EPERM,
                     "platform evidence: TDX quote: signature does not verify with the attestation key");
        json_object_put(f->results);
        /* the runtime data changed: no longer what the quote's REPORTDATA binds */
        f->results = azure_td_evidence(&a, NULL, a.binding, &a.forge, NULL);
        flip_blob(f->results, "outblob", 1236 + 3);
        assert_true(check(f, policy, "nonce-tdx", NULL, 0) < 0);
        assert_non_null(strstr(vm_error_detail(-EPERM), "platform evidence: HCL report"));
        json_object_put(f->results);
        /* the TDREPORT, unsigned for the verifier, decides nothing: its type byte and MRTD
         * changed, the verified quote still stands */
        f->results = azure_td_evidence(&a, NULL, a.binding, &a.forge, NULL);
        flip_blob(f->results, "outblob", HCL_FORGE_TDREPORT_OFFSET + 0);
        flip_blob(f->results, "outblob", HCL_FORGE_TDREPORT_OFFSET + 528);
        vm_error_clear();
        if (check(f, policy, "nonce-tdx", NULL, 0) < 0)
                fail_msg("TDREPORT changed: %s", vm_error_detail(-EPERM));
        json_object_put(f->results);
        /* the tdx policy is applied to the quote, never to an SNP report relabelled */
        f->results = azure_evidence_of((uint8_t[FORGE_NV_SIZE]){ 0 }, FORGE_NV_SIZE);
        assert_true(check(f, policy, "nonce-tdx", NULL, 0) < 0);
        azure_td_done(f, &a);
}

/* An SNP HCL report with a quote beside it, under azure-tdx: refused for its type. */
static void test_azure_tdx_snp_report(void **state) {
        struct fixture *f = *state;
        _cleanup_(platform_policy_freep) struct platform_policy *policy = policy_of(AZURE_TDX_POLICY);
        _cleanup_(freep) uint8_t *report = NULL;
        _cleanup_(freep) uint8_t *quote = NULL;
        _cleanup_(freep) char *b64 = NULL;
        struct azure_td a;
        struct tdx_quote_body body = { 0 };
        json_object *evidence;
        size_t size = 0, quote_size = 0;

        azure_td_init(f, &a, "nonce-snp");
        report = read_vector(AZURE "hcl-report-snp.bin", &size);
        f->results = azure_evidence_of(report, size);
        assert_int_equal(tdx_forge_quote(&a.forge, &body, &quote, &quote_size), 0);
        b64 = base64_encode(quote, quote_size);
        assert_true(json_object_object_get_ex(f->results, "platform_evidence", &evidence));
        json_object_object_add(evidence, "td_quote", json_object_new_string(b64));
        assert_error(check(f, policy, "nonce-snp", NULL, 0), -EPERM,
                     "platform evidence: HCL report: holds a SEV-SNP report, the policy expects TDX");
        azure_td_done(f, &a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_genuine_report_not_bound, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_parts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_policy_decides_the_platform, setup, teardown),
                cmocka_unit_test_setup_teardown(test_svsm_report, setup, teardown),
                cmocka_unit_test_setup_teardown(test_snp_vcek_cache, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tdx_cc_event_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tdx_cc_event_log_hostile, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_real_report, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_hostile, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_forged_accepted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_forged_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_vcek_cache, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_tdx_accepted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_tdx_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_azure_tdx_snp_report, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
