#!/bin/bash
# The payload key in the vTPM (payload_key = tpm, the default; docs/protocol.md §5.10): unlock's
# key lives in the TPM and opens U and V there; what it hands over to serve is the TPM's blob,
# never a private key, and that blob no longer loads after a TPM reset. vmattest-verifier
# releases only to a key the agent's AK certifies as TPM-resident: a software key is refused,
# named, unless verifier.conf says software_payload_key = allow. (A forged or mismatched
# certification: tests/unit/test-payload_key_certify.c.)
. "$(dirname "$0")/lib.sh"
plan 12

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
uuid=5f1e2d3c-0000-4000-8000-00000000abcd
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
release_verifier_config
verifier_start verifier.conf || exit 1
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
mkdir -p ask
port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
unlock_volumes = $uuid
askpass_dir = $TEST_TMP/ask
unlock_timeout = 20
handover_path = $TEST_TMP/run/handover"
echo '{}' >any-pcrs.json

# unlock in the initrd: the key is made in the TPM, U and V are opened by it
"$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 25 answer &
listener=$!
"$VMATTEST" --config agent.conf unlock --cmdline /dev/null >unlock.log 2>&1 &
agent=$!
verifier_pids+=("$agent" "$listener")
wait_for registered 20 grep -q "unlock: registered" unlock.log
vv add --agent "$agent_id" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null 2>&1
wait "$agent"
rc=$?
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
if [ "$rc" = 0 ] && [ "$(cat answer 2>/dev/null)" = "$(cat disk.key)" ] && grep -q "K authenticated, payload opened" unlock.log; then
        ok "the TPM-resident key opens U and V: unlock gets the disk key"
else not_ok "the TPM-resident key opens U and V (exit $rc)"; diag <unlock.log; tail -5 verifier.log | diag; fi

# the hand-over: version 2, the TPM's blobs; its only private key is the mTLS key
cp run/handover handover.copy 2>/dev/null
expect_equal "the hand-over is version 2 with the TPM key's parent, public and private blob" \
        "$(head -1 handover.copy) $(cut -d' ' -f1 handover.copy | grep -c '^payload_key_')" "vmattest-handover 2 3"
sed -n '/BEGIN PRIVATE KEY/,/END PRIVATE KEY/p' handover.copy >only.key
if [ "$(grep -c 'BEGIN .*PRIVATE KEY' handover.copy)" = 1 ] &&
   [ "$(openssl pkey -in only.key -pubout 2>/dev/null)" = "$(openssl x509 -in handover.copy -noout -pubkey 2>/dev/null)" ] &&
   ! grep -q 'RSA PRIVATE KEY\|ENCRYPTED PRIVATE KEY' handover.copy; then
        ok "the hand-over holds no payload private key: its one private key is the mTLS certificate's"
else not_ok "the hand-over holds no payload private key"; grep -n 'BEGIN' handover.copy | diag; fi
sed -n 's/^payload_key_private //p' handover.copy | base64 -d >private.bin 2>/dev/null
size=$(stat -c %s private.bin)
declared=$(( $(od -An -tu1 -N1 private.bin) * 256 + $(od -An -tu1 -j1 -N1 private.bin) ))
# a PKCS#1/PKCS#8 RSA-2048 private key is over 1100 bytes; the TPM's blob is the sealed sensitive area
if [ "$size" -gt 2 ] && [ "$declared" = $((size - 2)) ] && [ "$size" -lt 400 ] &&
   ! openssl pkey -inform DER -in private.bin -noout 2>/dev/null; then
        ok "payload_key_private is a TPM2B_PRIVATE ($size bytes), not a DER private key"
else not_ok "payload_key_private is a TPM2B_PRIVATE ($size bytes, declares $declared)"; fi

# serve loads the blob back into the TPM and keeps being attested with the same key
"$VMATTEST" --config agent.conf serve >runtime.log 2>&1 &
runtime=$!
verifier_pids+=("$runtime")
wait_for serving 20 grep -q "serving on" runtime.log
polls=$(status "$agent_id" polls)
polled() { [ "$(status "$agent_id" polls)" -ge $((polls + 2)) ]; }
wait_for polls 20 polled
if polled && [ "$(status "$agent_id" failure)" = null ] && grep -q "taking over agent $agent_id" runtime.log; then
        ok "serve loads the handed-over key in the TPM, and the verifier keeps attesting it"
else not_ok "serve loads the handed-over key in the TPM"; diag <runtime.log; fi
kill "$runtime"; wait "$runtime" 2>/dev/null

