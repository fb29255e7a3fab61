#include "verifier/host_evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/host_binding.h"
#include "lib/json_member.h"
#include "lib/tpm2b.h"

/* base64 of the largest blob, and the agent's reason for serving none */
#define BINDING_TEXT_MAX ((HOST_BINDING_MAX_SIZE + 2) / 3 * 4)
#define REASON_MAX 200

/* The Name of the host AK the blob names, whatever the checks will say of it. */
static void host_name(const uint8_t *blob, size_t size, char *host, size_t host_size) {
        struct host_binding binding;
        TPM2B_NAME name;

        host[0] = '\0';
        if (host_binding_parse(blob, size, &binding) < 0 || tpm2b_public_name(&binding.host_ak, &name) < 0 ||
            host_size < 2u * name.size + 1)
                return;
        for (size_t i = 0; i < name.size; i++)
                snprintf(host + 2 * i, 3, "%02x", name.name[i]);
}

/* No binding: fine unless the policy requires one; then the agent's reason is part of the failure. */
static int no_binding(const struct host_policy *policy, const char *why) {
        int ret = host_binding_check(NULL, 0, NULL, NULL, 0, policy, NULL);

        if (ret == -ENOENT)
                return 0;
        return vm_error(ret, "%s (the agent: %s)", vm_error_detail(ret), why);
}

/* The source says which version the blob must be: a version 2 blob served as "nv" (or the
 * reverse) is not what the agent says it is. */
static int check_source(const char *source, const uint8_t *blob, size_t size) {
        struct host_binding binding;
        bool fresh = strcmp(source, "fresh") == 0;

        if (host_binding_parse(blob, size, &binding) < 0)
                return 0; /* host_binding_check names what is malformed */
        if (fresh != (binding.version == HOST_BINDING_VERSION_FRESH))
                return vm_error(-EBADMSG, "host binding: malformed: source \"%s\" with a version %u binding", source,
                                binding.version);
        return 0;
}

int host_evidence_check(const struct host_policy *policy, json_object *results, const TPM2B_PUBLIC *ek,
                        const uint8_t *nonce, size_t nonce_size, char *host, size_t host_size,
                        const char **host_class) {
        _cleanup_(freep) uint8_t *blob = NULL;
        char unused[HOST_NAME_SIZE];
        const char *source, *text, *reason;
        json_object *member;
        size_t size = 0;
        int ret;

        if (!host)
                host = unused, host_size = sizeof(unused);
        host[0] = '\0';
        if (host_class)
                *host_class = "";
        if (!json_object_object_get_ex(results, "host_binding", &member) || !member)
                return no_binding(policy, "no host_binding member: host_binding = off, or an agent without it");
        if (!json_object_is_type(member, json_type_object))
                return vm_error(-EBADMSG, "host binding: host_binding is not an object");
        if (json_member_string(member, "source", 16, false, &source) < 0)
                return vm_error(-EBADMSG, "host binding: host_binding.source is missing or not a short string");
        if (strcmp(source, "none") == 0) {
                if (json_member_string(member, "reason", REASON_MAX, true, &reason) < 0)
                        reason = "(a reason that is not a string of at most 200 bytes)";
                return no_binding(policy, reason ? reason : "no reason given");
        }
        if (strcmp(source, "nv") != 0 && strcmp(source, "fresh") != 0)
                return vm_error(-EBADMSG, "host binding: source \"%s\" is not nv, fresh or none", source);
        if (json_member_string(member, "binding", BINDING_TEXT_MAX, false, &text) < 0)
                return vm_error(-EBADMSG, "host binding: host_binding.binding is missing or longer than %d bytes of "
                                          "base64",
                                BINDING_TEXT_MAX);
        if ((ret = base64_decode(text, strlen(text), &blob, &size)) < 0)
                return vm_error(-EBADMSG, "host binding: malformed: binding is not base64: %s", vm_error_detail(ret));
        /* an empty one is not "none": that is the agent's to say, with its reason */
        if (size == 0)
                return vm_error(-EBADMSG, "host binding: malformed: an empty binding");
        host_name(blob, size, host, host_size);
        if ((ret = check_source(source, blob, size)) < 0)
                return ret;
        return host_binding_check(blob, size, ek, nonce, nonce_size, policy, host_class);
}
