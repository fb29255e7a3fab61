#!/bin/bash
# An ECC AK (tpm_signing_alg = ecdsa): the agent makes its AK as an ECC NIST P-256 key signing
# ECDSA-SHA256 under the EK, reports sign_alg "ecdsa" as rust-keylime does, registers (credential
# activation with the ECC AK's Name), attests with ECDSA quotes and gets its key released by
# vmattest-verifier; the same config on a TPM whose AK at ak_handle is of the other kind is an
# error naming the handle and tpm_signing_alg. GCE's ECC pair (template in NV 0x01c10003,
# certificate in NV 0x01c10002, go-tpm-tools' client/handles.go) provisioned in swtpm with a test
# CA standing in for Google's: the agent makes the AK from it and registers on the certificate;
# with both pairs, tpm_signing_alg picks the pair; an ECC certificate of another key, or from a
# CA the registrar does not trust, is refused with the reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cloud_vtpm.sh"
plan 19

cd "$TEST_TMP" || exit 1
tenant_pki
secret="luks-$(openssl rand -hex 16)"
printf %s "$secret" >disk.key
printf '{"15": ["%064d"]}\n' 0 >good-policy.json
cloud_ca cloud-ca && cloud_ca rogue-ca || exit 1
mkdir -p ak-ca
cp cloud-ca.pem ak-ca/

verifier_config verifier.conf "ak_cert_store = $TEST_TMP/ak-ca
$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
verifier_start verifier.conf || exit 1

# The agent's own ECC AK, under swtpm's (RSA) EK, which has its EK certificate
swtpm_start own >/dev/null || exit 1
cloud_serve own agent "tpm_signing_alg = ecdsa" || exit 1
own_id=$AGENT_ID
own_port=$(sed -n 's/^port = //p' own.conf)
expect_equal "own: the AK it made at 0x81010002 is ECC NIST P-256, restricted, signing ECDSA-SHA256" \
        "$(tpm2_readpublic -c 0x81010002 |
                awk '/^(attributes|type|curve-id|scheme|scheme-halg):/ { getline; sub(/^ *value: /, ""); printf "%s;", $0 }')" \
        "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign;ecc;NIST p256;ecdsa;sha256;"
agent_get() { # agent_get PATH: the agent's API over mTLS, as the verifier calls it
        curl -sf --cacert own-state/server-cert.crt --cert verifier-client.pem --key verifier-client.key \
                "https://127.0.0.1:$own_port/v2.6/$1"
}
expect_equal "own: the agent reports tpm_sign_alg and sign_alg ecdsa, as rust-keylime does for an ECC AK; identity too" \
        "$(agent_get agent/info | jq -r .results.tpm_sign_alg) $(agent_get 'quotes/identity?nonce=1234567890' |
                jq -r .results.sign_alg) $("$VMATTEST" --config own.conf identity --json | jq -r .ak.sign_alg)" \
        "ecdsa ecdsa ecdsa"
expect_equal "own: registered with its EK certificate and activated (credential activation with the ECC AK)" \
        "$(agent_field "$own_id" '.identity_proof + " " + .state')" "ek-certificate active"
vv add --agent "$own_id" --policy good-policy.json --payload disk.key --allow-unpinned-cmdline >/dev/null 2>&1
if wait_for released 20 cloud_released "$own_id"; then ok "own: its ECDSA quotes attest and its key is released"
else not_ok "own: its ECDSA quotes attest and its key is released"; vv status --agent "$own_id" | diag
        tail -5 verifier.log | diag; fi
if grep -q "payload opened" own.log; then ok "own: the agent opened the payload"
else not_ok "own: the agent opened the payload"; tail -5 own.log | diag; fi
sed 's/^tpm_signing_alg = .*/tpm_signing_alg = rsassa/' own.conf >own-rsassa.conf
expect_failure "own: with rsassa, the ECC AK at ak_handle is an error naming the handle and tpm_signing_alg" 1 \
        "handle 0x81010002 does not hold a vmattest AK: it is an ECC key, and tpm_signing_alg rsassa needs an RSA-2048 key \(evict it or choose another ak_handle\)" \
        "$VMATTEST" --config own-rsassa.conf identity

