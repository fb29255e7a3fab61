/* The agent's connection to its TPM: one TCTI, one ESYS context, for the whole command.
 * TPM_RC_RETRY, YIELDED and TESTING are transient and retried with backoff; every other
 * failure becomes one vm_error() line that names the TPM command and decodes the code. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>

#define TPM_DEFAULT_TCTI "device:/dev/tpmrm0"

struct tpm {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
};

int tpm_open(const char *tcti_conf, struct tpm **out);
void tpm_free(struct tpm *tpm);
static inline void tpm_freep(struct tpm **tpm) {
        if (*tpm)
                tpm_free(*tpm);
}

/* True when `rc` is transient and another attempt should follow; sleeps before returning
 * true. *attempt counts the attempts made so far (start at 0). */
bool tpm_should_retry(TSS2_RC rc, unsigned *attempt);
/* How long tpm_should_retry() waits before attempt n+1, in milliseconds. */
unsigned tpm_retry_delay_ms(unsigned attempt);
/* Records "<command>: <decoded rc> (0x...)" and returns -EIO. */
int tpm_failed(TSS2_RC rc, const char *command);
/* A persistent handle 0x81xxxxxx in hexadecimal ("0x" optional), as the config, the command
 * line and the hand-over write it. */
bool tpm_persistent_handle_parse(const char *text, TPM2_HANDLE *handle);

/* Time spent waiting for the TPM (inside ESAPI calls made through TPM_RETRYING), so that a
 * command can split its wall time into TPM and its own work. */
uint64_t tpm_clock_ns(void);
void tpm_time_add(uint64_t start_ns);
uint64_t tpm_time_total_ns(void);

/* Runs an ESAPI call, retrying transient failures; the final TSS2_RC. */
#define TPM_RETRYING(call)                                \
        ({                                                \
                TSS2_RC _rc;                              \
                unsigned _attempt = 0;                    \
                uint64_t _start = tpm_clock_ns();         \
                do                                        \
                        _rc = (call);                     \
                while (tpm_should_retry(_rc, &_attempt)); \
                tpm_time_add(_start);                     \
                _rc;                                      \
        })

/* The same, as 0 or tpm_failed(). */
#define TPM_RUN(command, call)                                             \
        ({                                                                 \
                TSS2_RC _final = TPM_RETRYING(call);                       \
                _final == TSS2_RC_SUCCESS ? 0 : tpm_failed(_final, command); \
        })

/* The TPM's response code without the TSS layer bits, for comparisons with TPM2_RC_*. */
TSS2_RC tpm_rc_base(TSS2_RC rc);
