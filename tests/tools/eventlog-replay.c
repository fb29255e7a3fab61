/* Prints the extends a real firmware event log records, one "PCR:sha256=HEX" argument a line,
 * for a test to make them on its swtpm with tpm2_pcrextend: the swtpm's PCRs then hold what
 * the firmware of the logged boot left, and the log replays to them (a log that starts with a
 * StartupLocality event cannot be reproduced at locality 0: refused).
 * Usage: eventlog-replay LOG [BANK]   (BANK: sha256 by default) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/file.h"
#include "lib/hashalg.h"

struct replay {
        TPM2_ALG_ID bank;
        const char *name;
};

static int print_extend(const struct eventlog_event *ev, void *user) {
        const struct replay *rp = user;
        const uint8_t *digest;

        if (ev->index == 0)
                return 0;
        if (ev->type == EV_NO_ACTION) {
                if (ev->data_size >= 16 && memcmp(ev->data, "StartupLocality", 16) == 0)
                        return vm_error(-ENOTSUP, "event %u: StartupLocality cannot be reproduced on a swtpm", ev->index);
                return 0;
        }
        digest = eventlog_event_digest(ev, rp->bank);
        if (!digest)
                return vm_error(-EBADMSG, "event %u has no %s digest", ev->index, rp->name);
        printf("%u:%s=", ev->pcr, rp->name);
        for (size_t i = 0; i < hashalg_size(rp->bank); i++)
                printf("%02x", digest[i]);
        printf("\n");
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(freep) char *log = NULL;
        struct replay rp = { .name = argc > 2 ? argv[2] : "sha256" };
        size_t size;
        int ret;

        if (argc < 2 || argc > 3) {
                fprintf(stderr, "Usage: eventlog-replay LOG [BANK]\n");
                return 2;
        }
        rp.bank = hashalg_from_name(rp.name);
        ret = rp.bank ? file_read_all(argv[1], 16u << 20, &log, &size) : vm_error(-EINVAL, "unknown bank %s", rp.name);
        if (ret >= 0)
                ret = eventlog_foreach((const uint8_t *)log, size, print_extend, &rp);
        if (ret < 0) {
                fprintf(stderr, "eventlog-replay: %s: %s\n", argv[1], vm_error_detail(ret));
                return 1;
        }
        return 0;
}
