#include "verifier/pcr9_pin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/http_server.h"
#include "lib/log.h"
#include "verifier/agent_sender.h"
#include "verifier/store.h"

#define PCR9_HEX_MAX (2 * TPM2_SHA512_DIGEST_SIZE)

int pcr9_pin_body_parse(json_object *body, TPM2_ALG_ID bank, char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1]) {
        char taken[2 * TPM2_SHA512_DIGEST_SIZE + 1] = "";
        json_object *pcr9;
        int members = 0;

        hex[0] = '\0';
        if (!json_object_is_type(body, json_type_object) || !json_object_object_get_ex(body, "pcr9", &pcr9))
                return vm_error(-EBADMSG, "missing pcr9");
        if (!json_object_is_type(pcr9, json_type_object))
                return vm_error(-EBADMSG, "pcr9: not an object of bank names and hex values");
        json_object_object_foreach(pcr9, name, value) {
                TPM2_ALG_ID alg = hashalg_for_quotes(name);
                uint8_t digest[TPM2_SHA512_DIGEST_SIZE];
                const char *text;
                size_t size = 0, len;

                if (++members > PCR9_PIN_BANKS_MAX)
                        return vm_error(-EBADMSG, "pcr9: more than %d banks", PCR9_PIN_BANKS_MAX);
                /* json-c keeps the last of repeated keys: one bank cannot carry two values */
                if (alg == TPM2_ALG_ERROR)
                        return vm_error(-EBADMSG, "pcr9: \"%.16s\" is not a bank the verifier accepts (sha256, sha384, "
                                                  "sha512)",
                                        name);
                text = json_object_is_type(value, json_type_string) ? json_object_get_string(value) : NULL;
                len = text ? strlen(text) : 0;
                if (!text || len > PCR9_HEX_MAX || hex_decode(text, len, digest, sizeof(digest), &size) < 0 ||
                    size != hashalg_size(alg))
                        return vm_error(-EBADMSG, "pcr9.%s: not a %zu-byte digest in hex", name, hashalg_size(alg));
                if (alg == bank) {
                        char *lower = hex_encode(digest, size);

                        if (!lower)
                                return -ENOMEM;
                        snprintf(taken, sizeof(taken), "%s", lower);
                        free(lower);
                }
        }
        if (!taken[0])
                return vm_error(-EBADMSG, "pcr9: no %s value (the bank the verifier quotes)", hashalg_name(bank));
        memcpy(hex, taken, sizeof(taken));
        return 0;
}

void pcr9_pin_handle(struct registrar *r, struct evhttp_request *req, const char *agent_id) {
        TPM2_ALG_ID bank = hashalg_for_quotes(r->config->tpm_hash_alg);
        struct registered_agent agent = { 0 };
        json_object *body = http_request_json(req);
        char hex[2 * TPM2_SHA512_DIGEST_SIZE + 1];
        int64_t reset = -1;
        int ret, status;

        if (!body)
                return;
        /* no certificate, no answer about the agent */
        ret = http_request_peer_certificate(req) ? 0 : agent_sender_check(req, &agent, "a PCR 9 pin");
        if (ret >= 0)
                ret = store_agent_get(r->store, agent_id, &agent);
        if (ret == -ENOENT)
                ret = vm_error(-ENOENT, "agent %s is not registered", agent_id);
        if (ret >= 0)
                ret = agent_sender_check(req, &agent, "a PCR 9 pin");
        if (ret >= 0)
                ret = pcr9_pin_body_parse(body, bank, hex);
        /* the activation is this boot's registration: a good quote since then is of this boot */
        if (ret >= 0)
                ret = store_attestation_pin_pcr9(r->store, agent_id, agent.last_seen, hex, (int64_t)time(NULL), &reset);
        if (ret >= 0) {
                log_info("registrar: agent %s pinned PCR 9 (%s) to %s, by its first boot (TPM reset count %lld): the key "
                         "is released only to a boot with that PCR 9",
                         agent_id, hashalg_name(bank), hex, (long long)reset);
                http_reply(req, 200, "Success", NULL);
        } else {
                status = agent_sender_http_status(ret);
                if (status == 500)
                        log_error("registrar: PCR 9 pin of agent %s: %s", agent_id, vm_error_detail(ret));
                else
                        log_info("registrar: PCR 9 pin of agent %s refused (%d): %s", agent_id, status, vm_error_detail(ret));
                http_reply_error(req, status, "%s",
                                 status == 500 ? "internal error (see the registrar's log)" : vm_error_detail(ret));
        }
        json_object_put(body);
        registered_agent_done(&agent);
}
