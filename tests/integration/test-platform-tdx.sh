#!/bin/bash
# A TDX quote with the TD's CC event log, end to end (docs/platforms.md, "RTMRs and the CC event
# log"): agents serve a TDX quote from the configfs-tsm TEST DOUBLE (tests/tools/tsm-double --tdx:
# a quote under a root it makes, given to the verifier as platform_test_roots; no Intel hardware)
# with a CC event log read from a file laid out as Linux exposes the ACPI CCEL log area (the log,
# then 0xff). The log and the RTMRs it replays to are made here with hashlib, independently of the
# agent's and the verifier's code. vmattest-verifier, under a tdx platform policy with
# require_cc_event_log, releases the disk key to the agent whose log replays to the quote's RTMRs,
# and fails one whose log was changed and one that serves none, each named. Needs root and
# /dev/fuse.
. "$(dirname "$0")/lib.sh"
plan 9

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || [ ! -x "$TOOLS_DIR/tsm-double" ]; then
        for i in $(seq 9); do ok "# SKIP needs root, /dev/fuse and tsm-double"; done
        exit 0
fi

intel_root=$PWD/tests/fixtures/platforms/tdx/trusted_root.pem # pinned in code; the double's root is a test root
cd "$TEST_TMP" || exit 1
tenant_pki
printf 'luks-%s' "$(openssl rand -hex 16)" >disk.key
mrtd=$(printf '11%.0s' $(seq 48))

# ccel OUT [TAMPER]: a TDVF-shaped CC event log (Spec ID event declaring SHA-384, EV_EFI_ACTION
# events for RTMR0-2), 64 KiB of area with 0xff after it; prints RTMR0-3 as "--rtmr N:HEX" options.
# With TAMPER the file's second event's digest is changed after the RTMRs were computed.
ccel() {
        python3 - "$@" <<'PY'
import hashlib, struct, sys
events = [(1, b"TDVF configuration"), (2, b"boot loader"), (1, b"Secure Boot variables"),
          (3, b"kernel command line")]
spec = b"Spec ID Event03\0" + struct.pack("<I4BI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", 0x0C, 48) + b"\0"
log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
rtmr = [bytes(48)] * 4
for index, (mr, text) in enumerate(events):
    digest = hashlib.sha384(text).digest()
    rtmr[mr - 1] = hashlib.sha384(rtmr[mr - 1] + digest).digest()
    if len(sys.argv) > 2 and index == 1:
        digest = bytes([digest[0] ^ 1]) + digest[1:]
    log += struct.pack("<IIIH", mr, 0x80000007, 1, 0x0C) + digest + struct.pack("<I", len(text)) + text
open(sys.argv[1], "wb").write(log + b"\xff" * (65536 - len(log)))
open(sys.argv[1] + ".log", "wb").write(log)
print(" ".join("--rtmr %d:%s" % (i, r.hex()) for i, r in enumerate(rtmr)))
PY
}
rtmrs=$(ccel ccel.bin)
ccel ccel-tampered.bin tamper >/dev/null
# shellcheck disable=SC2086 # the --rtmr options
tsm_double_start "$TEST_TMP/tsm-tdx" --tdx --mrtd "$mrtd" $rtmrs || exit 1
release_verifier_config "" "platform_test_roots = $TEST_TMP/tsm-tdx.ark.pem
intel_root_ca = $intel_root"
verifier_start verifier.conf || exit 1
status() { vv status --agent "$1" --json 2>/dev/null | jq -r ".[0].$2"; }

start_vm() { # start_vm NAME CCEL-PATH: a swtpm and an agent serving on it; AGENT_ID
        swtpm_start "$1" >/dev/null || exit 1
        local port; port=$(random_port)
        agent_config "$1.conf" "$VERIFIER_PORT" "port = $port
state_dir = $TEST_TMP/$1-state
vmattest_ml_path = $TEST_TMP/$1-measurements.log
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes
tsm_report_dir = $TEST_TMP/tsm-tdx
cc_event_log_path = $2"
        "$VMATTEST" --config "$1.conf" serve >"$1.log" 2>&1 &
        verifier_pids+=("$!")
        wait_port "$!" "$port" || { cat "$1.log" >&2; exit 1; }
        AGENT_ID=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' "$1.log")
}
released() { [ "$(status "$1" payload_released_at)" != null ]; }
failed() { [ "$(status "$1" state)" = failed ]; }
failed_with() { failed "$1" && status "$1" failure | grep -q "$2"; }

