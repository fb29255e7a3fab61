#!/bin/bash
# Azure TDX confidential VMs end to end (docs/platforms.md, "Azure"): swtpms laid out as Azure's
# vTPM (the AK at 0x81000003 certified in NV 0x01C101D0, the HCL report's NV index 0x01400001),
# each behind the paravisor TEST DOUBLE tests/tools/hcl-double --tdx (its HCL report holds a
# TDREPORT whose REPORTDATA is SHA-256 of the runtime data), and the IMDS TEST DOUBLE
# tests/tools/imds-double, which quotes that TDREPORT under a test root (the verifier's
# platform_test_roots) as Azure's IMDS has Intel's quoting enclave do. Under an azure-tdx policy
# the key is released to the agent whose TD quote verifies, binds its runtime data and so its AK
# and this nonce; refused, each named: a quote whose REPORTDATA is not the runtime data's hash, a
# quote under a root the verifier does not trust, an MRTD outside the policy, a paravisor that
# leaves the report stale, and an IMDS that is down (platform_report = required).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cloud_vtpm.sh"
plan 13

intel_root=$PWD/tests/fixtures/platforms/tdx/trusted_root.pem # pinned in code; the doubles' roots are test roots
cd "$TEST_TMP" || exit 1
tenant_pki
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
printf '{"15": ["%064d"]}\n' 0 >any-pcrs.json
mkdir -p ak-ca

cloud_ca cloud-ca || exit 1
cp cloud-ca.pem ak-ca/

# imds NAME [IMDS-DOUBLE OPTIONS...]: an IMDS double on a free port, its root in NAME.root.pem;
# IMDS_URL
imds() {
        local name=$1 port; shift
        port=$(random_port)
        "$TOOLS_DIR/imds-double" --listen "$port" --root-out "$name.root.pem" "$@" 2>>"$name-imds.log" &
        verifier_pids+=("$!")
        wait_port "$!" "$port" || { cat "$name-imds.log" >&2; exit 1; }
        IMDS_URL="http://127.0.0.1:$port/acc/tdquote"
}

# azure_vm NAME IMDS-URL [HCL-DOUBLE OPTIONS...]: a swtpm with Azure's layout behind a TDX
# paravisor double, an agent serving on it that asks IMDS-URL for its TD quotes; AGENT_ID
azure_vm() {
        azure_hcl_vm "$1" "azure_imds_url = $2
${PLATFORM_REPORT:+platform_report = $PLATFORM_REPORT}" --tdx "${@:3}"
}

imds good; good_imds=$IMDS_URL
imds corrupt --corrupt-report-data; corrupt_imds=$IMDS_URL
imds untrusted; untrusted_imds=$IMDS_URL
# the verifier trusts the good and the corrupting doubles' roots, never the untrusted one's
cat good.root.pem corrupt.root.pem >test-roots.pem
verifier_config verifier.conf "ak_cert_store = $TEST_TMP/ak-ca
$(verifier_poll_config "platform_test_roots = $TEST_TMP/test-roots.pem
intel_root_ca = $intel_root")"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
# the agent waits up to 5 s for the paravisor's new report, then for IMDS: the verifier waits longer
sed -i 's/^request_timeout = .*/request_timeout = 15/' verifier.conf
verifier_start verifier.conf || exit 1
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }
released() { [ "$(status "$1" payload_released_at)" != null ]; }
failed_with() { [ "$(status "$1" state)" = failed ] && status "$1" failure | grep -q "$2"; }
refused_named() { vv status --agent "$1" | grep -q "unreachable: .*quote refused: platform report.*$2"; }
mrtd=$(printf '11%.0s' $(seq 48))
printf '{"platform": "azure-tdx", "mrtd": ["%s"]}\n' "$mrtd" >azure-tdx-policy.json
enroll() {
        vv add --agent "$1" --policy any-pcrs.json --platform-policy azure-tdx-policy.json --payload disk.key \
                --allow-unpinned-cmdline
}

