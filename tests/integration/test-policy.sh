#!/bin/bash
# vmattest-policy: the runtime policy of a small image tree (files, names IMA spells its own way,
# symlinks in and out of the tree, a FIFO, a file only root reads, one another user owns, nested
# and skipped directories) equals Keylime's `keylime-policy create runtime` of the same tree byte
# for byte, but for the one difference vmattest-policy(1) documents (the other user's file); it
# is the same on every run and with any number of workers; an unreadable file or directory
# fails, naming it. The measured-boot generator on the OVMF boot of tests/fixtures/boot, and
# from files as tests/vm computed them. Then both policies go to vmattest-verifier: an agent on a
# swtpm holding that boot's PCRs and serving its event log passes, an IMA entry outside the
# runtime policy is named, a policy for another initrd fails the boot naming PCR 9's digest.
. "$(dirname "$0")/lib.sh"
plan 29

KEYLIME_VENV=${KEYLIME_VENV:-$PWD/build/keylime-venv}
FIXTURE=$PWD/tests/fixtures/boot
if [ ! -x "$KEYLIME_VENV/bin/keylime-policy" ]; then
        not_ok "no keylime-policy in $KEYLIME_VENV: run 'make deps' (or scripts/keylime-venv.sh)"
        exit 1
fi
vp() { "$VMATTEST_POLICY" "$@"; }
keylime_policy() { "$KEYLIME_VENV/bin/keylime-policy" "$@" 2>>"$TEST_TMP/keylime-policy.log"; }
cd "$TEST_TMP" || exit 1

# the image tree
T=$TEST_TMP/tree
mkdir -p "$T/usr/bin" "$T/usr/lib/deep/er/est" "$T/etc" "$T/var/lib" "$T/tmp" "$T/opt/app" "$T/home/u"
printf 'prog' >"$T/usr/bin/prog"
printf 'spaced' >"$T/usr/bin/with space"      # IMA logs /usr/bin/with_space
printf 'underscored' >"$T/usr/bin/with_space" # ... which lists both digests
printf 'q' >"$T/usr/bin/quo\"te\\back"
printf 'n' >"$T/usr/bin/new
line"
printf 'u' >"$T/usr/bin/ünï€😀"
printf 't' >"$T/etc/a	tab"
: >"$T/etc/empty"
printf 'library' >"$T/usr/lib/deep/er/est/libdeep.so"
printf 'state' >"$T/var/lib/state"
printf 'scratch' >"$T/tmp/scratch"
printf 'app' >"$T/opt/app/run" && chown 1000:1000 "$T/opt/app/run"
printf 'secret' >"$T/etc/shadow" && chmod 000 "$T/etc/shadow"
ln -s prog "$T/usr/bin/link"
ln -s /etc/passwd "$T/usr/bin/escape"   # the host's file: never followed
ln -s ../lib "$T/usr/bin/dirlink"
ln -s usr/bin "$T/bin"                  # merged /usr: IMA logs /usr/bin/prog, never /bin/prog
ln "$T/usr/bin/prog" "$T/usr/bin/hardlink"
mkfifo "$T/usr/bin/fifo"

expect_success "runtime --rootfs makes a policy of the tree" vp runtime --rootfs "$T" --timestamp T -o ours.json
keylime_policy create runtime --rootfs "$T" -o keylime.json
# Keylime's digests come in the order its threads finish, its timestamp is the time: put them
# in order and take ours; the other user's file is the documented difference (Keylime hashes
# root's files only)
python3 - keylime.json "$(sha256sum <"$T/opt/app/run" | cut -c1-64)" >keylime-normalised.json <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy["meta"]["timestamp"] = "T"
policy["digests"]["/opt/app/run"] = [sys.argv[2]]
policy["digests"] = dict(sorted(policy["digests"].items()))
sys.stdout.write(json.dumps(policy))
PY
if cmp -s ours.json keylime-normalised.json; then
        ok "it equals keylime-policy create runtime byte for byte (its paths in order, our timestamp, plus /opt/app/run)"
