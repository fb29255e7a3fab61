#!/bin/bash
# Revocation notifications from Keylime's verifier (docs/protocol.md §2.8): when an agent fails,
# Keylime 7.14.3 POSTs /notifications/revocation to every agent it attests, signed with the
# failed agent's revocation key, the RevocationNotifier key of the tenant's CA (keylime_ca)
# that `keylime_tenant -c add --cert CA` hands the verifier. An agent whose revocation_cert is
# that CA's RevocationNotifier-cert.crt logs the notification and runs its own action (listed
# in revocation_actions, in a root-owned revocation_actions_dir) with the message on its
# standard input, and nothing else: not another program of that directory, not the action_list
# Keylime's tenant ships in the payload. An agent holding another certificate refuses it (400)
# and runs nothing; so does every agent when the failed agent was added with -f (Keylime then
# has no revocation key for it and sends the notification unsigned).
. "$(dirname "$0")/lib.sh"
plan 9

cd "$TEST_TMP" || exit 1
keylime_start || exit 1
ca=$KEYLIME_DIR/ca
if keylime_revocation_ca "$ca"; then
        ok "keylime_ca makes the tenant's CA and its RevocationNotifier certificate"
else not_ok "keylime_ca makes the tenant's CA and its RevocationNotifier certificate"; exit 1; fi
# another tenant's certificate: the same name, another key
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=RevocationNotifier -keyout stranger-key.pem \
        -out stranger-cert.crt 2>/dev/null

# the agents' actions, in one root-owned directory: each keeps its standard input in
# ran/NAME.PID; "unlisted" is named by no agent
mkdir -m 0755 actions ran
action() {
        printf '#!/bin/sh\ncat >"%s/ran/%s.$$"\n' "$TEST_TMP" "$1" >"actions/$1"
        chmod 0755 "actions/$1"
}
action witness; action stranger; action failing; action unlisted
# what Keylime's Python agent would run from the payload's zip on a revocation (rust-keylime
# too, with allow_payload_revocation_actions): vmattest never opens the zip
mkdir payload-actions
echo local_action_payload >payload-actions/action_list
printf 'async def execute(revocation):\n    open("%s/ran/payload", "w").close()\n' "$TEST_TMP" \
        >payload-actions/local_action_payload.py
revocation_conf() { # revocation_conf CERT ACTION: agent.conf lines
        printf 'revocation_cert = %s\nrevocation_actions_dir = %s\nrevocation_actions = %s\n' "$1" "$TEST_TMP/actions" "$2"
}

tpm_policy="{\"23\": [\"$(printf %064d 0)\"]}"
ids=()
enroll() { # enroll NAME CERT ACTION TENANT-ARGS...: an agent, added to Keylime's verifier
        local name=$1 conf; conf=$(revocation_conf "$2" "$3"); shift 3
        keylime_agent "$name" "$conf" || return 1
        ids+=("$AGENT_ID")
        eval "${name}=$AGENT_ID ${name}_tcti=$TPM2TOOLS_TCTI"
        keylime_tenant -c add -t 127.0.0.1 -tp "$AGENT_PORT" -u "$AGENT_ID" --tpm_policy "$tpm_policy" "$@" \
                >"add-$name.out" 2>&1 || { echo "# keylime_tenant -c add $name failed:"; tail -n 5 "add-$name.out" | diag; }
}
head -c 32 /dev/urandom | base64 >disk.key
enroll witness "$ca/RevocationNotifier-cert.crt" witness --cert "$ca" --include "$TEST_TMP/payload-actions" &&
enroll stranger "$TEST_TMP/stranger-cert.crt" stranger --cert "$ca" &&
enroll failing "$ca/RevocationNotifier-cert.crt" failing --cert "$ca" &&
enroll unsigned "$ca/RevocationNotifier-cert.crt" "" -f disk.key || exit 1

polled() { local id; for id in "${ids[@]}"; do [ "$(keylime_field "$id" attestation_count)" -ge 1 ] || return 1; done; }
if wait_for "polls" 20 polled; then
        ok "keylime_tenant -c add: three agents with --cert CA, one with -f; the verifier polls all four"
