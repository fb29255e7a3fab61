#!/bin/bash
# vmattest escrow and register --enrol-token-stdin on the wire, against a stand-in HTTPS registrar
# (tests/tools/fake-https) that logs what it receives: the request's path and body, the client
# certificate (the agent's registered one), the answers read as the contract says (0 escrowed, 4
# refused, 1 failed, 2 usage), 409 "not attested yet" waited out, and neither secret anywhere
# but in the request.
. "$(dirname "$0")/lib.sh"
plan 29

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=tenant-ca \
        -keyout ca.key -out ca.pem 2>/dev/null
registrar_cert ca.pem ca.key

# fake STATUS BODY: the stand-in answers STATUS and BODY (and /version); agent.conf points at it
fake() {
        [ -n "${FAKE_PID:-}" ] && { kill "$FAKE_PID"; wait "$FAKE_PID"; } 2>/dev/null
        printf '%s' "$2" >fake-body
        FAKE_PORT=$(random_port)
        "$TOOLS_DIR/fake-https" "$FAKE_PORT" registrar.pem registrar.key "$1" fake-body 2>fake.log &
        FAKE_PID=$!
        verifier_pids+=("$FAKE_PID")
        wait_port "$FAKE_PID" "$FAKE_PORT" || { echo "fake-https did not start: $(cat fake.log)" >&2; exit 1; }
        agent_config agent.conf "$FAKE_PORT" "registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/ca.pem
retry_interval = 1
exponential_backoff = false"
}
escrow() { "$VMATTEST" --config agent.conf escrow "$@"; }
posts() { grep -c 'fake-https: POST' fake.log; }

head -c 64 /dev/urandom >disk.key
key_b64=$(base64 -w0 disk.key)

fake 200 '{"code":200,"status":"Success","results":{}}'
expect_success "the key is escrowed (200)" escrow --wait 5 <disk.key
cert=$TEST_TMP/agent-state/server-cert.crt
agent_id=$(openssl x509 -in "$cert" -noout -subject -nameopt multiline | sed -n 's/ *commonName *= *//p')
fingerprint=$(openssl x509 -in "$cert" -outform DER | sha256sum | cut -d' ' -f1)
line=$(grep 'fake-https: POST' fake.log)
expect_equal "... by POST /v2.6/agents/ID/escrow, ID the agent's (the CN of its mTLS certificate)" \
        "$(echo "$line" | cut -d' ' -f3)" "/v2.6/agents/$agent_id/escrow"
expect_equal "... with the agent's persistent mTLS certificate as the client certificate" \
        "$(echo "$line" | cut -d' ' -f5)" "$fingerprint"
expect_equal "... and the body {\"payload\": base64 of the key}" "$(echo "$line" | cut -d' ' -f6-)" \
        "{\"payload\":\"$key_b64\"}"
if ! grep -rqF "$key_b64" out agent-state; then ok "... the key is in no output and no state file"
else not_ok "... the key is in no output and no state file"; fi
expect_equal "... the same certificate as 'register' sends: no new one made" \
        "$(openssl x509 -in "$cert" -outform DER | sha256sum | cut -d' ' -f1)" "$fingerprint"

