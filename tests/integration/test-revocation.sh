#!/bin/bash
# Revocation notifications (docs/protocol.md §2.8) and API version negotiation on the agent API:
# a notification built and signed the way Keylime's verifier builds and signs one
# (cloud_verifier_common.prepare_error: msg = json.dumps of the failure, signature = base64 of
# RSA-PSS/SHA-256/MGF1-SHA-256 with the longest salt, body = json.dumps({msg, signature}), POSTed
# over mutual TLS) is logged and runs the agent's own action with the message on its standard
# input; forged, altered, unsigned, malformed and oversize ones get 400 and run nothing; an
# action that overstays is killed; without revocation_cert a notification is ignored; and a
# request for an API version outside 2.1-2.6 gets the 400 Keylime renegotiates on.
. "$(dirname "$0")/lib.sh"
plan 30

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
"$VMATTEST" identity >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=RevocationNotifier -keyout revocation-private.pem \
        -out RevocationNotifier-cert.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=forger -keyout forger.pem -out forger.crt 2>/dev/null

# the agent's own actions, in a root-owned directory: record keeps what it was given (its
# standard input and the file its argument names) and says so; slow overstays for one message
mkdir -m 0755 actions
cat >actions/record <<SH
#!/bin/sh
cat >>"$TEST_TMP/record-stdin"
cat "\$1" >>"$TEST_TMP/record-arg"
echo "recorded \$# argument(s)"
echo "a note on stderr" >&2
SH
cat >actions/slow <<'SH'
#!/bin/sh
if grep -q take-your-time; then sleep 30; fi
SH
chmod 0755 actions/record actions/slow

port=$(random_port)
runs=0
stop_agent() { # stops the agent; an unclean exit (status, sanitizer report) goes to agent-failures
        local rc
        [ -n "${AGENT_PID:-}" ] || return 0
        kill "$AGENT_PID"; wait "$AGENT_PID"
        rc=$?
        runs=$((runs + 1))
        cp agent.log "agent-$runs.log"
        if [ "$rc" != 0 ] || grep -q 'Sanitizer\|runtime error' agent.log; then
                { echo "agent run $runs exited with status $rc"; grep -A20 'Sanitizer\|runtime error' agent.log; } >>agent-failures
        fi
        AGENT_PID=
}
start_agent() { # start_agent EXTRA-CONFIG-LINES: (re)starts vmattest serve
        stop_agent
        agent_config agent.conf 1 "port = $port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
revocation_actions_dir = $TEST_TMP/actions
$1"
        : >agent.log
        "$VMATTEST" --config agent.conf serve --no-register >agent.log 2>&1 &
        AGENT_PID=$!
        verifier_pids+=("$AGENT_PID")
        wait_port "$AGENT_PID" "$port"
}
api() { # api METHOD PATH [BODY-FILE]: prints the HTTP status; the body goes to reply.json
        curl -s -o reply.json -w '%{http_code}' -X "$1" --cacert agent-state/server-cert.crt \
                --cert verifier-client.pem --key verifier-client.key -H 'Content-Type: application/json' \
                ${3:+--data-binary @$3} "https://127.0.0.1:$port$2"
}
notify() { api POST /v2.6/notifications/revocation "$1"; }
reply_status() { jq -r .status reply.json; }

# message FILE AGENT-ID [EVENT]: the msg Keylime's verifier writes for a failed agent
message() {
        python3 -c 'import json, sys, time
print(json.dumps({"type": "revocation", "ip": "127.0.0.1", "agent_id": sys.argv[1], "port": 9002,
                  "tpm_policy": "{\"mask\": \"0x408400\"}", "meta_data": "{}", "event_time": time.asctime(),
                  "event_id": sys.argv[2], "severity_label": "emergency",
                  "context": {"message": "File not found in allowlist: /usr/bin/evil"}}), end="")' "$2" "${3:-ima.validation.ima-ng.not_in_allowlist}" >"$1"
}
# sign KEY MSG-FILE BODY-FILE [SIGNATURE]: the body Keylime's verifier POSTs (tornado_requests:
# json.dumps of {"msg", "signature"}); keylime/crypto.py rsa_sign's PSS.MAX_LENGTH is openssl's
# rsa_pss_saltlen:max
sign() {
        local signature=${4:-}
        if [ -z "${4+set}" ]; then
                signature=$(openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:max \
                        -sigopt rsa_mgf1_md:sha256 -sign "$1" "$2" | base64 -w0)
        fi
        python3 -c 'import json, sys
print(json.dumps({"msg": open(sys.argv[1], "rb").read().decode(), "signature": sys.argv[2]}), end="")' \
                "$2" "$signature" >"$3"
}

