#!/bin/bash
# Azure confidential VMs end to end (docs/platforms.md, "Azure"): swtpms laid out as Azure's vTPM
# (the AK at 0x81000003 certified in NV 0x01C101D0, the HCL report's NV index 0x01400001), each
# behind the paravisor TEST DOUBLE tests/tools/hcl-double (fake AMD keys; its fake ARK the
# verifier's platform_test_roots, its VCEK in the verifier's vcek_cache_dir), which makes a new
# HCL report whenever the agent writes user data to NV 0x01400002. Under an azure-sev-snp
# platform policy the key is released to the agent whose report binds this nonce and its AK (its
# user-data index first found with another size, which the agent defines anew);
# refused, named: a report whose HCLAkPub is another key, a paravisor that leaves the report
# stale, and an azure-tdx policy that asks for a CC event log (no Azure TDX guest serves one;
# Azure TDX itself: test-azure-tdx.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cloud_vtpm.sh"
plan 9

cd "$TEST_TMP" || exit 1
tenant_pki
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
printf '{"15": ["%064d"]}\n' 0 >any-pcrs.json
chip=$(printf 'c1%.0s' $(seq 64))
mkdir -p ak-ca vcek-cache

cloud_ca cloud-ca || exit 1
cp cloud-ca.pem ak-ca/
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout >other-ak.pem

# azure_vm NAME [HCL-DOUBLE OPTIONS...]: a swtpm with Azure's layout behind a paravisor double,
# an agent serving on it (ak_source auto); AGENT_ID
azure_vm() { azure_hcl_vm "$1" "" "${@:2}"; }

# the doubles all sign with the same fake keys and chip id: its ARK is the verifier's test root,
# its VCEK (with the ASK) the tenant's cached one
"$TOOLS_DIR/hcl-double" --keys "$TSM_DOUBLE_KEYS" --certs-only --ark-out hcl.ark.pem --vcek-out "vcek-cache/$chip" ||
        exit 1
verifier_config verifier.conf "ak_cert_store = $TEST_TMP/ak-ca
$(verifier_poll_config "platform_test_roots = $TEST_TMP/hcl.ark.pem
amd_certs_dir = $TEST_TMP/no-amd-certs
vcek_cache_dir = $TEST_TMP/vcek-cache")"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
# the agent waits up to 5 s for the paravisor's new report: the verifier waits longer for it
sed -i 's/^request_timeout = .*/request_timeout = 15/' verifier.conf
verifier_start verifier.conf || exit 1
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }
released() { [ "$(status "$1" payload_released_at)" != null ]; }
failed_with() { [ "$(status "$1" state)" = failed ] && status "$1" failure | grep -q "$2"; }

USER_DATA_INDEX_SIZE=32 azure_vm good || exit 1
good=$AGENT_ID
printf '{"platform": "azure-sev-snp", "measurements": ["%s"]}\n' "$(printf '5a%.0s' $(seq 48))" >azure-policy.json
printf '{"platform": "azure-tdx", "mrtd": ["%s"], "require_cc_event_log": true}\n' "$(printf '5a%.0s' $(seq 48))" \
        >azure-tdx-policy.json

expect_failure "an azure-tdx policy that requires a CC event log is refused when the tenant gives it" any \
        'require_cc_event_log is not an azure-tdx member' \
        vv add --agent x --policy any-pcrs.json --platform-policy azure-tdx-policy.json
expect_success "the tenant enrolls the Azure agent with an azure-sev-snp policy and its disk key" \
        vv add --agent "$good" --policy any-pcrs.json --platform-policy azure-policy.json --payload disk.key \
        --allow-unpinned-cmdline
if wait_for released 30 released "$good"; then ok "the key is released once the HCL report verifies"
else not_ok "the key is released once the HCL report verifies"; vv status --agent "$good" | diag; tail -5 good.log | diag; fi
if grep -q "agent $good attests (quote, PCRs, hardware report: Azure HCL, SEV-SNP" verifier.log; then
        ok "the verifier says what the report showed"
else not_ok "the verifier says what the report showed"; grep "agent $good" verifier.log | diag; fi
if grep -q "identity proof ak-certificate" verifier.log; then ok "the agent registered on Azure's AK certificate"
else not_ok "the agent registered on Azure's AK certificate"; fi

# a paravisor whose runtime data names another AK than the one that signs the quotes
azure_vm otherak --ak "$TEST_TMP/other-ak.pem" || exit 1
otherak=$AGENT_ID
vv add --agent "$otherak" --policy any-pcrs.json --platform-policy azure-policy.json --payload disk.key \
        --allow-unpinned-cmdline >/dev/null
if wait_for failed 30 failed_with "$otherak" "HCLAkPub is not the AK"; then ok "HCLAkPub another key: failed, named"
else not_ok "HCLAkPub another key: failed, named"; vv status --agent "$otherak" | diag; fi
expect_equal "... and no key for it" "$(status "$otherak" payload_released_at)" null

# a paravisor that never puts the agent's user data into a new report: the agent will not
# serve the stale one (503), and the verifier shows why it has no quote
azure_vm stale --stale || exit 1
stale=$AGENT_ID
stale_named() { vv status --agent "$1" | grep -q "unreachable: .*quote refused: platform report: Azure HCL report NV index 0x01400001: the paravisor did not put"; }
vv add --agent "$stale" --policy any-pcrs.json --platform-policy azure-policy.json --payload disk.key \
        --allow-unpinned-cmdline >/dev/null
if wait_for named 40 stale_named "$stale" && ! released "$stale"; then ok "a stale HCL report: no key, the reason named"
else not_ok "a stale HCL report: no key, the reason named"; vv status --agent "$stale" | diag; tail -3 stale.log | diag; fi

if ! grep -q "$(cat disk.key)" verifier.log ./*.log 2>/dev/null; then ok "the disk key is in no log"
else not_ok "the disk key is in no log"; fi
