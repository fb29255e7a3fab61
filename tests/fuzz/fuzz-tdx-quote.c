/* Fuzzes the TDX quote v4 parser and verifier (verifier/tdx_quote.h, verifier/tdx_verify.h): the
 * input is a quote, seeded with the real one from tests/fixtures/platforms/tdx. Invariants:
 * tdx_quote_parse returns 0 or -EBADMSG, and on 0 every field it points at lies inside the input,
 * in layout order, ending where the trailing bytes start; verifying what parsed (against the
 * Intel root file in the tree, at a pinned time) and checking it against a policy return only
 * 0, -EBADMSG, -EACCES or -EPERM. Run from the top of the tree. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/tdx_verify.h"

static void expect_inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n) {
        if (!p || p < data || n > size || (size_t)(p - data) > size - n)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t mrtd[1][TDX_MR_SIZE];
        const struct tdx_trust trust = {.intel_root_file = "tests/fixtures/platforms/tdx/trusted_root.pem",
                                        .at = 1767225600};
        struct tdx_policy policy = {.mrtd_allowed = mrtd, .mrtd_allowed_count = 1};
        struct tdx_quote q;
        int ret = tdx_quote_parse(data, size, &q);

        if (ret != 0 && ret != -EBADMSG)
                abort();
        if (ret < 0)
                return 0;
        if (q.signed_region != data || size < TDX_SIGNED_SIZE + 4 + q.signature_data_size)
                abort();
        expect_inside(data, size, q.quote_signature, TDX_ECDSA_SIGNATURE_SIZE);
        expect_inside(data, size, q.attestation_key, TDX_ECDSA_KEY_SIZE);
        expect_inside(data, size, q.qe_report_raw, TDX_QE_REPORT_SIZE);
        expect_inside(data, size, q.qe_report_signature, TDX_ECDSA_SIGNATURE_SIZE);
        expect_inside(data, size, q.qe_auth_data, q.qe_auth_data_size);
        expect_inside(data, size, q.pck_chain_pem, q.pck_chain_size);
        if (q.quote_signature != data + TDX_SIGNED_SIZE + 4 || q.qe_report_raw < q.attestation_key ||
            q.qe_auth_data < q.qe_report_signature || q.pck_chain_pem < q.qe_auth_data + q.qe_auth_data_size ||
            q.pck_chain_pem + q.pck_chain_size + q.trailing_size != data + size)
                abort();
        ret = tdx_quote_verify(&q, &trust);
        if (ret != 0 && ret != -EBADMSG && ret != -EACCES)
                abort();
        memcpy(policy.report_data, q.body.report_data, sizeof(policy.report_data));
        ret = tdx_policy_check(&q, &policy);
        if (ret != 0 && ret != -EPERM)
                abort();
        return 0;
}
