#include "agent/tsm_report.h"

#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/reader.h"

/* Where each provider's report carries REPORT_DATA: the report we read must carry what we
 * wrote, or it answers someone else's request (SEV-SNP ABI, ATTESTATION_REPORT; Intel TDX DCAP
 * quote v4/v5: the TD report body after the 48-byte header, v5's after a type and a size). */
#define SNP_REPORT_SIZE 0x4a0
#define SNP_REPORT_DATA_OFFSET 0x50
#define TDX_QUOTE_HEADER_SIZE 48
#define TDX_BODY_REPORT_DATA_OFFSET 520

struct tsm_entry {
        char path[4096];
};

static int entry_file(const struct tsm_entry *entry, const char *name, char *path, size_t size) {
        if ((size_t)snprintf(path, size, "%s/%s", entry->path, name) >= size)
                return vm_error(-ENAMETOOLONG, "configfs-tsm: %s/%s: path too long", entry->path, name);
        return 0;
}

/* A whole attribute, at most `max` bytes: -ENOENT when it does not exist, else the errno the
 * provider gave (ENXIO: no provider; EIO: the firmware's request failed), named. */
static int read_bounded(const char *path, size_t max, uint8_t **data, size_t *size) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_(freep) uint8_t *buf = NULL;
        size_t n = 0;

        if (fd < 0)
                return errno == ENOENT ? vm_error(-ENOENT, "configfs-tsm: %s: no such attribute", path)
                                       : vm_error(-errno, "configfs-tsm: %s: cannot open: %m", path);
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t got = read(fd, buf + n, max + 1 - n);

                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        return vm_error(-errno, "configfs-tsm: %s: cannot read: %m", path);
                if (got == 0)
                        break;
                n += (size_t)got;
                if (n > max)
                        return vm_error(-EFBIG, "configfs-tsm: %s: larger than %zu bytes", path, max);
        }
        buf[n] = 0;
        *data = TAKE_PTR(buf);
        *size = n;
        return 0;
}

/* A small attribute (provider, generation) as text without its newline. */
static int read_attribute(const struct tsm_entry *entry, const char *name, char *out, size_t size) {
        _cleanup_(freep) uint8_t *data = NULL;
        char path[4200];
        size_t n;
        int ret;

        if ((ret = entry_file(entry, name, path, sizeof(path))) < 0)
                return ret;
        if ((ret = read_bounded(path, size - 1, &data, &n)) < 0)
                return ret;
        while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\0'))
                n--;
        memcpy(out, data, n);
        out[n] = '\0';
        if (strlen(out) != n)
                return vm_error(-EBADMSG, "configfs-tsm: %s: holds a NUL byte", path);
        return 0;
}

int tsm_generation_parse(const char *text, uint64_t *generation) {
        char *end;

        errno = 0;
        if (text[0] < '0' || text[0] > '9')
                return vm_error(-EBADMSG, "\"%.31s\" is not a number", text);
        *generation = strtoull(text, &end, 10);
        if (*end || errno)
                return vm_error(-EBADMSG, "\"%.31s\" is not a number within 64 bits", text);
        return 0;
}

static int read_generation(const struct tsm_entry *entry, uint64_t *generation) {
        char text[32];
        int ret = read_attribute(entry, "generation", text, sizeof(text));

        if (ret >= 0 && (ret = tsm_generation_parse(text, generation)) < 0)
                return vm_error(ret, "configfs-tsm: %s/generation: %s", entry->path, vm_error_detail(ret));
        return ret;
}

/* configfs takes a binary attribute's bytes when the file is closed: the close is the write. */
static int write_attribute(const struct tsm_entry *entry, const char *name, const void *data, size_t size) {
        char path[4200];
        int fd, ret;
        ssize_t n;

        if ((ret = entry_file(entry, name, path, sizeof(path))) < 0)
                return ret;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return vm_error(-errno, "configfs-tsm: %s: cannot open for writing: %m", path);
        n = write(fd, data, size);
        if (n != (ssize_t)size) {
                ret = n < 0 ? -errno : -EIO;
                close(fd);
                return vm_error(ret, "configfs-tsm: %s: cannot write %zu bytes: %s", path, size,
                                n < 0 ? strerror(-ret) : "short write");
        }
        if (close(fd) < 0)
                return vm_error(-errno, "configfs-tsm: %s: the write was refused: %m", path);
        return 0;
}

