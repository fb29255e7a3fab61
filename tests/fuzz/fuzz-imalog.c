/* Fuzzes ima_entry_parse on the input's first line and ima_verify on the whole input, with and
 * without a runtime policy; invariants: a parsed entry stays inside its line and rebuilds within
 * bounds; ima_verify fails only with -EBADMSG or -EPERM and then leaves the state untouched,
 * and on success stands on a line that replays to the quote, with no violation before it
 * unless the policy allows violations. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imalog.h"
#include "lib/runtime_policy.h"

/* Allows the two files of the seed logs and excludes /tmp. A violation (which needs no valid
 * SHA-1 column, so the fuzzer reaches the policy with it) is refused whatever its line names,
 * unless the policy is the copy whose violations are allowed. */
static const char policy_text[] =
        "{\"meta\":{\"version\":1},"
        "\"digests\":{\"/usr/bin/bash\":[\"a6b1a4c3d0e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f\"],"
        "\"boot_aggregate\":[\"0000000000000000000000000000000000000000000000000000000000000000\"]},"
        "\"excludes\":[\"/tmp/\"],"
        "\"ima-buf\":{\"kernel_version\":[\"a6b1a4c3d0e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f\"]},"
        "\"ima\":{\"ignored_keyrings\":[\".builtin_trusted_keys\"]}}";

static void check_entry(const uint8_t *data, size_t size) {
        static uint8_t template_data[IMA_TEMPLATE_DATA_MAX];
        const uint8_t *newline = memchr(data, '\n', size);
        size_t len = newline ? (size_t)(newline - data) : size, rebuilt;
        struct ima_entry entry;

        if (ima_entry_parse((const char *)data, len, &entry) < 0)
                return;
        if (entry.pcr > 23 || entry.name_len < 1 || entry.name_len > IMA_PATH_MAX ||
            (const uint8_t *)entry.name < data || (const uint8_t *)entry.name + entry.name_len > data + len)
                abort();
        if (entry.digest_size < 16 || entry.digest_size > IMA_DIGEST_MAX || entry.data_size > IMA_DATA_MAX ||
            !entry.digest_alg)
                abort();
        if (ima_entry_template_data(&entry, template_data, sizeof(template_data), &rebuilt) < 0 || rebuilt > len)
                abort();
        if (!entry.violation) {
                int ret = ima_entry_check_template_hash(&entry, template_data, rebuilt);

                if (ret != 0 && ret != -EBADMSG)
                        abort();
        }
}

/* Whether one of the first `count` lines of `data` is a violation. */
static bool violation_among(const uint8_t *data, size_t size, uint64_t count) {
        const uint8_t *line = data, *end = data + size;

        for (uint64_t n = 0; n < count && line < end; n++) {
                const uint8_t *newline = memchr(line, '\n', (size_t)(end - line));
                size_t len = newline ? (size_t)(newline - line) : (size_t)(end - line);
                struct ima_entry entry;

                if (ima_entry_parse((const char *)line, len, &entry) == 0 && entry.violation)
                        return true;
                line += len + 1;
        }
        return false;
}

static void check_verify(const uint8_t *data, size_t size, const struct runtime_policy *policy,
                         bool violations_refused, const uint8_t *quoted) {
        struct ima_replay state, before;
        struct ima_verdict verdict;
        size_t lines = 0;
        int ret;

        if (ima_replay_init(&state, TPM2_ALG_SHA256) < 0)
                abort();
        before = state;
        ret = ima_verify(&state, (const char *)data, size, 0, policy, quoted, &verdict);
        if (strnlen(verdict.path, sizeof(verdict.path)) == sizeof(verdict.path) ||
            strnlen(verdict.digest, sizeof(verdict.digest)) == sizeof(verdict.digest) ||
            strnlen(verdict.allowed, sizeof(verdict.allowed)) == sizeof(verdict.allowed) ||
            strnlen(verdict.pcr10, sizeof(verdict.pcr10)) == sizeof(verdict.pcr10))
                abort();
        if (ret < 0) {
                if ((ret != -EBADMSG && ret != -EPERM) || memcmp(&state, &before, sizeof(state)) != 0)
                        abort();
                if (ret == -EPERM && !policy)
                        abort();
                return;
        }
        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        lines += size && data[size - 1] != '\n';
        if (ret != 0 || state.next_entry > lines || memcmp(state.pcr10, quoted, 32) != 0)
                abort();
        if (violations_refused && violation_among(data, size, state.next_entry))
                abort();
        /* going on from there with the rest of the log must not fail for where it starts */
        if (state.next_entry > 0 && state.next_entry < lines) {
                const uint8_t *rest = data;
                struct ima_replay again = state;

                for (uint64_t n = 0; n < state.next_entry; n++) {
                        const uint8_t *newline = memchr(rest, '\n', size - (size_t)(rest - data));

                        rest = newline + 1;
                }
                ret = ima_verify(&again, (const char *)rest, size - (size_t)(rest - data), state.next_entry, policy,
                                 quoted, &verdict);
                if (ret != 0 || memcmp(&again, &state, sizeof(state)) != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct runtime_policy *policy, *allowing;
        static uint8_t after_violation[32];
        static const uint8_t zero[32];

        if (!policy) {
                uint8_t both[64];

                if (runtime_policy_parse(policy_text, strlen(policy_text), &policy) < 0 ||
                    runtime_policy_parse(policy_text, strlen(policy_text), &allowing) < 0)
                        abort();
                runtime_policy_allow_violations(allowing, true);
                /* PCR 10 after one violation: a log that starts with one can match */
                memset(both + 32, 0xff, 32);
                memset(both, 0, 32);
                if (EVP_Digest(both, sizeof(both), after_violation, NULL, EVP_sha256(), NULL) != 1)
                        abort();
        }
        check_entry(data, size);
        check_verify(data, size, NULL, false, zero);
        check_verify(data, size, NULL, false, after_violation);
        check_verify(data, size, policy, true, after_violation);
        check_verify(data, size, allowing, false, after_violation);
        return 0;
}
