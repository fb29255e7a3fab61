#include "policy/mb_reference.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/pcr_values.h"
#include "policy/authenticode.h"
#include "policy/boot_events.h"
#include "policy/file_digest.h"
#include "policy/utf8.h"

/* EDK2's action string for PCR 4 before it starts a boot option's application (PFP, "EV_EFI_ACTION
 * Event Types") */
static const char calling_boot_option[] = "Calling EFI Application from Boot Option";
static const uint8_t separator_data[4] = { 0 };

void mb_reference_init(struct mb_reference *ref, TPM2_ALG_ID bank) {
        memset(ref, 0, sizeof(*ref));
        ref->bank = bank;
}

void mb_reference_done(struct mb_reference *ref) {
        for (size_t i = 0; i < ref->rule_count; i++)
                free(ref->rules[i].digests);
        memset(ref, 0, sizeof(*ref));
}

int mb_reference_add(struct mb_reference *ref, uint32_t pcr, uint32_t type, const uint8_t *digest) {
        size_t size = hashalg_size(ref->bank);
        struct mb_reference_rule *rule = NULL;
        char label[32];

        for (size_t i = 0; i < ref->rule_count && !rule; i++)
                if (ref->rules[i].pcr == pcr && ref->rules[i].type == type)
                        rule = &ref->rules[i];
        if (!rule) {
                if (!eventlog_type_name(type) || type == EV_NO_ACTION)
                        return vm_error(-EBADMSG, "PCR %u: event type %s has no name in the measured-boot policy format", pcr,
                                        eventlog_type_label(type, label, sizeof(label)));
                if (ref->rule_count == MB_POLICY_MAX_RULES)
                        return vm_error(-E2BIG, "more than %d rules (PCR and event type pairs)", MB_POLICY_MAX_RULES);
                rule = &ref->rules[ref->rule_count++];
                *rule = (struct mb_reference_rule){ .pcr = pcr, .type = type };
        }
        for (size_t i = 0; i < rule->count; i++)
                if (memcmp(rule->digests[i], digest, size) == 0)
                        return 0; /* there already */
        if (rule->count == MB_POLICY_MAX_DIGESTS)
                return vm_error(-E2BIG, "PCR %u %s: more than %d digests", pcr, eventlog_type_label(type, label, sizeof(label)),
                                MB_POLICY_MAX_DIGESTS);
        if ((rule->count & (rule->count - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power of two */
                void *p = reallocarray(rule->digests, rule->count ? 2 * rule->count : 1, sizeof(*rule->digests));

                if (!p)
                        return -ENOMEM;
                rule->digests = p;
        }
        memset(rule->digests[rule->count], 0, sizeof(rule->digests[rule->count]));
        memcpy(rule->digests[rule->count++], digest, size);
        return 1;
}

struct log_walk {
        struct mb_reference *ref;
        uint32_t pcrs;
        bool explain;
};

static int take_event(const struct eventlog_event *ev, void *user) {
        struct log_walk *w = user;
        const uint8_t *digest;
        char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1], text[512];
        size_t size = hashalg_size(w->ref->bank);
        int ret;

        if (ev->index == 0 || ev->type == EV_NO_ACTION || ev->pcr >= MB_POLICY_PCR_COUNT || !(w->pcrs & (1u << ev->pcr)))
                return 0;
        digest = eventlog_event_digest(ev, w->ref->bank);
        if (!digest)
                return vm_error(-EBADMSG, "event log event %u: no %s digest", ev->index, hashalg_name(w->ref->bank));
        if (w->explain) {
                for (size_t i = 0; i < size; i++)
                        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
                boot_event_describe(ev, text, sizeof(text));
                log_info("PCR %u event %u %s:%.16s...: %s", ev->pcr, ev->index, hashalg_name(w->ref->bank), hex, text);
        }
        ret = mb_reference_add(w->ref, ev->pcr, ev->type, digest);
        return ret < 0 ? ret : 0;
}

int mb_reference_from_log(struct mb_reference *ref, const uint8_t *log, size_t size, uint32_t pcrs, bool explain) {
        struct log_walk w = { .ref = ref, .pcrs = pcrs, .explain = explain };
        enum eventlog_secure_boot state;
        struct pcr_values replayed;
        int ret;

        ret = eventlog_replay(log, size, ref->bank, &replayed);
        if (ret >= 0)
                ret = eventlog_foreach(log, size, take_event, &w);
        if (ret >= 0)
                ret = eventlog_secure_boot(log, size, &state);
        if (ret < 0)
                return ret;
        for (uint32_t pcr = 0; pcr < MB_POLICY_PCR_COUNT; pcr++)
                if (pcrs & ~replayed.mask & (1u << pcr)) {
                        ref->pinned_mask |= 1u << pcr;
                        if (explain)
                                log_info("PCR %u: no event extends it: pinned at its reset value", pcr);
                }
        ref->secure_boot = state == EVENTLOG_SECURE_BOOT_ENABLED ? MB_REFERENCE_SECURE_BOOT_ENABLED
                                                                 : MB_REFERENCE_SECURE_BOOT_DISABLED;
        if (explain)
                log_info("Secure Boot: %s", eventlog_secure_boot_name(state));
        return 0;
}

int mb_reference_add_kernel(struct mb_reference *ref, const char *path) {
        _cleanup_(freep) char *image = NULL;
        uint8_t digest[TPM2_SHA512_DIGEST_SIZE];
        size_t size;
        int added, ret = file_read_all(path, AUTHENTICODE_IMAGE_MAX, &image, &size);

        if (ret == -ENOENT)
                return vm_error(-ENOENT, "%s: no such file", path);
        if (ret < 0)
                return ret;
        ret = authenticode_digest((const uint8_t *)image, size, ref->bank, digest);
        if (ret < 0)
                return vm_error(ret, "%s: %s", path, vm_error_detail(ret));
        ret = added = mb_reference_add(ref, 4, EV_EFI_BOOT_SERVICES_APPLICATION, digest);
        if (ret >= 0)
                ret = hashalg_digest(ref->bank, calling_boot_option, strlen(calling_boot_option), digest);
        if (ret >= 0)
                ret = mb_reference_add(ref, 4, EV_EFI_ACTION, digest);
        if (ret >= 0)
                ret = hashalg_digest(ref->bank, separator_data, sizeof(separator_data), digest);
        if (ret >= 0)
                ret = mb_reference_add(ref, 4, EV_SEPARATOR, digest);
        return ret < 0 ? ret : added;
}

int mb_reference_add_initrd(struct mb_reference *ref, const char *path) {
        struct file_hasher hasher;
        uint8_t digest[TPM2_SHA512_DIGEST_SIZE];
        int ret = file_hasher_init(&hasher, ref->bank);

        if (ret < 0)
                return ret;
        ret = file_hasher_digest_path(&hasher, path, digest);
        file_hasher_done(&hasher);
        return ret < 0 ? ret : mb_reference_add(ref, 9, EV_EVENT_TAG, digest);
}

static void put_utf16(uint8_t *out, size_t *units, uint32_t unit) {
        out[2 * *units] = (uint8_t)unit;
        out[2 * *units + 1] = (uint8_t)(unit >> 8);
        (*units)++;
}

int mb_reference_add_cmdline(struct mb_reference *ref, const char *cmdline) {
        size_t len = strlen(cmdline), units = 0;
        _cleanup_(freep) uint8_t *utf16 = malloc(4 * len + 2); /* each byte at most one unit, 4 bytes a pair */
        uint8_t digest[TPM2_SHA512_DIGEST_SIZE];
        int ret;

        if (!utf16)
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = utf8_decode((const uint8_t *)cmdline + i, len - i, &cp);

                if (n == 0)
                        return vm_error(-EILSEQ, "the command line is not UTF-8 (byte %zu)", i);
                i += n;
                if (cp >= 0x10000) {
                        put_utf16(utf16, &units, 0xd800 | (cp - 0x10000) >> 10);
                        put_utf16(utf16, &units, 0xdc00 | ((cp - 0x10000) & 0x3ff));
                } else
                        put_utf16(utf16, &units, cp);
        }
        put_utf16(utf16, &units, 0); /* the load options end in a NUL character */
        ret = hashalg_digest(ref->bank, utf16, 2 * units, digest);
        return ret < 0 ? ret : mb_reference_add(ref, 9, EV_EVENT_TAG, digest);
}

