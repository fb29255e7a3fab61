#!/bin/bash
# `vmattest unlock` natively on swtpm (no VM), pull and push side by side: each run starts a fresh
# swtpm (a new EK, as a new VM has), an unlock with a stand-in for systemd-cryptsetup's password
# request (tests/tools/askpass-listen) against vmattest-verifier on loopback, and the tenant
# enrols the agent the moment its registration is activated (the registrar's log line), as a
# tenant's automation would. The agent's "unlock: timing:" line gives start to key handed over,
# the TPM's share, waiting for the verifier and the agent's own CPU; swtpm's CPU meanwhile is
# read from /proc (10 ms ticks). The verifier polls every 30 s, so that any step waiting for a
# poll tick instead of following the last one at once shows in the wait.
# Usage: tests/bench/bench-unlock.sh [ROWS-FILE]   (alone: prints its rows; make bench: its own
#   section) BENCH_UNLOCK_RUNS unlocks in each mode, interleaved (default 5); BENCH_UNLOCK_PREFIX
#   runs the agent under a profiler, e.g. "valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p"
#   (instruction counts: what the agent's CPU under TCG is made of, which perf cannot see in a guest)
set -eo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
set +u
runs=${BENCH_UNLOCK_RUNS:-5}
rows_file=${1:-}
rows=()
row() { rows+=("$(printf "$@")"); }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print v <= t ? "ok" : "MISSED" }'; }
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.0f %.0f %.0f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
ticks_ms() { awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"; }

cd "$TEST_TMP"
tenant_pki
registrar_cert verifier-ca.pem verifier-ca.key
uuid=5f1e2d3c-0000-4000-8000-00000000beec
printf 'bench-disk-key-%s' "$(openssl rand -hex 16)" >disk.key
echo '{}' >any-pcrs.json
tls_port=$(random_port)
release_verifier_config "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")"
sed -i 's/^quote_interval = 1$/quote_interval = 30/' verifier.conf
verifier_start verifier.conf
wait_port "$VERIFIER_PID" "$tls_port" || { echo "bench-unlock: the verifier's TLS port did not open" >&2; exit 1; }
mkdir -p ask

# timing_fields: "total serving tpm wait cpu user sys wait-tpm" from the agent's line "... after T
# ms: serving after S ms (TPM P ms), waiting for the verifier's key W ms (TPM X ms), CPU C ms
# (user U, system Y)" (an agent from before the wait's TPM share: X is "-")
timing_fields() {
        sed -E 's/.*after ([0-9]+) ms: serving after ([0-9]+) ms \(TPM ([0-9]+) ms\), waiting for the verifier.s key ([0-9]+) ms( \(TPM ([0-9]+) ms\))?, CPU ([0-9]+) ms \(user ([0-9]+), system ([0-9]+)\).*/\1 \2 \3 \4 \7 \8 \9 \6/; s/ $/ -/'
}

# one_unlock MODE N: a fresh swtpm, an unlock in MODE, enrolled once activated; appends
# timing_fields, swtpm's CPU meanwhile and the tenant's add (wall) to MODE.txt
one_unlock() {
        local mode=$1 n=$2 id="" listener agent tpm0 timing i add0 add1
        swtpm_start "tpm-$mode-$n" >/dev/null
        agent_config "$mode-$n.conf" "$VERIFIER_PORT" "port = $(random_port)
state_dir = $TEST_TMP/state-$mode-$n
vmattest_ml_path = $TEST_TMP/measurements-$mode-$n.log
handover_path = $TEST_TMP/handover-$mode-$n
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
mode = $mode
verifier_url = https://127.0.0.1:$tls_port
verifier_tls_ca_cert = $TEST_TMP/verifier-ca.pem
unlock_volumes = $uuid
askpass_dir = $TEST_TMP/ask
unlock_timeout = 60"
        "$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 70 "$mode-$n.answer" &
        listener=$!
        tpm0=$(ticks_ms "$SWTPM_PID")
        # shellcheck disable=SC2086 # a command and its options
        ${BENCH_UNLOCK_PREFIX:-} "$VMATTEST" --config "$mode-$n.conf" unlock --cmdline /dev/null >"$mode-$n.log" 2>&1 &
        agent=$!
        verifier_pids+=("$agent" "$listener")
        # the tenant: enrols as soon as the registrar activated this agent's registration
        for ((i = 0; i < 3000; i++)); do
                id=$(sed -n 's/.*registrar: agent \([^ ]*\) activated.*/\1/p' "$TEST_TMP/verifier.log" |
                        grep -vxF -f seen.txt | head -n 1) || :
                [ -z "$id" ] || break
                kill -0 "$agent" 2>/dev/null || break
                sleep 0.01
        done
        [ -n "$id" ] || { echo "bench-unlock: $mode $n: no registration" >&2; cat "$mode-$n.log" >&2; exit 1; }
        echo "$id" >>seen.txt
        add0=$(date +%s%N)
        vv add --agent "$id" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline \
                $([ "$mode" = pull ] || echo --push) >"$mode-$n.add" 2>&1 || { cat "$mode-$n.add" >&2; exit 1; }
        add1=$(date +%s%N)
        wait "$agent" || { echo "bench-unlock: $mode $n: unlock failed" >&2; cat "$mode-$n.log" >&2; exit 1; }
        timing=$(grep -m1 'unlock: timing:' "$mode-$n.log") || { echo "bench-unlock: $mode $n: no timing line" >&2; exit 1; }
        echo "$(timing_fields <<<"$timing") $(( $(ticks_ms "$SWTPM_PID") - tpm0 )) $(( (add1 - add0) / 1000000 ))" >>"$mode.txt"
        wait_for answer 5 test -s "$mode-$n.answer" || { echo "bench-unlock: $mode $n: no answer" >&2; exit 1; }
        wait "$listener" 2>/dev/null || :
        vv delete --agent "$id" >/dev/null
        swtpm_stop
}
: >seen.txt
for ((n = 0; n < runs; n++)); do
        for mode in pull push; do one_unlock "$mode" "$n"; done
done
verifier_stop

column() { cut -d' ' -f"$2" "$1.txt" >"$1.col$2"; stats "$1.col$2"; }
line3() { local a b c; read -r a b c <<<"$(column "$2" "$3")"; row '%-48s %9s %9s %9s %10s %7s' "$1" "$a" "$b" "$c" "${4:-}" "${5:+$(verdict "$b" "$5")}"; }
for mode in pull push; do
        line3 "unlock native $mode: start to key handed over, ms" "$mode" 1 "<= 2000" 2000
        line3 "  of which the TPM (agent's wall in it), ms" "$mode" 3
        line3 "  waiting for the verifier's key, ms" "$mode" 4 "<= 300" 300
        line3 "    of which the TPM (quotes, certify), ms" "$mode" 8
        line3 "  agent's own CPU (user + system), ms" "$mode" 5 "<= 500" 500
        line3 "    user, ms" "$mode" 6
        line3 "    system, ms" "$mode" 7
        line3 "  swtpm's CPU meanwhile, ms" "$mode" 9
        line3 "  the tenant's add (its own process), ms" "$mode" 10
done
if [ -n "$rows_file" ]; then
        printf '%s\n' "${rows[@]}" >"$rows_file"
        echo "$runs" >"$rows_file.runs"
else
        printf '%-48s %9s %9s %9s %10s %7s\n' "measure ($runs runs each)" min median max target result
        printf '%s\n' "${rows[@]}"
fi
