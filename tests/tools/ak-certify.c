/* Test tool: TPM2_Certify of the AK by itself over a qualifying data, as a push agent proves its
 * AK to a Keylime v3 session (tpm2_certify 5.4 takes no qualifying data). Writes the TPMS_ATTEST
 * and the TPMT_SIGNATURE (marshalled). Usage: ak-certify HANDLE QUALIFYING-HEX ATTEST-OUT SIG-OUT;
 * the TCTI from TPM2TOOLS_TCTI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

static int write_all(const char *path, const void *data, size_t size) {
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(data, 1, size, f) == size;

        if (f)
                ok &= fclose(f) == 0;
        return ok ? 0 : -1;
}

int main(int argc, char **argv) {
        TSS2_TCTI_CONTEXT *tcti = NULL;
        ESYS_CONTEXT *esys = NULL;
        ESYS_TR ak;
        TPM2B_DATA qualifying = { 0 };
        TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
        TPM2B_ATTEST *attest = NULL;
        TPMT_SIGNATURE *signature = NULL;
        uint8_t sig_bytes[sizeof(TPMT_SIGNATURE)];
        size_t sig_size = 0, hex_len;
        unsigned long handle;

        if (argc != 5) {
                fprintf(stderr, "usage: ak-certify HANDLE QUALIFYING-HEX ATTEST-OUT SIG-OUT\n");
                return 2;
        }
        handle = strtoul(argv[1], NULL, 0);
        hex_len = strlen(argv[2]);
        if (hex_len % 2 || hex_len / 2 > sizeof(qualifying.buffer))
                return 2;
        for (size_t i = 0; i < hex_len / 2; i++)
                if (sscanf(argv[2] + 2 * i, "%2hhx", &qualifying.buffer[i]) != 1)
                        return 2;
        qualifying.size = (UINT16)(hex_len / 2);
        if (Tss2_TctiLdr_Initialize(getenv("TPM2TOOLS_TCTI"), &tcti) != TSS2_RC_SUCCESS ||
            Esys_Initialize(&esys, tcti, NULL) != TSS2_RC_SUCCESS ||
            Esys_TR_FromTPMPublic(esys, (TPM2_HANDLE)handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak) !=
                    TSS2_RC_SUCCESS ||
            Esys_Certify(esys, ak, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE, &qualifying, &scheme, &attest,
                         &signature) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPMT_SIGNATURE_Marshal(signature, sig_bytes, sizeof(sig_bytes), &sig_size) != TSS2_RC_SUCCESS ||
            write_all(argv[3], attest->attestationData, attest->size) < 0 || write_all(argv[4], sig_bytes, sig_size) < 0) {
                fprintf(stderr, "ak-certify: TPM2_Certify failed\n");
                return 1;
        }
        Esys_Free(attest);
        Esys_Free(signature);
        Esys_Finalize(&esys);
        Tss2_TctiLdr_Finalize(&tcti);
        return 0;
}
