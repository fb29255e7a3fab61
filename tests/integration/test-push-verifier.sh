#!/bin/bash
# Keylime's push model (API v3) against vmattest-verifier on loopback over its real TLS: a client
# made of curl, jq, tpm2_certify and the agent's `vmattest quote` on a swtpm speaks the v3 flow as
# Keylime 7.14.3's verifier defines it (docs/protocol.md §4.2): a session proved with TPM2_Certify,
# capabilities -> challenge, evidence -> 202, judged by the same checks as a poll; the session
# token leaves no copy in the verifier's memory.
. "$(dirname "$0")/lib.sh"
# a core of an ASan build is not taken (its shadow memory makes one of tens of GB): that build
# runs one check less, the release build's run makes it
asan=0; grep -q -a __asan_init "$VMATTEST_VERIFIER" && asan=1
plan $((20 - asan))

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
# the kernel's IMA list: boot_aggregate over PCRs 0-9, then one program
ima_add boot_aggregate "$(boot_aggregate)"
ima_add /usr/bin/good "$(sha good)"
runtime_policy runtime-policy.json '[]' /usr/bin/good=good /usr/bin/also=also
printf '{"15": ["%064d"]}\n' 0 >tpm-policy.json

tls_port=$(random_port)
webhook_port=$(random_port)
printf '{}' >webhook-body
"$TOOLS_DIR/fake-http" "$webhook_port" 200 webhook-body 2>webhook.log &
verifier_pids+=("$!") # stopped at exit with the verifier (lib.sh's cleanup)
verifier_config verifier.conf "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")
$(verifier_poll_config "webhook_url = http://127.0.0.1:$webhook_port/vmattest")"
sed -i 's/^quote_interval = 1$/quote_interval = 2/' verifier.conf
verifier_start verifier.conf || exit 1
wait_port "$VERIFIER_PID" "$tls_port" || { echo "no TLS port" >&2; exit 1; }
agent_config agent.conf "$VERIFIER_PORT"
"$VMATTEST" --config agent.conf register >register.log 2>&1 || { cat register.log >&2; exit 1; }
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
agent_id=$(vv agents --json | jq -r '.[0].agent_id')
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }
failed() { [ "$(status state)" = failed ]; }

# v3 METHOD PATH [BODY]: the HTTP status on the first line, the headers in headers.txt, the body
# in body.json; the agent's token (when one was proved) as its Bearer
v3() {
        local auth=()
        [ -n "${token:-}" ] && auth=(-H "Authorization: Bearer $token")
        curl -s --cacert verifier-ca.pem -X "$1" -H 'Content-Type: application/vnd.api+json' "${auth[@]}" \
                -D headers.txt -o body.json -w '%{http_code}\n' ${3:+--data-binary "$3"} \
                "https://127.0.0.1:$tls_port$2"
}
session_body() { printf '{"data": {"type": "session", "attributes": {"agent_id": "%s", %s}}}' "$agent_id" "$1"; }

authenticate() {
        local id challenge
        token=
        [ "$(v3 POST /v3.0/sessions "$(session_body '"authentication_supported": [{"authentication_class": "pop", "authentication_type": "tpm_pop"}]')")" = 200 ] || return 1
        id=$(jq -r .data.id body.json)
        challenge=$(jq -r '.data.attributes.authentication_requested[0].chosen_parameters.challenge' body.json)
        # tpm2_certify 5.4 takes no qualifying data: the tests' ak-certify makes the same TPM2_Certify
        "$TOOLS_DIR/ak-certify" 0x81010002 "$(printf %s "$challenge" | base64 -d | xxd -p -c 64)" \
                certify.msg certify.sig || return 1
        [ "$(v3 PATCH "/v3.0/sessions/$id" "$(session_body "\"authentication_provided\": [{\"authentication_class\": \"pop\", \"authentication_type\": \"tpm_pop\", \"data\": {\"message\": \"$(base64 -w0 certify.msg)\", \"signature\": \"$(base64 -w0 certify.sig)\"}}]")")" = 200 ] || return 1
        token=$(jq -r .data.attributes.token body.json)
        [ -n "$token" ] && [ "$token" != null ]
}

capabilities() {
        cat <<JSON
{"data": {"type": "attestation", "attributes": {"evidence_supported": [
  {"evidence_class": "certification", "evidence_type": "tpm_quote",
   "capabilities": {"component_version": "2.0", "hash_algorithms": ["sha256"], "signature_schemes": ["rsassa"],
     "available_subjects": {"sha256": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]},
     "certification_keys": [{"key_class": "asymmetric", "key_algorithm": "rsa", "key_size": 2048,
                             "server_identifier": "ak"}]}},
  {"evidence_class": "log", "evidence_type": "ima_log",
   "capabilities": {"entry_count": $(wc -l <ima.log), "supports_partial_access": true, "appendable": true,
                    "formats": ["text/plain"]}}],
 "system_info": {"boot_time": "2025-04-02T12:12:51Z"}}}}
