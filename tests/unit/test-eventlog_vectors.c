/* lib/eventlog.c on the ten real UEFI event logs of tests/fixtures/platforms/eventlogs/ (nine
 * crypto-agile, debian-10.bin SHA-1 only): each replays, in every bank its manifest entry states,
 * to every PCR value stated there; its records, EV_NO_ACTION records, format and Spec ID
 * algorithms are the manifest's; the EFI applications' digests are in the PCR 4 rule that
 * policy/mb_reference.c makes from the log, and GRUB's kernel command line is a PCR 8 EV_IPL
 * record whose SHA-256 digest is the command line's, which the PCR 8 rule holds. Then the
 * SHA-1 log made hostile: cut at every length, an eventSize past the end, and a crypto-agile
 * log whose header claims SHA-1 alone; the verifier's measured-boot check refusing the SHA-1
 * log in its SHA-256 bank. */
#include "tests/unit/unit.h"

#include <errno.h>
#include <json-c/json.h>

#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/mb_policy.h"
#include "policy/boot_events.h"
#include "policy/mb_reference.h"

#define EVENTLOGS "tests/fixtures/platforms/eventlogs/"
#define SHA1_LOG EVENTLOGS "debian-10.bin"
#define AGILE_LOG EVENTLOGS "cos-85-amd-sev.bin"
#define LOGS 10
/* GRUB's EV_IPL record of the command line in PCR 8: this prefix, the text, a NUL; the
 * digest is of the text alone */
static const char grub_cmdline_prefix[] = "kernel_cmdline: ";

DEFINE_POINTER_CLEANUP(json_object, json_object_put)

static json_object *member(json_object *o, const char *key) {
        json_object *v = NULL;

        if (!json_object_object_get_ex(o, key, &v))
                fail_msg("manifest: no \"%s\"", key);
        return v;
}

static void unhex(const char *hex, uint8_t *out, size_t size) {
        assert_int_equal(strlen(hex), 2 * size);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
}

static TPM2_ALG_ID bank_of(const char *name) {
        TPM2_ALG_ID alg = hashalg_from_name(name);

        if (!hashalg_size(alg))
                fail_msg("manifest: unknown bank \"%s\"", name);
        return alg;
}

struct walk {
        unsigned events, no_action;
        uint32_t first_index;
        /* the PCR 8 EV_IPL record of the command line, when wanted */
        const char *cmdline;
        size_t cmdline_size;
        const struct eventlog_event *found;
        uint8_t cmdline_sha256[32];
        unsigned cmdline_records;
};

static int count_event(const struct eventlog_event *ev, void *user) {
        struct walk *w = user;
        size_t prefix = sizeof(grub_cmdline_prefix) - 1;

        if (w->events++ == 0)
                w->first_index = ev->index;
        w->no_action += ev->type == EV_NO_ACTION;
        if (w->cmdline && ev->pcr == 8 && ev->type == EV_IPL && ev->data_size == prefix + w->cmdline_size &&
            memcmp(ev->data, grub_cmdline_prefix, prefix) == 0 &&
            memcmp(ev->data + prefix, w->cmdline, w->cmdline_size) == 0) {
                const uint8_t *digest = eventlog_event_digest(ev, TPM2_ALG_SHA256);
                char text[512];

                assert_non_null(digest);
                memcpy(w->cmdline_sha256, digest, 32);
                boot_event_describe(ev, text, sizeof(text));
                assert_non_null(strstr(text, "kernel_cmdline: "));
                w->cmdline_records++;
        }
        return 0;
}

/* Whether the reference's rule for `pcr` (any type) holds `digest`. */
static bool rule_holds(const struct mb_reference *ref, uint32_t pcr, uint32_t type, const uint8_t *digest) {
        size_t size = hashalg_size(ref->bank);

        for (size_t i = 0; i < ref->rule_count; i++)
                if (ref->rules[i].pcr == pcr && ref->rules[i].type == type)
                        for (size_t j = 0; j < ref->rules[i].count; j++)
                                if (memcmp(ref->rules[i].digests[j], digest, size) == 0)
                                        return true;
        return false;
}

