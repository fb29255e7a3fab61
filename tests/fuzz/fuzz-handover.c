/* Fuzzes handover_parse on any bytes (the root-only file `serve` takes over from `unlock`);
 * invariant: what parses holds a valid id, a persistent AK handle, either an RSA-2048 software
 * payload key (version 1) or, and then no key object, a TPM payload key's public area that is
 * RSA-2048, decrypt only and fixedTPM (version 2), and an mTLS key that matches its certificate;
 * what does not parse leaves nothing allocated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/handover.h"
#include "lib/tpmkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct handover h;

        if (handover_parse(data, size, &h) < 0) {
                if (h.payload_key || h.mtls_key || h.mtls_cert)
                        abort();
                return 0;
        }
        if (!agent_id_valid(h.agent_id) || (h.ak_handle >> 24) != 0x81 ||
            X509_check_private_key(h.mtls_cert, h.mtls_key) != 1)
                abort();
        if (h.payload_in_tpm ? h.payload_key || tpmkey_check_payload_key(&h.payload_public.publicArea) < 0
                             : EVP_PKEY_get_bits(h.payload_key) != 2048)
                abort();
        handover_free(&h);
        return 0;
}
