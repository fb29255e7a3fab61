/* The agent's extends of PCR 15 (docs/protocol.md §5.1/§5.2): each is H_bank(event || 0x00 || data)
 * extended into PCR 15 and appended to the measurement log (vmattest_ml_path) under a lock, so
 * that the verifier can replay it and concurrent measures cannot corrupt it. */
#pragma once

#include "agent/config.h"
#include "agent/tpm.h"

int measure_event(struct tpm *tpm, const struct agent_config *config, const char *event, const char *data);
