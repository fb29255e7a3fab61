/* vmattest's own measurement log (docs/pcr15.md, docs/protocol.md §5.2): every extend the agent
 * makes to PCR 15 (root identity, key released, leaving the initrd), written in the firmware
 * event log's own crypto-agile format (lib/eventlog.h) so that the agent serves one log: the
 * firmware's events followed by these. Keylime's verifier replays that log over PCRs 0-9 and
 * 11-15 (through tpm2_eventlog), vmattest-verifier replays PCR 15 from it.
 *
 * The file (vmattest_ml_path) is a log of its own: a Spec ID event declaring the banks the
 * agent extends, then one TCG_PCR_EVENT2 per extend:
 *   pcrIndex 15, eventType EV_IPL, one digest per declared bank, event data = event || 0x00 || data
 * and each digest is H_bank(event data): the event's name is inside what is extended, so a
 * record renamed after the fact no longer replays to PCR 15 (the TPM signs PCR 15, nothing
 * signs the log).
 *
 * What the verifier concludes from the PCR 15 events of a log that replays to the quoted PCR 15
 * (their data read only after their digest is checked; their type selects nothing):
 *   root-identity   a volume the initrd unlocked (no effect on the release)
 *   leave-initrd    the boot left the initrd: no key is released after it
 *   key-released    this boot had its key: no second release
 *   anything else   counted as a key release (another name, data without the NUL, any PCR 15
 *                   event some other software logged): an event the verifier cannot classify
 *                   must never make it release a key it would otherwise refuse */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define MEASUREMENT_PCR 15
#define MEASUREMENT_EVENT_TYPE 0x0000000du /* EV_IPL: "events logged by the OS boot", data hashed as is */
#define MEASUREMENT_EVENT_KEY_RELEASED "key-released"
#define MEASUREMENT_EVENT_ROOT_IDENTITY "root-identity"
#define MEASUREMENT_EVENT_LEAVE_INITRD "leave-initrd"
#define MEASUREMENT_RECORDS_MAX 1024
#define MEASUREMENT_EVENT_MAX 64
#define MEASUREMENT_DATA_MAX 2048
/* The file with every record at its largest in four banks: the agent refuses to grow it beyond */
#define MEASUREMENT_LOG_MAX ((size_t)4 << 20)

/* The bytes whose hash is extended: event || 0x00 || data (malloc'ed). -EINVAL when the name
 * is empty or longer than MEASUREMENT_EVENT_MAX, or the data longer than MEASUREMENT_DATA_MAX. */
int measurement_event_bytes(const char *event, const char *data, char **out, size_t *size);
/* H_bank(event || 0x00 || data) into `digest` (hashalg_size(bank) bytes). */
int measurement_digest(TPM2_ALG_ID bank, const char *event, const char *data, uint8_t *digest);

/* The Spec ID event that starts the file, declaring `banks` (each one vmattest can hash). */
int measurement_log_header(const TPM2_ALG_ID *banks, size_t nbanks, uint8_t **out, size_t *size);
/* One TCG_PCR_EVENT2 record with its digest in each of `banks`, malloc'ed. */
int measurement_record(const TPM2_ALG_ID *banks, size_t nbanks, const char *event, const char *data, uint8_t **out,
                       size_t *size);
/* The banks the file's Spec ID event declares, and where its first record starts: -EBADMSG for
 * a file that does not start with a Spec ID event. */
int measurement_log_banks(const uint8_t *log, size_t size, TPM2_ALG_ID *banks, size_t cap, size_t *nbanks,
                          size_t *records_offset);

struct measurement_summary {
        uint8_t pcr15[TPM2_MAX_DIGEST_BUFFER]; /* the replayed value */
        unsigned records;                      /* PCR 15 events that extend */
        unsigned releases;                     /* key-released records and records of unknown events */
        unsigned first_release;                /* the record number of the first of them */
        bool left_initrd;                      /* a leave-initrd record */
        unsigned leave_record;                 /* its record number */
};

/* Replays PCR 15 in `bank` from a whole event log (the firmware's events and the agent's, or
 * the agent's file alone; an empty log replays to zeros). Records count from 0 among PCR 15's
 * extending events. -EBADMSG naming the event for a malformed log, a PCR 15 event without a
 * `bank` digest or whose digest is not H_bank(its event data), or more than
 * MEASUREMENT_RECORDS_MAX of them. */
int measurement_log_replay(const uint8_t *log, size_t size, TPM2_ALG_ID bank, struct measurement_summary *summary);

/* For `vmattest measure --list` and the tests: calls fn for each PCR 15 record of the log, with
 * its name and data when it has the event || 0x00 || data shape (NULL otherwise). */
typedef int (*measurement_record_fn)(unsigned record, const char *event, const uint8_t *data, size_t data_size,
                                     void *user);
int measurement_log_foreach(const uint8_t *log, size_t size, measurement_record_fn fn, void *user);
