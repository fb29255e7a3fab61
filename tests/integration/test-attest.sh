#!/bin/bash
# Continuous attestation on loopback: vmattest serve on a swtpm whose PCRs the test extends
# exactly as a synthetic firmware event log and IMA list say, and vmattest-verifier polling it
# over mutual TLS against a tpm_policy, a measured-boot policy and a runtime policy.
. "$(dirname "$0")/lib.sh"
plan 25

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki

# the "firmware": an event log, its extends performed on the swtpm
"$TOOLS_DIR/eventlog-forge" eventlog.bin 0:8:crtm-version 4:80000003:kernel-image 7:80000001:secureboot-off \
        9:6:initrd >extends.txt
while read -r pcr digest; do tpm2_pcrextend "$pcr:sha256=$digest"; done <extends.txt
# the kernel's IMA list: boot_aggregate over PCRs 0-9, then two programs
aggregate=$(boot_aggregate)
ima_add boot_aggregate "$aggregate"
ima_add /usr/bin/good "$(sha good)"
ima_add /usr/lib/libgood.so "$(sha libgood)"

runtime_policy runtime-policy.json '["^/tmp/"]' /usr/bin/good=good /usr/lib/libgood.so=libgood /usr/bin/also=also
kernel=$(grep '^4 ' extends.txt | cut -d' ' -f2)
cat >mb-policy.json <<JSON
{"version": 1, "bank": "sha256",
 "events": [{"pcr": 4, "type": "EV_EFI_BOOT_SERVICES_APPLICATION", "digests": ["$kernel"]}],
 "secure_boot": "any"}
JSON
printf '{"15": ["%064d"]}\n' 0 >tpm-policy.json

webhook_port=$(random_port)
printf '{}' >webhook-body
"$TOOLS_DIR/fake-http" "$webhook_port" 200 webhook-body 2>webhook.log &
verifier_pids+=("$!")
verifier_config verifier.conf "$(verifier_poll_config "webhook_url = http://127.0.0.1:$webhook_port/vmattest")"
verifier_start verifier.conf || exit 1
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/ima.log
measuredboot_ml_path = $TEST_TMP/eventlog.bin
vmattest_ml_path = $TEST_TMP/vmattest-measurements.log"
agent_serve agent.conf || exit 1
agent_id=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' agent.log)

vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }
good_after() { # good_after N: the verifier reported a good attestation with >= N IMA entries
        [ "$(status state)" = polling ] && [ "$(status last_ok)" != null ] && [ "$(status ima_entries_verified)" -ge "$1" ]
}
failed() { [ "$(status state)" = failed ]; }

expect_success "the tenant enrolls the agent with its three policies" \
        vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy runtime-policy.json --mb-policy mb-policy.json
if wait_for "passes" 15 good_after 3; then ok "the verifier polls it: quote, PCRs, event log and IMA list pass"
else not_ok "the verifier polls it and it passes"; vv status --agent "$agent_id" | diag; tail -5 "$TEST_TMP/verifier.log" | diag; fi

ima_add /usr/bin/also "$(sha also)"
if wait_for "new entry" 10 good_after 4; then ok "a new allowed entry is verified incrementally"
else not_ok "a new allowed entry is verified incrementally"; vv status --agent "$agent_id" | diag; fi
ima_add /tmp/scratch-build "$(sha anything)"
if wait_for "excluded" 10 good_after 5; then ok "an entry under an excluded path passes"
else not_ok "an entry under an excluded path passes"; vv status --agent "$agent_id" | diag; fi

expect_failure "a verifier without a client certificate is refused by the agent" any "" \
        curl -sf --cacert agent-state/server-cert.crt "https://127.0.0.1:$agent_port/v2.6/agent/info"
make_client() { # a client certificate from a CA the agent does not trust
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=stranger \
                -keyout stranger.key -out stranger.pem 2>/dev/null
}
make_client
expect_failure "a client certificate from another CA is refused by the agent" any "" \
        curl -sf --cacert agent-state/server-cert.crt --cert stranger.pem --key stranger.key \
        "https://127.0.0.1:$agent_port/v2.6/agent/info"

# the verifier restarts: it resumes from the stored state (entry count kept, still passing)
entries=$(status ima_entries_verified)
verifier_stop
verifier_start verifier.conf
ima_add /usr/bin/good "$(sha good)"
if wait_for "resumed" 10 good_after $((entries + 1)); then ok "a restarted verifier resumes from its stored IMA state"
else not_ok "a restarted verifier resumes from its stored IMA state"; vv status --agent "$agent_id" | diag; fi

# a violation the machine rewrote to name an allowed program with its allowed digest: the kernel
# extends PCR 10 with 0xff bytes for a violation whatever its line says, so the list still
# replays to the quote; ima_violations is refuse by default
ima_add --violation /usr/bin/good "$(sha good)"
if wait_for "violation" 10 failed; then ok "a violation rewritten to name an allowed file fails the agent"
else not_ok "a violation rewritten to name an allowed file fails the agent"; vv status --agent "$agent_id" | diag; fi
expect_equal "the failure names the entry as a violation and the switch" \
        "$(status failure | grep -o 'IMA entry [0-9]*: a violation\|ima_violations = allow' | tr '\n' ' ')" \
        "IMA entry 6: a violation ima_violations = allow "
