#!/bin/bash
# What systemd hears from the agent and the verifier (sd_notify(3), lib/notify.h), on a datagram
# socket a listener here records in its place: READY=1 only once the port answers, STATUS= lines
# that name what is waited for (the registrar and its retries, the verifier's key, the volume
# answered, the hand-over, the agents polled), STOPPING=1 on SIGTERM; and the journal's syslog
# priorities (lib/log.h) when stderr is the stream JOURNAL_STREAM names, plain lines otherwise.
. "$(dirname "$0")/lib.sh"
plan 16

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1

# The service manager's side: every datagram on NAME.sock, one line each, in NAME.notify; on
# READY=1 it connects to PORT (when not 0) at once and writes whether the port answered.
cat >notify-listen.py <<'PY'
import socket, sys
path, log, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as out:
    while True:
        datagram = s.recv(4096).decode("utf-8", "replace")
        out.write(datagram.replace("\n", "\\n") + "\n")
        if datagram == "READY=1" and port:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                out.write("port answered\n")
            except OSError as e:
                out.write("port closed (%s)\n" % e)
PY
# notify_listen NAME PORT: a listener for one process; NOTIFY_SOCKET for it is $TEST_TMP/NAME.sock
notify_listen() {
        python3 notify-listen.py "$TEST_TMP/$1.sock" "$1.notify" "$2" &
        verifier_pids+=("$!")
        wait_for "$1 listener" 10 test -S "$TEST_TMP/$1.sock"
}
# heard NAME LINE...: every LINE (a fixed string) is in NAME.notify, in this order
heard() {
        local file=$1.notify at=0 n line; shift
        for line in "$@"; do
                n=$(tail -n +$((at + 1)) "$file" | grep -nxF -m1 -- "$line" | cut -d: -f1)
                [ -n "$n" ] || return 1
                at=$((at + n))
        done
}
heard_like() { grep -qE -- "$2" "$1.notify"; } # heard_like NAME REGEX
# ready_once NAME: one READY=1 in NAME.notify, and its port answered at that moment
ready_once() { [ "$(grep -cx READY=1 "$1.notify")" = 1 ] && [ "$(grep -A1 -x READY=1 "$1.notify" | tail -n 1)" = "port answered" ]; }

tenant_pki
uuid=5f1e2d3c-0000-4000-8000-00000000abcd
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
release_verifier_config

# the verifier: ready once its registrar's port answers, then the count of agents
notify_listen verifier "$VERIFIER_PORT"
NOTIFY_SOCKET=$TEST_TMP/verifier.sock verifier_start verifier.conf || exit 1
wait_for "verifier ready" 10 heard verifier READY=1
if ready_once verifier; then ok "verifier: READY=1 once its registrar's port answers"
else not_ok "verifier: READY=1 once its registrar's port answers"; diag <verifier.notify; fi
if wait_for "verifier status" 10 heard verifier "STATUS=0 agents polled, 0 failed"; then
        ok "verifier: STATUS= counts the agents polled and failed"
else not_ok "verifier: STATUS= counts the agents polled and failed"; diag <verifier.notify; fi

agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
mkdir -p ask
port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
unlock_volumes = $uuid
askpass_dir = $TEST_TMP/ask
unlock_timeout = 20"
echo '{}' >any-pcrs.json

# a registrar that does not answer: the status names it and the retry; never ready. stderr is
# the "journal" (JOURNAL_STREAM names the file it is): each line leads with its priority
dead=$(random_port)
agent_config dead.conf "$dead" "port = $port
trusted_client_ca = $TEST_TMP/verifier-ca.pem"
notify_listen dead "$port"
: >dead.err
NOTIFY_SOCKET=$TEST_TMP/dead.sock JOURNAL_STREAM=$(stat -c %d:%i dead.err) \
        "$VMATTEST" --config dead.conf serve 2>>dead.err
rc=$?
if [ "$rc" -ne 0 ] && heard dead "STATUS=registering agent $agent_id with http://127.0.0.1:$dead" &&
        heard_like dead "^STATUS=waiting for registrar http://127\.0\.0\.1:$dead \(retry 1 in 1 s: " &&
        heard_like dead "^STATUS=waiting for registrar http://127\.0\.0\.1:$dead \(retry 2 in 2 s: " &&
        ! heard dead READY=1; then
        ok "serve, registrar unreachable: STATUS= names the registrar and each retry, no READY=1 (exit $rc)"
else not_ok "serve, registrar unreachable: STATUS= names the registrar and each retry, no READY=1 (exit $rc)"
        diag <dead.notify; fi
if grep -q "^<3>vmattest: error: registrar http://127.0.0.1:$dead: giving up after 3 attempts" dead.err &&
        grep -q "^<6>vmattest: registrar http://127.0.0.1:$dead: attempt 1 of 3 failed" dead.err &&
        ! grep -qv '^<[0-7]>' dead.err; then
        ok "stderr the journal's stream: the error at <3> (err), info at <6>, every line prefixed"
else not_ok "stderr the journal's stream: the error at <3> (err), info at <6>, every line prefixed"
        diag <dead.err; fi