/* A blob, bounded. `optional`: a missing or empty blob is none (SNP without a certificate
 * table, a provider without a manifest). */
static int read_blob(const struct tsm_entry *entry, const char *name, bool optional, uint8_t **data, size_t *size) {
        char path[4200];
        int ret;

        *data = NULL;
        *size = 0;
        if ((ret = entry_file(entry, name, path, sizeof(path))) < 0)
                return ret;
        ret = read_bounded(path, TSM_BLOB_MAX, data, size);
        if (ret == -ENOENT && optional)
                return 0;
        if (ret < 0)
                return ret;
        if (*size == 0) {
                free(*data);
                *data = NULL;
                return optional ? 0 : vm_error(-ENODATA, "configfs-tsm: %s: empty", path);
        }
        return 0;
}

/* The offset of REPORT_DATA in `provider`'s report, after checking the report is long enough
 * to hold it; -ENOTSUP for a provider whose format we do not know. */
static int report_data_offset(const char *provider, const uint8_t *outblob, size_t size, size_t *offset) {
        struct reader r;
        uint16_t version;

        if (strcmp(provider, "sev_guest") == 0) {
                if (size != SNP_REPORT_SIZE)
                        return vm_error(-EBADMSG, "SEV-SNP report is %zu bytes, not %u", size, SNP_REPORT_SIZE);
                *offset = SNP_REPORT_DATA_OFFSET;
                return 0;
        }
        if (strcmp(provider, "tdx_guest") == 0) {
                reader_init(&r, outblob, size, "TDX quote");
                if (reader_u16le(&r, &version, "version") < 0)
                        return -EBADMSG;
                if (version != 4 && version != 5)
                        return vm_error(-EBADMSG, "TDX quote version %u is not 4 or 5", version);
                *offset = TDX_QUOTE_HEADER_SIZE + (version == 5 ? 6 : 0) + TDX_BODY_REPORT_DATA_OFFSET;
                if (size < *offset + TSM_REPORT_DATA_SIZE)
                        return vm_error(-EBADMSG, "TDX quote is %zu bytes, too short for its REPORT_DATA", size);
                return 0;
        }
        return -ENOTSUP;
}

int tsm_report_data_check(const char *provider, const uint8_t *outblob, size_t outblob_size,
                          const uint8_t report_data[TSM_REPORT_DATA_SIZE], const uint8_t *manifest,
                          size_t manifest_size) {
        uint8_t expected[TSM_REPORT_DATA_SIZE];
        size_t offset = 0;
        int ret = report_data_offset(provider, outblob, outblob_size, &offset);

        if (ret == -ENOTSUP)
                return 0;
        if (ret < 0)
                return ret;
        if (manifest) {
                EVP_MD_CTX *ctx = EVP_MD_CTX_new();
                bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) &&
                          EVP_DigestUpdate(ctx, report_data, TSM_REPORT_DATA_SIZE) &&
                          EVP_DigestUpdate(ctx, manifest, manifest_size) && EVP_DigestFinal_ex(ctx, expected, NULL);

                EVP_MD_CTX_free(ctx);
                if (!ok)
                        return vm_error(-EIO, "SHA-512 failed");
        } else
                memcpy(expected, report_data, sizeof(expected));
        if (memcmp(outblob + offset, expected, sizeof(expected)) != 0)
                return vm_error(-EBADMSG, "the report's REPORT_DATA is not %s",
                                manifest ? "SHA-512 of ours and the manifest" : "the one written to inblob");
        return 0;
}

void tsm_report_done(struct tsm_report *report) {
        free(report->outblob);
        free(report->auxblob);
        free(report->manifest);
        memset(report, 0, sizeof(*report));
}

/* One try: generation, our write, the blobs, generation again. -EAGAIN when another writer
 * moved the generation in between. */
