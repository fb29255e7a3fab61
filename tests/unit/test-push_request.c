/* push_request: the push model's request bodies (Keylime API v3) from an agent that may be
 * hostile. Each parser is fed every truncation of a good body, every member removed or given
 * every wrong type, oversize members, duplicate keys, bad base64 and absurd counts: it must
 * answer 0 or -EBADMSG naming the member, never crash, and leave nothing half-applied (the
 * output is all zero after a failure). The good bodies are the fuzz seeds. */
#include "tests/unit/unit.h"

#include <json-c/json.h>
#include <stdbool.h>

#include "verifier/push_request.h"

#define SEEDS "tests/fuzz/corpus/push-request/"

static const enum push_item quote_uefi_ima[] = { PUSH_TPM_QUOTE, PUSH_UEFI_LOG, PUSH_IMA_LOG };

/* A seed's body: the text after its first line (the harness's selector, see fuzz-push-request.c). */
static char *seed_text(const char *name) {
        char path[256];
        size_t size;
        _cleanup_(freep) uint8_t *text = NULL;
        const char *body;

        snprintf(path, sizeof(path), SEEDS "%s", name);
        text = read_vector(path, &size);
        body = strchr((const char *)text, '\n');
        assert_non_null(body);
        return strdup(body + 1);
}

static json_object *seed(const char *name) {
        _cleanup_(freep) char *text = seed_text(name);
        json_object *body = json_tokener_parse(text);

        assert_non_null(body);
        return body;
}

static json_object *attributes(json_object *body) {
        json_object *data, *attrs;

        assert_true(json_object_object_get_ex(body, "data", &data));
        assert_true(json_object_object_get_ex(data, "attributes", &attrs));
        return attrs;
}

/* evidence_supported[i].capabilities or evidence_collected[i].data */
static json_object *item_member(json_object *body, const char *list, size_t i, const char *member) {
        json_object *items, *out;

        assert_true(json_object_object_get_ex(attributes(body), list, &items));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(items, i), member, &out));
        return out;
}

/* ---- what each parser does with a body; `word` is what a refusal must name ---- */

enum parser { CAPABILITIES, EVIDENCE, SESSION_OPEN, SESSION_PROOF };

static bool all_zero(const void *p, size_t size) {
        const uint8_t *bytes = p;

        for (size_t i = 0; i < size; i++)
                if (bytes[i])
                        return false;
        return true;
}

/* Runs `parser` on `body`: 0 or -EBADMSG; after a failure the output is as if never written. */
static int run(enum parser parser, json_object *body) {
        struct push_capabilities caps;
        struct push_evidence ev;
        struct push_session_request req;
        int ret;

        memset(&caps, 0xa5, sizeof(caps)), memset(&ev, 0xa5, sizeof(ev)), memset(&req, 0xa5, sizeof(req));
        vm_error_clear();
        switch (parser) {
        case CAPABILITIES:
                ret = push_capabilities_parse(body, &caps);
                if (ret < 0) {
                        assert_int_equal(caps.boot_time, -1);
                        caps.boot_time = 0;
                        assert_true(all_zero(&caps, sizeof(caps)));
                }
                break;
        case EVIDENCE:
                ret = push_evidence_parse(body, quote_uefi_ima, 3, &ev);
                if (ret < 0)
                        assert_true(all_zero(&ev, sizeof(ev)));
                else
                        assert_true(ev.message && ev.signature && ev.subject_data && ev.uefi_entries && ev.ima_entries);
                break;
        default:
                ret = push_session_request_parse(body, parser == SESSION_PROOF, &req);
                if (ret < 0)
                        assert_true(all_zero(&req, sizeof(req)));
                else
                        assert_true(req.agent_id[0] && (parser == SESSION_OPEN || (req.message && req.signature)));
                break;
        }
        if (ret < 0) {
                assert_int_equal(ret, -EBADMSG);
                assert_true(vm_error_detail(ret)[0] != '\0');
        } else
                assert_int_equal(ret, 0);
        return ret;
}

static const char *seed_of(enum parser parser) {
        return parser == CAPABILITIES ? "capabilities-vmattest.txt"
               : parser == EVIDENCE   ? "evidence-quote-uefi-ima.txt"
               : parser == SESSION_OPEN ? "session-open.txt"
                                        : "session-proof.txt";
}

