/* The IMA measurement list in the ASCII form the kernel prints in
 * /sys/kernel/security/ima/ascii_runtime_measurements and the agent serves from a given entry
 * as `ima_measurement_list` (docs/protocol.md §2, §7). One entry a line, columns separated by one
 * space:
 *
 *   PCR template-hash template-name fields...
 *   10  <SHA-1, 40 hex>  ima-ng   <alg>:<hex digest> <path>
 *   10  <SHA-1, 40 hex>  ima-sig  <alg>:<hex digest> <path> <hex signature, empty if unsigned>
 *   10  <SHA-1, 40 hex>  ima-buf  <alg>:<hex digest> <name> <hex buffer>
 *
 * The kernel does not hash the line but the template data: each field is prefixed with its
 * length as a little-endian u32 (the kernel's byte order on x86, docs/protocol.md §7):
 *   d-ng  u32 len || "<alg>:" || '\0' || digest
 *   n-ng  u32 len || path || '\0'          (the kernel has printed each space in it as '_')
 *   sig   u32 len || signature             (ima-sig; an unsigned file has len 0, and the line
 *                                           then ends in a space after the path)
 *   buf   u32 len || buffer                (ima-buf)
 * An entry whose template hash is all zero is a violation (a file measured while open for
 * write, or opened for write while being measured): the kernel extends PCR 10 with all-0xff
 * bytes of the bank's size for it, not with the hash of its data. Nothing binds such a line's
 * path and digest: no decision may rest on them (runtime_policy_check()).
 *
 * On the Debian 6.1 kernel the template-hash column is SHA-1 whatever the PCR banks are, and
 * there is no per-bank log: PCR 10's SHA-256 bank is replayed by rebuilding the template data
 * from the line and hashing it with SHA-256. The SHA-1 of the rebuilt data must equal the
 * column, so that the line's text is the very data a matching quote covers.
 *
 * Everything here came from the machine being attested. A line is parsed within bounds
 * (IMA_LINE_MAX, IMA_PATH_MAX) through the bounded reader, and one that does not have exactly
 * this form is -EBADMSG with a detail naming the column. A parsed entry proves nothing until
 * ima_verify() has replayed it into a quoted PCR 10. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "pcr_values.h"

#define IMA_PCR 10
#define IMA_LINE_MAX 8192                     /* bytes in one line, its newline not counted */
#define IMA_PATH_MAX 4096                     /* bytes in a path or buffer name (PATH_MAX) */
#define IMA_DIGEST_MAX 64                     /* the longest file digest (sha512) */
#define IMA_DATA_MAX (IMA_LINE_MAX / 2)       /* a signature or buffer, decoded from hex */
#define IMA_TEMPLATE_DATA_MAX IMA_LINE_MAX    /* rebuilt data is always shorter than its line */
#define IMA_DIGEST_TEXT_MAX (16 + 2 * IMA_DIGEST_MAX + 1) /* "<alg>:<hex>" */
#define IMA_ALLOWED_TEXT_MAX 512

enum ima_template {
        IMA_TEMPLATE_NG,  /* d-ng|n-ng */
        IMA_TEMPLATE_SIG, /* d-ng|n-ng|sig */
        IMA_TEMPLATE_BUF, /* d-ng|n-ng|buf */
};

struct ima_entry {
        uint32_t pcr;
        uint8_t template_hash[TPM2_SHA1_DIGEST_SIZE]; /* the column, as printed */
        bool violation;                               /* template_hash is all zero */
        enum ima_template template_type;
        const char *digest_alg;       /* the kernel's name ("sha256"), a static string */
        uint8_t digest[IMA_DIGEST_MAX];
        size_t digest_size;
        const char *name;             /* path, or ima-buf's event name: points into the line */
        size_t name_len;              /* 1..IMA_PATH_MAX, not NUL-terminated */
        uint8_t data[IMA_DATA_MAX];   /* ima-sig's signature or ima-buf's buffer, decoded */
        size_t data_size;
};

/* Parses one line (`len` bytes, without its newline). -EBADMSG names the column at fault: an
 * unknown template, a missing, empty or extra column, bad hex, a digest whose length is not
 * its algorithm's, a path longer than IMA_PATH_MAX, a control character (tab, CR, ...). */
int ima_entry_parse(const char *line, size_t len, struct ima_entry *out);

