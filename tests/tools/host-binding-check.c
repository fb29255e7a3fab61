/* The verifier's host binding check (verifier/host_binding_check.h) on files, for
 * tests/integration/test-host-binding.sh: the blob as tpm2_nvread wrote it, the registered EK
 * as tpm2_createek -u wrote it (TPM2B_PUBLIC), a directory of trusted host AK PEMs, and the
 * expected host PCR values as tpm2_pcrread -o wrote them (sha256, the listed PCRs ascending).
 * Prints "host binding ok", or the failure's detail and exits 1.
 * Usage: host-binding-check BLOB EK.pub AK-DIR PCR-LIST PCR-VALUES */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/host_binding.h"
#include "lib/tpm2b.h"
#include "verifier/host_binding_check.h"

int main(int argc, char **argv) {
        _cleanup_(freep) char *blob = NULL, *ek_bytes = NULL, *values = NULL;
        size_t blob_size, ek_size, values_size, at = 0;
        struct host_policy policy = { 0 };
        struct pcr_values *pcrs;
        TPM2B_PUBLIC ek;
        int ret;

        if (argc != 6) {
                fputs("usage: host-binding-check BLOB EK.pub AK-DIR PCR-LIST PCR-VALUES\n", stderr);
                return 2;
        }
        /* one unnamed class: the PCRs given */
        if (!(policy.classes = calloc(1, sizeof(*policy.classes))))
                return 2;
        policy.class_count = 1;
        pcrs = &policy.classes[0].pcrs;
        if ((ret = file_read_all(argv[1], HOST_BINDING_MAX_SIZE + 1, &blob, &blob_size)) < 0 ||
            (ret = file_read_all(argv[2], sizeof(TPM2B_PUBLIC), &ek_bytes, &ek_size)) < 0 ||
            (ret = tpm2b_public_unmarshal((const uint8_t *)ek_bytes, ek_size, &ek)) < 0 ||
            (ret = file_read_all(argv[5], 24 * 32, &values, &values_size)) < 0 ||
            (ret = pcr_mask_parse(argv[4], &pcrs->mask)) < 0 ||
            (ret = host_policy_load_aks(argv[3], &policy)) < 0) {
                fprintf(stderr, "host-binding-check: %s\n", vm_error_detail(ret));
                host_policy_done(&policy);
                return 2;
        }
        pcrs->bank = TPM2_ALG_SHA256;
        for (unsigned i = 0; i < PCR_MAX; i++) {
                if (!(pcrs->mask & 1u << i))
                        continue;
                if (at + 32 > values_size) {
                        fprintf(stderr, "host-binding-check: %s: fewer values than PCRs\n", argv[5]);
                        host_policy_done(&policy);
                        return 2;
                }
                memcpy(pcrs->value[i].buffer, values + at, 32);
                pcrs->value[i].size = 32;
                at += 32;
        }
        ret = host_binding_check((const uint8_t *)blob, blob_size, &ek, NULL, 0, &policy, NULL);
        host_policy_done(&policy);
        if (ret < 0) {
                printf("%s\n", vm_error_detail(ret));
                return 1;
        }
        printf("host binding ok\n");
        return 0;
}
