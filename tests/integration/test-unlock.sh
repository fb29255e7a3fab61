#!/bin/bash
# vmattest unlock on loopback, with a stand-in for systemd-cryptsetup's password request: the key
# arrives only through attestation, answers the request, is recorded in PCR 15; without a key
# the tenant's fallback is what the exit status says; a second unlock in the same boot gets none.
. "$(dirname "$0")/lib.sh"
plan 19

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
uuid=5f1e2d3c-0000-4000-8000-00000000abcd
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
release_verifier_config
verifier_start verifier.conf || exit 1
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

# unlock_round NAME: an unlock with a password request waiting; UNLOCK_STATUS, NAME.answer
unlock_round() {
        "$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 25 "$1.answer" &
        local listener=$!
        # shellcheck disable=SC2086
        "$VMATTEST" --config agent.conf unlock ${UNLOCK_ARGS:---cmdline /dev/null} >"$1.log" 2>&1 &
        local agent=$!
        verifier_pids+=("$agent" "$listener")
        # this boot's registration done (an earlier one may still be listed as active)
        wait_for registered 20 grep -q "unlock: registered" "$1.log"
        [ -z "${2:-}" ] || vv add --agent "$agent_id" --policy "$2" --payload disk.key --allow-unpinned-cmdline >/dev/null
        wait "$agent"
        UNLOCK_STATUS=$?
        # an answer sent just before unlock exited is still being written down: let it land
        [ "$UNLOCK_STATUS" -ne 0 ] || wait_for answer 5 test -s "$1.answer"
        kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
}

unlock_round first any-pcrs.json
expect_equal "unlock exits 0 once the verifier released the key" "$UNLOCK_STATUS" 0
expect_equal "it answered the volume's password request with the released key" "$(cat first.answer 2>/dev/null)" "$(cat disk.key)"
expect_equal "PCR 15's log records the root identity and the release" \
        "$("$VMATTEST" --config agent.conf measure --list | cut -d' ' -f2 | tr '\n' ' ')" "root-identity key-released "
# the log is a TCG event log: tpm2-tools (Keylime's verifier parses logs with it) replays it to
# the TPM's PCR 15
expect_equal "tpm2_eventlog replays PCR 15's log to the TPM's PCR 15" \
        "$(tpm2_eventlog measurements.log 2>/dev/null | sed -n 's/^ *15 *: *0x//p' | tr a-f A-F)" \
        "$(tpm2_pcrread sha256:15 | sed -n 's/^ *15: *0x//p')"
if grep -q "unlock: done" first.log && ! grep -qF "$(cat disk.key)" first.log "$TEST_TMP/verifier.log"; then
        ok "progress on the console, and the key in no log"
else not_ok "progress on the console, and the key in no log"; diag <first.log; fi

# switch-root: the runtime agent takes this boot's identity over from the hand-over file
mode=$(stat -c %a handover 2>/dev/null)
if [ "$mode" = 600 ] && grep -q "^agent_id $agent_id\$" handover && ! grep -qF "$(cat disk.key)" handover; then
        ok "unlock handed its identity over in a 0600 file (without the disk key)"
else not_ok "unlock handed its identity over in a 0600 file (mode ${mode:-none})"; fi
polls_before=$(vv status --agent "$agent_id" --json | jq -r '.[0].polls')
"$VMATTEST" --config agent.conf serve >runtime.log 2>&1 &
runtime=$!
verifier_pids+=("$runtime")
wait_for serving 20 grep -q "serving on" runtime.log
if grep -q "taking over agent $agent_id from the initrd" runtime.log && [ ! -e handover ] &&
   ! grep -q "registered" runtime.log; then
        ok "serve took the identity over, removed the file and did not register again"
else not_ok "serve took the identity over, removed the file and did not register again"; diag <runtime.log; fi
polled() { [ "$(vv status --agent "$agent_id" --json | jq -r '.[0].polls')" -ge $((polls_before + 2)) ]; }
wait_for polls 20 polled
status=$(vv status --agent "$agent_id" --json)
if [ "$(jq -r '.[0].polls' <<<"$status")" -ge $((polls_before + 2)) ] && [ "$(jq -r '.[0].failure' <<<"$status")" = null ]; then
        ok "the verifier keeps attesting the same agent after the hand-over (PCR 16 and mTLS certificate unchanged)"
