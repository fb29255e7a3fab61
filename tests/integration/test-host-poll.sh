#!/bin/bash
# The host binding checked by the poller (docs/protocol.md §5.9), end to end with swtpms: three
# play hosts' TPMs (host1 and host2 trusted by the tenant, host3 not), one the VM's vTPM, one
# another VM's. vmattest-host provisions the binding into the vTPM, `vmattest serve` runs on it
# and serves the binding with every integrity quote, vmattest-verifier polls it under a host
# policy: the key is released, the status names the host, a move to host2 keeps the agent
# attesting (an event: logged, in the status, POSTed to the webhook), a move to host3 fails it.
# Refused by name: an untrusted host AK, a host PCR outside the policy, a binding made for
# another vTPM (its NV contents copied over), a required binding that is absent (first on a
# vTPM no host provisioned, "bare", before any key left: then the same enrolment gets the key
# once host1 provisions it).
. "$(dirname "$0")/lib.sh"
plan 34

VMATTEST_HOST=${VMATTEST_HOST:-$(dirname "$VMATTEST")/vmattest-host}
NV=0x01400100

for name in host1 host2 host3 other bare vtpm; do
        swtpm_start "$name" >/dev/null || exit 1
        declare "${name}_tcti=$VMATTEST_TCTI"
done
# vtpm started last: the agent's TPM ($VMATTEST_TCTI)
cd "$TEST_TMP" || exit 1
tenant_pki
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
printf '[host]\n' >host.conf
host() { "$VMATTEST_HOST" --config host.conf "$@"; }
on() { local tcti=$1; shift; TPM2TOOLS_TCTI=$tcti "$@"; }
provision() { # provision HOST VTPM-TCTI: HOST's TPM binds the vTPM (a migration provisions again)
        local tcti_var="${1}_tcti"
        host --tcti "${!tcti_var}" provision --vtpm-tcti "$2" --pcrs 0-7 --nv-index "$NV" >"provision-$1.log" 2>&1
}
mkdir -p trusted
for name in host1 host2 host3; do
        tcti_var="${name}_tcti"
        host identity --tcti "${!tcti_var}" --json >"$name.json" 2>"$name.identity.log" || {
                cat "$name.identity.log" >&2; exit 1; }
done
jq -r .pem host1.json >trusted/host1.pem
jq -r .pem host2.json >trusted/host2.pem
host1=$(jq -r .name host1.json)
host2=$(jq -r .name host2.json)
host3=$(jq -r .name host3.json)

# the host policy: the trusted AKs, the hosts' PCRs 0-7 as a fresh swtpm has them (zeros)
on "$host1_tcti" tpm2_pcrread sha256:0,1,2,3,4,5,6,7 -o host-pcrs.bin >/dev/null
pcrs_json() { # pcrs_json FILE: {"0": "hex", ...} of 8 SHA-256 values
        xxd -p -c 32 "$1" | awk 'BEGIN { printf "{" } { printf "%s\"%d\": \"%s\"", (NR > 1 ? ", " : ""), NR - 1, $1 }
                END { printf "}" }'
}
printf '{"trusted_host_aks_dir": "%s", "pcrs": %s, "required": true}\n' "$TEST_TMP/trusted" \
        "$(pcrs_json host-pcrs.bin)" >host-policy.json
sed "s/\"7\": \"[0-9a-f]*\"/\"7\": \"$(printf '77%.0s' $(seq 32))\"/" host-policy.json >pcr7-policy.json
printf '{"trusted_host_aks_dir": "%s", "required": false}\n' "$TEST_TMP/trusted" >optional-policy.json
printf '{"15": ["%064d"]}\n' 0 >any-pcrs.json

