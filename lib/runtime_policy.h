/* Keylime's runtime policy (docs/protocol.md §7): which IMA entries the tenant accepts.
 *
 *   {
 *     "meta": {"version": 1, "generator": 0},      required; version must be 1, generator and
 *                                                   timestamp optional
 *     "release": 0,                                 optional number
 *     "digests": {"/usr/bin/bash": ["hex", ...]},   required: acceptable file digests by path
 *     "excludes": ["regex", ...],                   a path (or buffer name) a regex matches at
 *                                                   its start passes whatever its digest
 *                                                   (a violation does not: see below)
 *     "keyrings": {".ima": ["hex", ...]},           acceptable keys measured into a keyring
 *     "ima": {"ignored_keyrings": [".builtin_trusted_keys", "*"],
 *             "log_hash_alg": "sha1",               the template-hash column's algorithm
 *             "dm_policy": null},                   device-mapper rules: not supported
 *     "ima-buf": {"kexec-cmdline": ["hex", ...]},   acceptable ima-buf digests by event name
 *     "verification-keys": ""                       keys for ima-sig signatures: not used
 *   }
 *
 * Members other than meta and digests may be left out; unknown members are ignored, as
 * Keylime does. A digest is hex (either case) of 16-64 bytes; an entry's digest matches a
 * listed one of the same length and value, whatever its algorithm prefix says. `excludes` are
 * Python regexes, matched at the start of the path as Keylime's re.match matches them, with
 * PCRE2 (lib/python_regex.h: what PCRE2 would read another way is rewritten or refused, and
 * matching is bounded: a regex that gives up on a path excludes nothing). `verification-keys`
 * is accepted but ima-sig signatures are not checked: a signed file must be listed in digests
 * like any other. A non-null dm_policy is
 * -EOPNOTSUPP. Anything else wrong is -EBADMSG naming the member (`digests["/usr/bin/x"][1]`,
 * `excludes[2]`, `ima.log_hash_alg`, ...).
 *
 * Lookups are by exact path in a hash table over the parsed strings (O(1) on average); a
 * policy of 100k paths with one SHA-256 digest each holds about 11 MB once loaded (parsing the
 * 12 MB of JSON takes some 60 MB more for a moment: json-c's tree). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "cleanup.h"
#include "imalog.h"
#include "python_regex.h"

#define RUNTIME_POLICY_TEXT_MAX (64u << 20) /* bytes of JSON */
#define RUNTIME_POLICY_MAX_EXCLUDES 1024
#define RUNTIME_POLICY_REGEX_MAX PYTHON_REGEX_MAX /* bytes in one exclude regex */

struct runtime_policy;

/* `text` is one JSON object (trailing white space allowed), at most RUNTIME_POLICY_TEXT_MAX
 * bytes. */
int runtime_policy_parse(const char *text, size_t size, struct runtime_policy **out);
/* The same, from a parsed object (a policy carried inside a larger request). */
int runtime_policy_from_json(json_object *obj, struct runtime_policy **out);
void runtime_policy_free(struct runtime_policy *policy);
DEFINE_POINTER_CLEANUP(struct runtime_policy, runtime_policy_free)

/* The template-hash algorithm the policy declares (ima.log_hash_alg; sha1 when absent).
 * The Debian 6.1 kernel's column is SHA-1 whatever this says (docs/protocol.md §7). */
TPM2_ALG_ID runtime_policy_log_hash_alg(const struct runtime_policy *policy);

/* Why runtime_policy_check() refused an entry. */
struct runtime_policy_refusal {
        const char *reason;                 /* "not in the runtime policy", ... */
        char allowed[IMA_ALLOWED_TEXT_MAX]; /* the digests listed for the name, or "" */
};

/* Checks one parsed entry:
 * - ima-ng, ima-sig: the path must be in digests with the entry's digest among those listed;
 * - ima-buf whose buffer is a key (an X.509 certificate or a public key, DER): passes when its
 *   keyring (the event name) is in ima.ignored_keyrings or that lists "*"; otherwise the
 *   keyring must be in keyrings with the entry's digest listed;
 * - other ima-buf entries: the event name must be in ima-buf with the digest listed;
 * - a path or name any exclude regex matches passes, whatever its digest;
 * - the `boot_aggregate` entry, when `boot_aggregate` is not NULL (ima_boot_aggregate() of
 *   the quoted PCRs 0-9), must carry exactly that SHA-256 digest; otherwise it is looked up in
 *   digests like a path;
 * - a violation (zero template hash) is never looked up anywhere, excludes included: the
 *   kernel extends PCR 10 with 0xff bytes for it whatever its line says, so its path and
 *   digest are text nothing binds (a rewritten violation could name any listed file). It
 *   passes only when runtime_policy_allow_violations() allowed violations.
 * 0 when it passes; -EPERM with `refusal` filled and a vm_error() detail naming the path, the
 * digest found and what the policy allows (for a violation: that it is one, without its
 * path). */
int runtime_policy_check(const struct runtime_policy *policy, const struct ima_entry *entry,
                         const uint8_t *boot_aggregate, struct runtime_policy_refusal *refusal);

/* Whether an ima-buf entry's buffer is a key (a DER X.509 certificate or public key, nothing
 * after it): such an entry is checked against `keyrings`, any other against `ima-buf`. */
bool runtime_policy_buffer_is_key(const struct ima_entry *entry);

/* Whether violations pass. Keylime's policy has no member for them: this is the verifier's
 * own switch ([verifier] ima_violations), set on each policy it loads; a parsed policy refuses
 * them. */
void runtime_policy_allow_violations(struct runtime_policy *policy, bool allow);

/* Asks the cache for what runtime_policy_check() will read for `entry`, so that a replay can
 * overlap the lookup's memory latency with its hashing (a policy of 100k paths does not stay
 * in cache while a log streams through it): first the table slot (`record` false), then, once
 * that has had time to arrive, the record it points to (`record` true). Changes nothing but
 * timing. */
void runtime_policy_prefetch(const struct runtime_policy *policy, const struct ima_entry *entry, bool record);
