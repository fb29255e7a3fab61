/* An Intel TDX quote, version 4, as the guest gets it from the quoting enclave (Intel TDX DCAP
 * Quote Generation Library, "Quote Format" v4; all integers little-endian):
 *   header (48 bytes):   u16 version (4), u16 attestation key type (2: ECDSA P-256),
 *                        u32 TEE type (0x81: TDX), u16 reserved, u16 reserved,
 *                        u8 QE vendor id[16], u8 user data[20]
 *   TD quote body (584): TEE_TCB_SVN[16], MRSEAM[48], MRSIGNERSEAM[48], SEAMATTRIBUTES[8],
 *                        TDATTRIBUTES[8], XFAM[8], MRTD[48], MRCONFIGID[48], MROWNER[48],
 *                        MROWNERCONFIG[48], RTMR0-3[4][48], REPORTDATA[64]
 *   u32 signature data length, then the signature data:
 *                        quote signature[64] (ECDSA r||s over header || body),
 *                        attestation public key[64] (P-256 x||y),
 *                        u16 certification data type (6: QE report certification data),
 *                        u32 size, then exactly that many bytes:
 *                          QE report[384] (an SGX REPORT body), QE report signature[64],
 *                          u16 QE authentication data size, the QE authentication data,
 *                          u16 certification data type (5: PCK certificate chain), u32 size,
 *                          the chain as PEM (leaf, platform or processor CA, root)
 * Every byte here came from the guest: only the header and the body are signed (by the
 * attestation key, itself bound to the QE report, itself signed by the PCK key). The parser
 * only bounds and splits; verifier/tdx_verify.h decides what any of it is worth. The values
 * that select how the rest is parsed (version, key type, TEE type, both certification data
 * types) are refused unless they are the one layout read here. Bytes after the signature data
 * (quote generators hand out padded buffers) are counted, never read. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TDX_QUOTE_VERSION 4
#define TDX_ATTESTATION_KEY_ECDSA_P256 2
#define TDX_TEE_TYPE 0x81u
#define TDX_CERT_DATA_PCK_CHAIN 5
#define TDX_CERT_DATA_QE_REPORT 6

#define TDX_HEADER_SIZE 48
#define TDX_BODY_SIZE 584
#define TDX_SIGNED_SIZE (TDX_HEADER_SIZE + TDX_BODY_SIZE) /* what the quote signature covers */
#define TDX_MR_SIZE 48                                    /* SHA-384 */
#define TDX_RTMR_COUNT 4
#define TDX_REPORT_DATA_SIZE 64
#define TDX_ECDSA_SIGNATURE_SIZE 64
#define TDX_ECDSA_KEY_SIZE 64
#define TDX_QE_REPORT_SIZE 384
/* A quote with its PEM chain is about 5 KiB; a bound keeps a hostile one from being large. */
#define TDX_QUOTE_MAX (64 * 1024)

/* TDATTRIBUTES bit 0 (TUD.DEBUG): the host can read and write the TD's memory. */
#define TDX_TD_ATTRIBUTE_DEBUG 0x01u

struct tdx_quote_body {
        uint8_t tee_tcb_svn[16];
        uint8_t mrseam[TDX_MR_SIZE];
        uint8_t mrsignerseam[TDX_MR_SIZE];
        uint8_t seam_attributes[8];
        uint8_t td_attributes[8];
        uint8_t xfam[8];
        uint8_t mrtd[TDX_MR_SIZE];
        uint8_t mrconfigid[TDX_MR_SIZE];
        uint8_t mrowner[TDX_MR_SIZE];
        uint8_t mrownerconfig[TDX_MR_SIZE];
        uint8_t rtmr[TDX_RTMR_COUNT][TDX_MR_SIZE];
        uint8_t report_data[TDX_REPORT_DATA_SIZE];
};

/* The quoting enclave's SGX report body (SGX REPORT without KEYID and MAC). */
struct tdx_qe_report {
        uint8_t cpu_svn[16];
        uint32_t misc_select;
        uint8_t attributes[16];
        uint8_t mrenclave[32];
        uint8_t mrsigner[32];
        uint16_t isv_prod_id;
        uint16_t isv_svn;
        uint8_t report_data[TDX_REPORT_DATA_SIZE];
};

/* Pointers point into the buffer given to tdx_quote_parse(), which must outlive the quote. */
struct tdx_quote {
        uint16_t version;
        uint16_t attestation_key_type;
        uint32_t tee_type;
        uint8_t qe_vendor_id[16];
        uint8_t user_data[20];
        struct tdx_quote_body body;
        const uint8_t *signed_region;        /* header || body, TDX_SIGNED_SIZE bytes */
        uint32_t signature_data_size;
        const uint8_t *quote_signature;      /* TDX_ECDSA_SIGNATURE_SIZE bytes, r || s */
        const uint8_t *attestation_key;      /* TDX_ECDSA_KEY_SIZE bytes, x || y */
        const uint8_t *qe_report_raw;        /* TDX_QE_REPORT_SIZE bytes: what the PCK key signed */
        struct tdx_qe_report qe_report;
        const uint8_t *qe_report_signature;  /* TDX_ECDSA_SIGNATURE_SIZE bytes, r || s */
        const uint8_t *qe_auth_data;
        uint16_t qe_auth_data_size;
        const uint8_t *pck_chain_pem;
        uint32_t pck_chain_size;
        size_t trailing_size;                /* bytes after the signature data, ignored */
};

/* 0, or -EBADMSG with a detail naming the structure ("TDX quote", "TDX quote signature data",
 * "TDX QE report certification data", ...), the field and the offset. */
int tdx_quote_parse(const uint8_t *data, size_t size, struct tdx_quote *quote);