else not_ok "it equals keylime-policy create runtime byte for byte"; diff <(tr , '\n' <ours.json) <(tr , '\n' <keylime-normalised.json) | diag; fi
expect_equal "Keylime leaves out the file another user owns, vmattest-policy lists it" \
        "$(jq -c '.digests["/opt/app/run"]' keylime.json) $(jq -c '.digests["/opt/app/run"] | length' ours.json)" "null 1"
expect_equal "no symlink, FIFO, /var or /tmp entry; the hard link is its own path" \
        "$(jq -r '.digests | keys[]' ours.json | grep -c -e link -e escape -e '^/bin' -e fifo -e '^/var' -e '^/tmp' -e hardlink)" 1
expect_equal "a space is IMA's underscore, and both files' digests are listed" \
        "$(jq -r '.digests["/usr/bin/with_space"] | length' ours.json)" 2
expect_equal "the file only root reads is hashed" \
        "$(jq -r '.digests["/etc/shadow"][0]' ours.json)" "$(sha secret)"

for run in 1 2; do vp runtime -q --rootfs "$T" -j 1 --timestamp T -o "j1-$run.json"; done
vp runtime -q --rootfs "$T" -j 2 --timestamp T -o j2.json
SOURCE_DATE_EPOCH=1700000000 vp runtime -q --rootfs "$T" -o epoch1.json
SOURCE_DATE_EPOCH=1700000000 vp runtime -q --rootfs "$T" -j 3 -o epoch2.json
if cmp -s ours.json j1-1.json && cmp -s j1-1.json j1-2.json && cmp -s j1-1.json j2.json && cmp -s epoch1.json epoch2.json &&
        [ "$(jq -r .meta.timestamp epoch1.json)" = "2023-11-14 22:13:20" ]; then
        ok "the same tree gives the same bytes with 1, 2 or 3 workers; SOURCE_DATE_EPOCH fixes the timestamp"
else not_ok "the same tree gives the same bytes with any number of workers"; fi

vp runtime -q --rootfs "$T" --exclude '/usr/lib/deep/.*' --timestamp T -o excluded.json
expect_equal "--exclude goes into excludes and its files are not listed" \
        "$(jq -c '[.excludes, .digests["/usr/lib/deep/er/est/libdeep.so"]]' excluded.json)" '[["/usr/lib/deep/.*"],null]'
expect_failure "a regex Python would read otherwise is refused, naming it" 1 '--exclude "\[\[:alpha:\]\]"' \
        vp runtime --rootfs "$T" --exclude '[[:alpha:]]'

# what another user cannot read fails the run, naming it (as root nothing is unreadable)
chmod 755 "$TEST_TMP"
mkdir -p unreadable/etc unreadable/usr/closed && printf 'x' >unreadable/etc/secret && chmod 600 unreadable/etc/secret
cp "$VMATTEST_POLICY" ./vmattest-policy-copy && chmod 755 ./vmattest-policy-copy
expect_failure "an unreadable file fails the run, naming it" 1 '/etc/secret: cannot open: Permission denied' \
        setpriv --reuid=65534 --regid=65534 --clear-groups ./vmattest-policy-copy runtime --rootfs unreadable -o /dev/null
chmod 644 unreadable/etc/secret && chmod 000 unreadable/usr/closed
expect_failure "an unreadable directory fails the run, naming it" 1 '/usr/closed: cannot open the directory: Permission denied' \
        setpriv --reuid=65534 --regid=65534 --clear-groups ./vmattest-policy-copy runtime --rootfs unreadable -o /dev/null
expect_failure "a missing tree is named" 1 "no-such-tree: cannot open the image tree" vp runtime --rootfs no-such-tree
vp runtime -q --rootfs "$T" -o /dev/null
expect_equal "-o /dev/null writes to the device, never renames a file over it" "$(stat -c %F /dev/null)" "character special file"

