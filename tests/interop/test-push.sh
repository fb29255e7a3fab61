#!/bin/bash
# Keylime's push model (API v3.0, "agent-driven attestation") against an unmodified Keylime
# 7.14.3: its verifier with mode = push, its registrar and tenant. `vmattest serve` with mode =
# push opens no port: it registers, opens a session with a proof of possession of its AK
# (TPM2_Certify), offers its capabilities, gives the quote and the IMA list the verifier asks
# for, and waits what the verifier says. Keylime accepts several attestations (its own record
# of them, GET /v3.0/agents/ID/attestations), then an IMA entry outside the runtime policy makes
# it fail the agent. A second agent gives the UEFI event log of a real OVMF boot (with PCR 15's
# records after it), which Keylime replays against the quote under a measured-boot policy.
. "$(dirname "$0")/lib.sh"
plan 10

cd "$TEST_TMP" || exit 1
keylime_configure || exit 1
keylime_set "$KEYLIME_VERIFIER_CONFIG" mode push || exit 1
keylime_service verifier "$KEYLIME_VERIFIER_PORT" || exit 1
keylime_service registrar "$KEYLIME_REGISTRAR_PORT" "$KEYLIME_REGISTRAR_TLS_PORT" || exit 1

# Keylime's record of the agent's attestations, as its admin (the tenant's client certificate)
# reads them: "INDEX EVALUATION STAGE" of attestation INDEX (or latest). (Its list of them, GET
# .../attestations, answers 500 in 7.14.3 once there are two: every item has the id None; and
# it deletes the older attestations that passed.)
keylime_attestation() {
        local fields='"\(.data.links.self // "" | sub(".*/"; "")) \(.data.attributes.evaluation) '
        fields+='\(.data.attributes.stage)"'
        curl -s --max-time 10 --cacert "$KEYLIME_DIR/cv_ca/cacert.crt" --cert "$KEYLIME_DIR/cv_ca/client-cert.crt" \
                --key "$KEYLIME_DIR/cv_ca/client-private.pem" \
                "https://127.0.0.1:$KEYLIME_VERIFIER_PORT/v3.0/agents/$1/attestations/$2" |
                jq -r "$fields"
}
latest_failed() { [ "$(keylime_attestation "$1" latest | cut -d' ' -f2)" = fail ]; }

# the kernel's IMA list, as tests/integration fabricates it: boot_aggregate over PCRs 0-9, then
# two programs, each entry extended into the swtpm's PCR 10
swtpm_start vm >/dev/null || exit 1
ima_add boot_aggregate "$(boot_aggregate)"
ima_add /usr/bin/good "$(sha good)"
ima_add /usr/lib/libgood.so "$(sha libgood)"
cp ima.log reference.log
"$TOOLS_DIR/ima-forge" reference.log /usr/bin/later "$(sha later)" >/dev/null

agent_config vm.conf "$KEYLIME_REGISTRAR_PORT" "port = $(random_port)
state_dir = $TEST_TMP/vm-state
vmattest_ml_path = $TEST_TMP/vm-measurements.log
measuredboot_ml_path = $TEST_TMP/vm-no-eventlog
ima_ml_path = $TEST_TMP/ima.log
mode = push
verifier_url = https://127.0.0.1:$KEYLIME_VERIFIER_PORT
verifier_tls_ca_cert = $KEYLIME_DIR/cv_ca/cacert.crt
attestation_interval_seconds = 2"
"$VMATTEST" --config vm.conf serve >vm.log 2>&1 &
AGENT_PID=$!
verifier_pids+=("$AGENT_PID")
agent=""
agent_started() { grep -q 'attesting in push mode' vm.log; }
if wait_for "start" 30 agent_started; then
        agent=$(sed -n 's/.*agent \([0-9a-f]*\) attesting in push mode.*/\1/p' vm.log)
        ok "vmattest serve (mode = push) registers with Keylime's registrar and attests to its verifier"
else not_ok "vmattest serve (mode = push) registers with Keylime's registrar and attests to its verifier";
        diag <vm.log; fi
# no listening socket of the agent's: `ss` lists the agent's process with none
if kill -0 "$AGENT_PID" 2>/dev/null && ! ss -Hltnp 2>/dev/null | grep -q "pid=$AGENT_PID,"; then
        ok "... with no port open"
else not_ok "... with no port open"; ss -ltnp | diag; fi

if keylime_policy create runtime --ima-measurement-list reference.log -o runtime-policy.json >policy.out 2>&1 &&
        keylime_tenant -c add --push-model -u "$agent" --tpm_policy '{}' --runtime-policy runtime-policy.json \
                >add.out 2>&1; then
        ok "keylime_tenant -c add --push-model --runtime-policy enrolls the agent"