static void write_hex(FILE *out, const uint8_t *digest, size_t size) {
        putc('"', out);
        for (size_t i = 0; i < size; i++)
                fprintf(out, "%02x", digest[i]);
        putc('"', out);
}

int mb_reference_write(FILE *out, const struct mb_reference *ref) {
        static const char *const secure_boot[] = {
                [MB_REFERENCE_SECURE_BOOT_ENABLED] = "enabled",
                [MB_REFERENCE_SECURE_BOOT_DISABLED] = "disabled",
                [MB_REFERENCE_SECURE_BOOT_ANY] = "any",
        };
        size_t size = hashalg_size(ref->bank);
        uint8_t reset[TPM2_SHA512_DIGEST_SIZE] = { 0 }; /* PCRs 0-9 reset to zeros */
        bool first = true;

        fprintf(out, "{\"version\": 1, \"bank\": \"%s\"", hashalg_name(ref->bank));
        if (ref->pinned_mask) {
                fputs(", \"pcrs\": {", out);
                for (uint32_t pcr = 0; pcr < MB_POLICY_PCR_COUNT; pcr++)
                        if (ref->pinned_mask & (1u << pcr)) {
                                fprintf(out, "%s\"%u\": [", first ? "" : ", ", pcr);
                                write_hex(out, reset, size);
                                putc(']', out);
                                first = false;
                        }
                putc('}', out);
        }
        if (ref->rule_count) {
                first = true;
                fputs(", \"events\": [", out);
                for (uint32_t pcr = 0; pcr < MB_POLICY_PCR_COUNT; pcr++)
                        for (size_t i = 0; i < ref->rule_count; i++) {
                                const struct mb_reference_rule *rule = &ref->rules[i];

                                if (rule->pcr != pcr)
                                        continue;
                                fprintf(out, "%s{\"pcr\": %u, \"type\": \"%s\", \"digests\": [", first ? "" : ", ", pcr,
                                        eventlog_type_name(rule->type));
                                for (size_t d = 0; d < rule->count; d++) {
                                        if (d)
                                                fputs(", ", out);
                                        write_hex(out, rule->digests[d], size);
                                }
                                fputs("]}", out);
                                first = false;
                        }
                putc(']', out);
        }
        if (ref->secure_boot != MB_REFERENCE_SECURE_BOOT_UNSET)
                fprintf(out, ", \"secure_boot\": \"%s\"", secure_boot[ref->secure_boot]);
        fputs("}\n", out);
        if (fflush(out) != 0 || ferror(out))
                return vm_error(-EIO, "cannot write the policy: %m");
        return 0;
}

int mb_reference_check(const char *policy_text, size_t size, const uint8_t *log, size_t log_size, TPM2_ALG_ID bank) {
        _cleanup_(mb_policy_freep) struct mb_policy *policy = NULL;
        struct pcr_values quoted;
        int ret = eventlog_replay(log, log_size, bank, &quoted);

        if (ret < 0)
                return ret;
        /* the PCRs a TPM quotes for a measured-boot policy, those the log leaves alone reset */
        for (uint32_t pcr = 0; pcr < MB_POLICY_PCR_COUNT; pcr++)
                if (!(quoted.mask & (1u << pcr))) {
                        memset(&quoted.value[pcr], 0, sizeof(quoted.value[pcr]));
                        quoted.value[pcr].size = (UINT16)hashalg_size(bank);
                }
        quoted.mask |= (1u << MB_POLICY_PCR_COUNT) - 1;
        ret = mb_policy_parse(policy_text, size, &policy);
        if (ret >= 0)
                ret = mb_policy_check(policy, log, log_size, &quoted);
        return ret;
}
