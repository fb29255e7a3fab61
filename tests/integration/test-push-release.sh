#!/bin/bash
# Key release in push mode, vmattest's extension of API v3 (docs/protocol.md §4.3): `unlock` with
# mode = push attests to vmattest-verifier's v3 API, fetches GET .../vmattest/release, opens U and
# V in the TPM and answers the volume's password request; a second unlock in the same boot gets
# none; a software payload key is refused; an unsatisfied policy releases nothing; the key is in
# no file and no log. The enrolment that releases comes late (16 s after the agent registered):
# the agent, not known to the verifier yet, backs off at most 4 s at a time in unlock (so that a
# late verifier is not missed), telling each wait, and unlocks once enrolled.
. "$(dirname "$0")/lib.sh"
plan 10

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
uuid=5f1e2d3c-0000-4000-8000-00000000abce
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
echo '{}' >any-pcrs.json
# Keylime's tpm_policy: {"PCR": [values]} (a "pcrs" member is refused at add)
printf '{"23": ["%s"]}\n' "$(printf 'ab%.0s' $(seq 32))" >wrong-pcrs.json
tls_port=$(random_port)
release_verifier_config "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")"
verifier_start verifier.conf || exit 1
wait_port "$VERIFIER_PID" "$tls_port" || { echo "the registrar's TLS port did not open" >&2; exit 1; }
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
mkdir -p ask
agent_config agent.conf "$VERIFIER_PORT" "port = $(random_port)
ima_ml_path = $TEST_TMP/none
mode = push
verifier_url = https://127.0.0.1:$tls_port
verifier_tls_ca_cert = $TEST_TMP/verifier-ca.pem
attestation_interval_seconds = 1
unlock_volumes = $uuid
askpass_dir = $TEST_TMP/ask
unlock_timeout = 12"

# unlock_round NAME POLICY [CONFIG]: an unlock in push mode with a password request waiting
unlock_round() {
        "$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 25 "$1.answer" &
        local listener=$!
        "$VMATTEST" --config "${3:-agent.conf}" unlock --cmdline /dev/null >"$1.log" 2>&1 &
        local agent=$!
        verifier_pids+=("$agent" "$listener")
        wait_for registered 20 grep -q "unlock: registered" "$1.log"
        sleep "${LATE:-0}"
        vv add --agent "$agent_id" --policy "$2" --payload disk.key --allow-unpinned-cmdline --push >"$1.add" 2>&1 ||
                diag <"$1.add"
        wait "$agent"
        UNLOCK_STATUS=$?
        [ "$UNLOCK_STATUS" -ne 0 ] || wait_for answer 5 test -s "$1.answer"
        kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
}
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }

# an unsatisfied policy first (PCR 15 stays clean): attested and failed, no key
sed 's/^unlock_timeout = 12$/unlock_timeout = 6/' agent.conf >short.conf
unlock_round unsatisfied wrong-pcrs.json short.conf
expect_equal "with an unsatisfied policy (PCR 23 named), no key: the fallback (exit 3), the request unanswered" \
        "$UNLOCK_STATUS $([ -s unsatisfied.answer ] && echo answered || echo unanswered) $(status failure | grep -o 'PCR 23')" \
        "3 unanswered PCR 23"
vv delete --agent "$agent_id" >/dev/null

# a software payload key: refused, named
sed 's/^unlock_timeout = 12$/unlock_timeout = 6/; $a payload_key = software' agent.conf >software.conf
unlock_round software any-pcrs.json software.conf
if [ "$UNLOCK_STATUS" -eq 3 ] && [ ! -s software.answer ] &&
        grep -q "not certified as TPM-resident" verifier.log; then
        ok "a software payload key gets no key, and the verifier names why"
else not_ok "a software payload key gets no key ($UNLOCK_STATUS)"; grep -i release verifier.log | diag; fi
vv delete --agent "$agent_id" >/dev/null

sed 's/^unlock_timeout = 12$/unlock_timeout = 40/' agent.conf >late.conf
LATE=16 unlock_round first any-pcrs.json late.conf
expect_equal "unlock in push mode exits 0 with the key from vmattest-verifier" "$UNLOCK_STATUS" 0
# the waits before the enrolment, from the agent's progress lines ("trying again in N s")
waits=$(grep -o 'trying again in [0-9]* s' first.log | grep -o '[0-9]*' | sort -n | uniq | tr '\n' ' ')
longest=$(grep -o 'trying again in [0-9]* s' first.log | grep -o '[0-9]*' | sort -n | tail -n 1)
if [ -n "$longest" ] && [ "$longest" -le 4 ] && [ "$longest" -ge 2 ]; then
        ok "before its enrolment the unlocking agent backs off, at most 4 s a wait, each told (waits: $waits)"
else not_ok "before its enrolment the unlocking agent backs off at most 4 s a wait (waits: ${waits:-none told})"
        grep push first.log | tail -n 5 | diag; fi
expect_equal "... and its tries before the enrolment were refused as not enrolled, not rate-limited" \
        "$(grep -c 'HTTP 429' first.log)" 0
expect_equal "it answered the volume's password request with the released key" \
        "$(cat first.answer 2>/dev/null)" "$(cat disk.key)"
expect_equal "PCR 15's log records the release" \
        "$("$VMATTEST" --config agent.conf measure --list | cut -d' ' -f2 | tr '\n' ' ')" "root-identity key-released "
# the unlock has stopped pushing, as at switch-root: the verifier waits for the runtime agent
# past its 5 quote intervals (PUSH_HANDOVER_GRACE from the release), the agent is not failed
sleep 7
expect_equal "after the release the verifier waits for the runtime agent beyond 5 quote intervals" \
        "$(status state) $(status failure)" "polling null"
if ! grep -rqF "$(cat disk.key)" --exclude=disk.key --exclude='*.answer' "$TEST_TMP"; then
        ok "the disk key is in no file and no log"
else not_ok "the disk key is in no file and no log"; grep -rlF "$(cat disk.key)" "$TEST_TMP" | diag; fi

# the same boot again: PCR 15 records the release, so no second key
vv delete --agent "$agent_id" >/dev/null
unlock_round second any-pcrs.json short.conf
expect_equal "a second unlock in the same boot gets no key (exit 3, unanswered)" \
        "$UNLOCK_STATUS $([ -s second.answer ] && echo answered || echo unanswered)" "3 unanswered"
