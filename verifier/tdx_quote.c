/* Splits a TDX quote v4 into its fields, bounded by lib/reader.h; verifies nothing. */
#include "verifier/tdx_quote.h"

#include <string.h>

#include "lib/error.h"
#include "lib/reader.h"

static int parse_header(struct reader *r, struct tdx_quote *q) {
        int ret;

        if ((ret = reader_u16le(r, &q->version, "version")) < 0)
                return ret;
        if (q->version != TDX_QUOTE_VERSION)
                return reader_invalid(r, "version %u, only version %d is read", q->version, TDX_QUOTE_VERSION);
        if ((ret = reader_u16le(r, &q->attestation_key_type, "attestation key type")) < 0)
                return ret;
        if (q->attestation_key_type != TDX_ATTESTATION_KEY_ECDSA_P256)
                return reader_invalid(r, "attestation key type %u, only %d (ECDSA P-256) is read",
                                      q->attestation_key_type, TDX_ATTESTATION_KEY_ECDSA_P256);
        if ((ret = reader_u32le(r, &q->tee_type, "TEE type")) < 0)
                return ret;
        if (q->tee_type != TDX_TEE_TYPE)
                return reader_invalid(r, "TEE type 0x%x is not TDX (0x%x)", q->tee_type, TDX_TEE_TYPE);
        if ((ret = reader_skip(r, 4, "reserved")) < 0 ||
            (ret = reader_copy(r, q->qe_vendor_id, sizeof(q->qe_vendor_id), "QE vendor id")) < 0)
                return ret;
        return reader_copy(r, q->user_data, sizeof(q->user_data), "user data");
}

static int parse_body(struct reader *r, struct tdx_quote_body *b) {
        static const char *const rtmr_names[TDX_RTMR_COUNT] = {"RTMR0", "RTMR1", "RTMR2", "RTMR3"};
        int ret;

        if ((ret = reader_copy(r, b->tee_tcb_svn, sizeof(b->tee_tcb_svn), "TEE_TCB_SVN")) < 0 ||
            (ret = reader_copy(r, b->mrseam, sizeof(b->mrseam), "MRSEAM")) < 0 ||
            (ret = reader_copy(r, b->mrsignerseam, sizeof(b->mrsignerseam), "MRSIGNERSEAM")) < 0 ||
            (ret = reader_copy(r, b->seam_attributes, sizeof(b->seam_attributes), "SEAMATTRIBUTES")) < 0 ||
            (ret = reader_copy(r, b->td_attributes, sizeof(b->td_attributes), "TDATTRIBUTES")) < 0 ||
            (ret = reader_copy(r, b->xfam, sizeof(b->xfam), "XFAM")) < 0 ||
            (ret = reader_copy(r, b->mrtd, sizeof(b->mrtd), "MRTD")) < 0 ||
            (ret = reader_copy(r, b->mrconfigid, sizeof(b->mrconfigid), "MRCONFIGID")) < 0 ||
            (ret = reader_copy(r, b->mrowner, sizeof(b->mrowner), "MROWNER")) < 0 ||
            (ret = reader_copy(r, b->mrownerconfig, sizeof(b->mrownerconfig), "MROWNERCONFIG")) < 0)
                return ret;
        for (int i = 0; i < TDX_RTMR_COUNT; i++)
                if ((ret = reader_copy(r, b->rtmr[i], TDX_MR_SIZE, rtmr_names[i])) < 0)
                        return ret;
        return reader_copy(r, b->report_data, sizeof(b->report_data), "REPORTDATA");
}

static int parse_qe_report(const uint8_t *raw, struct tdx_qe_report *qe) {
        struct reader r;
        int ret;

        reader_init(&r, raw, TDX_QE_REPORT_SIZE, "TDX QE report");
        if ((ret = reader_copy(&r, qe->cpu_svn, sizeof(qe->cpu_svn), "CPUSVN")) < 0 ||
            (ret = reader_u32le(&r, &qe->misc_select, "MISCSELECT")) < 0 ||
            (ret = reader_skip(&r, 28, "reserved 1")) < 0 ||
            (ret = reader_copy(&r, qe->attributes, sizeof(qe->attributes), "ATTRIBUTES")) < 0 ||
            (ret = reader_copy(&r, qe->mrenclave, sizeof(qe->mrenclave), "MRENCLAVE")) < 0 ||
            (ret = reader_skip(&r, 32, "reserved 2")) < 0 ||
            (ret = reader_copy(&r, qe->mrsigner, sizeof(qe->mrsigner), "MRSIGNER")) < 0 ||
            (ret = reader_skip(&r, 96, "reserved 3")) < 0 ||
            (ret = reader_u16le(&r, &qe->isv_prod_id, "ISVPRODID")) < 0 ||
            (ret = reader_u16le(&r, &qe->isv_svn, "ISVSVN")) < 0 ||
            (ret = reader_skip(&r, 60, "reserved 4")) < 0 ||
            (ret = reader_copy(&r, qe->report_data, sizeof(qe->report_data), "REPORTDATA")) < 0)
                return ret;
        return reader_expect_end(&r);
}

