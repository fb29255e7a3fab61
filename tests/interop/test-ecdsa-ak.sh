#!/bin/bash
# An ECC AK with Keylime: an agent with tpm_signing_alg = ecdsa (an ECC NIST P-256 AK signing
# ECDSA-SHA256, reported as sign_alg "ecdsa" as rust-keylime reports it) registers with Keylime's
# registrar, which activates it with the ECC AK's Name. Keylime's tenant refuses it with its
# default accept_tpm_signing_algs (['ecschnorr', 'rsassa']) and takes it once tenant.conf lists
# "ecdsa"; the verifier then keeps the tenant's list for that agent and attests its ECDSA quotes.
. "$(dirname "$0")/lib.sh"
plan 6

cd "$TEST_TMP" || exit 1
keylime_start || exit 1
if keylime_agent ecdsa "tpm_signing_alg = ecdsa
$(keylime_tls_registrar_conf)"; then ok "an agent with an ECC AK registers with Keylime's registrar (TLS) and activates"
else not_ok "an agent with an ECC AK registers with Keylime's registrar (TLS) and activates"; keylime_log_diag; exit 1; fi
agent=$AGENT_ID
expect_equal "... which holds its ECC AK (aik_tpm: a TPM2B_PUBLIC of type ECC, 0x0023)" \
        "$(keylime_tenant -c regstatus -u "$agent" 2>&1 | sed -n '/Agent Info from Registrar/{n;p}' |
                jq -r --arg id "$agent" '.[$id].aik_tpm' | base64 -d | od -An -tx1 -j2 -N2 | tr -d ' ')" "0023"

echo "payload-$(openssl rand -hex 8)" >payload.key
add() { keylime_tenant -c add -t 127.0.0.1 -tp "$AGENT_PORT" -u "$agent" --tpm_policy '{}' -f payload.key --verify; }
expect_failure "Keylime's default tenant.conf refuses it (accept_tpm_signing_algs = ['ecschnorr', 'rsassa'])" any \
        'unaccepted signing algorithm: ecdsa' add

keylime_set "$KEYLIME_TENANT_CONFIG" accept_tpm_signing_algs "['ecdsa', 'ecschnorr', 'rsassa']"
if add >add.out 2>&1 && grep -q "Successful key derivation for Agent $agent" add.out &&
        grep -q 'K authenticated, payload opened' ecdsa.log; then
        ok "with accept_tpm_signing_algs = ['ecdsa', 'ecschnorr', 'rsassa'] the tenant enrolls it; the agent opens the payload"
else not_ok "with accept_tpm_signing_algs = ['ecdsa', 'ecschnorr', 'rsassa'] the tenant enrolls it; the agent opens the payload"
        diag <add.out; keylime_log_diag; fi

if wait_for "polls" 20 keylime_polled "$agent" 3; then ok "the verifier attests its ECDSA quotes (3 attestations)"
else not_ok "the verifier attests its ECDSA quotes (3 attestations)"; keylime_verifier_agent "$agent" | diag; keylime_log_diag; fi
expect_equal "... Get Quote, PASS, sign_alg ecdsa (keylime_tenant -c cvstatus)" \
        "$(keylime_cvstatus "$agent" | jq -c '[.operational_state, .attestation_status, .sign_alg, .accept_tpm_signing_algs]')" \
        '["Get Quote","PASS","ecdsa",["ecdsa","ecschnorr","rsassa"]]'
