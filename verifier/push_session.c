#include "verifier/push_session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/tpm2b.h"
#include "verifier/quote_check.h"

#define TOKEN_SECRET_SIZE 32

int push_sessions_init(struct push_sessions *s, unsigned challenge_lifetime, unsigned session_lifetime) {
        s->challenge_lifetime = challenge_lifetime;
        s->session_lifetime = session_lifetime;
        s->slots = calloc(PUSH_SESSIONS_MAX, sizeof(*s->slots));
        return s->slots ? 0 : -ENOMEM;
}

void push_sessions_done(struct push_sessions *s) {
        if (s->slots)
                OPENSSL_cleanse(s->slots, PUSH_SESSIONS_MAX * sizeof(*s->slots));
        free(s->slots);
        s->slots = NULL;
}

static bool slot_live(const struct push_session *slot, int64_t now) {
        return slot->id[0] && (slot->token_expires_at ? slot->token_expires_at > now : slot->challenge_expires_at > now);
}

static void slot_clear(struct push_session *slot) {
        OPENSSL_cleanse(slot, sizeof(*slot));
}

int push_session_open(struct push_sessions *s, const char *agent_id, int64_t now, struct push_session **out) {
        struct push_session *slot = NULL;
        uint8_t uuid[16];

        /* a free or dead slot, else the oldest open challenge (a flood of them must not evict
         * the one an agent just asked for), else the oldest session */
        for (size_t i = 0; i < PUSH_SESSIONS_MAX && !slot; i++)
                if (!slot_live(&s->slots[i], now))
                        slot = &s->slots[i];
        if (!slot)
                for (size_t i = 0; i < PUSH_SESSIONS_MAX; i++)
                        if (!s->slots[i].token_expires_at && (!slot || s->slots[i].created_at < slot->created_at))
                                slot = &s->slots[i];
        if (!slot) {
                slot = &s->slots[0];
                for (size_t i = 1; i < PUSH_SESSIONS_MAX; i++)
                        if (s->slots[i].created_at < slot->created_at)
                                slot = &s->slots[i];
        }
        slot_clear(slot);
        if (RAND_bytes(uuid, sizeof(uuid)) != 1 || RAND_bytes(slot->challenge, sizeof(slot->challenge)) != 1)
                return vm_error(-EIO, "no random bytes for a session");
        uuid[6] = (uuid[6] & 0x0f) | 0x40; /* a version 4 UUID, as Keylime's uuid.uuid4() */
        uuid[8] = (uuid[8] & 0x3f) | 0x80;
        snprintf(slot->id, sizeof(slot->id),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0], uuid[1], uuid[2],
                 uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13],
                 uuid[14], uuid[15]);
        snprintf(slot->agent_id, sizeof(slot->agent_id), "%s", agent_id);
        slot->created_at = now;
        slot->challenge_expires_at = now + s->challenge_lifetime;
        *out = slot;
        return 0;
}

struct push_session *push_session_find(struct push_sessions *s, const char *id, int64_t now) {
        for (size_t i = 0; i < PUSH_SESSIONS_MAX; i++) {
                struct push_session *slot = &s->slots[i];

                if (slot->id[0] && !slot->token_expires_at && strcmp(slot->id, id) == 0)
                        return slot->challenge_expires_at > now ? slot : NULL;
        }
        return NULL;
}

