#!/bin/bash
# vmattest serve registers with Keylime's own registrar, over plain HTTP (its port) and over
# HTTPS (its TLS port, certificate from the CA Keylime's verifier made), and activates: the
# registrar shows the agent (it shows none before the activation) with the EK, AK, mTLS
# certificate and contact address vmattest sent. An agent that does not trust the registrar's CA
# does not register.
. "$(dirname "$0")/lib.sh"
plan 8

cd "$TEST_TMP" || exit 1
keylime_start || exit 1

# regstatus ID: the registrar's record of agent ID as `keylime_tenant -c regstatus` prints it
regstatus() {
        keylime_tenant -c regstatus -u "$1" 2>&1 | sed -n '/Agent Info from Registrar/{n;p}' | jq -c --arg id "$1" '.[$id]'
}

# registered_as NAME ID: the registrar holds what `vmattest identity --json` says of NAME's TPM
registered_as() {
        local record want
        record=$(regstatus "$2")
        want=$("$VMATTEST" --config "$1.conf" identity --json | jq -c --arg port "$3" \
                '{ek_tpm: .ek.ek_tpm, aik_tpm: .ak.aik_tpm, ip: "127.0.0.1", port: ($port | tonumber)}')
        expect_equal "$4" "$(jq -c '{ek_tpm, aik_tpm, ip, port}' <<<"$record")" "$want"
        expect_equal "... with the agent's mTLS certificate and the EK certificate swtpm made" \
                "$(jq -r '.mtls_cert' <<<"$record" | openssl x509 -noout -fingerprint -sha256 2>/dev/null) $(jq -r '.ekcert' <<<"$record" | base64 -d | openssl x509 -inform DER -noout -issuer 2>/dev/null)" \
                "$(openssl x509 -in "$1-state/server-cert.crt" -noout -fingerprint -sha256) issuer=CN = swtpm-localca"
}

if keylime_agent http; then ok "vmattest serve registers and activates over plain HTTP (Keylime's registrar port)"
else not_ok "vmattest serve registers and activates over plain HTTP (Keylime's registrar port)"; keylime_log_diag; fi
registered_as http "$AGENT_ID" "$AGENT_PORT" "... and keylime_tenant -c regstatus shows its EK, AK and contact address"

if keylime_agent tls "$(keylime_tls_registrar_conf)" && grep -q "with https://127.0.0.1:$KEYLIME_REGISTRAR_TLS_PORT" tls.log; then
        ok "vmattest serve registers and activates over HTTPS (Keylime's registrar TLS port)"
else not_ok "vmattest serve registers and activates over HTTPS (Keylime's registrar TLS port)"; diag <tls.log; keylime_log_diag; fi
registered_as tls "$AGENT_ID" "$AGENT_PORT" "... and keylime_tenant -c regstatus shows its EK, AK and contact address"

# the registrar's certificate is checked: another CA (swtpm's) as registrar_tls_ca_cert
swtpm_start untrusting >/dev/null || exit 1
agent_config untrusting.conf "$KEYLIME_REGISTRAR_PORT" "state_dir = $TEST_TMP/untrusting-state
$(keylime_tls_registrar_conf)
registrar_tls_ca_cert = $KEYLIME_DIR/tpm_cert_store/issuercert.pem"
expect_failure "an agent that does not trust the registrar's CA does not register (TLS refused)" any \
        'TLS failure.*certificate verify failed' "$VMATTEST" --config untrusting.conf register
untrusting_id=$("$VMATTEST" --config untrusting.conf identity --json | jq -r .ek.hash_ek)
expect_equal "... and the registrar has no record of it" \
        "$(keylime_tenant -c regstatus -u "$untrusting_id" 2>&1 | grep -o 'does not exist on registrar' | head -n 1)" \
        "does not exist on registrar"