start_agent "revocation_cert = $TEST_TMP/RevocationNotifier-cert.crt
revocation_actions = record, slow
revocation_action_timeout = 2" || exit 1
if grep -q "signatures checked with $TEST_TMP/RevocationNotifier-cert.crt; actions: record,slow" agent.log
then ok "the agent says at start which certificate and actions it uses"
else not_ok "the agent says at start which certificate and actions it uses"; diag <agent.log; fi

failed_agent=d432fbb3-d2f1-4a97-9ef7-75bd81c00000
message msg.json "$failed_agent"
sign revocation-private.pem msg.json good.json
expect_equal "a notification signed as Keylime signs it is accepted" "$(notify good.json)" 200
wait_for "record ran" 5 grep -q "revocation action record succeeded" agent.log
if grep -q "revocation notification, signature verified with .*\"agent_id\": \"$failed_agent\"" agent.log
then ok "the agent logs the verified message, naming the failed agent"
else not_ok "the agent logs the verified message"; diag <agent.log; fi
expect_equal "the action got exactly the signed message on its standard input" "$(cat record-stdin)" "$(cat msg.json)"
expect_equal "... and in the file its one argument names (as rust-keylime's actions expect)" \
        "$(cat record-arg)" "$(cat msg.json)"
if grep -q "revocation action record: recorded 1 argument(s)" agent.log && grep -q "revocation action record: a note on stderr" agent.log
then ok "the action's standard output and error are logged"
else not_ok "the action's standard output and error are logged"; diag <agent.log; fi
wait_for "slow ran" 5 grep -q "revocation action slow succeeded" agent.log
expect_equal "the actions ran in the configured order, once each" \
        "$(grep -o 'revocation action [a-z]* succeeded' agent.log | tr '\n' ' ')" \
        "revocation action record succeeded revocation action slow succeeded "

started() { grep -c "revocation action $TEST_TMP/actions/record started" agent.log; }
before=$(started)
sign forger.pem msg.json forged.json
code=$(notify forged.json)
expect_equal "a notification signed with another key is refused with 400, naming why" \
        "$code $(reply_status | grep -o 'does not verify under revocation_cert')" "400 does not verify under revocation_cert"
sed "s/$failed_agent/00000000-0000-0000-0000-000000000000/" good.json >altered.json
expect_equal "a message altered after signing is refused" "$(notify altered.json)" 400
python3 -c 'import base64, json, sys
body = json.load(open(sys.argv[1])); sig = bytearray(base64.b64decode(body["signature"])); sig[100] ^= 1
body["signature"] = base64.b64encode(sig).decode(); print(json.dumps(body), end="")' good.json >flipped.json
expect_equal "a signature with one bit flipped is refused" "$(notify flipped.json)" 400
sign revocation-private.pem msg.json unsigned.json ""
code=$(notify unsigned.json)
expect_equal "an unsigned notification (what Keylime sends without a revocation key) is refused" \
        "$code $(reply_status | grep -o 'is not signed')" "400 is not signed"
printf 'not json' >notjson.json
code=$(notify notjson.json)
expect_equal "a body that is not JSON is refused" "$code $(reply_status | grep -o 'not one JSON object')" \
        "400 not one JSON object"
printf '{"msg": "{}"}' >nosig.json
code=$(notify nosig.json)
expect_equal "a body without a signature is refused" "$code $(reply_status | grep -o 'missing signature')" \
        "400 missing signature"
python3 -c 'print("{\"msg\": \"" + "a" * 300000 + "\", \"signature\": \"\"}", end="")' >huge.json
code=$(notify huge.json)
expect_equal "an oversize body is refused" "$code $(reply_status | grep -o 'a body of [0-9]* bytes, more than 262144')" \
        "400 a body of $(stat -c %s huge.json) bytes, more than 262144"
