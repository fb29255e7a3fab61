#!/bin/bash
# The agent's registrar client against answers no honest registrar gives (a canned-answer
# server), and against the real registrar over HTTPS with a pinned CA.
. "$(dirname "$0")/lib.sh"
plan 22

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
"$VMATTEST" identity >/dev/null 2>&1

# fake_registrar STATUS BODY: serves BODY with STATUS to every request; sets FAKE_PORT
fake_registrar() {
        [ -n "${FAKE_PID:-}" ] && { kill "$FAKE_PID"; wait "$FAKE_PID"; } 2>/dev/null
        printf '%s' "$2" >fake-body
        FAKE_PORT=$(random_port)
        "$TOOLS_DIR/fake-http" "$FAKE_PORT" "$1" fake-body 2>>fake.log &
        FAKE_PID=$!
        verifier_pids+=("$FAKE_PID")
        wait_port "$FAKE_PID" "$FAKE_PORT" || { echo "fake-http did not start: $(cat fake.log)" >&2; exit 1; }
        agent_config fake.conf "$FAKE_PORT" "max_retries = 1"
}
version='{"code":200,"status":"Success","results":{"current_version":"2.6","supported_versions":["2.0","2.6"]}}'

fake_registrar 200 'this is not json'
expect_failure "a non-JSON answer is a clear error" 1 "no results.supported_versions" "$VMATTEST" --config fake.conf register
fake_registrar 200 '{"code":200,"results":{"supported_versions":["1.0","3.0"]}}'
expect_failure "a registrar without API 2.x is refused" 1 "none of API versions 2.0-2.6" "$VMATTEST" --config fake.conf register
fake_registrar 403 '{"errors":[{"status":403,"title":"Forbidden","detail":"tenant says no"}]}'
expect_failure "a 4xx is final and its body is shown" 1 "HTTP 403.*tenant says no" "$VMATTEST" --config fake.conf register
if [ "$(grep -c 'attempt' out)" = 0 ]; then ok "a 4xx is not retried"; else not_ok "a 4xx is not retried"; diag <out; fi
fake_registrar 503 '{"code":503,"status":"busy"}'
expect_failure "a 5xx is retried, then given up with the reason" 1 "giving up after 2 attempts.*HTTP 503" \
        "$VMATTEST" --config fake.conf register
expect_equal "one progress line per retry" "$(grep -c 'attempt 1 of 2 failed' out)" 1
head -c 1100000 /dev/zero | tr '\0' ' ' >big
fake_registrar 200 "$(cat big)"
expect_failure "an oversized answer is refused" 1 "larger than" "$VMATTEST" --config fake.conf register

# the same canned answer serves /version and the registration: the blob is then what we say
fake_registrar 200 '{"code":200,"status":"Success","results":{"supported_versions":["2.6"],"blob":"not base64!"}}'
expect_failure "a blob that is not base64 is a clear error" 1 "registrar's blob: base64" "$VMATTEST" --config fake.conf register
fake_registrar 200 "{\"code\":200,\"status\":\"Success\",\"results\":{\"supported_versions\":[\"2.6\"],\"blob\":\"$(head -c 300 /dev/urandom | base64 -w0)\"}}"
expect_failure "a blob with the wrong magic is a clear error" 1 "registrar's blob: .*magic" "$VMATTEST" --config fake.conf register

# a well-formed credential for this AK, made by tpm2-tools for another TPM's EK: the TPM refuses it
swtpm_start other-tpm || exit 1
tpm2_createek -G rsa -u other-ek.pub -c other-ek.ctx >/dev/null && tpm2_flushcontext -t
swtpm_start own-tpm || exit 1   # back to a TPM of our own, with an AK
"$VMATTEST" identity >/dev/null 2>&1
ak_name=$(tpm2_readpublic -c 0x81010002 | sed -n 's/^name: //p')
printf 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345' >secret
tpm2_makecredential --tcti none -u other-ek.pub -s secret -n "$ak_name" -o foreign.blob >/dev/null 2>&1
fake_registrar 200 "{\"code\":200,\"status\":\"Success\",\"results\":{\"supported_versions\":[\"2.6\"],\"blob\":\"$(base64 -w0 foreign.blob)\"}}"
expect_failure "a credential made for another EK is refused by the TPM" 1 "TPM refuses the registrar's credential" \
        "$VMATTEST" --config fake.conf register

