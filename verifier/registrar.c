#include "verifier/registrar.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/auth_tag.h"
#include "lib/cleanup.h"
#include "lib/credential.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/json_member.h"
#include "lib/log.h"
#include "lib/secret_json.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "lib/http_server.h"
#include "verifier/escrow.h"
#include "verifier/identity_proof.h"
#include "verifier/pcr9_pin.h"
#include "verifier/registration_body.h"

#define CREDENTIAL_CHARS 32    /* docs/protocol.md §1: 32 random [A-Za-z0-9] bytes */

/* A negative errno from the checks to the HTTP status Keylime would answer. */
static int http_status_for(int ret) {
        switch (ret) {
        case -EBADMSG:
        case -EINVAL:
                return 400;
        case -EACCES:
        case -EPERM:
                return 403;
        case -ENOENT:
                return 404;
        case -EBUSY: /* one source registering too often */
                return 429;
        case -ENOSPC: /* the registrar holds as many agents as it may */
                return 503;
        default:
                return 500;
        }
}

static void reply_failure(struct evhttp_request *req, int ret) {
        int status = http_status_for(ret);

        if (status == 500)
                log_error("registrar: %s %s: %s", evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" : "request",
                          evhttp_request_get_uri(req), vm_error_detail(ret));
        http_reply_error(req, status, "%s", status == 500 ? "internal error (see the registrar's log)" : vm_error_detail(ret));
}

static int random_credential(char out[CREDENTIAL_CHARS + 1]) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        size_t n = 0;

        while (n < CREDENTIAL_CHARS) {
                uint8_t bytes[64];

                if (RAND_bytes(bytes, sizeof(bytes)) != 1)
                        return vm_error(-EIO, "no random bytes for the credential");
                /* rejection sampling keeps the 62 characters equally likely */
                for (size_t i = 0; i < sizeof(bytes) && n < CREDENTIAL_CHARS; i++)
                        if (bytes[i] < 248)
                                out[n++] = alphabet[bytes[i] % 62];
                OPENSSL_cleanse(bytes, sizeof(bytes));
        }
        out[n] = '\0';
        return 0;
}

/* Builds the challenge: the blob for the agent and the SHA-256 of the auth_tag it must return,
 * which is all the registrar keeps of it (a tag in the database would answer the challenge). */
static int make_challenge(const struct registered_agent *agent, const TPM2B_PUBLIC *ek, const TPM2B_PUBLIC *ak,
                          char **blob_b64, char tag_sha256[AUTH_TAG_DIGEST_HEX_SIZE]) {
        char credential[CREDENTIAL_CHARS + 1], tag[AUTH_TAG_HEX_SIZE];
        TPM2B_NAME name;
        uint8_t *blob = NULL;
        size_t blob_size;
        char *credential_b64 = NULL;
        int ret;

        ret = tpm2b_public_name(ak, &name);
        if (ret >= 0)
                ret = random_credential(credential);
        if (ret >= 0)
                ret = credential_make(ek, &name, (const uint8_t *)credential, CREDENTIAL_CHARS, NULL, &blob, &blob_size);
        if (ret >= 0) {
                *blob_b64 = base64_encode(blob, blob_size);
                credential_b64 = base64_encode(credential, CREDENTIAL_CHARS);
                ret = *blob_b64 && credential_b64 ? 0 : -ENOMEM;
        }
        /* docs/protocol.md §1: HMAC key = the base64 text of the credential */
        if (ret >= 0)
                ret = auth_tag_compute(credential_b64, strlen(credential_b64), agent->agent_id, tag);
        if (ret >= 0)
                ret = auth_tag_digest(tag, tag_sha256);
        OPENSSL_cleanse(tag, sizeof(tag));
        OPENSSL_cleanse(credential, sizeof(credential));
        if (credential_b64)
                OPENSSL_cleanse(credential_b64, strlen(credential_b64));
        free(credential_b64);
        free(blob);
        return ret;
}