static void seeds_parse(void **state) {
        struct push_capabilities caps;
        struct push_evidence ev;
        struct push_session_request req;
        json_object *body;

        (void)state;
        body = seed("capabilities-vmattest.txt");
        assert_int_equal(push_capabilities_parse(body, &caps), 0);
        assert_true(caps.tpm_quote && caps.rsassa && caps.key_rsa && caps.ima_log);
        assert_int_equal(caps.hash_algorithms, 1u << PUSH_SHA256);
        assert_int_equal(caps.subjects[PUSH_SHA256], 0xffffff);
        assert_int_equal(caps.ima_entry_count, 2);
        assert_int_equal(caps.boot_time, 1743595971); /* 2025-04-02T12:12:51Z */
        json_object_put(body);
        body = seed("capabilities-rust-keylime.txt");
        assert_int_equal(push_capabilities_parse(body, &caps), 0);
        assert_true(caps.tpm_quote && caps.uefi_log && caps.ima_log);
        json_object_put(body);
        body = seed("evidence-quote-uefi-ima.txt");
        assert_int_equal(push_evidence_parse(body, quote_uefi_ima, 3, &ev), 0);
        assert_non_null(ev.message), assert_non_null(ev.uefi_entries), assert_non_null(ev.ima_entries);
        json_object_put(body);
        body = seed("session-proof.txt");
        assert_int_equal(push_session_request_parse(body, true, &req), 0);
        assert_string_equal(req.agent_id, "d432fbb3-d2f1-4a97-9ef7-75bd81c00000");
        json_object_put(body);
}

/* Every prefix of each seed's text that json-c takes as an object. */
static void every_truncation(void **state) {
        (void)state;
        for (enum parser parser = CAPABILITIES; parser <= SESSION_PROOF; parser++) {
                _cleanup_(freep) char *text = seed_text(seed_of(parser));
                size_t size = strlen(text);

                for (size_t n = 0; n < size; n++) {
                        json_tokener *tok = json_tokener_new_ex(16);
                        json_object *body = json_tokener_parse_ex(tok, text, (int)n);

                        if (body)
                                run(parser, body);
                        json_object_put(body);
                        json_tokener_free(tok);
                }
        }
}

/* ---- every member removed, or of every wrong type, at every depth ---- */

struct walk {
        enum parser parser;
        size_t changed, refused;
};

static json_object *wrong_value(int kind) {
        switch (kind) {
        case 0: return NULL; /* JSON null */
        case 1: return json_object_new_int(-1);
        case 2: return json_object_new_string("x:y");
        case 3: return json_object_new_array();
        case 4: return json_object_new_object();
        case 5: return json_object_new_boolean(1);
        case 6: return json_object_new_double(1e300);
        default: return json_object_new_int64(INT64_MAX);
        }
}
#define WRONG_KINDS 8

/* A refusal names the changed member or one of the members it sits in. */
static void check_named(const char *detail, const char *const *path, size_t depth) {
        for (size_t i = 0; i < depth; i++)
                if (path[i] && strstr(detail, path[i]))
                        return;
        fail_msg("refusal \"%s\" names no member of the path to \"%s\"", detail, path[depth - 1]);
}

static void walk(struct walk *w, json_object *root, json_object *node, const char **path, size_t depth);

/* `emptied`: the member became {}, and a refusal may name what it lacks instead */
static void try_change(struct walk *w, json_object *root, const char **path, size_t depth, bool emptied) {
        int ret = run(w->parser, root);

        w->changed++;
        if (ret < 0 && !emptied) {
                w->refused++;
                check_named(vm_error_detail(ret), path, depth);
        }
}

static void walk(struct walk *w, json_object *root, json_object *node, const char **path, size_t depth) {
        if (depth >= 15)
                return;
        if (json_object_is_type(node, json_type_object)) {
                /* the keys first: the object changes under the loop */
                const char *keys[64];
                size_t n = 0;

                json_object_object_foreach(node, key, value) {
                        (void)value;
                        if (n < 64)
                                keys[n++] = key;
                }
                for (size_t i = 0; i < n; i++) {
                        json_object *saved = json_object_get(json_object_object_get(node, keys[i]));
                        char *name = strdup(keys[i]);

                        path[depth] = name;
                        json_object_object_del(node, name);
                        try_change(w, root, path, depth + 1, false);
                        for (int kind = 0; kind < WRONG_KINDS; kind++) {
                                json_object_object_add(node, name, wrong_value(kind));
                                try_change(w, root, path, depth + 1, kind == 4);
                        }
                        json_object_object_add(node, name, saved);
                        walk(w, root, saved, path, depth + 1);
                        free(name);
                }
        } else if (json_object_is_type(node, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(node); i++) {
                        json_object *saved = json_object_get(json_object_array_get_idx(node, i));

                        for (int kind = 0; kind < WRONG_KINDS; kind++) {
                                json_object_array_put_idx(node, i, wrong_value(kind));
                                try_change(w, root, path, depth, kind == 4);
                        }
                        json_object_array_put_idx(node, i, saved);
                        walk(w, root, saved, path, depth);
                }
        }
}