azure_vm good "$good_imds" --rtmr "2:$(printf '22%.0s' $(seq 48))" || exit 1
good=$AGENT_ID
expect_success "the tenant enrolls the Azure TDX agent with an azure-tdx policy and its disk key" enroll "$good"
if wait_for released 30 released "$good"; then ok "the key is released once the TD quote verifies"
else
        not_ok "the key is released once the TD quote verifies"
        vv status --agent "$good" | diag; tail -5 good.log | diag
fi
if grep -q "agent $good attests (quote, PCRs, hardware report: Azure HCL, TDX (TD quote from IMDS), MRTD 1111" \
        verifier.log; then ok "the verifier says what the quote showed"
else not_ok "the verifier says what the quote showed"; grep "agent $good" verifier.log | diag; fi
if grep -q "identity proof ak-certificate" verifier.log; then ok "the agent registered on Azure's AK certificate"
else not_ok "the agent registered on Azure's AK certificate"; fi
if grep -q "imds-double: /acc/tdquote" good-imds.log; then ok "the agent asked IMDS for its TD quote"
else not_ok "the agent asked IMDS for its TD quote"; diag <good-imds.log; fi

# an IMDS whose quote's REPORTDATA is not the TDREPORT's: it binds no runtime data of this VM
azure_vm corrupt "$corrupt_imds" || exit 1
corrupt=$AGENT_ID
enroll "$corrupt" >/dev/null
if wait_for failed 30 failed_with "$corrupt" "the TD quote's REPORTDATA does not bind the variable data"; then
        ok "a quote whose REPORTDATA is not SHA-256(runtime data): failed, named"
else
        not_ok "a quote whose REPORTDATA is not SHA-256(runtime data): failed, named"
        vv status --agent "$corrupt" | diag
fi
expect_equal "... and no key for it" "$(status "$corrupt" payload_released_at)" null

# a quote under a root the verifier does not trust
azure_vm untrusted "$untrusted_imds" || exit 1
untrusted=$AGENT_ID
enroll "$untrusted" >/dev/null
if wait_for failed 30 failed_with "$untrusted" "TDX quote: PCK certificate"; then
        ok "a quote under an untrusted root: failed, named"
else not_ok "a quote under an untrusted root: failed, named"; vv status --agent "$untrusted" | diag; fi

# a TD whose firmware the policy does not allow: the quote's MRTD, copied from its TDREPORT
azure_vm othermrtd "$good_imds" --measurement "$(printf '33%.0s' $(seq 48))" || exit 1
othermrtd=$AGENT_ID
enroll "$othermrtd" >/dev/null
if wait_for failed 30 failed_with "$othermrtd" "TDX quote: MRTD 3333.* is not allowed by the policy"; then
        ok "an MRTD outside the policy: failed, named"
else not_ok "an MRTD outside the policy: failed, named"; vv status --agent "$othermrtd" | diag; fi

# a paravisor that never puts the agent's user data into a new report: the agent will not
# serve the stale one, and the verifier shows why it has no quote
azure_vm stale "$good_imds" --stale || exit 1
stale=$AGENT_ID
enroll "$stale" >/dev/null
if wait_for named 40 refused_named "$stale" "the paravisor did not put" && ! released "$stale"; then
        ok "a stale HCL report: no key, the reason named"
else
        not_ok "a stale HCL report: no key, the reason named"
        vv status --agent "$stale" | diag; tail -3 stale.log | diag
fi

# IMDS down (nothing listens): with platform_report = required the agent serves no quote and
# says which URL failed; the verifier releases nothing
down_url="http://127.0.0.1:$(random_port)/acc/tdquote"
PLATFORM_REPORT=required azure_vm down "$down_url" || exit 1
down=$AGENT_ID
enroll "$down" >/dev/null
if wait_for named 40 refused_named "$down" "Azure IMDS TD quote: POST of the TDREPORT: $down_url"; then
        ok "IMDS down: no quote, the URL named"
else not_ok "IMDS down: no quote, the URL named"; vv status --agent "$down" | diag; tail -3 down.log | diag; fi
expect_equal "... and no key for it" "$(status "$down" payload_released_at)" null

if ! grep -q "$(cat disk.key)" verifier.log ./*.log 2>/dev/null; then ok "the disk key is in no log"
else not_ok "the disk key is in no log"; fi
