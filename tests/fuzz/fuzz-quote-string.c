/* Fuzzes quote_string_decode and quote_parse (docs/protocol.md §2); invariant:
 * decode(encode(decode(x))) == decode(x). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/quote_string.h"
#include "lib/tpm2b.h"

static void expect_same_parts(const struct quote_parts *a, const struct quote_parts *b) {
        if (a->attest_size != b->attest_size || memcmp(a->attest, b->attest, a->attest_size) != 0)
                abort();
        if (a->signature_size != b->signature_size || memcmp(a->signature, b->signature, a->signature_size) != 0)
                abort();
        if (a->pcrblob_size != b->pcrblob_size || memcmp(a->pcrblob, b->pcrblob, a->pcrblob_size) != 0)
                abort();
}

/* A parsed quote's attest and signature marshal back to exactly the bytes that were parsed:
 * the unmarshal is exact (tpm2b.h), so no second byte string may carry the same quote. */
static void expect_parts_remarshal(const struct quote_parts *parts, const struct quote *quote) {
        static uint8_t attest[sizeof(TPMS_ATTEST)], signature[sizeof(TPMT_SIGNATURE)];
        size_t attest_size = 0, signature_size = 0;

        if (tpms_attest_marshal(&quote->attest, attest, sizeof(attest), &attest_size) < 0)
                abort();
        if (attest_size != parts->attest_size || memcmp(attest, parts->attest, attest_size) != 0)
                abort();
        if (tpmt_signature_marshal(&quote->signature, signature, sizeof(signature), &signature_size) < 0)
                abort();
        if (signature_size != parts->signature_size || memcmp(signature, parts->signature, signature_size) != 0)
                abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tss2-mu logs every rejected structure to stderr, which would slow the fuzzer down to the
 * speed of the terminal; TSS2_LOG set by hand (to reproduce a crash) is left alone. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        setenv("TSS2_LOG", "all+NONE", 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* static: the parts and the parsed quote are tens of KB each */
        static struct quote_parts parts, again;
        static struct quote quote, quote_again;
        _cleanup_(freep) char *text = NULL;
        _cleanup_(freep) char *encoded = NULL;
        int parsed;

        /* The decoder takes (text, len), but a copy without slack lets ASan see any overread. */
        text = malloc(size ? size : 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        if (quote_string_decode(text, size, &parts) < 0)
                return 0;
        parsed = quote_parse(&parts, &quote) == 0;
        if (parsed)
                expect_parts_remarshal(&parts, &quote);

        if (quote_string_encode(&parts, &encoded) < 0)
                abort();
        /* Every accepted part is padded base64, so its canonical encoding has the same length. */
        if (strlen(encoded) != size)
                abort();
        if (quote_string_decode(encoded, strlen(encoded), &again) < 0)
                abort();
        expect_same_parts(&parts, &again);
        /* Same bytes, same verdict. */
        if ((quote_parse(&again, &quote_again) == 0) != parsed)
                abort();
        return 0;
}