static int check_proof(const struct push_session *session, const TPM2B_PUBLIC *ak, const uint8_t *attest_bytes,
                       size_t attest_size, const uint8_t *signature_bytes, size_t signature_size) {
        TPMS_ATTEST attest;
        TPMT_SIGNATURE signature;
        TPM2B_NAME name;
        const TPM2B_NAME *certified = &attest.attested.certify.name;
        int ret = tpms_attest_unmarshal(attest_bytes, attest_size, &attest);

        if (ret < 0)
                return vm_error(-EBADMSG, "message: not a TPMS_ATTEST");
        if (tpmt_signature_unmarshal(signature_bytes, signature_size, &signature) < 0)
                return vm_error(-EBADMSG, "signature: not a TPMT_SIGNATURE");
        if (attest.magic != TPM2_GENERATED_VALUE || attest.type != TPM2_ST_ATTEST_CERTIFY)
                return vm_error(-EPERM, "message: not a TPM-generated TPM2_Certify");
        if (attest.extraData.size != PUSH_CHALLENGE_SIZE ||
            CRYPTO_memcmp(attest.extraData.buffer, session->challenge, PUSH_CHALLENGE_SIZE) != 0)
                return vm_error(-EPERM, "message: must include the challenge as qualifying data");
        if (tpm2b_public_name(ak, &name) < 0 || certified->size != name.size ||
            memcmp(certified->name, name.name, name.size) != 0)
                return vm_error(-EPERM, "message: must include the AK of the agent as the certified object");
        /* Keylime's sessions ask for sha256 */
        ret = quote_check_signature(attest_bytes, attest_size, &signature, ak, TPM2_ALG_SHA256);
        return ret < 0 ? vm_error(-EPERM, "signature: %s", vm_error_detail(ret)) : 0;
}

int push_session_prove(struct push_sessions *s, struct push_session *session, const TPM2B_PUBLIC *ak,
                       const uint8_t *attest, size_t attest_size, const uint8_t *signature, size_t signature_size,
                       int64_t now, char *token) {
        uint8_t secret[TOKEN_SECRET_SIZE];
        char hex[2 * TOKEN_SECRET_SIZE + 1];
        int ret = check_proof(session, ak, attest, attest_size, signature, signature_size);

        if (ret >= 0 && RAND_bytes(secret, sizeof(secret)) != 1)
                ret = vm_error(-EIO, "no random bytes for a token");
        if (ret < 0) {
                slot_clear(session); /* one proof per challenge */
                return ret;
        }
        /* one proved session per agent, as Keylime: the older ones end now */
        for (size_t i = 0; i < PUSH_SESSIONS_MAX; i++)
                if (&s->slots[i] != session && s->slots[i].token_expires_at &&
                    strcmp(s->slots[i].agent_id, session->agent_id) == 0)
                        slot_clear(&s->slots[i]);
        for (size_t i = 0; i < sizeof(secret); i++)
                snprintf(hex + 2 * i, 3, "%02x", secret[i]);
        snprintf(token, PUSH_TOKEN_MAX + 1, "%s.%s", session->id, hex);
        EVP_Digest(token, strlen(token), session->token_sha256, NULL, EVP_sha256(), NULL);
        session->token_expires_at = now + s->session_lifetime;
        OPENSSL_cleanse(secret, sizeof(secret));
        OPENSSL_cleanse(hex, sizeof(hex));
        return 0;
}

const char *push_session_agent(struct push_sessions *s, const char *token, int64_t now) {
        uint8_t digest[32];
        const char *dot = strchr(token, '.');
        size_t id_size = dot ? (size_t)(dot - token) : 0;

        if (id_size != PUSH_SESSION_ID_SIZE || strlen(token) > PUSH_TOKEN_MAX)
                return NULL;
        if (!EVP_Digest(token, strlen(token), digest, NULL, EVP_sha256(), NULL))
                return NULL;
        for (size_t i = 0; i < PUSH_SESSIONS_MAX; i++) {
                struct push_session *slot = &s->slots[i];

                if (slot->token_expires_at > now && strncmp(slot->id, token, id_size) == 0 &&
                    CRYPTO_memcmp(slot->token_sha256, digest, sizeof(digest)) == 0)
                        return slot->agent_id;
        }
        return NULL;
}

void push_session_extend(struct push_sessions *s, const char *agent_id, int64_t now) {
        for (size_t i = 0; i < PUSH_SESSIONS_MAX; i++)
                if (s->slots[i].token_expires_at > now && strcmp(s->slots[i].agent_id, agent_id) == 0)
                        s->slots[i].token_expires_at = now + s->session_lifetime;
}

void push_session_end_agent(struct push_sessions *s, const char *agent_id) {
        for (size_t i = 0; i < PUSH_SESSIONS_MAX; i++)
                if (s->slots[i].id[0] && strcmp(s->slots[i].agent_id, agent_id) == 0)
                        slot_clear(&s->slots[i]);
}
