#!/bin/bash
# The first run on a fresh machine (issue 11: `make demo` as the first command): the verifier's
# tpm_cert_store is filled with swtpm's local CA before any swtpm_setup has made that CA. Here
# swtpm_setup is pointed (XDG_CONFIG_HOME) at a CA directory that does not exist yet, as on a
# machine where swtpm was just installed, and the verifier is configured before the first vTPM.
. "$(dirname "$0")/lib.sh"
plan 3

cd "$TEST_TMP" || exit 1
mkdir -p xdg
export XDG_CONFIG_HOME=$TEST_TMP/xdg
cat >xdg/swtpm_setup.conf <<CONF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $TEST_TMP/xdg/swtpm-localca.conf
create_certs_tool_options = /etc/swtpm-localca.options
active_pcr_banks = sha256
CONF
cat >xdg/swtpm-localca.conf <<CONF
statedir = $TEST_TMP/localca
signingkey = $TEST_TMP/localca/signkey.pem
issuercert = $TEST_TMP/localca/issuercert.pem
certserial = $TEST_TMP/localca/certserial
CONF

verifier_config verifier.conf
expect_equal "the trust store holds the CA swtpm_setup made for it" \
        "$(cmp -s ek-ca/issuercert.pem localca/issuercert.pem && echo same)" same
verifier_start verifier.conf || exit 1
swtpm_start >/dev/null || exit 1
expect_equal "the vTPM's EK certificate comes from that CA" \
        "$("$VMATTEST" identity --json | jq -r .ek.certificate.issuer)" "CN=swtpm-localca"
agent_config agent.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/state
max_retries = 0"
expect_success "the first agent registers: its EK certificate chains to the store" \
        "$VMATTEST" --config agent.conf register