static bool same_bytes(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size) {
        return a_size == b_size && (a_size == 0 || memcmp(a, b, a_size) == 0);
}

/* docs/protocol.md §1: the same id with other keys is refused; with the same keys it
 * re-registers */
static int check_same_keys(const struct registered_agent *known, const struct registered_agent *agent) {
        if (!same_bytes(known->ek_tpm, known->ek_tpm_size, agent->ek_tpm, agent->ek_tpm_size) ||
            !same_bytes(known->aik_tpm, known->aik_tpm_size, agent->aik_tpm, agent->aik_tpm_size) ||
            !same_bytes(known->ekcert, known->ekcert_size, agent->ekcert, agent->ekcert_size) ||
            !same_bytes(known->ak_cert, known->ak_cert_size, agent->ak_cert, agent->ak_cert_size))
                return vm_error(-EPERM, "agent %s is already registered with another EK, AK, EK certificate or AK certificate",
                                agent->agent_id);
        return 0;
}

/* The trust decision on the TPM (verifier/identity_proof.h): an EK certificate that chains to
 * the tenant's CAs, a cloud's AK certificate that chains to its ak_cert_store, an EK hash the
 * tenant listed, or an EK public key it pinned. */
static int check_identity(struct registrar *r, const struct registration_body *reg, const char *ek_hash,
                          const char **proof) {
        struct identity_evidence evidence = {
                .ek = &reg->ek.publicArea, .ak = &reg->ak.publicArea,
                .ekcert = reg->ekcert, .ekcert_size = reg->ekcert_size,
                .ak_cert = reg->ak_cert, .ak_cert_size = reg->ak_cert_size,
                .ek_allowlisted = verifier_config_ek_allowed(r->config, ek_hash),
                .at = 0,
        };
        int ret = identity_proof_decide(r->trust, &r->identity, &evidence, proof);

        if (ret == -EACCES && !reg->ekcert && !reg->ak_cert)
                return vm_error(ret, "%s (EK %s)", vm_error_detail(ret), ek_hash);
        return ret;
}

/* docs/protocol.md §1: a hash_ek id is the hash of the EK that registers it; another TPM taking it
 * would pass for the one the tenant knows by that id. */
static int check_id_of_ek(const char *agent_id, const char *ek_hash) {
        if (agent_id_is_hash_ek_form(agent_id) && strcmp(agent_id, ek_hash) != 0)
                return vm_error(-EPERM, "agent id %s has the form of a hash_ek but is not the hash of this EK (%s)",
                                agent_id, ek_hash);
        return 0;
}

/* POST /v2.N/agents/{id}. Anyone holding an agent's public keys can send this: it opens a
 * challenge (a pending registration) and changes nothing of an activated registration, which
 * only a correct auth_tag replaces. */
/* Before anything proves a TPM, a registration costs a row and a credential: at most
 * registrations_per_minute from one source address. */
static int registration_admit(struct registrar *r, struct evhttp_request *req) {
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        char *peer = NULL;
        ev_uint16_t port = 0;

        if (conn)
                evhttp_connection_get_peer(conn, &peer, &port);
        r->limit.per_source = r->config->registrations_per_minute;
        if (peer && !registration_limit_allow(&r->limit, peer, time(NULL)))
                return vm_error(-EBUSY, "more than %u registrations a minute from %s: try again later",
                                r->config->registrations_per_minute, peer);
        return 0;
}

/* A new agent id: only while the registrar holds fewer than max_agents. */
static int registration_room(struct registrar *r) {
        unsigned long count;
        int ret = store_agent_count(r->store, &count);

        if (ret < 0)
                return ret;
        if (count >= r->config->max_agents)
                return vm_error(-ENOSPC, "the registrar holds its maximum of %u agents (max_agents)", r->config->max_agents);
        return 0;
}

/* docs/protocol.md, enrolment tokens: a token is a secret, so it is accepted over TLS only; one
 * that cannot enrol (unknown, expired, used up) is refused before a challenge is made. */
