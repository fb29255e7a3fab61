/* Fuzzes the push model's request parsers (verifier/push_request.c): the first byte picks one of
 * capabilities, evidence (with a requested list from the second byte), a session request or proof,
 * or an ISO 8601 time; the rest is the body. Invariants: a parsed PCR selection stays within
 * PCRs 0-23, parsed evidence has every member asked for, and nothing reads past the input. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/push_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const enum push_item all[] = { PUSH_TPM_QUOTE, PUSH_UEFI_LOG, PUSH_IMA_LOG };
        json_tokener *tok;
        json_object *body;
        uint8_t kind;

        if (size < 2)
                return 0;
        kind = data[0] % 5;
        if (kind == 4) { /* a time */
                char text[128];
                int64_t seconds;
                size_t n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;

                memcpy(text, data + 1, n);
                text[n] = '\0';
                push_time_parse(text, &seconds);
                return 0;
        }
        tok = json_tokener_new_ex(16); /* the listener's depth limit */
        if (!tok)
                return 0;
        body = json_tokener_parse_ex(tok, (const char *)data + 2, (int)(size - 2));
        if (body && json_object_is_type(body, json_type_object)) {
                struct push_capabilities caps;
                struct push_evidence ev;
                struct push_session_request req;
                enum push_item requested[3];
                size_t count = 0;

                switch (kind) {
                case 0:
                        if (push_capabilities_parse(body, &caps) >= 0)
                                for (int i = 0; i < 3; i++)
                                        if (caps.subjects[i] & ~0xffffffu)
                                                abort();
                        break;
                case 1:
                        requested[count++] = PUSH_TPM_QUOTE;
                        for (int i = 1; i < 3; i++)
                                if (data[1] & (1u << i))
                                        requested[count++] = all[i];
                        if (push_evidence_parse(body, requested, count, &ev) >= 0 &&
                            (!ev.message || !ev.signature || !ev.subject_data ||
                             ((data[1] & 2) && !ev.uefi_entries) || ((data[1] & 4) && !ev.ima_entries)))
                                abort();
                        break;
                default:
                        if (push_session_request_parse(body, kind == 3, &req) >= 0 &&
                            (strlen(req.agent_id) == 0 || (kind == 3 && (!req.message || !req.signature))))
                                abort();
                        break;
                }
        }
        json_object_put(body);
        json_tokener_free(tok);
        return 0;
}
