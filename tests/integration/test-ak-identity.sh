#!/bin/bash
# Cloud vTPMs without an EK certificate (docs/platforms.md): swtpms laid out as Azure's vTPM
# (an AK evicted to 0x81000003, its certificate in NV 0x01C101D0) and as GCE's (the AK template
# in NV 0x01c10001, the certificate of the key it makes in NV 0x01c10000), certified by a test
# CA standing in for the cloud's. Each registers on its AK certificate (identity proof
# ak-certificate), attests and gets its key released; an AK certificate from another CA, of
# another key, expired, or for an AK whose credential activation fails is refused with the
# reason; an agent forced to a cloud whose objects are absent says which; an EK the tenant pinned
# by its public key registers as ek-pinned.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cloud_vtpm.sh"
plan 24

cd "$TEST_TMP" || exit 1
tenant_pki
secret="luks-$(openssl rand -hex 16)"
printf %s "$secret" >disk.key
printf '{"15": ["%064d"]}\n' 0 >good-policy.json

# the cloud's CA (the tenant's ak_cert_store), and a CA nobody trusts
cloud_ca cloud-ca && cloud_ca rogue-ca || exit 1
mkdir -p ak-ca ek-pinned
cp cloud-ca.pem ak-ca/

# a TPM the tenant pins by its EK's public key: its EK certificate is gone from NV, as on a cloud
# whose API gives the EK instead (AWS); the store is read when the verifier starts
swtpm_start pinned >/dev/null || exit 1
tpm2_nvundefine 0x01c00002 -C p >/dev/null 2>&1
tpm2_createek -c pinned-ek.ctx -G rsa -u ek-pinned/aws-instance.pem -f pem >/dev/null && tpm2_flushcontext -t
pinned_tcti=$VMATTEST_TCTI

verifier_config verifier.conf "ak_cert_store = $TEST_TMP/ak-ca
ek_pinned_store = $TEST_TMP/ek-pinned
$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
verifier_start verifier.conf || exit 1
# Azure: the AK at 0x81000003, found by ak_source = auto
azure_tpm azure cloud-ca 2 || exit 1
cloud_serve azure auto || exit 1
if grep -q "AK: Azure's, at handle 0x81000003, with its certificate from NV index 0x01c101d0" azure.log; then
        ok "azure: auto finds Azure's AK and its certificate"
else not_ok "azure: auto finds Azure's AK and its certificate"; diag <azure.log; fi
cloud_attests azure
sed 's/^ak_source = .*/ak_source = gce/' azure.conf >azure-as-gce.conf
expect_failure "azure: ak_source gce on Azure's layout names the GCE index that is absent" 1 \
        "ak_source gce: no GCE RSA AK template: NV index 0x01c10001 is not defined" \
        "$VMATTEST" --config azure-as-gce.conf identity

# GCE: the AK made from the template in the endorsement hierarchy, kept at ak_handle
gce_tpm gce cloud-ca 2 || exit 1
cloud_serve gce auto || exit 1
if grep -q "AK: GCE's RSA AK, made from the template in NV index 0x01c10001 and kept at handle 0x81010002" gce.log; then
        ok "gce: auto makes GCE's AK from its template and keeps it"
else not_ok "gce: auto makes GCE's AK from its template and keeps it"; diag <gce.log; fi
cloud_attests gce
expect_equal "gce: the kept AK is the key the GCE certificate certifies" \
        "$(tpm2_readpublic -c 0x81010002 -f pem -o gce-kept.pem >/dev/null && cmp -s gce-kept.pem gce-ak.pem && echo same)" \
        same
sed 's/^ak_source = .*/ak_source = azure/' gce.conf >gce-as-azure.conf
expect_failure "gce: ak_source azure on GCE's layout names the Azure handle that is absent" 1 \
        "ak_source azure: no AK at the Azure AK handle 0x81000003" "$VMATTEST" --config gce-as-azure.conf identity

# refusals, by the registrar: `vmattest register` with each TPM, the reason in its error
refused() { # refused NAME DESC PATTERN: NAME's agent (ak_source azure) is refused, naming PATTERN
        agent_config "$1.conf" "$VERIFIER_PORT" "ak_source = azure
state_dir = $TEST_TMP/$1-state"
        expect_failure "$2" 1 "$3" "$VMATTEST" --config "$1.conf" register
}
azure_tpm rogue rogue-ca 2 || exit 1
refused rogue "an AK certificate from a CA not in ak_cert_store is refused" \
        "refused.*AK certificate does not chain to a pinned root"
