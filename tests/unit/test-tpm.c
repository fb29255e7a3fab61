/* agent/tpm.c, the parts that need no TPM: which response codes are transient, how long the
 * retries wait, when they stop, and the one-line detail of a failed command. */
#include "tests/unit/unit.h"

#include <time.h>
#include <tss2/tss2_rc.h>

#include "agent/tpm.h"

/* tpm.c's policy: 10 attempts in all, waits doubling from 10 ms, never above 1 s. */
#define ATTEMPTS 10
#define FIRST_DELAY_MS 10
#define MAX_DELAY_MS 1000

/* tpm_should_retry() waits with nanosleep(). This definition takes the place of libc's for the
 * whole program (the sanitizers do not intercept it), so that the tests see every wait it asks
 * for, exactly, without spending the 3 s a TPM that keeps saying RETRY costs. */
static struct timespec sleeps[64];
static unsigned sleep_count;

int nanosleep(const struct timespec *request, struct timespec *remaining) {
        if (sleep_count < ELEMENTSOF(sleeps))
                sleeps[sleep_count] = *request;
        sleep_count++;
        return 0;
}

static unsigned slept_ms(unsigned i) {
        assert_true(i < sleep_count);
        assert_true(sleeps[i].tv_nsec >= 0 && sleeps[i].tv_nsec < 1000000000L);
        assert_int_equal(sleeps[i].tv_nsec % 1000000, 0);
        return (unsigned)(sleeps[i].tv_sec * 1000 + sleeps[i].tv_nsec / 1000000);
}

static int reset_sleeps(void **state) {
        sleep_count = 0;
        return 0;
}

static const TSS2_RC transient[] = {
        TPM2_RC_RETRY,
        TPM2_RC_YIELDED,
        TPM2_RC_TESTING,
        /* the same, relayed by a resource manager (tpm2-abrmd, the kernel's /dev/tpmrm0) */
        TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_RETRY,
        TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_YIELDED,
        TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_TESTING,
};

static const TSS2_RC permanent[] = {
        TSS2_RC_SUCCESS,
        TPM2_RC_FAILURE,
        TPM2_RC_LOCKOUT, /* a warning, but retrying cannot end a DA lockout */
        TPM2_RC_NV_RATE,
        TPM2_RC_HANDLE | TPM2_RC_1,
        TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_LOCKOUT,
        /* RETRY's number in a layer that is not the TPM's means something else there */
        TSS2_SYS_RC_LAYER | TPM2_RC_RETRY,
        TSS2_RESMGR_RC_LAYER | TPM2_RC_RETRY,
        TSS2_ESYS_RC_BAD_REFERENCE,
        TSS2_TCTI_RC_IO_ERROR,
};

static void test_rc_base(void **state) {
        assert_int_equal(tpm_rc_base(TSS2_RC_SUCCESS), TSS2_RC_SUCCESS);
        assert_int_equal(tpm_rc_base(TPM2_RC_RETRY), TPM2_RC_RETRY);
        assert_int_equal(tpm_rc_base(TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_RETRY), TPM2_RC_RETRY);
        assert_int_equal(tpm_rc_base(TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_HANDLE | TPM2_RC_1), TPM2_RC_HANDLE | TPM2_RC_1);
        /* codes the TSS made itself keep their layer: they are not TPM response codes */
        assert_int_equal(tpm_rc_base(TSS2_ESYS_RC_BAD_REFERENCE), TSS2_ESYS_RC_BAD_REFERENCE);
        assert_int_equal(tpm_rc_base(TSS2_SYS_RC_LAYER | TPM2_RC_RETRY), TSS2_SYS_RC_LAYER | TPM2_RC_RETRY);
        assert_int_equal(tpm_rc_base(TSS2_RESMGR_RC_LAYER | TPM2_RC_RETRY), TSS2_RESMGR_RC_LAYER | TPM2_RC_RETRY);
}

static void test_transient_codes_are_retried(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(transient); i++) {
                unsigned attempt = 0;

                sleep_count = 0;
                if (!tpm_should_retry(transient[i], &attempt))
                        fail_msg("0x%x (%s) not retried", transient[i], Tss2_RC_Decode(transient[i]));
                assert_int_equal(attempt, 1);
                assert_int_equal(sleep_count, 1);
                assert_int_equal(slept_ms(0), FIRST_DELAY_MS);
        }
}

static void test_other_codes_are_not_retried(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(permanent); i++) {
                unsigned attempt = 3;

                if (tpm_should_retry(permanent[i], &attempt))
                        fail_msg("0x%x (%s) retried", permanent[i], Tss2_RC_Decode(permanent[i]));
                assert_int_equal(attempt, 3); /* not counted */
        }
        assert_int_equal(sleep_count, 0); /* and no wait */
}

static void test_delays_grow_and_are_capped(void **state) {
        unsigned expected = FIRST_DELAY_MS;

        for (unsigned attempt = 0; attempt < 64; attempt++) {
                assert_int_equal(tpm_retry_delay_ms(attempt), expected);
                expected = expected * 2 < MAX_DELAY_MS ? expected * 2 : MAX_DELAY_MS;
        }
        /* a huge attempt number does not overflow the shift */
        assert_int_equal(tpm_retry_delay_ms(1000), MAX_DELAY_MS);
        assert_int_equal(tpm_retry_delay_ms(UINT32_MAX), MAX_DELAY_MS);
}

