#!/bin/bash
# Registration end to end: vmattest register against vmattest-verifier's registrar, on
# loopback, with real swtpms; and the registrar driven by hand (curl + tpm2-tools), as a
# Keylime agent would, for the protocol cases the agent itself never produces.
. "$(dirname "$0")/lib.sh"
plan 20

swtpm_start tpm1 || exit 1
cd "$TEST_TMP" || exit 1
verifier_config verifier.conf
verifier_start verifier.conf || exit 1
agent_config agent.conf "$VERIFIER_PORT"

expect_success "agent registers and activates" "$VMATTEST" --config agent.conf register --json
sed -n '/^{/,$p' out >reg.json
agent_id=$(jq -r .agent_id reg.json)
"$VMATTEST_VERIFIER" --config verifier.conf agents --json >agents.json
expect_equal "the registrar lists it as active, with the agent's EK hash" \
        "$(jq -r '.[0].state + " " + .[0].ek_hash' agents.json)" "active $agent_id"
expect_equal "the mTLS key is private to the agent" "$(stat -c %a agent-state/server-private.pem)" 600
expect_success "registering again (next boot) activates again" "$VMATTEST" --config agent.conf register
expect_equal "the mTLS certificate names the agent (CN) and its contact IP (SAN)" \
        "$(openssl x509 -in agent-state/server-cert.crt -noout -subject -ext subjectAltName | tr -d ' \n')" \
        "subject=CN=${agent_id}X509v3SubjectAlternativeName:IPAddress:127.0.0.1"

# the protocol by hand, with tpm2-tools in the agent's place
"$VMATTEST" identity --json 2>/dev/null >id.json
tpm2_nvread 0x01c00002 -C o -o ekcert.der 2>/dev/null
tpm2_createek -G rsa -c ek.ctx >/dev/null && tpm2_flushcontext -t
register_body() { # register_body ID: the JSON a Keylime agent posts
        jq -n --arg ek "$(jq -r .ek.ek_tpm id.json)" --arg ak "$(jq -r .ak.aik_tpm id.json)" \
                --arg cert "$(base64 -w0 ekcert.der)" \
                '{ek_tpm: $ek, aik_tpm: $ak, ekcert: $cert, mtls_cert: null, ip: "127.0.0.1", port: 9002}'
}
post() { curl -s -o "$2" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' --data-binary @- \
        "http://127.0.0.1:$VERIFIER_PORT$3"; }
# activation_tag BLOB-B64 ID: runs TPM2_ActivateCredential with tpm2-tools and prints the tag
activation_tag() {
        base64 -d <<<"$1" >blob.bin
        tpm2_startauthsession --policy-session -S s.ctx >/dev/null
        tpm2_policysecret -S s.ctx -c e >/dev/null
        tpm2_activatecredential -c 0x81010002 -C ek.ctx -i blob.bin -o credential.bin -P "session:s.ctx" >/dev/null
        tpm2_flushcontext s.ctx >/dev/null 2>&1; tpm2_flushcontext -t
        printf %s "$2" | openssl dgst -sha384 -hmac "$(base64 -w0 credential.bin)" -r | cut -d' ' -f1
}
manual_id=manual-agent-1
code=$(register_body | post POST r.json "/v2.6/agents/$manual_id")
tag=$(activation_tag "$(jq -r .results.blob r.json)" "$manual_id")
verifier_stop
verifier_start verifier.conf
code=$code,$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a.json "/v2.6/agents/$manual_id/activate")
expect_equal "tpm2-tools activates the registrar's blob, across a registrar restart" "$code" "200,200"
code=$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a2.json "/v2.6/agents/$manual_id/activate")
expect_equal "replaying the old auth_tag fails" "$code" 400
# a wrong tag against an open challenge ends the registration, as Keylime's registrar does
code=$(register_body | post POST r2.json "/v2.6/agents/$manual_id")
code=$code,$(jq -n '{auth_tag: ("0" * 96)}' | post PUT a3.json "/v2.6/agents/$manual_id/activate")
expect_equal "a wrong auth_tag is refused" "$code" "200,400"
code=$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a4.json "/v2.6/agents/$manual_id/activate")
expect_equal "... and deleted the registration" "$code $(jq -r .status a4.json)" "404 agent $manual_id is not registered"

# hostile registration bodies: each a 400 naming the problem
hostile() { # hostile DESC PATTERN JQ-FILTER
        local body code
        body=$(register_body | jq -c "$3")
        code=$(printf %s "$body" | post POST h.json "/v2.6/agents/hostile")
        if [ "$code" = 400 ] && jq -r .status h.json | grep -Eq "$2"; then ok "$1"
        else not_ok "$1 (HTTP $code)"; diag <h.json; fi
}
hostile "missing ek_tpm is refused" "missing ek_tpm" 'del(.ek_tpm)'
hostile "ek_tpm of the wrong type is refused" "ek_tpm is not a string" '.ek_tpm = 42'
hostile "a 1 MiB aik_tpm is refused" "aik_tpm is longer" ".aik_tpm = (\"A\" * 1048576)"
hostile "a TPM2B_PUBLIC with a lying size is refused" "TPM2B_PUBLIC" \
        '.ek_tpm = ("AQA" + .ek_tpm[3:])'
hostile "an EK certificate for another key is refused" "another key" ".ekcert = \"$(openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -subj /CN=x -outform der 2>/dev/null | base64 -w0)\""

# a second TPM may not take over the first agent's id
swtpm_start tpm2 || exit 1
agent_config agent2.conf "$VERIFIER_PORT" "uuid = $agent_id
state_dir = $TEST_TMP/agent2-state"
expect_failure "a second TPM registering the first agent's id gets 403" 1 "HTTP 403.*another EK" \
        "$VMATTEST" --config agent2.conf register

# an EK without certificate: refused unless the tenant allow-listed its hash
tpm2_nvundefine -C p 0x01c00002 >/dev/null
agent_config agent3.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/agent3-state"
expect_failure "an EK without certificate is refused" 1 "HTTP 403.*ek_allowlist" "$VMATTEST" --config agent3.conf register
ek2_hash=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
verifier_stop
verifier_config verifier2.conf "ek_allowlist = 0000, $ek2_hash"
verifier_start verifier2.conf
agent_config agent3.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/agent3-state"
expect_success "an allow-listed EK without certificate registers" "$VMATTEST" --config agent3.conf register

# an EK certificate from a CA the tenant does not trust
verifier_stop
mkdir -p other-ca
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca/ca.pem -subj /CN=other-ca 2>/dev/null
verifier_config verifier3.conf "tpm_cert_store = $TEST_TMP/other-ca" # the later line wins
verifier_start verifier3.conf
swtpm_start tpm3 || exit 1
agent_config agent4.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/agent4-state"
expect_failure "an EK certificate from another CA is refused" 1 "HTTP 403.*does not chain" \
        "$VMATTEST" --config agent4.conf register

# ECC EK (swtpm: P-384, high-range template)
verifier_stop
verifier_start verifier.conf
agent_config agent5.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/agent5-state
tpm_encryption_alg = ecc"
expect_success "an agent with an ECC EK registers and activates" "$VMATTEST" --config agent5.conf register
expect_success "vmattest-verifier stopped cleanly each time (exit 0, no sanitizer report)" verifier_clean
