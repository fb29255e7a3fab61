#!/bin/bash
# Issue 12, attest at once: vmattest-verifier attests an agent the moment the tenant enrolls it
# (an add in another process: the store's change, not a periodic re-read), and an agent enrolled
# while it does not listen yet (an initrd registers before it makes its payload key and opens its
# port) is asked again at once when it comes up, not a poll interval later. The verifier polls
# every 120 s here, and its backstop re-read of the store is 60 s: each check below waits at most
# 20 s, so only the immediate paths can pass it.
. "$(dirname "$0")/lib.sh"
plan 6

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
verifier_config verifier.conf "$(verifier_poll_config)"
sed -i 's/^quote_interval = 1$/quote_interval = 120/' verifier.conf
verifier_start verifier.conf || exit 1
echo '{}' >any-pcrs.json
port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none"
polls() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r '.[0].polls'; }
attests() { grep -q "agent $agent_id attests" verifier.log; }

# registered and activated, not listening: the verifier's first poll finds no one
"$VMATTEST" --config agent.conf register >register.log 2>&1 || { diag <register.log; exit 1; }
agent_id=$(sed -n "s/.*registering agent \([^ ]*\) with.*/\1/p" register.log)
vv add --agent "$agent_id" --policy any-pcrs.json >add.log 2>&1 || { diag <add.log; exit 1; }
refused() { grep -q "agent $agent_id at 127.0.0.1:$port: .*connect" verifier.log; }
if wait_for "the first poll" 20 refused; then
        ok "the enrolment is polled at once, without waiting for the periodic re-read of the store"
else not_ok "the enrolment is polled at once"; diag <verifier.log; fi
expect_equal "the agent was not attested while it did not listen" "$(attests && echo attested || echo not)" not

# the agent comes up (the registration it made above): asked again at once
"$VMATTEST" --config agent.conf serve --no-register >serve.log 2>&1 &
verifier_pids+=("$!")
wait_port "$!" "$port" || { diag <serve.log; exit 1; }
if wait_for "the first good poll" 20 attests; then
        ok "an agent that comes up after its enrolment is attested at once, not a poll interval later"
else not_ok "an agent that comes up after its enrolment is attested at once"; diag <verifier.log; fi
polls_then=$(polls)
sleep 2
expect_equal "once attested, the quick retries stop: the next poll is a poll interval later" "$(polls)" "$polls_then"

# delete and add again in another process: the verifier follows the store at once
vv delete --agent "$agent_id" >/dev/null 2>&1
gone() { grep -q "agent $agent_id deleted: no longer polled" verifier.log; }
wait_for "the deletion" 20 gone
vv add --agent "$agent_id" --policy any-pcrs.json >add2.log 2>&1 || diag <add2.log
again() { [ "$(grep -c "agent $agent_id attests" verifier.log)" -ge 2 ]; }
if gone && wait_for "the second enrolment" 20 again; then
        ok "a deletion and a new enrolment by another process are followed at once"
else not_ok "a deletion and a new enrolment by another process are followed at once"; diag <verifier.log; fi
expect_success "the verifier exits cleanly" verifier_clean