webhook_port=$(random_port)
printf '{}' >webhook-body
"$TOOLS_DIR/fake-http" "$webhook_port" 200 webhook-body 2>webhook.log &
verifier_pids+=("$!")
verifier_config verifier.conf "$(verifier_poll_config "webhook_url = http://127.0.0.1:$webhook_port/vmattest")"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
verifier_start verifier.conf || exit 1
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
status() { vv status --agent "$agent" --json 2>/dev/null | jq -r ".[0].$1"; }
failed_with() { [ "$(status state)" = failed ] && status failure | grep -q -- "$1"; }
attests_on() { [ "$(status state)" = polling ] && [ "$(status last_ok)" != null ] && [ "$(status host)" = "$1" ]; }
released() { [ "$(status payload_released_at)" != null ]; }
enrol() { # enrol POLICY [ADD-OPTIONS]: (again) under host policy POLICY; its polling starts over
        local policy=$1; shift
        vv add --agent "$agent" --policy any-pcrs.json --host-policy "$policy" "$@" >add.log 2>&1 || cat add.log >&2
}
# check DESC SECONDS CMD...: one TAP line, the status shown when CMD never held
check() {
        local desc=$1 seconds=$2; shift 2
        if wait_for "$desc" "$seconds" "$@"; then ok "$desc"
        else not_ok "$desc"; vv status --agent "$agent" | diag; tail -n 5 agent.log | diag; fi
}

# the host policy is checked when the tenant gives it
printf '{"trusted_host_aks_dir": "%s", "pcr": {}}\n' "$TEST_TMP/trusted" >typo-policy.json
expect_failure "a host policy with a typo is refused, naming the member" any \
        'typo-policy.json: host policy: unknown member "pcr"' \
        vv add --agent x --policy any-pcrs.json --host-policy typo-policy.json
printf '{"trusted_host_aks_dir": "%s"}\n' "$TEST_TMP/none" >empty-policy.json
expect_failure "a host policy that trusts no host AK is refused" any "host policy: no trusted host AK" \
        vv add --agent x --policy any-pcrs.json --host-policy empty-policy.json

# no host binding: a VM on the vTPM "bare", which no host provisioned, under a host policy that
# requires one; the key must not leave the verifier, not even U (the agent logs every request)
agent_config bare.conf "$VERIFIER_PORT" "port = $(random_port)
state_dir = $TEST_TMP/bare-state
vmattest_ml_path = $TEST_TMP/bare-measurements.log
handover_path = $TEST_TMP/bare-handover
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes"
VMATTEST_TCTI=$bare_tcti "$VMATTEST" --config bare.conf serve >bare-agent.log 2>&1 &
verifier_pids+=("$!")
wait_port "$!" "$(sed -n 's/^port = //p' bare.conf)" || { cat bare-agent.log >&2; exit 1; }
agent=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' bare-agent.log)
bare_agent=$agent
enrol host-policy.json --payload disk.key --allow-unpinned-cmdline
check "no host binding: under a policy that requires one the verifier fails the agent, naming the absent index" 20 \
        failed_with "host binding: none, and the host policy requires one (the agent: NV index $NV is not defined)"
sleep 1 # a U sent after the failure would be in the agent's log by now
if [ "$(status payload_released_at)" = null ] && ! grep -qE 'keys/(ukey|vkey)' bare-agent.log &&
        ! grep -q "agent $bare_agent: payload released" verifier.log; then
        ok "no host binding: no key left the verifier (no U or V reached the agent, no release recorded)"
else
        not_ok "no host binding: no key left the verifier"; grep -E 'keys/' bare-agent.log | diag
fi
# the same agent and enrolment once host1 provisions that vTPM: the binding alone held the key
expect_success "host1 provisions the bare vTPM" provision host1 "$bare_tcti"
enrol host-policy.json --payload disk.key --allow-unpinned-cmdline
check "... then the same enrolment attests on host1 and the key is released" 20 \
        eval 'attests_on "$host1" && released'
vv delete --agent "$bare_agent" >/dev/null 2>&1

