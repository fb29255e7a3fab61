/* The document of vmattest's key release in push mode (docs/protocol.md §4.3), version 1, as
 * GET /v3.0/agents/:id/vmattest/release answers it:
 *
 *   {"data": {"type": "vmattest_release", "attributes": {"version": 1,
 *     "ukey": {"encrypted_key": B64, "auth_tag": HEX, "payload": B64},
 *     "vkey": {"encrypted_key": B64}}}}
 *
 * U and V are the pull release's (docs/release-protocol.md), RSA-OAEP wrapped to the agent's
 * payload key; the payload is sealed under K = U xor V. Read from the network: every member
 * bounded. */
#pragma once

#include <json-c/json.h>

#define PUSH_RELEASE_DOCUMENT_VERSION 1
#define PUSH_RELEASE_WRAPPED_MAX 1024     /* base64 of an RSA-4096 OAEP block fits */
#define PUSH_RELEASE_PAYLOAD_MAX (1u << 21)

struct push_release_document {
        const char *ukey, *auth_tag, *payload, *vkey; /* borrowed from the parsed document */
};

/* -EBADMSG naming the member; -EPROTONOSUPPORT naming a version other than 1. */
int push_release_document_parse(json_object *doc, struct push_release_document *out);