else
        not_ok "keylime_tenant -c add: three agents with --cert CA, one with -f; the verifier polls all four"
        for id in "${ids[@]}"; do keylime_verifier_agent "$id" | cut -c1-300 | diag; done; keylime_log_diag
fi

# one agent fails: PCR 23 leaves the tpm_policy
TPM2TOOLS_TCTI=$failing_tcti tpm2_pcrextend "23:sha256=$(sha tampered)"
notified() {
        grep -q 'revocation action witness succeeded' witness.log &&
        grep -q 'revocation action failing succeeded' failing.log &&
        grep -q 'revocation notification refused' stranger.log &&
        grep -q "Notify Revocation response error for cloud agent $stranger" "$KEYLIME_DIR/verifier.log"
}
if wait_for "fail" 15 keylime_failed "$failing" && wait_for "notifications" 15 notified; then
        ok "PCR 23 extended: Keylime fails the agent and notifies the others"
else
        not_ok "PCR 23 extended: Keylime fails the agent and notifies the others"
        keylime_verifier_agent "$failing" | cut -c1-300 | diag; grep -h revocation witness.log stranger.log | diag; keylime_log_diag
fi
sleep 1 # time for anything that should not run

# the agent that holds the right certificate
expect_equal "the other agent logs the notification, signature verified, naming the failed agent, and answers 200" \
        "$(grep -c "revocation notification, signature verified with $ca/RevocationNotifier-cert.crt ([0-9]* bytes): {\"type\": \"revocation\", .*\"agent_id\": \"$failing\"" witness.log) $(grep -c '/notifications/revocation -> 200' witness.log) $(grep -c "Notify Revocation response error for cloud agent $witness" "$KEYLIME_DIR/verifier.log")" \
        "1 1 0"
expect_equal "... its action ran once, with Keylime's message on its standard input" \
        "$(ls ran | grep -c '^witness\.') $(jq -c '[.type, .agent_id == $id, .event_id, .severity_label]' --arg id "$failing" ran/witness.*)" \
        "1 [\"revocation\",true,\"pcr_validation.invalid_pcr_23\",\"emergency\"]"
expect_equal "... nothing else ran: not the unlisted action, not the payload's action_list, not the refusing agent's" \
        "$(ls ran | sed 's/\..*//' | sort | tr '\n' ' ')" "failing witness "
# Keylime 7.14.3 notifies the failed agent too: notify_error means to skip it, but compares each
# agent with a variable its loop rebinds
expect_equal "the failed agent is notified too (Keylime 7.14.3): verified, its action given the same message" \
        "$(grep -c "signature verified .*\"agent_id\": \"$failing\"" failing.log) $(cmp -s ran/failing.* ran/witness.* && echo same)" \
        "1 same"

# the agent that holds another certificate
expect_equal "an agent with another revocation_cert refuses the notification (400 to Keylime) and runs nothing" \
        "$(grep -c "revocation notification refused, nothing run: the signature does not verify under revocation_cert's key" stranger.log) $(grep -c '/notifications/revocation -> 400' stranger.log) $(grep -c "Notify Revocation response error for cloud agent $stranger, Error: 400" "$KEYLIME_DIR/verifier.log") $(grep -c "revocation action stranger" stranger.log)" \
        "1 1 1 0"

# an agent added with -f fails: no revocation key, so an unsigned notification
TPM2TOOLS_TCTI=$unsigned_tcti tpm2_pcrextend "23:sha256=$(sha tampered)"
refused_unsigned() { grep -q 'revocation notification refused, nothing run: the notification is not signed' witness.log; }
wait_for "fail" 15 keylime_failed "$unsigned" && wait_for "notification" 15 refused_unsigned
sleep 1
expect_equal "an agent added with -f fails: the unsigned notification is refused (400) and nothing runs" \
        "$(grep -c 'revocation notification refused, nothing run: the notification is not signed (signature ""' witness.log) $(grep -c "Notify Revocation response error for cloud agent $witness, Error: 400" "$KEYLIME_DIR/verifier.log") $(ls ran | sed 's/\..*//' | sort | tr '\n' ' ')" \
        "1 1 failing witness "
