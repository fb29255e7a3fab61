#!/bin/bash
# Key release in push mode (docs/protocol.md §4.3): a release prepared after a passing evidence
# and not fetched is withdrawn when the agent fails, when its next attestation begins, and
# push_release_ttl_seconds after its evidence; and a release the verifier cannot record (the
# store refuses the write) is not sent. `vmattest serve` in push mode offers its payload key
# but never fetches a release, so each release it earns waits; the test then speaks for the
# agent (a session proved with TPM2_Certify of the same AK, curl) and asks for it. Each time
# the GET answers 404 naming the withdrawal (or 503 for the unrecorded one) and nothing is
# released; a release fetched in time is the control that the route does answer 200.
. "$(dirname "$0")/lib.sh"
plan 9

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
echo '{}' >any-pcrs.json
tls_port=$(random_port)
# quote_interval 3: the deadline (5 intervals) is 15 s after the last evidence; a release waits 4 s
release_verifier_config "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")" \
        "push_release_ttl_seconds = 4"
sed -i 's/^quote_interval = 1$/quote_interval = 3/' verifier.conf
verifier_start verifier.conf || exit 1
wait_port "$VERIFIER_PID" "$tls_port" || { echo "the registrar's TLS port did not open" >&2; exit 1; }
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
agent_config agent.conf "$VERIFIER_PORT" "port = $(random_port)
ima_ml_path = $TEST_TMP/none
mode = push
verifier_url = https://127.0.0.1:$tls_port
verifier_tls_ca_cert = $TEST_TMP/verifier-ca.pem
attestation_interval_seconds = 3"
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }
waiting() { [ "$(grep -c 'a key release waits' verifier.log)" -ge "$1" ]; }

# v3 METHOD PATH [BODY]: the HTTP status; headers.txt, body.json; $token as the Bearer
v3() {
        local auth=()
        [ -n "${token:-}" ] && auth=(-H "Authorization: Bearer $token")
        curl -s --cacert verifier-ca.pem -X "$1" -H 'Content-Type: application/vnd.api+json' "${auth[@]}" \
                -D headers.txt -o body.json -w '%{http_code}\n' ${3:+--data-binary "$3"} \
                "https://127.0.0.1:$tls_port$2"
}
session_body() { printf '{"data": {"type": "session", "attributes": {"agent_id": "%s", %s}}}' "$agent_id" "$1"; }
# authenticate: a token for the agent, proved with TPM2_Certify of its AK (the agent's own sessions end)
authenticate() {
        local id challenge
        token=
        [ "$(v3 POST /v3.0/sessions "$(session_body '"authentication_supported": [{"authentication_class": "pop", "authentication_type": "tpm_pop"}]')")" = 200 ] || return 1
        id=$(jq -r .data.id body.json)
        challenge=$(jq -r '.data.attributes.authentication_requested[0].chosen_parameters.challenge' body.json)
        "$TOOLS_DIR/ak-certify" 0x81010002 "$(printf %s "$challenge" | base64 -d | xxd -p -c 64)" \
                certify.msg certify.sig || return 1
        [ "$(v3 PATCH "/v3.0/sessions/$id" "$(session_body "\"authentication_provided\": [{\"authentication_class\": \"pop\", \"authentication_type\": \"tpm_pop\", \"data\": {\"message\": \"$(base64 -w0 certify.msg)\", \"signature\": \"$(base64 -w0 certify.sig)\"}}]")")" = 200 ] || return 1
        token=$(jq -r .data.attributes.token body.json)
        [ -n "$token" ] && [ "$token" != null ]
}
release_get() { v3 GET "/v3.0/agents/$agent_id/vmattest/release"; }

# earn N: serve in push mode until the verifier's Nth "a key release waits", then stop it (it
# never fetches); 1 when no release came
agent=
earn() {
        "$VMATTEST" --config agent.conf serve >>agent.log 2>&1 &
        agent=$!
        verifier_pids+=("$agent")
        wait_for "release $1" 40 waiting "$1"
        local earned=$?
        kill "$agent" 2>/dev/null; wait "$agent" 2>/dev/null
        return $earned
}
# nothing_released WHY: the GET answered 404 naming WHY, and no release is recorded
nothing_released() {
        [ "$code" = 404 ] && jq -r '.errors[0].detail' body.json | grep -q "$1" &&
                [ "$(status payload_released_at)" = null ]
}