expect_equal "the failure does not show the violation's unsigned path" "$(status failure | grep -c /usr/bin/good)" 0
# the verifier's switch, not the policy, lets violations pass
verifier_stop
cp verifier.conf refuse.conf
sed -i '/^\[verifier\]/a ima_violations = allow' verifier.conf
verifier_start verifier.conf
vv reactivate --agent "$agent_id" >/dev/null
if wait_for "allowed" 10 good_after 7; then ok "with ima_violations = allow the violation passes"
else not_ok "with ima_violations = allow the violation passes"; vv status --agent "$agent_id" | diag; fi
sed '/^\[verifier\]/a ima_violations = maybe' refuse.conf >bad.conf
expect_failure "ima_violations other than refuse or allow is refused" 2 'ima_violations.*"maybe" is not refuse or allow' \
        "$VMATTEST_VERIFIER" --config bad.conf status

# a program the policy does not know
ima_add /usr/bin/evil "$(sha evil)"
if wait_for "fails" 10 failed; then ok "an entry not in the runtime policy fails the agent"
else not_ok "an entry not in the runtime policy fails the agent"; vv status --agent "$agent_id" | diag; fi
expect_equal "the failure names the entry, the path and the digest" \
        "$(status failure | grep -o 'IMA entry [0-9]*: /usr/bin/evil with sha256:[0-9a-f]*')" \
        "IMA entry 7: /usr/bin/evil with sha256:$(sha evil)"
expect_failure "status exits 1 and prints the reason" 1 "/usr/bin/evil" vv status --agent "$agent_id"
if wait_for "webhook" 5 grep -q "\"agent_id\":\"$agent_id\".*/usr/bin/evil" webhook.log; then ok "the failure was POSTed to the webhook"
else not_ok "the failure was POSTed to the webhook"; diag <webhook.log; fi
polls=$(status polls)
sleep 2.5
expect_equal "a failed agent is not polled any more" "$(status polls)" "$polls"

# an altered entry: the list no longer replays (the agent "hides" evil by rewriting its line)
sed -i "s|/usr/bin/evil|/usr/bin/also|; s|$(sha evil)|$(sha also)|" ima.log
expect_success "reactivate puts the agent back to polling" vv reactivate --agent "$agent_id"
if wait_for "fails again" 10 failed; then ok "the rewritten entry fails the agent again"
else not_ok "the rewritten entry fails the agent again"; vv status --agent "$agent_id" | diag; fi
expect_equal "the failure names the altered entry" "$(status failure | grep -o 'entry 7[^0-9]' | head -n 1)" "entry 7:"

# the agent's mTLS identity copied to another VM (another TPM): its quotes are signed by an AK
# the registrar never saw
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
own_tcti=$VMATTEST_TCTI
swtpm_start thief >/dev/null || exit 1
cp agent.conf thief.conf
echo "uuid = $agent_id" >>thief.conf # the stolen id, so that the stolen certificate still fits
"$VMATTEST" --config thief.conf serve --no-register >>agent.log 2>&1 &
AGENT_PID=$!
verifier_pids+=("$AGENT_PID")
wait_port "$AGENT_PID" "$agent_port"
vv reactivate --agent "$agent_id" >/dev/null
if wait_for "thief" 10 failed; then ok "another TPM behind the agent's identity fails the agent"
else not_ok "another TPM behind the agent's identity fails the agent"; vv status --agent "$agent_id" | diag; fi
expect_equal "the failure names the signature check" "$(status failure | grep -o 'does not verify under the registered AK')" \
        "does not verify under the registered AK"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
export VMATTEST_TCTI=$own_tcti TPM2TOOLS_TCTI=$own_tcti

# a server certificate other than the registered one: the verifier does not poll it
rm agent-state/server-private.pem agent-state/server-cert.crt
"$VMATTEST" --config agent.conf serve --no-register >>agent.log 2>&1 &
AGENT_PID=$!
verifier_pids+=("$AGENT_PID")
wait_port "$AGENT_PID" "$agent_port"
vv reactivate --agent "$agent_id" >/dev/null
unreachable() { status last_error | grep -q 'TLS\|certificate\|SSL'; }
if wait_for "refused" 10 unreachable; then ok "an agent serving another certificate than it registered is not polled"
else not_ok "an agent serving another certificate than it registered is not polled"; vv status --agent "$agent_id" | diag; fi

agent_clean() { # SIGTERM: the agent must stop with status 0 and no sanitizer report
        kill "$AGENT_PID" && wait "$AGENT_PID" && ! grep -q 'Sanitizer\|runtime error' agent.log
}
expect_success "vmattest serve stops cleanly on SIGTERM" agent_clean
expect_success "vmattest-verifier stopped cleanly each time (exit 0, no sanitizer report)" verifier_clean
