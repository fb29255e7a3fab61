/* Fuzzes the parsers of the verifier's push-model answers (agent/push_answer.h, docs/protocol.md
 * §4): the same bytes as each JSON answer and as the Location and Retry-After headers.
 * Invariants: a challenge taken fits qualifying data, a quote's PCRs are 0-23, the items are
 * known and each asked for once, a token is printable ASCII without spaces, a wait is bounded. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/push_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok = json_tokener_new_ex(32); /* lib/http_response.c's depth limit */
        struct push_evidence_request request;
        struct push_challenge challenge;
        char token[PUSH_TOKEN_MAX + 1], *text;
        json_object *answer;
        uint64_t index;
        unsigned seconds;

        if (!tok)
                return 0;
        answer = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        if (push_session_parse(answer, "agent1", &challenge) >= 0 &&
            (challenge.challenge_size == 0 || challenge.challenge_size > PUSH_CHALLENGE_MAX ||
             strlen(challenge.session_id) == 0 || strlen(challenge.session_id) > PUSH_SESSION_ID_MAX))
                abort();
        if (push_token_parse(answer, token) >= 0)
                for (size_t i = 0; i == 0 || token[i - 1]; i++)
                        if (token[i] && (token[i] <= 0x20 || token[i] >= 0x7f))
                                abort();
        if (push_evidence_request_parse(answer, TPM2_ALG_SHA256, &request) >= 0) {
                if (request.count > PUSH_EVIDENCE_MAX)
                        abort();
                for (size_t i = 0; i < request.count; i++) {
                        if (request.items[i].mask >> 24 || request.items[i].challenge_size > PUSH_CHALLENGE_MAX)
                                abort();
                        for (size_t j = 0; j < i; j++)
                                if (request.items[j].type == request.items[i].type)
                                        abort();
                }
        }
        if (push_next_attestation_parse(answer, &seconds) >= 0 && seconds > PUSH_WAIT_MAX)
                abort();
        json_object_put(answer);
        json_tokener_free(tok);

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (push_retry_after_parse(text, &seconds) >= 0 && seconds > PUSH_RETRY_AFTER_MAX)
                abort();
        if (push_location_parse(text, "/v3.0/agents/agent1/attestations", &index) >= 0 && index > UINT32_MAX)
                abort();
        free(text);
        return 0;
}
