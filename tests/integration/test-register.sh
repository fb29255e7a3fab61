#!/bin/bash
# Registration end to end: vmattest register against vmattest-verifier's registrar, on
# loopback, with real swtpms; and the registrar driven by hand (curl + tpm2-tools), as a
# Keylime agent would, for the protocol cases the agent itself never produces, and as a party
# that holds only an agent's public keys would, to take its registration over.
. "$(dirname "$0")/lib.sh"
plan 44

swtpm_start tpm1 || exit 1
cd "$TEST_TMP" || exit 1
umask 022 # what the verifier makes private, it makes so itself
# the tenant reads registrations over TLS with a client certificate (GET /v2.6/agents/ID)
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
tls_port=$(random_port)
verifier_config verifier.conf "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")"
# serve keeps the payload vault key and released keys in OpenSSL's secure heap only: without a
# memory lock limit and CAP_IPC_LOCK it cannot lock it, and refuses to start
expect_failure "serve refuses to start when its secure heap cannot be locked in memory" 1 \
        "serve: OpenSSL's secure heap could not be locked in memory" \
        timeout 10 bash -c 'ulimit -l 0 && exec setpriv --bounding-set -ipc_lock "$0" --config "$1" serve' \
        "$VMATTEST_VERIFIER" verifier.conf
verifier_start verifier.conf || exit 1
agent_config agent.conf "$VERIFIER_PORT"
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
tenant() { # tenant METHOD ID: the registrar's answer to the tenant, on TLS with its client certificate
        curl -s -X "$1" --cacert verifier-ca.pem --cert verifier-client.pem --key verifier-client.key \
                "https://127.0.0.1:$tls_port/v2.6/agents/$2"
}
# what the verifier would poll: the state, address and mTLS certificate of a registration
contact() { tenant GET "$1" | jq -c '.results | [.operational_state, .ip, .port, .mtls_cert]'; }
agent_field() { vv agents --json | jq -r --arg id "$1" ".[] | select(.agent_id == \$id) | $2"; }

expect_success "agent registers and activates" "$VMATTEST" --config agent.conf register --json
sed -n '/^{/,$p' out >reg.json
agent_id=$(jq -r .agent_id reg.json)
"$VMATTEST_VERIFIER" --config verifier.conf agents --json >agents.json
expect_equal "the registrar lists it as active, with the agent's EK hash" \
        "$(jq -r '.[0].state + " " + .[0].ek_hash' agents.json)" "active $agent_id"
expect_equal "the mTLS key is private to the agent" "$(stat -c %a agent-state/server-private.pem)" 600
expect_equal "the database and its -wal and -shm files are private to the verifier (0600)" \
        "$(stat -c '%n %a' verifier.sqlite verifier.sqlite-wal verifier.sqlite-shm | tr '\n' ' ')" \
        "verifier.sqlite 600 verifier.sqlite-wal 600 verifier.sqlite-shm 600 "
expect_success "registering again (next boot) activates again" "$VMATTEST" --config agent.conf register
expect_equal "the mTLS certificate names the agent (CN) and its contact IP (SAN)" \
        "$(openssl x509 -in agent-state/server-cert.crt -noout -subject -ext subjectAltName | tr -d ' \n')" \
        "subject=CN=${agent_id}X509v3SubjectAlternativeName:IPAddress:127.0.0.1"

# the protocol by hand, with tpm2-tools in the agent's place
"$VMATTEST" identity --json 2>/dev/null >id.json
tpm2_nvread 0x01c00002 -C o -o ekcert.der 2>/dev/null
tpm2_createek -G rsa -c ek.ctx >/dev/null && tpm2_flushcontext -t
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=manual \
        -keyout manual.key -out manual.pem 2>/dev/null
register_body() { # register_body ID: the JSON a Keylime agent posts
        jq -n --arg ek "$(jq -r .ek.ek_tpm id.json)" --arg ak "$(jq -r .ak.aik_tpm id.json)" \
                --arg cert "$(base64 -w0 ekcert.der)" --arg mtls "$(cat manual.pem)" \
                '{ek_tpm: $ek, aik_tpm: $ak, ekcert: $cert, mtls_cert: $mtls, ip: "127.0.0.1", port: 9002}'
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
expect_equal "while the challenge is open the database holds no auth_tag that would answer it" \
        "$(grep -lF "$tag" verifier.sqlite* | tr '\n' ' ')" ""
verifier_stop
verifier_start verifier.conf
code=$code,$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a.json "/v2.6/agents/$manual_id/activate")
expect_equal "tpm2-tools activates the registrar's blob, across a registrar restart" "$code" "200,200"
code=$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a2.json "/v2.6/agents/$manual_id/activate")
expect_equal "replaying the old auth_tag fails" "$code" 400
# a wrong tag ends the attempt it answers, and nothing else (Keylime's registrar would delete)
code=$(register_body | post POST r2.json "/v2.6/agents/$manual_id")
code=$code,$(jq -n '{auth_tag: ("0" * 96)}' | post PUT a3.json "/v2.6/agents/$manual_id/activate")
expect_equal "a wrong auth_tag is refused" "$code" "200,400"
code=$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a4.json "/v2.6/agents/$manual_id/activate")
expect_equal "... and deletes nothing: the registration stays active, its open challenge dropped" \
        "$code $(jq -r .status a4.json) $(agent_field "$manual_id" .state)" \
        "400 agent $manual_id has no open challenge: register first active"

# a party with the agent's public keys (EK, EK certificate, AK: what every registration sends)
# registers its own mTLS certificate and address under the agent's id
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=intruder \
        -keyout intruder.key -out intruder.pem 2>/dev/null
