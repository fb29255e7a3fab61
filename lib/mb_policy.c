#include "mb_policy.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "error.h"
#include "eventlog.h"
#include "hashalg.h"
#include "json_member.h"

#define JSON_DEPTH_MAX 8 /* the policy nests 4 deep */
#define MEMBER_NAME_MAX 48

#define policy_error(...) vm_error(-EBADMSG, "measured-boot policy: " __VA_ARGS__)
#define policy_refused(...) vm_error(-EPERM, "measured-boot policy: " __VA_ARGS__)

static int check_members(json_object *obj, const char *where, const char *const *allowed, size_t n) {
        json_object_object_foreach(obj, key, value) {
                bool known = false;

                (void)value;
                for (size_t i = 0; i < n && !known; i++)
                        known = strcmp(key, allowed[i]) == 0;
                if (!known)
                        return policy_error("%s%sunknown member \"%.64s\"", where, *where ? ": " : "", key);
        }
        return 0;
}

/* A non-empty array of at most `max` hex digests of the bank's size; `member` names it. */
static int parse_digests(json_object *array, TPM2_ALG_ID bank, size_t max, const char *member,
                         struct mb_policy_digests *out) {
        size_t digest_size = hashalg_size(bank), count;

        if (!json_object_is_type(array, json_type_array))
                return policy_error("%s is not an array of hex digests", member);
        count = json_object_array_length(array);
        if (count < 1 || count > max)
                return policy_error("%s holds %zu digests, not 1-%zu", member, count, max);
        out->digests = calloc(count, sizeof(*out->digests));
        if (!out->digests)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                json_object *item = json_object_array_get_idx(array, i);
                const char *hex;
                size_t hex_len, decoded;
                int ret;

                if (!json_object_is_type(item, json_type_string))
                        return policy_error("%s[%zu] is not a string", member, i);
                hex = json_object_get_string(item);
                hex_len = (size_t)json_object_get_string_len(item);
                if (hex_len != 2 * digest_size)
                        return policy_error("%s[%zu]: %zu hex digits, a %s digest has %zu", member, i, hex_len,
                                            hashalg_name(bank), 2 * digest_size);
                ret = hex_decode(hex, hex_len, out->digests[i].buffer, sizeof(out->digests[i].buffer), &decoded);
                if (ret < 0)
                        return policy_error("%s[%zu]: %s", member, i, vm_error_detail(ret));
                out->digests[i].size = (UINT16)decoded;
                out->count = i + 1;
        }
        return 0;
}

static int parse_version(json_object *obj) {
        json_object *version;

        if (!json_object_object_get_ex(obj, "version", &version))
                return policy_error("missing version");
        if (!json_object_is_type(version, json_type_int))
                return policy_error("version is not an integer");
        if (json_object_get_int64(version) != 1)
                return policy_error("version %lld is not supported (1 is)", (long long)json_object_get_int64(version));
        return 0;
}

static int parse_bank(json_object *obj, TPM2_ALG_ID *bank) {
        const char *name;
        int ret = json_member_string(obj, "bank", 16, false, &name);

        if (ret < 0)
                return policy_error("%s", vm_error_detail(ret));
        *bank = hashalg_from_name(name);
        /* quotes are never over SHA-1 (docs/protocol.md §2): a sha1 policy could never be met */
        if (*bank == TPM2_ALG_ERROR || *bank == TPM2_ALG_SHA1)
                return policy_error("bank \"%s\" is not sha256, sha384 or sha512", name);
        return 0;
}

