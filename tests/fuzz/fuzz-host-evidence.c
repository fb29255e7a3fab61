/* Fuzzes the host_binding member of an integrity quote's answer as the verifier reads it
 * (verifier/host_evidence.c: the member's form, the base64 within its bound, the blob behind it)
 * on the input as the JSON text of the answer's results. The first byte picks whether the
 * policy requires a binding. Invariants: 0, -EPERM, -EBADMSG or -ENOMEM; 0 only with no binding
 * and a policy that does not require one (no host AK is trusted); the host named is "" or hex of
 * a Name. Seeds: corpus/host-evidence/ (the forms the agent serves, one with the binding of
 * tests/integration/test-host-binding.sh). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_member.h"
#include "verifier/host_evidence.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tss2-mu logs every rejected structure to stderr; TSS2_LOG set by hand is left alone. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        setenv("TSS2_LOG", "all+NONE", 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static TPM2B_PUBLIC ek;
        struct host_policy policy = { 0 };
        char host[HOST_NAME_SIZE];
        json_object *results = NULL;
        int ret;

        if (size < 1)
                return 0;
        policy.required = data[0] & 1;
        if (json_parse_document("results", (const char *)data + 1, size - 1, 8, &results) < 0)
                return 0;
        memset(host, 'x', sizeof(host));
        ret = host_evidence_check(&policy, results, &ek, NULL, 0, host, sizeof(host), NULL);
        json_object_put(results);
        if (ret != 0 && ret != -EPERM && ret != -EBADMSG && ret != -ENOMEM)
                abort();
        if (ret == 0 && policy.required)
                abort();
        if (!memchr(host, '\0', sizeof(host)) || strspn(host, "0123456789abcdef") != strlen(host))
                abort();
        return 0;
}
