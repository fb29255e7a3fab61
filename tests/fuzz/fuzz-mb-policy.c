/* Fuzzes the measured-boot policy (docs/protocol.md §8): mb_policy_parse on the input, then
 * mb_policy_check of a loaded policy against a fixed OVMF-shaped log and the quote it replays to;
 * invariants: a load is 0 or -EBADMSG, a loaded policy is within its limits, and the check (the log
 * always replays) only passes or refuses, -EPERM. The seeds in corpus/mb-policy/ name this log's
 * digests: SHA-256 of "kernel", "cmdline" and "initrd" in PCRs 4 and 9, of "Calling EFI Application
 * from Boot Option" and of the separator in PCR 4, Secure Boot on.
 * Two hostile variants of the log, each with the quote it replays to, are checked too: no
 * policy may pass the one where another kernel's event in PCR 4 is relabelled EV_IPL and
 * "kernel" extended after it, unless a rule of PCR 4 allows that kernel or no rule names PCR 4;
 * none with a secure_boot other than "any" may pass the one where the SecureBoot byte says 1
 * but the digest is of 0. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/mb_policy.h"
#include "lib/writer.h"

#define LOG_CAP 4096

enum variant {
        GENUINE,
        RELABELLED_KERNEL,   /* "evil kernel" logged as EV_IPL, then "kernel" appended */
        FLIPPED_SECURE_BOOT, /* data says 1, the digest is of 0 */
};

struct boot_log {
        uint8_t bytes[LOG_CAP];
        size_t size;
        struct pcr_values quoted;
};

static struct boot_log logs[3];
static uint8_t evil_kernel[32];

static void spec_id(struct writer *w) {
        static const uint8_t spec[] = {
                'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ', 'E', 'v', 'e', 'n', 't', '0', '3', 0,
                0, 0, 0, 0, 0, 2, 2, 2,   /* platformClass, version 2.0 errata 2, UINT64 */
                1, 0, 0, 0, 0x0b, 0, 32, 0, /* one algorithm: sha256 */
                0,                        /* vendorInfoSize */
        };

        writer_u32le(w, 0);
        writer_u32le(w, EV_NO_ACTION);
        writer_zeros(w, 20);
        writer_u32le(w, sizeof(spec));
        writer_bytes(w, spec, sizeof(spec));
}

/* An event whose sha256 digest is of `measured` (of the data when NULL). */
static void event(struct writer *w, uint32_t pcr, uint32_t type, const void *data, size_t size, const void *measured,
                  size_t measured_size) {
        uint8_t digest[32];

        if (measured)
                hashalg_digest(TPM2_ALG_SHA256, measured, measured_size, digest);
        else
                hashalg_digest(TPM2_ALG_SHA256, data, size, digest);
        writer_u32le(w, pcr);
        writer_u32le(w, type);
        writer_u32le(w, 1);
        writer_u16le(w, TPM2_ALG_SHA256);
        writer_bytes(w, digest, sizeof(digest));
        writer_u32le(w, (uint32_t)size);
        writer_bytes(w, data, size);
}

