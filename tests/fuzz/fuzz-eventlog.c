/* Fuzzes the UEFI event log parser (docs/protocol.md §8): eventlog_foreach, eventlog_replay in both
 * banks, eventlog_uefi_variable and eventlog_secure_boot; invariants: only 0 or -EBADMSG, every
 * event and every pointer it carries lie inside the input, a log that replays also walks, a
 * replay holds values only for the PCRs it reports, each of the bank's size, and a SHA-1 log
 * (events from 1, one SHA-1 digest each) replays into no other bank. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/eventlog.h"
#include "lib/hashalg.h"

struct bounds {
        const uint8_t *data;
        size_t size;
        uint32_t events;
        uint32_t next_index; /* the next event's index: a SHA-1 log's first is 1 */
};

static void expect_inside(const struct bounds *b, const uint8_t *p, size_t n) {
        if (n == 0)
                return;
        if (!p || p < b->data || n > b->size || (size_t)(p - b->data) > b->size - n)
                abort();
}

static int check_event(const struct eventlog_event *ev, void *user) {
        struct bounds *b = user;
        struct eventlog_uefi_variable var;
        int ret;

        if (b->events++ == 0) {
                b->next_index = ev->index;
                if (ev->index > 1 || (ev->index == 1) != (ev->spec_id->format == EVENTLOG_FORMAT_SHA1))
                        abort();
        }
        if (ev->index != b->next_index++ || ev->pcr >= EVENTLOG_PCR_COUNT || ev->offset >= b->size)
                abort();
        /* a SHA-1 log's records carry one SHA-1 digest, nothing else */
        if (ev->spec_id->format == EVENTLOG_FORMAT_SHA1 &&
            (ev->digest_count != 1 || ev->digests[0].alg != TPM2_ALG_SHA1 || ev->digests[0].size != 20))
                abort();
        if (ev->digest_count > EVENTLOG_MAX_ALGORITHMS || ev->data_size > EVENTLOG_MAX_EVENT_DATA)
                abort();
        expect_inside(b, ev->data, ev->data_size);
        for (uint32_t i = 0; i < ev->digest_count; i++)
                expect_inside(b, ev->digests[i].digest, ev->digests[i].size);
        if (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG || ev->type == EV_EFI_VARIABLE_BOOT) {
                ret = eventlog_uefi_variable(ev, &var);
                if (ret != 0 && ret != -EBADMSG)
                        abort();
                if (ret == 0) {
                        expect_inside(b, var.guid, 16);
                        expect_inside(b, var.name_utf16, 2 * var.name_length);
                        expect_inside(b, var.data, var.data_size);
                        (void)eventlog_uefi_variable_is(&var, eventlog_efi_global_variable_guid, "SecureBoot");
                }
        }
        (void)eventlog_type_name(ev->type);
        return 0;
}

static void expect_replay(const uint8_t *data, size_t size, TPM2_ALG_ID bank, int walked, bool sha1_log) {
        struct pcr_values pcrs;
        int ret = eventlog_replay(data, size, bank, &pcrs);

        if (ret != 0 && ret != -EBADMSG)
                abort();
        /* a SHA-1 log never replays into another bank, not even to nothing */
        if (sha1_log && bank != TPM2_ALG_SHA1 && (ret == 0 || pcrs.mask != 0))
                abort();
        if (ret < 0)
                return;
        if (walked != 0 || pcrs.bank != bank || pcrs.mask >> EVENTLOG_PCR_COUNT)
                abort();
        for (unsigned i = 0; i < PCR_MAX; i++)
                if (pcrs.value[i].size != ((pcrs.mask & (1u << i)) ? hashalg_size(bank) : 0))
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct bounds b = { .data = data, .size = size };
        enum eventlog_secure_boot state;
        struct eventlog_spec_id spec;
        bool sha1_log;
        int walked, ret;

        walked = eventlog_foreach(data, size, check_event, &b);
        if (walked != 0 && walked != -EBADMSG)
                abort();
        ret = eventlog_spec_id(data, size, &spec);
        if ((ret != 0 && ret != -EBADMSG) || (walked == 0 && ret != 0))
                abort();
        if (ret == 0 && (spec.algorithm_count < 1 || spec.algorithm_count > EVENTLOG_MAX_ALGORITHMS))
                abort();
        sha1_log = ret == 0 && spec.format == EVENTLOG_FORMAT_SHA1;
        if (sha1_log && (spec.algorithm_count != 1 || spec.algorithms[0].alg != TPM2_ALG_SHA1))
                abort();
        expect_replay(data, size, TPM2_ALG_SHA256, walked, sha1_log);
        expect_replay(data, size, TPM2_ALG_SHA384, walked, sha1_log);
        expect_replay(data, size, TPM2_ALG_SHA1, walked, sha1_log);
        ret = eventlog_secure_boot(data, size, &state);
        if ((ret != 0 && ret != -EBADMSG) || (ret == 0 && walked != 0))
                abort();
        if (ret == 0 && state != EVENTLOG_SECURE_BOOT_ABSENT && state != EVENTLOG_SECURE_BOOT_DISABLED &&
            state != EVENTLOG_SECURE_BOOT_ENABLED)
                abort();
        return 0;
}
