#!/bin/bash
# Key escrow (vmattest extension, docs/protocol.md): an enrolled agent hands the verifier the key
# it made in its first boot, with its own registered mTLS certificate as TLS client certificate;
# the verifier keeps it sealed and releases it to the next boot (a TPM reset), never to the
# escrowing one. Driven with curl in the agent's place (the agent's certificate and key from its
# state directory), against a real `vmattest serve` on a real swtpm. Hostile cases: no client
# certificate, another certificate, the tenant's CA client certificate, the plain-HTTP port,
# before any good quote, malformed and oversized payloads, a second escrow once a boot had it.
. "$(dirname "$0")/lib.sh"
plan 18

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
escrow_verifier_start "$TEST_TMP/verifier-ca.pem" || exit 1
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes"
agent_serve agent.conf || exit 1
agent_id=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' agent.log)
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }
polled_ok() { [ "$(status last_ok)" != null ]; }
released() { [ "$(status payload_released_at)" != null ]; }

secret="escrowed-$(openssl rand -hex 16)"
body() { jq -n --arg p "$(printf %s "$1" | base64 -w0)" '{payload: $p}'; }
escrow() { # escrow OUT [CURL-ARGS...]: POST the body on stdin; prints the HTTP status
        local out=$1; shift
        curl -s -o "$out" -w '%{http_code}' -X POST --cacert verifier-ca.pem -H 'Content-Type: application/json' \
                --data-binary @- "$@" "https://127.0.0.1:$tls_port/v2.6/agents/$agent_id/escrow"
}
as_agent=(--cert agent-state/server-cert.crt --key agent-state/server-private.pem)
answer() { printf '%s %s' "$1" "$(jq -r .status "$2")"; }

code=$(body "$secret" | escrow e.json "${as_agent[@]}")
expect_equal "an agent not enrolled cannot escrow (404)" "$(answer "$code" e.json)" "404 agent $agent_id is not enrolled"

# enrolled under a policy its PCRs fail: no good quote, nothing to escrow against
printf '{"15": ["%064d"]}\n' 1 >strict-policy.json
vv add --agent "$agent_id" --policy strict-policy.json >/dev/null
failed() { [ "$(status state)" = failed ]; }
wait_for failed 15 failed
code=$(body "$secret" | escrow e.json "${as_agent[@]}")
expect_equal "before any good quote, escrow answers 409 not attested yet (the agent retries)" \
        "$(answer "$code" e.json)" "409 not attested yet: no good integrity quote since the agent's activation"

echo '{}' >any-pcrs.json
vv add --agent "$agent_id" --policy any-pcrs.json >/dev/null
wait_for polled 15 polled_ok
code=$(body "$secret" | escrow e.json)
expect_equal "no client certificate: 403" "$code $(jq -r .status e.json | grep -o 'none was presented')" "403 none was presented"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$agent_id" \
        -keyout other.key -out other.pem 2>/dev/null
code=$(body "$secret" | escrow e.json --cert other.pem --key other.key)
expect_equal "another self-signed certificate with the agent's name: 403" \
        "$(answer "$code" e.json)" "403 the client certificate is not the active registered mTLS certificate of agent $agent_id"
code=$(body "$secret" | escrow e.json --cert verifier-client.pem --key verifier-client.key)
expect_equal "the tenant's client certificate (from trusted_client_ca) is not the agent's: 403" \
        "$(answer "$code" e.json)" "403 the client certificate is not the active registered mTLS certificate of agent $agent_id"
code=$(body "$secret" | curl -s -o e.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @- \
        "http://127.0.0.1:$VERIFIER_PORT/v2.6/agents/$agent_id/escrow")
expect_equal "the plain-HTTP port: no certificate, 403" "$code" 403
malformed() { # malformed DESC BODY PATTERN
        local code
        code=$(printf %s "$2" | escrow e.json "${as_agent[@]}")
        if [ "$code" = 400 ] && jq -r .status e.json | grep -Eq "$3"; then ok "$1"
        else not_ok "$1 (HTTP $code)"; diag <e.json; fi
}
malformed "a payload that is not base64 is refused (400)" '{"payload": "not base64!"}' "payload: "
malformed "an empty payload is refused (400)" '{"payload": ""}' "payload: 0 bytes, not 1-4096"
malformed "a payload of 4097 bytes is refused (400)" "$(body "$(head -c 4097 /dev/zero | tr '\0' k)")" \
        "payload is longer|not 1-4096"
malformed "a body without payload is refused (400)" '{"key": "AAAA"}' "missing payload"

code=$(body "first-attempt-$secret" | escrow e.json "${as_agent[@]}")
expect_equal "the agent escrows its key with its registered certificate (200)" "$code $(jq -c .results e.json)" "200 {}"
code=$(body "$secret" | escrow e.json "${as_agent[@]}")
expect_equal "an escrowed key no boot received yet may be replaced (an interrupted first boot)" "$code" 200
expect_equal "status: the payload is the agent's escrow" "$(status payload_origin) $(status state)" "escrow polling"
polls=$(status polls)
polls_after() { [ "$(status polls)" -ge "$1" ]; }
wait_for polls 15 polls_after $((polls + 3))
expect_equal "the escrowing boot gets no release" \
        "$(status payload_released_at) $(grep -c 'K authenticated' agent.log)" "null 0"

# the next boot: TPM2_Shutdown(CLEAR), TPM_Init, TPM2_Startup(CLEAR)
verifier_stop
tpm2_shutdown -c && swtpm_ioctl --tcp "127.0.0.1:$(( ${VMATTEST_TCTI##*port=} + 1 ))" -i && tpm2_startup -c
verifier_start verifier.conf || exit 1
if wait_for released 20 released && grep -q "K authenticated, payload opened" agent.log; then
        ok "the next boot gets the escrowed key released"
else not_ok "the next boot gets the escrowed key released"; vv status --agent "$agent_id" | diag; tail -5 agent.log | diag; fi
code=$(body "again-$secret" | escrow e.json "${as_agent[@]}")
expect_equal "escrow is write-once once a boot had the key (409)" \
        "$(answer "$code" e.json)" "409 a payload is already enrolled (the escrowed one was released to a boot)"

# the key is kept sealed: not in the database, its journal or any log
verifier_stop
if ! grep -rqF -e "$secret" -e "$(printf %s "$secret" | base64 -w0)" verifier.sqlite* "$TEST_TMP/verifier.log"; then
        ok "the escrowed key appears in no database file and not in the verifier's log"
else not_ok "the escrowed key appears in no database file and not in the verifier's log"; fi
expect_success "vmattest-verifier stopped cleanly each time (exit 0, no sanitizer report)" verifier_clean