/* The wait before attempt n+1 is tpm_retry_delay_ms(n), seconds and nanoseconds both right. */
static void test_should_retry_waits_the_delay(void **state) {
        for (unsigned n = 0; n < ATTEMPTS - 1; n++) {
                unsigned attempt = n;

                assert_true(tpm_should_retry(TPM2_RC_RETRY, &attempt));
                assert_int_equal(attempt, n + 1);
        }
        assert_int_equal(sleep_count, ATTEMPTS - 1);
        for (unsigned n = 0; n < ATTEMPTS - 1; n++)
                assert_int_equal(slept_ms(n), tpm_retry_delay_ms(n));
        /* 1000 ms is one second, not 1000000000 ns */
        assert_int_equal(sleeps[ATTEMPTS - 2].tv_sec, 1);
        assert_int_equal(sleeps[ATTEMPTS - 2].tv_nsec, 0);
}

static void test_no_retry_past_the_limit(void **state) {
        unsigned attempt = ATTEMPTS - 1;

        assert_false(tpm_should_retry(TPM2_RC_RETRY, &attempt));
        assert_int_equal(attempt, ATTEMPTS - 1);
        attempt = 100;
        assert_false(tpm_should_retry(TPM2_RC_TESTING, &attempt));
        assert_int_equal(sleep_count, 0);
}

/* TPM_RETRYING and TPM_RUN against a fake command that answers from a script. */
static const TSS2_RC *script;
static unsigned script_calls;

static TSS2_RC scripted_command(void) {
        return script[script_calls++];
}

static void test_run_retries_then_succeeds(void **state) {
        static const TSS2_RC answers[] = { TPM2_RC_RETRY, TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_YIELDED, TSS2_RC_SUCCESS };

        script = answers, script_calls = 0;
        assert_int_equal(TPM_RUN("TPM2_Quote", scripted_command()), 0);
        assert_int_equal(script_calls, 3);
        assert_int_equal(sleep_count, 2);
}

static void test_run_fails_at_once_on_permanent_error(void **state) {
        static const TSS2_RC answers[] = { TPM2_RC_HANDLE | TPM2_RC_1, TSS2_RC_SUCCESS };

        script = answers, script_calls = 0;
        assert_error(TPM_RUN("TPM2_ReadPublic (AK)", scripted_command()), -EIO, "TPM2_ReadPublic (AK) failed: ");
        assert_int_equal(script_calls, 1);
        assert_int_equal(sleep_count, 0);
}

/* A TPM that always says RETRY gets ATTEMPTS calls, with the growing waits in between (10 ms
 * doubling to the 1 s cap), then the error. */
static void test_run_gives_up_after_the_limit(void **state) {
        static TSS2_RC answers[ATTEMPTS + 1];
        static const unsigned waits_ms[ATTEMPTS - 1] = { 10, 20, 40, 80, 160, 320, 640, 1000, 1000 };

        for (unsigned i = 0; i < ELEMENTSOF(answers); i++)
                answers[i] = TPM2_RC_RETRY;
        script = answers, script_calls = 0;
        assert_error(TPM_RUN("TPM2_Quote", scripted_command()), -EIO, "TPM2_Quote failed: ");
        assert_int_equal(script_calls, ATTEMPTS);
        assert_int_equal(sleep_count, ATTEMPTS - 1);
        for (unsigned i = 0; i < ATTEMPTS - 1; i++)
                assert_int_equal(slept_ms(i), waits_ms[i]);
}

/* TPM_RETRYING hands back the last code as it is, for callers that look at it themselves. */
static void test_retrying_returns_the_final_code(void **state) {
        static const TSS2_RC answers[] = { TPM2_RC_TESTING, TPM2_RC_RETRY, TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_HANDLE | TPM2_RC_1 };
        static TSS2_RC always_retry[ATTEMPTS + 1];

        script = answers, script_calls = 0;
        assert_int_equal(TPM_RETRYING(scripted_command()), TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_HANDLE | TPM2_RC_1);
        assert_int_equal(script_calls, 3);

        for (unsigned i = 0; i < ELEMENTSOF(always_retry); i++)
                always_retry[i] = TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_RETRY;
        script = always_retry, script_calls = 0;
        assert_int_equal(TPM_RETRYING(scripted_command()), TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_RETRY);
        assert_int_equal(script_calls, ATTEMPTS);
}

/* "<command> failed: <Tss2_RC_Decode text> (0x<rc>)" */
static void test_failed_detail(void **state) {
        static const TSS2_RC codes[] = { TPM2_RC_HANDLE | TPM2_RC_1, TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_LOCKOUT,
                                         TSS2_ESYS_RC_BAD_REFERENCE, TSS2_TCTI_RC_IO_ERROR };

        for (size_t i = 0; i < ELEMENTSOF(codes); i++) {
                char decoded[512], hex[32];

                /* Tss2_RC_Decode returns a static buffer: copy it before anything else calls it */
                snprintf(decoded, sizeof(decoded), "%s", Tss2_RC_Decode(codes[i]));
                snprintf(hex, sizeof(hex), "(0x%x)", codes[i]);
                assert_error(tpm_failed(codes[i], "TPM2_EvictControl (persist AK)"), -EIO,
                             "TPM2_EvictControl (persist AK) failed: ");
                assert_detail_contains(-EIO, decoded);
                assert_detail_contains(-EIO, hex);
        }
}

int main(void) {
#define T(f) cmocka_unit_test_setup(f, reset_sleeps)
        const struct CMUnitTest tests[] = {
                T(test_rc_base),
                T(test_transient_codes_are_retried),
                T(test_other_codes_are_not_retried),
                T(test_delays_grow_and_are_capped),
                T(test_should_retry_waits_the_delay),
                T(test_no_retry_past_the_limit),
                T(test_run_retries_then_succeeds),
                T(test_run_fails_at_once_on_permanent_error),
                T(test_run_gives_up_after_the_limit),
                T(test_retrying_returns_the_final_code),
                T(test_failed_detail),
        };
#undef T

        return cmocka_run_group_tests_name("tpm", tests, NULL, NULL);
}
