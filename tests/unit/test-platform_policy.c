/* verifier/platform_policy.c: the tenant's platform policy, parsed into the checks of
 * snp_verify.h and tdx_verify.h, with the defaults a tenant who names only the measurements
 * gets (no debugging, no migration agent, VMPL 0; an SVSM's vTPM report at VMPL 0 only); every
 * typo, wrong type or size is refused naming the member. */
#include "tests/unit/unit.h"

#include "verifier/platform_policy.h"

#define M48 "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"

static struct platform_policy *parse_ok(const char *text) {
        struct platform_policy *policy = NULL;

        vm_error_clear();
        if (platform_policy_parse(text, strlen(text), &policy) < 0)
                fail_msg("%s: %s", text, vm_error_detail(-EBADMSG));
        return policy;
}

static void test_sev_snp(void **state) {
        struct platform_policy *policy;

        (void)state;
        policy = parse_ok("{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"]}");
        assert_int_equal(policy->kind, PLATFORM_SEV_SNP);
        assert_int_equal(policy->snp.measurement_count, 1);
        assert_int_equal(policy->snp.measurements[0][47], 0x5a);
        /* the defaults */
        assert_false(policy->snp.allow_debug);
        assert_false(policy->snp.allow_migration_agent);
        assert_true(policy->snp.allow_smt);
        assert_int_equal(policy->snp.allowed_vmpls, 1);
        assert_false(policy->snp.check_host_data);
        platform_policy_free(policy);

        policy = parse_ok("{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\", \"" M48 "\"],"
                          " \"host_data\": \"" "0102030405060708091011121314151617181920212223242526272829303132" "\","
                          " \"allow_debug\": true, \"allow_smt\": false, \"allow_migration_agent\": true,"
                          " \"min_tcb\": {\"bl\": 3, \"tee\": 0, \"snp\": 22, \"ucode\": 213, \"fmc\": 1},"
                          " \"vmpls\": [0, 2], \"min_guest_svn\": 7}");
        assert_int_equal(policy->snp.measurement_count, 2);
        assert_true(policy->snp.check_host_data);
        assert_int_equal(policy->snp.host_data[31], 0x32);
        assert_true(policy->snp.allow_debug);
        assert_false(policy->snp.allow_smt);
        assert_true(policy->snp.allow_migration_agent);
        assert_int_equal(policy->snp.min_tcb.bl, 3);
        assert_int_equal(policy->snp.min_tcb.snp, 22);
        assert_int_equal(policy->snp.min_tcb.ucode, 213);
        assert_int_equal(policy->snp.min_tcb.fmc, 1);
        assert_int_equal(policy->snp.allowed_vmpls, 0x5);
        assert_int_equal(policy->snp.min_guest_svn, 7);
        assert_string_equal(platform_kind_name(policy->kind), "sev-snp");
        platform_policy_free(policy);
}

/* An SVSM's vTPM report: sev-snp's members and defaults, VMPL 0 always (the SVSM's). */
static void test_svsm_sev_snp(void **state) {
        struct platform_policy *policy;

        (void)state;
        policy = parse_ok("{\"platform\": \"svsm-sev-snp\", \"measurements\": [\"" M48 "\"],"
                          " \"min_tcb\": {\"snp\": 22}, \"vmpls\": [0]}");
        assert_int_equal(policy->kind, PLATFORM_SVSM_SEV_SNP);
        assert_string_equal(platform_kind_name(policy->kind), "svsm-sev-snp");
        assert_int_equal(policy->snp.measurement_count, 1);
        assert_int_equal(policy->snp.min_tcb.snp, 22);
        assert_int_equal(policy->snp.allowed_vmpls, 1);
        assert_false(policy->snp.allow_debug);
        platform_policy_free(policy);

        policy = parse_ok("{\"platform\": \"svsm-sev-snp\", \"measurements\": [\"" M48 "\"]}");
        assert_int_equal(policy->snp.allowed_vmpls, 1);
        platform_policy_free(policy);
}

