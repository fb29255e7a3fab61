#!/bin/bash
# An SVSM's vTPM report end to end (docs/platforms.md, "SVSM vTPM (SEV-SNP)"): agents ask the
# configfs-tsm TEST DOUBLE (tests/tools/tsm-double --manifest, fake AMD keys) for the SVSM's vTPM
# service; its manifest is the vTPM's EK public area and REPORT_DATA = SHA-512(binding ||
# manifest). vmattest-verifier, under an svsm-sev-snp platform policy, releases the disk key only
# when the report verifies over that digest and the manifest's EK is the EK the agent registered;
# a manifest carrying another vTPM's EK, a plain sev-snp report (no manifest) and a policy
# allowing the guest's own VMPL are refused, each named.
. "$(dirname "$0")/lib.sh"
plan 8

cd "$TEST_TMP" || exit 1
tenant_pki
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
measurement=$(printf '5a%.0s' $(seq 48))

release_verifier_config "" "platform_test_roots = $TEST_TMP/ark.pem
amd_certs_dir = $TEST_TMP/no-amd-certs"
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }
released() { [ "$(status "$1" payload_released_at)" != null ]; }
failed() { [ "$(status "$1" state)" = failed ]; }
failed_with() { failed "$1" && status "$1" failure | grep -q "$2"; }

# vm_prepare NAME: a swtpm and an agent's configuration on it, the agent's reports from the
# double at $TEST_TMP/NAME-tsm; NAME-ek.manifest: its EK as an SVSM vTPM manifest (the EK's
# TPMT_PUBLIC: the registered TPM2B_PUBLIC without its size)
vm_prepare() {
        swtpm_start "$1" >/dev/null || exit 1
        PORT=$(random_port)
        agent_config "$1.conf" "$VERIFIER_PORT" "port = $PORT
state_dir = $TEST_TMP/$1-state
vmattest_ml_path = $TEST_TMP/$1-measurements.log
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes
tsm_report_dir = $TEST_TMP/$1-tsm
tsm_service_provider = svsm"
        "$VMATTEST" --config "$1.conf" identity --json >"$1-identity.json" 2>"$1-identity.log" ||
                { cat "$1-identity.log" >&2; exit 1; }
        jq -r .ek.ek_tpm "$1-identity.json" | base64 -d | tail -c +3 >"$1-ek.manifest"
}
# vm_serve NAME: the agent serving on NAME's swtpm; AGENT_ID
vm_serve() {
        "$VMATTEST" --config "$1.conf" serve >"$1.log" 2>&1 &
        verifier_pids+=("$!")
        wait_port "$!" "$PORT" || { cat "$1.log" >&2; exit 1; }
        AGENT_ID=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' "$1.log")
}

printf '{"15": ["%064d"]}\n' 0 >any-pcrs.json
printf '{"platform": "svsm-sev-snp", "measurements": ["%s"]}\n' "$measurement" >svsm-policy.json

# the genuine case: the SVSM's manifest carries this vTPM's EK
vm_prepare good
tsm_double_start "$TEST_TMP/good-tsm" --manifest good-ek.manifest || exit 1
cp "$TEST_TMP/good-tsm.ark.pem" ark.pem # the doubles all sign with the same fake keys
verifier_start verifier.conf || exit 1
vm_serve good
good=$AGENT_ID
expect_success "the tenant enrolls the agent under an svsm-sev-snp policy with its disk key" \
        vv add --agent "$good" --policy any-pcrs.json --platform-policy svsm-policy.json --payload disk.key \
        --allow-unpinned-cmdline
if wait_for released 20 released "$good"; then ok "the key is released: the SVSM's manifest carries the registered EK"
else not_ok "the key is released: the SVSM's manifest carries the registered EK"; vv status --agent "$good" | diag; fi
if grep -q "agent $good attests (quote, PCRs, hardware report: SEV-SNP.*through the SVSM's vTPM" verifier.log; then
        ok "the verifier says the report came through the SVSM's vTPM"
else not_ok "the verifier says the report came through the SVSM's vTPM"; grep "agent $good" verifier.log | diag; fi

# a manifest with another vTPM's EK (the good VM's), correctly hashed into a signed report
vm_prepare other
tsm_double_start "$TEST_TMP/other-tsm" --manifest good-ek.manifest || exit 1
vm_serve other
other=$AGENT_ID
vv add --agent "$other" --policy any-pcrs.json --platform-policy svsm-policy.json --payload disk.key \
        --allow-unpinned-cmdline >/dev/null
if wait_for failed 20 failed_with "$other" "its EK's RSA modulus is not the registered EK's"; then
        ok "a manifest with another EK: failed, naming the EK"
else not_ok "a manifest with another EK: failed, naming the EK"; vv status --agent "$other" | diag; fi
expect_equal "... and no key for it" "$(status "$other" payload_released_at)" null

# the plain sev-snp report (REPORT_DATA = the binding, no manifest) under the svsm policy
vm_prepare plain
sed -i '/^tsm_service_provider/d' plain.conf
tsm_double_start "$TEST_TMP/plain-tsm" || exit 1
vm_serve plain
plain=$AGENT_ID
vv add --agent "$plain" --policy any-pcrs.json --platform-policy svsm-policy.json >/dev/null
if wait_for failed 20 failed_with "$plain" "served no manifest"; then
        ok "a plain sev-snp report under an svsm-sev-snp policy: failed, named"
else not_ok "a plain sev-snp report under an svsm-sev-snp policy: failed, named"; vv status --agent "$plain" | diag; fi

sed 's/}$/, "vmpls": [2]}/' svsm-policy.json >vmpl2-policy.json
expect_failure "an svsm-sev-snp policy allowing the guest's VMPL is refused, named" any \
        "vmpls: an SVSM's vTPM report is made at VMPL 0" \
        vv add --agent x --policy any-pcrs.json --platform-policy vmpl2-policy.json
if ! grep -q "$(cat disk.key)" verifier.log ./*.log 2>/dev/null; then ok "the disk key is in no log"
else not_ok "the disk key is in no log"; fi