static void every_member_wrong(void **state) {
        (void)state;
        for (enum parser parser = CAPABILITIES; parser <= SESSION_PROOF; parser++) {
                json_object *body = seed(seed_of(parser));
                const char *path[16] = { 0 };
                struct walk w = { .parser = parser };

                walk(&w, body, body, path, 0);
                assert_true(w.changed > 20);
                assert_true(w.refused > 0);
                json_object_put(body);
        }
}

/* ---- the cases one by one ---- */

static void expect_refused(enum parser parser, json_object *body, const char *word) {
        int ret = run(parser, body);

        assert_int_equal(ret, -EBADMSG);
        assert_detail_contains(ret, word);
        json_object_put(body);
}

static void capabilities_wrong_types(void **state) {
        json_object *body, *items;

        (void)state;
        /* a string "true" was taken as no partial access, silently */
        body = seed("capabilities-vmattest.txt");
        json_object_object_add(item_member(body, "evidence_supported", 1, "capabilities"), "supports_partial_access",
                               json_object_new_string("true"));
        expect_refused(CAPABILITIES, body, "supports_partial_access");
        /* capabilities that are not an object were skipped, silently */
        body = seed("capabilities-vmattest.txt");
        items = json_object_object_get(attributes(body), "evidence_supported");
        json_object_object_add(json_object_array_get_idx(items, 0), "capabilities",
                               json_object_new_string("all of them"));
        expect_refused(CAPABILITIES, body, "evidence_supported/0/capabilities");
        body = seed("capabilities-vmattest.txt");
        json_object_object_add(attributes(body), "system_info", json_object_new_string("2025-04-02T12:12:51Z"));
        expect_refused(CAPABILITIES, body, "system_info");
        body = seed("capabilities-vmattest.txt");
        json_object_object_add(item_member(body, "evidence_supported", 1, "capabilities"), "entry_count",
                               json_object_new_string("2"));
        expect_refused(CAPABILITIES, body, "entry_count");
}

static void capabilities_absurd_counts(void **state) {
        json_object *body, *items, *pcrs;

        (void)state;
        body = seed("capabilities-vmattest.txt");
        json_object_object_add(item_member(body, "evidence_supported", 1, "capabilities"), "entry_count",
                               json_object_new_int64(INT64_MAX));
        expect_refused(CAPABILITIES, body, "entry_count");
        body = seed("capabilities-vmattest.txt");
        json_object_object_add(item_member(body, "evidence_supported", 1, "capabilities"), "entry_count",
                               json_object_new_int64(-1));
        expect_refused(CAPABILITIES, body, "entry_count");
        body = seed("capabilities-vmattest.txt");
        items = json_object_object_get(attributes(body), "evidence_supported");
        for (int i = 0; i < 20; i++)
                json_object_array_add(items, json_object_get(json_object_array_get_idx(items, 1)));
        expect_refused(CAPABILITIES, body, "evidence_supported: more than");
        body = seed("capabilities-vmattest.txt");
        pcrs = json_object_new_array();
        for (int i = 0; i < 65; i++)
                json_object_array_add(pcrs, json_object_new_int(i % 24));
        json_object_object_add(json_object_object_get(item_member(body, "evidence_supported", 0, "capabilities"),
                                                      "available_subjects"),
                               "sha256", pcrs);
        expect_refused(CAPABILITIES, body, "available_subjects/sha256");
        body = seed("capabilities-vmattest.txt");
        pcrs = json_object_new_array();
        json_object_array_add(pcrs, json_object_new_int(24));
        json_object_object_add(json_object_object_get(item_member(body, "evidence_supported", 0, "capabilities"),
                                                      "available_subjects"),
                               "sha256", pcrs);
        expect_refused(CAPABILITIES, body, "not a PCR number");
}

