#include "verifier/evidence.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/imalog.h"
#include "lib/json_member.h"
#include "lib/mb_policy.h"
#include "verifier/host_evidence.h"
#include "verifier/platform_evidence.h"
#include "lib/measurement_log.h"
#include "lib/runtime_policy.h"
#include "verifier/payload_key_certify.h"
#include "verifier/quote_check.h"

#define QUOTE_STRING_TEXT_MAX (64 * 1024)
#define PUBKEY_PEM_MAX 4096
#define IMA_PCR 10
#define BOOT_PCRS 0x3ffu /* PCRs 0-9: firmware, boot loader, kernel, initrd */
#define EVENTLOG_TEXT_MAX (12u << 20)    /* base64 of the firmware log and PCR 15 records (4 MiB each) */
#define IMA_LIST_TEXT_MAX (1024u << 20)

uint32_t evidence_mask(const struct tpm_policy *tpm_policy, bool runtime_policy, bool mb_policy, bool payload) {
        uint32_t mask = tpm_policy->mask;

        if (payload)
                mask |= 1u << MEASUREMENT_PCR;
        if (mb_policy)
                mask |= BOOT_PCRS;
        if (runtime_policy)
                mask |= BOOT_PCRS | 1u << IMA_PCR; /* boot_aggregate is H(PCR 0-9) */
        return mask;
}

/* mb_measurement_list, decoded: the firmware's event log followed by the agent's PCR 15 records
 * (docs/protocol.md §8). Absent: an empty log, which replays every PCR to zeros. */
static int evidence_event_log(json_object *results, uint8_t **log, size_t *size) {
        const char *b64;
        int ret = json_member_string(results, "mb_measurement_list", EVENTLOG_TEXT_MAX, true, &b64);

        *log = NULL;
        *size = 0;
        if (ret < 0)
                return vm_error(-EBADMSG, "mb_measurement_list: %s", vm_error_detail(ret));
        if (!b64)
                return 0;
        ret = base64_decode(b64, strlen(b64), log, size);
        return ret < 0 ? vm_error(-EBADMSG, "mb_measurement_list: %s", vm_error_detail(ret)) : 0;
}

/* Measured boot: the firmware's event log must replay to the quoted PCRs 0-9 and satisfy the
 * tenant's measured-boot policy. */
static int evidence_check_boot(const struct evidence_input *in, const uint8_t *log, size_t size,
                               const struct quote *quote) {
        int ret;

        if (!in->mb_policy)
                return 0;
        if (!log)
                return vm_error(-EPERM, "measured boot: the agent served no firmware event log (mb_measurement_list)");
        ret = mb_policy_check(in->mb_policy, log, size, &quote->pcrs);
        if (ret < 0)
                return vm_error(ret, "measured boot: %s", vm_error_detail(ret));
        return 0;
}

/* IMA: the entries new since the last poll, replayed on top of the stored PCR 10 value, must
 * reach the quoted PCR 10 and pass the runtime policy. A reboot starts the replay over. */
static int evidence_check_ima(const struct evidence_input *in, json_object *results, const struct quote *quote,
                              bool rebooted, struct attestation *state) {
        struct ima_replay replay;
        struct ima_verdict verdict;
        const char *list;
        json_object *entry_obj;
        int64_t served_from;
        uint64_t asked = in->ima_entry;
        int ret;

        if (!in->runtime_policy)
                return 0;
        ret = json_member_string(results, "ima_measurement_list", IMA_LIST_TEXT_MAX, true, &list);
        if (ret < 0 || !list)
                return vm_error(-EPERM, "IMA: the agent served no measurement list (is IMA on?)");
        if (!json_object_object_get_ex(results, "ima_measurement_list_entry", &entry_obj) ||
            !json_object_is_type(entry_obj, json_type_int) || (served_from = json_object_get_int64(entry_obj)) < 0)
                return vm_error(-EBADMSG, "IMA: ima_measurement_list_entry is missing or not an entry number");

        ret = ima_replay_init(&replay, quote->pcrs.bank);
        if (ret < 0)
                return ret;
        if (rebooted || (served_from == 0 && asked > 0)) {
                /* a new boot: its list starts from entry 0 over a reset PCR 10 */
                state->ima_next_entry = 0;
                state->ima_pcr10_size = 0;
                if (served_from != 0) /* never a pass without a replay: ask again, from 0 */
                        return vm_error(-EAGAIN, "IMA: a new boot, and the agent served its list from entry %lld: "
                                                 "asking again from entry 0",
                                        (long long)served_from);
        } else if ((uint64_t)served_from != asked)
                return vm_error(-EPERM, "IMA: asked for the list from entry %llu, the agent served it from %lld",
                                (unsigned long long)asked, (long long)served_from);
        else if (state->ima_pcr10_size == hashalg_size(replay.bank))
                memcpy(replay.pcr10, state->ima_pcr10, state->ima_pcr10_size);
        replay.next_entry = state->ima_next_entry;
        ret = ima_replay_set_boot_aggregate(&replay, &quote->pcrs);
        if (ret < 0)
                return ret;
        ret = ima_verify(&replay, list, strlen(list), (uint64_t)served_from, in->runtime_policy,
                         quote->pcrs.value[IMA_PCR].buffer, &verdict);
        if (ret == -EPERM && verdict.violation)
                return ret; /* its detail names the entry and the switch, not the line's unsigned path */
        if (ret == -EPERM)
                return vm_error(-EPERM, "IMA entry %llu: %s with %s is not allowed by the runtime policy (allowed: %s)",
                                (unsigned long long)verdict.entry, verdict.path, verdict.digest,
                                verdict.allowed[0] ? verdict.allowed : "nothing: not in the policy");
        if (ret < 0)
                return vm_error(ret, "IMA: %s", vm_error_detail(ret));
        state->ima_next_entry = replay.next_entry;
        state->ima_pcr10_size = hashalg_size(replay.bank);
        memcpy(state->ima_pcr10, replay.pcr10, state->ima_pcr10_size);
        return 0;
}

