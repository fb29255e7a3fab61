#!/bin/bash
# One agent cannot stall or exhaust the verifier for the others: an agent that floods every
# answer (tests/tools/flood-agent.py, with the certificate a real agent registered) is cut at
# max_answer_mib and recorded as unreachable, not failed and not buffered whole; a webhook that
# hangs (tests/tools/dead-webhook.py) while failures are reported does not hold up the polls;
# all the while an honest agent keeps attesting with short polls.
. "$(dirname "$0")/lib.sh"
plan 6

cd "$TEST_TMP" || exit 1
tenant_pki
hook_port=$(random_port)
python3 "$(dirname "$VMATTEST")/../../tests/tools/dead-webhook.py" "$hook_port" &
verifier_pids+=("$!")
verifier_config verifier.conf "$(verifier_poll_config "webhook_url = http://127.0.0.1:$hook_port/hook
max_answer_mib = 4")"
verifier_start verifier.conf || exit 1
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }
echo '{}' >any.json
printf '{"15": ["%064d"]}\n' 1 >never.json

start_agent() { # start_agent NAME: a swtpm and vmattest serve; AGENT_ID, AGENT_PORT, AGENT_PID
        swtpm_start "$1" >/dev/null || exit 1
        AGENT_PORT=$(random_port)
        agent_config "$1.conf" "$VERIFIER_PORT" "port = $AGENT_PORT
state_dir = $TEST_TMP/$1-state
uuid = generate
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none"
        "$VMATTEST" --config "$1.conf" serve >"$1.log" 2>&1 &
        AGENT_PID=$!
        verifier_pids+=("$AGENT_PID")
        wait_port "$AGENT_PID" "$AGENT_PORT" || { cat "$1.log" >&2; exit 1; }
        AGENT_ID=$(cat "$1-state/agent_uuid")
}

start_agent honest; honest=$AGENT_ID
vv add --agent "$honest" --policy any.json >/dev/null
start_agent flood; flood=$AGENT_ID; flood_port=$AGENT_PORT
vv add --agent "$flood" --policy any.json >/dev/null
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
python3 "$(dirname "$VMATTEST")/../../tests/tools/flood-agent.py" "$flood_port" flood-state/server-cert.crt \
        flood-state/server-private.pem 64 &
verifier_pids+=("$!")
start_agent failing; failing=$AGENT_ID
vv add --agent "$failing" --policy never.json >/dev/null

# trouble for 12 s: the flood answers every poll, the failing agent is reactivated every second
# and fails again (a webhook that hangs each time), while the honest agent should be polled
# every second (quote_interval = 1) with short polls
polls0=$(status "$honest" polls)
worst=0
for ((i = 0; i < 12; i++)); do
        sleep 1
        vv reactivate --agent "$failing" >/dev/null 2>&1
        w=$(status "$honest" last_poll_ms)
        [ "$w" != null ] && [ "$w" -gt "$worst" ] && worst=$w
done
polls=$(( $(status "$honest" polls) - polls0 ))
expect_equal "the honest agent keeps attesting" "$(status "$honest" state) $([ "$(status "$honest" last_ok)" != null ] && echo ok)" \
        "polling ok"
if [ "$worst" -lt 2000 ] && [ "$polls" -ge 8 ]; then
        ok "... polled on time, with short polls, while the others make trouble ($polls polls in 12 s, worst $worst ms)"
else not_ok "... polled on time, with short polls, while the others make trouble ($polls polls in 12 s, worst $worst ms)"; fi
expect_equal "the flooding agent is cut at max_answer_mib and recorded unreachable, not failed" \
        "$(status "$flood" state) $(status "$flood" last_error | grep -o 'longer than 4194304 bytes')" \
        "polling longer than 4194304 bytes"
failed() { [ "$(status "$1" state)" = failed ]; }
if wait_for failed 10 failed "$failing"; then ok "the failing agent is failed (its webhook hangs)"
else not_ok "the failing agent is failed (its webhook hangs)"; vv status --agent "$failing" | diag; fi
if grep -q "webhook http://127.0.0.1:$hook_port/hook.*timed out" "$TEST_TMP/verifier.log"; then
        ok "... and the verifier says its webhook timed out"
else not_ok "... and the verifier says its webhook timed out"; grep webhook "$TEST_TMP/verifier.log" | tail -3 | diag; fi
expect_success "vmattest-verifier stopped cleanly (exit 0, no sanitizer report)" verifier_clean
