/* The runtime data of Azure's HCL report (its variable data, docs/platforms.md): a JSON object
 * the paravisor writes and the hardware report binds by its SHA-256. It carries the vTPM's keys
 * as JWKs ("keys": the AK under kid "HCLAkPub", the EK under "HCLEkPub"), the VM's
 * configuration ("vm-configuration") and, when the guest asked for them, 64 bytes of
 * "user-data". Nothing read here is trustworthy before hcl_verify.h has bound it to the
 * hardware report and that report has itself been verified. */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCL_KEYS_MAX 8
#define HCL_KID_MAX 64
#define HCL_AK_KID "HCLAkPub"
#define HCL_USER_DATA_SIZE 64
#define HCL_VM_ID_MAX 64
#define HCL_THUMBPRINT_MAX 128

/* "vm-configuration": the paravisor's word on how the VM was set up. */
struct hcl_vm_configuration {
        bool secure_boot;
        bool tpm_enabled;
        bool console_enabled;
        bool has_tpm_persisted, tpm_persisted;
        bool has_current_time;
        int64_t current_time; /* seconds since the epoch, as the paravisor saw it */
        char vm_unique_id[HCL_VM_ID_MAX + 1];                 /* "" when absent */
        char root_cert_thumbprint[HCL_THUMBPRINT_MAX + 1];    /* "" when absent */
};

struct hcl_runtime_data {
        EVP_PKEY *ak_public; /* the RSA key of kid "HCLAkPub"; owned */
        size_t n_keys;
        char kids[HCL_KEYS_MAX][HCL_KID_MAX + 1]; /* every key's kid, in order */
        struct hcl_vm_configuration vm;
        bool has_user_data;
        uint8_t user_data[HCL_USER_DATA_SIZE];
};

/* Parses `size` bytes of JSON (one object, nothing after it, at most HCL_REPORT_MAX bytes).
 * "keys" must hold at most HCL_KEYS_MAX JWKs, each with a kid of its own, one of them
 * "HCLAkPub", an RSA key whose n and e are base64url; "vm-configuration" must say whether
 * secure boot, the TPM and the console are enabled. -EBADMSG otherwise, the detail naming the
 * member. Unknown members are ignored. Free with hcl_runtime_data_clear(). */
int hcl_runtime_data_parse(const uint8_t *json, size_t size, struct hcl_runtime_data *runtime);
void hcl_runtime_data_clear(struct hcl_runtime_data *runtime);
