/* Fuzzes the push model's request parsers (verifier/push_request.c). An input is a first line
 * naming the parser, then the body as the verifier would read it from the network:
 *
 *   capabilities\n{...}             POST .../attestations
 *   evidence quote,uefi,ima\n{...}  PATCH .../attestations/latest, asked for those items
 *   session\n{...}                  POST /v3.0/sessions
 *   proof\n{...}                    PATCH /v3.0/sessions/:id
 *   time\n2025-04-02T12:12:51Z      an ISO 8601 time (system_info.boot_time)
 *
 * so that the seeds (tests/fuzz/corpus/push-request/) are real request bodies and a mutation of
 * the body stays a body. An unknown first line goes to every parser. Invariants: a parsed PCR
 * selection stays within PCRs 0-23, parsed evidence has every member asked for, a refused body
 * leaves nothing in the output, and nothing reads past the input. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "verifier/push_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool zero(const void *p, size_t size) {
        const uint8_t *bytes = p;

        for (size_t i = 0; i < size; i++)
                if (bytes[i])
                        return false;
        return true;
}

static void capabilities(json_object *body) {
        struct push_capabilities caps;

        if (push_capabilities_parse(body, &caps) < 0) {
                caps.boot_time = caps.boot_time == -1 ? 0 : 1;
                if (!zero(&caps, sizeof(caps)))
                        abort();
                return;
        }
        for (int i = 0; i < 3; i++)
                if (caps.subjects[i] & ~0xffffffu)
                        abort();
}

static void evidence(json_object *body, const enum push_item *requested, size_t count) {
        struct push_evidence ev;
        bool uefi = false, ima = false;

        for (size_t i = 0; i < count; i++)
                uefi |= requested[i] == PUSH_UEFI_LOG, ima |= requested[i] == PUSH_IMA_LOG;
        if (push_evidence_parse(body, requested, count, &ev) < 0) {
                if (!zero(&ev, sizeof(ev)))
                        abort();
                return;
        }
        if (!ev.message || !ev.signature || !ev.subject_data || (uefi && !ev.uefi_entries) || (ima && !ev.ima_entries))
                abort();
}

static void session(json_object *body, bool proof) {
        struct push_session_request req;

        if (push_session_request_parse(body, proof, &req) < 0) {
                if (!zero(&req, sizeof(req)))
                        abort();
                return;
        }
        if (!req.agent_id[0] || (proof && (!req.message || !req.signature)))
                abort();
}

/* "evidence quote,uefi,ima": the items asked for, in the order named (the quote first, as the
 * verifier always asks) */
static size_t requested_of(const char *line, size_t line_size, enum push_item requested[3]) {
        size_t count = 0;

        requested[count++] = PUSH_TPM_QUOTE;
        if (memmem(line, line_size, "uefi", 4))
                requested[count++] = PUSH_UEFI_LOG;
        if (memmem(line, line_size, "ima", 3))
                requested[count++] = PUSH_IMA_LOG;
        return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *)data, *newline = memchr(data, '\n', size);
        size_t line_size = newline ? (size_t)(newline - text) : 0;
        const char *body_text = newline ? newline + 1 : text;
        size_t body_size = size - (size_t)(body_text - text);
        enum push_item requested[3];
        json_tokener *tok;
        json_object *body;

        vm_error_clear();
        if (line_size == 4 && memcmp(text, "time", 4) == 0) {
                char time_text[128];
                int64_t seconds;
                size_t n = body_size < sizeof(time_text) - 1 ? body_size : sizeof(time_text) - 1;

                memcpy(time_text, body_text, n);
                time_text[n] = '\0';
                push_time_parse(time_text, &seconds);
                return 0;
        }
        if (body_size > INT32_MAX)
                return 0;
        tok = json_tokener_new_ex(16); /* the listener's depth limit */
        if (!tok)
                return 0;
        body = json_tokener_parse_ex(tok, body_text, (int)body_size);
        if (body && json_object_is_type(body, json_type_object)) {
                if (line_size == 12 && memcmp(text, "capabilities", 12) == 0)
                        capabilities(body);
                else if (line_size >= 8 && memcmp(text, "evidence", 8) == 0)
                        evidence(body, requested, requested_of(text, line_size, requested));
                else if (line_size == 7 && memcmp(text, "session", 7) == 0)
                        session(body, false);
                else if (line_size == 5 && memcmp(text, "proof", 5) == 0)
                        session(body, true);
                else { /* a first line the mutator broke: every parser */
                        capabilities(body);
                        evidence(body, requested, requested_of(text, line_size, requested));
                        session(body, false);
                        session(body, true);
                }
        }
        json_object_put(body);
        json_tokener_free(tok);
        return 0;
}
