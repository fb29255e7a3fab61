/* vmattest's own measurement log (docs/protocol.md §5.2): every extend the agent makes to PCR 15
 * (root identity, key released, leaving the initrd) as one TCG Canonical Event Log JSON record a
 * line:
 *   {"recnum":N,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"<hex>"}],
 *    "content_type":"vmattest","content":{"event":"<name>","data":"<text>"}}
 * The digest is H_bank(event || 0x00 || data): the event's name is inside what is extended, so
 * a record renamed after the fact no longer replays to PCR 15 (the TPM signs PCR 15, nothing
 * signs the log's text). The agent writes it, the verifier (which gets it as
 * vmattest_measurement_list) parses it: bounded, every field checked.
 *
 * What the verifier concludes from a log that replays to the quoted PCR 15:
 *   root-identity   a volume the initrd unlocked (no effect on the release)
 *   leave-initrd    the boot left the initrd: no key is released after it
 *   key-released    this boot had its key: no second release
 *   anything else   counted as a key release: a record the verifier cannot classify must never
 *                   make it release a key it would otherwise refuse */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define MEASUREMENT_PCR 15
#define MEASUREMENT_EVENT_KEY_RELEASED "key-released"
#define MEASUREMENT_EVENT_ROOT_IDENTITY "root-identity"
#define MEASUREMENT_EVENT_LEAVE_INITRD "leave-initrd"
#define MEASUREMENT_LINE_MAX 4096
#define MEASUREMENT_RECORDS_MAX 1024

#define MEASUREMENT_EVENT_MAX 64
#define MEASUREMENT_DATA_MAX (MEASUREMENT_LINE_MAX / 2)

/* The bytes whose hash is extended: event || 0x00 || data (malloc'ed). -EINVAL when the name
 * is empty or longer than MEASUREMENT_EVENT_MAX, or the data longer than MEASUREMENT_DATA_MAX. */
int measurement_event_bytes(const char *event, const char *data, char **out, size_t *size);
/* H_bank(event || 0x00 || data) into `digest` (hashalg_size(bank) bytes). */
int measurement_digest(TPM2_ALG_ID bank, const char *event, const char *data, uint8_t *digest);

/* One record's line (newline-terminated), malloc'ed, with its digest in `bank`. */
int measurement_record(uint64_t recnum, TPM2_ALG_ID bank, const char *event, const char *data, char **line);

struct measurement_summary {
        uint8_t pcr15[TPM2_MAX_DIGEST_BUFFER]; /* the replayed value */
        unsigned records;
        unsigned releases;                     /* key-released records and records of unknown events */
        unsigned first_release;                /* the record number of the first of them */
        bool left_initrd;                      /* a leave-initrd record */
        unsigned leave_record;                 /* its record number */
};

/* Parses and replays the log (text of lines) in `bank`; each record's digest must be
 * H_bank(event || 0x00 || data), its recnum the next one, its pcr 15. -EBADMSG naming the
 * record otherwise. */
int measurement_log_replay(const char *text, size_t size, TPM2_ALG_ID bank, struct measurement_summary *summary);