# the vTPM provisioned by host1 before "the VM starts", then the agent on it
expect_success "host1 provisions the vTPM" provision host1 "$vtpm_tcti"
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes"
agent_serve agent.conf || exit 1
agent=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' agent.log)
if grep -q "host binding in NV index $NV: host AK $host1, host PCRs sha256:0,1,2,3,4,5,6,7" agent.log
then ok "the agent reads the binding at start and names its host"
else not_ok "the agent reads the binding at start and names its host"; diag <agent.log; fi
curl -s --cacert agent-state/server-cert.crt --cert verifier-client.pem --key verifier-client.key \
        "https://127.0.0.1:$agent_port/v2.6/quotes/integrity?nonce=abcdefghij&mask=0x1&partial=0" >answer.json
expect_equal "the integrity quote carries the binding, as the NV index holds it" \
        "$(jq -r '.results.host_binding | .source, .index' answer.json; jq -r .results.host_binding.binding answer.json |
           base64 -d | cmp - <(on "$vtpm_tcti" tpm2_nvread "$NV" -C "$NV" 2>/dev/null) && echo same)" \
        "$(printf 'nv\n%s\nsame' "$NV")"

enrol host-policy.json --payload disk.key --allow-unpinned-cmdline
check "under the host policy the agent attests, and its status names host1" 20 attests_on "$host1"
check "... and the key is released" 20 released
if grep -q "agent $agent runs on host $host1" verifier.log; then
        ok "the verifier logs the agent's host"
else not_ok "the verifier logs the agent's host"; grep "$agent" verifier.log | tail -n 5 | diag; fi

# a migration to host2, which the tenant trusts: the destination provisions the vTPM again
expect_success "host2 provisions the vTPM again (the VM moved)" provision host2 "$vtpm_tcti"
check "the status shows the new host, and the agent keeps attesting" 20 attests_on "$host2"
expect_equal "... with the host before it and the time of the change" \
        "$(status previous_host) $(status 'host_changed_at != null')" "$host1 true"
if grep -q "agent $agent: HOST CHANGED from $host1 to $host2" verifier.log; then
        ok "the change of host is logged"
else not_ok "the change of host is logged"; grep "$agent" verifier.log | tail -n 5 | diag; fi
if wait_for "webhook" 5 grep -q "\"event\":\"host_changed\",\"previous_host\":\"$host1\",\"host\":\"$host2\"" webhook.log
then ok "the change of host is POSTed to the webhook"
else not_ok "the change of host is POSTed to the webhook"; diag <webhook.log; fi
sleep 2
expect_equal "... once" "$(grep -c '"event":"host_changed"' webhook.log)" 1

# a migration to host3, whose AK the tenant does not trust
expect_success "host3 provisions the vTPM (the VM moved again)" provision host3 "$vtpm_tcti"
check "an untrusted host fails the agent, naming the check and the change" 20 \
        failed_with "host AK is not one of the 2 trusted host AKs (the host changed from $host2 to $host3)"
if wait_for "webhook" 5 grep -q "\"state\":\"failed\".*host AK is not one of" webhook.log
then ok "the failure is POSTed to the webhook"
else not_ok "the failure is POSTed to the webhook"; diag <webhook.log; fi

# back on host1, under a policy that wants another PCR 7
provision host1 "$vtpm_tcti"
enrol pcr7-policy.json
check "a host PCR outside the policy fails the agent: host PCR 7" 20 failed_with "host binding: host PCR 7 is not"
enrol host-policy.json
check "the same binding passes the policy with the host's PCR 7" 20 attests_on "$host1"

# a binding made for another VM's vTPM, its NV contents copied into this vTPM
expect_success "host1 provisions the other vTPM" provision host1 "$other_tcti"
on "$other_tcti" tpm2_nvread "$NV" -C "$NV" -o other-binding >/dev/null 2>&1
on "$vtpm_tcti" tpm2_nvundefine "$NV" -C o >/dev/null 2>&1
on "$vtpm_tcti" tpm2_nvdefine "$NV" -C o -s "$(stat -c %s other-binding)" -a "ownerwrite|authread|ownerread" \
        >/dev/null 2>&1
