/* push_answer: the agent's reading of Keylime 7.14.3's push-model answers (docs/protocol.md §4):
 * the answers its verifier sends are taken; hostile ones (a bank or scheme not offered, a PCR
 * out of range, a challenge too long for qualifying data, an evidence type never offered, a
 * Location elsewhere, a huge Retry-After) are refused or bounded, never half served. */
#include "tests/unit/unit.h"

#include <json-c/json.h>

#include "agent/push_answer.h"

static json_object *parse(const char *text) {
        json_object *obj = json_tokener_parse(text);

        assert_non_null(obj);
        return obj;
}

/* as Keylime 7.14.3's verifier answers POST /v3.0/sessions (models/verifier/auth_session.py) */
#define SESSION(challenge)                                                                                  \
        "{\"data\": {\"type\": \"session\", \"id\": \"53b27c69-3ae6-418c-a5f9-61569558fef5\", \"attributes\": " \
        "{\"agent_id\": \"agent1\", \"authentication_requested\": [{\"authentication_class\": \"pop\", "        \
        "\"authentication_type\": \"tpm_pop\", \"chosen_parameters\": {\"challenge\": \"" challenge "\"}}], "   \
        "\"created_at\": \"2026-12-07T02:42:49+00:00\", \"challenges_expire_at\": \"2026-12-07T02:43:49+00:00\"}}}"

static int session(const char *text, struct push_challenge *out) {
        json_object *obj = parse(text);
        int ret = push_session_parse(obj, "agent1", out);

        json_object_put(obj);
        return ret;
}

static void test_session(void **state) {
        struct push_challenge c;

        assert_int_equal(session(SESSION("AAECAwQFBgcICQoLDA0ODw=="), &c), 0);
        assert_string_equal(c.session_id, "53b27c69-3ae6-418c-a5f9-61569558fef5");
        assert_int_equal(c.challenge_size, 16);
        assert_int_equal(c.challenge[15], 15);
        /* more than a TPM2B_DATA holds */
        assert_error(session(SESSION("AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8AAQIDBAUGBwgJCgsMDQ4PAAECAwQFBgcICQoLDA0ODwA="),
                             &c),
                     -EBADMSG, "challenge of 65 bytes");
        assert_error(session(SESSION(""), &c), -EBADMSG, "challenge of 0 bytes");
        assert_error(session(SESSION("not base64!"), &c), -EBADMSG, "not base64");
        assert_error(session("{\"data\": {\"id\": \"../x\", \"attributes\": {}}}", &c), -EBADMSG, "id is not");
        assert_error(session("{\"data\": {\"id\": 5, \"attributes\": {}}}", &c), -EBADMSG, "id");
        assert_error(session("{\"data\": {\"id\": \"a\", \"attributes\": {\"agent_id\": \"other\"}}}", &c), -EBADMSG,
                     "not this agent's");
        assert_error(session("{\"data\": {\"id\": \"a\", \"attributes\": {\"authentication_requested\": "
                             "[{\"authentication_type\": \"password\"}]}}}",
                             &c),
                     -EBADMSG, "no tpm_pop");
        assert_error(session("[]", &c), -EBADMSG, "no object data");
}

static int token(const char *text, char *out) {
        json_object *obj = parse(text);
        int ret = push_token_parse(obj, out);

        json_object_put(obj);
        return ret;
}

