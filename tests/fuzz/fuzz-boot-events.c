/* Fuzzes the measured-boot policy generator on a reference event log (policy/boot_events.c,
 * policy/mb_reference.c): each event described into buffers of two sizes (the text always
 * NUL-terminated inside them), then a policy made from the log for PCRs 0-9; invariants: the
 * description never overruns, making the policy is 0 or an error (-EBADMSG, -E2BIG), and a policy
 * made from a log passes that same log replayed as a TPM would have quoted it. Seed: the OVMF
 * boot of tests/fixtures/boot. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/eventlog.h"
#include "lib/log.h"
#include "policy/boot_events.h"
#include "policy/mb_reference.h"

static int describe(const struct eventlog_event *ev, void *user) {
        char text[300], tiny[7];

        (void)user;
        memset(text, 'x', sizeof(text));
        boot_event_describe(ev, text, sizeof(text));
        if (!memchr(text, '\0', sizeof(text)))
                abort();
        boot_event_describe(ev, tiny, sizeof(tiny));
        if (!memchr(tiny, '\0', sizeof(tiny)))
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct mb_reference ref;
        char *text = NULL;
        size_t text_size = 0;
        FILE *out;
        int ret;

        log_setup("fuzz", LOG_LEVEL_SILENT);
        (void)eventlog_foreach(data, size, describe, NULL);
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        ret = mb_reference_from_log(&ref, data, size, 0x3ff, false);
        if (ret != 0 && ret != -EBADMSG && ret != -E2BIG && ret != -EINVAL)
                abort();
        if (ret == 0) {
                out = open_memstream(&text, &text_size);
                if (!out || mb_reference_write(out, &ref) != 0)
                        abort();
                fclose(out);
                if (mb_reference_check(text, text_size, data, size, TPM2_ALG_SHA256) != 0)
                        abort();
                free(text);
        }
        mb_reference_done(&ref);
        return 0;
}
