#!/bin/bash
# The host binding's fresh mode (docs/protocol.md §5.9), end to end with swtpms: host1 (trusted)
# and host3 (not) play hosts' TPMs, one swtpm the VM's vTPM. `vmattest-host serve` answers on a
# UNIX socket (what qemu's -chardev socket gives a virtio-serial port), the agent runs with
# host_binding = fresh and asks it for every integrity quote, the verifier polls under a host
# policy with "fresh": true: the key is released. Refused by name: a replayed fresh binding
# (tests/tools/host-replay.py re-serves an old answer: "stale"), an untrusted host, a service that
# is down (the agent's quote 503s naming it), the rate limit; hostile frames get an error frame.
# The UNIX socket's mode: --socket-mode whatever the umask, the umask's without it.
# The serial transport is driven through a pseudo-terminal bridged to the service
# (tests/tools/serial-bridge.py), as qemu bridges a virtio-serial port.
. "$(dirname "$0")/lib.sh"
plan 22

VMATTEST_HOST=${VMATTEST_HOST:-$(dirname "$VMATTEST")/vmattest-host}
SRC_TOOLS="$(dirname "$VMATTEST")/../../tests/tools"

for name in host1 host3 vtpm; do
        swtpm_start "$name" >/dev/null || exit 1
        declare "${name}_tcti=$VMATTEST_TCTI"
done
cd "$TEST_TMP" || exit 1
tenant_pki
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
printf '[host]\n' >host.conf
host() { "$VMATTEST_HOST" --config host.conf "$@"; }
mkdir -p trusted
for name in host1 host3; do
        tcti_var="${name}_tcti"
        host identity --tcti "${!tcti_var}" --json >"$name.json" 2>"$name.identity.log" || {
                cat "$name.identity.log" >&2; exit 1; }
done
jq -r .pem host1.json >trusted/host1.pem
host1=$(jq -r .name host1.json)
host3=$(jq -r .name host3.json)
SERVICE="$TEST_TMP/service.sock"
serve_pid=
serve() { # serve HOST [OPTIONS]: HOST's service at $SERVICE (the one before it stopped)
        local tcti_var="${1}_tcti"; shift
        stop_serve
        # the program itself, not the host() function: $! must be what cleanup stops
        "$VMATTEST_HOST" --config host.conf --tcti "${!tcti_var}" serve --listen "unix:$SERVICE" "$@" >>serve.log 2>&1 &
        serve_pid=$!
        verifier_pids+=("$serve_pid")
        wait_for "the service's socket" 10 test -S "$SERVICE"
}
stop_serve() {
        [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
        serve_pid=
        rm -f "$SERVICE"
}

printf '{"trusted_host_aks_dir": "%s", "fresh": true}\n' "$TEST_TMP/trusted" >fresh-policy.json
printf '{"15": ["%064d"]}\n' 0 >any-pcrs.json
verifier_config verifier.conf "$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
verifier_start verifier.conf || exit 1
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
status() { vv status --agent "$agent" --json 2>/dev/null | jq -r ".[0].$1"; }
failed_with() { [ "$(status state)" = failed ] && status failure | grep -q -- "$1"; }
attests_on() { [ "$(status state)" = polling ] && [ "$(status last_ok)" != null ] && [ "$(status host)" = "$1" ]; }
released() { [ "$(status payload_released_at)" != null ]; }
poll_error() { status last_error | grep -q -- "$1"; }
enrol() { vv add --agent "$agent" --policy any-pcrs.json --host-policy fresh-policy.json "$@" >add.log 2>&1 ||
        cat add.log >&2; }
check() {
        local desc=$1 seconds=$2; shift 2
        if wait_for "$desc" "$seconds" "$@"; then ok "$desc"
        else not_ok "$desc"; vv status --agent "$agent" | diag; tail -n 5 agent.log | diag
                tail -n 3 serve.log | diag; fi
}
quote() { # quote NONCE: the agent's answer to an integrity quote, into answer.json; prints the HTTP status
        curl -s -o answer.json -w '%{http_code}' --cacert agent-state/server-cert.crt --cert verifier-client.pem \
                --key verifier-client.key \
                "https://127.0.0.1:$agent_port/v2.6/quotes/integrity?nonce=$1&mask=0x1&partial=0"
}

serve host1
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes
host_binding = fresh
host_service = unix:$SERVICE
host_service_timeout = 3"
agent_serve agent.conf || exit 1
agent=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' agent.log)
if grep -q "host binding: fresh, asked of the host service unix:$SERVICE" agent.log
then ok "the agent names its host service at start"
else not_ok "the agent names its host service at start"; diag <agent.log; fi

expect_equal "an integrity quote carries a fresh binding: version 2, for this request's nonce" \
        "$(quote freshnonce0123456789) $(jq -r .results.host_binding.source answer.json) \
$(jq -r .results.host_binding.binding answer.json | base64 -d | head -c 28 | tail -c 24 | xxd -p -c 64)" \
        "200 fresh $(printf '\x00\x02\x00\x14freshnonce0123456789' | xxd -p -c 64)"

enrol --payload disk.key --allow-unpinned-cmdline
check "under a fresh host policy the agent attests, its status naming host1" 20 attests_on "$host1"
check "... and the key is released" 20 released

# a replayed fresh binding: the agent is pointed at a proxy that re-serves the first answer
stop_serve
"$VMATTEST_HOST" --config host.conf --tcti "$host1_tcti" serve --listen "unix:$TEST_TMP/host1.sock" >>serve.log 2>&1 &
verifier_pids+=("$!")
wait_for "host1.sock" 10 test -S "$TEST_TMP/host1.sock"
python3 "$SRC_TOOLS/host-replay.py" "$SERVICE" "$TEST_TMP/host1.sock" >replay.log 2>&1 &
replay_pid=$!
verifier_pids+=("$replay_pid")
wait_for "the proxy's socket" 10 test -S "$SERVICE"
check "a replayed fresh binding fails the agent: stale" 20 \
        failed_with "host binding: stale: a fresh binding for an earlier nonce"
kill "$replay_pid" 2>/dev/null; wait "$replay_pid" 2>/dev/null
rm -f "$SERVICE"

# the VM on host3, whose AK the tenant does not trust
serve host3
enrol
check "a fresh binding from an untrusted host fails the agent: host AK" 20 \
        failed_with "host binding: host AK is not one of the 1 trusted host AKs"
serve host1
enrol
check "back on host1 it attests again" 20 attests_on "$host1"

# the service down: the quote is refused, naming the service; the verifier records the answer
stop_serve
expect_equal "with the service down the agent's integrity quote is refused (503)" "$(quote downnonce)" 503
if jq -r .status answer.json |
        grep -q "quote refused: host binding (fresh): host service unix:$SERVICE: cannot reach it"
then ok "... naming the host service and what failed"
else not_ok "... naming the host service and what failed"; diag <answer.json; fi
check "the verifier's status names the agent's refusal" 20 poll_error "HTTP 503: .*quote refused: host binding (fresh)"

# the rate limit: one request a second for this peer (the verifier stops polling: its polls
# would take the same peer's tokens)
vv delete --agent "$agent" >/dev/null 2>&1
sleep 1.5
serve host1 --rate 1 --global-rate 5
codes=""
for n in 1 2 3 4; do codes+="$(quote "ratenonce$n") "; cp answer.json "rate-$n.json"; done
if [[ $codes == "200 "*503* ]]; then ok "past the rate limit the quote is refused (200, then 503)"
else not_ok "past the rate limit the quote is refused (200, then 503)"; echo "$codes" | diag; fi
if cat rate-*.json | jq -r .status | grep -q "host service unix:$SERVICE: rate limited: more than 1 requests a second"
then ok "... naming the rate limit"
else not_ok "... naming the rate limit"; cat rate-*.json | jq -r .status | diag; fi
if grep -q "serve: unix:$SERVICE: rate limited" serve.log; then ok "the service logs the limit once"
else not_ok "the service logs the limit once"; diag <serve.log; fi

# hostile frames straight at the service: an error frame, then the stream closed
hostile() { # hostile HEX: the service's answer to those bytes, as hex
        python3 - "$SERVICE" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); s.sendall(bytes.fromhex(sys.argv[2]))
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data[:8].hex(), data[16:].decode("ascii", "replace"))
PY
}
sleep 1.1
answer=$(hostile "474554202f20485454502f312e310d0a")
expect_success "an HTTP request gets an error frame naming the magic, then the stream closes" \
        grep -q '^564d485100010003 .*magic 0x47455420 is not "VMHQ"' <<<"$answer"