static int report_attempt(const struct tsm_entry *entry, const uint8_t report_data[TSM_REPORT_DATA_SIZE], bool svsm,
                          struct tsm_report *report) {
        uint64_t before, after;
        int ret;

        if (svsm) {
                /* each write moves the generation: these come before it is read. No
                 * service_manifest_version: the kernel zeroes a new entry (configfs-tsm's
                 * make_item), so ours asks for version 0: the vTPM manifest an SVSM serves (the
                 * EK's TPMT_PUBLIC; Coconut-SVSM refuses any other) and the one the verifier
                 * parses (docs/platforms.md, "SVSM vTPM (SEV-SNP)") */
                ret = write_attribute(entry, "service_provider", "svsm", 4);
                if (ret >= 0)
                        ret = write_attribute(entry, "service_guid", TSM_SVSM_VTPM_GUID, strlen(TSM_SVSM_VTPM_GUID));
                if (ret < 0)
                        return ret;
        }
        if ((ret = read_generation(entry, &before)) < 0)
                return ret;
        if ((ret = write_attribute(entry, "inblob", report_data, TSM_REPORT_DATA_SIZE)) < 0)
                return ret;
        ret = read_blob(entry, "outblob", false, &report->outblob, &report->outblob_size);
        if (ret >= 0)
                ret = read_blob(entry, "auxblob", true, &report->auxblob, &report->auxblob_size);
        if (ret >= 0 && svsm) {
                ret = read_blob(entry, "manifestblob", false, &report->manifest, &report->manifest_size);
        }
        if (ret < 0)
                return ret;
        if ((ret = read_generation(entry, &after)) < 0)
                return ret;
        if (after != before + 1)
                return vm_error(-EAGAIN, "configfs-tsm: %s: generation went from %" PRIu64 " to %" PRIu64
                                         " across our one write: another writer raced us",
                                entry->path, before, after);
        report->generation = after;
        ret = tsm_report_data_check(report->provider, report->outblob, report->outblob_size, report_data,
                                    svsm ? report->manifest : NULL, report->manifest_size);
        if (ret < 0)
                return vm_error(ret, "configfs-tsm: %s/outblob: %s", entry->path, vm_error_detail(ret));
        return 0;
}

/* A name no other process picks: ours, with the pid, the time and a counter. */
static int entry_create(const char *root, struct tsm_entry *entry) {
        static unsigned counter;
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        for (int tries = 0; tries < 8; tries++) {
                if ((size_t)snprintf(entry->path, sizeof(entry->path), "%s/vmattest-%ld-%lld%09ld-%u", root,
                                     (long)getpid(), (long long)now.tv_sec, now.tv_nsec, counter++) >= sizeof(entry->path))
                        return vm_error(-ENAMETOOLONG, "configfs-tsm: %s: path too long", root);
                if (mkdir(entry->path, 0700) == 0)
                        return 0;
                if (errno != EEXIST)
                        return vm_error(errno == ENOENT ? -ENODEV : -errno, "configfs-tsm: %s: cannot create a report "
                                                                            "entry: %m",
                                        entry->path);
        }
        return vm_error(-EEXIST, "configfs-tsm: %s: no free entry name", root);
}

int tsm_report_get(const char *root, const uint8_t report_data[TSM_REPORT_DATA_SIZE], bool svsm,
                   struct tsm_report *report) {
        struct tsm_entry entry;
        struct stat st;
        int ret;

        memset(report, 0, sizeof(*report));
        if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
                return vm_error(-ENODEV, "configfs-tsm: %s: no such directory (not a confidential VM, or configfs "
                                         "not mounted)",
                                root);
        if ((ret = entry_create(root, &entry)) < 0)
                return ret;
        ret = read_attribute(&entry, "provider", report->provider, sizeof(report->provider));
        if (ret >= 0 && !report->provider[0])
                ret = vm_error(-ENODEV, "configfs-tsm: %s: no provider behind it", entry.path);
        if (ret == -ENXIO || ret == -ENOENT)
                ret = vm_error(-ENODEV, "configfs-tsm: %s: no provider behind it", entry.path);
        for (int attempt = 1; ret >= 0; attempt++) {
                char provider[sizeof(report->provider)];

                ret = report_attempt(&entry, report_data, svsm, report);
                if (ret != -EAGAIN)
                        break;
                if (attempt == TSM_REPORT_ATTEMPTS) {
                        ret = vm_error(-EAGAIN, "%s (%d attempts)", vm_error_detail(ret), TSM_REPORT_ATTEMPTS);
                        break;
                }
                memcpy(provider, report->provider, sizeof(provider));
                tsm_report_done(report);
                memcpy(report->provider, provider, sizeof(provider));
                ret = 0; /* another attempt */
        }
        if (rmdir(entry.path) < 0 && ret >= 0)
                ret = vm_error(-errno, "configfs-tsm: %s: cannot remove the entry: %m", entry.path);
        if (ret < 0)
                tsm_report_done(report);
        return ret;
}