JSON
}

# start_attestation: POST capabilities; CHALLENGE, PCRS and OFFSET from the 201
CHALLENGE= PCRS= OFFSET=0
start_attestation() {
        [ "$(v3 POST "/v3.0/agents/$agent_id/attestations" "$(capabilities)")" = 201 ] || return 1
        CHALLENGE=$(jq -r '.data.attributes.evidence_requested[0].chosen_parameters.challenge' body.json)
        PCRS=$(jq -r '.data.attributes.evidence_requested[0].chosen_parameters.selected_subjects.sha256 | join(",")' body.json)
        OFFSET=$(jq -r '.data.attributes.evidence_requested[1].chosen_parameters.starting_offset' body.json)
}

# quote_over NONCE: the agent's own quote (Keylime's quote string) into quote.txt
quote_over() { "$VMATTEST" --config agent.conf quote --nonce "$1" --pcrs "$PCRS" >quote.txt 2>quote.err; }

# submit: PATCH the evidence (quote.txt, the IMA list from OFFSET); prints the status
submit() {
        local q msg sig pcrs
        q=$(head -n 1 quote.txt)
        IFS=: read -r msg sig pcrs <<<"${q#r}"
        jq -n --arg msg "$msg" --arg sig "$sig" --arg pcrs "$pcrs" --arg ima "$(tail -n +$((OFFSET + 1)) ima.log)
" '{data: {type: "attestation", attributes: {evidence_collected: [
            {evidence_class: "certification", evidence_type: "tpm_quote",
             data: {message: $msg, signature: $sig, subject_data: $pcrs}},
            {evidence_class: "log", evidence_type: "ima_log", data: {entries: $ima}}]}}}' >evidence.json
        v3 PATCH "/v3.0/agents/$agent_id/attestations/latest" "$(cat evidence.json)"
}

one_round() { start_attestation && quote_over "$CHALLENGE" && [ "$(submit)" = 202 ]; }
passes() { [ "$(status state)" = polling ] && [ "$(status ima_entries_verified)" -ge "$1" ]; }

expect_success "the tenant enrolls the agent in push mode" \
        vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy runtime-policy.json --push
if authenticate; then ok "a session proved with TPM2_Certify of the AK gives a token"
else not_ok "a session proved with TPM2_Certify of the AK gives a token"; diag <body.json; fi

if one_round && wait_for "pass" 10 passes 2; then ok "the first attestation is accepted: 201 challenge, 202 evidence, verified"
else not_ok "the first attestation is accepted"; diag <body.json; tail -n 5 verifier.log | diag; fi

# the token the session answer gave and two requests carried is nowhere in the verifier's memory
# (it keeps the SHA-256 only): the answer's document, the request headers and libevent's buffers
# are wiped before they are freed. A core of the running verifier (gcore) is searched for it.
if [ "$asan" = 1 ]; then :
elif ! command -v gcore >/dev/null; then not_ok "no gcore (gdb; make deps installs it): the token in the verifier's memory"
elif ! gcore -o "$TEST_TMP/verifier-core" "$VERIFIER_PID" >/dev/null 2>&1; then
        rm -f "$TEST_TMP"/verifier-core.*
        ok "# SKIP gcore cannot attach to the verifier: the token in its memory"
