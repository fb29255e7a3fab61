#!/bin/bash
# make bench: vmattest against references measured in the same run, on the same swtpm,
# interleaved where two sides compete, so that machine noise hits both alike. Prints one table
# (min / median / max where a measure repeats) with the targets of the issues.
. "$(dirname "$0")/../integration/lib.sh"
set -eo pipefail

runs=${BENCH_RUNS:-31}
reg_runs=${BENCH_REG_RUNS:-11}
load=${BENCH_REGISTRATIONS:-3000}
probe="$PWD/build/release/tests/bench/bench-exec"
loader="$PWD/build/release/tests/bench/bench-registrar"
VMATTEST="$PWD/build/release/vmattest"
VMATTEST_VERIFIER="$PWD/build/release/vmattest-verifier"
rows=()

row() { rows+=("$(printf "$@")"); }
verdict() { awk -v v="$1" -v t="$2" -v dir="${3:-le}" 'BEGIN { ok = dir == "le" ? v <= t : v >= t; print ok ? "ok" : "MISSED" }'; }
# stats FILE COLUMN: "min median max" of a column of numbers
stats() { cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

swtpm_start bench-tpm
cd "$TEST_TMP"
"$VMATTEST" identity >/dev/null 2>&1

## 1. quote: vmattest (one process, one TCTI) vs tpm2_quote + tpm2_pcrread
pcrs=0,1,2,3,4,5,6,7,8,9,16
sample() { # sample FILE CMD...: appends "<ms> <rss KiB>" of one run
        local file=$1 wall rss status; shift
        read -r wall rss status < <("$probe" "$@" 2>/dev/null)
        [ "$status" = 0 ] || { echo "bench: '$*' failed (exit $status)" >&2; exit 1; }
        echo "$(awk -v w="$wall" 'BEGIN { printf "%.3f", w / 1000 }') $rss" >>"$file"
}
for ((i = 0; i < runs; i++)); do
        nonce=$(printf 'n%019d' "$i")
        sample ours.txt "$VMATTEST" quote --nonce "$nonce" --pcrs "$pcrs" --out out
        sample q.txt tpm2_quote -c 0x81010002 -l "sha256:$pcrs" -q "$(printf %s "$nonce" | xxd -p)" -m t.msg -s t.sig -g sha256
        sample r.txt tpm2_pcrread "sha256:$pcrs" -o t.pcrs
done
paste -d' ' q.txt r.txt | awk '{ print $1 + $3, ($2 > $4 ? $2 : $4) }' >ref.txt
read -r a_min a_med a_max <<<"$(stats ours.txt 1)"
read -r b_min b_med b_max <<<"$(stats ref.txt 1)"
ratio=$(awk -v a="$a_med" -v b="$b_med" 'BEGIN { printf "%.2f", a / b }')
row '%-48s %9s %9s %9s %10s %7s' "vmattest quote, ms" "$a_min" "$a_med" "$a_max" "" ""
row '%-48s %9s %9s %9s %10s %7s' "tpm2_quote + tpm2_pcrread (reference), ms" "$b_min" "$b_med" "$b_max" "" ""
row '%-48s %29s %10s %7s' "  ratio of medians" "$ratio" "<= 1.0" "$(verdict "$ratio" 1.0)"
strip -o vmattest.stripped "$VMATTEST"
size_kib=$(( $(stat -c %s vmattest.stripped) / 1024 ))
rss=$(stats ours.txt 2 | cut -d' ' -f2)
row '%-48s %29s %10s %7s' "vmattest binary stripped, KiB" "$size_kib" "< 500" "$(verdict "$size_kib" 499)"
row '%-48s %29s %10s %7s' "peak RSS of vmattest quote (median), KiB" "${rss%.*}" "< 8192" "$(verdict "${rss%.*}" 8191)"
row '%-48s %29s %10s %7s' "peak RSS of tpm2_quote (reference), KiB" "$(stats q.txt 2 | cut -d' ' -f2 | cut -d. -f1)" "" ""

## 2. registration round trip against vmattest-verifier on loopback
verifier_config verifier.conf
verifier_start verifier.conf
agent_config agent.conf "$VERIFIER_PORT"
for ((i = 0; i < reg_runs; i++)); do
        t0=$(date +%s%N)
        "$VMATTEST" --config agent.conf register --json 2>/dev/null >reg.json
        t1=$(date +%s%N)
        jq -r --arg wall "$(( (t1 - t0) / 1000 ))" \
                '"\($wall | tonumber / 1000) \(.tpm_ms) \(($wall | tonumber / 1000) - .tpm_ms)"' reg.json >>reg.txt
done
read -r w_min w_med w_max <<<"$(stats reg.txt 1)"
read -r t_min t_med t_max <<<"$(stats reg.txt 2)"
read -r n_min n_med n_max <<<"$(stats reg.txt 3)"
row '%-48s %9s %9s %9s %10s %7s' "register: agent start to activated, ms" "$w_min" "$w_med" "$w_max" "" ""
row '%-48s %9s %9s %9s %10s %7s' "  of which TPM commands, ms" "$t_min" "$t_med" "$t_max" "" ""
row '%-48s %9s %9s %9s %10s %7s' "  everything but the TPM, ms" "$n_min" "$n_med" "$n_max" "< 50" "$(verdict "$n_med" 50)"

## 3. registrar throughput: prepared registration bodies replayed under new ids
"$VMATTEST" identity --json 2>/dev/null >id.json
tpm2_nvread 0x01c00002 -C o -o ekcert.der 2>/dev/null
jq -n --arg ek "$(jq -r .ek.ek_tpm id.json)" --arg ak "$(jq -r .ak.aik_tpm id.json)" --arg cert "$(base64 -w0 ekcert.der)" \
        '{ek_tpm: $ek, aik_tpm: $ak, ekcert: $cert, mtls_cert: null, ip: "127.0.0.1", port: 9002}' >body.json
"$loader" 127.0.0.1 "$VERIFIER_PORT" - 2000 8 >/dev/null                     # warm up
c0=$(cpu_ticks "$VERIFIER_PID")
read -r v_ok v_fail v_s v_rate < <("$loader" 127.0.0.1 "$VERIFIER_PORT" - "$load" 8)
c1=$(cpu_ticks "$VERIFIER_PID")
read -r r_ok r_fail r_s r_rate < <("$loader" 127.0.0.1 "$VERIFIER_PORT" body.json "$load" 8)
c2=$(cpu_ticks "$VERIFIER_PID")
hz=$(getconf CLK_TCK)
per_cpu=$(awk -v n="$r_ok" -v t="$((c2 - c1))" -v hz="$hz" 'BEGIN { printf "%.0f", t ? n / (t / hz) : 0 }')
row '%-48s %29s %10s %7s' "registrar: registrations/s (1 process, 8 conns)" "${r_rate%.*}" ">= 500" "$(verdict "${r_rate%.*}" 500 ge)"
row '%-48s %29s %10s %7s' "  registrations per CPU-second of the registrar" "$per_cpu" "" ""
row '%-48s %29s %10s %7s' "  GET /version/s, same process (HTTP floor)" "${v_rate%.*}" "" ""
row '%-48s %29s %10s %7s' "  ratio registrations / HTTP floor" "$(awk -v a="$r_rate" -v b="$v_rate" 'BEGIN { printf "%.2f", a / b }')" "" ""
[ "$r_fail" = 0 ] || echo "bench: $r_fail registrations failed" >&2
verifier_stop
swtpm_stop

echo
echo "vmattest bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "quotes: $runs interleaved runs, PCRs sha256:$pcrs; registrations: $reg_runs runs; registrar load: $load requests"
printf '%-48s %9s %9s %9s %10s %7s\n' "measure" "min" "median" "max" "target" "result"
printf '%s\n' "${rows[@]}"
