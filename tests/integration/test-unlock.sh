#!/bin/bash
# vmattest unlock on loopback, with a stand-in for systemd-cryptsetup's password request: the key
# arrives only through attestation, answers the request, is recorded in PCR 15; without a key
# the tenant's fallback is what the exit status says; a second unlock in the same boot gets none.
. "$(dirname "$0")/lib.sh"
plan 9

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
uuid=5f1e2d3c-0000-4000-8000-00000000abcd
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
verifier_config verifier.conf "$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf
verifier_start verifier.conf || exit 1
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
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
        "$VMATTEST" --config agent.conf unlock >"$1.log" 2>&1 &
        local agent=$!
        verifier_pids+=("$agent" "$listener")
        # this boot's registration done (an earlier one may still be listed as active)
        wait_for registered 20 grep -q "unlock: registered" "$1.log"
        [ -z "${2:-}" ] || vv add --agent "$agent_id" --policy "$2" --payload disk.key >/dev/null
        wait "$agent"
        UNLOCK_STATUS=$?
        kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
}

unlock_round first any-pcrs.json
expect_equal "unlock exits 0 once the verifier released the key" "$UNLOCK_STATUS" 0
expect_equal "it answered the volume's password request with the released key" "$(cat first.answer 2>/dev/null)" "$(cat disk.key)"
expect_equal "PCR 15's log records the root identity and the release" \
        "$(jq -r .content.event measurements.log | tr '\n' ' ')" "root-identity key-released "
if grep -q "unlock: done" first.log && ! grep -qF "$(cat disk.key)" first.log "$TEST_TMP/verifier.log"; then
        ok "progress on the console, and the key in no log"
else not_ok "progress on the console, and the key in no log"; diag <first.log; fi

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
printf 'unlock_fallback = poweroff\n' >>agent.conf
unlock_round third
expect_equal "no key within unlock_timeout with fallback poweroff: exit 1" "$UNLOCK_STATUS" 1
if grep -q "waiting for the verifier's key" third.log && grep -q "fallback: poweroff" third.log; then
        ok "the console says it waits, then which fallback it takes"
else not_ok "the console says it waits, then which fallback it takes"; diag <third.log; fi
