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
#include "lib/measurement_log.h"

#define LOG_MAX ((size_t)MEASUREMENT_LINE_MAX * MEASUREMENT_RECORDS_MAX)

/* The number of records (lines) in the open log: the next record's recnum. */
static int next_recnum(int fd, const char *path, uint64_t *recnum) {
        char buf[4096];
        size_t total = 0;
        ssize_t n;

        *recnum = 0;
        for (off_t at = 0; (n = pread(fd, buf, sizeof(buf), at)) > 0; at += n) {
                total += (size_t)n;
                if (total > LOG_MAX)
                        return vm_error(-EFBIG, "%s: longer than %zu bytes", path, LOG_MAX);
                for (ssize_t i = 0; i < n; i++)
                        *recnum += buf[i] == '\n';
        }
        return n < 0 ? vm_error(-errno, "%s: cannot read: %m", path) : 0;
}

int measure_event(struct tpm *tpm, const struct agent_config *config, const char *event, const char *data) {
        const char *path = config->vmattest_ml_path;
        TPM2_ALG_ID bank = config->tpm_hash_alg;
        _cleanup_(freep) char *line = NULL;
        _cleanup_(freep) char *typed = NULL;
        _cleanup_(freep) char *dir = strdup(path);
        _cleanup_(closep) int fd = -1;
        uint64_t recnum;
        size_t typed_size;
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
        /* two measures at once (unlock's last records and the leave-initrd unit) must not both
         * take the same recnum or interleave their extends and lines: one at a time */
        if (flock(fd, LOCK_EX) < 0)
                return vm_error(-errno, "%s: cannot lock: %m", path);
        ret = next_recnum(fd, path, &recnum);
        if (ret >= 0)
                ret = measurement_record(recnum, bank, event, data, &line);
        if (ret < 0)
                return ret;
        /* the TPM first: a log line without its extend, or the reverse, fails the replay either way */
        ret = pcr_extend_data(tpm, MEASUREMENT_PCR, &bank, 1, typed, typed_size);
        if (ret < 0)
                return ret;
        if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0)
                return vm_error(-EIO, "%s: cannot append the measurement: %m", path);
        return 0; /* closing the file releases the lock */
}
