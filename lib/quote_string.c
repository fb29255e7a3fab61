#include "quote_string.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "error.h"
#include "tpm2b.h"

int quote_string_encode(const struct quote_parts *parts, char **out) {
        _cleanup_(freep) char *attest = base64_encode(parts->attest, parts->attest_size);
        _cleanup_(freep) char *signature = base64_encode(parts->signature, parts->signature_size);
        _cleanup_(freep) char *pcrblob = base64_encode(parts->pcrblob, parts->pcrblob_size);

        if (!attest || !signature || !pcrblob || asprintf(out, "r%s:%s:%s", attest, signature, pcrblob) < 0)
                return -ENOMEM;
        return 0;
}

static int decode_part(const char *what, const char *text, size_t text_len, uint8_t *dst, size_t cap,
                       size_t *dst_size) {
        _cleanup_(freep) uint8_t *bytes = NULL;
        size_t size;
        int ret;

        if (text_len == 0)
                return vm_error(-EBADMSG, "quote: %s part is empty", what);
        ret = base64_decode(text, text_len, &bytes, &size);
        if (ret < 0)
                return vm_error(ret, "quote: %s part: %s", what, vm_error_detail(ret));
        if (size > cap)
                return vm_error(-EBADMSG, "quote: %s part of %zu bytes exceeds %zu", what, size, cap);
        memcpy(dst, bytes, size);
        *dst_size = size;
        return 0;
}

int quote_string_decode(const char *text, size_t text_len, struct quote_parts *parts) {
        const char *attest, *signature, *pcrblob, *end = text + text_len;
        int ret;

        if (text_len > QUOTE_STRING_MAX)
                return vm_error(-EBADMSG, "quote: %zu bytes exceed the maximum of %zu", text_len,
                                (size_t)QUOTE_STRING_MAX);
        if (text_len < 1 || text[0] != 'r')
                return vm_error(-EBADMSG, "quote: does not start with 'r' (TPM 2.0 quote marker)");
        attest = text + 1;
        signature = memchr(attest, ':', (size_t)(end - attest));
        pcrblob = signature ? memchr(signature + 1, ':', (size_t)(end - signature - 1)) : NULL;
        if (!signature || !pcrblob || memchr(pcrblob + 1, ':', (size_t)(end - pcrblob - 1)))
                return vm_error(-EBADMSG, "quote: expected three ':'-separated parts");
        signature++, pcrblob++;

        ret = decode_part("TPMS_ATTEST", attest, (size_t)(signature - 1 - attest), parts->attest,
                          sizeof(parts->attest), &parts->attest_size);
        if (ret >= 0)
                ret = decode_part("TPMT_SIGNATURE", signature, (size_t)(pcrblob - 1 - signature), parts->signature,
                                  sizeof(parts->signature), &parts->signature_size);
        if (ret >= 0)
                ret = decode_part("pcrblob", pcrblob, (size_t)(end - pcrblob), parts->pcrblob,
                                  sizeof(parts->pcrblob), &parts->pcrblob_size);
        return ret;
}

int quote_attest_parse(const uint8_t *attest, size_t size, TPMS_ATTEST *out) {
        int ret = tpms_attest_unmarshal(attest, size, out);

        if (ret < 0)
                return ret;
        if (out->magic != TPM2_GENERATED_VALUE)
                return vm_error(-EBADMSG, "quote: TPMS_ATTEST magic 0x%08x is not TPM_GENERATED_VALUE", out->magic);
        if (out->type != TPM2_ST_ATTEST_QUOTE)
                return vm_error(-EBADMSG, "quote: TPMS_ATTEST type 0x%04x is not a quote", out->type);
        return 0;
}

int quote_parse(const struct quote_parts *parts, struct quote *quote) {
        int ret;

        ret = quote_attest_parse(parts->attest, parts->attest_size, &quote->attest);
        if (ret < 0)
                return ret;
        ret = tpmt_signature_unmarshal(parts->signature, parts->signature_size, &quote->signature);
        if (ret < 0)
                return ret;
        return pcrblob_decode(parts->pcrblob, parts->pcrblob_size, &quote->pcrs);
}