static void check_replay(const char *file, const uint8_t *log, size_t size, json_object *bank_entry) {
        TPM2_ALG_ID bank = bank_of(json_object_get_string(member(bank_entry, "bank")));
        size_t digest_size = hashalg_size(bank);
        struct pcr_values replayed;
        unsigned compared = 0;

        vm_error_clear();
        if (eventlog_replay(log, size, bank, &replayed) != 0)
                fail_msg("%s: replay into %s: %s", file, hashalg_name(bank), vm_error_detail(-EBADMSG));
        json_object_object_foreach(member(bank_entry, "pcrs"), key, value) {
                uint8_t want[sizeof(TPMU_HA)], reset[sizeof(TPMU_HA)];
                unsigned pcr = (unsigned)atoi(key);

                assert_true(pcr < EVENTLOG_PCR_COUNT);
                unhex(json_object_get_string(value), want, digest_size);
                memset(reset, pcr >= 17 && pcr <= 22 ? 0xff : 0, digest_size);
                if (memcmp(replayed.mask & (1u << pcr) ? replayed.value[pcr].buffer : reset, want, digest_size) != 0)
                        fail_msg("%s: PCR %u in %s does not replay to the manifest's value", file, pcr,
                                 hashalg_name(bank));
                compared++;
        }
        assert_true(compared > 0);
        print_message("# %s: %s, %u PCRs replay\n", file, hashalg_name(bank), compared);
}

/* Logs whose PCR 7 holds an EV_EFI_VARIABLE_AUTHORITY record (shim's, for db or its own
 * certificate) whose digest is not the hash of its data: eventlog_secure_boot refuses to read
 * the Secure Boot state from them, and mb_reference_from_log with it. */
static bool unreadable_secure_boot(const char *file) {
        return strcmp(file, "cos-85-amd-sev.bin") == 0 || strcmp(file, "cos-93-amd-sev.bin") == 0 ||
               strcmp(file, "debian-10.bin") == 0;
}

/* The digests of PCR 4's EV_EFI_BOOT_SERVICES_APPLICATION records, in one bank. */
struct apps {
        TPM2_ALG_ID bank;
        uint8_t digests[16][sizeof(TPMU_HA)];
        unsigned count;
};

static int note_app(const struct eventlog_event *ev, void *user) {
        struct apps *a = user;
        const uint8_t *digest;

        if (ev->pcr != 4 || ev->type != EV_EFI_BOOT_SERVICES_APPLICATION)
                return 0;
        digest = eventlog_event_digest(ev, a->bank);
        assert_non_null(digest);
        assert_true(a->count < ELEMENTSOF(a->digests));
        memcpy(a->digests[a->count++], digest, hashalg_size(a->bank));
        return 0;
}

static void check_app_digests(const char *file, const uint8_t *log, size_t size, const char *bank_name,
                              json_object *digests) {
        TPM2_ALG_ID bank = bank_of(bank_name);
        struct mb_reference ref;
        size_t n = json_object_array_length(digests);

        struct apps apps = { .bank = bank };
        bool from_reference;
        int ret;

        /* the policy generator reads the Secure Boot state too, which these logs do not let it */
        mb_reference_init(&ref, bank);
        vm_error_clear();
        ret = mb_reference_from_log(&ref, log, size, 1u << 4, false);
        from_reference = !unreadable_secure_boot(file);
        if (from_reference && ret != 0)
                fail_msg("%s: mb_reference_from_log (%s): %s", file, bank_name, vm_error_detail(ret));
        if (!from_reference) {
                assert_int_equal(ret, -EBADMSG);
                assert_detail_contains(ret, "(PCR 7, EV_EFI_VARIABLE_AUTHORITY): its ");
                assert_detail_contains(ret, " digest is not the hash of its event data");
        }
        assert_int_equal(eventlog_foreach(log, size, note_app, &apps), 0);
        for (size_t i = 0; i < n; i++) {
                uint8_t want[sizeof(TPMU_HA)];
                bool in_log = false;

                unhex(json_object_get_string(json_object_array_get_idx(digests, i)), want, hashalg_size(bank));
                for (unsigned j = 0; j < apps.count && !in_log; j++)
                        in_log = memcmp(apps.digests[j], want, hashalg_size(bank)) == 0;
                if (!in_log)
                        fail_msg("%s: EFI application digest %zu (%s) is no PCR 4 application event's", file, i, bank_name);
                if (from_reference && !rule_holds(&ref, 4, EV_EFI_BOOT_SERVICES_APPLICATION, want))
                        fail_msg("%s: EFI application digest %zu (%s) is not in the PCR 4 rule", file, i, bank_name);
        }
        mb_reference_done(&ref);
}

