#!/bin/bash
# Enrolment groups (vmattest extension, docs/protocol.md): the tenant makes a group with its
# policies and a token; an agent that registers with the token at the registrar's TLS port is
# enrolled when it activates, without an add. The registration is driven by hand (curl +
# tpm2-tools on a real swtpm, with the keys a real `vmattest register` made), as the agent's
# --enrol-token-stdin would send it. Hostile cases: the token over plain HTTP, unknown, expired
# and used-up tokens, two registrations racing for a single-use token; the token reaches no
# log and no database file; a self-signed client certificate, now let through the handshake,
# still reads, lists and deletes nothing.
. "$(dirname "$0")/lib.sh"
plan 26

swtpm_start tpm1 || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
tls_port=$(random_port)
verifier_config verifier.conf "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")"
verifier_start verifier.conf || exit 1
agent_config agent.conf "$VERIFIER_PORT"
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
expect_success "the agent registers (its EK, AK and state made)" "$VMATTEST" --config agent.conf register --json
agent_id=$(sed -n '/^{/,$p' "$TEST_TMP/out" | jq -r .agent_id)

printf '{"9": ["%064d"]}\n' 0 >pcr9.json
expect_failure "group add refuses a token file open to others" 1 "open to group or others" \
        bash -c 'printf "%s\n" "$(openssl rand -hex 20)" >open.token && chmod 644 open.token &&
                 "$0" --config verifier.conf group add web --tpm-policy-file pcr9.json --token-file open.token' "$VMATTEST_VERIFIER"
expect_failure "group add refuses policies that leave PCR 9 free (escrowed keys are released under them)" 2 \
        "needs --allow-unpinned-cmdline" vv group add web --tpm-policy '{}' --token-file web.token
expect_failure "group add checks the tpm_policy as add does" 2 "--tpm-policy: " \
        vv group add web --tpm-policy '{"9": ["zz"]}' --token-file web.token
expect_success "group add makes the group and a new single-use token" \
        vv group add web --tpm-policy-file pcr9.json --token-file web.token
token=$(cat web.token)
expect_equal "the token: 43 base64url characters, in a file only the owner reads" \
        "$(printf %s "$token" | grep -cE '^[A-Za-z0-9_-]{43}$') $(stat -c %a web.token)" "1 600"
expect_equal "group list shows the token by its hash's start, never the token" \
        "$(vv group list | grep -c "token $(printf %s "$token" | sha256sum | cut -c1-12)") $(vv group list --json | grep -c -- "$token")" "1 0"

# the protocol by hand, with tpm2-tools in the agent's place (as test-register does)
"$VMATTEST" identity --json 2>/dev/null >id.json
tpm2_nvread 0x01c00002 -C o -o ekcert.der 2>/dev/null
tpm2_createek -G rsa -c ek.ctx >/dev/null && tpm2_flushcontext -t
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=manual \
        -keyout manual.key -out manual.pem 2>/dev/null
register_body() { # register_body TOKEN
        jq -n --arg ek "$(jq -r .ek.ek_tpm id.json)" --arg ak "$(jq -r .ak.aik_tpm id.json)" \
                --arg cert "$(base64 -w0 ekcert.der)" --arg mtls "$(cat manual.pem)" --arg token "$1" \
                '{ek_tpm: $ek, aik_tpm: $ak, ekcert: $cert, mtls_cert: $mtls, ip: "127.0.0.1", port: 9002,
                  vmattest_enrolment_token: $token}'
}
post() { # post METHOD OUT PATH (plain HTTP)
        curl -s -o "$2" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' --data-binary @- \
                "http://127.0.0.1:$VERIFIER_PORT$3"
}
post_tls() { # post_tls METHOD OUT PATH: at the TLS port, no client certificate (as an agent)
        curl -s -o "$2" -w '%{http_code}' -X "$1" --cacert verifier-ca.pem -H 'Content-Type: application/json' \
                --data-binary @- "https://127.0.0.1:$tls_port$3"
}
activation_tag() { # activation_tag BLOB-B64 ID
        base64 -d <<<"$1" >blob.bin
        tpm2_startauthsession --policy-session -S s.ctx >/dev/null
        tpm2_policysecret -S s.ctx -c e >/dev/null
        tpm2_activatecredential -c 0x81010002 -C ek.ctx -i blob.bin -o credential.bin -P "session:s.ctx" >/dev/null
        tpm2_flushcontext s.ctx >/dev/null 2>&1; tpm2_flushcontext -t
        printf %s "$2" | openssl dgst -sha384 -hmac "$(base64 -w0 credential.bin)" -r | cut -d' ' -f1
}
status_of() { jq -r .status "$1"; }

code=$(register_body "$token" | post POST r.json /v2.6/agents/plain-agent)
expect_equal "the token over plain HTTP is refused (400), pointing at the TLS port" "$code $(status_of r.json)" \
        "400 vmattest_enrolment_token refused over plain HTTP: register at the registrar's TLS port"
code=$(register_body "not-a-token-of-any-group" | post_tls POST r.json /v2.6/agents/unknown-agent)
expect_equal "an unknown token is refused (403)" "$code $(status_of r.json)" "403 enrolment token unknown"
code=$(register_body "short" | post_tls POST r.json /v2.6/agents/unknown-agent)
expect_equal "a token of the wrong form is refused (400)" "$code $(status_of r.json | grep -o 'not 16-256 printable')" \
        "400 not 16-256 printable"