# a known-good IMA list and an existing policy, against Keylime's -m and -p
vp runtime -q --merge ours.json --from-ima-log "$FIXTURE/ascii_runtime_measurements" --timestamp T -o merged.json
keylime_policy create runtime -p ours.json -m "$FIXTURE/ascii_runtime_measurements" -o keylime-merged.json
python3 - keylime-merged.json >keylime-merged-normalised.json <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy["meta"]["timestamp"] = "T"
policy["digests"] = dict(sorted(policy["digests"].items()))
sys.stdout.write(json.dumps(policy))
PY
if cmp -s merged.json keylime-merged-normalised.json && [ "$(jq '.digests | length' merged.json)" -eq $(( $(jq '.digests | length' ours.json) + 7 )) ]; then
        ok "--merge with --from-ima-log equals keylime-policy's -p with -m (the tree's paths and the boot's 7)"
else not_ok "--merge with --from-ima-log equals keylime-policy's -p with -m"; diff <(tr , '\n' <merged.json) <(tr , '\n' <keylime-merged-normalised.json) | diag; fi
sed '3s/ima-sig sha256:3/ima-sig sha256:4/' "$FIXTURE/ascii_runtime_measurements" >altered.log
expect_failure "an altered line of the IMA list is refused, naming the line" 1 "altered.log: line 3: .*template-hash .* is not the SHA-1" \
        vp runtime --from-ima-log altered.log

# measured boot: the OVMF boot of tests/fixtures/boot
expect_success "measured-boot --eventlog makes a policy that passes its reference boot" \
        vp measured-boot --eventlog "$FIXTURE/binary_bios_measurements" -o mb.json
expect_equal "... with every digest of PCRs 4, 7 and 9 by type, PCR 8 pinned at zero, Secure Boot off" \
        "$(jq -c '[(.events | map([.pcr, .type, (.digests | length)])), (.pcrs | keys), .secure_boot]' mb.json)" \
        '[[[4,"EV_EFI_BOOT_SERVICES_APPLICATION",1],[4,"EV_EFI_ACTION",1],[4,"EV_SEPARATOR",1],[7,"EV_EFI_VARIABLE_DRIVER_CONFIG",5],[7,"EV_SEPARATOR",1],[9,"EV_EVENT_TAG",2]],["8"],"disabled"]'
if grep -q 'PCR 9 event 22 sha256:681771e786f0543d.*the initrd' "$TEST_TMP/out" &&
        grep -q 'PCR 7 event 4 .*SecureBoot = 0' "$TEST_TMP/out" && grep -q 'PCR 4 event 10 .*Authenticode' "$TEST_TMP/out"; then
        ok "... and says what each event is (the initrd, the SecureBoot variable, the kernel)"
else not_ok "... and says what each event is"; diag <"$TEST_TMP/out"; fi
expect_failure "--secure-boot enabled for a boot with it off is refused" 1 \
        "does not pass the reference boot.*Secure Boot is disabled" \
        vp measured-boot --eventlog "$FIXTURE/binary_bios_measurements" --secure-boot enabled -q

# from files, as tests/vm computed it in shell before (vm_mb_policy): SHA-256 of the initrd and of
# the command line as UTF-16LE with " initrd=initrd" and a NUL character
head -c 100000 /dev/urandom >initrd.img
cmdline="console=ttyS0 rd.shell=0 panic=-1 ünï"
shell_initrd=$(sha256sum initrd.img | cut -c1-64)
shell_cmdline=$( { printf '%s initrd=initrd' "$cmdline" | iconv -f UTF-8 -t UTF-16LE; printf '\0\0'; } | sha256sum | cut -c1-64)
printf '{"version": 1, "bank": "sha256", "events": [{"pcr": 9, "type": "EV_EVENT_TAG", "digests": ["%s", "%s"]}]}\n' \
        "$shell_initrd" "$shell_cmdline" >shell-mb.json
vp measured-boot --initrd initrd.img --cmdline "$cmdline initrd=initrd" -o files-mb.json
if cmp -s files-mb.json shell-mb.json; then ok "--initrd and --cmdline give what tests/vm's shell gave, byte for byte"
else not_ok "--initrd and --cmdline give what tests/vm's shell gave"; diff files-mb.json shell-mb.json | diag; fi
fixture_cmdline="console=ttyS0 ima_policy=tcb rootfstype=ramfs panic=-1 quiet initrd=initrd" # its README's, as OVMF passed it
vp measured-boot --eventlog "$FIXTURE/binary_bios_measurements" --cmdline "$fixture_cmdline" --initrd initrd.img \
        -o union-mb.json 2>union.out
