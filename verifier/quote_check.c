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
 * here, whatever else it gets right (docs/protocol.md §2: unlike Keylime's check_quote). */
static int check_signature(const struct quote_parts *parts, const struct quote *quote, const struct quote_expect *e) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const TPMT_SIGNATURE *sig = &quote->signature;
        const EVP_MD *md = hashalg_md(e->hash_alg);
        uint8_t der[256];
        const uint8_t *sig_bytes;
        size_t sig_size;
        int ret;

        if (!ctx)
                return -ENOMEM;
        switch (sig->sigAlg) {
        case TPM2_ALG_RSASSA:
                if (sig->signature.rsassa.hash != e->hash_alg)
                        return vm_error(-EPERM, "quote signature uses hash 0x%04x, not %s", sig->signature.rsassa.hash,
                                        hashalg_name(e->hash_alg));
                sig_bytes = sig->signature.rsassa.sig.buffer, sig_size = sig->signature.rsassa.sig.size;
                break;
        case TPM2_ALG_ECDSA:
                if (sig->signature.ecdsa.hash != e->hash_alg)
                        return vm_error(-EPERM, "quote signature uses hash 0x%04x, not %s", sig->signature.ecdsa.hash,
                                        hashalg_name(e->hash_alg));
                ret = ecdsa_der(&sig->signature.ecdsa, der, sizeof(der), &sig_size);
                if (ret < 0)
                        return vm_error(-EBADMSG, "quote: malformed ECDSA signature");
                sig_bytes = der;
                break;
        default:
                return vm_error(-EPERM, "quote signature scheme 0x%04x is not RSASSA or ECDSA", sig->sigAlg);
        }
        ret = tpmkey_to_evp(&e->ak->publicArea, &key);
        if (ret < 0)
                return ret;
        if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) != 1 ||
            EVP_DigestVerify(ctx, sig_bytes, sig_size, parts->attest, parts->attest_size) != 1)
                return vm_error(-EPERM, "quote signature does not verify under the registered AK");
        return 0;
}

static int check_selection(const struct quote *quote, const struct quote_expect *e) {
        const TPML_PCR_SELECTION *sel = &quote->attest.attested.quote.pcrSelect;
        uint32_t want = e->mask | 1u << PAYLOAD_PCR, quoted = 0;

        if (sel->count != 1 || sel->pcrSelections[0].hash != e->hash_alg)
                return vm_error(-EPERM, "quote covers another bank than %s", hashalg_name(e->hash_alg));
        for (unsigned i = 0; i < sel->pcrSelections[0].sizeofSelect && i < 4; i++)
                quoted |= (uint32_t)sel->pcrSelections[0].pcrSelect[i] << (8 * i);
        if (quoted != quote->pcrs.mask || quote->pcrs.bank != e->hash_alg)
                return vm_error(-EPERM, "the PCR values sent are not the ones quoted (selection 0x%x, values 0x%x)", quoted,
                                quote->pcrs.mask);
        if ((quoted & want) != want)
                return vm_error(-EPERM, "quote lacks PCRs 0x%x that were asked for%s", want & ~quoted,
                                (want & ~quoted) & (1u << PAYLOAD_PCR) ? " (missing_pcr_16)" : "");
        return 0;
}

int quote_check(const char *quote_string, const struct quote_expect *e, struct quote *quote, struct quote_clock *clock) {
        static _Thread_local struct quote_parts parts; /* 20 KiB: not on a poller thread's stack */
        const TPMS_ATTEST *attest = &quote->attest;
        uint8_t digest[TPM2_MAX_DIGEST_BUFFER], pcr16[TPM2_MAX_DIGEST_BUFFER];
        size_t digest_size = hashalg_size(e->hash_alg), nonce_size = strlen(e->nonce);
        int ret;

        ret = quote_string_decode(quote_string, strlen(quote_string), &parts);
        if (ret >= 0)
                ret = quote_parse(&parts, quote);
        if (ret < 0)
                return ret;
        ret = check_signature(&parts, quote, e);
        if (ret < 0)
                return ret;
        if (attest->extraData.size != nonce_size || memcmp(attest->extraData.buffer, e->nonce, nonce_size) != 0)
                return vm_error(-EPERM, "quote is not over the nonce we sent (stale or replayed)");
        ret = check_selection(quote, e);
        if (ret < 0)
                return ret;
        ret = pcr_values_digest(&quote->pcrs, digest);
        if (ret < 0)
                return ret;
        if (attest->attested.quote.pcrDigest.size != digest_size ||
            memcmp(attest->attested.quote.pcrDigest.buffer, digest, digest_size) != 0)
                return vm_error(-EPERM, "the PCR values sent do not hash to the quote's pcrDigest");
        ret = pcr_value_after_one_extend(e->hash_alg, e->pubkey_pem, strlen(e->pubkey_pem), pcr16);
        if (ret < 0)
                return ret;
        if (memcmp(quote->pcrs.value[PAYLOAD_PCR].buffer, pcr16, digest_size) != 0)
                return vm_error(-EPERM, "PCR 16 is not bound to the payload key the agent served");

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