azure_tpm expired cloud-ca -1 || exit 1
refused expired "an expired AK certificate is refused" "refused.*AK certificate does not chain.*certificate has expired"
# a certificate of another TPM's AK (azure's) in this TPM's NV: the agent says so itself ...
azure_tpm other cloud-ca 2 "$TEST_TMP/azure-ak.pem" || exit 1
refused other "an AK certificate of another key is refused by the agent, naming the index and handle" \
        "the Azure AK certificate \(NV index 0x01c101d0\) certifies another key than the AK at 0x81000003"
# ... and the registrar, when a body carries it with this TPM's AK
body() { # body AK-TPM2B-FILE AK-CERT-FILE: a registration of the "other" TPM's EK
        jq -n --arg ek "$(base64 -w0 other-ek.tpm2b)" --arg ak "$(base64 -w0 "$1")" --arg cert "$(base64 -w0 "$2")" \
                '{ek_tpm: $ek, aik_tpm: $ak, ekcert: null, ak_cert: $cert, mtls_cert: null, ip: "127.0.0.1", port: 9002}'
}
post() { curl -s -o "$2" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' --data-binary @- \
        "http://127.0.0.1:$VERIFIER_PORT$3"; }
code=$(body other-ak.tpm2b other-akcert.der | post POST r.json /v2.6/agents/other-key)
expect_equal "the registrar refuses an ak_cert of another key than aik_tpm (400, named)" \
        "$code $(jq -r .status r.json)" "400 ak_cert certifies another key than aik_tpm"

# an AK whose credential activation fails: azure's AK and its valid certificate, with the other
# TPM's EK; the challenge opens, but the other TPM does not hold that AK, so it cannot answer
code=$(body azure-ak.tpm2b azure-akcert.der | post POST r.json /v2.6/agents/stolen-ak)
base64 -d <<<"$(jq -r .results.blob r.json)" >blob.bin 2>/dev/null
tpm2_startauthsession --policy-session -S s.ctx >/dev/null
tpm2_policysecret -S s.ctx -c e >/dev/null
if tpm2_activatecredential -c 0x81000003 -C other-ek.ctx -i blob.bin -o credential.bin -P "session:s.ctx" >/dev/null 2>&1
then activated=yes; else activated=no; fi
tpm2_flushcontext s.ctx >/dev/null 2>&1; tpm2_flushcontext -t
expect_equal "a stolen AK certificate opens a challenge that the TPM of the EK cannot activate" "$code $activated" "200 no"
code=$(jq -n --arg tag "$(printf 'stolen-ak' | openssl dgst -sha384 -hmac guess -r | cut -d' ' -f1)" '{auth_tag: $tag}' |
        post PUT r.json /v2.6/agents/stolen-ak/activate)
expect_equal "... its guessed auth_tag is refused and it never becomes active" \
        "$code $(agent_field stolen-ak .state)" "400 inactive"

# the EK pinned by its public key: registers with ek-pinned, without EK or AK certificate
agent_config pinned.conf "$VERIFIER_PORT" "ak_source = auto
state_dir = $TEST_TMP/pinned-state"
expect_success "an agent whose EK the tenant pinned by public key registers" \
        env VMATTEST_TCTI="$pinned_tcti" "$VMATTEST" --config pinned.conf register --json
pinned_id=$(sed -n '/^{/,$p' "$TEST_TMP/out" | jq -r .agent_id)
expect_equal "... with the identity proof ek-pinned" "$(agent_field "$pinned_id" '.identity_proof + " " + .state')" \
        "ek-pinned active"
expect_equal "agents shows the proof in its PROOF column" \
        "$(vv agents | awk -v id="$pinned_id" '$NF == id { print $(NF - 1) }')" ek-pinned
# another TPM without EK certificate, neither pinned nor allow-listed
swtpm_start bare >/dev/null || exit 1
tpm2_nvundefine 0x01c00002 -C p >/dev/null 2>&1
agent_config bare.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/bare-state"
expect_failure "a TPM without EK or AK certificate, not pinned, is refused, naming both lists" 1 \
        "neither in the registrar's ek_allowlist nor in its ek_pinned_store" "$VMATTEST" --config bare.conf register
expect_success "the verifier exits cleanly" verifier_clean
