/* vmattest's own measurement log (SPEC §5.2): every extend the agent makes to PCR 15 (root
 * identity, key released, leaving the initrd) as one TCG Canonical Event Log JSON record a line:
 *   {"recnum":N,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"<hex>"}],
 *    "content_type":"vmattest","content":{"event":"<name>","data":"<text>"}}
 * The digest is H_bank(data); the log replays to PCR 15. The agent writes it, the verifier
 * (which gets it as vmattest_measurement_list) parses it: bounded, every field checked. */
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

/* One record's line (newline-terminated), malloc'ed; `digest` is H_bank(data). */
int measurement_record(uint64_t recnum, TPM2_ALG_ID bank, const uint8_t *digest, const char *event, const char *data,
                       char **line);

struct measurement_summary {
        uint8_t pcr15[TPM2_MAX_DIGEST_BUFFER]; /* the replayed value */
        unsigned records;
        bool key_released;                     /* a key-released event is in the log */
};

/* Parses and replays the log (text of lines) in `bank`; each record's digest must be
 * H_bank(data), its recnum the next one, its pcr 15. -EBADMSG naming the record otherwise. */
int measurement_log_replay(const char *text, size_t size, TPM2_ALG_ID bank, struct measurement_summary *summary);