static int check_enrolment_token(struct registrar *r, struct evhttp_request *req, const struct registration_body *reg) {
        if (!reg->enrolment_token_sha256[0])
                return 0;
        if (!http_request_tls(req))
                return vm_error(-EINVAL, "vmattest_enrolment_token refused over plain HTTP: register at the registrar's TLS "
                                         "port");
        return store_token_check(r->store, reg->enrolment_token_sha256, (int64_t)time(NULL), NULL);
}

static void handle_register(struct registrar *r, struct evhttp_request *req, const char *agent_id) {
        struct registered_agent agent = { 0 }, known = { 0 };
        struct registration_body reg = { 0 };
        _cleanup_(freep) char *blob_b64 = NULL;
        _cleanup_(freep) char *ak_name_hex = NULL;
        json_object *body = http_request_json(req), *results;
        const char *proof = NULL;
        TPM2B_NAME ak_name;
        int ret, known_ret = -ENOENT;

        if (!body)
                return;
        ret = registration_admit(r, req);
        if (ret >= 0)
                ret = registration_body_parse(body, &reg);
        /* on every path: a registration refused before the parse (its rate, say) may carry a
         * token all the same */
        secret_json_put(body, "vmattest_enrolment_token");
        if (ret >= 0)
                ret = check_enrolment_token(r, req, &reg);
        if (ret >= 0)
                ret = tpmkey_hash_ek(&reg.ek.publicArea, agent.ek_hash);
        if (ret >= 0)
                ret = check_id_of_ek(agent_id, agent.ek_hash);
        if (ret >= 0)
                ret = check_identity(r, &reg, agent.ek_hash, &proof);
        if (ret >= 0)
                ret = tpm2b_public_name(&reg.ak, &ak_name);
        if (ret >= 0 && !(ak_name_hex = hex_encode(ak_name.name, ak_name.size)))
                ret = -ENOMEM;
        if (ret >= 0) {
                /* the row takes over the parsed body's buffers */
                snprintf(agent.agent_id, sizeof(agent.agent_id), "%s", agent_id);
                snprintf(agent.ak_name, sizeof(agent.ak_name), "%s", ak_name_hex);
                snprintf(agent.pending_ip, sizeof(agent.pending_ip), "%s", reg.ip);
                agent.pending_port = reg.port;
                snprintf(agent.pending_token_sha256, sizeof(agent.pending_token_sha256), "%s", reg.enrolment_token_sha256);
                agent.ek_tpm = TAKE_PTR(reg.ek_tpm), agent.ek_tpm_size = reg.ek_tpm_size;
                agent.aik_tpm = TAKE_PTR(reg.aik_tpm), agent.aik_tpm_size = reg.aik_tpm_size;
                agent.ekcert = TAKE_PTR(reg.ekcert), agent.ekcert_size = reg.ekcert_size;
                agent.ak_cert = TAKE_PTR(reg.ak_cert), agent.ak_cert_size = reg.ak_cert_size;
                snprintf(agent.identity_proof, sizeof(agent.identity_proof), "%s", proof);
                agent.pending_mtls_cert = TAKE_PTR(reg.mtls_cert);
                known_ret = store_agent_get(r->store, agent_id, &known);
                ret = known_ret == -ENOENT ? registration_room(r) : known_ret;
        }
        if (ret >= 0 && known_ret >= 0)
                ret = check_same_keys(&known, &agent);
        if (ret >= 0)
                ret = make_challenge(&agent, &reg.ek, &reg.ak, &blob_b64, agent.pending_tag_sha256);
        if (ret >= 0) {
                agent.pending_at = (int64_t)time(NULL);
                ret = store_agent_register(r->store, &agent);
        }
        if (ret < 0) {
                /* the token is named by its hash's start, never shown */
                log_info("registrar: POST agent %s%s%.12s%s refused: %s", agent_id,
                         reg.enrolment_token_sha256[0] ? " (enrolment token " : "", reg.enrolment_token_sha256,
                         reg.enrolment_token_sha256[0] ? "...)" : "", vm_error_detail(ret));
                reply_failure(req, ret);
        } else {
                log_info("registrar: agent %s registered (EK %s, identity proof %s%s%.12s%s)%s", agent_id, agent.ek_hash,
                         agent.identity_proof,
                         agent.pending_token_sha256[0] ? ", enrolment token " : "", agent.pending_token_sha256,
                         agent.pending_token_sha256[0] ? "..." : "",
                         known_ret >= 0 && known.active ? ": its active registration stays until it activates" : "");
                results = json_object_new_object();
                json_object_object_add(results, "blob", json_object_new_string(blob_b64));
                http_reply(req, 200, "Success", results);
        }
        registration_body_done(&reg);
        registered_agent_done(&agent);
        registered_agent_done(&known);
}

