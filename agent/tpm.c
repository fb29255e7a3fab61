#include "agent/tpm.h"

#include <stdlib.h>
#include <time.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "lib/error.h"
#include "lib/log.h"

#define TPM_RETRY_ATTEMPTS 10 /* 10 ms doubling to the 1 s cap: about 3.3 s in all */
#define TPM_RETRY_FIRST_MS 10
#define TPM_RETRY_MAX_MS 1000

int tpm_open(const char *tcti_conf, struct tpm **out) {
        struct tpm *tpm = calloc(1, sizeof(*tpm));
        TSS2_RC rc;

        if (!tpm)
                return -ENOMEM;
        rc = Tss2_TctiLdr_Initialize(tcti_conf, &tpm->tcti);
        if (rc != TSS2_RC_SUCCESS) {
                free(tpm);
                return vm_error(-ENODEV, "cannot open the TPM through TCTI \"%s\": %s", tcti_conf,
                                Tss2_RC_Decode(rc));
        }
        rc = Esys_Initialize(&tpm->esys, tpm->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                Tss2_TctiLdr_Finalize(&tpm->tcti);
                free(tpm);
                return vm_error(-ENODEV, "cannot talk to the TPM through TCTI \"%s\": %s", tcti_conf,
                                Tss2_RC_Decode(rc));
        }
        *out = tpm;
        return 0;
}

void tpm_free(struct tpm *tpm) {
        Esys_Finalize(&tpm->esys);
        Tss2_TctiLdr_Finalize(&tpm->tcti);
        free(tpm);
}

static uint64_t tpm_time_ns;

uint64_t tpm_clock_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tpm_time_add(uint64_t start_ns) {
        tpm_time_ns += tpm_clock_ns() - start_ns;
}

uint64_t tpm_time_total_ns(void) {
        return tpm_time_ns;
}

TSS2_RC tpm_rc_base(TSS2_RC rc) {
        TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;

        /* Codes that came from the TPM itself, directly or relayed by a resource manager. */
        if (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER)
                return rc & ~TSS2_RC_LAYER_MASK;
        return rc;
}

unsigned tpm_retry_delay_ms(unsigned attempt) {
        unsigned delay = TPM_RETRY_FIRST_MS << (attempt < 7 ? attempt : 7);

        return delay < TPM_RETRY_MAX_MS ? delay : TPM_RETRY_MAX_MS;
}

bool tpm_should_retry(TSS2_RC rc, unsigned *attempt) {
        TSS2_RC base = tpm_rc_base(rc);

        if (base != TPM2_RC_RETRY && base != TPM2_RC_YIELDED && base != TPM2_RC_TESTING)
                return false;
        if (*attempt + 1 >= TPM_RETRY_ATTEMPTS)
                return false;
        unsigned delay = tpm_retry_delay_ms(*attempt);
        log_debug("TPM busy (%s), retrying in %u ms", Tss2_RC_Decode(rc), delay);
        nanosleep(&(struct timespec){ .tv_sec = delay / 1000, .tv_nsec = (long)(delay % 1000) * 1000000 }, NULL);
        (*attempt)++;
        return true;
}

int tpm_failed(TSS2_RC rc, const char *command) {
        return vm_error(-EIO, "%s failed: %s (0x%x)", command, Tss2_RC_Decode(rc), rc);
}

bool tpm_persistent_handle_parse(const char *text, TPM2_HANDLE *handle) {
        char *end;
        unsigned long value;

        errno = 0;
        value = strtoul(text, &end, 16);
        if (!*text || *end || errno || (value >> 24) != TPM2_HT_PERSISTENT)
                return false;
        *handle = (TPM2_HANDLE)value;
        return true;
}
