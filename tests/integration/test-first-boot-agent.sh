#!/bin/bash
# The agent's part of an instance's first boot against the real vmattest-verifier (issue 11):
# the tenant's group and its enrolment token; `vmattest register --enrol-token-stdin` at the
# registrar's TLS port enrols the agent without a human; `vmattest serve` is attested; `vmattest
# escrow` hands the instance's own disk key to the verifier (waiting out 409 "not attested
# yet"); after a reboot of the TPM, `vmattest unlock` in the "initrd" receives that key. And
# the refusals: a token over plain HTTP (refused before any request), a wrong token, an escrow
# without a registration, an oversize key, an escrow after a boot received the key.
. "$(dirname "$0")/lib.sh"
plan 19

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
# the registrar's TLS certificate, from the CA the agent pins (registrar_tls_ca_cert)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=registrar-ca \
        -keyout registrar-ca.key -out registrar-ca.pem 2>/dev/null
registrar_cert registrar-ca.pem registrar-ca.key
escrow_verifier_start "$TEST_TMP/verifier-ca.pem" || exit 1
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }
registered() { vv agents --json | jq -r --arg id "$agent_id" '[.[] | select(.agent_id == $id)] | length'; }

uuid=5f1e2d3c-0000-4000-8000-00000000f1b0
mkdir -p ask
agent_port=$(random_port)
agent_config agent.conf "$tls_port" "registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/registrar-ca.pem
port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
unlock_volumes = $uuid
askpass_dir = $TEST_TMP/ask
unlock_timeout = 30
retry_interval = 1
exponential_backoff = false"
agent_config plain.conf "$VERIFIER_PORT" "registrar_tls = false"

# the tenant's pre-approval for the image: a group whose token enrols its instances
echo '{}' >tpm-policy.json
token="enrol-$(openssl rand -hex 24)"
printf '%s\n' "$token" >token
chmod 0600 token
expect_success "the tenant makes a group with an enrolment token" \
        vv group add first-boot --tpm-policy-file tpm-policy.json --token-file token --allow-unpinned-cmdline

# refused before any request
expect_failure "a token with registrar_tls off is refused (exit 2)" 2 \
        "an enrolment token goes to the registrar's TLS port only: set registrar_tls" \
        "$VMATTEST" --config plain.conf register --enrol-token-stdin <<<"$token"
expect_equal "... before any request: the registrar knows no such agent" "$(registered)" 0
printf 'luks-%s' "$(openssl rand -hex 16)" >first.key
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
head -c 4097 /dev/urandom >over.key
expect_failure "a key of 4097 bytes is refused (exit 2)" 2 "larger than 4096 bytes" \
        "$VMATTEST" --config agent.conf escrow <over.key
expect_failure "an escrow without a registration is refused (exit 4)" 4 "HTTP 40[34]" \
        "$VMATTEST" --config agent.conf escrow --wait 3 <disk.key

# enrolment without a human
expect_failure "a wrong token is refused by the registrar (exit 1), its words shown" 1 \
        "HTTP 403: .*enrolment token unknown" \
        "$VMATTEST" --config agent.conf register --enrol-token-stdin <<<"enrol-not-the-tenants-token"
expect_success "register --enrol-token-stdin registers and activates at the TLS port" \
        "$VMATTEST" --config agent.conf register --enrol-token-stdin <<<"$token"
expect_equal "... and the agent is enrolled in the token's group" "$(vv status --agent "$agent_id" --json | jq -r '.[0].agent_id')" \
        "$agent_id"
if ! grep -rqF "$token" "$TEST_TMP/agent-state" out "$TEST_TMP/verifier.log" verifier.conf; then
        ok "... the token is in no log and no file of the agent's or the verifier's"
else not_ok "... the token is in no log and no file of the agent's or the verifier's"; fi

expect_failure "an escrow before the verifier attested the agent waits, then gives up (exit 1)" 1 \
        "did not attest agent $agent_id within 2 s" "$VMATTEST" --config agent.conf escrow --wait 2 <first.key
if grep -Eq "escrow: the verifier has not attested this agent yet; retrying \([0-9]+ s of 2 s\)" out; then
        ok "... with the progress line"; else not_ok "... with the progress line"; diag <out; fi

agent_serve agent.conf || exit 1
polled() { [ "$(status last_ok)" != null ] && [ "$(status state)" = polling ]; }
if wait_for polled 30 polled; then ok "vmattest serve is attested (a good poll)"
else not_ok "vmattest serve is attested (a good poll)"; vv status --agent "$agent_id" | diag; fi
expect_success "vmattest escrow hands the key to the verifier" \
        "$VMATTEST" --config agent.conf escrow --wait 60 <first.key
expect_success "a key no boot has received yet may be replaced (an interrupted first boot runs again)" \
        "$VMATTEST" --config agent.conf escrow --wait 60 <disk.key
sleep 3
expect_equal "the escrowing boot itself gets no release" \
        "$(status payload_released_at) $(grep -c 'K authenticated' "$TEST_TMP/agent.log")" "null 0"
if ! grep -rqF "$(cat disk.key)" "$TEST_TMP/agent-state" "$TEST_TMP/agent.log" "$TEST_TMP/verifier.log" out; then
        ok "the key is in no log and no file of the agent's or the verifier's"
else not_ok "the key is in no log and no file of the agent's or the verifier's"; fi

# a reboot: TPM2_Shutdown(CLEAR), TPM_Init, TPM2_Startup(CLEAR); the initrd's unlock
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
tpm2_shutdown -c && swtpm_ioctl --tcp "127.0.0.1:$(( ${VMATTEST_TCTI##*port=} + 1 ))" -i && tpm2_startup -c
"$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 40 unlock.answer &
listener=$!
"$VMATTEST" --config agent.conf unlock --cmdline /dev/null >unlock.log 2>&1 &
unlock=$!
verifier_pids+=("$unlock" "$listener")
wait "$unlock"
unlock_status=$?
[ "$unlock_status" -ne 0 ] || wait_for answer 5 test -s unlock.answer
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
expect_equal "after the reboot, vmattest unlock receives the escrowed key (exit 0)" "$unlock_status" 0
expect_equal "... the last one escrowed, and answers the volume's password request with it" \
        "$(cat unlock.answer 2>/dev/null)" "$(cat disk.key)"
[ "$unlock_status" -eq 0 ] || diag <unlock.log

expect_failure "an escrow once a boot received the key is refused (exit 4)" 4 "HTTP 40[39]" \
        "$VMATTEST" --config agent.conf escrow --wait 3 <first.key