/* A good item then a bad one: nothing of the good one may be left in the output. */
static void capabilities_nothing_half_applied(void **state) {
        json_object *body = seed("capabilities-vmattest.txt");

        (void)state;
        json_object_object_add(item_member(body, "evidence_supported", 1, "capabilities"), "formats",
                               json_object_new_string("text/plain"));
        expect_refused(CAPABILITIES, body, "formats"); /* run() checks the output is all zero */
}

static void evidence_bad_base64(void **state) {
        static const char *const members[] = { "message", "signature", "subject_data" };
        static const char *const bad[] = { "AAAA:AAAA", "AAA", "AA=A", "A===", "", "AAAA\nAAA", "AA==AAAA" };
        json_object *body;

        (void)state;
        for (size_t m = 0; m < 3; m++)
                for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                        body = seed("evidence-quote-uefi-ima.txt");
                        json_object_object_add(item_member(body, "evidence_collected", 0, "data"), members[m],
                                               json_object_new_string(bad[b]));
                        expect_refused(EVIDENCE, body, members[m]);
                }
        body = seed("evidence-quote-uefi-ima.txt");
        json_object_object_add(item_member(body, "evidence_collected", 1, "data"), "entries",
                               json_object_new_string("not base64!"));
        expect_refused(EVIDENCE, body, "evidence_collected/1/data (uefi_log): entries is not base64");
}

static void evidence_oversize_and_counts(void **state) {
        json_object *body, *items;
        char *big = malloc((64 << 10) + 5);

        (void)state;
        memset(big, 'A', (64 << 10) + 4);
        big[(64 << 10) + 4] = '\0';
        body = seed("evidence-quote-uefi-ima.txt");
        json_object_object_add(item_member(body, "evidence_collected", 0, "data"), "signature",
                               json_object_new_string(big));
        expect_refused(EVIDENCE, body, "signature is longer than");
        free(big);
        body = seed("evidence-quote-uefi-ima.txt");
        items = json_object_object_get(attributes(body), "evidence_collected");
        for (int i = 0; i < 100; i++)
                json_object_array_add(items, json_object_get(json_object_array_get_idx(items, 2)));
        expect_refused(EVIDENCE, body, "evidence_collected: more than");
        body = seed("evidence-quote-uefi-ima.txt");
        json_object_array_del_idx(json_object_object_get(attributes(body), "evidence_collected"), 1, 1);
        expect_refused(EVIDENCE, body, "evidence_collected: must contain a number of elements");
        /* an IMA list with a NUL in it: C would see a shorter list than was signed for */
        body = seed("evidence-quote-uefi-ima.txt");
        json_object_object_add(item_member(body, "evidence_collected", 2, "data"), "entries",
                               json_object_new_string_len("10 ab\0cd", 8));
        expect_refused(EVIDENCE, body, "entries contains a NUL byte");
}

static void evidence_nothing_half_applied(void **state) {
        json_object *body = seed("evidence-quote-uefi-ima.txt");

        (void)state;
        /* the quote is good, the IMA list is not: ev.message must not be left set */
        json_object_object_add(item_member(body, "evidence_collected", 2, "data"), "entries", json_object_new_int(7));
        expect_refused(EVIDENCE, body, "evidence_collected/2/data (ima_log): entries is not a string");
}

/* JSON with a key twice: json-c keeps the last, as Python's json (Keylime) does; the value
 * taken is checked as any other. */
static void duplicate_keys(void **state) {
        static const char *const last_good =
                "{\"data\": {\"type\": \"session\", \"attributes\": {\"agent_id\": \"bad id!\", \"agent_id\": \"a1\", "
                "\"authentication_supported\": [{\"authentication_type\": \"tpm_pop\"}]}}}";
        static const char *const last_bad =
                "{\"data\": {\"type\": \"session\", \"attributes\": {\"agent_id\": \"a1\", \"agent_id\": \"bad id!\", "
                "\"authentication_supported\": [{\"authentication_type\": \"tpm_pop\"}]}}}";
        static const char *const type_twice =
                "{\"data\": {\"type\": \"session\", \"type\": \"attestation\", \"attributes\": {\"agent_id\": \"a1\", "
                "\"authentication_supported\": [{\"authentication_type\": \"tpm_pop\"}]}}}";
        struct push_session_request req;
        json_object *body;

        (void)state;
        body = json_tokener_parse(last_good);
        assert_int_equal(push_session_request_parse(body, false, &req), 0);
        assert_string_equal(req.agent_id, "a1");
        json_object_put(body);
        expect_refused(SESSION_OPEN, json_tokener_parse(last_bad), "agent_id");
        expect_refused(SESSION_OPEN, json_tokener_parse(type_twice), "/data/type");
}

