/* vmattest-host's configuration, /etc/vmattest/host.conf (section [host]; vmattest-host(8)):
 * which host TPM, where the host AK lives, which host PCRs a binding quotes and which vTPM NV
 * index it goes to. A missing file is the defaults. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define HOST_CONFIG_PATH "/etc/vmattest/host.conf"
#define HOST_AK_DEFAULT_HANDLE 0x81010010u
/* the TCG EK Credential Profile's persistent handle of the RSA EK */
#define HOST_VTPM_EK_DEFAULT_HANDLE 0x81010001u

struct host_config {
        char tcti[256];               /* the host TPM; empty: $VMATTEST_TCTI or device:/dev/tpmrm0 */
        TPM2_HANDLE ak_handle;        /* the host AK's persistent handle */
        uint32_t pcrs;                /* host PCRs a binding quotes (mask; sha256 bank) */
        TPM2_HANDLE nv_index;         /* the vTPM NV index the binding is written to */
        TPM2_HANDLE vtpm_ek_handle;   /* where a vTPM's RSA EK may be persistent */
};

void host_config_defaults(struct host_config *config);
/* `must_exist`: an explicit --config names a file that must be there. */
int host_config_load(const char *path, bool must_exist, struct host_config *config);
/* An NV index handle 0x01xxxxxx (owner-defined range), "0x" optional. */
bool host_nv_index_parse(const char *text, TPM2_HANDLE *index);