answer=$(hostile "564d48510001000100100000")
expect_success "a request that announces 1 MiB is refused before its body is read" \
        grep -q 'length 1048576 of a type 1 frame is not 1-' <<<"$answer"
answer=$(hostile "564d4851000100010000000600000002000b")
expect_success "a request with an empty nonce is refused by name" grep -q 'nonce of 0 bytes' <<<"$answer"

# the socket's mode (who may connect: write permission): --socket-mode whatever the process's
# umask, and the umask's without it
umask_before=$(umask)
umask 000
serve host1 --socket-mode 0600
modes=$(stat -c %a "$SERVICE")
umask 077
serve host1 --socket-mode 0660
modes+=" $(stat -c %a "$SERVICE")"
served=$(quote modenonce)
umask 022
serve host1
modes+=" $(stat -c %a "$SERVICE")"
umask "$umask_before"
expect_equal "--socket-mode 0600 under umask 000, 0660 under 077; without it, 0777 less the umask (022)" \
        "$modes" "600 660 755"
if grep -q "serve: listening on unix:$SERVICE (mode 0660)" serve.log && [ "$served" = 200 ]
then ok "the service logs the socket's mode, and serves through a socket made with one"
else not_ok "the service logs the socket's mode, and serves through a socket made with one"; tail -n 5 serve.log | diag; fi
expect_failure "--socket-mode that is not an octal mode 0-0777 is a usage error naming it" 2 \
        '--socket-mode "0999" is not an octal mode' host serve --listen "unix:$TEST_TMP/other.sock" --socket-mode 0999
expect_failure "--socket-mode without a unix: listener is a usage error" 2 \
        "--socket-mode is for unix:PATH listeners" host serve --listen vsock:5000 --socket-mode 0600

# the serial transport: a pseudo-terminal bridged to the service, one stream for every request
serve host1
python3 "$SRC_TOOLS/serial-bridge.py" "$SERVICE" "$TEST_TMP/serial-port" >bridge.log 2>&1 &
verifier_pids+=("$!")
wait_for "the bridge" 10 test -L "$TEST_TMP/serial-port"
kill "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null
sed -i "s|^host_service = .*|host_service = serial:$TEST_TMP/serial-port|" agent.conf
agent_serve agent.conf || exit 1
codes=""
for n in 1 2; do codes+="$(quote "serialnonce$n") "; sleep 0.3; done
expect_equal "over a serial port each quote gets its own fresh binding" \
        "$codes$(jq -r .results.host_binding.binding answer.json | base64 -d | head -c 20 | tail -c 12)" \
        "200 200 serialnonce2"
expect_success "the verifier exited cleanly" verifier_clean
