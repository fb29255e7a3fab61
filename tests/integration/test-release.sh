#!/bin/bash
# Key release end to end (docs/protocol.md §3): vmattest-verifier releases the tenant's payload to a
# good agent (U after a good integrity quote, V after the next one of the same boot, then
# /keys/verify), never to one whose integrity quote fails, holds it back from a boot that left the
# initrd, and keeps the payload only sealed.
. "$(dirname "$0")/lib.sh"
plan 23

cd "$TEST_TMP" || exit 1
tenant_pki
secret="luks-$(openssl rand -hex 16)"
{ printf %s "$secret"; head -c 45000 /dev/urandom | base64 -w0; } >disk.key # a key file near the 64 KiB limit
release_verifier_config
verifier_start verifier.conf || exit 1
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }

start_vm() { # start_vm NAME [EXTRA-CONF]: a swtpm and an agent serving on it; AGENT_ID, AGENT_PORT, its log NAME.log
        swtpm_start "$1" >/dev/null || exit 1
        local port; port=$(random_port)
        AGENT_PORT=$port
        agent_config "$1.conf" "$VERIFIER_PORT" "port = $port
state_dir = $TEST_TMP/$1-state
vmattest_ml_path = $TEST_TMP/$1-measurements.log
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
${2-runtime_release = yes}"
        "$VMATTEST" --config "$1.conf" serve >"$1.log" 2>&1 &
        verifier_pids+=("$!")
        wait_port "$!" "$port" || { cat "$1.log" >&2; exit 1; }
        AGENT_ID=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' "$1.log")
}

printf '{"15": ["%064d"]}\n' 0 >good-policy.json
start_vm good
good=$AGENT_ID
expect_success "the tenant enrolls the agent with its disk key" \
        vv add --agent "$good" --policy good-policy.json --payload disk.key --allow-unpinned-cmdline
released() { [ "$(status "$1" payload_released_at)" != null ]; }
if wait_for released 15 released "$good"; then ok "the verifier releases the payload once the agent attests"
else not_ok "the verifier releases the payload once the agent attests"; vv status --agent "$good" | diag; tail -5 "$TEST_TMP/verifier.log" | diag; fi
if grep -q "K authenticated, payload opened" good.log; then ok "the agent derived K and opened the payload"
else not_ok "the agent derived K and opened the payload"; diag <good.log; fi

# an agent whose PCRs the tenant does not accept: it may get U, never V
printf '{"15": ["%064d"]}\n' 1 >strict-policy.json
start_vm bad
bad=$AGENT_ID
vv add --agent "$bad" --policy strict-policy.json --payload disk.key --allow-unpinned-cmdline >/dev/null
failed() { [ "$(status "$1" state)" = failed ]; }
wait_for failed 15 failed "$bad"
sleep 1
expect_equal "a failing agent gets no key (state failed, nothing released)" \
        "$(status "$bad" state) $(status "$bad" payload_released_at)" "failed null"
if ! grep -q "K authenticated" bad.log; then ok "... and never derives K"; else not_ok "... and never derives K"; diag <bad.log; fi

# a boot whose PCR 15 log already records a key release (another unlock) gets no second key
start_vm again
again=$AGENT_ID
expect_success "vmattest measure records a key release in PCR 15" \
        "$VMATTEST" --config again.conf measure --event key-released --data "earlier release"
# a measurement log that reads as a SHA-1 event log (no Spec ID event first) is not the agent's:
# refused before PCR 15 is extended
sed "s|^vmattest_ml_path = .*|vmattest_ml_path = $TEST_TMP/sha1-measurements.log|" again.conf >sha1.conf
# one TCG_PCClientPCREvent: PCR 0, EV_NO_ACTION, a zero SHA-1 digest, no data
head -c 32 /dev/zero >sha1-measurements.log
printf '\x03' | dd of=sha1-measurements.log bs=1 seek=4 conv=notrunc status=none
expect_failure "vmattest measure refuses a measurement log in the SHA-1 event log format" any \
        "sha1-measurements.log: its first record is not the Spec ID event" \
        "$VMATTEST" --config sha1.conf measure --event key-released --data "on a SHA-1 log"
echo '{}' >any-pcrs.json # PCR 15 now holds the measured event: no PCR policy on it
vv add --agent "$again" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null
wait_for failed 15 failed "$again"
expect_equal "a second key release in the same boot is refused" \
        "$(status "$again" state) $(status "$again" failure | grep -o 'already holds a key release')" \
        "failed already holds a key release" || vv status --agent "$again" >&2
vv status --agent "$again" >&2 # (for the log when the check above fails)
if ! grep -q "K authenticated" again.log; then ok "... and that agent never derives K"; else not_ok "... and that agent never derives K"; fi

# the tenant enrolls the released agent again in the same boot: the boot keeps its one release
released_at=$(status "$good" payload_released_at)
expect_success "the tenant enrolls the released agent again" \
        vv add --agent "$good" --policy good-policy.json --payload disk.key --allow-unpinned-cmdline
