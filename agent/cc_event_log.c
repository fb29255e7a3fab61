#include "agent/cc_event_log.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/eventlog.h"

struct cut {
        const uint8_t *area;
        size_t size;
        size_t used;
};

static bool all_bytes(const uint8_t *p, size_t n, uint8_t value) {
        for (size_t i = 0; i < n; i++)
                if (p[i] != value)
                        return false;
        return true;
}

/* After each record: is what follows the unused rest of the area? Neither all-0xff nor all-zero
 * bytes can start a record (pcrIndex 0xffffffff is no PCR; a zero record declares no digests
 * where the Spec ID event declares at least one), so the first record followed by only those is
 * the last one. */
static int find_end(const struct eventlog_event *ev, void *user) {
        struct cut *cut = user;
        size_t end = (size_t)(ev->data - cut->area) + ev->data_size;
        const uint8_t *rest = cut->area + end;
        size_t left = cut->size - end;

        if (left == 0 || all_bytes(rest, left, 0xff) || all_bytes(rest, left, 0x00)) {
                cut->used = end;
                return 1;
        }
        return 0;
}

int cc_event_log_used(const uint8_t *area, size_t size, size_t *used) {
        struct cut cut = { .area = area, .size = size };
        int ret = eventlog_foreach(area, size, find_end, &cut);

        *used = 0;
        if (ret < 0)
                return vm_error(ret, "CC event log: %s", vm_error_detail(ret));
        *used = cut.used;
        return 0;
}

int cc_event_log_read(const char *path, uint8_t **log, size_t *size) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_(freep) uint8_t *area = NULL;
        size_t got = 0, used = 0;
        bool more = false;
        int ret;

        *log = NULL, *size = 0;
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0)
                return vm_error(-errno, "CC event log %s: cannot open: %m", path);
        /* one byte past the bound tells whether the area is larger */
        area = malloc(CC_EVENT_LOG_MAX + 1);
        if (!area)
                return -ENOMEM;
        while (got <= CC_EVENT_LOG_MAX) {
                ssize_t n = read(fd, area + got, CC_EVENT_LOG_MAX + 1 - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return vm_error(-errno, "CC event log %s: cannot read: %m", path);
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        if (got > CC_EVENT_LOG_MAX) {
                more = true;
                got = CC_EVENT_LOG_MAX;
        }
        ret = cc_event_log_used(area, got, &used);
        /* a larger area is fine as long as the log ends inside the part read */
        if (more && (ret < 0 || used == got))
                return vm_error(-EFBIG, "CC event log %s: the log runs past %u bytes", path, CC_EVENT_LOG_MAX);
        if (ret < 0)
                return vm_error(ret, "%s (%s)", vm_error_detail(ret), path);
        /* what is served, not the area read */
        *log = realloc(area, used ? used : 1);
        if (!*log)
                return -ENOMEM;
        area = NULL;
        *size = used;
        return 0;
}