expect_equal "nothing refused ran an action" "$(started)" "$before"
if grep -q "revocation notification refused, nothing run: the signature does not verify" agent.log
then ok "a refusal is logged with its reason"
else not_ok "a refusal is logged with its reason"; diag <agent.log; fi
expect_equal "GET on the notification endpoint is 405" "$(api GET /v2.6/notifications/revocation)" 405

# the verifier's words are peer bytes: an ESC or a newline in them must not reach the log raw
printf '{"agent_id": "x\033[2J\nforged line"}' >escape.json
sign revocation-private.pem escape.json escape-body.json
expect_equal "a signed message with control characters is accepted" "$(notify escape-body.json)" 200
if grep -qF 'verified with' agent.log && ! grep -q $'\033' agent.log && ! grep -q '^forged line' agent.log &&
        grep -qF 'x\x1b[2J\x0aforged line' agent.log
then ok "... and logged escaped: no ESC, no forged log line"
else not_ok "... and logged escaped"; diag <agent.log; fi

message slow.json "$failed_agent" take-your-time
sign revocation-private.pem slow.json slow-body.json
code=$(notify slow-body.json)
if [ "$code" = 200 ] && ! grep -q "revocation action slow killed" agent.log
then ok "a notification is answered while its actions still run"
else not_ok "a notification is answered while its actions still run ($code)"; diag <agent.log; fi
if wait_for "killed" 10 grep -q "revocation action slow killed after 2 s (revocation_action_timeout)" agent.log
then ok "an action that overstays revocation_action_timeout is killed"
else not_ok "an action that overstays revocation_action_timeout is killed"; diag <agent.log; fi
expect_equal "the agent still serves" "$(api GET /v2.6/agent/info)" 200

# an action the agent must not trust: writable by others
chmod 0777 actions/record
notify good.json >/dev/null
if wait_for "unsafe" 5 grep -q "revocation action $TEST_TMP/actions/record must be owned by root and writable by nobody else (owner uid 0, mode 0777): not run" agent.log
then ok "an action writable by others is not run"
else not_ok "an action writable by others is not run"; diag <agent.log; fi
chmod 0755 actions/record

# no certificate: the notification is ignored (200, as rust-keylime answers), and said so
start_agent "revocation_actions = record" || exit 1
before=$(started)
code=$(notify good.json)
expect_equal "without revocation_cert a notification is ignored with 200" \
        "$code $(reply_status)" "200 revocation notification ignored: no usable revocation_cert"
if grep -q "revocation notification ignored: no revocation_cert configured to check its signature" agent.log &&
        [ "$(started)" = "$before" ]
then ok "... logged as ignored, and no action ran"
else not_ok "... logged as ignored, and no action ran"; diag <agent.log; fi

# API versions: Keylime's verifier renegotiates on a 400 whose JSON status says this
version_refused() { # version_refused METHOD PATH
        local code
        code=$(api "$1" "$2")
        [ "$code" = 400 ] && reply_status | grep -q '^API version not supported: v'
}
if version_refused GET /v2.7/agent/info && version_refused GET /v3.0/quotes/identity?nonce=abc &&
        version_refused GET /v1.0/keys/pubkey && version_refused POST /v2.0/notifications/revocation &&
        version_refused GET /v2.7
then ok "a request for v2.7, v3.0, v1.0 or v2.0 gets 400 \"API version not supported\""
else not_ok "versions outside 2.1-2.6 get 400 \"API version not supported\""; { cat reply.json; echo; } | diag; fi
expect_equal "the JSON status names the version asked for" "$(api GET /v3.0/agent/info) $(reply_status)" \
        "400 API version not supported: v3.0 (this agent serves v2.1-2.6)"
expect_equal "a path without a version is still 404" "$(api GET /agent/info) $(api GET /v2/agent/info)" "404 404"
expect_equal "v2.1 and v2.6 are served" "$(api GET /v2.1/agent/info) $(api GET /v2.6/agent/info)" "200 200"

stop_agent
if [ ! -s agent-failures ]; then ok "the agents stop cleanly (exit 0, no sanitizer report), actions killed"
else not_ok "the agents stop cleanly"; diag <agent-failures; fi
