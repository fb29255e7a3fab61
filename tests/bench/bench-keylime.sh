#!/bin/bash
# The Keylime part of make bench (called by bench.sh; ROWS-FILE gets table rows in its format,
# and without ROWS-FILE the script prints its own table): the same swtpm-backed `vmattest serve`
# agents polled by vmattest-verifier and by an unmodified Keylime verifier (tests/interop's venv,
# its default configuration but for the ports and quote_interval), at the same interval, with the
# same tpm_policy (PCR 23 at zero; no IMA runtime policy, no measured-boot policy on either side,
# so each poll is one quote of one PCR and its check).
#
# Each agent registers with both registrars (`vmattest register` with vmattest-verifier's, then
# `vmattest serve` with Keylime's, same TPM, AK, mTLS certificate and uuid) and is enrolled with
# both verifiers; vmattest-verifier presents the client certificate Keylime's CA made, so one
# trusted_client_ca serves both. Then the two verifiers take turns on the same agent processes,
# one running at a time (A B A B ...: machine noise hits both alike): each starts, polls until
# every agent has answered two quotes, and is measured over a window:
#   - the verifier's CPU (the scheduler's count for every thread of all its processes: Keylime's
#     main process and the workers it forks, one process group) per attestation;
#   - the worst gap between two attestations of one agent (max over agents; a gap still open at
#     the window's end counts): the latency a tenant sees when a TPM goes bad. Keylime schedules
#     an agent's next poll quote_interval after its last verdict, vmattest-verifier
#     quote_interval after the last request's start: the gap shows both ways as they are;
#   - the agents' CPU, and the swtpms', per quote served, and the TLS connections the agents
#     accepted per quote (each costs the agent a handshake).
# Attestations are counted where both verifiers are alike: the agents' log lines of integrity
# quotes answered 200, stamped as they are written, within the window (asking a verifier for its
# counters would cost it CPU inside the window).
# Usage: tests/bench/bench-keylime.sh [ROWS-FILE]   BENCH_KEYLIME_AGENTS (16),
#   BENCH_KEYLIME_INTERVAL (quote_interval, 2 s), BENCH_KEYLIME_ROUNDS (3 windows per verifier),
#   BENCH_KEYLIME_WINDOW (20 s); BENCH_KEYLIME_LOGS=DIR keeps the agents' stamped logs, the
#   verifiers' logs and the windows' measures there
export LC_ALL=C # EPOCHREALTIME's decimal point
rows_file=${1:+$(realpath -m "$1")}
cd "$(dirname "$0")/../.." || exit 1
. tests/interop/lib.sh
VMATTEST_VERIFIER="$PWD/build/release/vmattest-verifier"
agents=${BENCH_KEYLIME_AGENTS:-16}
interval=${BENCH_KEYLIME_INTERVAL:-2}
rounds=${BENCH_KEYLIME_ROUNDS:-3}
window=${BENCH_KEYLIME_WINDOW:-20}
hz=$(getconf CLK_TCK)
rows=()

