/* Fuzzes handover_parse on any bytes (the root-only file `serve` takes over from `unlock`);
 * invariant: what parses holds a valid id, a persistent AK handle, an RSA-2048 payload key and
 * an mTLS key that matches its certificate; what does not parse leaves nothing allocated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/handover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct handover h;

        if (handover_parse(data, size, &h) < 0) {
                if (h.payload_key || h.mtls_key || h.mtls_cert)
                        abort();
                return 0;
        }
        if (!agent_id_valid(h.agent_id) || (h.ak_handle >> 24) != 0x81 || EVP_PKEY_get_bits(h.payload_key) != 2048 ||
            X509_check_private_key(h.mtls_cert, h.mtls_key) != 1)
                abort();
        handover_free(&h);
        return 0;
}