"$VMATTEST" --config agent.conf register >register.log 2>&1 || { diag <register.log; exit 1; }
vv add --agent "$agent_id" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline --push >add.log 2>&1 ||
        { diag <add.log; exit 1; }

# 1. its next attestation begins: a POST of capabilities withdraws the waiting release
code=
if earn 1 && authenticate; then
        v3 POST "/v3.0/agents/$agent_id/attestations" '{"data": {"type": "attestation", "attributes": {}}}' >/dev/null
        code=$(release_get)
fi
if nothing_released "a new attestation began"; then
        ok "a release not fetched before the next attestation begins is withdrawn (GET 404, nothing released)"
else not_ok "a release not fetched before the next attestation is withdrawn (GET $code)"; diag <body.json
        tail -n 5 verifier.log | diag; fi

# 2. push_release_ttl_seconds (4) after its evidence
code=
if earn 2; then
        sleep 5
        authenticate && code=$(release_get)
fi
if nothing_released "not fetched in time"; then
        ok "a release not fetched within push_release_ttl_seconds of its evidence is withdrawn (GET 404)"
else not_ok "a release not fetched within push_release_ttl_seconds is withdrawn (GET $code)"; diag <body.json; fi

# 3. the store refuses to record the release: an error, and the release is not sent. Another
# writer holds the database's write lock (the verifier waits its busy timeout of 5 s, then fails)
code=
: >unrecorded.json
if earn 3 && authenticate; then
        (echo 'BEGIN EXCLUSIVE;'; sleep 8; echo 'COMMIT;') | sqlite3 verifier.sqlite &
        locker=$!
        sleep 1
        code=$(release_get)
        cp body.json unrecorded.json
        wait "$locker"
fi
if [ "$code" = 503 ] && jq -r '.errors[0].detail' unrecorded.json | grep -q "could not record the key release" &&
        ! jq -e '.data.attributes.ukey' unrecorded.json >/dev/null 2>&1; then
        ok "a release the store cannot record is not sent (503, no ukey in the answer)"
else not_ok "a release the store cannot record is not sent (GET $code)"; diag <unrecorded.json; fi
code=$(release_get)
if nothing_released "could not record"; then
        ok "once unrecorded, the release is withdrawn: the GET after answers 404 and nothing is recorded"
else not_ok "an unrecorded release is withdrawn (GET $code, released at $(status payload_released_at))"; diag <body.json; fi
if grep -q "the key release cannot be recorded" verifier.log; then ok "the verifier logs the release it could not record"
else not_ok "the verifier logs the release it could not record"; fi

# 4. the agent fails (its deadline: no evidence for 5 quote intervals)
code=
if earn 4; then
        wait_for "the deadline" 30 test "$(status state)" = failed
        authenticate && code=$(release_get)
fi
if [ "$(status state)" = failed ] && nothing_released "the agent failed"; then
        ok "a release not fetched when the agent fails is withdrawn (GET 404, nothing released)"
else not_ok "a release not fetched when the agent fails is withdrawn (state $(status state), GET $code)"
        diag <body.json; fi
expect_equal "each withdrawal is logged (next attestation, time, store, failure)" \
        "$(grep -c "the waiting key release is withdrawn" verifier.log)" 4

# the control: a release fetched in time is handed over (the route answers, the boot recorded)
vv reactivate --agent "$agent_id" >/dev/null
code=
if earn 5 && authenticate; then code=$(release_get); fi
if [ "$code" = 200 ] && jq -e '.data.attributes.ukey' body.json >/dev/null && [ "$(status payload_released_at)" -gt 0 ]; then
        ok "the control: a release fetched within its time is handed over once, and recorded"
else not_ok "the control: a release fetched within its time is handed over (GET $code)"; diag <body.json; fi
expect_equal "the disk key is in no log" "$(grep -lF "$(cat disk.key)" ./*.log 2>/dev/null)" ""
