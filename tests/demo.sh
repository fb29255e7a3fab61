#!/bin/bash
# make demo: a fresh software vTPM, vmattest's identity, registration with the tenant's
# registrar (vmattest-verifier), a quote, and tpm2_checkquote verifying that quote as a
# verifier would. The swtpm is stopped at the end (and on Ctrl-C).
. "$(dirname "$0")/integration/lib.sh"
set -eo pipefail

vmattest() { "$VMATTEST" "$@"; }
vmattest-verifier() { "$VMATTEST_VERIFIER" "$@"; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }

step "Starting a fresh vTPM (swtpm, EK certificates from swtpm's local CA)"
swtpm_start demo-tpm
echo "vTPM listening: $VMATTEST_TCTI (pid $SWTPM_PID)"
cd "$TEST_TMP"

step "The VM's TPM identity: EK, its certificate, and the AK (created on first use)"
show vmattest identity

step "The tenant's registrar: vmattest-verifier, trusting swtpm's EK certificate authority"
verifier_config verifier.conf
verifier_start verifier.conf
echo "vmattest-verifier serve: registrar on http://127.0.0.1:$VERIFIER_PORT (pid $VERIFIER_PID)"
agent_config agent.conf "$VERIFIER_PORT"

step "The agent registers: EK + certificate, AK, mTLS certificate; then proves the AK is in that TPM"
show vmattest --config agent.conf register
sed -n 's/^vmattest-verifier: registrar: /registrar log: /p' "$TEST_TMP/verifier.log"
show vmattest-verifier --config verifier.conf agents

step "Binding PCR 16 to a payload key, as the agent does before every quote"
openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -out payload-key.pem 2>/dev/null
show vmattest extend --pcr 16 --reset --data-file payload-key.pem --bank sha256

nonce=$(openssl rand -hex 10)
step "A verifier asks for a quote of PCRs 0-9 and 16 with nonce $nonce"
show vmattest quote --nonce "$nonce" --pcrs 0-9,16 --out quote >quote.txt
echo "Keylime quote string ($(wc -c <quote.txt) bytes): $(cut -c1-72 quote.txt)..."

step "The verifier checks it with tpm2-tools"
show tpm2_checkquote -u quote/ak.pub -m quote/quote.msg -s quote/quote.sig -f quote/quote.pcrs \
        -q "$(printf %s "$nonce" | xxd -p -c 256)" -g sha256 | sed -n '1,4p;/16:/p'
echo "tpm2_checkquote: signature, nonce and PCR digest verified"

step "A replayed quote with another nonce is rejected"
if tpm2_checkquote -u quote/ak.pub -m quote/quote.msg -s quote/quote.sig -f quote/quote.pcrs \
        -q "$(openssl rand -hex 10)" -g sha256 >/dev/null 2>&1; then
        echo "UNEXPECTED: a stale quote verified" >&2; exit 1
fi
echo "tpm2_checkquote: rejected (nonce mismatch), as it must be"

step "Stopping the registrar and the vTPM"
verifier_stop
swtpm_stop
echo "done."