# GCE's ECC pair, found by ak_source = auto with tpm_signing_alg = ecdsa
gce_tpm gce-ecc cloud-ca 2 ecc || exit 1
cloud_serve gce-ecc auto "tpm_signing_alg = ecdsa" || exit 1
if grep -q "AK: GCE's ECC AK, made from the template in NV index 0x01c10003 and kept at handle 0x81010002, with its certificate from NV index 0x01c10002" gce-ecc.log
then ok "gce-ecc: auto makes GCE's ECC AK from the template in 0x01c10003, certified in 0x01c10002"
else not_ok "gce-ecc: auto makes GCE's ECC AK from the template in 0x01c10003, certified in 0x01c10002"; diag <gce-ecc.log; fi
cloud_attests gce-ecc
expect_equal "gce-ecc: the kept AK is the key the GCE ECC certificate certifies" \
        "$(tpm2_readpublic -c 0x81010002 -f pem -o gce-ecc-kept.pem >/dev/null && cmp -s gce-ecc-kept.pem gce-ecc-ak.pem &&
                echo same)" same
sed 's/^tpm_signing_alg = .*/tpm_signing_alg = rsassa/; s/^ak_source = .*/ak_source = gce/' gce-ecc.conf >gce-ecc-rsa.conf
expect_failure "gce-ecc: ak_source gce with rsassa names the RSA template index that is absent" 1 \
        "ak_source gce: no GCE RSA AK template: NV index 0x01c10001 is not defined" \
        "$VMATTEST" --config gce-ecc-rsa.conf identity

# both pairs, as on a GCE vTPM: tpm_signing_alg picks the pair
gce_tpm gce-both cloud-ca 2 rsa || exit 1
GCE_TPM_SAME=1 gce_tpm gce-both-ecc cloud-ca 2 ecc || exit 1
agent_config both.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/both-state
tpm_signing_alg = ecdsa"
sed 's/^tpm_signing_alg = .*/tpm_signing_alg = rsassa/' both.conf >both-rsa.conf
printf 'ak_handle = 0x81010003\n' >>both-rsa.conf
identity_says() { # identity_says CONFIG DESC TEXT: `vmattest identity` with CONFIG succeeds, logging TEXT
        if "$VMATTEST" --config "$1" identity >identity.out 2>&1 && grep -qF "$3" identity.out; then ok "$2"
        else not_ok "$2"; diag <identity.out; fi
}
identity_says both.conf "gce-both: ecdsa takes the ECC pair" \
        "AK: GCE's ECC AK, made from the template in NV index 0x01c10003 and kept at handle 0x81010002"
identity_says both-rsa.conf "gce-both: rsassa takes the RSA pair" \
        "AK: GCE's RSA AK, made from the template in NV index 0x01c10001 and kept at handle 0x81010003"

# refusals: an ECC AK certificate of another key (gce-ecc's AK), by the agent and by the registrar
gce_tpm other cloud-ca 2 ecc "$TEST_TMP/gce-ecc-ak.pem" || exit 1
agent_config other.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/other-state
tpm_signing_alg = ecdsa
ak_source = gce"
expect_failure "an ECC AK certificate of another key is refused by the agent, naming both NV indices" 1 \
        "the GCE ECC AK certificate \(NV index 0x01c10002\) certifies another key than the AK made from the template \(NV index 0x01c10003\)" \
        "$VMATTEST" --config other.conf register
code=$(jq -n --arg ek "$(base64 -w0 other-ek.tpm2b)" --arg ak "$(base64 -w0 other-ak.tpm2b)" \
        --arg cert "$(base64 -w0 other-akcert.der)" \
        '{ek_tpm: $ek, aik_tpm: $ak, ekcert: null, ak_cert: $cert, mtls_cert: null, ip: "127.0.0.1", port: 9002}' |
        curl -s -o r.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @- \
                "http://127.0.0.1:$VERIFIER_PORT/v2.6/agents/other-ecc-key")
expect_equal "the registrar refuses an ECC ak_cert of another key than aik_tpm (400, named)" \
        "$code $(jq -r .status r.json)" "400 ak_cert certifies another key than aik_tpm"
gce_tpm rogue rogue-ca 2 ecc || exit 1
agent_config rogue.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/rogue-state
tpm_signing_alg = ecdsa"
expect_failure "an ECC AK certificate from a CA not in ak_cert_store is refused by the registrar" 1 \
        "refused.*AK certificate does not chain to a pinned root" "$VMATTEST" --config rogue.conf register

expect_success "the verifier exits cleanly" verifier_clean