static void check_cmdline(const char *file, const uint8_t *log, size_t size, json_object *cmdline) {
        const char *text = json_object_get_string(cmdline);
        size_t length = (size_t)json_object_get_string_len(cmdline);
        struct walk w = { .cmdline = text, .cmdline_size = length };
        uint8_t want[32];
        struct mb_reference ref;

        assert_int_equal(eventlog_foreach(log, size, count_event, &w), 0);
        if (w.cmdline_records != 1)
                fail_msg("%s: %u PCR 8 EV_IPL records of the manifest's command line", file, w.cmdline_records);
        /* GRUB hashes the text without its final NUL */
        assert_true(length > 0 && text[length - 1] == '\0');
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, text, length - 1, want), 0);
        assert_memory_equal(w.cmdline_sha256, want, 32);
        if (!unreadable_secure_boot(file)) {
                mb_reference_init(&ref, TPM2_ALG_SHA256);
                assert_int_equal(mb_reference_from_log(&ref, log, size, 1u << 8, false), 0);
                assert_true(rule_holds(&ref, 8, EV_IPL, want));
                mb_reference_done(&ref);
        }
}

static void check_log(json_object *entry) {
        const char *file = json_object_get_string(member(entry, "file"));
        json_object *expected = member(entry, "expected"), *v;
        char path[256];
        _cleanup_(freep) uint8_t *log = NULL;
        struct eventlog_spec_id spec;
        struct walk w = { 0 };
        bool sha1_format;
        size_t size;

        snprintf(path, sizeof(path), EVENTLOGS "%s", file);
        log = read_vector(path, &size);
        assert_int_equal((size_t)json_object_get_int(member(entry, "size")), size);

        /* the format, from the first record */
        sha1_format = strcmp(json_object_get_string(member(expected, "format")), "sha1-legacy") == 0;
        assert_int_equal(eventlog_spec_id(log, size, &spec), 0);
        assert_int_equal(spec.format, sha1_format ? EVENTLOG_FORMAT_SHA1 : EVENTLOG_FORMAT_CRYPTO_AGILE);
        if (json_object_object_get_ex(expected, "spec_id_algorithms", &v)) {
                assert_int_equal(spec.algorithm_count, json_object_array_length(v));
                for (uint32_t i = 0; i < spec.algorithm_count; i++)
                        assert_int_equal(spec.algorithms[i].alg,
                                         bank_of(json_object_get_string(json_object_array_get_idx(v, i))));
        }

        /* every record, the Spec ID event's included */
        assert_int_equal(eventlog_foreach(log, size, count_event, &w), 0);
        assert_int_equal(w.events, json_object_get_int(member(expected, "event_count")));
        assert_int_equal(w.no_action, json_object_get_int(member(expected, "ev_no_action_count")));
        assert_int_equal(w.first_index, sha1_format ? 1 : 0);

        v = member(expected, "pcrs");
        for (size_t i = 0; i < json_object_array_length(v); i++)
                check_replay(file, log, size, json_object_array_get_idx(v, i));
        if (sha1_format) {
                struct pcr_values replayed;

                assert_error(eventlog_replay(log, size, TPM2_ALG_SHA256, &replayed), -EBADMSG,
                             "event log: a SHA-1 log (TCG_PCClientPCREvent records, no Spec ID event) carries no "
                             "sha256 digests");
                assert_int_equal(replayed.mask, 0);
        }
        /* gdc-host.bin's manifest entry lists the EFI application digests upstream states for
         * the next log of server/eventlog_test.go (COS101AmdSev, not in this tree): none of them is
         * in gdc-host.bin, whose PCR 4 applications are checked by the replay alone */
        if (strcmp(file, "gdc-host.bin") != 0 && json_object_object_get_ex(expected, "efi_app_digests", &v)) {
                json_object_object_foreach(v, bank_name, digests)
                        check_app_digests(file, log, size, bank_name, digests);
        }
        if (json_object_object_get_ex(expected, "kernel_cmdline", &v))
                check_cmdline(file, log, size, v);
}

