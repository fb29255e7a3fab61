#include "agent/initrd_pin.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/escrow_client.h"
#include "agent/mtls.h"
#include "agent/pcr.h"
#include "agent/registrar_client.h"
#include "agent/tpm.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/log.h"

#define PCR9 9
#define PENDING_STATUS "not attested yet" /* the verifier's words for a 409 to wait out */

/* the banks a verifier quotes with (docs/protocol.md §2.6) */
static const TPM2_ALG_ID pin_banks[INITRD_PIN_BANKS_MAX] = { TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512 };

/* The file's digest in each of pin_banks: the EFI stub measures the initrd it loads, whole. */
static int initrd_digests(const char *path, uint8_t digests[INITRD_PIN_BANKS_MAX][TPM2_SHA512_DIGEST_SIZE]) {
        EVP_MD_CTX *ctx[INITRD_PIN_BANKS_MAX] = { NULL };
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        uint8_t buf[64 * 1024];
        int ret = 0;

        if (fd < 0)
                return vm_error(-errno, "initrd %s: cannot open: %m", path);
        for (size_t i = 0; i < INITRD_PIN_BANKS_MAX && ret >= 0; i++)
                if (!(ctx[i] = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(ctx[i], hashalg_md(pin_banks[i]), NULL))
                        ret = vm_error(-EIO, "initrd %s: cannot hash", path);
        while (ret >= 0) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        ret = vm_error(-errno, "initrd %s: cannot read: %m", path);
                if (n <= 0)
                        break;
                for (size_t i = 0; i < INITRD_PIN_BANKS_MAX; i++)
                        if (!EVP_DigestUpdate(ctx[i], buf, (size_t)n))
                                ret = vm_error(-EIO, "initrd %s: cannot hash", path);
        }
        for (size_t i = 0; i < INITRD_PIN_BANKS_MAX; i++) {
                if (ret >= 0 && !EVP_DigestFinal_ex(ctx[i], digests[i], NULL))
                        ret = vm_error(-EIO, "initrd %s: cannot hash", path);
                EVP_MD_CTX_free(ctx[i]);
        }
        return ret;
}

static bool bank_active(const TPM2_ALG_ID *active, size_t count, TPM2_ALG_ID bank) {
        for (size_t i = 0; i < count; i++)
                if (active[i] == bank)
                        return true;
        return false;
}

/* One bank: this boot's log must replay to the TPM's PCR 9 before its prediction is believed. */
static int predict_bank(struct tpm *tpm, const struct agent_config *config, const uint8_t *log, size_t size,
                        TPM2_ALG_ID bank, const uint8_t *initrd_digest, struct pcr9_prediction *out) {
        struct pcr_values now;
        int ret = pcr9_predict(log, size, bank, initrd_digest, out);

        if (ret < 0)
                return vm_error(ret, "%s: %s", config->measuredboot_ml_path, vm_error_detail(ret));
        ret = pcr_read(tpm, bank, 1u << PCR9, &now);
        if (ret < 0)
                return ret;
        if (now.value[PCR9].size != out->size || memcmp(now.value[PCR9].buffer, out->current, out->size) != 0) {
                _cleanup_(freep) char *replayed = hex_encode(out->current, out->size);
                _cleanup_(freep) char *held = hex_encode(now.value[PCR9].buffer, now.value[PCR9].size);

                return vm_error(-EBADMSG, "%s replays PCR 9 (%s) to %s, but the TPM holds %s: PCR 9 was extended "
                                          "outside this boot's log, the next boot's cannot be predicted from it",
                                config->measuredboot_ml_path, hashalg_name(bank), replayed ? replayed : "?",
                                held ? held : "?");
        }
        return 0;
}

