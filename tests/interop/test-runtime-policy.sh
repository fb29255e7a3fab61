#!/bin/bash
# IMA with Keylime: a runtime policy made by Keylime's own `keylime-policy create runtime` from
# a reference IMA list passes the agent (the verifier replays the list vmattest serves against
# the quoted PCR 10), also as the list grows (the verifier then asks for the new entries only);
# an entry outside the policy makes Keylime's verifier fail the agent, naming the file.
. "$(dirname "$0")/lib.sh"
plan 7

cd "$TEST_TMP" || exit 1
keylime_start || exit 1
keylime_agent vm "ima_ml_path = $TEST_TMP/ima.log" || exit 1
agent=$AGENT_ID

# the kernel's IMA list, as tests/integration fabricates it: boot_aggregate over PCRs 0-9, then
# two programs, each entry extended into the swtpm's PCR 10
ima_add boot_aggregate "$(boot_aggregate)"
ima_add /usr/bin/good "$(sha good)"
ima_add /usr/lib/libgood.so "$(sha libgood)"

# the reference list also holds a program that runs later
cp ima.log reference.log
"$TOOLS_DIR/ima-forge" reference.log /usr/bin/later "$(sha later)" >/dev/null

if keylime_policy create runtime --ima-measurement-list reference.log -o runtime-policy.json >policy.out 2>&1 &&
        [ "$(jq -r '.digests["/usr/bin/good"][0]' runtime-policy.json)" = "$(sha good)" ]; then
        ok "keylime-policy create runtime makes a runtime policy from an IMA list"
else not_ok "keylime-policy create runtime makes a runtime policy from an IMA list"; diag <policy.out; fi

if keylime_tenant -c add -t 127.0.0.1 -tp "$AGENT_PORT" -u "$agent" --tpm_policy '{}' \
        --runtime-policy runtime-policy.json >add.out 2>&1; then
        ok "keylime_tenant -c add --runtime-policy enrolls the agent"
else not_ok "keylime_tenant -c add --runtime-policy enrolls the agent"; diag <add.out; keylime_log_diag; fi

if wait_for "polls" 20 keylime_polled "$agent" 3; then ok "the verifier replays the IMA list and passes the agent (3 attestations)"
else not_ok "the verifier replays the IMA list and passes the agent (3 attestations)"; keylime_verifier_agent "$agent" | diag; keylime_log_diag; fi
expect_equal "... with its runtime policy, PCR 10 in the quotes (keylime_tenant -c cvstatus)" \
        "$(keylime_cvstatus "$agent" | jq -c '[.operational_state, .attestation_status, .has_runtime_policy, (.tpm_policy | fromjson | .mask)]')" \
        '["Get Quote","PASS",1,"0x400"]'

# a program in the policy runs: the list grows, the verifier asks from the entry after the last
before=$(keylime_field "$agent" attestation_count)
ima_add /usr/bin/later "$(sha later)"
if wait_for "polls" 15 keylime_polled "$agent" $((before + 2)) && [ "$(keylime_field "$agent" attestation_status)" = PASS ]; then
        ok "... and again once the list grew by an entry in the policy (2 more attestations)"
else not_ok "... and again once the list grew by an entry in the policy (2 more attestations)"; keylime_verifier_agent "$agent" | diag; keylime_log_diag; fi

# a program outside the policy runs
ima_add /usr/bin/evil "$(sha evil)"
if wait_for "fail" 15 keylime_failed "$agent"; then ok "an IMA entry outside the runtime policy: Keylime fails the agent"
else not_ok "an IMA entry outside the runtime policy: Keylime fails the agent"; keylime_verifier_agent "$agent" | diag; keylime_log_diag; fi
if grep -q "/usr/bin/evil" "$KEYLIME_DIR/verifier.log" &&
        [ "$(keylime_field "$agent" last_event_id)" = "ima.validation.ima-ng.not_in_allowlist" ]; then
        ok "... naming the file (/usr/bin/evil, not in the allowlist)"
else not_ok "... naming the file (/usr/bin/evil, not in the allowlist)"; keylime_verifier_agent "$agent" | diag; keylime_log_diag; fi
