#!/bin/bash
# Measured boot under Keylime's `example` measured-boot policy (measured_boot_policy_name =
# example), after the PCR 15 events of an unlock. That policy judges every event of the log by
# (PCR, type), refusing any pair it has no rule for, and replays only PCRs 0-9 and 14: so it
# refuses PCR 15's records in the log and never looks at PCR 15. An agent for such a verifier
# sets pcr15_in_event_log = false and stays green; with the records (the default, which
# accept-all and vmattest-verifier need) the policy names them. The log: a real shim + GRUB boot
# with Secure Boot (tests/fixtures/keylime-shim-grub; the policy models no other kind of boot),
# replayed into the agent's swtpm, and the reference state Keylime's keylime-policy makes from it.
. "$(dirname "$0")/lib.sh"
plan 5

cd "$TEST_TMP" || exit 1
SHIM_LOG="$OLDPWD/tests/fixtures/keylime-shim-grub/binary_bios_measurements"
# Keylime's own override of a config key: KEYLIME_<COMPONENT>_<KEY>
export KEYLIME_VERIFIER_MEASURED_BOOT_POLICY_NAME=example
keylime_start || exit 1


keylime_policy create measured-boot -e "$SHIM_LOG" -o refstate.json >policy.out 2>&1 || { diag <policy.out; exit 1; }

keylime_boot_agent quiet "$SHIM_LOG" "pcr15_in_event_log = false" || exit 1
quiet=$AGENT_ID
keylime_add_mb "$quiet" "$AGENT_PORT" refstate.json
if wait_for "polls" 30 keylime_polled "$quiet" 4 && [ "$(keylime_field "$quiet" attestation_status)" = PASS ]; then
        ok "example policy, pcr15_in_event_log off: the agent that unlocked stays green (4 good attestations)"
else not_ok "example policy, pcr15_in_event_log off: the agent that unlocked stays green"; keylime_verifier_agent "$quiet" | diag; keylime_log_diag; fi
expect_equal "... PCR 15 is quoted (mask 0xfbff) and holds the unlock's records, which the policy does not check" \
        "$(keylime_field "$quiet" tpm_policy | jq -r .mask) $(tpm2_pcrread sha256:15 | grep -c '15 : 0x0000000000000000000000000000000000000000000000000000000000000000')" \
        "0xfbff 0"

# the policy judges the log for real: a reference state from another kernel
jq '.kernels[0].kernel_authcode_sha256 = "0x" + ("ab" * 32)' refstate.json >other-kernel.json
keylime_boot_agent other "$SHIM_LOG" "pcr15_in_event_log = false" || exit 1
other=$AGENT_ID
keylime_add_mb "$other" "$AGENT_PORT" other-kernel.json
wait_for "fail" 20 keylime_failed "$other"
expect_equal "a reference state for another kernel: the example policy fails the agent" \
        "$(keylime_field "$other" last_event_id)" measured_boot.policy_example

# the default: PCR 15's records in the log, which this policy has no rule for
keylime_boot_agent loud "$SHIM_LOG" || exit 1
loud=$AGENT_ID
keylime_add_mb "$loud" "$AGENT_PORT" refstate.json
wait_for "fail" 20 keylime_failed "$loud"
expect_equal "with PCR 15's records in the log (the default), the example policy fails the agent" \
        "$(keylime_field "$loud" last_event_id)" measured_boot.policy_example
if grep -q "unexpected ('PCRIndex', 'EventType') combination (15, 'EV_IPL')" "$KEYLIME_DIR/verifier.log"; then
        ok "... naming PCR 15's EV_IPL record (the reason pcr15_in_event_log exists)"
else not_ok "... naming PCR 15's EV_IPL record"; keylime_log_diag; fi