vv group token web --token-file soon.token --expires 1s >/dev/null
sleep 2
code=$(register_body "$(cat soon.token)" | post_tls POST r.json /v2.6/agents/late-agent)
expect_equal "an expired token is refused (403)" "$code $(status_of r.json)" "403 enrolment token expired"

code=$(register_body "$token" | post_tls POST r.json /v2.6/agents/group-agent-1)
tag=$(activation_tag "$(jq -r .results.blob r.json)" group-agent-1)
expect_equal "a registration with the group's token at the TLS port is answered with a challenge" "$code" 200
expect_equal "... not enrolled before it activates" "$(vv list --json | jq length)" 0
code=$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a.json /v2.6/agents/group-agent-1/activate)
expect_equal "its activation enrols it in the group, with the group's policy and the TPM pinned" \
        "$code $(vv status --agent group-agent-1 --json | jq -r '.[0] | .state + " " + .group + " " + .ek_hash')" \
        "200 polling web $agent_id"
code=$(register_body "$token" | post_tls POST r.json /v2.6/agents/group-agent-2)
expect_equal "the single-use token is used up" "$code $(status_of r.json)" "403 enrolment token used up"

# an enrolled agent registering again keeps its enrolment; the token is not consumed
vv group token web --token-file two.token --uses 2 >/dev/null
uses() { vv group list --json | jq -r --arg p "$(tr -d "\n" <"$1" | sha256sum | cut -c1-12)" \
        '.[0].tokens[] | select(.sha256_prefix == $p) | .uses_left'; }
two=$(tr -d '\n' <two.token)
code=$(register_body "$two" | post_tls POST r.json /v2.6/agents/group-agent-1)
tag=$(activation_tag "$(jq -r .results.blob r.json)" group-agent-1)
code=$code,$(jq -n --arg t "$tag" '{auth_tag: $t}' | post PUT a.json /v2.6/agents/group-agent-1/activate)
expect_equal "an enrolled agent registering with a token again keeps its enrolment, the token not consumed" \
        "$code $(uses two.token)" "200,200 2"

# two registrations racing for a single-use token's last use: exactly one is enrolled
vv group token web --token-file race.token >/dev/null
race=$(tr -d '\n' <race.token)
for id in race-1 race-2; do
        register_body "$race" | post_tls POST "r-$id.json" "/v2.6/agents/$id" >/dev/null
        activation_tag "$(jq -r .results.blob "r-$id.json")" "$id" >"tag-$id"
done
racers=()
for id in race-1 race-2; do
        jq -n --arg t "$(cat "tag-$id")" '{auth_tag: $t}' | post PUT "a-$id.json" "/v2.6/agents/$id/activate" >"code-$id" &
        racers+=("$!")
done
wait "${racers[@]}"
codes=$(printf '%s\n' "$(cat code-race-1)" "$(cat code-race-2)" | sort | tr '\n' ' ')
enrolled=$(vv list --json | jq '[.[] | select(.agent_id | startswith("race-"))] | length')
expect_equal "two activations racing for a single-use token: one enrolled (200), one refused (403)" \
        "$codes$enrolled" "200 403 1"
loser=$(grep -l 403 code-race-1 code-race-2 | sed 's/code-//')
expect_equal "... the loser told the token is used up, and not activated" \
        "$(jq -r .status "a-$loser.json" | grep -o 'enrolment token used up') $(vv agents --json | jq -r --arg id "$loser" '.[] | select(.agent_id == $id) | .state')" \
        "enrolment token used up inactive"

# revoking and deleting
expect_success "group revoke by token file" vv group revoke web --token-file two.token
code=$(register_body "$two" | post_tls POST r.json /v2.6/agents/group-agent-3)
expect_equal "a revoked token is unknown" "$code $(status_of r.json)" "403 enrolment token unknown"
expect_success "group delete removes the group and its tokens" vv group delete web
expect_equal "... the agents it enrolled stay enrolled, its tokens are gone" \
        "$(vv status --agent group-agent-1 --json | jq -r '.[0].state') $(vv group list --json | jq length)" "polling 0"

# the token is a secret: not in the registrar's log, nor in the database (its hash only)
verifier_stop
if ! grep -rqF -e "$token" -e "$two" -e "$race" verifier.sqlite* "$TEST_TMP/verifier.log"; then
        ok "no token appears in the database or the registrar's log"
else not_ok "no token appears in the database or the registrar's log"; fi
verifier_start verifier.conf

# the TLS port lets a self-signed client certificate through the handshake (escrow needs it):
# reading, listing and deleting registrations still need one from trusted_client_ca
tenant_as() { # tenant_as CERT KEY METHOD PATH
        curl -s -o t.json -w '%{http_code}' -X "$3" --cacert verifier-ca.pem --cert "$1" --key "$2" \
                "https://127.0.0.1:$tls_port/v2.6/agents$4"
}
expect_equal "a self-signed client certificate gets 403 on listing, reading and deleting agents" \
        "$(tenant_as manual.pem manual.key GET "") $(tenant_as manual.pem manual.key GET "/$agent_id") $(tenant_as manual.pem manual.key DELETE "/$agent_id")" \
        "403 403 403"
expect_equal "... and a client certificate from trusted_client_ca lists them" \
        "$(tenant_as verifier-client.pem verifier-client.key GET "")" 200
expect_success "vmattest-verifier stopped cleanly each time (exit 0, no sanitizer report)" verifier_clean