int initrd_pin_predict(const struct agent_config *config, const char *initrd_path,
                       struct pcr9_prediction out[INITRD_PIN_BANKS_MAX], size_t *count) {
        uint8_t digests[INITRD_PIN_BANKS_MAX][TPM2_SHA512_DIGEST_SIZE];
        TPM2_ALG_ID active[TPM2_NUM_PCR_BANKS];
        _cleanup_(tpm_freep) struct tpm *tpm = NULL;
        _cleanup_(freep) char *log = NULL;
        size_t size = 0, nactive = 0;
        int ret;

        *count = 0;
        ret = file_read_all(config->measuredboot_ml_path, INITRD_PIN_LOG_MAX, &log, &size);
        if (ret == -ENOENT)
                return vm_error(-ENODATA, "%s: no UEFI event log (no measured boot by UEFI firmware): the next boot's "
                                          "PCR 9 cannot be predicted",
                                config->measuredboot_ml_path);
        if (ret < 0)
                return vm_error(ret, "%s: %s", config->measuredboot_ml_path, vm_error_detail(ret));
        if ((ret = initrd_digests(initrd_path, digests)) < 0)
                return ret;
        ret = tpm_open(config->tcti[0] ? config->tcti : TPM_DEFAULT_TCTI, &tpm);
        if (ret >= 0)
                ret = pcr_active_banks(tpm, active, TPM2_NUM_PCR_BANKS, &nactive);
        for (size_t i = 0; ret >= 0 && i < INITRD_PIN_BANKS_MAX; i++) {
                if (!bank_active(active, nactive, pin_banks[i]))
                        continue;
                ret = predict_bank(tpm, config, (const uint8_t *)log, size, pin_banks[i], digests[i], &out[*count]);
                if (ret >= 0)
                        (*count)++;
        }
        if (ret >= 0 && *count == 0)
                ret = vm_error(-EBADMSG, "the TPM has none of the banks sha256, sha384, sha512 active");
        return ret;
}

int initrd_pin_body(const struct pcr9_prediction *predictions, size_t count, char **body) {
        json_object *root = json_object_new_object(), *pcr9 = json_object_new_object();
        int ret = root && pcr9 ? 0 : -ENOMEM;

        *body = NULL;
        for (size_t i = 0; ret >= 0 && i < count; i++) {
                char *hex = hex_encode(predictions[i].predicted, predictions[i].size);

                if (!hex || json_object_object_add(pcr9, hashalg_name(predictions[i].bank), json_object_new_string(hex)) < 0)
                        ret = -ENOMEM;
                free(hex);
        }
        if (ret >= 0 && json_object_object_add(root, "pcr9", pcr9) < 0)
                ret = -ENOMEM;
        else if (ret >= 0)
                pcr9 = NULL; /* root's */
        if (ret >= 0 && !(*body = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN))))
                ret = -ENOMEM;
        json_object_put(pcr9);
        json_object_put(root);
        return ret;
}

static const char *pin_answer_pending(const struct http_response *resp) {
        json_object *status;

        /* the envelope's own words only: a body that merely mentions them is a final answer */
        if (resp->status != 409 || !json_object_is_type(resp->json, json_type_object) ||
            !json_object_object_get_ex(resp->json, "status", &status) || !json_object_is_type(status, json_type_string) ||
            !strstr(json_object_get_string(status), PENDING_STATUS))
                return NULL;
        return "PCR 9 pin: the verifier has not attested this agent yet";
}

int initrd_pin_send(const struct agent_config *config, const char *initrd_path, unsigned wait_seconds) {
        struct pcr9_prediction predictions[INITRD_PIN_BANKS_MAX];
        struct registrar_client registrar;
        _cleanup_(freep) char *body = NULL;
        char agent_id[AGENT_ID_MAX + 1];
        size_t count = 0;
        int ret;

        if (!config->registrar_tls)
                return vm_error(-EINVAL, "the PCR 9 pin goes to the registrar's TLS port only: set registrar_tls = true "
                                         "(and registrar_tls_ca_cert)");
        ret = initrd_pin_predict(config, initrd_path, predictions, &count);
        if (ret >= 0)
                ret = initrd_pin_body(predictions, count, &body);
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < count; i++) {
                _cleanup_(freep) char *hex = hex_encode(predictions[i].predicted, predictions[i].size);

                log_info("PCR 9 (%s) of the next boots, with initrd %s (this boot's log event %u replaced): %s",
                         hashalg_name(predictions[i].bank), initrd_path, predictions[i].initrd_event, hex ? hex : "?");
        }
        ret = escrow_post_registered(config, "pcr9", pin_answer_pending, wait_seconds, body, strlen(body),
                                     &registrar, agent_id);
        if (ret == -EPERM && (registrar.status == 403 || registrar.status == 404 || registrar.status == 409))
                return vm_error(-EACCES, "the verifier refused the PCR 9 pin of agent %s: %s", agent_id,
                                vm_error_detail(ret));
        if (ret == -EAGAIN && registrar.status == 409)
                return vm_error(-ETIMEDOUT, "the verifier did not attest agent %s within %u s: %s", agent_id, wait_seconds,
                                vm_error_detail(ret));
        if (ret >= 0)
                log_info("PCR 9 of agent %s pinned with %s (API v%s): the verifier releases its key only to a boot "
                         "with that PCR 9",
                         agent_id, registrar.base_url, registrar.api_version);
        return ret;
}