else
        expect_equal "the session token is nowhere in the verifier's memory after it was given and used" \
                "$(cat "$TEST_TMP"/verifier-core.* | grep -c -a -F "${token#*.}")" 0
        rm -f "$TEST_TMP"/verifier-core.*
fi

# a flood: a new attestation before quote_interval has passed since the last evidence
code=$(v3 POST "/v3.0/agents/$agent_id/attestations" "$(capabilities)")
if [ "$code" = 429 ] && grep -qi '^Retry-After: [1-9]' headers.txt; then ok "an attestation too soon gets 429 with Retry-After"
else not_ok "an attestation too soon gets 429 with Retry-After (got $code)"; diag <headers.txt; fi

sleep 2
ima_add /usr/bin/also "$(sha also)"
if one_round && wait_for "pass" 10 passes 3 && [ "$OFFSET" = 2 ]; then
        ok "the next attestation asks for the IMA list from where the last stopped (entry 2) and passes"
else not_ok "the next attestation asks for the IMA list from entry 2 and passes (offset $OFFSET)"; diag <body.json; fi

# capabilities refused (400: no ima_log) while an attestation awaits its evidence change nothing
# of what it asked for: its evidence still matches and passes
sleep 2
ima_add /usr/bin/good "$(sha good)"
refused_code=
if start_attestation && quote_over "$CHALLENGE"; then
        refused_code=$(v3 POST "/v3.0/agents/$agent_id/attestations" "$(capabilities | jq -c \
                'del(.data.attributes.evidence_supported[1])')")
        code=$(submit)
fi
if [ "$refused_code/$code" = 400/202 ] && wait_for "pass" 10 passes 4 &&
        [ "$(status ima_entries_verified)" -ge 4 ]; then
        ok "refused capabilities leave the attestation awaiting evidence as it was asked"
else not_ok "refused capabilities leave the attestation awaiting evidence as it was asked ($refused_code/$code)"
        diag <body.json; status failure | diag; fi

code=$(v3 GET "/v3.0/agents/$agent_id/attestations/latest")
expect_equal "an agent's token does not read attestations (the tenant's, with a client certificate)" "$code" 403
code=$(curl -s --cacert verifier-ca.pem --cert verifier-client.pem --key verifier-client.key -o latest.json \
        -w '%{http_code}' "https://127.0.0.1:$tls_port/v3.0/agents/$agent_id/attestations/latest")
expect_equal "the tenant reads the latest attestation: passed" "$code/$(jq -r .data.attributes.evaluation latest.json)" \
        "200/pass"

code=$(v3 POST "/v3.0/agents/other-agent/attestations" "$(capabilities)")
expect_equal "a request for another agent's id is refused (403)" "$code" 403

# a long IMA list (300 000 entries, some 45 MB: more than the 2 MiB of other requests) is judged
# off the registrar's event loop: a registration made while it is judged is answered before the
# verdict. PCR 10 gets one more entry that the list does not carry: the list never replays to the
# quote (every entry is judged, then the agent fails).
sleep 2
ima_add /usr/bin/also "$(sha also)"
"$TOOLS_DIR/ima-forge" one-entry.log /usr/bin/good "$(sha good)" >/dev/null
yes "$(cat one-entry.log)" | head -n 300000 >long-list.txt
long_round() {
        local q msg sig pcrs
        start_attestation && quote_over "$CHALLENGE" || return 1
        q=$(head -n 1 quote.txt)
        IFS=: read -r msg sig pcrs <<<"${q#r}"
        jq -n --arg msg "$msg" --arg sig "$sig" --arg pcrs "$pcrs" --rawfile ima long-list.txt \
                '{data: {type: "attestation", attributes: {evidence_collected: [
                    {evidence_class: "certification", evidence_type: "tpm_quote",
                     data: {message: $msg, signature: $sig, subject_data: $pcrs}},
                    {evidence_class: "log", evidence_type: "ima_log", data: {entries: $ima}}]}}}' >long-evidence.json
        curl -s --cacert verifier-ca.pem -X PATCH -H 'Content-Type: application/vnd.api+json' \
                -H "Authorization: Bearer $token" -o body.json -w '%{http_code}' --data-binary @long-evidence.json \
                "https://127.0.0.1:$tls_port/v3.0/agents/$agent_id/attestations/latest"
}
tenant_stage() {
        curl -s --cacert verifier-ca.pem --cert verifier-client.pem --key verifier-client.key \
                "https://127.0.0.1:$tls_port/v3.0/agents/$agent_id/attestations/latest" | jq -r .data.attributes.stage
}
code=$(long_round)
start_ns=$(date +%s%N)
"$VMATTEST" --config agent.conf register >register-again.log 2>&1
register_rc=$?
register_ms=$((($(date +%s%N) - start_ns) / 1000000))
stage=$(tenant_stage)
wait_for "judged" 60 failed
judged_ms=$(status last_poll_ms)
diag <<<"registration $register_ms ms while the long list was judged in $judged_ms ms (stage then: $stage)"
if [ "$code" = 202 ] && [ "$register_rc" = 0 ] && [ "$stage" = evaluating_evidence ] &&
        [ "$register_ms" -lt "$judged_ms" ] && status failure | grep -q 'never replay'; then
        ok "a registration is answered while a long IMA list is judged (off the event loop)"
else not_ok "a registration is answered while a long IMA list is judged (PATCH $code, register $register_rc)"
        cat register-again.log body.json | diag; status failure | diag; fi
