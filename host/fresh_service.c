#include "host/fresh_service.h"

#include <stdio.h>
#include <string.h>

#include "agent/quote.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/host_binding.h"
#include "lib/log.h"
#include "lib/tpm2b.h"

int fresh_service_open(struct fresh_service *svc, const char *tcti, TPM2_HANDLE ak_handle, uint32_t pcrs) {
        int ret;

        svc->ak.handle = ESYS_TR_NONE;
        svc->pcrs = pcrs;
        if ((ret = tpm_open(tcti, &svc->host)) < 0)
                return vm_error(ret, "host TPM %s: %s", tcti, vm_error_detail(ret));
        ret = ak_load(svc->host, ak_handle, TPM2_ALG_RSASSA, TPM2_ALG_SHA256, &svc->ak);
        if (ret == -ENOENT)
                return vm_error(-ENOENT, "no host AK at 0x%08x: run 'vmattest-host identity' first", ak_handle);
        return ret;
}

void fresh_service_close(struct fresh_service *svc) {
        if (!svc->host)
                return;
        ak_close(svc->host, &svc->ak);
        tpm_free(svc->host);
        svc->host = NULL;
}

static int quote_fresh(struct fresh_service *svc, const struct host_request *req, uint8_t *blob, size_t cap,
                       size_t *blob_size) {
        uint8_t qualifying[HOST_BINDING_QUALIFYING_SIZE];
        struct quote_request quote_req = {
                .nonce = qualifying,
                .nonce_size = sizeof(qualifying),
                .bank = TPM2_ALG_SHA256,
                .mask = svc->pcrs,
        };
        static struct quote_parts parts;
        static struct host_binding binding;
        struct pcr_values pcrs;
        int ret = host_binding_fresh_qualifying_data(req->nonce, req->nonce_size, &req->ek_name, qualifying);

        if (ret < 0 || (ret = quote_take(svc->host, &svc->ak, &quote_req, &parts, &pcrs)) < 0)
                return ret;
        memset(&binding, 0, sizeof(binding));
        binding.version = HOST_BINDING_VERSION_FRESH;
        memcpy(binding.nonce, req->nonce, req->nonce_size);
        binding.nonce_size = req->nonce_size;
        binding.host_ak = svc->ak.public;
        binding.pcrs = pcrs;
        memcpy(binding.attest, parts.attest, parts.attest_size);
        binding.attest_size = parts.attest_size;
        if ((ret = tpmt_signature_unmarshal(parts.signature, parts.signature_size, &binding.signature)) < 0)
                return ret;
        return host_binding_encode(&binding, blob, cap, blob_size);
}

static int error_answer(uint16_t code, const char *message, uint8_t *out, size_t *out_size) {
        return host_error_encode(code, message, out, HOST_FRAME_MAX, out_size);
}

int fresh_service_answer(struct fresh_service *svc, const uint8_t *body, size_t size, uint64_t peer,
                         const char *peer_name, uint64_t now_ns, uint8_t *out, size_t *out_size, bool *close_after) {
        static uint8_t blob[HOST_BINDING_MAX_SIZE];
        struct host_request req;
        char message[HOST_FRAME_MESSAGE_MAX];
        const char *which;
        size_t blob_size = 0;
        bool first;
        int ret;

        *close_after = false;
        if ((ret = host_request_parse(body, size, &req)) < 0) {
                svc->refused++;
                log_warning("serve: %s: %s: closing its stream", peer_name, vm_error_detail(ret));
                *close_after = true;
                return error_answer(HOST_ERROR_MALFORMED, vm_error_detail(ret), out, out_size);
        }
        if (!rate_limit_take(&svc->rate, peer, now_ns, &which, &first)) {
                svc->refused++;
                snprintf(message, sizeof(message), "more than %u requests a second (%s)",
                         strcmp(which, "peer") == 0 ? svc->rate.peer_rate : svc->rate.global_rate,
                         strcmp(which, "peer") == 0 ? "this peer" : "all peers together");
                if (first)
                        log_warning("serve: %s: rate limited: %s", peer_name, message);
                return error_answer(HOST_ERROR_RATE_LIMITED, message, out, out_size);
        }
        if (svc->pinned_ek.size &&
            (req.ek_name.size != svc->pinned_ek.size ||
             memcmp(req.ek_name.name, svc->pinned_ek.name, req.ek_name.size) != 0)) {
                svc->refused++;
                log_warning("serve: %s: asks for another EK than this service's (--ek-name): refused", peer_name);
                return error_answer(HOST_ERROR_REFUSED, "this service quotes for another vTPM's EK", out, out_size);
        }
        if ((ret = quote_fresh(svc, &req, blob, sizeof(blob), &blob_size)) < 0) {
                svc->refused++;
                log_error("serve: %s: the host quote: %s", peer_name, vm_error_detail(ret));
                snprintf(message, sizeof(message), "the quote failed: %s", vm_error_detail(ret));
                return error_answer(HOST_ERROR_HOST_TPM, message, out, out_size);
        }
        svc->served++;
        log_debug("serve: %s: a fresh binding of %zu bytes", peer_name, blob_size);
        return host_binding_frame_encode(blob, blob_size, out, HOST_FRAME_MAX, out_size);
}