/* authentication_provided[0].data */
static json_object *proof_data(json_object *body) {
        json_object *methods = json_object_object_get(attributes(body), "authentication_provided");

        return json_object_object_get(json_object_array_get_idx(methods, 0), "data");
}

static void session_proof_hostile(void **state) {
        json_object *body, *methods;
        char long_id[300];

        (void)state;
        body = seed("session-proof.txt");
        json_object_object_add(proof_data(body), "message", json_object_new_string("AAAA:AAAA"));
        expect_refused(SESSION_PROOF, body, "message is not base64");
        body = seed("session-proof.txt");
        json_object_object_del(proof_data(body), "signature");
        expect_refused(SESSION_PROOF, body, "missing signature");
        body = seed("session-proof.txt");
        memset(long_id, 'a', sizeof(long_id) - 1);
        long_id[sizeof(long_id) - 1] = '\0';
        json_object_object_add(attributes(body), "agent_id", json_object_new_string(long_id));
        expect_refused(SESSION_PROOF, body, "agent_id is longer than");
        body = seed("session-proof.txt");
        json_object_object_add(attributes(body), "agent_id", json_object_new_string("../../etc"));
        expect_refused(SESSION_PROOF, body, "agent_id");
        body = seed("session-proof.txt");
        methods = json_object_new_array();
        for (int i = 0; i < 65; i++)
                json_object_array_add(methods, json_object_new_object());
        json_object_object_add(attributes(body), "authentication_provided", methods);
        expect_refused(SESSION_PROOF, body, "authentication_provided: more than");
        /* a good agent id, then a bad proof: the id must not be left in the output */
        body = seed("session-proof.txt");
        json_object_object_add(attributes(body), "authentication_provided", json_object_new_array());
        expect_refused(SESSION_PROOF, body, "authentication_provided");
}

static void times(void **state) {
        static const char *const bad[] = {
                "2025-04-02T-1:-1:-1Z",      "2025-04-02T12:12:51.Z",      "2025-04-02T12:12:51+ 1:00",
                "2025-04-02T12:12:51+-1:00", "2025-02-31T00:00:00Z",       " 2025-04-02T12:12:51Z",
                "2025-4-02T12:12:51Z",       "1969-12-31T23:59:59Z",       "2025-04-02T24:00:00Z",
                "2025-04-02T12:12:51+01",    "2025-04-02T12:12:51+01:00x", "2025-04-02 12:12:51Z",
                "2025-04-02T12:12:51ZZ",     "",
        };
        int64_t t;

        (void)state;
        assert_int_equal(push_time_parse("2025-04-02T12:12:51Z", &t), 0);
        assert_int_equal(t, 1743595971);
        assert_int_equal(push_time_parse("2025-04-02T12:12:51.123456+00:00", &t), 0);
        assert_int_equal(t, 1743595971);
        assert_int_equal(push_time_parse("2025-04-02T14:12:51+02:00", &t), 0);
        assert_int_equal(t, 1743595971);
        assert_int_equal(push_time_parse("2025-04-02T10:42:51-01:30", &t), 0);
        assert_int_equal(t, 1743595971);
        assert_int_equal(push_time_parse("2025-04-02T12:12:51", &t), 0);
        assert_int_equal(t, 1743595971);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vm_error_clear();
                if (push_time_parse(bad[i], &t) != -EBADMSG)
                        fail_msg("\"%s\" was taken as a time (%lld)", bad[i], (long long)t);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(seeds_parse),
                cmocka_unit_test(every_truncation),
                cmocka_unit_test(every_member_wrong),
                cmocka_unit_test(capabilities_wrong_types),
                cmocka_unit_test(capabilities_absurd_counts),
                cmocka_unit_test(capabilities_nothing_half_applied),
                cmocka_unit_test(evidence_bad_base64),
                cmocka_unit_test(evidence_oversize_and_counts),
                cmocka_unit_test(evidence_nothing_half_applied),
                cmocka_unit_test(duplicate_keys),
                cmocka_unit_test(session_proof_hostile),
                cmocka_unit_test(times),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
