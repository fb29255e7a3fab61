#!/bin/bash
# An ECC EK with Keylime: swtpm's ECC EK is NIST P-384 (tpm_encryption_alg = ecc384), which the
# agent reports as enc_alg "ecc384" (API 2.5 and later). Keylime's registrar takes it as it is;
# Keylime's tenant refuses it with its default accept_tpm_encryption_algs (['ecc', 'rsa']: "ecc"
# stands for P-256 there) and takes it once tenant.conf lists "ecc384"; the verifier then keeps
# the tenant's list for that agent and attests it.
. "$(dirname "$0")/lib.sh"
plan 6

cd "$TEST_TMP" || exit 1
keylime_start || exit 1
if keylime_agent ecc "tpm_encryption_alg = ecc384
$(keylime_tls_registrar_conf)"; then ok "an agent with the P-384 ECC EK registers with Keylime's registrar (TLS)"
else not_ok "an agent with the P-384 ECC EK registers with Keylime's registrar (TLS)"; keylime_log_diag; exit 1; fi
agent=$AGENT_ID
expect_equal "... which holds its P-384 EK certificate" \
        "$(keylime_tenant -c regstatus -u "$agent" 2>&1 | sed -n '/Agent Info from Registrar/{n;p}' |
                jq -r --arg id "$agent" '.[$id].ekcert' | base64 -d | openssl x509 -inform DER -noout -text |
                grep -o 'NIST CURVE: P-384')" "NIST CURVE: P-384"

echo "payload-$(openssl rand -hex 8)" >payload.key
add() { keylime_tenant -c add -t 127.0.0.1 -tp "$AGENT_PORT" -u "$agent" --tpm_policy '{}' -f payload.key --verify; }
expect_failure "Keylime's default tenant.conf refuses it (accept_tpm_encryption_algs = ['ecc', 'rsa'])" any \
        'unaccepted encryption algorithm: ecc384' add

keylime_set "$KEYLIME_TENANT_CONFIG" accept_tpm_encryption_algs "['ecc384', 'ecc', 'rsa']"
if add >add.out 2>&1 && grep -q "Successful key derivation for Agent $agent" add.out &&
        grep -q 'K authenticated, payload opened' ecc.log; then
        ok "with accept_tpm_encryption_algs = ['ecc384', 'ecc', 'rsa'] the tenant enrolls it; the agent opens the payload"
else not_ok "with accept_tpm_encryption_algs = ['ecc384', 'ecc', 'rsa'] the tenant enrolls it; the agent opens the payload"
        diag <add.out; keylime_log_diag; fi

if wait_for "polls" 20 keylime_polled "$agent" 3; then ok "the verifier attests it (3 attestations)"
else not_ok "the verifier attests it (3 attestations)"; keylime_verifier_agent "$agent" | diag; keylime_log_diag; fi
expect_equal "... Get Quote, PASS, enc_alg ecc384 (keylime_tenant -c cvstatus)" \
        "$(keylime_cvstatus "$agent" | jq -c '[.operational_state, .attestation_status, .enc_alg, .accept_tpm_encryption_algs]')" \
        '["Get Quote","PASS","ecc384",["ecc384","ecc","rsa"]]'
