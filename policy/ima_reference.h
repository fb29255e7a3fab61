/* The digests of a known-good boot's IMA list (the ASCII list the kernel prints in
 * /sys/kernel/security/ima/ascii_runtime_measurements, lib/imalog.h), for a runtime policy
 * that allows what that boot ran and read, as keylime-policy's --ima-measurement-list does:
 *   - each ima-ng and ima-sig entry's digest under its path (boot_aggregate too, as Keylime
 *     lists it; vmattest-verifier checks that entry against the quoted PCRs instead);
 *   - with `keyrings`, each ima-buf entry whose buffer is a key under its keyring's name
 *     (Keylime's --keyrings); other ima-buf entries are not taken.
 * Unlike Keylime, the list is parsed strictly: each line is checked against its template hash
 * (a malformed or altered line is an error naming its number), violations are left out (their
 * line is bound to nothing: the kernel extends PCR 10 with 0xff for them), and so is a zero
 * digest (a file IMA could not read, not its contents). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy_sets.h"

#define IMA_REFERENCE_MAX (512u << 20) /* bytes of list */

struct ima_reference_stats {
        size_t entries, files, keys, violations, zero_digests, buffers;
        const char *digest_alg; /* the first entry's ("sha256"), NULL for an empty list */
};

int ima_reference_read(const char *path, bool keyrings, struct name_set *digests, struct name_set *keyring_digests,
                       struct ima_reference_stats *stats);