sleep 4
expect_equal "... and the verifier releases nothing more in that boot" \
        "$(status "$good" state) $(status "$good" payload_released_at) $(grep -c "K authenticated" good.log)" \
        "polling $released_at 1"

# the verifier cannot open its vault: its own trouble, told in status; the agent is not failed
start_vm novault
novault=$AGENT_ID
vv add --agent "$novault" --policy good-policy.json --payload disk.key --allow-unpinned-cmdline >/dev/null
mv vault.key vault.key.kept && chmod 0644 disk.key && cp disk.key vault.key # the wrong owner's mode
vault_trouble() { status "$1" last_error | grep -q 'key release: .*vault'; }
if wait_for vault 10 vault_trouble "$novault"; then ok "a vault the verifier cannot use: status says so (last_error)"
else not_ok "a vault the verifier cannot use: status says so (last_error)"; vv status --agent "$novault" | diag; fi
expect_equal "... the agent stays polling and gets nothing" \
        "$(status "$novault" state) $(status "$novault" payload_released_at)" "polling null"
mv vault.key.kept vault.key
if wait_for released 15 released "$novault"; then ok "... and gets its key once the vault is back"
else not_ok "... and gets its key once the vault is back"; vv status --agent "$novault" | diag; fi

# PCR 15's log renamed by root in the guest: a release recorded as something harmless
start_vm renamed
renamed=$AGENT_ID
"$VMATTEST" --config renamed.conf measure --event key-released --data "earlier release" >/dev/null
# the record's data rewritten (its size with it), its digests kept: a well-formed log
python3 - renamed-measurements.log <<'PY'
import sys
path = sys.argv[1]
log = open(path, "rb").read()
old, new = b"key-released\0earlier release", b"root-identity\0earlier release"
at = log.index(old)
size = int.from_bytes(log[at - 4:at], "little")
assert size == len(old)
open(path, "wb").write(log[:at - 4] + len(new).to_bytes(4, "little") + new + log[at + len(old):])
PY
vv add --agent "$renamed" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null
wait_for failed 15 failed "$renamed"
expect_equal "a release renamed in PCR 15's log does not replay: no second key" \
        "$(status "$renamed" state) $(status "$renamed" failure | grep -o 'record 0 (event 1): digest is not H(event data)')" \
        "failed record 0 (event 1): digest is not H(event data)" || vv status --agent "$renamed" >&2
if ! grep -q "K authenticated" renamed.log; then ok "... and that agent never derives K"; else not_ok "... and that agent never derives K"; fi

# a boot that has left the initrd gets no key, even from an agent that would take one
start_vm runtime
runtime=$AGENT_ID
"$VMATTEST" --config runtime.conf measure --event leave-initrd --data switch-root >/dev/null
vv add --agent "$runtime" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null
polled() { [ "$(status "$1" last_ok)" != null ]; }
wait_for polled 15 polled "$runtime"
sleep 2
expect_equal "no key release after leave-initrd in PCR 15's log (the agent attests, nothing released)" \
        "$(status "$runtime" state) $(status "$runtime" payload_released_at)" "polling null"
if grep -q "agent $runtime: no key release in this boot: the boot has left the initrd" "$TEST_TMP/verifier.log" &&
        ! grep -q "K authenticated" runtime.log; then ok "... the verifier says why, and that agent never derives K"
else not_ok "... the verifier says why, and that agent never derives K"; tail -5 "$TEST_TMP/verifier.log" | diag; fi

# vmattest serve takes no key unless runtime_release says so; its verifier keeps attesting it
start_vm plain ""
plain=$AGENT_ID
code=$(curl -s -o plain.reply -w '%{http_code}' --cacert /dev/null -k --cert verifier-client.pem --key verifier-client.key \
        -H 'Content-Type: application/json' -d '{"encrypted_key":"AAAA","auth_tag":"00"}' \
        "https://127.0.0.1:$AGENT_PORT/v2.6/keys/ukey")
expect_equal "serve refuses POST /keys/ukey without runtime_release (403)" "$code $(grep -o 'runtime_release is off' plain.reply)" \
        "403 runtime_release is off"
vv add --agent "$plain" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null
wait_for polled 15 polled "$plain"
first_ok=$(status "$plain" last_ok)
sleep 3
expect_equal "... and the verifier, refused U, still polls its integrity (no key, no failure)" \
        "$(status "$plain" state) $(status "$plain" payload_released_at) $([ "$(status "$plain" last_ok)" != "$first_ok" ] && echo advancing)" \
        "polling null advancing"

# the payload is stored sealed: not in the database, its journal or any log
verifier_stop
if ! grep -rqF "$secret" verifier.sqlite* "$TEST_TMP/verifier.log" ./*.log; then
        ok "the disk key appears in no database file and no log"
else not_ok "the disk key appears in no database file and no log"; grep -rlF "$secret" . | diag; fi
expect_equal "the vault key is private" "$(stat -c %a vault.key)" 600
expect_success "vmattest-verifier stopped cleanly (exit 0, no sanitizer report)" verifier_clean