# JOURNAL_STREAM left over from a service whose stderr was redirected since: plain lines
: >plain.err
JOURNAL_STREAM=$(stat -c %d:%i dead.err) "$VMATTEST" --config dead.conf serve 2>>plain.err
if grep -q "^vmattest: error: registrar http://127.0.0.1:$dead: giving up" plain.err && ! grep -q '^<' plain.err; then
        ok "JOURNAL_STREAM naming another stream: plain lines, no priority"
else not_ok "JOURNAL_STREAM naming another stream: plain lines, no priority"; diag <plain.err; fi

# unlock: registering, activating, then waiting for the key (READY=1, its port answering); the
# tenant enrolls it with the disk key: released, the volume answered
notify_listen unlock "$port"
"$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 25 unlock.answer &
listener=$!
NOTIFY_SOCKET=$TEST_TMP/unlock.sock "$VMATTEST" --config agent.conf unlock --cmdline /dev/null >unlock.log 2>&1 &
unlock=$!
verifier_pids+=("$unlock" "$listener")
wait_for registered 20 grep -q "unlock: registered" unlock.log
wait_for "unlock ready" 5 heard unlock READY=1
if heard unlock "STATUS=registering agent $agent_id with http://127.0.0.1:$VERIFIER_PORT" \
        "STATUS=activating agent $agent_id with http://127.0.0.1:$VERIFIER_PORT" READY=1 &&
        heard_like unlock "^STATUS=waiting for the verifier's key \([0-9]+ s of 20\)$" && ready_once unlock; then
        ok "unlock: registering, activating, waiting for the verifier's key, READY=1 with its port answering"
else not_ok "unlock: registering, activating, waiting for the verifier's key, READY=1 with its port answering"
        diag <unlock.notify; fi
vv add --agent "$agent_id" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null
wait "$unlock"
rc=$?
wait_for answer 5 test -s unlock.answer
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
expect_equal "unlock answered the volume with the released key" "$rc $(cat unlock.answer 2>/dev/null)" "0 $(cat disk.key)"
if heard unlock "STATUS=key released; recording it in PCR 15, waiting for the volumes' prompts" \
        "STATUS=key released; answered volume $uuid"; then
        ok "unlock: STATUS= says the key was released and which volume it answered"
else not_ok "unlock: STATUS= says the key was released and which volume it answered"; diag <unlock.notify; fi
if ! grep -qF "$(cat disk.key)" unlock.notify; then ok "the key is in no notification"
else not_ok "the key is in no notification"; fi
if wait_for "verifier counts the agent" 15 heard verifier "STATUS=1 agents polled, 0 failed"; then
        ok "verifier: STATUS= counts the enrolled agent"
else not_ok "verifier: STATUS= counts the enrolled agent"; diag <verifier.notify; fi
if ! grep -q '^<' unlock.log "$TEST_TMP/verifier.log"; then ok "without JOURNAL_STREAM the log lines are plain"
else not_ok "without JOURNAL_STREAM the log lines are plain"; grep '^<' unlock.log | head -n 5 | diag; fi

# after switch-root: serve takes the identity over, says so, is ready once its port answers
notify_listen serve "$port"
NOTIFY_SOCKET=$TEST_TMP/serve.sock "$VMATTEST" --config agent.conf serve >serve.log 2>&1 &
serve=$!
verifier_pids+=("$serve")
wait_for "serve ready" 20 heard serve READY=1
if heard serve "STATUS=taking over agent $agent_id from the initrd's hand-over" \
        "STATUS=serving agent $agent_id on 127.0.0.1:$port" READY=1 && ready_once serve &&
        ! heard_like serve "^STATUS=registering"; then
        ok "serve: taking over the hand-over, then serving on its port, READY=1 with the port answering"
else not_ok "serve: taking over the hand-over, then serving on its port, READY=1 with the port answering"
        diag <serve.notify; fi
kill "$serve"; wait "$serve"
rc=$?
if [ "$rc" -eq 0 ] && heard serve READY=1 STOPPING=1; then ok "serve: STOPPING=1 on SIGTERM, exit 0"
else not_ok "serve: STOPPING=1 on SIGTERM (exit $rc)"; diag <serve.notify; fi
verifier_stop
if heard verifier READY=1 STOPPING=1; then ok "verifier: STOPPING=1 on SIGTERM"
else not_ok "verifier: STOPPING=1 on SIGTERM"; diag <verifier.notify; fi

# without NOTIFY_SOCKET nothing changes (the other tests), and with one that is gone serve still
# serves: the notification is advice, never a reason to stop
rm -f "$TEST_TMP/serve.sock"
NOTIFY_SOCKET=$TEST_TMP/serve.sock "$VMATTEST" --config agent.conf serve --no-register >gone.log 2>&1 &
serve=$!
verifier_pids+=("$serve")
if wait_port "$serve" "$port"; then ok "serve with NOTIFY_SOCKET naming no socket: serves all the same"
else not_ok "serve with NOTIFY_SOCKET naming no socket: serves all the same"; diag <gone.log; fi
kill "$serve"; wait "$serve" 2>/dev/null
if verifier_clean >clean.log 2>&1; then ok "the verifier exited cleanly"
else not_ok "the verifier exited cleanly"; diag <clean.log; fi
