/* Fuzzes both ends of vmattest's key release in push mode (docs/protocol.md §4.3): the agent's
 * reading of the release document (lib/push_release_document.h) and the verifier's reading of
 * the evidence's vmattest_payload_key (verifier/push_release.h), on the same JSON, and the
 * route's path. Invariants: what is taken is there and within its bound; a refused offer leaves
 * no key behind for the release to use. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/push_release_document.h"
#include "verifier/push_release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok = json_tokener_new_ex(32); /* lib/http_response.c's depth limit */
        struct push_release_document doc;
        struct push_release release = { 0 };
        char agent_id[80], *text;
        json_object *json, *results;
        json_object *member;

        if (!tok)
                return 0;
        json = json_tokener_parse_ex(tok, (const char *)data, (int)size);
        if (push_release_document_parse(json, &doc) >= 0) {
                /* the payload is optional: a release of K alone */
                if (!doc.ukey || !doc.auth_tag || !doc.vkey || strlen(doc.ukey) > PUSH_RELEASE_WRAPPED_MAX ||
                    strlen(doc.vkey) > PUSH_RELEASE_WRAPPED_MAX || strlen(doc.auth_tag) > 96 ||
                    (doc.payload && strlen(doc.payload) > PUSH_RELEASE_PAYLOAD_MAX))
                        abort();
        }
        results = json_object_new_object();
        if (results) {
                if (push_release_evidence(&release, json, results) >= 0 && release.key_offered &&
                    !json_object_object_get_ex(results, "pubkey", &member))
                        abort();
                json_object_put(results);
        }
        free(release.pubkey_pem);
        json_object_put(json);
        json_tokener_free(tok);

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (push_release_path(text, agent_id, sizeof(agent_id)) == 0 && strlen(agent_id) >= sizeof(agent_id))
                abort();
        free(text);
        return 0;
}