static int parse_pcrs(json_object *obj, struct mb_policy *policy) {
        json_object *pcrs;

        if (!json_object_object_get_ex(obj, "pcrs", &pcrs))
                return 0;
        if (!json_object_is_type(pcrs, json_type_object))
                return policy_error("pcrs is not an object");
        json_object_object_foreach(pcrs, key, values) {
                char member[MEMBER_NAME_MAX];
                unsigned pcr;
                int ret;

                /* PCRs 0-9 are one decimal digit: no sign, no leading zero, no space */
                if (strlen(key) != 1 || key[0] < '0' || key[0] > '9')
                        return policy_error("pcrs: \"%.16s\" is not a PCR 0-9", key);
                pcr = (unsigned)(key[0] - '0');
                snprintf(member, sizeof(member), "pcrs.%u", pcr);
                ret = parse_digests(values, policy->bank, MB_POLICY_MAX_VALUES, member, &policy->pcrs[pcr]);
                if (ret < 0)
                        return ret;
                policy->pcr_mask |= 1u << pcr;
        }
        return 0;
}

static int parse_rule(json_object *item, size_t index, const struct mb_policy *policy, struct mb_policy_rule *rule) {
        static const char *const rule_members[] = { "pcr", "type", "digests" };
        char where[MEMBER_NAME_MAX], member[MEMBER_NAME_MAX + sizeof(".digests")];
        json_object *pcr, *digests;
        const char *type;
        int64_t pcr_number;
        int ret;

        snprintf(where, sizeof(where), "events[%zu]", index);
        if (!json_object_is_type(item, json_type_object))
                return policy_error("%s is not an object", where);
        ret = check_members(item, where, rule_members, ELEMENTSOF(rule_members));
        if (ret < 0)
                return ret;

        if (!json_object_object_get_ex(item, "pcr", &pcr))
                return policy_error("%s: missing pcr", where);
        if (!json_object_is_type(pcr, json_type_int))
                return policy_error("%s.pcr is not an integer", where);
        pcr_number = json_object_get_int64(pcr);
        if (pcr_number < 0 || pcr_number >= MB_POLICY_PCR_COUNT)
                return policy_error("%s.pcr %lld is not a PCR 0-9", where, (long long)pcr_number);
        rule->pcr = (uint32_t)pcr_number;

        ret = json_member_string(item, "type", 64, false, &type);
        if (ret < 0)
                return policy_error("%s: %s", where, vm_error_detail(ret));
        if (eventlog_type_from_name(type, &rule->type) < 0)
                return policy_error("%s.type \"%s\" is not a known event type", where, type);
        if (rule->type == EV_NO_ACTION)
                return policy_error("%s.type: EV_NO_ACTION events extend no PCR", where);

        if (!json_object_object_get_ex(item, "digests", &digests))
                return policy_error("%s: missing digests", where);
        snprintf(member, sizeof(member), "%s.digests", where);
        ret = parse_digests(digests, policy->bank, MB_POLICY_MAX_DIGESTS, member, &rule->allowed);
        if (ret < 0)
                return ret;

        for (size_t i = 0; i < index; i++)
                if (policy->rules[i].pcr == rule->pcr && policy->rules[i].type == rule->type)
                        return policy_error("%s: a second rule for PCR %u %s (events[%zu])", where, rule->pcr, type, i);
        return 0;
}