/* PUT /v2.N/agents/{id}/activate (and PUT /v2.N/agents/{id}) */
static void handle_activate(struct registrar *r, struct evhttp_request *req, const char *agent_id) {
        struct registered_agent agent = { 0 };
        json_object *body = http_request_json(req);
        const char *tag;
        int ret;

        if (!body)
                return;
        ret = json_member_string(body, "auth_tag", 256, false, &tag);
        if (ret >= 0)
                ret = store_agent_get(r->store, agent_id, &agent);
        if (ret < 0) {
                json_object_put(body);
                if (ret == -ENOENT)
                        ret = vm_error(-ENOENT, "agent %s is not registered", agent_id);
                reply_failure(req, ret);
                return;
        }
        if (!agent.pending_tag_sha256[0]) {
                /* answered already (or a replay): nothing to check against, nothing to change */
                log_info("registrar: agent %s sent an auth_tag with no challenge open", agent_id);
                http_reply_error(req, 400, "agent %s has no open challenge: register first", agent_id);
        } else if (!auth_tag_digest_equal(agent.pending_tag_sha256, tag)) {
                /* Keylime deletes the registration here; but anyone can open a challenge, so a
                 * wrong answer ends only that attempt (one guess per challenge), never the
                 * activated registration */
                log_info("registrar: agent %s sent a wrong auth_tag: its pending registration is dropped%s", agent_id,
                         agent.active ? ", the active one stays" : "");
                ret = store_agent_drop_pending(r->store, agent_id);
                if (ret < 0)
                        reply_failure(req, ret);
                else
                        http_reply_error(req, 400, "auth_tag does not match the challenge: the pending registration of %s "
                                                   "is dropped (register again)",
                                         agent_id);
        } else {
                /* a challenge is answered once: the pending registration becomes the active one, and
                 * one that came with an enrolment token enrols the agent in the token's group in the
                 * same transaction (docs/protocol.md, enrolment tokens) */
                char group[GROUP_NAME_MAX + 1];

                ret = store_agent_activate_enrol(r->store, agent_id, agent.pending_tag_sha256, (int64_t)time(NULL), group);
                if (ret == -EACCES) {
                        log_info("registrar: agent %s not activated: %s (token %.12s...): its pending registration is dropped",
                                 agent_id, vm_error_detail(ret), agent.pending_token_sha256);
                        store_agent_drop_pending(r->store, agent_id);
                        http_reply_error(req, 403, "%s: agent %s not activated", vm_error_detail(ret), agent_id);
                } else if (ret < 0)
                        reply_failure(req, ret);
                else {
                        if (group[0])
                                log_info("registrar: agent %s activated and enrolled in group %s (enrolment token %.12s...)",
                                         agent_id, group, agent.pending_token_sha256);
                        else
                                log_info("registrar: agent %s activated", agent_id);
                        /* an enrolled agent is attested now, not at the next sync: an initrd
                         * waits for its first quote before it can unlock */
                        poller_sync_now(r->poller);
                        http_reply(req, 200, "Success", NULL);
                }
        }
        registered_agent_done(&agent);
        json_object_put(body);
}

