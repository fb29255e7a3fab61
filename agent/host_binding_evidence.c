#include "agent/host_binding_evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/host_binding_fresh.h"
#include "agent/nv.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/host_binding.h"
#include "lib/log.h"
#include "lib/tpm2b.h"

static bool mode_is(const struct host_binding_evidence *hb, const char *mode) {
        return strcmp(hb->mode, mode) == 0;
}

/* The whole index, with its own (empty) authorization first: the guest's owner may have a
 * password; the index was made readable without it (docs/protocol.md §5.9). -ENOENT (no
 * detail) when it is not defined. */
static int read_binding(const struct host_binding_evidence *hb, struct tpm *tpm, uint8_t **blob, size_t *size) {
        return tpm_nv_read_all_index_auth(tpm, hb->index, HOST_BINDING_MAX_SIZE, "host binding", blob, size);
}

/* What the blob says of its host, for the log and the next comparison; the verifier judges it. */
static void describe(struct host_binding_evidence *hb, const uint8_t *blob, size_t size, char *out, size_t out_size) {
        struct host_binding binding;
        TPM2B_NAME name;
        char pcrs[128];
        int ret = host_binding_parse(blob, size, &binding);

        if (ret >= 0)
                ret = tpm2b_public_name(&binding.host_ak, &name);
        if (ret < 0) {
                hb->host[0] = '\0';
                snprintf(out, out_size, "a blob of %zu bytes that does not parse (%s): served as it is, the verifier "
                                        "will refuse it",
                         size, vm_error_detail(ret));
                return;
        }
        for (size_t i = 0; i < name.size && 2 * i + 2 < sizeof(hb->host); i++)
                snprintf(hb->host + 2 * i, 3, "%02x", name.name[i]);
        pcr_mask_format(binding.pcrs.mask, pcrs, sizeof(pcrs));
        snprintf(out, out_size, "host AK %s, host PCRs %s:%s", hb->host, hashalg_name(binding.pcrs.bank), pcrs);
}

int host_binding_evidence_start(struct host_binding_evidence *hb, const struct agent_config *config, struct tpm *tpm,
                                const TPM2B_PUBLIC *ek) {
        _cleanup_(freep) uint8_t *blob = NULL;
        char described[400];
        size_t size = 0;
        int ret;

        memset(hb, 0, sizeof(*hb));
        snprintf(hb->mode, sizeof(hb->mode), "%s", config->host_binding);
        hb->index = config->host_binding_index;
        if (mode_is(hb, "off"))
                return 0;
        if (mode_is(hb, "fresh")) {
                if (!config->host_service[0])
                        return vm_error(-EINVAL, "host_binding = fresh, and no host_service (unix:PATH, vsock:CID:PORT "
                                                 "or serial:PATH) to ask");
                snprintf(hb->service, sizeof(hb->service), "%s", config->host_service);
                hb->timeout = config->host_service_timeout;
                if ((ret = tpm2b_public_name(ek, &hb->ek_name)) < 0)
                        return vm_error(ret, "host binding (fresh): the EK's Name: %s", vm_error_detail(ret));
                log_info("host binding: fresh, asked of the host service %s for every integrity quote", hb->service);
                return 0;
        }
        ret = read_binding(hb, tpm, &blob, &size);
        if (ret == -ENOENT && mode_is(hb, "required"))
                return vm_error(-ENOENT, "host_binding = required, and NV index 0x%08x is not defined: the host "
                                         "did not provision this vTPM (vmattest-host provision)",
                                hb->index);
        if (ret == -ENOENT) {
                log_info("no host binding: NV index 0x%08x is not defined (quotes are served without one)", hb->index);
                hb->absent_logged = true;
                return 0;
        }
        if (ret < 0)
                return mode_is(hb, "required") ? ret : (log_warning("%s", vm_error_detail(ret)), 0);
        describe(hb, blob, size, described, sizeof(described));
        log_info("host binding in NV index 0x%08x: %s", hb->index, described);
        return 0;
}

/* Fresh mode: the service's binding for this nonce, or an error naming the service (said in
 * the log when it starts failing and when it answers again, the error every time). */
static int add_fresh(struct host_binding_evidence *hb, const char *nonce, json_object *results) {
        _cleanup_(freep) uint8_t *blob = NULL;
        _cleanup_(freep) char *b64 = NULL;
        json_object *member;
        size_t size = 0;
        int ret = host_binding_fresh_ask(hb->service, hb->timeout, (const uint8_t *)nonce, strlen(nonce), &hb->ek_name,
                                         &blob, &size);

        if (ret < 0) {
                hb->failing = true;
                return vm_error(ret, "host binding (fresh): %s", vm_error_detail(ret));
        }
        if (hb->failing)
                log_info("host binding (fresh): the host service %s answers again", hb->service);
        hb->failing = false;
        if (!(b64 = base64_encode(blob, size)))
                return -ENOMEM;
        member = json_object_new_object();
        json_object_object_add(member, "source", json_object_new_string("fresh"));
        json_object_object_add(member, "binding", json_object_new_string(b64));
        json_object_object_add(results, "host_binding", member);
        return 0;
}

int host_binding_evidence_add(struct host_binding_evidence *hb, struct tpm *tpm, const char *nonce,
                              json_object *results) {
        _cleanup_(freep) uint8_t *blob = NULL;
        _cleanup_(freep) char *b64 = NULL;
        json_object *member;
        char index[16], reason[256], described[400], host[sizeof(hb->host)];
        size_t size = 0;
        int ret;

        if (mode_is(hb, "off"))
                return 0;
        if (mode_is(hb, "fresh"))
                return add_fresh(hb, nonce, results);
        snprintf(index, sizeof(index), "0x%08x", hb->index);
        ret = read_binding(hb, tpm, &blob, &size);
        if (ret < 0 && mode_is(hb, "required"))
                return ret == -ENOENT ? vm_error(-ENOENT, "host binding (required): NV index %s is not defined", index)
                                      : vm_error(ret, "host binding (required): %s", vm_error_detail(ret));
        if (ret < 0) {
                if (ret == -ENOENT)
                        snprintf(reason, sizeof(reason), "NV index %s is not defined", index);
                else
                        snprintf(reason, sizeof(reason), "%s", vm_error_detail(ret));
                /* once per absence, not once per quote */
                if (!hb->absent_logged)
                        log_warning("no host binding: %s", reason);
                hb->absent_logged = true;
                hb->host[0] = '\0';
                member = json_object_new_object();
                json_object_object_add(member, "source", json_object_new_string("none"));
                json_object_object_add(member, "reason", json_object_new_string(reason));
                json_object_object_add(results, "host_binding", member);
                return 0;
        }
        /* the index came back, or another host provisioned it (a migration): said once */
        snprintf(host, sizeof(host), "%s", hb->host);
        describe(hb, blob, size, described, sizeof(described));
        if (hb->absent_logged || strcmp(host, hb->host) != 0)
                log_info("host binding in NV index %s: %s", index, described);
        hb->absent_logged = false;
        if (!(b64 = base64_encode(blob, size)))
                return -ENOMEM;
        member = json_object_new_object();
        json_object_object_add(member, "source", json_object_new_string("nv"));
        json_object_object_add(member, "index", json_object_new_string(index));
        json_object_object_add(member, "binding", json_object_new_string(b64));
        json_object_object_add(results, "host_binding", member);
        return 0;
}