static void test_tdx(void **state) {
        struct platform_policy *policy;

        (void)state;
        policy = parse_ok("{\"platform\": \"tdx\", \"mrtd\": [\"" M48 "\"], \"rtmr2\": \"" M48 "\","
                          " \"min_tee_tcb_svn\": \"0300000000000000000000000000000f\"}");
        assert_int_equal(policy->kind, PLATFORM_TDX);
        assert_int_equal(policy->tdx.mrtd_allowed_count, 1);
        assert_false(policy->tdx.rtmr_expected[0]);
        assert_true(policy->tdx.rtmr_expected[2]);
        assert_int_equal(policy->tdx.rtmr[2][0], 0x5a);
        assert_false(policy->tdx.allow_debug);
        assert_true(policy->tdx.min_tee_tcb_svn_set);
        assert_int_equal(policy->tdx.min_tee_tcb_svn[15], 0x0f);
        assert_false(policy->tdx.mrconfigid_expected);
        assert_false(policy->tdx_require_cc_event_log); /* a quote without the log is checked alone */
        platform_policy_free(policy);
        policy = parse_ok("{\"platform\": \"tdx\", \"mrtd\": [\"" M48 "\"], \"require_cc_event_log\": true}");
        assert_true(policy->tdx_require_cc_event_log);
        platform_policy_free(policy);
}

/* Azure's HCL report with an SNP report inside: the sev-snp members, the same defaults. */
static void test_azure_sev_snp(void **state) {
        struct platform_policy *policy;

        (void)state;
        policy = parse_ok("{\"platform\": \"azure-sev-snp\", \"measurements\": [\"" M48 "\"], \"vmpls\": [0]}");
        assert_int_equal(policy->kind, PLATFORM_AZURE_SEV_SNP);
        assert_int_equal(policy->snp.measurement_count, 1);
        assert_false(policy->snp.allow_debug);
        assert_int_equal(policy->snp.allowed_vmpls, 1);
        assert_string_equal(platform_kind_name(policy->kind), "azure-sev-snp");
        platform_policy_free(policy);
}

/* Azure TDX: the tdx members, checked on the TD quote IMDS made of the HCL report's TDREPORT. */
static void test_azure_tdx(void **state) {
        struct platform_policy *policy;

        (void)state;
        policy = parse_ok("{\"platform\": \"azure-tdx\", \"mrtd\": [\"" M48 "\"], \"rtmr1\": \"" M48 "\","
                          " \"mrowner\": \"" M48 "\", \"min_tee_tcb_svn\": \"03000000000000000000000000000000\"}");
        assert_int_equal(policy->kind, PLATFORM_AZURE_TDX);
        assert_string_equal(platform_kind_name(policy->kind), "azure-tdx");
        assert_int_equal(policy->tdx.mrtd_allowed_count, 1);
        assert_true(policy->tdx.rtmr_expected[1]);
        assert_false(policy->tdx.rtmr_expected[0]);
        assert_true(policy->tdx.mrowner_expected);
        assert_true(policy->tdx.min_tee_tcb_svn_set);
        assert_false(policy->tdx.allow_debug);
        assert_false(policy->tdx_require_cc_event_log);
        platform_policy_free(policy);
}