static json_object *agent_results(const struct registered_agent *agent) {
        json_object *results = json_object_new_object();
        char *ek_tpm = base64_encode(agent->ek_tpm, agent->ek_tpm_size);
        char *aik_tpm = base64_encode(agent->aik_tpm, agent->aik_tpm_size);
        char *ekcert = agent->ekcert ? base64_encode(agent->ekcert, agent->ekcert_size) : NULL;
        char *ak_cert = agent->ak_cert ? base64_encode(agent->ak_cert, agent->ak_cert_size) : NULL;
        /* the contact of the activated registration; before the first activation, the pending one */
        const char *mtls_cert = agent->active ? agent->mtls_cert : agent->pending_mtls_cert;

        json_object_object_add(results, "aik_tpm", aik_tpm ? json_object_new_string(aik_tpm) : NULL);
        json_object_object_add(results, "ek_tpm", ek_tpm ? json_object_new_string(ek_tpm) : NULL);
        json_object_object_add(results, "ekcert", ekcert ? json_object_new_string(ekcert) : NULL);
        json_object_object_add(results, "mtls_cert", mtls_cert ? json_object_new_string(mtls_cert) : NULL);
        json_object_object_add(results, "ip", json_object_new_string(agent->active ? agent->ip : agent->pending_ip));
        json_object_object_add(results, "port", json_object_new_int(agent->active ? agent->port : agent->pending_port));
        json_object_object_add(results, "regcount", json_object_new_int((int)agent->regcount));
        json_object_object_add(results, "operational_state", json_object_new_string(agent->active ? "Registered" : "Pending"));
        /* vmattest extensions (docs/protocol.md, "AK certificate at registration") */
        json_object_object_add(results, "ak_cert", ak_cert ? json_object_new_string(ak_cert) : NULL);
        json_object_object_add(results, "identity_proof", json_object_new_string(agent->identity_proof));
        free(ek_tpm);
        free(aik_tpm);
        free(ekcert);
        free(ak_cert);
        return results;
}

static int add_uuid(const struct registered_agent *agent, void *user) {
        json_object_array_add(user, json_object_new_string(agent->agent_id));
        return 0;
}

static void handle_version(struct evhttp_request *req) {
        json_object *results = json_object_new_object(), *versions = json_object_new_array();
        char version[8];

        for (int minor = 0; minor <= REGISTRAR_API_MAX_MINOR; minor++) {
                snprintf(version, sizeof(version), "2.%d", minor);
                json_object_array_add(versions, json_object_new_string(version));
        }
        snprintf(version, sizeof(version), "2.%d", REGISTRAR_API_MAX_MINOR);
        json_object_object_add(results, "current_version", json_object_new_string(version));
        json_object_object_add(results, "supported_versions", versions);
        http_reply(req, 200, "Success", results);
}

/* "/v2.N/agents[/{id}[/activate|/escrow|/pcr9]]": the id and whether /activate, /escrow or /pcr9
 * follows, or -1. */
static int parse_agents_path(const char *path, char id[AGENT_ID_MAX + 1], bool *activate, bool *escrow, bool *pcr9,
                             bool *list) {
        unsigned minor;
        int consumed = 0;
        const char *rest;
        size_t n;

        *activate = *escrow = *pcr9 = *list = false;
        id[0] = '\0';
        if (sscanf(path, "/v2.%u/agents%n", &minor, &consumed) != 1 || consumed == 0 || minor > REGISTRAR_API_MAX_MINOR)
                return -1;
        rest = path + consumed;
        if (*rest == '\0' || strcmp(rest, "/") == 0) {
                *list = true;
                return 0;
        }
        if (*rest++ != '/')
                return -1;
        n = strcspn(rest, "/");
        if (n == 0 || n > AGENT_ID_MAX)
                return -1;
        memcpy(id, rest, n);
        id[n] = '\0';
        if (!agent_id_valid(id))
                return -1;
        rest += n;
        if (strcmp(rest, "/activate") == 0)
                *activate = true;
        else if (strcmp(rest, "/escrow") == 0)
                *escrow = true;
        else if (strcmp(rest, "/pcr9") == 0)
                *pcr9 = true;
        else if (*rest != '\0' && strcmp(rest, "/") != 0)
                return -1;
        return 0;
}