static int parse_events(json_object *obj, struct mb_policy *policy) {
        json_object *events;
        size_t count;

        if (!json_object_object_get_ex(obj, "events", &events))
                return 0;
        if (!json_object_is_type(events, json_type_array))
                return policy_error("events is not an array");
        count = json_object_array_length(events);
        if (count > MB_POLICY_MAX_RULES)
                return policy_error("events holds %zu rules, at most %d", count, MB_POLICY_MAX_RULES);
        policy->rules = calloc(count ? count : 1, sizeof(*policy->rules));
        if (!policy->rules)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                int ret;

                /* counted first, so that mb_policy_free frees a rule parsed halfway */
                policy->rule_count = i + 1;
                ret = parse_rule(json_object_array_get_idx(events, i), i, policy, &policy->rules[i]);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

static int parse_secure_boot(json_object *obj, enum mb_policy_secure_boot *secure_boot) {
        const char *value;
        int ret = json_member_string(obj, "secure_boot", 16, true, &value);

        if (ret < 0)
                return policy_error("%s", vm_error_detail(ret));
        if (!value || strcmp(value, "any") == 0)
                *secure_boot = MB_POLICY_SECURE_BOOT_ANY;
        else if (strcmp(value, "enabled") == 0)
                *secure_boot = MB_POLICY_SECURE_BOOT_ENABLED;
        else if (strcmp(value, "disabled") == 0)
                *secure_boot = MB_POLICY_SECURE_BOOT_DISABLED;
        else
                return policy_error("secure_boot \"%s\" is not enabled, disabled or any", value);
        return 0;
}

int mb_policy_from_json(json_object *obj, struct mb_policy **out) {
        static const char *const members[] = { "version", "bank", "pcrs", "events", "secure_boot" };
        _cleanup_(mb_policy_freep) struct mb_policy *policy = NULL;
        int ret;

        *out = NULL;
        if (!json_object_is_type(obj, json_type_object))
                return policy_error("not a JSON object");
        policy = calloc(1, sizeof(*policy));
        if (!policy)
                return -ENOMEM;
        ret = check_members(obj, "", members, ELEMENTSOF(members));
        if (ret >= 0)
                ret = parse_version(obj);
        if (ret >= 0)
                ret = parse_bank(obj, &policy->bank);
        if (ret >= 0)
                ret = parse_pcrs(obj, policy);
        if (ret >= 0)
                ret = parse_events(obj, policy);
        if (ret >= 0)
                ret = parse_secure_boot(obj, &policy->secure_boot);
        if (ret < 0)
                return ret;
        *out = TAKE_PTR(policy);
        return 0;
}

int mb_policy_parse(const char *text, size_t size, struct mb_policy **out) {
        json_object *obj = NULL;
        int ret;

        *out = NULL;
        if (size > MB_POLICY_TEXT_MAX)
                return policy_error("%zu bytes, at most %u", size, MB_POLICY_TEXT_MAX);
        ret = json_parse_document("measured-boot policy", text, size, JSON_DEPTH_MAX, &obj);
        if (ret >= 0)
                ret = mb_policy_from_json(obj, out);
        json_object_put(obj);
        return ret;
}

static void digests_free(struct mb_policy_digests *d) {
        free(d->digests);
        d->digests = NULL;
        d->count = 0;
}

void mb_policy_free(struct mb_policy *policy) {
        if (!policy)
                return;
        for (unsigned i = 0; i < MB_POLICY_PCR_COUNT; i++)
                digests_free(&policy->pcrs[i]);
        for (size_t i = 0; i < policy->rule_count; i++)
                digests_free(&policy->rules[i].allowed);
        free(policy->rules);
        free(policy);
}

static bool digests_contain(const struct mb_policy_digests *d, const uint8_t *digest, size_t size) {
        for (size_t i = 0; i < d->count; i++)
                if (d->digests[i].size == size && memcmp(d->digests[i].buffer, digest, size) == 0)
                        return true;
        return false;
}

/* "<first>" or "<first> and N more", for details. Returns NULL without memory. */
static char *describe(const TPM2B_DIGEST *first, size_t count) {
        _cleanup_(freep) char *first_hex = hex_encode(first->buffer, first->size);
        char *text;

        if (!first_hex)
                return NULL;
        if (count == 1)
                return TAKE_PTR(first_hex);
        if (asprintf(&text, "%s and %zu more", first_hex, count - 1) < 0)
                return NULL;
        return text;
}

static char *digests_describe(const struct mb_policy_digests *d) {
        return describe(&d->digests[0], d->count);
}

/* The digests all rules of `pcr` allow together (at least one rule names it). */
static char *pcr_rules_describe(const struct mb_policy *policy, uint32_t pcr) {
        const TPM2B_DIGEST *first = NULL;
        size_t count = 0;

        for (size_t i = 0; i < policy->rule_count; i++)
                if (policy->rules[i].pcr == pcr) {
                        if (!first)
                                first = &policy->rules[i].allowed.digests[0];
                        count += policy->rules[i].allowed.count;
                }
        return describe(first, count);
}

/* The log replays to the quoted value of each quoted PCR 0-9 (those the log accounts for). */
static int check_replay(const uint8_t *log, size_t size, const struct pcr_values *quoted) {
        size_t digest_size = hashalg_size(quoted->bank);
        struct pcr_values replayed;
        int ret;

        ret = eventlog_replay(log, size, quoted->bank, &replayed);
        if (ret < 0)
                return ret;
        for (unsigned pcr = 0; pcr < MB_POLICY_PCR_COUNT; pcr++) {
                static const uint8_t zeros[sizeof(TPMU_HA)];
                const uint8_t *value = replayed.mask & (1u << pcr) ? replayed.value[pcr].buffer : zeros;
                _cleanup_(freep) char *replayed_hex = NULL, *quoted_hex = NULL;

                if (!(quoted->mask & (1u << pcr)) || memcmp(value, quoted->value[pcr].buffer, digest_size) == 0)
                        continue;
                replayed_hex = hex_encode(value, digest_size);
                quoted_hex = hex_encode(quoted->value[pcr].buffer, digest_size);
                if (!replayed_hex || !quoted_hex)
                        return -ENOMEM;
                return vm_error(-EBADMSG, "event log: PCR %u replays to %s, the quote has %s", pcr, replayed_hex,
                                quoted_hex);
        }
        return 0;
}

static int check_pcr_values(const struct mb_policy *policy, const struct pcr_values *quoted) {
        size_t digest_size = hashalg_size(policy->bank);

        for (unsigned pcr = 0; pcr < MB_POLICY_PCR_COUNT; pcr++) {
                _cleanup_(freep) char *found = NULL, *allowed = NULL;

                if (!(policy->pcr_mask & (1u << pcr)) ||
                    digests_contain(&policy->pcrs[pcr], quoted->value[pcr].buffer, digest_size))
                        continue;
                found = hex_encode(quoted->value[pcr].buffer, digest_size);
                allowed = digests_describe(&policy->pcrs[pcr]);
                if (!found || !allowed)
                        return -ENOMEM;
                return policy_refused("PCR %u is %s, the policy allows %s", pcr, found, allowed);
        }
        return 0;
}

struct rule_walk {
        const struct mb_policy *policy;
        uint32_t ruled_pcrs; /* PCRs some rule names */
        size_t *matched;     /* events each rule allowed */
};

/* An event's type is covered by no digest the TPM extends, so it selects nothing: a guest that
 * booted another kernel could log that kernel's event under another type and extend the PCR
 * once more itself with the good kernel's digest, and the log would still replay. Each event
 * that extends a PCR some rule names must have a digest one of that PCR's rules allows, under
 * whatever type it is logged. EV_NO_ACTION events are skipped as the replay skips them: they
 * extend nothing, and a real extend relabelled EV_NO_ACTION has already failed the replay. */
static int check_event(const struct eventlog_event *ev, void *user) {
        struct rule_walk *walk = user;
        const struct mb_policy *policy = walk->policy;
        size_t digest_size = hashalg_size(policy->bank);
        _cleanup_(freep) char *found = NULL, *allowed = NULL;
        const uint8_t *digest;
        bool allowed_by_any = false;
        char label[32];

        if (ev->index == 0 || ev->type == EV_NO_ACTION || ev->pcr >= MB_POLICY_PCR_COUNT ||
            !(walk->ruled_pcrs & (1u << ev->pcr)))
                return 0;
        digest = eventlog_event_digest(ev, policy->bank);
        for (size_t i = 0; i < policy->rule_count && digest; i++) {
                const struct mb_policy_rule *rule = &policy->rules[i];

                if (rule->pcr == ev->pcr && digests_contain(&rule->allowed, digest, digest_size)) {
                        walk->matched[i]++;
                        allowed_by_any = true;
                }
        }
        if (allowed_by_any)
                return 0;
        found = digest ? hex_encode(digest, digest_size) : strdup("(none)");
        allowed = pcr_rules_describe(policy, ev->pcr);
        if (!found || !allowed)
                return -ENOMEM;
        return policy_refused("PCR %u event %u (%s): %s digest %s is not allowed (the policy allows %s)", ev->pcr,
                              ev->index, eventlog_type_label(ev->type, label, sizeof(label)),
                              hashalg_name(policy->bank), found, allowed);
}

/* Then each rule must have allowed one event at least: the kernel must be there. */
static int check_events(const struct mb_policy *policy, const uint8_t *log, size_t size) {
        _cleanup_(freep) size_t *matched = NULL;
        struct rule_walk walk;
        int ret;

        if (policy->rule_count == 0)
                return 0;
        matched = calloc(policy->rule_count, sizeof(*matched));
        if (!matched)
                return -ENOMEM;
        walk = (struct rule_walk){ .policy = policy, .matched = matched };
        for (size_t i = 0; i < policy->rule_count; i++)
                walk.ruled_pcrs |= 1u << policy->rules[i].pcr;
        ret = eventlog_foreach(log, size, check_event, &walk);
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < policy->rule_count; i++) {
                const struct mb_policy_rule *rule = &policy->rules[i];
                _cleanup_(freep) char *allowed = NULL;

                if (matched[i] > 0)
                        continue;
                allowed = digests_describe(&rule->allowed);
                if (!allowed)
                        return -ENOMEM;
                return policy_refused("PCR %u has no event that events[%zu] (%s) allows; the policy requires one with "
                                      "digest %s",
                                      rule->pcr, i, eventlog_type_name(rule->type), allowed);
        }
        return 0;
}