# the next boot: TPM2_Shutdown(CLEAR), TPM_Init, TPM2_Startup(CLEAR): a new null seed
tpm2_shutdown -c && swtpm_ioctl --tcp "127.0.0.1:$(( ${VMATTEST_TCTI##*port=} + 1 ))" -i && tpm2_startup -c
cp handover.copy run/handover && chmod 0600 run/handover
"$VMATTEST" --config agent.conf serve --no-register >reset.log 2>&1 &
pid=$!
verifier_pids+=("$pid")
wait_for exited 20 bash -c "! kill -0 $pid 2>/dev/null"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
if grep -q "the handed-over payload key does not load (was the TPM reset since unlock made it?)" reset.log &&
   ! grep -q "serving on" reset.log; then
        ok "after a TPM reset the handed-over blob does not load"
else not_ok "after a TPM reset the handed-over blob does not load"; diag <reset.log; fi
vv delete --agent "$agent_id" >/dev/null 2>&1

# post_key PORT NAME BODY: a key half posted to the agent API as the verifier would
post_key() {
        curl -s -o "$2.reply" -w '%{http_code}' --cacert /dev/null -k --cert verifier-client.pem \
                --key verifier-client.key -H 'Content-Type: application/json' -d "$3" \
                "https://127.0.0.1:$1/v2.6/keys/$2"
}
start_agent() { # start_agent NAME [EXTRA-CONF]: serve on the (reset) swtpm; PORT, its log NAME.log
        PORT=$(random_port)
        agent_config "$1.conf" "$VERIFIER_PORT" "port = $PORT
state_dir = $TEST_TMP/$1-state
vmattest_ml_path = $TEST_TMP/$1-measurements.log
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes
${2:-}"
        "$VMATTEST" --config "$1.conf" serve >"$1.log" 2>&1 &
        AGENT_PID=$!
        verifier_pids+=("$AGENT_PID")
        wait_port "$AGENT_PID" "$PORT" || { cat "$1.log" >&2; exit 1; }
}

# U wrapped to another key than the TPM's: refused, nothing derived
start_agent tpm
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null
head -c 32 /dev/urandom >u.bin
wrapped=$(openssl pkeyutl -encrypt -pubin -inkey <(openssl pkey -in other.key -pubout) -in u.bin \
        -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 | base64 -w0)
code=$(post_key "$PORT" ukey "{\"encrypted_key\":\"$wrapped\",\"auth_tag\":\"$(printf '%096d' 0)\"}")
if [ "$code" = 400 ] && grep -q "does not decrypt under the payload key" ukey.reply; then
        ok "U wrapped to another key does not decrypt in the TPM (400, named)"
else not_ok "U wrapped to another key does not decrypt in the TPM (HTTP $code)"; { cat ukey.reply; echo; } | diag; fi
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null

# a software payload key: attested, but no release, and the status says why
start_agent soft "payload_key = software"
wait_for registered 20 grep -q "registered" soft.log
vv add --agent "$agent_id" --policy any-pcrs.json --payload disk.key --allow-unpinned-cmdline >/dev/null 2>&1
refused() { status "$agent_id" last_error | grep -q "key release refused"; }
wait_for refused 20 refused
expect_equal "the verifier refuses a release to a software payload key, naming why" \
        "$(status "$agent_id" last_error | grep -o 'not certified as TPM-resident by the agent.s AK: the agent serves no pubkey_certify')" \
        "not certified as TPM-resident by the agent's AK: the agent serves no pubkey_certify"
sleep 2
expect_equal "... and the agent never derives K (nothing released)" \
        "$(grep -c 'K authenticated' soft.log) $(status "$agent_id" payload_released_at)" "0 null"
# software_payload_key = allow: the same agent gets its key
verifier_stop
sed -i 's/^\[verifier\]$/[verifier]\nsoftware_payload_key = allow/' verifier.conf
verifier_start verifier.conf || exit 1
released() { [ "$(status "$agent_id" payload_released_at)" != null ]; }
if wait_for released 20 released && grep -q "K authenticated, payload opened" soft.log; then
        ok "software_payload_key = allow releases to the software key"
else not_ok "software_payload_key = allow releases to the software key"; vv status --agent "$agent_id" | diag; fi
if grep -q "^software_payload_key = allow" verifier.conf; then ok "(verifier.conf took the switch)"
else not_ok "(verifier.conf took the switch)"; diag <verifier.conf; fi
expect_success "the verifier exits cleanly" verifier_clean
