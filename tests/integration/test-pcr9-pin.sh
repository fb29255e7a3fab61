#!/bin/bash
# The first boot's PCR 9 pin (docs/protocol.md §5.6) against the real vmattest-verifier and a
# swtpm standing in for a UEFI boot: the firmware's PCR 9 events of tests/fixtures/boot (the
# kernel's EFI stub: the command line, then the initrd) are extended into the swtpm's PCR 9, and
# that log is the agent's measuredboot_ml_path. The agent enrols with a token in a group with
# --pin-first-boot-initrd, escrows its key, and `vmattest pin-initrd` (first-boot's step; --initrd
# is the test's hook for the file dracut would have written) reports the next boots' PCR 9. A
# "next boot" whose PCR 9 is the command line and that initrd gets the key; one whose initrd
# differs is refused naming PCR 9. Refused: a pin before any good quote (409), from another
# client certificate (403), after a boot received the key (409); the release waits for the pin.
. "$(dirname "$0")/lib.sh"
plan 16

fixture=$PWD/tests/fixtures/boot
swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=registrar-ca \
        -keyout registrar-ca.key -out registrar-ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=registrar -keyout registrar.key \
        -out registrar.csr 2>/dev/null
openssl x509 -req -in registrar.csr -CA registrar-ca.pem -CAkey registrar-ca.key -CAcreateserial -days 2 \
        -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out registrar.pem 2>/dev/null
tls_port=$(random_port)
release_verifier_config "tls_port = $tls_port
server_cert = $TEST_TMP/registrar.pem
server_key = $TEST_TMP/registrar.key
trusted_client_ca = $TEST_TMP/verifier-ca.pem"
verifier_start verifier.conf || exit 1
wait_port "$VERIFIER_PID" "$tls_port" || { echo "the registrar's TLS port did not open" >&2; exit 1; }
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }

# the boot's firmware: PCR 9 as the EFI stub extended it in the fixture's boot (events 21 and 22)
cmdline_digest=a750c5a71a8432b5d3a102e45517d86e53c768367fa6af79218d397aaffaacd5
booted_initrd_digest=681771e786f0543d27d5b411bcc1dbe5d84ff70d22ed469a6e65dd4fa048b5ad
stub_boot() { # stub_boot INITRD-DIGEST: a TPM reset, then the stub's two PCR 9 extends
        tpm2_shutdown -c && swtpm_ioctl --tcp "127.0.0.1:$(( ${VMATTEST_TCTI##*port=} + 1 ))" -i && tpm2_startup -c &&
        tpm2_pcrextend "9:sha256=$cmdline_digest" && tpm2_pcrextend "9:sha256=$1"
}
stub_boot "$booted_initrd_digest" || exit 1
[ "$(tpm2_pcrread sha256:9 2>/dev/null | awk '/9 :/ { print tolower($3) }')" = \
  "0x$(awk '$1 == 9 { print $2 }' "$fixture/pcrs-sha256.txt")" ] || { echo "PCR 9 is not the fixture's" >&2; exit 1; }
cp "$fixture/binary_bios_measurements" bios.log

uuid=5f1e2d3c-0000-4000-8000-00000000f9f9
mkdir -p ask
agent_port=$(random_port)
agent_config agent.conf "$tls_port" "registrar_tls = true
registrar_tls_ca_cert = $TEST_TMP/registrar-ca.pem
port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
measuredboot_ml_path = $TEST_TMP/bios.log
unlock_volumes = $uuid
askpass_dir = $TEST_TMP/ask
unlock_timeout = 25
retry_interval = 1
exponential_backoff = false"

echo '{}' >tpm-policy.json
token="enrol-$(openssl rand -hex 24)"
printf '%s\n' "$token" >token
chmod 0600 token
expect_success "a group whose agents' PCR 9 is pinned by their first boot" \
        vv group add pinned --tpm-policy-file tpm-policy.json --token-file token --pin-first-boot-initrd
expect_equal "... group list shows it" "$(vv group list --json | jq -r '.[0].pin_first_boot_initrd')" true
expect_success "register --enrol-token-stdin enrols the agent in it" \
        "$VMATTEST" --config agent.conf register --enrol-token-stdin <<<"$token"

# the pin route as the agent's TLS client would call it
pin() { # pin OUT BODY [CURL-ARGS...]: prints the HTTP status
        local out=$1 body=$2; shift 2
        printf %s "$body" | curl -s -o "$out" -w '%{http_code}' -X POST --cacert registrar-ca.pem \
                -H 'Content-Type: application/json' --data-binary @- "$@" \
                "https://127.0.0.1:$tls_port/v2.6/agents/$agent_id/pcr9"
}
as_agent=(--cert agent-state/server-cert.crt --key agent-state/server-private.pem)
answer() { printf '%s %s' "$1" "$(jq -r .status "$2")"; }
some_pin="{\"pcr9\": {\"sha256\": \"$(printf '%064d' 7)\"}}"
code=$(pin p.json "$some_pin" "${as_agent[@]}")
expect_equal "a pin before any good quote is refused (409)" "$(answer "$code" p.json)" \
        "409 not attested yet: no good integrity quote since the agent's activation"