static void test_manifest_logs(void **state) {
        _cleanup_(json_object_putp) json_object *manifest = json_object_from_file(EVENTLOGS "manifest.json");
        json_object *files;

        (void)state;
        assert_non_null(manifest);
        files = member(manifest, "files");
        assert_int_equal(json_object_array_length(files), LOGS);
        for (size_t i = 0; i < LOGS; i++)
                check_log(json_object_array_get_idx(files, i));
}

static int ignore(const struct eventlog_event *ev, void *user) {
        (void)ev;
        (void)user;
        return 0;
}

struct offsets {
        size_t at[64];
        unsigned count;
};

static int note_offset(const struct eventlog_event *ev, void *user) {
        struct offsets *o = user;

        assert_true(o->count < ELEMENTSOF(o->at));
        o->at[o->count++] = ev->offset;
        return 0;
}

/* The SHA-1 log cut at every length: at a record boundary a shorter, valid log (whose SHA-1
 * replay works), inside record k (event k + 1) -EBADMSG naming that event and what was cut. */
static void test_sha1_log_truncated(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        struct offsets o = { 0 };
        unsigned record = 0;
        size_t size;

        (void)state;
        log = read_vector(SHA1_LOG, &size);
        assert_int_equal(eventlog_foreach(log, size, note_offset, &o), 0);
        assert_int_equal(o.count, 25);
        for (size_t cut = 0; cut < size; cut++) {
                struct pcr_values pcrs;
                char expected[64];
                int ret;

                while (record + 1 < o.count && o.at[record + 1] <= cut)
                        record++;
                vm_error_clear();
                ret = eventlog_foreach(log, cut, ignore, NULL);
                if (cut == o.at[record] && record > 0) {
                        assert_int_equal(ret, 0);
                        assert_int_equal(eventlog_replay(log, cut, TPM2_ALG_SHA1, &pcrs), 0);
                        continue;
                }
                assert_int_equal(ret, -EBADMSG);
                /* before its type is read, the first record may yet be the Spec ID event 0 */
                snprintf(expected, sizeof(expected), "event log event %u: truncated in ", cut < 8 ? 0 : record + 1);
                assert_detail_contains(ret, expected);
                assert_error(eventlog_replay(log, cut, TPM2_ALG_SHA1, &pcrs), -EBADMSG, expected);
        }
}

