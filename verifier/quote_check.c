#include "verifier/quote_check.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/tpmkey.h"

#define PAYLOAD_PCR 16

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)

/* An ECDSA signature in the DER form OpenSSL verifies. */
static int ecdsa_der(const TPMS_SIGNATURE_ECC *ecc, uint8_t *der, size_t cap, size_t *size) {
        ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(ecc->signatureR.buffer, ecc->signatureR.size, NULL);
        BIGNUM *s = BN_bin2bn(ecc->signatureS.buffer, ecc->signatureS.size, NULL);
        unsigned char *p = der;
        int n;

        if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
                ECDSA_SIG_free(sig);
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        n = i2d_ECDSA_SIG(sig, NULL);
        if (n <= 0 || (size_t)n > cap) {
                ECDSA_SIG_free(sig);
                return -EBADMSG;
        }
        i2d_ECDSA_SIG(sig, &p);
        ECDSA_SIG_free(sig);
        *size = (size_t)n;
        return 0;
}

/* The signature must verify under the registered AK: a quote signed by any other key fails
 * here, whatever else it gets right (docs/protocol.md §2: unlike Keylime's check_quote). The hash
 * is the caller's (the bank Keylime asked for, or the AK's scheme), never the signature's own
 * field, which nothing signs. */
int quote_check_signature(const uint8_t *attest, size_t attest_size, const TPMT_SIGNATURE *sig, const TPM2B_PUBLIC *ak,
                          TPM2_ALG_ID hash_alg) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const EVP_MD *md = hashalg_md(hash_alg);
        uint8_t der[256];
        const uint8_t *sig_bytes;
        size_t sig_size;
        int ret;

        if (!ctx)
                return -ENOMEM;
        if (!md)
                return vm_error(-EINVAL, "quote signature: unsupported hash 0x%04x", hash_alg);
        switch (sig->sigAlg) {
        case TPM2_ALG_RSASSA:
                if (sig->signature.rsassa.hash != hash_alg)
                        return vm_error(-EPERM, "quote signature uses hash 0x%04x, not %s", sig->signature.rsassa.hash,
                                        hashalg_name(hash_alg));
                sig_bytes = sig->signature.rsassa.sig.buffer, sig_size = sig->signature.rsassa.sig.size;
                break;
        case TPM2_ALG_ECDSA:
                if (sig->signature.ecdsa.hash != hash_alg)
                        return vm_error(-EPERM, "quote signature uses hash 0x%04x, not %s", sig->signature.ecdsa.hash,
                                        hashalg_name(hash_alg));
                ret = ecdsa_der(&sig->signature.ecdsa, der, sizeof(der), &sig_size);
                if (ret < 0)
                        return vm_error(-EBADMSG, "quote: malformed ECDSA signature");
                sig_bytes = der;
                break;
        default:
                return vm_error(-EPERM, "quote signature scheme 0x%04x is not RSASSA or ECDSA", sig->sigAlg);
        }
        ret = tpmkey_to_evp(&ak->publicArea, &key);
        if (ret < 0)
                return ret;
        if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) != 1 ||
            EVP_DigestVerify(ctx, sig_bytes, sig_size, attest, attest_size) != 1)
                return vm_error(-EPERM, "quote signature does not verify under the registered AK");
        return 0;
}

static int check_nonce(const TPMS_ATTEST *attest, const uint8_t *nonce, size_t nonce_size) {
        if (attest->extraData.size != nonce_size || memcmp(attest->extraData.buffer, nonce, nonce_size) != 0)
                return vm_error(-EPERM, "quote is not over the nonce we sent (stale or replayed)");
        return 0;
}

/* The selection is one bank, the values' own, and exactly the PCRs whose values came along. */
static int check_values_quoted(const TPMS_ATTEST *attest, const struct pcr_values *pcrs) {
        const TPML_PCR_SELECTION *sel = &attest->attested.quote.pcrSelect;
        uint32_t quoted = 0;

        if (sel->count != 1)
                return vm_error(-EPERM, "quote selects %u banks, not one", sel->count);
        for (unsigned i = 0; i < sel->pcrSelections[0].sizeofSelect && i < 4; i++)
                quoted |= (uint32_t)sel->pcrSelections[0].pcrSelect[i] << (8 * i);
        if (quoted != pcrs->mask || sel->pcrSelections[0].hash != pcrs->bank)
                return vm_error(-EPERM, "the PCR values sent are not the ones quoted (selection 0x%x, values 0x%x)", quoted,
                                pcrs->mask);
        return 0;
}

/* The TPM makes pcrDigest with the signing scheme's hash (TPM 2.0 Part 3, TPM2_Quote). */
static int check_pcr_digest(const TPMS_ATTEST *attest, const struct pcr_values *pcrs, TPM2_ALG_ID hash_alg) {
        uint8_t digest[TPM2_MAX_DIGEST_BUFFER];
        size_t digest_size = hashalg_size(hash_alg);
        int ret = pcr_values_digest_with(pcrs, hash_alg, digest);

        if (ret < 0)
                return ret;
        if (attest->attested.quote.pcrDigest.size != digest_size ||
            memcmp(attest->attested.quote.pcrDigest.buffer, digest, digest_size) != 0)
                return vm_error(-EPERM, "the PCR values sent do not hash to the quote's pcrDigest");
        return 0;
}

