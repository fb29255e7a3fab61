#include "host/host_config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/tpm.h"
#include "lib/conf.h"
#include "lib/host_binding.h"
#include "lib/pcr_values.h"

bool host_nv_index_parse(const char *text, TPM2_HANDLE *index) {
        unsigned long value;
        char *end;

        if (strncmp(text, "0x", 2) == 0 || strncmp(text, "0X", 2) == 0)
                text += 2;
        if (!*text || strlen(text) > 8)
                return false;
        value = strtoul(text, &end, 16);
        if (*end || value < 0x01000000ul || value > 0x01fffffful)
                return false;
        *index = (TPM2_HANDLE)value;
        return true;
}

static int parse_persistent(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!tpm_persistent_handle_parse(value, field))
                return snprintf(why, why_size, "\"%.32s\" is not a persistent handle 0x81xxxxxx", value), -1;
        return 0;
}

static int parse_nv_index(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!host_nv_index_parse(value, field))
                return snprintf(why, why_size, "\"%.32s\" is not an NV index 0x01xxxxxx", value), -1;
        return 0;
}

static int parse_pcrs(const char *value, void *field, size_t size, char *why, size_t why_size) {
        uint32_t mask;

        if (pcr_mask_parse(value, &mask) < 0 || mask == 0 || mask & ~HOST_BINDING_PCR_MASK)
                return snprintf(why, why_size, "\"%.64s\" is not a list of PCRs 0-23 (\"0-7,10\")", value), -1;
        *(uint32_t *)field = mask;
        return 0;
}

#define KEY(name, parser) CONF_KEY("host", struct host_config, name, parser)
static const struct conf_key host_keys[] = {
        KEY(tcti, conf_parse_string),
        KEY(ak_handle, parse_persistent),
        KEY(pcrs, parse_pcrs),
        KEY(nv_index, parse_nv_index),
        KEY(vtpm_ek_handle, parse_persistent),
};
#undef KEY

void host_config_defaults(struct host_config *config) {
        *config = (struct host_config){
                .ak_handle = HOST_AK_DEFAULT_HANDLE,
                .pcrs = 0xff, /* the host firmware's and boot loader's: PCRs 0-7 */
                .nv_index = HOST_BINDING_NV_INDEX,
                .vtpm_ek_handle = HOST_VTPM_EK_DEFAULT_HANDLE,
        };
}

int host_config_load(const char *path, bool must_exist, struct host_config *config) {
        host_config_defaults(config);
        return conf_load(path, must_exist, host_keys, sizeof(host_keys) / sizeof(host_keys[0]), config);
}