fail() { echo "bench-keylime: $*" >&2; keylime_log_diag >&2; exit 1; }
row() { rows+=("$(printf "$@")"); }
# stats FILE COLUMN: "min median max" of a column of numbers
stats() { cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
median() { stats "$1" "$2" | cut -d' ' -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
# apart COLUMN: whether vmattest-verifier's windows all stay below Keylime's ("lower") or above
# them ("higher"), or the two ranges overlap (no verdict)
apart() {
        read -r a_min _ a_max <<<"$(stats vmattest.txt "$1")"
        read -r b_min _ b_max <<<"$(stats keylime.txt "$1")"
        awk -v a_min="$a_min" -v a_max="$a_max" -v b_min="$b_min" -v b_max="$b_max" \
                'BEGIN { print (a_max < b_min ? "lower" : (a_min > b_max ? "higher" : "overlap")) }'
}
# cpu_ns PID...: nanoseconds on a CPU of every thread of the processes, as the scheduler counts
# them (/proc/PID/task/*/schedstat): /proc/PID/stat's clock ticks are 10 ms, as much as an
# agent spends on several quotes
cpu_ns() {
        local pid task ns rest t=0
        for pid in "$@"; do
                for task in /proc/"$pid"/task/*/schedstat; do
                        read -r ns rest 2>/dev/null <"$task" && t=$((t + ns))
                done
        done
        echo "$t"
}
# ticks PID...: clock ticks of the processes and of the children they reaped: a cross-check of
# cpu_ns for the verifiers (sampled at each tick, but it holds what cpu_ns would miss: threads
# and processes that ended within the window)
ticks() {
        local pid stat t=0
        for pid in "$@"; do
                read -r stat 2>/dev/null <"/proc/$pid/stat" || continue
                read -r -a stat <<<"${stat##*) }" # past the command name, which may hold spaces
                t=$((t + stat[11] + stat[12] + stat[13] + stat[14]))
        done
        echo "$t"
}
# group PGID: the processes of a process group
group() {
        local stat fields
        for stat in /proc/[0-9]*/stat; do
                read -r stat 2>/dev/null <"$stat" || continue
                read -r -a fields <<<"${stat##*) }"
                [ "${fields[2]}" = "$1" ] && echo "${stat%% *}"
        done
}
# vv_cpu, kl_cpu: "ns ticks" of the verifier running: vmattest-verifier (one process),
# Keylime's (its process group: the main process and the workers it forks)
vv_cpu() { echo "$(cpu_ns "$VERIFIER_PID") $(ticks "$VERIFIER_PID")"; }
kl_cpu() { local pids; pids=$(group "$keylime_verifier_pgid"); echo "$(cpu_ns $pids) $(ticks $pids)"; }
# stamped FILE: each line read, behind the time it was read (s.us)
stamped() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$1"; }
quotes() { grep -c 'quotes/integrity -> 200 ' "$1"; }

cd "$TEST_TMP" || exit 1
[ -x "$VMATTEST" ] && [ -x "$VMATTEST_VERIFIER" ] || fail "no build/release binaries: make VARIANT=release tests-build"
keylime_start >keylime-start.log || { cat keylime-start.log >&2; fail "Keylime did not start"; }
keylime_registrar_pgid=${keylime_pgids[1]} keylime_verifier_pgid=${keylime_pgids[0]}
# every phase starts Keylime's verifier anew: from then on at the bench's interval
keylime_set "$KEYLIME_VERIFIER_CONFIG" quote_interval "$interval" || exit 1

verifier_config vv.conf "$(printf '[verifier]\nquote_interval = %s\nrequest_timeout = 10\nclient_cert = %s\nclient_key = %s\n' \
        "$interval" "$KEYLIME_DIR/cv_ca/client-cert.crt" "$KEYLIME_DIR/cv_ca/client-private.pem")"
verifier_start vv.conf || exit 1

zeros=$(printf %064d 0)
tpm_policy="{\"23\": [\"$zeros\"]}"
echo "$tpm_policy" >policy.json
mkdir -p template && swtpm_setup --tpm2 --tpmstate template --create-ek-cert >/dev/null 2>&1 || fail "swtpm_setup failed"
agent_pids=() tpm_pids=() ids=()
for ((i = 0; i < agents; i++)); do
        # copies of one manufactured TPM (same EK), so each agent gets a uuid of its own
        SWTPM_TEMPLATE=template swtpm_start "tpm$i" >/dev/null || fail "swtpm $i did not start"
        tpm_pids+=("$SWTPM_PID")
        port=$(random_port)
        lines="port = $port
uuid = generate
state_dir = $TEST_TMP/agent$i-state
handover_path = $TEST_TMP/agent$i-handover
vmattest_ml_path = $TEST_TMP/agent$i-measurements.log
measuredboot_ml_path = $TEST_TMP/none
ima_ml_path = $TEST_TMP/none
trusted_client_ca = $KEYLIME_DIR/cv_ca/cacert.crt
runtime_release = yes" # (Keylime's add sends U and V, payload or not)
        agent_config "vv$i.conf" "$VERIFIER_PORT" "$lines"
        agent_config "kl$i.conf" "$KEYLIME_REGISTRAR_PORT" "$lines"
        # (before serve: swtpm serves one client at a time, and serve keeps its connection)
        "$VMATTEST" --config "vv$i.conf" register >"register$i.log" 2>&1 ||
                { cat "register$i.log" >&2; fail "agent $i did not register with vmattest-verifier"; }
        "$VMATTEST" --config "kl$i.conf" serve > >(stamped "agent$i.log") 2>&1 &
        agent_pids+=("$!")
        verifier_pids+=("$!")
        wait_port "$!" "$port" || { sleep 0.2; cat "agent$i.log" >&2; fail "agent $i did not start"; }
        ids+=("$(cat "agent$i-state/agent_uuid")")
        "$VMATTEST_VERIFIER" --config vv.conf add --agent "${ids[i]}" --policy policy.json >/dev/null ||
                fail "vmattest-verifier add (agent $i)"
        keylime_tenant -c add -t 127.0.0.1 -tp "$port" -u "${ids[i]}" --tpm_policy "$tpm_policy" >"tenant$i.log" 2>&1 ||
                { tail -n 5 "tenant$i.log" >&2; fail "keylime_tenant -c add (agent $i)"; }
done

kl_start() {
        keylime_service verifier "$KEYLIME_VERIFIER_PORT" >>keylime-start.log || fail "Keylime's verifier did not start"
        keylime_verifier_pgid=${keylime_pgids[-1]}
}
# kl_stop: Keylime's verifier only (its process group, as keylime_stop does), the registrar stays
kl_stop() {
        local i
        kill -TERM -- "-$keylime_verifier_pgid" 2>/dev/null
        for ((i = 0; i < 200; i++)); do
                kill -0 -- "-$keylime_verifier_pgid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL -- "-$keylime_verifier_pgid" 2>/dev/null
        wait "$keylime_verifier_pgid" 2>/dev/null
        keylime_pgids=("$keylime_registrar_pgid")
}
# failed_vv, failed_kl: how many agents the verifier does not show attesting well
failed_vv() { "$VMATTEST_VERIFIER" --config vv.conf status --json | jq '[.[] | select(.state != "polling" or .last_ok == null)] | length'; }
failed_kl() {
        local id n=0
        for id in "${ids[@]}"; do
                [ "$(keylime_verifier_agent "$id" | jq -r '"\(.operational_state) \(.attestation_status)"')" = "3 PASS" ] || n=$((n + 1))
        done
        echo "$n"
}
# warm SIDE: waits until every agent has answered two more quotes (the verifier's start and first
# polls are not measured), at most 90 s
warm() {
        local i before=() done start=$SECONDS
        for ((i = 0; i < agents; i++)); do before+=("$(quotes "agent$i.log")"); done
        while :; do
                done=1
                for ((i = 0; i < agents; i++)); do
                        [ "$(quotes "agent$i.log")" -ge $((before[i] + 2)) ] || { done=0; break; }
                done
                [ "$done" = 1 ] && return 0
                [ $((SECONDS - start)) -lt 90 ] || fail "$1: agent $i not polled twice within 90 s"
                sleep 0.5
        done
}
# measure SIDE CPU-COMMAND: one window; appends "verifier-ms/attestation worst-gap-ms
# agent-ms/quote swtpm-ms/quote quotes agents-without-a-quote verifier-ms/attestation-in-ticks
# mean-gap-ms connections/quote" to SIDE.txt
measure() {
        local side=$1 v0 v1 a0 a1 s0 s1 t0 t1 i counted=0 idle=0 worst=0 gaps=0 gap_sum=0 conns=0 n gap g_n g_sum c
        read -r -a v0 <<<"$($2)"; a0=$(cpu_ns "${agent_pids[@]}"); s0=$(cpu_ns "${tpm_pids[@]}"); t0=$EPOCHREALTIME
        sleep "$window"
        read -r -a v1 <<<"$($2)"; a1=$(cpu_ns "${agent_pids[@]}"); s1=$(cpu_ns "${tpm_pids[@]}"); t1=$EPOCHREALTIME
        for ((i = 0; i < agents; i++)); do
                # quotes in the window, from how many connections (client ports); the gaps that
                # end in it (from the last quote before it on) and the one still open at its end
                read -r n gap g_n g_sum c < <(awk -v t0="$t0" -v t1="$t1" '/quotes\/integrity -> 200 / && $1 <= t1 {
                                if ($1 >= t0) {
                                        n++
                                        if (!($3 in peers)) { peers[$3]; conns++ }
                                        if (last) { g = $1 - last; gaps++; sum += g; if (g > worst) worst = g }
                                }
                                last = $1 }
                        END { if (t1 - last > worst) worst = t1 - last; printf "%d %.6f %d %.6f %d\n", n, worst, gaps, sum, conns }' "agent$i.log")
                counted=$((counted + n)) conns=$((conns + c))
                [ "$n" -gt 0 ] || idle=$((idle + 1))
                read -r worst gaps gap_sum < <(awk -v w="$worst" -v g="$gap" -v n="$gaps" -v dn="$g_n" -v s="$gap_sum" -v ds="$g_sum" \
                        'BEGIN { printf "%.6f %d %.6f\n", (g > w ? g : w), n + dn, s + ds }')
        done
        [ "$counted" -gt 0 ] && [ "$gaps" -gt 0 ] || fail "$side: no quote in the window"
        awk -v v=$((v1[0] - v0[0])) -v vt=$((v1[1] - v0[1])) -v a=$((a1 - a0)) -v s=$((s1 - s0)) -v n="$counted" \
                -v hz="$hz" -v w="$worst" -v idle="$idle" -v gaps="$gaps" -v gap_sum="$gap_sum" -v c="$conns" \
                'BEGIN { printf "%.3f %.0f %.3f %.3f %d %d %.3f %.0f %.3f\n", v / 1e6 / n, 1000 * w, a / 1e6 / n, s / 1e6 / n, n, idle,
                         1000 * vt / hz / n, 1000 * gap_sum / gaps, c / n }' >>"$side.txt"
}

# both verifiers attest every agent before the measures begin
all_vv() { [ "$(failed_vv)" = 0 ]; }
all_kl() { [ "$(failed_kl)" = 0 ]; }
wait_for "vmattest-verifier" 60 all_vv || fail "vmattest-verifier does not attest every agent: $("$VMATTEST_VERIFIER" --config vv.conf status)"
wait_for "Keylime" 120 all_kl || fail "Keylime's verifier does not attest every agent"
verifier_stop
kl_stop

failed_vv_total=0 failed_kl_total=0
for ((r = 0; r < rounds; r++)); do
        verifier_start vv.conf || exit 1
        warm vmattest-verifier
        measure vmattest vv_cpu
        failed_vv_total=$((failed_vv_total + $(failed_vv)))
        verifier_stop

        kl_start
        warm Keylime
        measure keylime kl_cpu
        failed_kl_total=$((failed_kl_total + $(failed_kl)))
        kl_stop
done
verifier_clean >&2 || fail "vmattest-verifier exited uncleanly"
if [ -n "${BENCH_KEYLIME_LOGS:-}" ]; then
        mkdir -p "$BENCH_KEYLIME_LOGS" && cp agent*.log verifier.log keylime/*.log vmattest.txt keylime.txt "$BENCH_KEYLIME_LOGS/"
fi
echo "bench-keylime: each window: verifier ms/attestation, worst gap ms, agent ms/quote, swtpm ms/quote, quotes,"
echo "bench-keylime: agents without a quote, verifier ms/attestation from clock ticks, mean gap ms, connections per"
echo "bench-keylime: quote; vmattest-verifier's:"
cat vmattest.txt
echo "bench-keylime: Keylime's verifier windows:"
cat keylime.txt

line3() { read -r a b c <<<"$(stats "$2" "$3")"; row '%-48s %9s %9s %9s %10s %7s' "$1" "$a" "$b" "$c" "" ""; }
line1() { row '%-48s %29s %10s %7s' "$1" "$2" "${3:-}" "${4:-}"; }
compare() { # compare COLUMN: the ratio of the medians, vmattest-verifier's over Keylime's
        local r
        r=$(ratio "$(median vmattest.txt "$1")" "$(median keylime.txt "$1")")
        line1 "  ratio of medians, vmattest / Keylime" "$r" "" "$(apart "$1")"
}
line3 "vmattest-verifier CPU per attestation, ms" vmattest.txt 1
line3 "Keylime 7.14 verifier CPU per attestation, ms" keylime.txt 1
compare 1
line3 "worst gap between 2 attestations, vmattest, ms" vmattest.txt 2
line3 "  the same polled by Keylime's verifier, ms" keylime.txt 2
compare 2
line1 "  mean gap (medians), vmattest / Keylime, ms" "$(median vmattest.txt 8 | cut -d. -f1) / $(median keylime.txt 8 | cut -d. -f1)"
line3 "agent CPU per quote, vmattest-verifier, ms" vmattest.txt 3
line3 "  the same polled by Keylime's verifier, ms" keylime.txt 3
compare 3
line1 "  TLS connections per quote, vmattest / Keylime" "$(median vmattest.txt 9) / $(median keylime.txt 9)"
line3 "  swtpm CPU per quote, vmattest-verifier, ms" vmattest.txt 4
line3 "  the same polled by Keylime's verifier, ms" keylime.txt 4
idle=$(cat vmattest.txt keylime.txt | awk '{ n += $6 } END { print n }')
line1 "agents failed or unpolled, vmattest / Keylime" \
        "$failed_vv_total / $failed_kl_total ($idle unpolled)" "0" "$( [ $((failed_vv_total + failed_kl_total + idle)) = 0 ] && echo ok || echo MISSED)"

about="keylime: $agents swtpm + agent pairs, each polled every $interval s (tpm_policy PCR 23, no IMA, no measured boot) by vmattest-verifier and by Keylime 7.14.3's verifier in turn, $rounds windows of $window s each"
if [ -n "$rows_file" ]; then
        printf '%s\n' "${rows[@]}" >"$rows_file"
        echo "$about" >"$rows_file.about"
else
        echo
        echo "$about"
        printf '%-48s %9s %9s %9s %10s %7s\n' "measure" "min" "median" "max" "target" "result"
        printf '%s\n' "${rows[@]}"
fi