head -c 4096 /dev/urandom >largest.key
expect_success "a key of 4096 bytes is escrowed" escrow <largest.key
expect_equal "... whole" "$(grep 'fake-https: POST' fake.log | tail -1 | sed 's/.*"payload":"\([^"]*\)".*/\1/' | base64 -d | sha256sum)" \
        "$(sha256sum <largest.key)"

fake 409 '{"code":409,"status":"a payload is already enrolled","results":{}}'
expect_failure "409 a payload is already enrolled: refused (exit 4), the server's words shown" 4 \
        "HTTP 409: a payload is already enrolled" escrow <disk.key
expect_equal "... and not retried" "$(posts)" 1
fake 403 '{"code":403,"status":"the client certificate is not the agent'"'"'s registered mtls_cert","results":{}}'
expect_failure "403: refused (exit 4)" 4 "HTTP 403: the client certificate is not the agent's" escrow <disk.key
fake 404 '{"code":404,"status":"agent not registered","results":{}}'
expect_failure "404: refused (exit 4)" 4 "HTTP 404: agent not registered" escrow <disk.key
fake 400 '{"code":400,"status":"payload: not base64","results":{}}'
expect_failure "400: an error (exit 1), the server's words shown" 1 "HTTP 400: payload: not base64" escrow <disk.key

fake 409 '{"code":409,"status":"not attested yet","results":{}}'
expect_failure "409 not attested yet: waited out for --wait, then an error (exit 1)" 1 \
        "did not attest agent $agent_id within 3 s" escrow --wait 3 <disk.key
if grep -Eq 'escrow: the verifier has not attested this agent yet; retrying \([0-9]+ s of 3 s\)' out; then
        ok "... with a progress line per retry"; else not_ok "... with a progress line per retry"; diag <out; fi
if [ "$(posts)" -ge 2 ]; then ok "... and the request retried"; else not_ok "... and the request retried"; diag <fake.log; fi

closed=$(random_port)
agent_config agent.conf "$closed" "registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/ca.pem
retry_interval = 1
exponential_backoff = false"
expect_failure "an unreachable registrar is retried until --wait, then named (exit 1)" 1 \
        "giving up after [2-9] attempts: .*connection refused" escrow --wait 3 <disk.key

fake 200 '{"code":200,"status":"Success","results":{}}'
head -c 4097 /dev/urandom >over.key
expect_failure "a key of 4097 bytes is refused (exit 2)" 2 "larger than 4096 bytes" escrow <over.key
expect_failure "an empty key is refused (exit 2)" 2 "stdin holds no key" escrow </dev/null
expect_failure "--wait takes seconds" 2 "--wait \"soon\" is not a number" escrow --wait soon <disk.key
sed -i 's/^registrar_tls = true$/registrar_tls = false/' agent.conf
expect_failure "escrow with registrar_tls off is refused (exit 2)" 2 "registrar's TLS port only" escrow <disk.key
expect_equal "... before any request" "$(grep -c 'fake-https:' fake.log)" 0

# the enrolment token: in the registration body, over TLS only, never elsewhere
token="tok-$(openssl rand -hex 20)"
fake 200 '{"code":200,"status":"Success","results":{"blob":"not base64!"}}'
"$VMATTEST" --config agent.conf register --enrol-token-stdin <<<"$token" >register.out 2>&1
expect_equal "register sends the token as vmattest_enrolment_token in the registration body" \
        "$(grep 'fake-https: POST /v2.6/agents/' fake.log | cut -d' ' -f6- | jq -r .vmattest_enrolment_token)" "$token"
if ! grep -rqF "$token" register.out agent-state; then ok "... the token is in no output and no state file"
else not_ok "... the token is in no output and no state file"; fi
fake 200 '{"code":200,"status":"Success","results":{"blob":"not base64!"}}'
"$VMATTEST" --config agent.conf register >register.out 2>&1
expect_equal "a registration without the option sends no token" \
        "$(grep 'fake-https: POST /v2.6/agents/' fake.log | cut -d' ' -f6- | jq -r 'has("vmattest_enrolment_token")')" false
fake 200 '{"code":200,"status":"Success","results":{"blob":"not base64!"}}'
expect_failure "a token of 15 characters is refused, the rule named (exit 2)" 2 "must be 16 to 256 printable ASCII" \
        "$VMATTEST" --config agent.conf register --enrol-token-stdin <<<"0123456789abcde"
expect_equal "... before the registration is sent" "$(grep -c 'fake-https: POST' fake.log)" 0
sed -i 's/^registrar_tls = true$/registrar_tls = false/' agent.conf
expect_failure "a token with registrar_tls off is refused (exit 2)" 2 \
        "an enrolment token goes to the registrar's TLS port only: set registrar_tls" \
        "$VMATTEST" --config agent.conf register --enrol-token-stdin <<<"$token"
expect_equal "... before any request" "$(grep -c 'fake-https:' fake.log)" 0
