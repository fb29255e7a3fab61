#include "agent/measure.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pcr.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/measurement_log.h"

#define LOG_MAX ((size_t)MEASUREMENT_LINE_MAX * MEASUREMENT_RECORDS_MAX)

static int next_recnum(const char *path, uint64_t *recnum) {
        _cleanup_(freep) char *text = NULL;
        size_t size;
        int ret = file_read_all(path, LOG_MAX, &text, &size);

        *recnum = 0;
        if (ret == -ENOENT)
                return 0;
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < size; i++)
                *recnum += text[i] == '\n';
        return 0;
}

int measure_event(struct tpm *tpm, const struct agent_config *config, const char *event, const char *data) {
        TPM2_ALG_ID bank = config->tpm_hash_alg;
        uint8_t digest[TPM2_MAX_DIGEST_BUFFER];
        _cleanup_(freep) char *line = NULL;
        _cleanup_(freep) char *dir = strdup(config->vmattest_ml_path);
        _cleanup_(closep) int fd = -1;
        uint64_t recnum;
        int ret;

        if (!dir)
                return -ENOMEM;
        if (strlen(data) > MEASUREMENT_LINE_MAX / 2)
                return vm_error(-EINVAL, "measurement data longer than %d bytes", MEASUREMENT_LINE_MAX / 2);
        ret = next_recnum(config->vmattest_ml_path, &recnum);
        if (ret >= 0)
                ret = hashalg_digest(bank, data, strlen(data), digest);
        if (ret >= 0)
                ret = measurement_record(recnum, bank, digest, event, data, &line);
        if (ret < 0)
                return ret;
        /* the TPM first: a log line without its extend, or the reverse, fails the replay either way */
        ret = pcr_extend_data(tpm, MEASUREMENT_PCR, &bank, 1, data, strlen(data));
        if (ret < 0)
                return ret;
        if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
                return vm_error(-errno, "%s: cannot create its directory: %m", config->vmattest_ml_path);
        fd = open(config->vmattest_ml_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0)
                return vm_error(-EIO, "%s: cannot append the measurement: %m", config->vmattest_ml_path);
        return 0;
}
