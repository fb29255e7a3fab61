/* Fuzzes runtime_policy_parse (docs/protocol.md §7) and runtime_policy_check of a fixed set of
 * entries against what loaded; invariants: a policy loads or is refused with -EBADMSG/-EOPNOTSUPP
 * and no policy, a check passes or refuses (-EPERM) with a terminated refusal, the same entry
 * checked twice gets the same answer, and the violation is refused whatever the policy lists until
 * violations are allowed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imalog.h"
#include "lib/runtime_policy.h"

/* One entry of each kind the check tells apart: paths, excluded-looking paths, a violation,
 * boot_aggregate, ima-buf, and a key on a keyring (a DER SubjectPublicKeyInfo, P-256). */
static const char *const lines[] = {
        "10 1111111111111111111111111111111111111111 ima-ng "
        "sha256:a6b1a4c3d0e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f /usr/bin/bash",
        "10 1111111111111111111111111111111111111111 ima-sig sha1:0123456789abcdef0123456789abcdef01234567 "
        "/usr/lib/x86_64-linux-gnu/libc.so.6 030204aabbccdd",
        "10 1111111111111111111111111111111111111111 ima-ng "
        "sha256:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100 /tmp/a.out",
        "10 0000000000000000000000000000000000000000 ima-sig "
        "sha256:0000000000000000000000000000000000000000000000000000000000000000 /var/log/messages ",
        "10 1111111111111111111111111111111111111111 ima-ng "
        "sha256:4242424242424242424242424242424242424242424242424242424242424242 boot_aggregate",
        "10 1111111111111111111111111111111111111111 ima-buf "
        "sha256:a6b1a4c3d0e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f kernel_version 352e31302e30",
        "10 1111111111111111111111111111111111111111 ima-buf "
        "sha256:02cae5d4233e1852ff85fe06e497f55076fdbd3cb6a6527c9c8d1a2c27d54cd6 .ima "
        "3059301306072a8648ce3d020106082a8648ce3d03010703420004fc8a88c33563d7af5d02d569f1705e0f4123032997d10150aa38c7"
        "24107527b0ac34598d6b2451a84e43b95851ff51a800d73e2db400314074019d11146087a1",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct ima_entry entries[sizeof(lines) / sizeof(lines[0])];
        static bool parsed;
        static const uint8_t aggregate[32] = { 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                               0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                               0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42 };
        struct runtime_policy *policy = (struct runtime_policy *)&parsed;
        int ret;

        if (!parsed) {
                for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
                        if (ima_entry_parse(lines[i], strlen(lines[i]), &entries[i]) < 0)
                                abort();
                parsed = true;
        }
        ret = runtime_policy_parse((const char *)data, size, &policy);
        if (ret < 0) {
                if ((ret != -EBADMSG && ret != -EOPNOTSUPP) || policy)
                        abort();
                return 0;
        }
        if (!policy)
                abort();
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
                for (int with_aggregate = 0; with_aggregate < 2; with_aggregate++) {
                        struct runtime_policy_refusal refusal;
                        const uint8_t *boot_aggregate = with_aggregate ? aggregate : NULL;
                        int first = runtime_policy_check(policy, &entries[i], boot_aggregate, &refusal);

                        if (first != 0 && first != -EPERM)
                                abort();
                        if (first == -EPERM && (!refusal.reason || !memchr(refusal.allowed, 0, sizeof(refusal.allowed))))
                                abort();
                        if (runtime_policy_check(policy, &entries[i], boot_aggregate, &refusal) != first)
                                abort();
                }
        }
        /* the boot_aggregate entry carries the aggregate given: it always passes with it */
        {
                struct runtime_policy_refusal refusal;

                if (runtime_policy_check(policy, &entries[4], aggregate, &refusal) != 0)
                        abort();
                /* no member of any policy lets a violation (entries[3]) pass: only the switch */
                if (runtime_policy_check(policy, &entries[3], aggregate, &refusal) != -EPERM)
                        abort();
                runtime_policy_allow_violations(policy, true);
                if (runtime_policy_check(policy, &entries[3], aggregate, &refusal) != 0)
                        abort();
        }
        runtime_policy_free(policy);
        return 0;
}