static void put_u32le(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* Each record's eventSize one past what is left of the log, then 2^32 - 1. */
static void test_sha1_log_event_size(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        struct offsets o = { 0 };
        size_t size;

        (void)state;
        log = read_vector(SHA1_LOG, &size);
        assert_int_equal(eventlog_foreach(log, size, note_offset, &o), 0);
        for (unsigned k = 0; k < o.count; k++) {
                size_t at = o.at[k] + 4 + 4 + 20;
                uint8_t saved[4];
                struct pcr_values pcrs;
                char expected[80];

                memcpy(saved, log + at, 4);
                put_u32le(log + at, (uint32_t)(size - (at + 4) + 1));
                snprintf(expected, sizeof(expected), "event log event %u: truncated in event data", k + 1);
                assert_error(eventlog_foreach(log, size, ignore, NULL), -EBADMSG, expected);
                assert_error(eventlog_replay(log, size, TPM2_ALG_SHA1, &pcrs), -EBADMSG, expected);
                put_u32le(log + at, 0xffffffffu);
                snprintf(expected, sizeof(expected), "event log event %u: eventSize 4294967295 exceeds", k + 1);
                assert_error(eventlog_replay(log, size, TPM2_ALG_SHA1, &pcrs), -EBADMSG, expected);
                memcpy(log + at, saved, 4);
        }
        /* a pcrIndex past the PC Client's 24 PCRs, in the first record and a later one */
        put_u32le(log, 24);
        assert_error(eventlog_foreach(log, size, ignore, NULL), -EBADMSG,
                     "event log event 1: pcrIndex 24 is not a PCR 0-23");
        put_u32le(log, 0);
        put_u32le(log + o.at[5], 0xffffffffu);
        assert_error(eventlog_foreach(log, size, ignore, NULL), -EBADMSG,
                     "event log event 6: pcrIndex 4294967295 is not a PCR 0-23");
}

/* A crypto-agile log whose header claims SHA-1 alone: its Spec ID event declaring only SHA-1
 * (the records' three digests then contradict it), or its signature changed so that the log
 * reads as a SHA-1 log. Neither replays into SHA-256, each is refused by name. */
static void test_agile_log_claiming_sha1(void **state) {
        _cleanup_(freep) uint8_t *log = NULL, *forged = NULL;
        struct eventlog_spec_id spec;
        struct pcr_values pcrs;
        uint32_t spec_size;
        size_t size, data_at = 32;

        (void)state;
        log = read_vector(AGILE_LOG, &size);
        assert_int_equal(eventlog_spec_id(log, size, &spec), 0);
        assert_int_equal(spec.algorithm_count, 3);

        /* numberOfAlgorithms 1, {sha1, 20}: the Spec ID data shrinks by the two other pairs */
        spec_size = (uint32_t)(log[28] | log[29] << 8 | log[30] << 16 | (uint32_t)log[31] << 24);
        forged = malloc(size);
        assert_non_null(forged);
        memcpy(forged, log, data_at + 24);
        put_u32le(forged + 28, spec_size - 8);
        put_u32le(forged + data_at + 24, 1);
        forged[data_at + 28] = 0x04, forged[data_at + 29] = 0, forged[data_at + 30] = 20, forged[data_at + 31] = 0;
        memcpy(forged + data_at + 32, log + data_at + 40, size - (data_at + 40));
        assert_int_equal(eventlog_spec_id(forged, size - 8, &spec), 0);
        assert_int_equal(spec.algorithm_count, 1);
        assert_error(eventlog_foreach(forged, size - 8, ignore, NULL), -EBADMSG,
                     "event log event 1: 3 digests, the Spec ID event declares 1 algorithms");
        assert_error(eventlog_replay(forged, size - 8, TPM2_ALG_SHA256, &pcrs), -EBADMSG,
                     "the Spec ID event declares no sha256 digests");
        assert_error(eventlog_replay(forged, size - 8, TPM2_ALG_SHA1, &pcrs), -EBADMSG, "3 digests");

        /* "Spec ID Event00", the TPM 1.2 header: a SHA-1 log, whose records do not parse */
        log[data_at + 13] = '0';
        log[data_at + 14] = '0';
        assert_int_equal(eventlog_spec_id(log, size, &spec), 0);
        assert_int_equal(spec.format, EVENTLOG_FORMAT_SHA1);
        assert_error(eventlog_replay(log, size, TPM2_ALG_SHA256, &pcrs), -EBADMSG,
                     "a SHA-1 log (TCG_PCClientPCREvent records, no Spec ID event) carries no sha256 digests");
        assert_error(eventlog_replay(log, size, TPM2_ALG_SHA1, &pcrs), -EBADMSG, "event log event 2: ");
}

/* The verifier's measured-boot check on the SHA-1 log: the quote's bank is SHA-256, the log has
 * no SHA-256 digest, and the check refuses it by name rather than replaying nothing. */
static void test_verifier_refuses_sha1_log(void **state) {
        static const char policy_text[] = "{\"version\":1,\"bank\":\"sha256\",\"pcrs\":{},\"events\":[]}";
        _cleanup_(mb_policy_freep) struct mb_policy *policy = NULL;
        _cleanup_(freep) uint8_t *log = NULL;
        struct pcr_values quoted = { .bank = TPM2_ALG_SHA256, .mask = 0x3ff };
        size_t size;

        (void)state;
        log = read_vector(SHA1_LOG, &size);
        for (unsigned pcr = 0; pcr < 10; pcr++)
                quoted.value[pcr].size = 32;
        assert_int_equal(mb_policy_parse(policy_text, strlen(policy_text), &policy), 0);
        assert_error(mb_policy_check(policy, log, size, &quoted), -EBADMSG,
                     "event log: a SHA-1 log (TCG_PCClientPCREvent records, no Spec ID event) carries no sha256 "
                     "digests");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manifest_logs),
                cmocka_unit_test(test_sha1_log_truncated),
                cmocka_unit_test(test_sha1_log_event_size),
                cmocka_unit_test(test_agile_log_claiming_sha1),
                cmocka_unit_test(test_verifier_refuses_sha1_log),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