else not_ok "keylime_tenant -c add --push-model --runtime-policy enrolls the agent"; diag <policy.out; diag <add.out
        keylime_log_diag; fi

# Keylime's record of the agent (GET /v2.6/agents/ID) counts the attestations that passed
passing() { keylime_polled "$1" "$2" && [ "$(keylime_field "$1" attestation_status)" = PASS ]; }
if wait_for "attestations" 60 passing "$agent" 3 &&
        [ "$(keylime_attestation "$agent" latest | cut -d' ' -f2-)" = "pass verification_complete" ]; then
        ok "Keylime's verifier accepts the agent's evidence (3 attestations pass)"
else not_ok "Keylime's verifier accepts the agent's evidence (3 attestations pass)";
        keylime_attestation "$agent" latest | diag
        tail -n 20 vm.log | diag; keylime_log_diag; fi
if grep -q 'push: session open' vm.log && grep -q 'push: attestation [0-9]* accepted' vm.log; then
        ok "... over a session opened with a proof of possession of the AK"
else not_ok "... over a session opened with a proof of possession of the AK"; diag <vm.log; fi

# a program in the policy runs: the list grows, the verifier asks from the entry after the last
before=$(keylime_field "$agent" attestation_count)
ima_add /usr/bin/later "$(sha later)"
if wait_for "attestations" 30 passing "$agent" $((before + 2)); then
        ok "... and again once the list grew by an entry in the policy (2 more pass)"
else not_ok "... and again once the list grew by an entry in the policy (2 more pass)";
        keylime_attestation "$agent" latest | diag
        keylime_log_diag; fi

# a program outside the policy runs
ima_add /usr/bin/evil "$(sha evil)"
if wait_for "fail" 30 latest_failed "$agent" && keylime_failed "$agent"; then
        ok "an IMA entry outside the runtime policy: Keylime fails the agent"
else not_ok "an IMA entry outside the runtime policy: Keylime fails the agent";
        keylime_attestation "$agent" latest | diag
        keylime_log_diag; fi
if grep -q "/usr/bin/evil" "$KEYLIME_DIR/verifier.log"; then ok "... naming the file (/usr/bin/evil)"
else not_ok "... naming the file (/usr/bin/evil)"; keylime_log_diag; fi

# measured boot: the real OVMF boot's log (tests/fixtures/boot) replayed into a second swtpm,
# PCR 15 as the initrd leaves it; Keylime asks for the uefi_log and replays it
swtpm_start boot >/dev/null || exit 1
"$TOOLS_DIR/eventlog-replay" "$OLDPWD/tests/fixtures/boot/binary_bios_measurements" | xargs -r -n 8 tpm2_pcrextend
agent_config boot.conf "$KEYLIME_REGISTRAR_PORT" "port = $(random_port)
state_dir = $TEST_TMP/boot-state
vmattest_ml_path = $TEST_TMP/boot-measurements.log
measuredboot_ml_path = $OLDPWD/tests/fixtures/boot/binary_bios_measurements
ima_ml_path = $TEST_TMP/boot-no-ima
mode = push
verifier_url = https://127.0.0.1:$KEYLIME_VERIFIER_PORT
verifier_tls_ca_cert = $KEYLIME_DIR/cv_ca/cacert.crt
attestation_interval_seconds = 2"
root="/dev/disk/by-uuid/$(cat /proc/sys/kernel/random/uuid)"
"$VMATTEST" --config boot.conf measure --event root-identity --data "$root" >/dev/null &&
        "$VMATTEST" --config boot.conf measure --event leave-initrd --data switch-root >/dev/null || exit 1
"$VMATTEST" --config boot.conf serve >boot.log 2>&1 &
verifier_pids+=("$!")
boot_started() { grep -q 'attesting in push mode' boot.log; }
wait_for "start" 30 boot_started
boot=$(sed -n 's/.*agent \([0-9a-f]*\) attesting in push mode.*/\1/p' boot.log)
echo '{"boot": "OVMF, kernel EFI stub", "checked_by": "accept-all: the log replays to the quote"}' >ovmf-refstate.json
if [ -n "$boot" ] && keylime_tenant -c add --push-model -u "$boot" --tpm_policy '{}' --mb-policy ovmf-refstate.json \
        >add-boot.out 2>&1 && wait_for "attestations" 60 passing "$boot" 3; then
        ok "a measured-boot policy: Keylime replays the agent's UEFI log (and PCR 15's records) and passes it"
else not_ok "a measured-boot policy: Keylime replays the agent's UEFI log (and PCR 15's records) and passes it"
        diag <add-boot.out; tail -n 5 boot.log | diag; keylime_log_diag; fi
expect_equal "... over PCRs 0-9 and 11-15 (the verifier's mask)" \
        "$(keylime_field "$boot" tpm_policy | jq -r .mask)" 0xfbff