if grep -q -- '--cmdline: its digest is in the reference log' union.out &&
        grep -q -- '--initrd: its digest is not in the reference log: allowed as well' union.out &&
        [ "$(jq -c '.events[] | select(.pcr == 9) | .digests | length' union-mb.json)" = 3 ]; then
        ok "with the log, the fixture's command line is found there and another initrd is allowed as well"
else not_ok "with the log, the command line is found and another initrd added"; diag <union.out; fi

# both policies at vmattest-verifier: a swtpm holding the fixture boot's PCRs 0-9, the agent
# serving its event log and an IMA list of the tree's files
swtpm_start || exit 1
tenant_pki
"$TOOLS_DIR/eventlog-replay" "$FIXTURE/binary_bios_measurements" | xargs -r -n 8 tpm2_pcrextend
ima_add boot_aggregate "$(boot_aggregate)"
ima_add /usr/bin/prog "$(sha prog)"
ima_add /usr/bin/with_space "$(sha spaced)"
ima_add /usr/lib/deep/er/est/libdeep.so "$(sha library)"
printf '{"15": ["%064d"]}\n' 0 >tpm-policy.json
verifier_config verifier.conf "$(verifier_poll_config)"
verifier_start verifier.conf || exit 1
agent_port=$(random_port)
agent_config agent.conf "$VERIFIER_PORT" "port = $agent_port
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/ima.log
measuredboot_ml_path = $FIXTURE/binary_bios_measurements"
agent_serve agent.conf || exit 1
agent_id=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' agent.log)
vv() { "$VMATTEST_VERIFIER" --config verifier.conf "$@"; }
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }
good_after() { [ "$(status state)" = polling ] && [ "$(status last_ok)" != null ] && [ "$(status ima_entries_verified)" -ge "$1" ]; }
failed() { [ "$(status state)" = failed ]; }

expect_success "vmattest-verifier add takes both generated policies" \
        vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy ours.json --mb-policy mb.json
if wait_for "passes" 20 good_after 4; then ok "the agent passes: the fixture boot's quoted PCRs and event log, the tree's IMA entries"
else not_ok "the agent passes with the generated policies"; vv status --agent "$agent_id" | diag; tail -5 verifier.log | diag; fi
ima_add /usr/bin/evil "$(sha evil)"
if wait_for "fails" 15 failed; then ok "an IMA entry outside the runtime policy fails the agent"
else not_ok "an IMA entry outside the runtime policy fails the agent"; vv status --agent "$agent_id" | diag; fi
expect_equal "... naming the path and digest" "$(status failure | grep -o "/usr/bin/evil with sha256:$(sha evil)")" \
        "/usr/bin/evil with sha256:$(sha evil)"

# the list as it stands, merged in: a known-good list that allows evil; and a measured-boot
# policy made for another initrd: the boot fails on PCR 9, naming the fixture initrd's digest
vp runtime -q --merge ours.json --from-ima-log ima.log -o with-evil.json
vp measured-boot -q --initrd initrd.img --cmdline "$fixture_cmdline" -o other-initrd.json
vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy with-evil.json --mb-policy other-initrd.json >/dev/null
if wait_for "fails" 15 failed; then ok "a measured-boot policy for another initrd fails the boot"
else not_ok "a measured-boot policy for another initrd fails the boot"; vv status --agent "$agent_id" | diag; fi
if status failure | grep -q "PCR 9" && status failure | grep -q 681771e786f0543d; then
        ok "... naming PCR 9 and the initrd's digest"
else not_ok "... naming PCR 9 and the initrd's digest"; status failure | diag; fi
vv add --agent "$agent_id" --policy tpm-policy.json --runtime-policy with-evil.json --mb-policy union-mb.json >/dev/null
if wait_for "passes" 20 good_after 5; then ok "the reference log's policy with the other initrd allowed as well passes, and so does the merged list"
else not_ok "the union policy and the merged list pass"; vv status --agent "$agent_id" | diag; fi
expect_success "the verifier exited cleanly" verifier_clean
