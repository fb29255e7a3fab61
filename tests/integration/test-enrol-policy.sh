#!/bin/bash
# vmattest-verifier add --payload and the kernel command line: the dracut module's rd.shell=0 and
# rd.emergency=poweroff can be overridden on the command line, which only PCR 9 measures. A
# payload is enrolled only when the tpm_policy or the measured-boot policy pins PCR 9, or when
# the tenant says --allow-unpinned-cmdline (a warning either way).
. "$(dirname "$0")/lib.sh"
plan 12

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
echo "luks-$(openssl rand -hex 16)" >disk.key
release_verifier_config
verifier_start verifier.conf || exit 1
agent_config agent.conf "$VERIFIER_PORT" "port = $(random_port)
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none"
agent_serve agent.conf || exit 1
agent=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' "$TEST_TMP/agent.log")
zero=$(printf '%064d' 0)
echo '{}' >any-pcrs.json
printf '{"15": ["%s"]}\n' "$zero" >pcr15.json
printf '{"9": ["%s"]}\n' "$zero" >pcr9.json
printf '{"version": 1, "bank": "sha256", "events": [{"pcr": 9, "type": "EV_EVENT_TAG", "digests": ["%s"]}]}\n' \
        "$zero" >mb-events9.json
printf '{"version": 1, "bank": "sha256", "pcrs": {"9": ["%s"]}}\n' "$zero" >mb-pcrs9.json
printf '{"version": 1, "bank": "sha256", "events": [{"pcr": 4, "type": "EV_EFI_ACTION", "digests": ["%s"]}]}\n' \
        "$zero" >mb-events4.json
warning='the kernel command line \(PCR 9\) is not pinned: a command line with rd.shell=1 or rd.break would get the key'
enrolled() { vv status --agent "$agent" --json >/dev/null 2>&1; }

expect_failure "a payload with a tpm_policy that leaves PCR 9 free is refused (exit 2)" 2 "$warning" \
        vv add --agent "$agent" --policy any-pcrs.json --payload disk.key
if grep -q -- "--allow-unpinned-cmdline" "$TEST_TMP/out" && ! enrolled && [ ! -e vault.key ]; then
        ok "... naming the option, enrolling nothing and storing no payload"
else not_ok "... naming the option, enrolling nothing and storing no payload"; diag <"$TEST_TMP/out"; fi
expect_failure "a tpm_policy pinning other PCRs does not pin the command line" 2 "$warning" \
        vv add --agent "$agent" --policy pcr15.json --payload disk.key
expect_failure "nor does a measured-boot policy without a PCR 9 rule" 2 "$warning" \
        vv add --agent "$agent" --policy pcr15.json --mb-policy mb-events4.json --payload disk.key --json
expect_failure "after the refusals the agent is not enrolled" 1 "is not enrolled" \
        vv status --agent "$agent"

# the tenant accepts the risk: enrolled, and still warned
if vv add --agent "$agent" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >add.out 2>add.err &&
   grep -Eq "$warning" add.err && grep -q "enrolled" add.out && enrolled; then
        ok "--allow-unpinned-cmdline enrolls it, with the warning on stderr"
else not_ok "--allow-unpinned-cmdline enrolls it, with the warning on stderr"; cat add.out add.err | diag; fi

# pinned: no warning, no option needed
pinned_ok() { # DESC ARGS...: add succeeds without the warning
        local desc=$1; shift
        if vv add --agent "$agent" "$@" --payload disk.key >add.out 2>add.err && ! grep -q 'PCR 9' add.err; then
                ok "$desc"
        else not_ok "$desc"; cat add.out add.err | diag; fi
}
pinned_ok "a tpm_policy value for PCR 9 pins the command line" --policy pcr9.json
pinned_ok "a measured-boot events rule for PCR 9 pins it" --policy any-pcrs.json --mb-policy mb-events9.json
pinned_ok "a measured-boot pcrs value for PCR 9 pins it" --policy pcr15.json --mb-policy mb-pcrs9.json

# no payload, no key to protect: nothing to say
if vv add --agent "$agent" --policy any-pcrs.json >add.out 2>add.err && ! grep -q 'PCR 9' add.err; then
        ok "without --payload there is no warning"
else not_ok "without --payload there is no warning"; cat add.err | diag; fi
expect_failure "the option belongs to add only" 2 "unknown option" vv status --agent "$agent" --allow-unpinned-cmdline
expect_success "the verifier exits cleanly" verifier_clean
