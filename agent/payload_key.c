#include "agent/payload_key.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pcr.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/tpmkey.h"

#define SECURE_HEAP_SIZE (256 * 1024) /* RSA-2048 private parts, U, V, K and a payload of up to 64 KiB */
#define PAYLOAD_PCR 16

void payload_key_secure_heap(void) {
        /* private key material allocated from here on is locked in memory and wiped on free */
        if (!CRYPTO_secure_malloc_initialized() && CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, 32) != 1)
                log_warning("OpenSSL's secure heap is not available (RLIMIT_MEMLOCK?): the payload key may be swapped");
}

static int public_pem(struct payload_key *pk, EVP_PKEY *key) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem;
        long size;

        if (!bio || !PEM_write_bio_PUBKEY(bio, key)) {
                BIO_free(bio);
                return -ENOMEM;
        }
        size = BIO_get_mem_data(bio, &pem);
        pk->public_pem = strndup(pem, (size_t)size);
        BIO_free(bio);
        return pk->public_pem ? 0 : -ENOMEM;
}

static void *generate(void *user) {
        struct payload_key_job *job = user;

        job->key = EVP_RSA_gen(2048);
        return NULL;
}

int payload_key_start(struct payload_key_job *job) {
        int err;

        memset(job, 0, sizeof(*job));
        payload_key_secure_heap();
        err = pthread_create(&job->thread, NULL, generate, job);
        if (err)
                return vm_error(-err, "cannot start making the payload key: %s", strerror(err));
        job->running = true;
        return 0;
}

int payload_key_finish(struct payload_key_job *job, struct payload_key *pk) {
        int ret;

        memset(pk, 0, sizeof(*pk));
        if (!job->running)
                return vm_error(-EINVAL, "the payload key was never started");
        pthread_join(job->thread, NULL);
        job->running = false;
        pk->key = job->key;
        job->key = NULL;
        if (!pk->key)
                return vm_error(-EIO, "cannot generate the payload key (RSA-2048)");
        ret = public_pem(pk, pk->key);
        if (ret < 0)
                payload_key_free(pk);
        return ret;
}

int payload_key_adopt(struct payload_key *pk, EVP_PKEY *key) {
        int ret;

        memset(pk, 0, sizeof(*pk));
        pk->key = key;
        ret = public_pem(pk, pk->key);
        if (ret < 0)
                memset(pk, 0, sizeof(*pk)); /* the key stays the caller's */
        return ret;
}

/* The TPM key's public area as the same SPKI PEM a software key has. */
static int tpm_public_pem(struct payload_key *pk) {
        EVP_PKEY *key = NULL;
        int ret = tpmkey_to_evp(&pk->in_tpm.public.publicArea, &key);

        if (ret >= 0)
                ret = public_pem(pk, key);
        EVP_PKEY_free(key);
        return ret;
}

int payload_key_make_in_tpm(struct payload_key *pk, struct tpm *tpm) {
        int ret;

        memset(pk, 0, sizeof(*pk));
        ret = tpm_payload_key_create(tpm, &pk->in_tpm);
        if (ret < 0)
                return vm_error(ret, "making the payload key in the TPM (payload_key = tpm; software for a TPM that "
                                "cannot): %s", vm_error_detail(ret));
        pk->tpm = tpm;
        ret = tpm_public_pem(pk);
        if (ret < 0)
                payload_key_free(pk);
        return ret;
}

int payload_key_load_in_tpm(struct payload_key *pk, struct tpm *tpm, const TPM2B_PUBLIC *parent_template,
                            const TPM2B_PUBLIC *public, const TPM2B_PRIVATE *private) {
        int ret;

        memset(pk, 0, sizeof(*pk));
        ret = tpm_payload_key_load(tpm, parent_template, public, private, &pk->in_tpm);
        if (ret < 0)
                return ret;
        pk->tpm = tpm;
        ret = tpm_public_pem(pk);
        if (ret < 0)
                payload_key_free(pk);
        return ret;
}

int payload_key_certify(struct payload_key *pk, const struct ak *ak) {
        uint8_t digest[SHA256_DIGEST_LENGTH];

        if (!payload_key_in_tpm(pk))
                return 0;
        SHA256((const unsigned char *)pk->public_pem, strlen(pk->public_pem), digest);
        return tpm_payload_key_certify(pk->tpm, &pk->in_tpm, ak, digest, sizeof(digest), pk->certify_attest,
                                       &pk->certify_attest_size, pk->certify_signature, &pk->certify_signature_size);
}

int payload_key_renew_if_gone(struct payload_key *pk, const struct ak *ak) {
        struct tpm *tpm = pk->tpm;
        int ret;

        if (!payload_key_in_tpm(pk) || tpm_payload_key_present(tpm, &pk->in_tpm))
                return 0;
        log_warning("the TPM no longer holds the payload key (it was reset: a new boot): making a new one");
        payload_key_free(pk);
        ret = payload_key_make_in_tpm(pk, tpm);
        if (ret >= 0)
                ret = payload_key_certify(pk, ak);
        return ret < 0 ? ret : 1;
}

static int software_decrypt(EVP_PKEY *key, const uint8_t *wrapped, size_t size, struct secret **plain) {
        _cleanup_(secret_freep) struct secret *out = secret_new(size); /* OAEP's output is shorter than its input */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
        size_t plain_size = size;
        int ret = 0;

        if (!ctx || !out)
                ret = -ENOMEM;
        else if (EVP_PKEY_decrypt_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
                 EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) <= 0)
                ret = vm_error(-EIO, "OpenSSL refuses RSA-OAEP");
        else if (EVP_PKEY_decrypt(ctx, out->data, &plain_size, wrapped, size) <= 0)
                ret = vm_error(-EBADMSG, "encrypted_key does not decrypt under the payload key");
        else if (plain_size == 0)
                ret = vm_error(-EBADMSG, "encrypted_key decrypts to nothing");
        EVP_PKEY_CTX_free(ctx);
        if (ret < 0)
                return ret;
        *plain = secret_new_copy(out->data, plain_size);
        return *plain ? 0 : -ENOMEM;
}

int payload_key_decrypt(const struct payload_key *pk, const uint8_t *wrapped, size_t size, struct secret **plain) {
        *plain = NULL;
        if (payload_key_in_tpm(pk))
                return tpm_payload_key_decrypt(pk->tpm, &pk->in_tpm, wrapped, size, plain);
        return software_decrypt(pk->key, wrapped, size, plain);
}

void payload_key_free(struct payload_key *pk) {
        tpm_payload_key_forget(&pk->in_tpm);
        EVP_PKEY_free(pk->key);
        free(pk->public_pem);
        memset(pk, 0, sizeof(*pk));
}

int payload_key_bind(struct tpm *tpm, const struct payload_key *pk, TPM2_ALG_ID bank) {
        int ret = pcr_reset(tpm, PAYLOAD_PCR);

        if (ret >= 0)
                ret = pcr_extend_data(tpm, PAYLOAD_PCR, &bank, 1, pk->public_pem, strlen(pk->public_pem));
        if (ret < 0)
                return vm_error(ret, "binding the payload key to PCR 16: %s", vm_error_detail(ret));
        return 0;
}