static void test_token(void **state) {
        char t[PUSH_TOKEN_MAX + 1];
        char *long_token = malloc(PUSH_TOKEN_MAX + 200);

        assert_int_equal(token("{\"data\": {\"attributes\": {\"evaluation\": \"pass\", \"token\": \"abc.def\"}}}", t), 0);
        assert_string_equal(t, "abc.def");
        assert_error(token("{\"data\": {\"attributes\": {\"evaluation\": \"fail\"}}}", t), -EACCES, "evaluation fail");
        assert_error(token("{\"data\": {\"attributes\": {\"evaluation\": \"maybe\"}}}", t), -EBADMSG, "neither");
        /* a token would become a header: no CR, LF or space in it */
        assert_error(token("{\"data\": {\"attributes\": {\"evaluation\": \"pass\", \"token\": \"a\\r\\nX: y\"}}}", t),
                     -EBADMSG, "printable");
        assert_error(token("{\"data\": {\"attributes\": {\"evaluation\": \"pass\", \"token\": \"\"}}}", t), -EBADMSG,
                     "empty");
        assert_non_null(long_token);
        snprintf(long_token, PUSH_TOKEN_MAX + 200, "{\"data\": {\"attributes\": {\"evaluation\": \"pass\", \"token\": \"%0*d\"}}}",
                 PUSH_TOKEN_MAX + 1, 0);
        assert_error(token(long_token, t), -EBADMSG, "token");
        free(long_token);
}

/* as Keylime 7.14.3 answers POST /v3.0/agents/ID/attestations with a runtime policy
 * (verification/tpm_engine.py: PCR 10, the IMA list from an offset) */
#define REQUESTED(quote_params, ima_params)                                                                        \
        "{\"data\": {\"type\": \"attestation\", \"attributes\": {\"stage\": \"awaiting_evidence\", "                  \
        "\"evidence_requested\": [{\"evidence_class\": \"certification\", \"evidence_type\": \"tpm_quote\", "        \
        "\"chosen_parameters\": {" quote_params "}}, {\"evidence_class\": \"log\", \"evidence_type\": \"ima_log\", " \
        "\"chosen_parameters\": {" ima_params "}}], \"system_info\": {}}}}"
#define QUOTE_PARAMS(bank, scheme, pcrs)                                                                     \
        "\"challenge\": \"AAECAwQFBgcICQoLDA0ODw==\", \"signature_scheme\": \"" scheme "\", \"hash_algorithm\": " \
        "\"" bank "\", \"selected_subjects\": {\"sha256\": " pcrs ", \"sha1\": null}, \"certification_key\": {}"

static int requested(const char *text, struct push_evidence_request *out) {
        json_object *obj = parse(text);
        int ret = push_evidence_request_parse(obj, TPM2_ALG_SHA256, out);

        json_object_put(obj);
        return ret;
}

static void test_evidence_requested(void **state) {
        struct push_evidence_request r;

        assert_int_equal(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[10]"),
                                             "\"starting_offset\": 3, \"format\": \"text/plain\""),
                                   &r),
                         0);
        assert_int_equal(r.count, 2);
        assert_int_equal(r.items[0].type, PUSH_TPM_QUOTE);
        assert_int_equal(r.items[0].mask, 1u << 10);
        assert_int_equal(r.items[0].challenge_size, 16);
        assert_int_equal(r.items[1].type, PUSH_IMA_LOG);
        assert_int_equal(r.items[1].starting_offset, 3);
        assert_false(r.items[1].entry_count_limited);
        /* Keylime sends a null offset when it has no boot time or the list was empty */
        assert_int_equal(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[0, 1, 23]"),
                                             "\"starting_offset\": null, \"entry_count\": 0"),
                                   &r),
                         0);
        assert_int_equal(r.items[0].mask, 0x800003);
        assert_int_equal(r.items[1].starting_offset, 0);
        assert_true(r.items[1].entry_count_limited);
        /* only what the agent offered: its bank, its scheme, PCRs 0-23, a known type, once */
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha1", "rsassa", "[10]"), ""), &r), -EBADMSG,
                     "hash_algorithm is not sha256");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "ecdsa", "[10]"), ""), &r), -EBADMSG,
                     "signature_scheme");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[24]"), ""), &r), -EBADMSG, "PCR number");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[-1]"), ""), &r), -EBADMSG, "PCR number");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[\"10\"]"), ""), &r), -EBADMSG,
                     "PCR number");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "{}"), ""), &r), -EBADMSG, "not an array");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[10]"), "\"starting_offset\": -1"), &r),
                     -EBADMSG, "starting_offset");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[10]"), "\"starting_offset\": 1.5"), &r),
                     -EBADMSG, "starting_offset");
        assert_error(requested(REQUESTED(QUOTE_PARAMS("sha256", "rsassa", "[10]"), "\"format\": \"application/json\""),
                               &r),
                     -EBADMSG, "format");
        assert_error(requested("{\"data\": {\"attributes\": {\"evidence_requested\": [{\"evidence_class\": \"log\", "
                               "\"evidence_type\": \"keyboard_log\"}]}}}",
                               &r),
                     -EBADMSG, "was not offered");
        assert_error(requested("{\"data\": {\"attributes\": {\"evidence_requested\": [{\"evidence_class\": \"log\", "
                               "\"evidence_type\": \"uefi_log\"}, {\"evidence_class\": \"log\", \"evidence_type\": "
                               "\"uefi_log\"}]}}}",
                               &r),
                     -EBADMSG, "asks again");
        assert_error(requested("{\"data\": {\"attributes\": {\"evidence_requested\": [1, 2, 3, 4]}}}", &r), -EBADMSG,
                     "at most 3");
        assert_error(requested("{\"data\": {\"attributes\": {\"evidence_requested\": [{\"evidence_class\": "
                               "\"certification\", \"evidence_type\": \"tpm_quote\"}]}}}",
                               &r),
                     -EBADMSG, "without chosen_parameters");
        assert_error(requested("{\"data\": {\"attributes\": {}}}", &r), -EBADMSG, "no array evidence_requested");
}