on "$vtpm_tcti" tpm2_nvwrite "$NV" -C o -i other-binding >/dev/null 2>&1
enrol host-policy.json
check "a binding copied from another vTPM fails the agent: qualifyingData" 20 \
        failed_with "host binding: qualifyingData is not over this agent's EK"

# no binding at all: the index deleted (the guest's owner may do that). The agent's warnings are
# counted from here: a poll between the undefine and the write of the copy above finds no index
# either, and says so once then
absent_before=$(grep -c "no host binding: NV index $NV is not defined" agent.log)
on "$vtpm_tcti" tpm2_nvundefine "$NV" -C o >/dev/null 2>&1
enrol host-policy.json
check "a required binding that is absent fails the agent, with the agent's reason" 20 \
        failed_with "host binding: none, and the host policy requires one (the agent: NV index $NV is not defined)"
enrol optional-policy.json
check "a policy that does not require one lets it attest without a host" 20 attests_on null
expect_equal "the agent said once that it has no host binding" \
        "$(($(grep -c "no host binding: NV index $NV is not defined" agent.log) - absent_before))" 1

# host classes: host2 booted other firmware (another PCR 7), host3 (trusted here) a third kind
zeros=$(printf '%064d' 0)
on "$host2_tcti" tpm2_pcrextend "7:sha256=$(printf '22%.0s' $(seq 32))" >/dev/null
on "$host3_tcti" tpm2_pcrextend "7:sha256=$(printf '33%.0s' $(seq 32))" >/dev/null
on "$host2_tcti" tpm2_pcrread sha256:7 -o host2-pcr7.bin >/dev/null
gen2_pcrs=$(pcrs_json host-pcrs.bin | sed "s/\"7\": \"$zeros\"/\"7\": \"$(xxd -p -c 32 host2-pcr7.bin)\"/")
jq -n --arg dir "$TEST_TMP/trusted" --arg host3 "$(jq -r .pem host3.json)" --argjson gen1 "$(pcrs_json host-pcrs.bin)" \
        --argjson gen2 "$gen2_pcrs" '{trusted_host_aks_dir: $dir, trusted_host_aks: [$host3],
        host_classes: [{name: "gen1", pcrs: $gen1}, {name: "gen2", pcrs: $gen2}]}' >classes-policy.json
provision host1 "$vtpm_tcti"
enrol classes-policy.json
check "under two host classes host1 attests, its status naming class gen1" 20 \
        eval 'attests_on "$host1" && [ "$(status host_class)" = gen1 ]'
provision host2 "$vtpm_tcti"
check "host2, another PCR 7, attests too, its status naming class gen2" 20 \
        eval 'attests_on "$host2" && [ "$(status host_class)" = gen2 ]'
if grep -q "agent $agent: HOST CHANGED from $host1 to $host2, which the host policy trusts, host class gen2" \
        verifier.log
then ok "the change of host is logged with the class"
else not_ok "the change of host is logged with the class"; grep "$agent" verifier.log | tail -n 5 | diag; fi
provision host3 "$vtpm_tcti"
check "host3, a PCR 7 of neither class, fails the agent, naming the closest class" 20 \
        failed_with 'no host class matches: the closest, "gen1" (7 of its 8 PCRs), differs at host PCR 7'

# an agent whose agent.conf requires a binding does not start without one (on host3's TPM: a
# TPM without the index, and another agent id)
agent_config required.conf "$VERIFIER_PORT" "port = $(random_port)
state_dir = $TEST_TMP/required-state
trusted_client_ca = $TEST_TMP/verifier-ca.pem
host_binding = required"
expect_failure "host_binding = required: the agent does not start without the index" any \
        "host_binding = required, and NV index $NV is not defined" \
        env VMATTEST_TCTI="$host3_tcti" timeout 20 "$VMATTEST" --config required.conf serve
expect_success "the verifier exited cleanly" verifier_clean