else not_ok "the verifier keeps attesting the same agent after the hand-over"; diag <<<"$status"; fi
kill "$runtime"; wait "$runtime" 2>/dev/null
# a hand-over that is not ours (mode 0644) is removed and ignored: a fresh identity
printf 'vmattest-handover 1\n' >handover; chmod 0644 handover
"$VMATTEST" --config agent.conf serve --no-register >runtime2.log 2>&1 &
runtime=$!
verifier_pids+=("$runtime")
wait_for serving 20 grep -q "serving on" runtime2.log
kill "$runtime"; wait "$runtime" 2>/dev/null
if [ ! -e handover ] && grep -q "not a regular file of ours with mode 0600" runtime2.log; then
        ok "a hand-over file with another mode is refused, removed, and named in the log"
else not_ok "a hand-over file with another mode is refused and removed"; diag <runtime2.log; fi
printf 'vmattest-handover 1\nagent_id x\nak_handle 0x81000000\n' >handover; chmod 0600 handover
"$VMATTEST" --config agent.conf serve --no-register >runtime3.log 2>&1 &
runtime=$!
verifier_pids+=("$runtime")
wait_for serving 20 grep -q "serving on" runtime3.log
kill "$runtime"; wait "$runtime" 2>/dev/null
if [ ! -e handover ] && grep -q "hand-over $TEST_TMP/handover: no payload key" runtime3.log; then
        ok "a truncated hand-over is removed and the error names what is missing"
else not_ok "a truncated hand-over is removed and the error names what is missing"; diag <runtime3.log; fi

# the same boot again: PCR 15 shows a release, so no second key; the fallback decides
vv delete --agent "$agent_id" >/dev/null
sed -i 's/^unlock_timeout = 20$/unlock_timeout = 6/' agent.conf
unlock_round second any-pcrs.json
expect_equal "a second unlock in the same boot gets no key: exit 3 (prompt fallback)" "$UNLOCK_STATUS" 3
expect_equal "... its request unanswered" "$( [ -e second.answer ] && echo answered || echo unanswered)" unanswered
refused() { vv status --agent "$agent_id" --json | jq -r '.[0].failure' | grep -q 'already holds a key release'; }
# the verifier may judge the poll after unlock gave up (a slow machine): wait for its verdict
if wait_for refused 15 refused; then ok "... and the verifier names why"
else not_ok "... and the verifier names why"; vv status --agent "$agent_id" | diag; fi

# no verifier enrolment at all: the wait is bounded, then the fallback
vv delete --agent "$agent_id" >/dev/null
# the fallback, this time, from the kernel command line (rd.vmattest.*: over agent.conf)
printf 'root=/dev/mapper/x quiet rd.vmattest.fallback=poweroff\n' >cmdline
UNLOCK_ARGS="--cmdline cmdline"
unlock_round third
expect_equal "no key within unlock_timeout with fallback poweroff: exit 1" "$UNLOCK_STATUS" 1
if grep -q "waiting for the verifier's key" third.log && grep -q "fallback: poweroff" third.log; then
        ok "the console says it waits, then which fallback it takes"
else not_ok "the console says it waits, then which fallback it takes"; diag <third.log; fi

# no registrar yet: within unlock_timeout the initrd keeps trying, never waiting long, so that a
# registrar that comes back in the last seconds is reached (a doubling wait would stop early)
dead_port=$(random_port)
sed "s/^registrar_port = .*/registrar_port = $dead_port/; s/^unlock_timeout = .*/unlock_timeout = 16/" \
        agent.conf >dead.conf
"$VMATTEST" --config dead.conf unlock --cmdline /dev/null >dead.log 2>&1
longest=$(sed -n 's/.*retrying in \([0-9]*\) s.*/\1/p' dead.log | sort -n | tail -1)
attempts=$(grep -c "registrar .*: attempt [0-9]* failed" dead.log)
if [ -n "$longest" ] && [ "$longest" -le 4 ]; then
        ok "without a registrar the initrd's waits stay at most 4 s (longest: $longest s)"
else not_ok "without a registrar the initrd's waits stay at most 4 s (longest: ${longest:-none} s)"; diag <dead.log; fi
# 1 + 2 + 4 + 4 + 4: five waits fit in 16 s, a doubling wait (1, 2, 4, 8) only four
if [ "$attempts" -ge 5 ]; then ok "... and it tries until the deadline's last seconds ($attempts attempts)"
else not_ok "... and it tries until the deadline's last seconds ($attempts attempts)"; diag <dead.log; fi

# a typo on the kernel command line: no attestation with a configuration nobody meant
printf 'rd.vmattest.timout=5\n' >cmdline
"$VMATTEST" --config agent.conf unlock --cmdline cmdline >typo.log 2>&1
expect_equal "an unknown rd.vmattest option: the fallback at once (exit 3 from agent.conf's prompt)" "$?" 3
if grep -q 'rd.vmattest.timout' typo.log && ! grep -q 'registered' typo.log; then
        ok "... naming the word, before registering"
else not_ok "... naming the word, before registering"; diag <typo.log; fi
