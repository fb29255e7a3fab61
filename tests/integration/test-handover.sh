#!/bin/bash
# The hand-over to an unprivileged `serve`: unlock (root, the initrd) gives the hand-over file and
# its own directory to handover_user; serve, running as that user (nobody here, through setpriv;
# the swtpm TCTI over TCP needs no device permission), takes the identity over and removes the
# file. A hand-over of another user's is refused, named and removed; a directory unlock did not
# make, or one shared with the PCR 15 log, is never given away: the fallback before registering.
. "$(dirname "$0")/lib.sh"
plan 13

NOBODY=65534
swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
chmod 0711 "$TEST_TMP" # nobody passes through to the files meant for it, and reads no other
tenant_pki
uuid=5f1e2d3c-0000-4000-8000-00000000abcd
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
release_verifier_config
verifier_start verifier.conf || exit 1
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
mkdir -p ask nobody-state
chown "$NOBODY:$NOBODY" nobody-state
chmod 0644 verifier-ca.pem
port=$(random_port)
common="port = $port
state_dir = $TEST_TMP/nobody-state
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
unlock_volumes = $uuid
askpass_dir = $TEST_TMP/ask
unlock_timeout = 20"
agent_config agent.conf "$VERIFIER_PORT" "$common
handover_user = nobody
handover_path = $TEST_TMP/run/handover"
echo '{}' >any-pcrs.json
# a prefix, not a function: setpriv execs vmattest, so that $! is the agent itself
as_nobody=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups)

"$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 25 answer &
listener=$!
"$VMATTEST" --config agent.conf unlock --cmdline /dev/null >unlock.log 2>&1 &
agent=$!
verifier_pids+=("$agent" "$listener")
wait_for registered 20 grep -q "unlock: registered" unlock.log
vv add --agent "$agent_id" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null 2>&1
wait "$agent"
status=$?
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
if [ "$status" = 0 ] && [ "$(cat answer 2>/dev/null)" = "$(cat disk.key)" ]; then
        ok "unlock with handover_user = nobody unlocks as before"
else not_ok "unlock with handover_user = nobody unlocks as before (exit $status)"; diag <unlock.log; fi
expect_equal "the hand-over's directory is nobody's, 0700" "$(stat -c '%u %a' run 2>&1)" "$NOBODY 700"
expect_equal "the hand-over file is nobody's, 0600" "$(stat -c '%u %a' run/handover 2>&1)" "$NOBODY 600"

# switch-root: serve runs as nobody and takes the identity over
polls_before=$(vv status --agent "$agent_id" --json | jq -r '.[0].polls')
"${as_nobody[@]}" "$VMATTEST" --config agent.conf serve >runtime.log 2>&1 &
runtime=$!
verifier_pids+=("$runtime")
wait_for serving 20 grep -q "serving on" runtime.log
if grep -q "taking over agent $agent_id from the initrd" runtime.log && [ ! -e run/handover ] &&
   ! grep -q "registered" runtime.log && [ "$(stat -c %u "/proc/$runtime")" = "$NOBODY" ]; then
        ok "serve as nobody took the identity over, removed the file and did not register again"
else not_ok "serve as nobody took the identity over, removed the file and did not register again"; diag <runtime.log; fi
polled() { [ "$(vv status --agent "$agent_id" --json | jq -r '.[0].polls')" -ge $((polls_before + 2)) ]; }
wait_for polls 20 polled
state=$(vv status --agent "$agent_id" --json)
if [ "$(jq -r '.[0].polls' <<<"$state")" -ge $((polls_before + 2)) ] && [ "$(jq -r '.[0].failure' <<<"$state")" = null ]; then
        ok "the verifier keeps attesting the same agent, now served by nobody"
