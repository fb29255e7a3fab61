/* A hardware attestation report through Linux's configfs-tsm (Documentation/ABI/testing/
 * configfs-tsm in the kernel): an entry made under the report directory, 64 bytes of
 * REPORT_DATA written to its inblob, the report read from outblob (an SEV-SNP
 * ATTESTATION_REPORT or a TDX quote, as `provider` says) with auxblob (SNP: the certificate
 * table) and, through an SVSM, manifestblob. The entry's generation counts writes: it is read
 * before our write and after our reads, and must have moved by exactly our write, or another
 * writer's REPORT_DATA may be in what we read. The report's signature is the verifier's to
 * check, not ours. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSM_REPORT_DIR "/sys/kernel/config/tsm/report"
#define TSM_REPORT_DATA_SIZE 64
#define TSM_BLOB_MAX (64u << 10) /* outblob, auxblob and manifestblob each */
#define TSM_REPORT_ATTEMPTS 3    /* a concurrent writer is retried this often, then named */
/* The SVSM's vTPM service (SVSM specification, the attestation protocol's service GUIDs). */
#define TSM_SVSM_VTPM_GUID "c476f1eb-0123-45a5-9641-b4e7dde5bfe3"

struct tsm_report {
        char provider[64];   /* sev_guest, tdx_guest, ... */
        uint64_t generation; /* the entry's generation after our write */
        uint8_t *outblob;
        size_t outblob_size;
        uint8_t *auxblob; /* NULL: none */
        size_t auxblob_size;
        uint8_t *manifest; /* the SVSM's service manifest; NULL: none */
        size_t manifest_size;
};

/* Asks for a report over `report_data`; with `svsm`, from the SVSM's vTPM service (its
 * REPORT_DATA is then SHA-512(report_data || manifest), which is checked). -ENODEV (with a
 * detail) when `root` does not exist or no provider is behind it; the entry is removed
 * whatever happens. */
int tsm_report_get(const char *root, const uint8_t report_data[TSM_REPORT_DATA_SIZE], bool svsm,
                   struct tsm_report *report);
void tsm_report_done(struct tsm_report *report);

/* The checks of what the provider gave, pure for the tests and the fuzzer. A generation
 * attribute's text ("12\n"): digits only, within 64 bits. */
int tsm_generation_parse(const char *text, uint64_t *generation);
/* 0 when `provider`'s report `outblob` carries `report_data` as its REPORT_DATA (with a
 * `manifest`, the SVSM's SHA-512(report_data || manifest)); -EBADMSG naming the reason when it
 * does not or is too short to (SNP: exactly 1184 bytes; TDX: quote version 4 or 5). A provider
 * whose format is not known here passes: its report is served as it is. */
int tsm_report_data_check(const char *provider, const uint8_t *outblob, size_t outblob_size,
                          const uint8_t report_data[TSM_REPORT_DATA_SIZE], const uint8_t *manifest,
                          size_t manifest_size);
