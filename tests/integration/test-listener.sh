#!/bin/bash
# The HTTP listeners against clients that would hold them: a client trickling its header is
# cut off by the request deadline, connections beyond the limit are closed on accept, and a
# process out of file descriptors neither spins nor floods its log. Also the limits both
# daemons set for themselves: no core dumps, the soft open-files limit raised to the hard one.
. "$(dirname "$0")/lib.sh"
plan 14

slow="$TOOLS_DIR/slow-client"
cd "$TEST_TMP" || exit 1
# limit FIELD PID: the soft and hard values of one line of /proc/PID/limits
limit() { sed -n "s/^$1  *\([^ ]*\)  *\([^ ]*\).*/\1 \2/p" "/proc/$2/limits"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system CPU, in clock ticks
# daemons started from here begin with a soft open-files limit below the hard one
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -gt 512 ] && ulimit -Sn 512

verifier_config verifier.conf "max_connections = 4
request_deadline = 3"
verifier_start verifier.conf || exit 1
url="http://127.0.0.1:$VERIFIER_PORT/version"

# (a) a header byte every 2 s resets an inactivity timer, not the request deadline
"$slow" trickle "$VERIFIER_PORT" 2000 15 >trickle.out &
trickle_pid=$!
sleep 0.5
expect_success "a client is served while another trickles its header" curl -sf -o /dev/null -m 5 "$url"
wait "$trickle_pid"
closed=$(sed -n 's/^closed after \([0-9.]*\) s$/\1/p' trickle.out)
if [ -n "$closed" ] && awk -v s="$closed" 'BEGIN { exit !(s >= 2.5 && s <= 6) }'; then
        ok "the trickling client is disconnected at the request deadline (3 s; after $closed s)"
else
        not_ok "the trickling client is disconnected at the request deadline (3 s)"; diag <trickle.out
fi

# (c) max_connections = 4: two of six idle connections are closed on accept, and so is a
# request made while four are held
"$slow" hold "$VERIFIER_PORT" 6 2 >hold.out &
hold_pid=$!
sleep 0.5
expect_failure "a request while max_connections are open is closed on accept" any "" curl -sf -o /dev/null -m 5 "$url"
wait "$hold_pid"
expect_equal "connections beyond max_connections are closed on accept" "$(cat hold.out)" "opened 6 closed 2"
if wait_for "served" 5 curl -sf -o /dev/null -m 2 "$url"; then ok "once they are closed, a request is served"
else not_ok "once they are closed, a request is served"; tail -5 verifier.log | diag; fi

# (d) the daemons' own limits
read -r soft hard <<<"$(limit "Max open files" "$VERIFIER_PID")"
expect_equal "the verifier raised its soft open-files limit to the hard one" "$soft" "$hard"
expect_equal "the verifier dumps no core" "$(limit "Max core file size" "$VERIFIER_PID")" "0 0"
swtpm_start || exit 1
tenant_pki
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem"
agent_serve agent.conf || exit 1
read -r soft hard <<<"$(limit "Max open files" "$AGENT_PID")"
expect_equal "the agent raised its soft open-files limit to the hard one" "$soft" "$hard"
expect_equal "the agent dumps no core" "$(limit "Max core file size" "$AGENT_PID")" "0 0"
expect_equal "the agent API closes connections beyond its 64 on accept" \
        "$("$slow" hold "$agent_port" 66 0)" "opened 66 closed 2"
verifier_stop

# (b) 64 descriptors in all (soft and hard: the verifier raises the soft limit itself) and 100
# connections: accept() fails with EMFILE while they are open
verifier_config starved.conf
(ulimit -n 64 && exec "$VMATTEST_VERIFIER" --config starved.conf serve) >>verifier.log 2>&1 &
VERIFIER_PID=$!
verifier_pids+=("$VERIFIER_PID")
wait_port "$VERIFIER_PID" "$VERIFIER_PORT" || { echo "vmattest-verifier did not start:"; cat verifier.log; } | diag
"$slow" hold "$VERIFIER_PORT" 100 5 >starved.out &
hold_pid=$!
sleep 1.5
lines=$(wc -l <verifier.log) cpu=$(ticks "$VERIFIER_PID")
sleep 3
lines=$(($(wc -l <verifier.log) - lines)) cpu=$(($(ticks "$VERIFIER_PID") - cpu))
if [ "$lines" -le 5 ]; then ok "out of descriptors, the verifier logs $lines line(s) in 3 s, not one per accept()"
else not_ok "out of descriptors, the verifier logs a few lines, not one per accept() ($lines in 3 s)"
        tail -3 verifier.log | diag; fi
if [ "$cpu" -le $(($(getconf CLK_TCK) / 2)) ]; then ok "out of descriptors, the verifier does not spin ($cpu ticks in 3 s)"
else not_ok "out of descriptors, the verifier does not spin ($cpu ticks of CPU in 3 s)"; fi
wait "$hold_pid"
if wait_for "served" 10 curl -sf -o /dev/null -m 2 "http://127.0.0.1:$VERIFIER_PORT/version"; then
        ok "once the connections are closed, it serves again"
else not_ok "once the connections are closed, it serves again"; diag <starved.out; tail -5 verifier.log | diag; fi
expect_success "every verifier exited cleanly" verifier_clean