static void test_refused(void **state) {
        static const struct {
                const char *text, *detail;
        } cases[] = {
                { "", "the JSON text ends early" },
                { "[]", "not a JSON object" },
                { "{\"measurements\": []}", "missing platform" },
                { "{\"platform\": \"sev\"}", "platform \"sev\" is not one this verifier checks" },
                { "{\"platform\": 1}", "platform is not a string" },
                { "{\"platform\": \"sev-snp\"}", "missing measurements" },
                { "{\"platform\": \"sev-snp\", \"measurements\": []}", "measurements holds 0 digests" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"5a\"]}", "measurements[0] is not 96 hex digits" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"measurement\": 1}",
                  "unknown member \"measurement\"" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"allow_debug\": \"no\"}",
                  "allow_debug is not true or false" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"min_tcb\": {\"snp\": 256}}",
                  "min_tcb.snp is not in 0-255" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"min_tcb\": {\"spl\": 1}}",
                  "min_tcb: unknown member \"spl\"" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"vmpls\": [4]}",
                  "vmpls[0] is not a VMPL" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"host_data\": \"00\"}",
                  "host_data is not 64 hex digits" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"min_guest_svn\": -1}",
                  "min_guest_svn is not in 0-4294967295" },
                { "{\"platform\": \"svsm-sev-snp\", \"measurements\": [\"" M48 "\"], \"vmpls\": [2]}",
                  "vmpls: an SVSM's vTPM report is made at VMPL 0 and only there" },
                { "{\"platform\": \"svsm-sev-snp\", \"measurements\": [\"" M48 "\"], \"vmpls\": [0, 1]}",
                  "vmpls: an SVSM's vTPM report is made at VMPL 0" },
                { "{\"platform\": \"svsm-sev-snp\"}", "missing measurements" },
                { "{\"platform\": \"svsm-sev-snp\", \"measurements\": [\"" M48 "\"], \"mrtd\": 1}",
                  "unknown member \"mrtd\"" },
                { "{\"platform\": \"tdx\", \"mrtd\": [\"" M48 "\"], \"rtmr4\": \"" M48 "\"}",
                  "unknown member \"rtmr4\"" },
                { "{\"platform\": \"tdx\", \"measurements\": [\"" M48 "\"]}", "unknown member \"measurements\"" },
                { "{\"platform\": \"tdx\", \"mrtd\": [\"" M48 "\"], \"mrowner\": \"zz\"}", "mrowner is not 96" },
                { "{\"platform\": \"tdx\", \"mrtd\": [\"" M48 "\"], \"require_cc_event_log\": 1}",
                  "require_cc_event_log is not true or false" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"], \"require_cc_event_log\": true}",
                  "unknown member \"require_cc_event_log\"" },
                { "{\"platform\": \"sev-snp\", \"measurements\": [\"" M48 "\"]} {}", "unexpected data after" },
                { "{\"platform\": \"sev-snp\", \"min_tcb\": {\"a\": {\"b\": {\"c\": {}}}}}", "not JSON" },
                /* an Azure TDX guest serves no CC event log: a policy asking for one would fail
                 * every poll */
                { "{\"platform\": \"azure-tdx\", \"mrtd\": [\"" M48 "\"], \"require_cc_event_log\": true}",
                  "require_cc_event_log is not an azure-tdx member" },
                { "{\"platform\": \"azure-tdx\", \"measurements\": [\"" M48 "\"]}",
                  "unknown member \"measurements\"" },
                { "{\"platform\": \"azure-tdx\"}", "missing mrtd" },
                { "{\"platform\": \"azure-tdy\", \"mrtd\": [\"" M48 "\"]}", "azure-sev-snp, azure-tdx)" },
                { "{\"platform\": \"azure-sev-snp\", \"mrtd\": [\"" M48 "\"]}", "unknown member \"mrtd\"" },
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct platform_policy *policy = (struct platform_policy *)1;

                assert_error(platform_policy_parse(cases[i].text, strlen(cases[i].text), &policy), -EBADMSG,
                             cases[i].detail);
                assert_null(policy);
        }
}

static void test_size_bound(void **state) {
        size_t size = PLATFORM_POLICY_TEXT_MAX + 1;
        char *text = malloc(size);
        struct platform_policy *policy = NULL;

        (void)state;
        assert_non_null(text);
        memset(text, ' ', size);
        assert_error(platform_policy_parse(text, size, &policy), -EBADMSG, "at most 65536");
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sev_snp),
                cmocka_unit_test(test_svsm_sev_snp),
                cmocka_unit_test(test_tdx),
                cmocka_unit_test(test_azure_sev_snp),
                cmocka_unit_test(test_azure_tdx),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_size_bound),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
