#!/bin/bash
# Keylime's tenant enrolls vmattest serve with its verifier, with a tpm_policy and a payload:
# the tenant checks the EK certificate against its tpm_cert_store and the identity quote, sends
# U, the verifier sends V after a good integrity quote, the agent derives K and opens the
# payload, and the tenant's --verify proves the agent holds K. The verifier then keeps polling
# ("Get Quote"), and fails the agent once a PCR leaves the tpm_policy; an agent whose PCR is
# outside the policy from the start never derives K.
. "$(dirname "$0")/lib.sh"
plan 12

cd "$TEST_TMP" || exit 1
keylime_start || exit 1
keylime_agent good || exit 1
good=$AGENT_ID good_port=$AGENT_PORT
{ echo "luks-$(openssl rand -hex 16)"; head -c 3000 /dev/urandom | base64; } >payload.key
zeros=$(printf %064d 0)
# PCR 23, the application PCR: swtpm starts it at zero, and a test may extend it
tpm_policy="{\"23\": [\"$zeros\"]}"
add() { # add ID PORT [TENANT-ARGS]: keylime_tenant -c add with the tpm_policy and the payload
        local id=$1 port=$2; shift 2
        keylime_tenant -c add -t 127.0.0.1 -tp "$port" -u "$id" --tpm_policy "$tpm_policy" -f payload.key "$@"
}

# Keylime's own override of one config key for one run: KEYLIME_<COMPONENT>_<KEY>
mkdir empty
KEYLIME_TENANT_TPM_CERT_STORE="$TEST_TMP/empty" expect_failure \
        "the tenant refuses the agent when swtpm's CA is not in its tpm_cert_store (EK certificate)" any \
        "Invalid EK certificate for Agent $good" add "$good" "$good_port"

if add "$good" "$good_port" --verify >add.out 2>&1 && grep -q "Successful key derivation for Agent $good" add.out; then
        ok "keylime_tenant -c add --tpm_policy -f PAYLOAD --verify: the tenant sees the agent derive K"
else not_ok "keylime_tenant -c add --tpm_policy -f PAYLOAD --verify: the tenant sees the agent derive K"; diag <add.out; keylime_log_diag; fi
expect_equal "the agent received U and V and opened the payload with K" \
        "$(grep -c '/v2.6/keys/ukey -> 200\|/v2.6/keys/vkey -> 200\|K authenticated, payload opened' good.log)" 3
expect_equal "... and answered the tenant's /keys/verify" "$(grep -c '/v2.6/keys/verify -> 200' good.log)" 1

# polls: Keylime's verifier asks for an integrity quote every quote_interval (2 s by default)
if wait_for "polls" 20 keylime_polled "$good" 4; then ok "the verifier polls the agent (4 good attestations)"
else not_ok "the verifier polls the agent (4 good attestations)"; keylime_verifier_agent "$good" | diag; keylime_log_diag; fi
expect_equal "keylime_tenant -c cvstatus: Get Quote, PASS, policy and algorithms as the agent reported them" \
        "$(keylime_cvstatus "$good" | jq -c '{operational_state, attestation_status, tpm_policy: (.tpm_policy | fromjson | .["23"]), hash_alg, enc_alg, sign_alg}')" \
        "{\"operational_state\":\"Get Quote\",\"attestation_status\":\"PASS\",\"tpm_policy\":[\"$zeros\"],\"hash_alg\":\"sha256\",\"enc_alg\":\"rsa2048\",\"sign_alg\":\"rsassa\"}"
# (a /keys/verify before V arrived gets 400 and the tenant asks again, as from Keylime's agents)
attested=$(keylime_field "$good" attestation_count) # before the log: a poll is logged, then counted
asked=$(grep -c '/v2.6/quotes/integrity -> ' good.log)
answered=$(grep -c '/v2.6/quotes/integrity -> 200 ' good.log)
expect_equal "the agent answered every poll with a quote (at least as many as the verifier counted)" \
        "$asked $([ "$answered" -ge "$attested" ] && echo counted)" "$answered counted"
keylime_tenant -c status -u "$good" >status.out 2>&1
expect_equal "keylime_tenant -c status: registered at the registrar, Get Quote at the verifier" \
        "$(grep -q "Agent $good exists on registrar" status.out && echo registered) $(sed -n '/Agent Info from Verifier/{n;p}' status.out | jq -r ".[\"$good\"].operational_state")" \
        "registered Get Quote"

# a PCR leaves the policy: Keylime fails the agent and stops polling it
tpm2_pcrextend "23:sha256=$(sha tampered)"
if wait_for "fail" 15 keylime_failed "$good"; then ok "PCR 23 extended: Keylime's verifier fails the agent"
else not_ok "PCR 23 extended: Keylime's verifier fails the agent"; keylime_verifier_agent "$good" | diag; keylime_log_diag; fi
expect_equal "... Invalid Quote, for PCR 23 (keylime_tenant -c cvstatus)" \
        "$(keylime_cvstatus "$good" | jq -c '[.operational_state, .last_event_id]')" '["Invalid Quote","pcr_validation.invalid_pcr_23"]'
quotes=$(grep -c '/v2.6/quotes/integrity' good.log)
sleep 5
expect_equal "... and asks it for no more quotes" "$(grep -c '/v2.6/quotes/integrity' good.log)" "$quotes"

# an agent whose PCR 23 is outside the policy at enrolment: U only, never K
keylime_agent bad || exit 1
tpm2_pcrextend "23:sha256=$(sha before-enrolment)"
add "$AGENT_ID" "$AGENT_PORT" >add-bad.out 2>&1
wait_for "fail" 15 keylime_failed "$AGENT_ID"
sleep 1
expect_equal "an agent whose PCR 23 is outside the policy from the start: failed for PCR 23, no V, never K" \
        "$(keylime_verifier_agent "$AGENT_ID" | jq -r '.attestation_status + " " + .last_event_id') $(grep -c 'keys/vkey\|K authenticated' bad.log)" \
        "FAIL pcr_validation.invalid_pcr_23 0"
