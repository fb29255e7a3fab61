#include "agent/payload_key.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pcr.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"

#define SECURE_HEAP_SIZE (256 * 1024) /* RSA-2048 private parts, U, V, K and a payload of up to 64 KiB */
#define PAYLOAD_PCR 16

void payload_key_secure_heap(void) {
        /* private key material allocated from here on is locked in memory and wiped on free */
        if (!CRYPTO_secure_malloc_initialized() && CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, 32) != 1)
                log_warning("OpenSSL's secure heap is not available (RLIMIT_MEMLOCK?): the payload key may be swapped");
}

static int public_pem(struct payload_key *pk) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem;
        long size;

        if (!bio || !PEM_write_bio_PUBKEY(bio, pk->key)) {
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
        ret = public_pem(pk);
        if (ret < 0)
                payload_key_free(pk);
        return ret;
}

int payload_key_adopt(struct payload_key *pk, EVP_PKEY *key) {
        int ret;

        memset(pk, 0, sizeof(*pk));
        pk->key = key;
        ret = public_pem(pk);
        if (ret < 0)
                memset(pk, 0, sizeof(*pk)); /* the key stays the caller's */
        return ret;
}

void payload_key_free(struct payload_key *pk) {
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