/* Rebuilds the template data the kernel hashed for `entry` into `out` (capacity `cap`;
 * IMA_TEMPLATE_DATA_MAX is always enough for a parsed entry). */
int ima_entry_template_data(const struct ima_entry *entry, uint8_t *out, size_t cap, size_t *size);

/* -EBADMSG unless SHA-1(data) is the entry's template-hash column. Not for violations, whose
 * column is zero whatever the data. */
int ima_entry_check_template_hash(const struct ima_entry *entry, const uint8_t *data, size_t size);

/* The boot_aggregate IMA records as its first entry on a TPM 2.0 with a SHA-256 bank (kernels
 * >= 5.8): SHA-256 over PCRs 0-9 of that bank, concatenated. `pcrs0_9` must be the SHA-256
 * bank and hold PCRs 0-9 (others are ignored): -EINVAL otherwise. */
int ima_boot_aggregate(const struct pcr_values *pcrs0_9, uint8_t out[TPM2_SHA256_DIGEST_SIZE]);

/* Where the replay of one boot's log stands. Entries 0..next_entry-1 have been replayed and
 * were covered by a quote; pcr10 is the bank's value after them. Start each boot with
 * ima_replay_init() (all zero: PCR 10 after a TPM reset). */
struct ima_replay {
        uint8_t pcr10[64];
        TPM2_ALG_ID bank;
        uint64_t next_entry;
        /* When set (ima_replay_set_boot_aggregate()), a `boot_aggregate` entry must carry this
         * digest, whatever the runtime policy lists for it. */
        bool boot_aggregate_known;
        uint8_t boot_aggregate[TPM2_SHA256_DIGEST_SIZE];
};

/* -EINVAL for a bank vmattest cannot hash. */
int ima_replay_init(struct ima_replay *state, TPM2_ALG_ID bank);
/* Records ima_boot_aggregate(pcrs0_9): pass the quoted PCRs 0-9 of this boot. */
int ima_replay_set_boot_aggregate(struct ima_replay *state, const struct pcr_values *pcrs0_9);

/* What ima_verify() found wrong; zeroed when it returns 0. */
struct ima_verdict {
        uint64_t entry;                        /* the entry refused, or the last one replayed */
        char path[IMA_PATH_MAX + 1];           /* its path or buffer name */
        char digest[IMA_DIGEST_TEXT_MAX];      /* its digest as the log has it, "sha256:<hex>" */
        char allowed[IMA_ALLOWED_TEXT_MAX];    /* what the policy allows for that path */
        char pcr10[2 * 64 + 1];                /* the replayed PCR 10 after `entry` (no match) */
        uint64_t refused;                      /* entries the policy refused up to the match */
        /* The entry refused is a violation: path and digest are left empty, as its line's text
         * is bound to nothing the quote covers (the kernel extends PCR 10 with 0xff for it). */
        bool violation;
};

struct runtime_policy;

/* Replays `log` (`size` bytes of ASCII log, lines ending in '\n'; the last newline may be
 * missing), which the agent served starting at entry `first_entry`: that must be
 * state->next_entry (after a reboot the caller starts a new state, and asks from 0).
 * Each line is parsed, its template-hash column checked, the entry checked against `policy`
 * (skipped when NULL), and PCR 10 extended in state->bank. `quoted_pcr10` is the quote's PCR
 * 10 in that bank. The quote may lag the log: the replay must equal it after some line (or
 * before the first), and entries after that line are not covered yet.
 *   0         a match, and no entry up to it refused: the state advances to just after the
 *             (last) matching line; the caller asks for state->next_entry next time.
 *   -EPERM    the policy refused an entry the quote covers: the verdict names the first
 *             (entry number, path, digest found, what the policy allows; for a violation
 *             only its number, with `violation` set).
 *   -EBADMSG  a malformed line, a template hash that is not the SHA-1 of its data, an entry
 *             for another PCR, `first_entry` not where the replay stands, or no line at which
 *             the replay equals `quoted_pcr10` (the verdict names the last entry and value).
 * The state is changed only on success. No allocation per line. */
int ima_verify(struct ima_replay *state, const char *log, size_t size, uint64_t first_entry,
               const struct runtime_policy *policy, const uint8_t *quoted_pcr10, struct ima_verdict *verdict);