static void build_log(struct boot_log *log, enum variant variant) {
        static const uint8_t secure_boot[] = {
                0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c,
                10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                'S', 0, 'e', 0, 'c', 0, 'u', 0, 'r', 0, 'e', 0, 'B', 0, 'o', 0, 'o', 0, 't', 0, 1,
        };
        static const uint8_t load_options[] = { 0xed, 0x22, 0x3b, 0x8f, 26, 0, 0, 0, 'L', 'O', 'A', 'D', 'E', 'D',
                                                '_', 'I', 'M', 'A', 'G', 'E', ':', ':', 'L', 'o', 'a', 'd', 'O', 'p',
                                                't', 'i', 'o', 'n', 's', 0 };
        static const uint8_t initrd[] = { 0xec, 0x22, 0x3b, 0x8f, 13, 0, 0, 0, 'L', 'i', 'n', 'u', 'x',
                                          ' ', 'i', 'n', 'i', 't', 'r', 'd', 0 };
        static const char calling[] = "Calling EFI Application from Boot Option";
        static const uint8_t zeros[16];
        uint8_t secure_boot_off[sizeof(secure_boot)];
        struct writer w;

        memcpy(secure_boot_off, secure_boot, sizeof(secure_boot));
        secure_boot_off[sizeof(secure_boot) - 1] = 0;
        writer_init(&w, log->bytes, sizeof(log->bytes));
        spec_id(&w);
        event(&w, 0, EV_S_CRTM_VERSION, "1\0.\0000\0\0", 8, NULL, 0);
        if (variant == FLIPPED_SECURE_BOOT)
                event(&w, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, secure_boot, sizeof(secure_boot), secure_boot_off,
                      sizeof(secure_boot_off));
        else
                event(&w, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, secure_boot, sizeof(secure_boot), NULL, 0);
        event(&w, 4, EV_EFI_ACTION, calling, strlen(calling), NULL, 0);
        for (uint32_t pcr = 0; pcr <= 7; pcr++)
                event(&w, pcr, EV_SEPARATOR, zeros, 4, NULL, 0);
        if (variant == RELABELLED_KERNEL)
                event(&w, 4, EV_IPL, zeros, sizeof(zeros), "evil kernel", 11);
        else
                event(&w, 4, EV_EFI_BOOT_SERVICES_APPLICATION, zeros, sizeof(zeros), "kernel", 6);
        event(&w, 9, EV_EVENT_TAG, load_options, sizeof(load_options), "cmdline", 7);
        event(&w, 9, EV_EVENT_TAG, initrd, sizeof(initrd), "initrd", 6);
        if (variant == RELABELLED_KERNEL) /* the guest's own extend, logged as the good kernel */
                event(&w, 4, EV_EFI_BOOT_SERVICES_APPLICATION, zeros, sizeof(zeros), "kernel", 6);
        if (w.failed)
                abort();
        log->size = w.offset;
        /* the quote: PCRs 0-9 as the log replays them, 16 as the agent binds it */
        if (eventlog_replay(log->bytes, log->size, TPM2_ALG_SHA256, &log->quoted) < 0)
                abort();
        for (unsigned pcr = 0; pcr <= 9; pcr++)
                log->quoted.value[pcr].size = 32; /* PCR 8 stays zero */
        log->quoted.mask = 0x000103ff;
        log->quoted.value[16].size = 32;
        memset(log->quoted.value[16].buffer, 0x16, 32);
}

/* Whether a rule of PCR 4 allows the other kernel, or none names PCR 4. */
static bool evil_kernel_allowed(const struct mb_policy *policy) {
        bool pcr4_ruled = false;

        for (size_t i = 0; i < policy->rule_count; i++) {
                const struct mb_policy_rule *rule = &policy->rules[i];

                if (rule->pcr != 4)
                        continue;
                pcr4_ruled = true;
                for (size_t j = 0; j < rule->allowed.count; j++)
                        if (memcmp(rule->allowed.digests[j].buffer, evil_kernel, sizeof(evil_kernel)) == 0)
                                return true;
        }
        return !pcr4_ruled;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct mb_policy *policy = NULL;
        int ret;

        if (!logs[GENUINE].size) {
                build_log(&logs[GENUINE], GENUINE);
                build_log(&logs[RELABELLED_KERNEL], RELABELLED_KERNEL);
                build_log(&logs[FLIPPED_SECURE_BOOT], FLIPPED_SECURE_BOOT);
                hashalg_digest(TPM2_ALG_SHA256, "evil kernel", 11, evil_kernel);
        }
        ret = mb_policy_parse((const char *)data, size, &policy);
        if (ret != 0 && ret != -EBADMSG)
                abort();
        if (ret < 0) {
                if (policy)
                        abort();
                return 0;
        }
        if (policy->bank != TPM2_ALG_SHA256 && policy->bank != TPM2_ALG_SHA384 && policy->bank != TPM2_ALG_SHA512)
                abort();
        if (policy->pcr_mask >> MB_POLICY_PCR_COUNT || policy->rule_count > MB_POLICY_MAX_RULES)
                abort();
        for (size_t i = 0; i < policy->rule_count; i++)
                if (policy->rules[i].pcr >= MB_POLICY_PCR_COUNT || policy->rules[i].allowed.count < 1 ||
                    policy->rules[i].allowed.digests[0].size != hashalg_size(policy->bank))
                        abort();
        ret = mb_policy_check(policy, logs[GENUINE].bytes, logs[GENUINE].size, &logs[GENUINE].quoted);
        if (ret != 0 && ret != -EPERM)
                abort();
        ret = mb_policy_check(policy, logs[RELABELLED_KERNEL].bytes, logs[RELABELLED_KERNEL].size,
                              &logs[RELABELLED_KERNEL].quoted);
        if ((ret != 0 && ret != -EPERM) || (ret == 0 && !evil_kernel_allowed(policy)))
                abort();
        ret = mb_policy_check(policy, logs[FLIPPED_SECURE_BOOT].bytes, logs[FLIPPED_SECURE_BOOT].size,
                              &logs[FLIPPED_SECURE_BOOT].quoted);
        if ((ret != 0 && ret != -EPERM && ret != -EBADMSG) ||
            (ret == 0 && policy->secure_boot != MB_POLICY_SECURE_BOOT_ANY))
                abort();
        mb_policy_free(policy);
        return 0;
}