printf '{"15": ["%064d"]}\n' 0 >any-pcrs.json
printf '{"platform": "tdx", "mrtd": ["%s"], "require_cc_event_log": true}\n' "$mrtd" >tdx-policy.json

# what the agent serves, through `vmattest quote` on a TPM of its own: the log without the unused
# rest of the area; and a log area whose unused rest is not, refused with the file named
swtpm_start cli >/dev/null || exit 1
printf '[agent]\nstate_dir = %s/cli-state\ntsm_report_dir = %s/tsm-tdx\ncc_event_log_path = %s\n' \
        "$TEST_TMP" "$TEST_TMP" "$TEST_TMP/ccel.bin" >cli.conf
"$VMATTEST" --config cli.conf identity >/dev/null 2>&1
"$VMATTEST" --config cli.conf quote --json --nonce n1 --pcrs 0 >cli-quote.json 2>cli-quote.err
served_log() { jq -r .platform_evidence.cc_event_log cli-quote.json | base64 -d | cmp - ccel.bin.log && echo same; }
expect_equal "the agent serves the tdx_guest quote with the CC event log, the 0xff rest cut off" \
        "$(jq -r '.platform_evidence | "\(.provider) \(.auxblob)"' cli-quote.json) $(served_log)" "tdx_guest null same"
cp ccel.bin stray.bin && printf '\001' | dd of=stray.bin bs=1 seek=60000 conv=notrunc 2>/dev/null
sed "s|^cc_event_log_path = .*|cc_event_log_path = $TEST_TMP/stray.bin|" cli.conf >stray.conf
expect_failure "a CC event log area with a stray byte after the log: no quote, the file named" any \
        "CC event log: event log event 5: pcrIndex .*stray.bin" \
        "$VMATTEST" --config stray.conf quote --json --nonce n2 --pcrs 0

start_vm good "$TEST_TMP/ccel.bin"
good=$AGENT_ID
expect_success "the tenant enrolls the agent with a tdx policy that requires the CC event log" \
        vv add --agent "$good" --policy any-pcrs.json --platform-policy tdx-policy.json --payload disk.key \
        --allow-unpinned-cmdline
if wait_for released 20 released "$good"; then ok "the key is released once the log replays to the quote's RTMRs"
else not_ok "the key is released once the log replays to the quote's RTMRs"; vv status --agent "$good" | diag; fi
if grep -q "agent $good attests (quote, PCRs, hardware report: TDX, MRTD 1111111111111111..., RTMR0-3 replayed" \
        verifier.log; then ok "the verifier says the RTMRs were replayed"
else not_ok "the verifier says the RTMRs were replayed"; grep "agent $good" verifier.log | diag; fi

start_vm tampered "$TEST_TMP/ccel-tampered.bin"
tampered=$AGENT_ID
vv add --agent "$tampered" --policy any-pcrs.json --platform-policy tdx-policy.json --payload disk.key \
        --allow-unpinned-cmdline >/dev/null
if wait_for failed 20 failed_with "$tampered" "CC event log: RTMR1 replays to"; then
        ok "a log with a changed digest: failed, naming the RTMR"
else not_ok "a log with a changed digest: failed, naming the RTMR"; vv status --agent "$tampered" | diag; fi
expect_equal "... and no key for it" "$(status "$tampered" payload_released_at)" null

start_vm nolog "$TEST_TMP/no-such-ccel"
nolog=$AGENT_ID
vv add --agent "$nolog" --policy any-pcrs.json --platform-policy tdx-policy.json >/dev/null
if wait_for failed 20 failed_with "$nolog" "requires the CC event log"; then
        ok "an agent that serves no log: failed under require_cc_event_log, named"
else
        not_ok "an agent that serves no log: failed under require_cc_event_log, named"
        vv status --agent "$nolog" | diag
fi

if ! grep -q "$(cat disk.key)" verifier.log ./*.log 2>/dev/null; then ok "the disk key is in no log"
else not_ok "the disk key is in no log"; fi