void registrar_handle(struct evhttp_request *req, void *user) {
        struct registrar *r = user;
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        enum evhttp_cmd_type method = evhttp_request_get_command(req);
        char agent_id[AGENT_ID_MAX + 1];
        bool activate, escrow, pcr9, list;

        vm_error_clear(); /* a request's errors are its own */
        r->requests++;
        if (!path) {
                http_reply_error(req, 400, "malformed request URI");
                return;
        }
        if (strcmp(path, "/version") == 0) {
                if (method == EVHTTP_REQ_GET)
                        handle_version(req);
                else
                        http_reply_error(req, 405, "method not allowed on /version");
                return;
        }
        if (parse_agents_path(path, agent_id, &activate, &escrow, &pcr9, &list) < 0) {
                http_reply_error(req, 404, "not found: %.100s (API v2.0-2.%d; agent ids are A-Z a-z 0-9 . _ -)", path,
                                 REGISTRAR_API_MAX_MINOR);
                return;
        }
        /* docs/protocol.md §1: reading and deleting registrations is the tenant's business: only
         * over TLS, with a client certificate from trusted_client_ca (registering and activating
         * need none) */
        if ((list || method == EVHTTP_REQ_GET || method == EVHTTP_REQ_DELETE) && !http_request_client_verified(req)) {
                http_reply_error(req, 403, "listing, reading and deleting agents need the TLS port and a client "
                                           "certificate from the registrar's trusted_client_ca");
                return;
        }
        if (list) {
                if (method != EVHTTP_REQ_GET) {
                        http_reply_error(req, 405, "method not allowed on the agent list");
                        return;
                }
                json_object *uuids = json_object_new_array(), *results = json_object_new_object();
                int ret = store_agent_foreach(r->store, add_uuid, uuids);

                json_object_object_add(results, "uuids", uuids);
                if (ret < 0) {
                        json_object_put(results);
                        reply_failure(req, ret);
                } else
                        http_reply(req, 200, "Success", results);
                return;
        }
        if (escrow) { /* vmattest extension (docs/protocol.md): the agent's own certificate, checked there */
                if (method != EVHTTP_REQ_POST)
                        http_reply_error(req, 405, "escrow needs POST");
                else
                        escrow_handle(r, req, agent_id);
                return;
        }
        if (pcr9) { /* vmattest extension (docs/protocol.md §5.6): checked as escrow is */
                if (method != EVHTTP_REQ_POST)
                        http_reply_error(req, 405, "a PCR 9 pin needs POST");
                else
                        pcr9_pin_handle(r, req, agent_id);
                return;
        }
        if (activate || method == EVHTTP_REQ_PUT) {
                if (method != EVHTTP_REQ_PUT)
                        http_reply_error(req, 405, "activate needs PUT");
                else
                        handle_activate(r, req, agent_id);
                return;
        }
        if (method == EVHTTP_REQ_POST)
                handle_register(r, req, agent_id);
        else if (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_DELETE) {
                struct registered_agent agent = { 0 };
                int ret = store_agent_get(r->store, agent_id, &agent);

                if (ret == -ENOENT)
                        http_reply_error(req, 404, "agent %s is not registered", agent_id);
                else if (ret < 0)
                        reply_failure(req, ret);
                else if (method == EVHTTP_REQ_GET)
                        http_reply(req, 200, "Success", agent_results(&agent));
                else if ((ret = store_agent_delete(r->store, agent_id)) < 0)
                        reply_failure(req, ret);
                else {
                        log_info("registrar: agent %s deleted", agent_id);
                        http_reply(req, 200, "Success", NULL);
                }
                registered_agent_done(&agent);
        } else
                http_reply_error(req, 405, "method not allowed");
}
