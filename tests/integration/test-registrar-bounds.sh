#!/bin/bash
# What unauthenticated registrations can fill at vmattest-verifier's registrar: at most
# registrations_per_minute POSTs from one source address (429 beyond, the source told when to
# come back), and at most max_agents agents (a new id beyond: 503; a known id still registers).
. "$(dirname "$0")/lib.sh"
plan 6

cd "$TEST_TMP" || exit 1
verifier_config verifier.conf "registrations_per_minute = 3
max_agents = 1"
verifier_start verifier.conf || exit 1
swtpm_start first >/dev/null || exit 1
agent_config first.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/first-state
max_retries = 0"
register() { "$VMATTEST" --config "$1.conf" register; }

expect_success "an agent registers" register first
expect_success "... and again (a reboot)" register first
expect_success "... and a third time in the same minute" register first
expect_failure "a fourth registration from the same source within a minute is refused (429)" 1 \
        "429|more than 3 registrations a minute" register first
if grep -q "more than 3 registrations a minute from 127.0.0.1" "$TEST_TMP/verifier.log"; then
        ok "the registrar names the source in its log"
else not_ok "the registrar names the source in its log"; tail -5 "$TEST_TMP/verifier.log" | diag; fi

# a second agent, once the source may register again: the registrar is full
verifier_stop
verifier_start verifier.conf || exit 1 # (the per-source count lives in memory: a fresh minute)
swtpm_start second >/dev/null || exit 1
agent_config second.conf "$VERIFIER_PORT" "state_dir = $TEST_TMP/second-state
max_retries = 0"
expect_failure "a new agent beyond max_agents is refused (503)" 1 "503|maximum of 1 agents" register second