static int check_selection(const struct quote *quote, const struct quote_expect *e) {
        const TPML_PCR_SELECTION *sel = &quote->attest.attested.quote.pcrSelect;
        uint32_t want = e->mask | (e->pubkey_pem ? 1u << PAYLOAD_PCR : 0);
        int ret;

        if (sel->count != 1 || sel->pcrSelections[0].hash != e->hash_alg)
                return vm_error(-EPERM, "quote covers another bank than %s", hashalg_name(e->hash_alg));
        ret = check_values_quoted(&quote->attest, &quote->pcrs);
        if (ret < 0)
                return ret;
        if ((quote->pcrs.mask & want) != want)
                return vm_error(-EPERM, "quote lacks PCRs 0x%x that were asked for%s", want & ~quote->pcrs.mask,
                                (want & ~quote->pcrs.mask) & (1u << PAYLOAD_PCR) ? " (missing_pcr_16)" : "");
        return 0;
}

int quote_check_signed(const struct quote_signed *q, TPMS_ATTEST *attest) {
        int ret = quote_attest_parse(q->attest, q->attest_size, attest);

        if (ret >= 0)
                ret = quote_check_signature(q->attest, q->attest_size, q->signature, q->ak, q->sig_hash);
        if (ret >= 0)
                ret = check_nonce(attest, q->nonce, q->nonce_size);
        /* no values: the caller checks the signature and nonce alone and says so (an offline
         * look at a quote saved without its PCR values) */
        if (ret >= 0 && q->pcrs)
                ret = check_values_quoted(attest, q->pcrs);
        if (ret >= 0 && q->pcrs)
                ret = check_pcr_digest(attest, q->pcrs, q->sig_hash);
        return ret;
}

int quote_check(const char *quote_string, const struct quote_expect *e, struct quote *quote, struct quote_clock *clock) {
        static _Thread_local struct quote_parts parts; /* 20 KiB: not on a poller thread's stack */
        const TPMS_ATTEST *attest = &quote->attest;
        uint8_t pcr16[TPM2_MAX_DIGEST_BUFFER];
        size_t digest_size = hashalg_size(e->hash_alg);
        int ret;

        ret = quote_string_decode(quote_string, strlen(quote_string), &parts);
        if (ret >= 0)
                ret = quote_parse(&parts, quote);
        if (ret < 0)
                return ret;
        ret = quote_check_signature(parts.attest, parts.attest_size, &quote->signature, e->ak, e->hash_alg);
        if (ret < 0)
                return ret;
        ret = check_nonce(attest, (const uint8_t *)e->nonce, e->nonce_size ? e->nonce_size : strlen(e->nonce));
        if (ret < 0)
                return ret;
        ret = check_selection(quote, e);
        if (ret < 0)
                return ret;
        ret = check_pcr_digest(attest, &quote->pcrs, e->hash_alg);
        if (ret < 0)
                return ret;
        if (e->pubkey_pem) {
                ret = pcr_value_after_one_extend(e->hash_alg, e->pubkey_pem, strlen(e->pubkey_pem), pcr16);
                if (ret < 0)
                        return ret;
                if (memcmp(quote->pcrs.value[PAYLOAD_PCR].buffer, pcr16, digest_size) != 0)
                        return vm_error(-EPERM, "PCR 16 is not bound to the payload key the agent served");
        }

        if (attest->clockInfo.safe != 1)
                return vm_error(-EPERM, "quote's clockInfo.safe is 0: the TPM clock may have gone back");
        *clock = (struct quote_clock){
                .clock = attest->clockInfo.clock,
                .reset_count = attest->clockInfo.resetCount,
                .restart_count = attest->clockInfo.restartCount,
                .valid = true,
        };
        if (e->last.valid && !quote_clock_rebooted(&e->last, clock) && clock->clock <= e->last.clock)
                return vm_error(-EPERM, "quote's clock %llu is not after the last accepted quote's %llu (replayed?)",
                                (unsigned long long)clock->clock, (unsigned long long)e->last.clock);
        if (e->last.valid && (clock->reset_count < e->last.reset_count ||
                              (clock->reset_count == e->last.reset_count && clock->restart_count < e->last.restart_count)))
                return vm_error(-EPERM, "quote's reset/restart counts went back (replayed?)");
        return 0;
}

bool quote_clock_new_boot(const struct quote_clock *last, const struct quote_clock *now) {
        return last->valid && now->reset_count != last->reset_count;
}

bool quote_clock_rebooted(const struct quote_clock *last, const struct quote_clock *now) {
        return last->valid && (now->reset_count > last->reset_count || now->restart_count > last->restart_count);
}