vv reactivate --agent "$agent_id" >/dev/null
authenticate

# only the evidence may be that long: a session request or a registration of 3 MB is refused
head -c 3000000 /dev/zero | tr '\0' ' ' >long-body.txt
session_code=$(curl -s --cacert verifier-ca.pem -X POST -o /dev/null -w '%{http_code}' --data-binary @long-body.txt \
        "https://127.0.0.1:$tls_port/v3.0/sessions")
register_code=$(curl -s --cacert verifier-ca.pem -X POST -o /dev/null -w '%{http_code}' --data-binary @long-body.txt \
        "https://127.0.0.1:$tls_port/v2.6/agents/$agent_id")
expect_equal "a session request or a registration over 2 MiB is refused on the TLS port (413)" \
        "$session_code/$register_code" 413/413

# a stale nonce: a quote over the challenge of an attestation that a new one replaced
sleep 2
start_attestation && quote_over "$CHALLENGE" && start_attestation && code=$(submit)
if [ "$code" = 202 ] && wait_for "failed" 10 failed &&
        status failure | grep -q 'nonce'; then
        ok "a quote over a stale nonce fails the agent, named"
else not_ok "a quote over a stale nonce fails the agent, named (PATCH $code)"; status failure | diag; fi

# outside the runtime policy: /usr/bin/evil
vv reactivate --agent "$agent_id" >/dev/null
authenticate
ima_add /usr/bin/evil "$(sha evil)"
sleep 2
if one_round && wait_for "failed" 10 failed &&
        status failure | grep -q '/usr/bin/evil'; then
        ok "an IMA entry outside the runtime policy fails the agent, naming the path"
else not_ok "an IMA entry outside the runtime policy fails the agent"; status failure | diag; fi

# sessions opened by anyone naming the agent's id (no proof: any client can send it) do not spend
# the agent's budget: more than Keylime's 15 a minute per agent, then the agent still proves one
session_open() { v3 POST /v3.0/sessions "$(session_body '"authentication_supported": [{"authentication_class": "pop", "authentication_type": "tpm_pop"}]')"; }
for i in $(seq 1 20); do code=$(session_open); done
if [ "$code" = 200 ] && authenticate; then
        ok "sessions opened in the agent's name by others do not lock the agent out (20 opened, then it proves one)"
else not_ok "sessions opened in the agent's name by others lock the agent out (last open $code)"; diag <body.json; fi

# a flood of sessions from one source: 50 a minute (Keylime's per-IP limit), then 429
for i in $(seq 1 60); do
        code=$(session_open)
        [ "$code" = 200 ] || break
done
if [ "$code" = 429 ] && grep -qi '^Retry-After: [1-9]' headers.txt; then
        ok "a flood of sessions from one source gets 429 with Retry-After (after $i)"
else not_ok "a flood of sessions from one source gets 429 with Retry-After (got $code)"; fi

# reactivated long after its last evidence (more than its deadline of 5 quote intervals of 2 s):
# the deadline starts again at the reactivation, the agent is not failed at once
sleep 11
vv reactivate --agent "$agent_id" >/dev/null
reactivated=$(date +%s)
sleep 4
expect_equal "an agent reactivated after its deadline passed is not failed at once (4 s later)" \
        "$(status state)" polling

# an agent that stops submitting fails after its deadline, counted from the reactivation
if wait_for "late" 20 failed &&
        status failure | grep -q 'missed its deadline' && [ $(($(date +%s) - reactivated)) -ge 10 ]; then
        ok "an agent that stops submitting fails after its deadline from its reactivation, named"
else not_ok "an agent that stops submitting fails after its deadline ($(($(date +%s) - reactivated)) s)"
        status failure | diag; fi

# each failure reached the webhook exactly once, with the reason the status shows: the long list,
# the stale nonce, /usr/bin/evil and the deadline (a second notice would come within a scan)
sleep 3
hooks() { grep -c "\"agent_id\":\"$agent_id\".*$1" webhook.log; }
deadline_failure=$(status failure)
if [ "$(hooks 'never replay')/$(hooks nonce)/$(hooks /usr/bin/evil)/$(hooks 'missed its deadline')" = 1/1/1/1 ] &&
        [ "$(grep -c "\"agent_id\":\"$agent_id\"" webhook.log)" = 4 ] &&
        grep -qF "\"failure\":\"$deadline_failure\"" webhook.log; then
        ok "each push failure reached the webhook exactly once, as the status shows it"
else not_ok "each push failure reached the webhook exactly once"; diag <webhook.log; fi

expect_success "the verifier exits cleanly" verifier_clean
