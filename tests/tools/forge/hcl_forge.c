#include "tests/tools/forge/hcl_forge.h"

#include <openssl/bn.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE 32
#define REQUEST_SIZE 20
#define VAR_DATA_OFFSET (HEADER_SIZE + SNP_FORGE_REPORT_SIZE + REQUEST_SIZE)

static void put_u32le(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* RFC 7515 base64url without padding, as JWKs spell n and e. */
static char *base64url(const uint8_t *data, size_t size) {
        char *text = malloc(4 * ((size + 2) / 3) + 1);
        int n;

        if (!text)
                return NULL;
        n = EVP_EncodeBlock((unsigned char *)text, data, (int)size);
        while (n > 0 && text[n - 1] == '=')
                n--;
        text[n] = 0;
        for (int i = 0; i < n; i++)
                text[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
        return text;
}

static char *modulus_base64url(EVP_PKEY *ak) {
        BIGNUM *n = NULL;
        uint8_t bytes[1024];
        int size;
        char *text;

        if (!EVP_PKEY_get_bn_param(ak, "n", &n) || (size = BN_num_bytes(n)) > (int)sizeof(bytes)) {
                BN_free(n);
                return NULL;
        }
        BN_bn2bin(n, bytes);
        BN_free(n);
        text = base64url(bytes, (size_t)size);
        return text;
}

/* The runtime data JSON into `json` (`cap` bytes): its length, or -1. */
static int runtime_json(EVP_PKEY *ak, const uint8_t *user_data, char *json, size_t cap) {
        char *n = modulus_base64url(ak), user_member[2 * 64 + 32] = "";
        int json_size;

        if (!n) {
                fprintf(stderr, "hcl-forge: the AK is not an RSA key\n");
                return -1;
        }
        if (user_data) {
                int at = snprintf(user_member, sizeof(user_member), ",\"user-data\":\"");

                for (int i = 0; i < 64; i++)
                        at += snprintf(user_member + at, sizeof(user_member) - (size_t)at, "%02X", user_data[i]);
                snprintf(user_member + at, sizeof(user_member) - (size_t)at, "\"");
        }
        /* the members of a real Azure report's runtime data, in its order */
        json_size = snprintf(json, cap,
                             "{\"keys\":[{\"kid\":\"HCLAkPub\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\",\"e\":\"AQAB\","
                             "\"n\":\"%s\"}],\"vm-configuration\":{\"console-enabled\":true,\"current-time\":1767225600,"
                             "\"secure-boot\":true,\"tpm-enabled\":true,\"tpm-persisted\":true,"
                             "\"vmUniqueId\":\"00000000-0000-0000-0000-hcl-double00\"}%s}",
                             n, user_member);
        free(n);
        if (json_size < 0 || (size_t)json_size >= cap) {
                fprintf(stderr, "hcl-forge: the runtime data is too long\n");
                return -1;
        }
        return json_size;
}

/* The header, the request data (report_type `type`) and the runtime data around a hardware
 * report the caller writes to r + HEADER_SIZE. */
static void frame(uint8_t *r, uint32_t type, const char *json, int json_size) {
        put_u32le(r + 0, 0x414c4348); /* "HCLA" */
        put_u32le(r + 4, 1);          /* version */
        put_u32le(r + 8, (uint32_t)(VAR_DATA_OFFSET + json_size));
        put_u32le(r + 12, 2);         /* request_type */
        put_u32le(r + HEADER_SIZE + SNP_FORGE_REPORT_SIZE, (uint32_t)(REQUEST_SIZE + json_size));
        put_u32le(r + HEADER_SIZE + SNP_FORGE_REPORT_SIZE + 4, 1);    /* request version */
        put_u32le(r + HEADER_SIZE + SNP_FORGE_REPORT_SIZE + 8, type); /* report_type */
        put_u32le(r + HEADER_SIZE + SNP_FORGE_REPORT_SIZE + 12, 1);   /* report_data_hash_type: SHA-256 */
        put_u32le(r + HEADER_SIZE + SNP_FORGE_REPORT_SIZE + 16, (uint32_t)json_size);
        memcpy(r + VAR_DATA_OFFSET, json, (size_t)json_size);
}

int hcl_forge_report(const struct snp_forge *forge, const struct snp_forge_fields *fields, EVP_PKEY *ak,
                     const uint8_t *user_data, size_t nv_size, uint8_t **out) {
        char json[4096];
        uint8_t report_data[64] = { 0 }, *r;
        int json_size = runtime_json(ak, user_data, json, sizeof(json));

        *out = NULL;
        if (json_size < 0)
                return -1;
        if (VAR_DATA_OFFSET + (size_t)json_size > nv_size) {
                fprintf(stderr, "hcl-forge: the runtime data does not fit in %zu bytes\n", nv_size);
                return -1;
        }
        SHA256((const uint8_t *)json, (size_t)json_size, report_data);
        if (!(r = calloc(1, nv_size)))
                return -1;
        if (snp_forge_report(forge, fields, report_data, r + HEADER_SIZE) < 0) {
                free(r);
                fprintf(stderr, "hcl-forge: cannot sign the SNP report\n");
                return -1;
        }
        frame(r, 2, json, json_size); /* report_type: SEV-SNP */
        *out = r;
        return 0;
}

/* TDREPORT offsets (Intel TDX module ABI, TDREPORT_STRUCT): REPORTMACSTRUCT (256 bytes:
 * REPORTTYPE at 0, REPORTDATA at 128), TEE_TCB_INFO, then TDINFO at 512. */
#define TDREPORT_REPORT_DATA 128
#define TDINFO 512
#define TDINFO_MRTD (TDINFO + 16)
#define TDINFO_RTMR (TDINFO + 16 + 4 * 48)

int hcl_forge_tdx_report(const struct hcl_forge_td *td, EVP_PKEY *ak, const uint8_t *user_data, size_t nv_size,
                         uint8_t **out) {
        char json[4096];
        uint8_t *r, *tdreport;
        int json_size = runtime_json(ak, user_data, json, sizeof(json));

        *out = NULL;
        if (json_size < 0)
                return -1;
        if (VAR_DATA_OFFSET + (size_t)json_size > nv_size) {
                fprintf(stderr, "hcl-forge: the runtime data does not fit in %zu bytes\n", nv_size);
                return -1;
        }
        if (!(r = calloc(1, nv_size)))
                return -1;
        tdreport = r + HEADER_SIZE;
        tdreport[0] = 0x81; /* REPORTTYPE: TDX, subtype 0, version 0 */
        SHA256((const uint8_t *)json, (size_t)json_size, tdreport + TDREPORT_REPORT_DATA);
        memcpy(tdreport + TDINFO, td->td_attributes, 8);
        memcpy(tdreport + TDINFO_MRTD, td->mrtd, 48);
        memcpy(tdreport + TDINFO_RTMR, td->rtmr, sizeof(td->rtmr));
        frame(r, 4, json, json_size); /* report_type: TDX */
        *out = r;
        return 0;
}

void hcl_forge_td_quote_body(const uint8_t tdreport[HCL_FORGE_TDREPORT_SIZE], struct tdx_quote_body *body) {
        memset(body, 0, sizeof(*body));
        memset(body->tee_tcb_svn, 3, sizeof(body->tee_tcb_svn));
        memset(body->mrseam, 0x5e, sizeof(body->mrseam));
        memcpy(body->td_attributes, tdreport + TDINFO, 8);
        memcpy(body->xfam, tdreport + TDINFO + 8, 8);
        memcpy(body->mrtd, tdreport + TDINFO_MRTD, 48);
        memcpy(body->mrconfigid, tdreport + TDINFO_MRTD + 48, 48);
        memcpy(body->mrowner, tdreport + TDINFO_MRTD + 96, 48);
        memcpy(body->mrownerconfig, tdreport + TDINFO_MRTD + 144, 48);
        memcpy(body->rtmr, tdreport + TDINFO_RTMR, sizeof(body->rtmr));
        memcpy(body->report_data, tdreport + TDREPORT_REPORT_DATA, 64);
}