# the real registrar over HTTPS, its certificate pinned by the agent's CA file
make_ca() { # make_ca NAME: NAME.key, NAME.pem
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
                -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
make_ca tenant-ca
make_ca stranger-ca
registrar_cert tenant-ca.pem tenant-ca.key
tls_port=$(random_port)
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=tenant -keyout tenant.key \
        -out tenant.csr 2>/dev/null
openssl x509 -req -in tenant.csr -CA tenant-ca.pem -CAkey tenant-ca.key -CAcreateserial -days 2 -out tenant.pem 2>/dev/null
verifier_config tls.conf "$(registrar_tls_config "$tls_port" "$TEST_TMP/tenant-ca.pem")"
verifier_start tls.conf
wait_port "$VERIFIER_PID" "$tls_port"
agent_config tls-agent.conf "$tls_port" "registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/tenant-ca.pem"
expect_success "registration over HTTPS with the pinned CA" "$VMATTEST" --config tls-agent.conf register
agent_config tls-agent2.conf "$tls_port" "registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/stranger-ca.pem"
expect_failure "a registrar whose certificate the pinned CA did not issue is refused" 1 \
        "TLS failure" "$VMATTEST" --config tls-agent2.conf register
expect_equal "a TLS failure is not retried" "$(grep -c 'attempt' out)" 0

# reading and deleting registrations: TLS with a tenant client certificate only
list() { curl -s -o list.json -w '%{http_code}' "$@"; }
expect_equal "listing agents over plain HTTP is refused" "$(list "http://127.0.0.1:$VERIFIER_PORT/v2.6/agents/")" 403
expect_equal "listing agents over TLS without a client certificate is refused" \
        "$(list --cacert tenant-ca.pem "https://127.0.0.1:$tls_port/v2.6/agents/")" 403
code=$(list --cacert tenant-ca.pem --cert tenant.pem --key tenant.key "https://127.0.0.1:$tls_port/v2.6/agents/")
expect_equal "the tenant's client certificate lists the registered agent" "$code $(jq -r '.results.uuids | length' list.json)" "200 1"
expect_equal "deleting an agent without a client certificate is refused" \
        "$(list -X DELETE "http://127.0.0.1:$VERIFIER_PORT/v2.6/agents/$(jq -r '.results.uuids[0]' list.json)")" 403

# transport failures: named, and retried only when waiting can mend them
closed=$(random_port)
agent_config closed.conf "$closed" "max_retries = 1"
expect_failure "a registrar that refuses connections is retried, then named" 1 \
        "giving up after 2 attempts: .*cannot connect: connection refused" "$VMATTEST" --config closed.conf register
agent_config closed-tls.conf "$closed" "max_retries = 1
registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/tenant-ca.pem"
expect_failure "an HTTPS registrar that refuses connections is retried too (no TLS failure)" 1 \
        "giving up after 2 attempts: .*cannot connect: connection refused" "$VMATTEST" --config closed-tls.conf register
agent_config noname.conf "$VERIFIER_PORT" "max_retries = 0
registrar_ip = no-such-host.invalid"
expect_failure "a registrar name that does not resolve is named" 1 "cannot resolve host" \
        "$VMATTEST" --config noname.conf register
agent_config plain.conf "$VERIFIER_PORT" "registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/tenant-ca.pem
max_retries = 3"
expect_failure "HTTPS spoken to a plain HTTP port is a TLS failure" 1 "TLS failure" "$VMATTEST" --config plain.conf register
expect_equal "... and not retried" "$(grep -c 'attempt' out)" 0
