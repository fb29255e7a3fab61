#!/bin/bash
# Measured boot under Keylime's default measured-boot policy (accept-all), after the PCR 15 events
# `vmattest unlock` leaves (root-identity, key-released) and the initrd's leave-initrd: Keylime's
# verifier replays the event log the agent serves over every quoted PCR 0-9 and 11-15 (through
# tpm2_eventlog) and compares each with the quote. The agent serves the firmware's log followed
# by its PCR 15 records, so an agent that unlocked stays green. Real logs only: the project's
# OVMF boot (tests/fixtures/boot) and a shim + GRUB boot with Secure Boot
# (tests/fixtures/keylime-shim-grub), each replayed into the agent's swtpm so that its PCRs hold
# what that firmware left. Against that: without the records (pcr15_in_event_log off) Keylime
# fails the agent for PCR 15, as it failed every agent before; an extend of PCR 15 the log does
# not hold fails it too.
. "$(dirname "$0")/lib.sh"
plan 9

cd "$TEST_TMP" || exit 1
OVMF_LOG="$OLDPWD/tests/fixtures/boot/binary_bios_measurements"
SHIM_LOG="$OLDPWD/tests/fixtures/keylime-shim-grub/binary_bios_measurements"
keylime_start || exit 1

green() { # green ID NAME: four good attestations, still PASS
        if wait_for "polls" 30 keylime_polled "$1" 4 && [ "$(keylime_field "$1" attestation_status)" = PASS ]; then
                ok "$2"
        else not_ok "$2"; keylime_verifier_agent "$1" | diag; keylime_log_diag; fi
}

# the OVMF boot (the kernel's EFI stub started by the firmware): Keylime's keylime-policy makes
# reference states for shim + GRUB boots only, so the tenant gives accept-all a reference state
# of its own; only a non-empty one makes Keylime compare the log with the quote
keylime_boot_agent ovmf "$OVMF_LOG" || exit 1
ovmf=$AGENT_ID ovmf_port=$AGENT_PORT ovmf_tcti=$VMATTEST_TCTI
expect_equal "the swtpm holds the PCRs 0-9 the real OVMF boot left (tests/fixtures/boot)" \
        "$(tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8,9 | sed -n 's/^ *\([0-9]\) *: 0x/\1 /p' | tr A-F a-f)" \
        "$(head -n 10 "$OLDPWD/tests/fixtures/boot/pcrs-sha256.txt")"
echo '{"boot": "OVMF, kernel EFI stub", "checked_by": "accept-all: the log replays to the quote"}' >ovmf-refstate.json
keylime_add_mb "$ovmf" "$ovmf_port" ovmf-refstate.json
green "$ovmf" "accept-all, the OVMF boot after an unlock: Keylime's verifier replays the served log over PCRs 0-9 and 11-15 and passes"
expect_equal "... over a mask of PCRs 0-9 and 11-15, PCR 15 included (the verifier's tpm_policy)" \
        "$(keylime_field "$ovmf" tpm_policy | jq -r .mask)" 0xfbff

# a shim + GRUB boot with Secure Boot, and the reference state Keylime's own tool makes from it
keylime_boot_agent shim "$SHIM_LOG" || exit 1
shim=$AGENT_ID shim_port=$AGENT_PORT
if keylime_policy create measured-boot -e "$SHIM_LOG" -o shim-refstate.json >policy.out 2>&1 && jq -e .kernels shim-refstate.json >/dev/null; then
        ok "keylime-policy create measured-boot makes a reference state from the shim + GRUB log"
else not_ok "keylime-policy create measured-boot makes a reference state from the shim + GRUB log"; diag <policy.out; fi
keylime_add_mb "$shim" "$shim_port" shim-refstate.json
green "$shim" "accept-all, the shim + GRUB boot after an unlock: passes"

# what every agent that unlocked met before: the log without PCR 15's records
keylime_boot_agent bare "$OVMF_LOG" "pcr15_in_event_log = false" || exit 1
bare=$AGENT_ID
keylime_add_mb "$bare" "$AGENT_PORT" ovmf-refstate.json
if wait_for "fail" 20 keylime_failed "$bare"; then ok "without PCR 15's records in the log (pcr15_in_event_log off), Keylime fails the agent"
else not_ok "without PCR 15's records in the log (pcr15_in_event_log off), Keylime fails the agent"; keylime_verifier_agent "$bare" | diag; fi
expect_equal "... for PCR 15 (measured_boot.invalid_pcr_15)" "$(keylime_field "$bare" last_event_id)" measured_boot.invalid_pcr_15

# the replay is real: an extend of PCR 15 that the log does not hold
TPM2TOOLS_TCTI=$ovmf_tcti tpm2_pcrextend "15:sha256=$(sha 'behind the agent')"
if wait_for "fail" 20 keylime_failed "$ovmf"; then ok "PCR 15 extended behind the agent's back: Keylime fails the OVMF agent"
else not_ok "PCR 15 extended behind the agent's back: Keylime fails the OVMF agent"; keylime_verifier_agent "$ovmf" | diag; fi
expect_equal "... for PCR 15 (measured_boot.invalid_pcr_15), while the shim + GRUB agent stays PASS" \
        "$(keylime_field "$ovmf" last_event_id) $(keylime_field "$shim" attestation_status)" "measured_boot.invalid_pcr_15 PASS"
