#!/bin/bash
# A hardware report beneath the vTPM, end to end (docs/platforms.md): agents serve an SEV-SNP
# report from the configfs-tsm TEST DOUBLE (tests/tools/tsm-double, fake AMD keys, its fake ARK
# given to the verifier as platform_test_roots); vmattest-verifier, under a group's or an
# enrolment's platform policy, releases the disk key only to an agent whose report verifies and
# says what the policy wants, and fails one whose report is missing, of another launch
# measurement, of a debuggable guest, or chained to a root it does not trust.
. "$(dirname "$0")/lib.sh"
plan 12

amd_certs=$PWD/verifier/amd # AMD's real ASK/ARK bundles, as installed in /usr/share/vmattest/amd
cd "$TEST_TMP" || exit 1
tenant_pki
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
good_measurement=$(printf '5a%.0s' $(seq 48))
other_measurement=$(printf '11%.0s' $(seq 48))

# the doubles first: the verifier trusts the first one's fake ARK (all sign with the same keys)
tsm_double_start "$TEST_TMP/tsm-good" || exit 1
tsm_double_start "$TEST_TMP/tsm-other" --measurement "$other_measurement" || exit 1
tsm_double_start "$TEST_TMP/tsm-debug" --policy 0xb0000 || exit 1
release_verifier_config "" "platform_test_roots = $TEST_TMP/tsm-good.ark.pem
amd_certs_dir = $TEST_TMP/no-amd-certs"
verifier_start verifier.conf || exit 1
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }

start_vm() { # start_vm NAME TSM-DIR [EXTRA-CONF]: a swtpm and an agent serving on it; AGENT_ID
        swtpm_start "$1" >/dev/null || exit 1
        local port; port=$(random_port)
        agent_config "$1.conf" "$VERIFIER_PORT" "port = $port
state_dir = $TEST_TMP/$1-state
vmattest_ml_path = $TEST_TMP/$1-measurements.log
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes
tsm_report_dir = $2
${3:-}"
        "$VMATTEST" --config "$1.conf" serve >"$1.log" 2>&1 &
        verifier_pids+=("$!")
        wait_port "$!" "$port" || { cat "$1.log" >&2; exit 1; }
        AGENT_ID=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' "$1.log")
}
released() { [ "$(status "$1" payload_released_at)" != null ]; }
failed() { [ "$(status "$1" state)" = failed ]; }
# failed_with AGENT WORDS: failed, the reason containing WORDS
failed_with() { failed "$1" && status "$1" failure | grep -q "$2"; }

printf '{"15": ["%064d"]}\n' 0 >any-pcrs.json
printf '{"platform": "sev-snp", "measurements": ["%s"], "min_tcb": {"bl": 4, "snp": 24, "ucode": 219}}\n' \
        "$good_measurement" >snp-policy.json

sed 's/measurements/measurement/' snp-policy.json >typo-policy.json
expect_failure "a platform policy with a typo is refused when the tenant gives it, naming the member" any \
        'typo-policy.json: platform policy: unknown member "measurement"' \
        vv add --agent x --policy any-pcrs.json --platform-policy typo-policy.json

start_vm good "$TEST_TMP/tsm-good"
good=$AGENT_ID
expect_success "the tenant enrolls the agent with a platform policy and its disk key" \
        vv add --agent "$good" --policy any-pcrs.json --platform-policy snp-policy.json --payload disk.key \
        --allow-unpinned-cmdline
if wait_for released 20 released "$good"; then ok "the key is released once the SEV-SNP report verifies"
else not_ok "the key is released once the SEV-SNP report verifies"; vv status --agent "$good" | diag; fi
if grep -q "agent $good attests (quote, PCRs, hardware report: SEV-SNP" verifier.log; then
        ok "the verifier says what the report showed"
else not_ok "the verifier says what the report showed"; grep "agent $good" verifier.log | diag; fi

start_vm other "$TEST_TMP/tsm-other"
other=$AGENT_ID
vv add --agent "$other" --policy any-pcrs.json --platform-policy snp-policy.json --payload disk.key \
        --allow-unpinned-cmdline >/dev/null
if wait_for failed 20 failed_with "$other" "measurement"; then ok "another launch measurement: failed, named"
else not_ok "another launch measurement: failed, named"; vv status --agent "$other" | diag; fi
expect_equal "... and no key for it" "$(status "$other" payload_released_at)" null

start_vm debug "$TEST_TMP/tsm-debug"
debug=$AGENT_ID
vv add --agent "$debug" --policy any-pcrs.json --platform-policy snp-policy.json >/dev/null
if wait_for failed 20 failed_with "$debug" "debug"; then ok "a guest the host may debug: failed, named"
else not_ok "a guest the host may debug: failed, named"; vv status --agent "$debug" | diag; fi

start_vm off "$TEST_TMP/tsm-good" "platform_report = off"
off=$AGENT_ID
vv add --agent "$off" --policy any-pcrs.json --platform-policy snp-policy.json >/dev/null
if wait_for failed 20 failed_with "$off" "served none"; then ok "an agent that serves no report: failed, named"
else not_ok "an agent that serves no report: failed, named"; vv status --agent "$off" | diag; fi

# an enrolment group carries the policy to the agents its tokens enrol
expect_success "a group with a platform policy" \
        vv group add snp --tpm-policy-file any-pcrs.json --platform-policy snp-policy.json --token-file token \
        --allow-unpinned-cmdline
expect_equal "... listed with it" "$(vv group list --json | jq -r '.[0].platform_policy | test("sev-snp")')" true

# a verifier with AMD's real roots and no test root: the double's chain ends at a root AMD never made
verifier_stop
sed -i "/^platform_test_roots/d; s|^amd_certs_dir = .*|amd_certs_dir = $amd_certs|" verifier.conf
verifier_start verifier.conf || exit 1
vv add --agent "$good" --policy any-pcrs.json --platform-policy snp-policy.json >/dev/null
if wait_for failed 20 failed_with "$good" "root"; then ok "with AMD's roots only, the fake chain is refused, named"
else not_ok "with AMD's roots only, the fake chain is refused, named"; vv status --agent "$good" | diag; fi
if ! grep -q "$(cat disk.key)" verifier.log ./*.log 2>/dev/null; then ok "the disk key is in no log"
else not_ok "the disk key is in no log"; fi