active=$(contact "$agent_id")
intrude() { register_body | jq --arg cert "$(cat intruder.pem)" '.mtls_cert = $cert | .ip = "127.0.0.2" | .port = 9999' |
        post POST x.json "/v2.6/agents/$agent_id"; }
expect_equal "the agent's activated registration, as the tenant reads it" \
        "$(jq -r '.[0] + " " + .[1]' <<<"$active") $(jq -r .[3] <<<"$active" | openssl x509 -noout -subject)" \
        "Registered 127.0.0.1 subject=CN = $agent_id"
expect_equal "a registration replaying the agent's public keys gets a challenge it cannot answer" "$(intrude)" 200
expect_equal "... and leaves the activated registration as it was: state, address, mTLS certificate" \
        "$(contact "$agent_id")" "$active"
expect_equal "agents shows the registration active, the attempt pending beside it" \
        "$(agent_field "$agent_id" '.state + " " + .contact + " " + .pending.contact + ":" + (.pending.port | tostring)')" \
        "active 127.0.0.1 127.0.0.2:9999"
code=$(jq -n '{auth_tag: ("0" * 96)}' | post PUT x2.json "/v2.6/agents/$agent_id/activate")
expect_equal "a wrong auth_tag for the attempt deletes nothing: the activated registration stays" \
        "$code $(jq -r .status x2.json | grep -o 'pending registration of [0-9a-f]* is dropped') $(contact "$agent_id")" \
        "400 pending registration of $agent_id is dropped $active"
expect_equal "... only the attempt is dropped" "$(agent_field "$agent_id" '.state + " " + (.pending | tostring)')" \
        "active null"
expect_success "the agent registers and activates again after the attempts" "$VMATTEST" --config agent.conf register

# an id of hash_ek's form belongs to the EK it is the hash of
other_hash=$(printf %064d 0 | tr 0 a)
code=$(register_body | post POST h.json "/v2.6/agents/$other_hash")
expect_equal "an id of hash_ek's form that is not the hash of the EK registering is refused" \
        "$code $(jq -r .status h.json | grep -o 'not the hash of this EK')" "403 not the hash of this EK"

# the tenant enrolls the TPM it knows: add pins the registration's EK hash and AK name
printf '{}\n' >any-pcrs.json
ak_name=$(agent_field "$agent_id" .ak_name)
expect_failure "add --ek-hash with another EK's hash is refused" 1 "registered with EK hash $agent_id, not the --ek-hash" \
        vv add --agent "$agent_id" --policy any-pcrs.json --ek-hash "$other_hash"
expect_failure "add --ak-name with another AK's name is refused" 1 "not the --ak-name given" \
        vv add --agent "$agent_id" --policy any-pcrs.json --ak-name "000b$other_hash"
expect_equal "... and neither enrolled it" "$(vv list --json | jq length)" 0
expect_success "add --ek-hash and --ak-name with the registered TPM's values enrolls" \
        vv add --agent "$agent_id" --policy any-pcrs.json --ek-hash "${agent_id^^}" --ak-name "$ak_name"
expect_equal "the enrolment pins the EK hash and AK name" \
        "$(vv status --agent "$agent_id" --json | jq -r '.[0].ek_hash + " " + .[0].ak_name')" "$agent_id $ak_name"
expect_success "add without them pins the registered ones" vv add --agent "$manual_id" --policy any-pcrs.json

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
# what an agent sends is quoted in the answer and the registrar's log escaped: its ESC or
# newline reaches no terminal and forges no log line
hostile "an ip with control bytes is refused, quoted escaped" 'ip "127[\\]x1b\[2J[\\]x0aforged' \
        '.ip = "127\u001b[2J\nforged"'
expect_equal "... and the registrar's log holds it escaped, one line, no ESC byte" \
        "$(grep -c $'\x1b' "$TEST_TMP/verifier.log") $(grep -cF 'refused: ip "127\x1b[2J\x0aforged" is not' "$TEST_TMP/verifier.log")" \
        "0 1"

# a second TPM may not take over the first agent's id
swtpm_start tpm2 || exit 1
agent_config agent2.conf "$VERIFIER_PORT" "uuid = $agent_id
state_dir = $TEST_TMP/agent2-state"
expect_failure "a second TPM registering the first agent's (hash_ek) id gets 403" 1 "HTTP 403.*not the hash of this EK" \
        "$VMATTEST" --config agent2.conf register
agent_config agent2.conf "$VERIFIER_PORT" "uuid = $manual_id
state_dir = $TEST_TMP/agent2-state"
expect_failure "a second TPM registering another agent's id gets 403" 1 "HTTP 403.*another EK" \
        "$VMATTEST" --config agent2.conf register
# ... nor, once the registration is deleted, the enrolment
expect_equal "the tenant deletes the registration of $manual_id" "$(tenant DELETE "$manual_id" | jq -r .code)" 200
expect_success "the second TPM registers under that id" "$VMATTEST" --config agent2.conf register
enrolment_failed() { vv status --agent "$manual_id" --json | jq -e '.[0].state == "failed"'; }
pinned_ek=$(agent_field "$agent_id" .ek_hash) # the same TPM
failed_for_ek() {
        if wait_for "failed" 10 enrolment_failed &&
           vv status --agent "$manual_id" --json | jq -r '.[0].failure' | grep -q "not with the EK $pinned_ek"; then ok "$1"
        else not_ok "$1"; vv status --agent "$manual_id" | diag; fi
}
failed_for_ek "the verifier, finding the agent unreachable, fails the enrolment: its registration is of another TPM"
vv reactivate --agent "$manual_id" >/dev/null
failed_for_ek "... and again when it is reactivated"

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
