#!/bin/bash
# make bench: vmattest against the tools a verifier would otherwise script, on the same swtpm,
# in one run, interleaved so that machine noise hits both sides alike. Prints a table with
# min / median / max per side and the median ratio.
. "$(dirname "$0")/../integration/lib.sh"
set -eo pipefail

runs=${BENCH_RUNS:-31}
probe="$PWD/build/release/tests/bench/bench-exec"
VMATTEST="$PWD/build/release/vmattest"

swtpm_start bench-tpm
cd "$TEST_TMP"
"$VMATTEST" identity >/dev/null 2>&1
pcrs=0,1,2,3,4,5,6,7,8,9,16

# sample FILE CMD...: appends "<us> <rss>" of one run; fails loudly if the command failed
sample() {
        local file=$1; shift
        local wall rss status
        read -r wall rss status < <("$probe" "$@" 2>/dev/null)
        [ "$status" = 0 ] || { echo "bench: '$*' failed (exit $status)" >&2; exit 1; }
        echo "$wall $rss" >>"$file"
}

for ((i = 0; i < runs; i++)); do
        nonce=$(printf 'n%019d' "$i")
        sample ours.txt "$VMATTEST" quote --nonce "$nonce" --pcrs "$pcrs" --out out
        # reference: what a script does with tpm2-tools: quote, then read the PCRs
        sample q.txt tpm2_quote -c 0x81010002 -l "sha256:$pcrs" -q "$(printf %s "$nonce" | xxd -p)" \
                -m t.msg -s t.sig -g sha256
        sample r.txt tpm2_pcrread "sha256:$pcrs" -o t.pcrs
done
paste -d' ' q.txt r.txt | awk '{ print $1 + $3, ($2 > $4 ? $2 : $4) }' >ref.txt

stat_us() { cut -d' ' -f1 "$1" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f", v[1] / 1000, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'; }
median_col() { cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
read -r our_min our_med our_max <<<"$(stat_us ours.txt)"
read -r ref_min ref_med ref_max <<<"$(stat_us ref.txt)"
ratio=$(awk -v a="$our_med" -v b="$ref_med" 'BEGIN { printf "%.2f", a / b }')

strip -o vmattest.stripped "$VMATTEST"
size_kib=$(( $(stat -c %s vmattest.stripped) / 1024 ))
our_rss=$(median_col ours.txt 2)
ref_rss=$(median_col q.txt 2)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')

echo
echo "vmattest bench: $runs interleaved runs on swtpm, PCRs sha256:$pcrs, $(nproc) cores, $cpu, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-46s %10s %10s %10s %9s %8s\n' "measure" "min" "median" "max" "target" "result"
printf '%-46s %8s ms %7s ms %7s ms %9s %8s\n' "vmattest quote (1 process, 1 TCTI)" "$our_min" "$our_med" "$our_max" "" ""
printf '%-46s %8s ms %7s ms %7s ms %9s %8s\n' "tpm2_quote + tpm2_pcrread (reference)" "$ref_min" "$ref_med" "$ref_max" "" ""
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "ok" : "MISSED" }'; }
printf '%-46s %32s %9s %8s\n' "ratio of medians vmattest / reference" "$ratio" "<= 1.0" "$(verdict "$ratio" 1.0)"
printf '%-46s %29s KiB %9s %8s\n' "vmattest binary, stripped" "$size_kib" "< 500" "$(verdict "$size_kib" 499)"
printf '%-46s %29s KiB %9s %8s\n' "peak RSS of vmattest quote (median)" "$our_rss" "< 8192" "$(verdict "$our_rss" 8191)"
printf '%-46s %29s KiB %9s %8s\n' "peak RSS of tpm2_quote (reference)" "$ref_rss" "" ""
swtpm_stop
