#include "agent/measure.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pcr.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/measurement_log.h"

/* the Spec ID event at its largest: the header, every bank and 255 bytes of vendor info */
#define SPEC_ID_EVENT_MAX (32 + 24 + 4 * EVENTLOG_MAX_ALGORITHMS + 256)

static int write_all(int fd, const char *path, const uint8_t *data, size_t size) {
        if (write(fd, data, size) != (ssize_t)size)
                return vm_error(-EIO, "%s: cannot append to the measurement log: %m", path);
        return 0;
}

/* The banks the open log declares; a new (empty) log is started with the TPM's active banks,
 * every one of which gets each record's extend, as the firmware extends all of them. */
static int log_banks(struct tpm *tpm, const struct agent_config *config, int fd, TPM2_ALG_ID *banks,
                     size_t *nbanks) {
        const char *path = config->vmattest_ml_path;
        _cleanup_(freep) uint8_t *header = NULL;
        uint8_t head[SPEC_ID_EVENT_MAX];
        struct eventlog_spec_id spec;
        bool configured = false;
        size_t size;
        ssize_t n;
        int ret;

        n = pread(fd, head, sizeof(head), 0);
        if (n < 0)
                return vm_error(-errno, "%s: cannot read: %m", path);
        if (n > 0) {
                ret = eventlog_spec_id(head, (size_t)n, &spec);
                if (ret < 0)
                        return vm_error(ret, "%s: %s", path, vm_error_detail(ret));
                /* ours is crypto-agile; a file that reads as a SHA-1 log is not one we wrote */
                if (spec.format != EVENTLOG_FORMAT_CRYPTO_AGILE)
                        return vm_error(-EBADMSG, "%s: its first record is not the Spec ID event", path);
                for (uint32_t i = 0; i < spec.algorithm_count; i++)
                        banks[i] = spec.algorithms[i].alg;
                *nbanks = spec.algorithm_count;
                return 0;
        }
        ret = pcr_active_banks(tpm, banks, EVENTLOG_MAX_ALGORITHMS, nbanks);
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < *nbanks; i++)
                configured = configured || banks[i] == config->tpm_hash_alg;
        if (!configured)
                return vm_error(-ENOTSUP, "the TPM has no active %s bank (tpm_hash_alg) to extend PCR 15 in",
                                hashalg_name(config->tpm_hash_alg));
        ret = measurement_log_header(banks, *nbanks, &header, &size);
        return ret < 0 ? ret : write_all(fd, path, header, size);
}

int measure_event(struct tpm *tpm, const struct agent_config *config, const char *event, const char *data) {
        const char *path = config->vmattest_ml_path;
        TPM2_ALG_ID banks[EVENTLOG_MAX_ALGORITHMS];
        _cleanup_(freep) uint8_t *record = NULL;
        _cleanup_(freep) char *typed = NULL;
        _cleanup_(freep) char *dir = strdup(path);
        _cleanup_(closep) int fd = -1;
        size_t nbanks, typed_size, record_size;
        struct stat st;
        int ret;

        if (!dir)
                return -ENOMEM;
        ret = measurement_event_bytes(event, data, &typed, &typed_size);
        if (ret < 0)
                return ret;
        if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
                return vm_error(-errno, "%s: cannot create its directory: %m", path);
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return vm_error(-errno, "%s: cannot open: %m", path);
        /* two measures at once (unlock's last records and the leave-initrd unit) must not
         * interleave their extends and records, nor both start the log: one at a time */
        if (flock(fd, LOCK_EX) < 0)
                return vm_error(-errno, "%s: cannot lock: %m", path);
        ret = log_banks(tpm, config, fd, banks, &nbanks);
        if (ret >= 0)
                ret = measurement_record(banks, nbanks, event, data, &record, &record_size);
        if (ret < 0)
                return ret;
        if (fstat(fd, &st) < 0)
                return vm_error(-errno, "%s: cannot stat: %m", path);
        if ((size_t)st.st_size + record_size > MEASUREMENT_LOG_MAX)
                return vm_error(-EFBIG, "%s: full (%zu bytes at most)", path, MEASUREMENT_LOG_MAX);
        /* the TPM first: a record without its extend, or the reverse, fails the replay either way */
        ret = pcr_extend_data(tpm, MEASUREMENT_PCR, banks, nbanks, typed, typed_size);
        if (ret < 0)
                return ret;
        ret = write_all(fd, path, record, record_size);
        if (ret >= 0 && fsync(fd) < 0)
                ret = vm_error(-EIO, "%s: cannot sync the measurement log: %m", path);
        return ret; /* closing the file releases the lock */
}
