#!/bin/bash
# The verifier across the TPM's power events, on a real swtpm: a resume from S3 (TPM2_Startup
# (STATE): restartCount up, PCRs kept) is the same boot — no second key release, the IMA replay
# goes on; a reboot (TPM reset) starts the IMA list over, and an agent that answers the new boot
# from the old boot's entry number is asked again from entry 0: never a pass without a replay.
# The verifier is stopped across each power event, so that the first poll it makes after one
# is the poll that meets the new state.
. "$(dirname "$0")/lib.sh"
plan 8

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
forge="$TOOLS_DIR/ima-forge"
aggregate=$(boot_aggregate)
ima_add boot_aggregate "$aggregate"
ima_add /usr/bin/good "$(sha good)"
ima_add /usr/bin/also "$(sha also)"
runtime_policy runtime-policy.json '[]' /usr/bin/good=good /usr/bin/also=also
echo '{}' >tpm-policy.json
echo "luks-$(openssl rand -hex 16)" >disk.key

release_verifier_config
verifier_start verifier.conf || exit 1
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/ima.log
runtime_release = yes"
agent_serve agent.conf || exit 1
agent_id=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' agent.log)
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }
released() { [ "$(status payload_released_at)" != null ]; }
good_after() { [ "$(status state)" = polling ] && [ "$(status ima_entries_verified)" -ge "$1" ]; }
failed() { [ "$(status state)" = failed ]; }
polls_after() { [ "$(status polls)" -ge "$1" ]; }

vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy runtime-policy.json --payload disk.key --allow-unpinned-cmdline >/dev/null
if wait_for released 20 released && wait_for good 10 good_after 3; then ok "the agent attests and gets its key"
else not_ok "the agent attests and gets its key"; vv status --agent "$agent_id" | diag; fi
released_at=$(status payload_released_at)

# S3: TPM2_Shutdown(STATE), TPM_Init, TPM2_Startup(STATE)
verifier_stop
tpm2_shutdown && swtpm_ioctl --tcp "127.0.0.1:$(( ${VMATTEST_TCTI##*port=} + 1 ))" -i && tpm2_startup
expect_equal "the swtpm resumed with restartCount 1" "$(tpm2_readclock | sed -n 's/ *restart_count: //p')" 1
polls=$(status polls)
verifier_start verifier.conf || exit 1
ima_add /usr/bin/also "$(sha also)"
wait_for "polls" 15 polls_after $((polls + 3))
expect_equal "after S3, the same boot: still attesting, the key not released again" \
        "$(status state) $(status payload_released_at) $(grep -c 'K authenticated' agent.log)" "polling $released_at 1"
if wait_for good 10 good_after 4; then ok "... and the IMA replay goes on from where it was"
else not_ok "... and the IMA replay goes on from where it was"; vv status --agent "$agent_id" | diag; fi

# a reboot: TPM2_Shutdown(CLEAR), TPM_Init, TPM2_Startup(CLEAR); the agent serves the old list
vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy runtime-policy.json >/dev/null # no payload
wait_for good 15 good_after 4
verifier_stop
last_ok=$(status last_ok)
tpm2_shutdown -c && swtpm_ioctl --tcp "127.0.0.1:$(( ${VMATTEST_TCTI##*port=} + 1 ))" -i && tpm2_startup -c
expect_equal "the swtpm rebooted with PCR 10 reset" "$(tpm2_pcrread sha256:10 | sed -n 's/ *10: //p')" "0x$(printf '%064d' 0)"
# the new boot: another kernel, and a program outside the policy; the agent shows the old list
tpm2_pcrextend "4:sha256=$(sha other-kernel)"
aggregate=$(boot_aggregate)
tpm2_pcrextend "10:sha256=$("$forge" new-boot.log boot_aggregate "$aggregate")"
tpm2_pcrextend "10:sha256=$("$forge" new-boot.log /usr/bin/evil "$(sha evil)")"
verifier_start verifier.conf || exit 1
wait_for failed 15 failed
expect_equal "a new boot's list served from the old entry number is never passed without a replay" \
        "$(status state) $(status last_ok)" "failed $last_ok"
if grep -q "asking again from entry 0" "$TEST_TMP/verifier.log"; then ok "... the verifier asked for it again from entry 0"
else not_ok "... the verifier asked for it again from entry 0"; tail -5 "$TEST_TMP/verifier.log" | diag; fi
expect_success "vmattest-verifier stopped cleanly (exit 0, no sanitizer report)" verifier_clean