else not_ok "the verifier keeps attesting the same agent, now served by nobody"; diag <<<"$state"; fi
# Keylime's verifier posts V again when the first poll after its V was retried: the agent that
# took over a released boot answers 200 and keeps nothing; U and the verify stay refused
post_key() {
        curl -s -o "$1.reply" -w '%{http_code}' --cacert /dev/null -k --cert verifier-client.pem \
                --key verifier-client.key -H 'Content-Type: application/json' -d "$2" \
                "https://127.0.0.1:$port/v2.6/keys/$1"
}
code=$(post_key vkey '{"encrypted_key":"AAAA"}')
if [ "$code" = 200 ] && grep -q "keys/vkey: V ignored: this boot's key was released in the initrd" runtime.log; then
        ok "serve after a hand-over: a V posted again gets 200 and is ignored (Keylime's re-send)"
else not_ok "serve after a hand-over: a V posted again gets 200 and is ignored (HTTP $code)"; diag <vkey.reply; fi
expect_equal "... while U is still refused (403, runtime_release is off)" \
        "$(post_key ukey '{"encrypted_key":"AAAA","auth_tag":"00"}') $(grep -o 'runtime_release is off' ukey.reply)" \
        "403 runtime_release is off"
kill "$runtime"; wait "$runtime" 2>/dev/null

# serve_once LOG [serve's prefix...]: serve --no-register until it serves (or gives up)
serve_once() {
        local log=$1; shift
        "$@" "$VMATTEST" --config agent.conf serve --no-register >"$log" 2>&1 &
        local pid=$!
        verifier_pids+=("$pid")
        wait_for serving 20 grep -q "serving on" "$log"
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}
# a hand-over of root's in nobody's directory: not unlock's for nobody
printf 'vmattest-handover 1\n' >run/handover; chmod 0600 run/handover
serve_once refused-root.log "${as_nobody[@]}"
if [ ! -e run/handover ] && grep -q "hand-over $TEST_TMP/run/handover: cannot open: Permission denied (owned by uid 0; this agent runs as uid $NOBODY, which unlock's handover_user must name): removed" refused-root.log; then
        ok "serve as nobody refuses a hand-over of root's, names both users and removes it"
else not_ok "serve as nobody refuses a hand-over of root's"; diag <refused-root.log; fi
# a hand-over of nobody's, for a serve that runs as root
printf 'vmattest-handover 1\n' >run/handover; chmod 0600 run/handover; chown "$NOBODY" run/handover
serve_once refused-nobody.log
if [ ! -e run/handover ] && grep -q "not a regular file of ours with mode 0600 (owned by uid $NOBODY; this agent runs as uid 0" refused-nobody.log; then
        ok "serve as root refuses a hand-over of nobody's, names both users and removes it"
else not_ok "serve as root refuses a hand-over of nobody's"; diag <refused-nobody.log; fi

# the hand-over in the PCR 15 log's directory, which nobody would then own: a configuration error
agent_config shared.conf "$VERIFIER_PORT" "$common
handover_user = nobody"
expect_failure "handover_user with handover_path beside vmattest_ml_path: the fallback at once" 3 \
        "handover_path $TEST_TMP/handover is in the directory of vmattest_ml_path" \
        "$VMATTEST" --config shared.conf unlock --cmdline /dev/null
# an existing directory of root's is not given away, and that is known before registering
mkdir -m 0755 rootdir
agent_config rootdir.conf "$VERIFIER_PORT" "$common
handover_user = $NOBODY
handover_path = $TEST_TMP/rootdir/handover"
expect_failure "an existing directory of root's for nobody's hand-over: the fallback" 3 \
        "rootdir exists and is not a directory of handover_user's \\(uid $NOBODY\\)" \
        "$VMATTEST" --config rootdir.conf unlock --cmdline /dev/null
if ! grep -q "registered" "$TEST_TMP/out" && [ "$(stat -c %u rootdir)" = 0 ]; then
        ok "... before registering, the directory still root's"
else not_ok "... before registering, the directory still root's"; diag <"$TEST_TMP/out"; fi
expect_success "the verifier exits cleanly" verifier_clean