static int check_secure_boot(const struct mb_policy *policy, const uint8_t *log, size_t size) {
        enum eventlog_secure_boot state;
        bool met;
        int ret;

        if (policy->secure_boot == MB_POLICY_SECURE_BOOT_ANY)
                return 0;
        ret = eventlog_secure_boot(log, size, &state);
        if (ret < 0)
                return ret;
        met = policy->secure_boot == MB_POLICY_SECURE_BOOT_ENABLED ? state == EVENTLOG_SECURE_BOOT_ENABLED
                                                                   : state != EVENTLOG_SECURE_BOOT_ENABLED;
        if (!met)
                return policy_refused("Secure Boot is %s, the policy requires it %s", eventlog_secure_boot_name(state),
                                      policy->secure_boot == MB_POLICY_SECURE_BOOT_ENABLED ? "enabled" : "disabled");
        return 0;
}

int mb_policy_check(const struct mb_policy *policy, const uint8_t *log, size_t size, const struct pcr_values *quoted) {
        size_t digest_size = hashalg_size(policy->bank);
        uint32_t needed, missing;
        int ret;

        if (quoted->bank != policy->bank)
                return policy_refused("requires the %s bank, the quote is over %s", hashalg_name(policy->bank),
                                      hashalg_name(quoted->bank) ? hashalg_name(quoted->bank) : "an unknown bank");
        for (unsigned pcr = 0; pcr < MB_POLICY_PCR_COUNT; pcr++)
                if ((quoted->mask & (1u << pcr)) && quoted->value[pcr].size != digest_size)
                        return vm_error(-EINVAL, "quoted PCR %u has %u bytes, a %s value has %zu", pcr,
                                        quoted->value[pcr].size, hashalg_name(policy->bank), digest_size);
        ret = check_replay(log, size, quoted);
        if (ret < 0)
                return ret;

        /* every PCR a rule looks at must be one the quote vouches for */
        needed = policy->pcr_mask;
        for (size_t i = 0; i < policy->rule_count; i++)
                needed |= 1u << policy->rules[i].pcr;
        if (policy->secure_boot != MB_POLICY_SECURE_BOOT_ANY)
                needed |= 1u << 7;
        missing = needed & ~quoted->mask;
        if (missing)
                return policy_refused("needs PCR %d, which the quote does not cover", __builtin_ctz(missing));

        ret = check_pcr_values(policy, quoted);
        if (ret >= 0)
                ret = check_events(policy, log, size);
        if (ret >= 0)
                ret = check_secure_boot(policy, log, size);
        return ret;
}
