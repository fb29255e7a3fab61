#!/bin/bash
# The payload key's cost at start, payload_key = tpm against payload_key = software, interleaved on
# one swtpm: `serve --no-register` from exec to "serving on" (wall), the agent's CPU and the
# swtpm's CPU meanwhile (10 ms ticks). In the TPM the agent spends next to nothing: the key is
# made by the TPM (here swtpm, on the host: native speed even when the guest runs under TCG).
# Usage: tests/bench/bench-payload-key.sh   (alone: prints min / median / max of BENCH_KEY_RUNS,
#   default 5, for each mode)
set -eo pipefail
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
runs=${BENCH_KEY_RUNS:-5}
VMATTEST="$PWD/build/release/vmattest"
VMATTEST_VERIFIER="$PWD/build/release/vmattest-verifier"
ticks_ms() { awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"; }

swtpm_start bench-key >/dev/null
cd "$TEST_TMP"
tenant_pki
verifier_config verifier.conf
verifier_start verifier.conf
agent_config agent.conf "$VERIFIER_PORT" "trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none"
"$VMATTEST" --config agent.conf register >/dev/null 2>&1 # the identity serve --no-register takes
for ((i = 0; i < runs; i++)); do
        for mode in tpm software; do
                port=$(random_port)
                sed "s/^\[agent\]$/[agent]\nport = $port\npayload_key = $mode/" agent.conf >"$mode.conf"
                : >"$mode.log"
                tpm0=$(ticks_ms "${swtpm_pids[0]}")
                t0=$(date +%s%N)
                "$VMATTEST" --config "$mode.conf" serve --no-register >"$mode.log" 2>&1 &
                pid=$!
                until grep -q "serving on" "$mode.log"; do
                        kill -0 "$pid" 2>/dev/null || { echo "bench: serve ($mode) failed:" >&2; cat "$mode.log" >&2; exit 1; }
                        sleep 0.005
                done
                t1=$(date +%s%N)
                echo "$mode $(( (t1 - t0) / 1000000 )) $(ticks_ms "$pid") $(( $(ticks_ms "${swtpm_pids[0]}") - tpm0 ))" >>times.txt
                kill "$pid"; wait "$pid" 2>/dev/null || true
        done
done
verifier_stop
stats() { grep "^$1 " times.txt | cut -d' ' -f"$2" | sort -g | awk '{ v[NR] = $1 } END { printf "%9d %9d %9d", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
printf '%-48s %9s %9s %9s\n' "serve: start to serving ($runs runs)" min median max
for mode in tpm software; do
        printf '%-48s %s\n' "  payload_key = $mode: wall, ms" "$(stats "$mode" 2)"
        printf '%-48s %s\n' "    the agent's CPU, ms" "$(stats "$mode" 3)"
        printf '%-48s %s\n' "    swtpm's CPU, ms" "$(stats "$mode" 4)"
done
