#!/bin/bash
# vmattest-policy runtime over a real tree (this machine's /usr) against `find -type f | xargs
# sha256sum` over the same tree in the same run: both read every regular file and hash it with
# SHA-256; the generator also walks without following symlinks, sorts and writes the policy.
# The page cache is warmed by one untimed run of each first, then the runs interleave (the
# reference, 1 worker, 2 workers) so that machine noise hits all alike. Targets: at least 0.8x
# the reference's speed with one worker, faster than it with two.
# Usage: tests/bench/bench-policy.sh [ROWS-FILE]   (alone: prints its rows; make bench: section 9)
#   BENCH_POLICY_TREE (default /usr), BENCH_POLICY_RUNS (default 3)
set -eo pipefail
cd "$(dirname "$0")/../.."

tree=${BENCH_POLICY_TREE:-/usr}
runs=${BENCH_POLICY_RUNS:-3}
policy=$PWD/build/release/vmattest-policy
rows_file=${1:-}
work=$(mktemp -d /tmp/vmattest-bench-policy.XXXXXX)
trap 'rm -rf "$work"' EXIT

rows=()
row() { rows+=("$(printf "$@")"); }
verdict() { awk -v v="$1" -v t="$2" -v dir="${3:-le}" 'BEGIN { ok = dir == "le" ? v <= t : dir == "ge" ? v >= t : v > t; print ok ? "ok" : "MISSED" }'; }
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
# timed FILE CMD...: appends the wall time of CMD in seconds
timed() {
        local file=$1 t0 t1; shift
        t0=$(date +%s%N)
        "$@"
        t1=$(date +%s%N)
        awk -v ns="$((t1 - t0))" 'BEGIN { printf "%.3f\n", ns / 1e9 }' >>"$file"
}
reference() { find "$tree" -type f -print0 | xargs -0 sha256sum >"$work/sums"; }
ours() { "$policy" runtime -q --rootfs "$tree" -j "$1" --timestamp bench -o "$work/policy-$1.json"; }

[ -x "$policy" ] || { echo "bench-policy: no $policy (make VARIANT=release tests-build)" >&2; exit 1; }
files=$(find "$tree" -type f | wc -l)
gib=$(find "$tree" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 2^30 }')
reference; ours 1 # the page cache warm for both
for ((i = 0; i < runs; i++)); do
        timed "$work/ref.txt" reference
        timed "$work/one.txt" ours 1
        timed "$work/two.txt" ours 2
done
cmp -s "$work/policy-1.json" "$work/policy-2.json" || { echo "bench-policy: 1 and 2 workers wrote different policies" >&2; exit 1; }
listed=$(jq '.digests | length' "$work/policy-1.json")
[ "$listed" -le "$files" ] && [ "$listed" -ge $((files * 99 / 100)) ] ||
        { echo "bench-policy: the policy lists $listed paths, find saw $files files" >&2; exit 1; }

read -r r_min r_med r_max <<<"$(stats "$work/ref.txt")"
read -r o_min o_med o_max <<<"$(stats "$work/one.txt")"
read -r t_min t_med t_max <<<"$(stats "$work/two.txt")"
speed1=$(awk -v r="$r_med" -v o="$o_med" 'BEGIN { printf "%.2f", r / o }')
speed2=$(awk -v r="$r_med" -v o="$t_med" 'BEGIN { printf "%.2f", r / o }')
row '%-48s %29s %10s %7s' "policy runtime: tree, files, GiB (both sides)" "$tree $files $gib" "" ""
row '%-48s %9s %9s %9s %10s %7s' "  vmattest-policy runtime, 1 worker, s" "$o_min" "$o_med" "$o_max" "" ""
row '%-48s %9s %9s %9s %10s %7s' "  vmattest-policy runtime, 2 workers, s" "$t_min" "$t_med" "$t_max" "" ""
row '%-48s %9s %9s %9s %10s %7s' "  find -type f | xargs sha256sum (reference), s" "$r_min" "$r_med" "$r_max" "" ""
row '%-48s %29s %10s %7s' "  speed vs reference, 1 worker (medians)" "${speed1}x" ">= 0.8x" "$(verdict "$speed1" 0.8 ge)"
row '%-48s %29s %10s %7s' "  speed vs reference, 2 workers (medians)" "${speed2}x" "> 1.0x" "$(verdict "$speed2" 1.0 gt)"
if [ -n "$rows_file" ]; then
        printf '%s\n' "${rows[@]}" >"$rows_file"
else
        echo "vmattest-policy bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $runs interleaved runs"
        printf '%-48s %9s %9s %9s %10s %7s\n' "measure" "min" "median" "max" "target" "result"
        printf '%s\n' "${rows[@]}"
fi
