/* The policies a tenant gives for an enrolment (add) or an enrolment group (group add): read,
 * and checked to parse, so that a typo fails in the command, not in the poller. */
#pragma once

#include <stdbool.h>

#include "verifier/config.h"

struct policy_sources {
        const char *tpm_file;     /* Keylime's tpm_policy, from a file */
        const char *tpm_json;     /* or given as text; neither: none */
        const char *runtime_file; /* Keylime's runtime (IMA) policy; NULL: none */
        const char *mb_file;      /* vmattest's measured-boot policy; NULL: none */
        const char *platform_file; /* vmattest's platform policy (docs/platforms.md); NULL: none */
        const char *host_file;     /* vmattest's host policy (docs/protocol.md §5.9); NULL: none */
};

struct policy_texts {
        char *tpm, *runtime, *mb, *platform, *host; /* malloc'ed; NULL when not given */
        bool cmdline_pinned;      /* one of them constrains PCR 9 (the kernel command line) */
};

/* The errors name the file (or --tpm-policy) and what is wrong. */
int tenant_policies_load(const struct verifier_config *config, const struct policy_sources *src, struct policy_texts *out);
void policy_texts_done(struct policy_texts *texts);
/* The dracut module's rd.shell=0 and rd.emergency=poweroff are defaults the kernel command line
 * overrides, and the command line is measured into PCR 9 only: a payload released under policies
 * that leave PCR 9 free goes to a boot that may drop to a root shell in the initrd (rd.shell=1,
 * rd.break) with the volumes open. With `payload` (a key will be released under these
 * policies) and PCR 9 free, a warning, and -EPERM unless `allow_unpinned`; `tpm_option` names
 * the command's option for the tpm_policy. */
int policy_texts_check_cmdline(const struct policy_texts *texts, bool payload, bool allow_unpinned, const char *tpm_option);