agent_serve agent.conf || exit 1
polled() { [ "$(status last_ok)" != null ] && [ "$(status state)" = polling ]; }
wait_for polled 30 polled || { vv status --agent "$agent_id" | diag; }
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
expect_success "the agent escrows its key" "$VMATTEST" --config agent.conf escrow --wait 60 <disk.key
expect_equal "until the pin, status says the release is held for it" \
        "$(status pcr9_pinned_by) $(status release_held | grep -o 'pins PCR 9 by the agent.s first boot')" \
        "null pins PCR 9 by the agent's first boot"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$agent_id" \
        -keyout other.key -out other.pem 2>/dev/null
code=$(pin p.json "$some_pin" --cert other.pem --key other.key)
expect_equal "a pin from another client certificate is refused (403)" "$(answer "$code" p.json)" \
        "403 the client certificate is not the active registered mTLS certificate of agent $agent_id"

# first-boot's step: the initrd dracut wrote, the next boots' PCR 9 predicted and reported
head -c 200000 /dev/urandom >initrd.img
new_initrd_digest=$(sha256sum <initrd.img | cut -d' ' -f1)
expected=$(printf '%064d%s' 0 "$cmdline_digest" | xxd -r -p | sha256sum | cut -d' ' -f1)
expected=$(printf '%s%s' "$expected" "$new_initrd_digest" | xxd -r -p | sha256sum | cut -d' ' -f1)
expect_success "vmattest pin-initrd reports the next boots' PCR 9" \
        "$VMATTEST" --config agent.conf pin-initrd --initrd initrd.img --wait 30
expect_equal "status: pinned by the first boot, nothing held, tpm_policy PCR 9 the prediction" \
        "$(status pcr9_pinned_by) $(status release_held) $(grep -c "agent $agent_id pinned PCR 9 (sha256) to $expected" \
        "$TEST_TMP/verifier.log")" "first-boot null 1"
polls=$(status polls)
polls_after() { [ "$(status polls)" -ge "$1" ]; }
wait_for polls 15 polls_after $((polls + 3))
expect_equal "the pinning boot itself (the image's initrd) keeps attesting, and gets no release" \
        "$(status state) $(status payload_released_at)" "polling null"

# the next boot: the same command line, the rebuilt initrd
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
stub_boot "$new_initrd_digest" || exit 1
unlock_boot() { # unlock_boot ANSWER-FILE: vmattest unlock with a password-request listener; its exit status
        "$TOOLS_DIR/askpass-listen" "$TEST_TMP/ask" "$uuid" 40 "$1" &
        local listener=$! unlock rc
        "$VMATTEST" --config agent.conf unlock --cmdline /dev/null >unlock.log 2>&1 &
        unlock=$!
        verifier_pids+=("$unlock" "$listener")
        wait "$unlock"; rc=$?
        [ "$rc" -ne 0 ] || wait_for answer 5 test -s "$1"
        kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
        return "$rc"
}
unlock_boot unlock.answer
unlock_status=$?
expect_equal "a next boot with the pinned PCR 9 receives the key" "$unlock_status $(cat unlock.answer 2>/dev/null)" \
        "0 $(cat disk.key)"
[ "$unlock_status" -eq 0 ] || { diag <unlock.log; vv status --agent "$agent_id" | diag; }
# that boot's runtime agent, registered with the agent's own certificate again (not unlock's
# ephemeral one, which its hand-over would give it): the write-once rule, not the sender, refuses
rm -f "$TEST_TMP/handover"
agent_serve agent.conf || exit 1
released() { [ "$(status payload_released_at)" != null ]; }
wait_for released 30 released
code=$(pin p.json "$some_pin" "${as_agent[@]}")
expect_equal "a second pin once a boot received the key is refused (409)" "$(answer "$code" p.json)" \
        "409 the escrowed key was released to a boot already: PCR 9 can no longer be pinned"
expect_failure "a log that does not replay to the TPM's PCR 9 predicts nothing (exit 1), naming both values" 1 \
        "bios.log replays PCR 9 \(sha256\) to 2b30e249.*, but the TPM holds" \
        "$VMATTEST" --config agent.conf pin-initrd --initrd initrd.img --wait 5
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null

# another boot: the initrd replaced on the unencrypted /boot
stub_boot "$(printf 'another initrd' | sha256sum | cut -d' ' -f1)" || exit 1
unlock_boot unlock2.answer
unlock_status=$?
expect_equal "a boot with another initrd gets no key" "$([ "$unlock_status" -ne 0 ] && echo refused) \
$(cat unlock2.answer 2>/dev/null)" "refused "
expect_equal "... the verifier failed it naming PCR 9" "$(status state) $(status failure | grep -o '^PCR 9: quoted value')" \
        "failed PCR 9: quoted value"
expect_success "vmattest-verifier stopped cleanly (exit 0, no sanitizer report)" verifier_clean
