#!/bin/bash
# The host binding's fresh mode against a plain integrity quote, on the same swtpms in the same
# run: one swtpm plays the host TPM behind `vmattest-host serve` (a UNIX socket, as a
# virtio-serial port reaches it), one the VM's vTPM. The agent runs in turn with host_binding =
# off and = fresh (one process at a time: swtpm serves one connection), in alternating blocks so
# that machine noise hits both alike; each request is an integrity quote over TLS as the
# verifier asks it. Target: the fresh quote costs at most 1.5x the plain one (Keylime's deep
# quote cost about 20x).
# Usage: tests/bench/bench-host-fresh.sh [ROWS-FILE]   (alone: prints its rows; make bench: section 11)
#   BENCH_FRESH_RUNS (default 30: requests of each kind), BENCH_FRESH_BLOCKS (default 3)
cd "$(dirname "$0")/../.." || exit 1
BENCH_DIR=$PWD
VMATTEST="$BENCH_DIR/build/release/vmattest"
. "$BENCH_DIR/tests/integration/lib.sh"
set -eo pipefail

runs=${BENCH_FRESH_RUNS:-30}
blocks=${BENCH_FRESH_BLOCKS:-3}
rows_file=${1:-}
VMATTEST_HOST="$BENCH_DIR/build/release/vmattest-host"
rows=()
row() { rows+=("$(printf "$@")"); }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print v <= t ? "ok" : "MISSED" }'; }
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }

swtpm_start host >/dev/null
host_tcti=$VMATTEST_TCTI
swtpm_start vtpm >/dev/null
cd "$TEST_TMP"
tenant_pki
printf '[host]\n' >host.conf
"$VMATTEST_HOST" --config host.conf identity --tcti "$host_tcti" >/dev/null 2>&1
"$VMATTEST_HOST" --config host.conf serve --tcti "$host_tcti" --listen "unix:$TEST_TMP/host.sock" --rate 1000 \
        --global-rate 1000 >serve.log 2>&1 &
verifier_pids+=("$!")
wait_for "the host service" 10 test -S "$TEST_TMP/host.sock"

port=$(random_port)
agent_conf() { # agent_conf MODE: the agent's configuration with host_binding = MODE
        agent_config "$1.conf" 1 "port = $port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
host_binding = $1
host_service = unix:$TEST_TMP/host.sock"
}
agent_conf off
agent_conf fresh
ask() { # ask NONCE: milliseconds to answer an integrity quote
        curl -s -o answer.json -w '%{time_total}\n' --cacert agent-state/server-cert.crt --cert verifier-client.pem \
                --key verifier-client.key "https://127.0.0.1:$port/v2.6/quotes/integrity?nonce=$1&mask=0x1&partial=0" |
                awk '{ printf "%.3f\n", $1 * 1000 }'
}
measure() { # measure MODE N: N requests to an agent in MODE, into MODE.txt
        local pid n
        "$VMATTEST" --config "$1.conf" serve --no-register >>"agent-$1.log" 2>&1 &
        pid=$!
        wait_port "$pid" "$port"
        ask "warm$1" >/dev/null
        for ((n = 0; n < $2; n++)); do
                ask "$(printf 'n%s%018d' "${1:0:1}" "$((RANDOM * 32768 + RANDOM))")" >>"$1.txt"
                [ "$1" = off ] || jq -e '.results.host_binding.source == "fresh"' answer.json >/dev/null ||
                        { echo "bench: the fresh agent served no fresh binding" >&2; cat answer.json >&2; exit 1; }
        done
        kill "$pid" && wait "$pid" 2>/dev/null || true
}
per_block=$(( (runs + blocks - 1) / blocks ))
for ((b = 0; b < blocks; b++)); do
        measure off "$per_block"
        measure fresh "$per_block"
done
read -r p_min p_med p_max <<<"$(stats off.txt)"
read -r f_min f_med f_max <<<"$(stats fresh.txt)"
ratio=$(awk -v a="$f_med" -v b="$p_med" 'BEGIN { printf "%.2f", a / b }')
row '%-48s %9s %9s %9s %10s %7s' "agent: integrity quote, fresh host binding, ms" "$f_min" "$f_med" "$f_max" "" ""
row '%-48s %9s %9s %9s %10s %7s' "agent: integrity quote, plain (reference), ms" "$p_min" "$p_med" "$p_max" "" ""
row '%-48s %29s %10s %7s' "  ratio fresh-mode / plain quote (medians)" "$ratio" "<= 1.5" "$(verdict "$ratio" 1.5)"

if [ -n "$rows_file" ]; then
        printf '%s\n' "${rows[@]}" >"$rows_file"
else
        printf '%-48s %9s %9s %9s %10s %7s\n' "measure" "min" "median" "max" "target" "result"
        printf '%s\n' "${rows[@]}"
fi