static void test_location_retry_after_next(void **state) {
        const char *prefix = "/v3.0/agents/agent1/attestations";
        json_object *obj;
        uint64_t index;
        unsigned s;

        assert_int_equal(push_location_parse("/v3.0/agents/agent1/attestations/41", prefix, &index), 0);
        assert_int_equal(index, 41);
        assert_error(push_location_parse("/v3.0/agents/other/attestations/41", prefix, &index), -EBADMSG, "Location");
        assert_error(push_location_parse("https://evil.example/v3.0/agents/agent1/attestations/1", prefix, &index),
                     -EBADMSG, "Location");
        assert_error(push_location_parse("/v3.0/agents/agent1/attestations/1/../../x", prefix, &index), -EBADMSG,
                     "Location");
        assert_error(push_location_parse("/v3.0/agents/agent1/attestations/", prefix, &index), -EBADMSG, "Location");
        assert_error(push_location_parse("/v3.0/agents/agent1/attestations/99999999999", prefix, &index), -EBADMSG,
                     "Location");

        assert_int_equal(push_retry_after_parse("7", &s), 0);
        assert_int_equal(s, 7);
        assert_int_equal(push_retry_after_parse("99999999999999999999999", &s), 0);
        assert_int_equal(s, PUSH_RETRY_AFTER_MAX);
        assert_error(push_retry_after_parse("Wed, 21 Oct 2026 07:28:00 GMT", &s), -EBADMSG, "Retry-After");
        assert_error(push_retry_after_parse("-5", &s), -EBADMSG, "Retry-After");
        assert_error(push_retry_after_parse("", &s), -EBADMSG, "Retry-After");

        obj = parse("{\"data\": {}, \"meta\": {\"seconds_to_next_attestation\": 2}}");
        assert_int_equal(push_next_attestation_parse(obj, &s), 0);
        assert_int_equal(s, 2);
        json_object_put(obj);
        obj = parse("{\"meta\": {\"seconds_to_next_attestation\": 86401}}");
        assert_error(push_next_attestation_parse(obj, &s), -EBADMSG, "seconds_to_next_attestation");
        json_object_put(obj);
        obj = parse("{\"data\": {}}");
        assert_int_equal(push_next_attestation_parse(obj, &s), -ENOENT);
        json_object_put(obj);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_session),
                cmocka_unit_test(test_token),
                cmocka_unit_test(test_evidence_requested),
                cmocka_unit_test(test_location_retry_after_next),
        };

        return cmocka_run_group_tests_name("push_answer", tests, NULL, NULL);
}