/* docs/protocol.md §5.2: PCR 15's records in the event log must replay to the quoted PCR 15;
 * what they record (a key release, leaving the initrd) is for the release logic
 * (verifier/release.c) to judge. */
static int evidence_check_measurements(const struct evidence_input *in, const uint8_t *log, size_t log_size,
                                       const struct quote *quote) {
        struct measurement_summary summary;
        size_t size = hashalg_size(quote->pcrs.bank);
        int ret;

        if (!(in->mask & (1u << MEASUREMENT_PCR)))
                return 0;
        ret = measurement_log_replay(log, log_size, quote->pcrs.bank, &summary);
        if (ret < 0)
                return vm_error(ret, "PCR 15 log: %s", vm_error_detail(ret));
        if (memcmp(summary.pcr15, quote->pcrs.value[MEASUREMENT_PCR].buffer, size) != 0)
                return vm_error(-EPERM, "PCR 15 log (%u records in mb_measurement_list) does not replay to the quoted "
                                        "PCR 15",
                                summary.records);
        if (in->measurements)
                *in->measurements = summary;
        return 0;
}

int evidence_check(const struct evidence_input *in, json_object *results, struct attestation *state) {
        const char *quote_text, *pubkey = NULL, *hash_alg;
        struct quote_expect expect = {
                .ak = in->ak,
                .nonce = in->nonce,
                .nonce_size = in->nonce_size,
                .hash_alg = in->tpm_policy->bank,
                .mask = in->mask,
                .last = state->clock,
        };
        struct quote quote;
        struct quote_clock clock;
        _cleanup_(freep) uint8_t *log = NULL;
        size_t log_size = 0;
        int ret;

        ret = json_member_string(results, "quote", QUOTE_STRING_TEXT_MAX, false, &quote_text);
        if (ret >= 0 && !in->no_payload_key)
                ret = json_member_string(results, "pubkey", PUBKEY_PEM_MAX, false, &pubkey);
        if (ret >= 0)
                ret = json_member_string(results, "hash_alg", 16, false, &hash_alg);
        if (ret < 0)
                return vm_error(-EBADMSG, "agent's answer: %s", vm_error_detail(ret));
        if (hashalg_from_name(hash_alg) != expect.hash_alg)
                return vm_error(-EPERM, "agent quotes with %s, the verifier asked for %s", hash_alg,
                                hashalg_name(expect.hash_alg));
        expect.pubkey_pem = pubkey;

        ret = quote_check(quote_text, &expect, &quote, &clock);
        if (ret < 0)
                return vm_error(ret, "quote: %s", vm_error_detail(ret));
        ret = tpm_policy_check_except(in->tpm_policy, &quote.pcrs,
                                      in->first_boot_reset >= 0 && (int64_t)clock.reset_count == in->first_boot_reset
                                              ? in->first_boot_pins
                                              : 0);
        if (ret < 0)
                return ret;
        /* the vTPM's quote is good; now whether the hardware beneath it vouches for this VM */
        if (in->platform) {
                ret = platform_evidence_check(in->platform, in->platform_trust, results, in->nonce, in->ak, in->ek,
                                              in->platform_facts, in->platform_facts_size);
                if (ret < 0)
                        return ret;
        }
        /* and whether the host's TPM vouches for the host and for this vTPM */
        if (in->host_policy) {
                ret = host_evidence_check(in->host_policy, results, in->ek, (const uint8_t *)in->nonce,
                                          in->nonce_size ? in->nonce_size : strlen(in->nonce), in->host, in->host_size,
                                          in->host_class);
                if (ret < 0)
                        return ret;
        }
        if (in->mb_policy || (in->mask & (1u << MEASUREMENT_PCR))) {
                ret = evidence_event_log(results, &log, &log_size);
                if (ret < 0)
                        return ret;
        }
        ret = evidence_check_measurements(in, log, log_size, &quote);
        if (ret >= 0)
                ret = evidence_check_boot(in, log, log_size, &quote);
        if (ret >= 0)
                ret = evidence_check_ima(in, results, &quote, quote_clock_new_boot(&state->clock, &clock), state);
        if (ret < 0)
                return ret;
        if (in->pubkey_pem && pubkey && !(*in->pubkey_pem = strdup(pubkey)))
                return -ENOMEM;
        /* not a reason to fail the quote: only a release to that key is refused (poller.c) */
        if (in->pubkey_pem && pubkey && in->pubkey_uncertified) {
                ret = payload_key_certify_check(results, in->ak, expect.hash_alg, pubkey);
                snprintf(in->pubkey_uncertified, in->pubkey_uncertified_size, "%s", ret < 0 ? vm_error_detail(ret) : "");
        }
        state->clock = clock;
        return 0;
}
