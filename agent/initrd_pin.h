/* The first boot's PCR 9 pin (vmattest's extension of Keylime's registrar API, docs/protocol.md
 * §5.6): once `vmattest first-boot` rebuilt the initrd (the instance's volumes in its crypttab
 * and agent.conf), the agent predicts the PCR 9 of the next boots (agent/pcr9_prediction.h: this
 * boot's UEFI event log, the initrd event's digest replaced by the new file's), for each bank the
 * TPM has active that a verifier quotes with (sha256, sha384, sha512), and reports it:
 * POST /v2.N/agents/{id}/pcr9 {"pcr9": {"sha256": "<hex>", ...}} at the registrar's TLS port,
 * authenticated by the agent's registered mTLS certificate, as escrow is. The verifier makes it
 * the agent's PCR 9 policy: a later boot with another initrd gets no key.
 *
 * The prediction is believed only when this boot's log replays to the TPM's PCR 9 in each bank;
 * a verifier that has not attested the agent yet answers 409 "not attested yet", waited out as
 * escrow waits. */
#pragma once

#include <stddef.h>

#include "agent/config.h"
#include "agent/pcr9_prediction.h"

#define INITRD_PIN_BANKS_MAX 3
#define INITRD_PIN_LOG_MAX (4u << 20) /* bytes of the firmware's event log */

/* The predictions for the initrd `initrd_path` (the file dracut wrote) from the event log at
 * config->measuredboot_ml_path, checked against the PCR 9 of the TPM config->tcti names ("": the
 * default). -ENODATA when there is no event log (no UEFI measured boot: nothing to pin);
 * -EBADMSG/-EIO with a detail naming the file, the bank and the event otherwise. */
int initrd_pin_predict(const struct agent_config *config, const char *initrd_path,
                       struct pcr9_prediction out[INITRD_PIN_BANKS_MAX], size_t *count);

/* The request's body for `count` predictions, malloc'ed. */
int initrd_pin_body(const struct pcr9_prediction *predictions, size_t count, char **body);

/* initrd_pin_predict, then the POST, waiting up to `wait_seconds` for the verifier to have
 * attested the agent. 0 once pinned; -ENODATA as above; -EACCES when the verifier refused it
 * (403 not this agent's certificate, 404 not enrolled, 409 against the write-once rules), final;
 * -ETIMEDOUT when not attested within the wait; another negative errno when it failed. */
int initrd_pin_send(const struct agent_config *config, const char *initrd_path, unsigned wait_seconds);
