#!/bin/bash
# The push model end to end between vmattest's own two sides (docs/protocol.md §4): `vmattest
# serve` with mode = push opens no port, registers, proves its AK and sends its evidence to
# vmattest-verifier's API v3 on the registrar's TLS port, for an agent enrolled with `add
# --push`; the verifier judges it with the poller's checks. Several attestations pass, then an
# IMA entry outside the runtime policy fails the agent, named; the agent never listens; its session
# tokens are in no core of it.
. "$(dirname "$0")/lib.sh"
# a core of an ASan build is not taken (its shadow memory makes one of tens of GB): that build
# runs one check less, the release build's run makes it
asan=0; grep -q -a __asan_init "$VMATTEST" && asan=1
plan $((7 - asan))

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
ima_add boot_aggregate "$(boot_aggregate)"
ima_add /usr/bin/good "$(sha good)"
runtime_policy runtime-policy.json '[]' /usr/bin/good=good /usr/bin/also=also
echo '{}' >tpm-policy.json

tls_port=$(random_port)
release_verifier_config "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")"
verifier_start verifier.conf || exit 1
wait_port "$VERIFIER_PID" "$tls_port" || { echo "the registrar's TLS port did not open" >&2; exit 1; }
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
token_pattern='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}[.][0-9a-f]{64}'
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }

agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
ima_ml_path = $TEST_TMP/ima.log
mode = push
verifier_url = https://127.0.0.1:$tls_port
verifier_tls_ca_cert = $TEST_TMP/verifier-ca.pem
attestation_interval_seconds = 1"
"$VMATTEST" --config agent.conf serve >agent.log 2>&1 &
agent=$!
verifier_pids+=("$agent")
registered() { vv agents --json | jq -e --arg id "$agent_id" 'any(.[]; .agent_id == $id and .state == "active")' >/dev/null; }
wait_for "registered" 30 registered || { diag <agent.log; exit 1; }
vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy runtime-policy.json --push >add.log 2>&1 ||
        { diag <add.log; exit 1; }

passes() { [ "$(status state)" = polling ] && [ "$(status polls)" -ge "$1" ]; }
if wait_for "three attestations" 60 passes 3; then
        ok "the push agent's evidence passes vmattest-verifier's checks, attestation after attestation"
else not_ok "the push agent's evidence passes vmattest-verifier's checks (state $(status state), polls $(status polls))"
        status failure | diag; tail -n 20 agent.log | diag; tail -n 20 verifier.log | diag; fi
if grep -q 'push: attestation [0-9]* accepted' agent.log; then ok "the agent logs each accepted attestation"
else not_ok "the agent logs each accepted attestation"; tail -n 20 agent.log | diag; fi
if ! ss -Htln "sport = :$agent_port" | grep -q .; then ok "the agent opens no port in push mode"
else not_ok "the agent opens no port in push mode"; fi
expect_equal "the verifier saw the IMA list through the agent's offsets" "$(status ima_entries_verified)" 2

# The agent's session tokens: the live one in the secure heap (which no core holds), an ended one
# wiped. A verifier restart ends the agent's session (sessions live in its memory): the agent
# opens another; then no token, its first or its second, is in a core of the agent.
if [ "$asan" = 1 ]; then :
elif ! command -v gcore >/dev/null; then not_ok "no gcore (gdb; make deps installs it): the tokens in the agent's memory"
else
        verifier_stop
        verifier_start verifier.conf && wait_port "$VERIFIER_PID" "$tls_port"
        if wait_for "another session" 30 grep -q "opening another" agent.log &&
                sleep 2 && gcore -o "$TEST_TMP/agent-core" "$agent" >/dev/null 2>&1; then
                expect_equal "after a second session no session token is in the agent's dumpable memory" \
                        "$(cat "$TEST_TMP"/agent-core.* | grep -a -c -E "$token_pattern")" 0
        else not_ok "the agent opens a second session when the verifier restarts"; tail -n 5 agent.log | diag; fi
        rm -f "$TEST_TMP"/agent-core.*
fi

ima_add /usr/bin/evil "$(sha evil)"
failed() { [ "$(status state)" = failed ]; }
if wait_for "failed" 30 failed && status failure | grep -q '/usr/bin/evil'; then
        ok "an IMA entry outside the runtime policy fails the push agent, named"
else not_ok "an IMA entry outside the runtime policy fails the push agent (state $(status state))"
        status failure | diag; fi
rejected() { grep -q 'push: .*403\|push: .*failed\|push: .*refused' agent.log; }
if wait_for "the agent hears it" 15 rejected; then ok "the agent hears that the verifier refuses it"
else not_ok "the agent hears that the verifier refuses it"; tail -n 10 agent.log | diag; fi
