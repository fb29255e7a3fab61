#!/bin/bash
# Key release on the agent (docs/protocol.md §3): U and V wrapped to the served payload key,
# K = U xor V authenticated by auth_tag, the payload opened under K, /keys/verify answering only
# then; and no secret in the agent's log.
. "$(dirname "$0")/lib.sh"
plan 12

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
"$VMATTEST" identity >/dev/null 2>&1
port=$(random_port)
agent_config agent.conf 1 "port = $port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes"
"$VMATTEST" --config agent.conf serve --no-register >agent.log 2>&1 &
AGENT_PID=$!
verifier_pids+=("$AGENT_PID")
wait_port "$AGENT_PID" "$port" || exit 1

api() { # api METHOD PATH [BODY-FILE]: prints the HTTP status; the body goes to reply.json
        curl -s -o reply.json -w '%{http_code}' -X "$1" --cacert agent-state/server-cert.crt \
                --cert verifier-client.pem --key verifier-client.key ${3:+--data-binary @$3} \
                "https://127.0.0.1:$port/v2.6/$2"
}
api GET keys/pubkey >/dev/null && jq -r .results.pubkey reply.json >pubkey.pem
api GET agent/info >/dev/null && agent_id=$(jq -r .results.agent_uuid reply.json)
secret="luks-passphrase-$(openssl rand -hex 12)"
printf %s "$secret" >payload.bin
mkdir -p one two
"$TOOLS_DIR/keyrelease-forge" pubkey.pem "$agent_id" payload.bin abc123 one
"$TOOLS_DIR/keyrelease-forge" pubkey.pem "$agent_id" payload.bin abc123 two

expect_equal "/keys/verify says no before any key half" "$(api GET 'keys/verify?challenge=abc123')" 400
expect_equal "U is accepted" "$(api POST keys/ukey one/ukey.json)" 200
expect_equal "/keys/verify still says no with U alone" "$(api GET 'keys/verify?challenge=abc123')" 400
expect_equal "V is accepted and K authenticates" "$(api POST keys/vkey one/vkey.json)" 200
code=$(api GET 'keys/verify?challenge=abc123')
expect_equal "/keys/verify answers HMAC-SHA384(K, challenge)" "$code $(jq -r .results.hmac reply.json)" "200 $(cat one/verify.hmac)"

# halves of two different splits, or a wrong auth_tag: K does not authenticate
api POST keys/ukey two/ukey-bad-tag.json >/dev/null
code=$(api POST keys/vkey two/vkey.json)
expect_equal "a wrong auth_tag is refused" "$code $(jq -r .status reply.json | grep -o 'auth_tag does not match')" \
        "400 auth_tag does not match"
expect_equal "... and K is forgotten" "$(api GET 'keys/verify?challenge=abc123')" 400
api POST keys/ukey one/ukey.json >/dev/null
expect_equal "halves of two different splits do not authenticate" "$(api POST keys/vkey two/vkey.json)" 400

printf '{"encrypted_key":"%s"}' "$(head -c 256 /dev/urandom | base64 -w0)" >garbage.json
expect_equal "a key half not wrapped to the payload key is refused" "$(api POST keys/vkey garbage.json)" 400
printf 'not json' >notjson.json
expect_equal "a body that is not JSON is refused" "$(api POST keys/ukey notjson.json)" 400

kill "$AGENT_PID"; wait "$AGENT_PID"
rc=$?
if [ "$rc" = 0 ] && ! grep -q 'Sanitizer\|runtime error' agent.log; then ok "the agent stops cleanly, secrets freed (exit 0, no sanitizer report)"
else not_ok "the agent stops cleanly (exit $rc)"; grep -A20 Sanitizer agent.log | diag; fi
if grep -q "payload opened" agent.log && ! grep -qF "$secret" agent.log; then ok "the agent logs that the payload was opened, never the payload"
else not_ok "the agent logs that the payload was opened, never the payload"; diag <agent.log; fi
