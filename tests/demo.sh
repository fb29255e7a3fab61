#!/bin/bash
# make demo: one VM's attestation, told step by step, on this machine: a fresh software vTPM
# (swtpm) whose PCRs are extended as a firmware event log and an IMA list say, the vmattest
# agent registering and serving over mutual TLS, and vmattest-verifier (the tenant's registrar
# and verifier) polling it, passing, then failing when a program the policy does not know
# runs. Everything is stopped at the end, and on Ctrl-C.
. "$(dirname "$0")/integration/lib.sh"
set -eo pipefail

vmattest() { "$VMATTEST" "$@"; }
vmattest-verifier() { "$VMATTEST_VERIFIER" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
ima_add() { tpm2_pcrextend "10:sha256=$("$TOOLS_DIR/ima-forge" ima.log "$@")"; }

step "A fresh vTPM (swtpm, EK certificates from swtpm's local CA)"
swtpm_start demo-tpm
echo "vTPM listening: $VMATTEST_TCTI (pid $SWTPM_PID)"
cd "$TEST_TMP"

step "The VM boots: firmware and kernel measure into the vTPM (synthetic event log and IMA list)"
"$TOOLS_DIR/eventlog-forge" eventlog.bin 0:8:crtm-version 4:80000003:kernel-image 9:6:initrd >extends.txt
while read -r pcr digest; do tpm2_pcrextend "$pcr:sha256=$digest"; done <extends.txt
tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8,9 -o pcrs.bin >/dev/null
ima_add boot_aggregate "$(sha256sum <pcrs.bin | cut -d' ' -f1)"
ima_add /usr/sbin/sshd "$(sha sshd)"
ima_add /usr/bin/bash "$(sha bash)"
echo "event log: $(wc -l <extends.txt) events (kernel in PCR 4); IMA list: $(wc -l <ima.log) entries in PCR 10"

step "The VM's TPM identity: EK, its certificate, and the AK (created on first use)"
show vmattest identity

step "The tenant's verifier: registrar + verifier, trusting swtpm's EK CA"
tenant_pki
verifier_config verifier.conf "$(verifier_poll_config)"
verifier_start verifier.conf
echo "vmattest-verifier serve (pid $VERIFIER_PID): registrar on http://127.0.0.1:$VERIFIER_PORT, polling every second"

step "The agent registers (EK, AK, mTLS certificate), proves its AK, and serves over mutual TLS"
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/ima.log
measuredboot_ml_path = $TEST_TMP/eventlog.bin"
agent_serve agent.conf
sed 's/^/  /' agent.log
agent_id=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' agent.log)

step "The tenant enrolls the agent: PCR policy, measured-boot policy (kernel digest), runtime policy (IMA)"
printf '{"15": ["%064d"]}\n' 0 >tpm-policy.json
printf '{"version": 1, "bank": "sha256", "events": [{"pcr": 4, "type": "EV_EFI_BOOT_SERVICES_APPLICATION", "digests": ["%s"]}], "secure_boot": "any"}\n' \
        "$(grep '^4 ' extends.txt | cut -d' ' -f2)" >mb-policy.json
printf '{"meta": {"version": 1}, "digests": {"/usr/sbin/sshd": ["%s"], "/usr/bin/bash": ["%s"]}, "excludes": ["^/tmp/"]}\n' \
        "$(sha sshd)" "$(sha bash)" >runtime-policy.json
cat runtime-policy.json
show vmattest-verifier --config verifier.conf add --agent "$agent_id" --policy tpm-policy.json \
        --mb-policy mb-policy.json --runtime-policy runtime-policy.json

step "The verifier polls: quote (AK, nonce, PCR 16 payload binding), event log replay, IMA replay"
state_is() { # state_is FIELD VALUE [!]: the agent's status field equals (or with !, differs from) VALUE
        local got
        got=$("$VMATTEST_VERIFIER" --config verifier.conf status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1")
        if [ "${3:-}" = '!' ]; then [ "$got" != "$2" ]; else [ "$got" = "$2" ]; fi
}
wait_for good 20 state_is last_ok null '!'
sleep 2 # a few more polls
show vmattest-verifier --config verifier.conf status --agent "$agent_id" || true
grep -E 'polling agent|attests' "$TEST_TMP/verifier.log" | sed 's/^/  /' || true

step "In the VM, a program the tenant's policy does not allow runs (IMA measures it)"
ima_add /usr/local/bin/cryptominer "$(sha cryptominer)"
tail -n 1 ima.log
wait_for failed 20 state_is state failed
show vmattest-verifier --config verifier.conf status --agent "$agent_id" || true

step "Meanwhile, a quote checked with tpm2-tools alone: what any verifier can do"
nonce=$(openssl rand -hex 10)
show vmattest quote --nonce "$nonce" --pcrs 0-9,16 --out quote >/dev/null
tpm2_checkquote -u quote/ak.pub -m quote/quote.msg -s quote/quote.sig -f quote/quote.pcrs \
        -q "$(printf %s "$nonce" | xxd -p -c 256)" -g sha256 >/dev/null
echo "tpm2_checkquote: signature, nonce and PCR digest verified"

step "Stopping the agent, the verifier and the vTPM"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
verifier_stop
swtpm_stop
echo "done."