/* The type 6 certification data: QE report, its signature, the QE authentication data and the
 * nested type 5 PCK certificate chain, which must end exactly where the outer size says. */
static int parse_qe_certification(const uint8_t *data, size_t size, struct tdx_quote *q) {
        struct reader r;
        uint16_t pck_type;
        int ret;

        reader_init(&r, data, size, "TDX QE report certification data");
        if ((ret = reader_bytes(&r, TDX_QE_REPORT_SIZE, &q->qe_report_raw, "QE report")) < 0 ||
            (ret = reader_bytes(&r, TDX_ECDSA_SIGNATURE_SIZE, &q->qe_report_signature, "QE report signature")) < 0 ||
            (ret = reader_u16le(&r, &q->qe_auth_data_size, "QE authentication data size")) < 0 ||
            (ret = reader_bytes(&r, q->qe_auth_data_size, &q->qe_auth_data, "QE authentication data")) < 0 ||
            (ret = reader_u16le(&r, &pck_type, "PCK certification data type")) < 0)
                return ret;
        if (pck_type != TDX_CERT_DATA_PCK_CHAIN)
                return reader_invalid(&r, "PCK certification data type %u, only %d (PCK certificate chain) is read",
                                      pck_type, TDX_CERT_DATA_PCK_CHAIN);
        if ((ret = reader_u32le(&r, &q->pck_chain_size, "PCK certificate chain size")) < 0 ||
            (ret = reader_bytes(&r, q->pck_chain_size, &q->pck_chain_pem, "PCK certificate chain")) < 0 ||
            (ret = reader_expect_end(&r)) < 0)
                return ret;
        return parse_qe_report(q->qe_report_raw, &q->qe_report);
}

static int parse_signature_data(const uint8_t *data, size_t size, struct tdx_quote *q) {
        struct reader r;
        uint16_t cert_type;
        uint32_t cert_size;
        const uint8_t *cert_data;
        int ret;

        reader_init(&r, data, size, "TDX quote signature data");
        if ((ret = reader_bytes(&r, TDX_ECDSA_SIGNATURE_SIZE, &q->quote_signature, "quote signature")) < 0 ||
            (ret = reader_bytes(&r, TDX_ECDSA_KEY_SIZE, &q->attestation_key, "attestation public key")) < 0 ||
            (ret = reader_u16le(&r, &cert_type, "certification data type")) < 0)
                return ret;
        if (cert_type != TDX_CERT_DATA_QE_REPORT)
                return reader_invalid(&r, "certification data type %u, only %d (QE report certification data) is read",
                                      cert_type, TDX_CERT_DATA_QE_REPORT);
        if ((ret = reader_u32le(&r, &cert_size, "certification data size")) < 0 ||
            (ret = reader_bytes(&r, cert_size, &cert_data, "certification data")) < 0 ||
            (ret = reader_expect_end(&r)) < 0)
                return ret;
        return parse_qe_certification(cert_data, cert_size, q);
}

int tdx_quote_parse(const uint8_t *data, size_t size, struct tdx_quote *quote) {
        struct tdx_quote q = {0};
        const uint8_t *signature_data;
        struct reader r;
        int ret;

        if (size > TDX_QUOTE_MAX)
                return vm_error(-EBADMSG, "TDX quote: %zu bytes, more than %d", size, TDX_QUOTE_MAX);
        reader_init(&r, data, size, "TDX quote");
        if ((ret = parse_header(&r, &q)) < 0 || (ret = parse_body(&r, &q.body)) < 0 ||
            (ret = reader_u32le(&r, &q.signature_data_size, "signature data length")) < 0 ||
            (ret = reader_bytes(&r, q.signature_data_size, &signature_data, "signature data")) < 0)
                return ret;
        if ((ret = parse_signature_data(signature_data, q.signature_data_size, &q)) < 0)
                return ret;
        q.signed_region = data;
        q.trailing_size = reader_left(&r);
        *quote = q;
        return 0;
}
