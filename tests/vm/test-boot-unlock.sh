#!/bin/bash
# Measured boot to an unlocked root, in real boots: the Debian kernel and a dracut initrd with our
# module (initrd/90vmattest) boot under OVMF (which measures the kernel into PCR 4; the kernel's
# EFI stub measures the initrd and the command line into PCR 9) with a swtpm vTPM. In the initrd,
# the product unit runs the real `vmattest unlock`: it loads the IMA policy, registers with
# vmattest-verifier on the host's loopback, serves the agent API through qemu's host forward
# until the verifier releases the key, records the release in PCR 15, hands its identity over
# in /run and answers systemd-cryptsetup's request for the LUKS2 root. Four scenarios, each its
# own boot with a fresh vTPM:
#   1 policy holds      before qemu starts, a swtpm playing the host's TPM vouches for the vTPM
#                       (`vmattest-host provision`, as libvirt's hook does: a host quote over the
#                       vTPM's EK in its NV index 0x01400100) and the tenant enrols with a host
#                       policy that trusts that host AK, names its PCRs as a host class and
#                       requires a binding: the verifier checks the binding before it releases
#                       the key (docs/protocol.md §5.9); the root unlocks, its /sbin/init
#                       (tests/vm/guest/root-init.sh) prints the marker, the runtime agent takes
#                       the identity over and the verifier keeps polling it, binding and all,
#                       against a runtime policy of the root's and the initrd's files
#                       (IMA measures what the initrd runs after the policy load, too); then two
#                       programs outside the runtime policy run, a copy of busybox in /dev/shm
#                       (tmpfs) and then /usr/local/bin/intruder on the root's disk: IMA
#                       measured both, and the verifier names the first, /dev/shm/shm-intruder
#   2 other initrd      the tenant's measured-boot policy names this initrd and command line; the
#                       VM boots one with a file added: no key, the fallback (poweroff) runs, and
#                       the verifier names PCR 9
#   3 verifier down     a bounded wait, then the fallback (prompt): the passphrase prompt stays
#   4 second unlock     after a good unlock, `vmattest unlock` again in the same boot gets no key
#                       even when the tenant enrolls the agent again (PCR 15 holds the release)
# Then: the disk key is in no file the test can read.
. "$(dirname "$0")/lib.sh"
plan 29

missing=$(vm_missing_tools)
if [ -n "$missing" ]; then
        not_ok "VM test tools: $missing"
        exit 1
fi
VMATTEST_HOST=${VMATTEST_HOST:-$(dirname "$VMATTEST")/vmattest-host}
if [ ! -x "$VMATTEST_HOST" ]; then
        not_ok "vmattest-host ($VMATTEST_HOST: make tests-build)"
        exit 1
fi
t0=$EPOCHREALTIME

# ---- host side: kernel, initrd, root image, verifier ----------------------------------------------
if vm_step kernel vm_kernel; then
        ok "kernel $KPKG unpacked with its modules in $CACHE"
else
        not_ok "kernel"; exit 1
fi
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test configuration"; exit 1; }
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest"
# our module (its depends() adds systemd, networkd, udev, crypt) and the drivers for qemu's
# devices (not dracut's kernel-modules: every block and fs driver would double initrd and boot)
VM_DRACUT_MODULES="vmattest bash qemu qemu-net"
if vm_step initrd vm_initrd "$TEST_TMP/initrd.img"; then
        ok "dracut builds an initrd with module vmattest ($(du -m "$TEST_TMP/initrd.img" | cut -f1) MB)"
else
        not_ok "dracut builds an initrd with module vmattest"; exit 1
fi
lsinitrd "$TEST_TMP/initrd.img" >"$TEST_TMP/initrd.list" 2>&1
absent=
for f in usr/bin/vmattest libtss2-tcti-device.so.0 etc/vmattest/agent.conf \
        etc/vmattest/verifier-ca.pem etc/vmattest/ima-policy systemd/network/99-vmattest-dhcp.network \
        system/vmattest-unlock.service cryptsetup.target.wants/vmattest-unlock.service \
        systemd-networkd-wait-online systemd-cryptsetup etc/cmdline.d/90vmattest.conf; do
        grep -q -- "$f" "$TEST_TMP/initrd.list" || absent="$absent $f"
done
grep -q libcurl "$TEST_TMP/initrd.list" && absent="$absent (and it holds libcurl, which the agent does not use)"
if [ -z "$absent" ]; then
        ok "the initrd holds the agent, the device TCTI, config, CA, IMA policy, network, unit, no-shell switch; no libcurl"
else
        not_ok "the initrd lacks:$absent"
fi

cd "$TEST_TMP" || exit 1
# the tenant's disk key: the LUKS passphrase, which only the verifier will hold
printf 'vm-disk-key-%s' "$(openssl rand -hex 24)" >disk.key
marker="vmattest-root-$RANDOM$RANDOM"
vm_rootfs rootfs "$marker" && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" ||
        { not_ok "root file system"; exit 1; }
# the tenant's runtime policy: its root tree and its initrd; then a program it does not know
# joins the disk
vm_runtime_policy rootfs initrd.img >runtime-policy.json || { not_ok "runtime policy"; exit 1; }
vm_root_add_intruder rootfs
if vm_step luks-image vm_luks_image root.img disk.key rootfs; then
        ok "LUKS2 root image $VM_LUKS_UUID ($(du -m root.img | cut -f1) MB, busybox and the runtime agent)"
else
        not_ok "LUKS2 root image"; exit 1
fi
uuid=$VM_LUKS_UUID
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
verifier_config verifier.conf "$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf
verifier_start verifier.conf || { not_ok "verifier"; exit 1; }
vv() { "$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" "$@"; }
echo '{}' >tpm-policy.json

# the host of scenario 1 (docs/protocol.md §5.9): a swtpm plays its physical TPM, booted to
# firmware and boot loader digests of its own in PCRs 0 and 7; the provider publishes its AK
# (vmattest-host identity), the tenant trusts it, knows the PCR values of that kind of host as
# a host class, and requires a binding
HOST_CLASS=vm-test-host
# host_tpm: the host's TPM (HOST_TCTI), its AK's Name (HOST_NAME), the tenant's host-policy.json
host_tpm() {
        swtpm_start host >/dev/null || return 1
        HOST_TCTI=$VMATTEST_TCTI
        unset VMATTEST_TCTI TPM2TOOLS_TCTI # swtpm_start exported them: the host's TPM only
        mkdir -p trusted-hosts
        TPM2TOOLS_TCTI=$HOST_TCTI tpm2_pcrextend "0:sha256=$(sha 'host firmware')" \
                "7:sha256=$(sha 'host secure boot')" >/dev/null &&
                TPM2TOOLS_TCTI=$HOST_TCTI tpm2_pcrread sha256:0,1,2,3,4,5,6,7 -o host-pcrs.bin >/dev/null &&
                printf '[host]\n' >host.conf &&
                "$VMATTEST_HOST" --config host.conf --tcti "$HOST_TCTI" identity --json >host.json 2>host-identity.log &&
                jq -r .pem host.json >trusted-hosts/host.pem && HOST_NAME=$(jq -r .name host.json) &&
                jq -n --arg dir "$TEST_TMP/trusted-hosts" --arg class "$HOST_CLASS" \
                        --argjson pcrs "$(xxd -p -c 32 host-pcrs.bin | jq -R -n '[inputs] | to_entries |
                                map({key: (.key | tostring), value}) | from_entries')" \
                        '{trusted_host_aks_dir: $dir, host_classes: [{name: $class, pcrs: $pcrs}], required: true}' \
                        >host-policy.json
}
vm_step host-tpm host_tpm || { not_ok "the host's TPM and its AK"; cat host-identity.log 2>/dev/null | diag; exit 1; }

# the "other initrd" of scenario 2: the same one with a file appended (an uncompressed cpio after
# the compressed one, as the kernel allows), padded to 512 bytes as the kernel wants it aligned
mkdir -p extra/etc/vmattest-test && echo "not in the tenant's image" >extra/etc/vmattest-test/added
cp initrd.img initrd-other.img
truncate -s %512 initrd-other.img
(cd extra && find . | cpio -o -H newc --quiet) >>initrd-other.img

# the command line every scenario shares; ports and timeouts are per scenario
base_cmdline="rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid"

# boot NAME INITRD CMDLINE-EXTRA: a boot on the vTPM state NAME-tpm, a fresh one unless the
# scenario made it before (scenario 1: to provision the host binding into it)
boot() {
        [ -d "$TEST_TMP/$1-tpm" ] || vm_swtpm_setup "$TEST_TMP/$1-tpm" || return 1
        vm_swtpm_run "$TEST_TMP/$1-tpm" || return 1
        FWD_PORT=$(random_port)
        SCENARIO_T0=$EPOCHREALTIME
        vm_boot "$1" "$2" root.img "$TEST_TMP/$1-tpm" "$FWD_PORT" \
                "$base_cmdline rd.vmattest.contact=127.0.0.1:$FWD_PORT $3"
}

# enroll N [ADD-OPTIONS]: once the guest's N-th agent registered, the tenant enrolls it with its
# policies (and ADD-OPTIONS: a host policy) and the disk key; sets AGENT_ID
enroll() {
        local n=$1; shift
        AGENT_ID=$(vm_agent_id "$n") || return 1
        vm_mb_policy initrd.img "$VM_CMDLINE" >"mb-policy-$n.json"
        vv delete --agent "$AGENT_ID" >/dev/null 2>&1
        vv add --agent "$AGENT_ID" --policy tpm-policy.json --mb-policy "mb-policy-$n.json" \
                --runtime-policy runtime-policy.json --payload disk.key "$@" >>enroll.log 2>&1
}

scenario_time() {
        printf '# step %-24s %6.1f s\n' "scenario $1" "$(awk "BEGIN { print $EPOCHREALTIME - $SCENARIO_T0 }")"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-ROOT:|vmattest.*(unlock|agent|registrar|taking over)' |
                sed 's/^/#   /' | cut -c1-200
}
line() { vm_console_line "$1" >/dev/null; }
status_json() { vv status --agent "$AGENT_ID" --json 2>/dev/null; }
polls() { status_json | jq -r '.[0].polls // 0'; }

# ---- scenario 1: the policy holds ---------------------------------------------------------------
# before qemu starts, the host's TPM vouches for the VM's vTPM, as libvirt's hook does it
if vm_swtpm_setup "$TEST_TMP/good-tpm" && vm_step host-provision vm_host_provision "$TEST_TMP/good-tpm" "$HOST_TCTI" &&
        grep -q "host binding: .* bytes in vTPM NV 0x01400100, for EK " "$TEST_TMP/good-tpm/provision.log"; then
        ok "before qemu starts, vmattest-host provision writes the host's binding into the vTPM's NV index 0x01400100"
else
        not_ok "before qemu starts, vmattest-host provision writes the host's binding into the vTPM"
        diag <"$TEST_TMP/good-tpm/provision.log"
fi
boot good initrd.img "rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.timeout=180
        rd.vmattest.fallback=poweroff vmattest_test.mode=runtime vmattest_test.hold=20 vmattest_test.intruder=1"
enroll 1 --host-policy host-policy.json || diag "scenario 1: no agent registered"
good_agent=$AGENT_ID
# the runtime agent serves after switch-root: the verifier must go on polling it, and succeed
runtime_polls_ok=no
if vm_wait_console 'VMATTEST-ROOT: runtime agent: .*serving on' "$VM_TIMEOUT"; then
        from=$(polls)
        # three more polls, the last of them answered (an unreachable agent is a last_error)
        more_polls() { [ "$(polls)" -ge $((from + 3)) ] && [ "$(status_json | jq -r '.[0].last_error')" = null ]; }
        if wait_for "three polls of the runtime agent" 18 more_polls && [ "$(status_json | jq -r '.[0].failure')" = null ]; then
                runtime_polls_ok=yes
        fi
        ima_verified=$(status_json | jq -r '.[0].ima_entries_verified')
        runtime_host=$(status_json | jq -r '.[0] | "\(.host) \(.host_class)"')
fi
# then programs outside the runtime policy run: the first from /dev/shm, the verifier must name it
intruder_failure=
intruder_named() { intruder_failure=$(status_json | jq -r '.[0].failure // empty'); grep -q /dev/shm/shm-intruder <<<"$intruder_failure"; }
vm_wait_console 'VMATTEST-ROOT: IMA log names:' "$VM_TIMEOUT" && wait_for "the verifier's verdict" 15 intruder_named
vm_wait; qemu_rc=$?
scenario_time "1 (policy holds)"
if line 'unlock: registered' && line "IMA policy .* loaded"; then
        ok "unlock loaded the IMA policy and registered from the initrd"
else
        not_ok "unlock loaded the IMA policy and registered from the initrd"
fi
if line "unlock: answered cryptsetup:/dev/disk/by-uuid/$uuid" && line 'unlock: done'; then
        ok "the verifier released the key after attestation and unlock answered systemd-cryptsetup"
else
        not_ok "the verifier released the key and unlock answered systemd-cryptsetup"
        status_json | diag
fi
# the key only after the binding: the verifier logs the host of the first quote whose binding
# passed, and the release once V went out and PCR 15's log records it
host_line=$(grep -n -m1 "verifier: agent $good_agent runs on host $HOST_NAME (.*host class $HOST_CLASS)" verifier.log | cut -d: -f1)
release_line=$(grep -n -m1 "verifier: agent $good_agent: payload released for this boot" verifier.log | cut -d: -f1)
if line "host binding in NV index 0x01400100: host AK $HOST_NAME" && [ -n "$host_line" ] && [ -n "$release_line" ] &&
        [ "$host_line" -lt "$release_line" ]; then
        ok "unlock served the NV binding; the verifier checked it (host, class $HOST_CLASS) before it released the key"
else
        not_ok "unlock served the NV binding; the verifier checked it before it released the key" \
                "(verifier.log lines: host ${host_line:-none}, release ${release_line:-none})"
        grep "agent $good_agent" verifier.log | tail -n 8 | cut -c1-300 | diag
fi
# the runtime agent (host_binding = auto: it serves the index when the vTPM holds one) is polled
# under the same policy, which requires a binding: its polls pass only with it
if [ "$runtime_polls_ok" = yes ] && [ "${runtime_host:-}" = "$HOST_NAME $HOST_CLASS" ] &&
        ! grep -q "agent $good_agent: HOST CHANGED" verifier.log; then
        ok "the runtime agent's polls pass with the binding: status names the host and its class, no host change"
else
        not_ok "the runtime agent's polls pass with the binding (polls ok: $runtime_polls_ok, host and class:" \
                "${runtime_host:-none})"
        grep "agent $good_agent" verifier.log | tail -n 5 | cut -c1-300 | diag
fi
if line "^VMATTEST-ROOT: marker $marker\$"; then
        ok "the root unlocked and switch-root ran its /sbin/init (marker printed)"
else
        not_ok "the root unlocked and switch-root ran its /sbin/init (marker printed)"
fi
if line '^VMATTEST-ROOT: /run/vmattest handed over: .*handover' && line '^VMATTEST-ROOT: PCR 15 log: 3 records' &&
        line '^VMATTEST-ROOT: PCR 15 log events: root-identity key-released leave-initrd'; then
        ok "the identity and the PCR 15 log (root identity, key released, leave-initrd) crossed switch-root in /run/vmattest"
else
        not_ok "the identity and the PCR 15 log crossed switch-root in /run/vmattest"
fi
if line "^VMATTEST-ROOT: runtime agent: .*taking over agent $good_agent from the initrd" && [ "$runtime_polls_ok" = yes ]; then
        ok "the runtime agent took the identity over and the verifier kept attesting it after switch-root"
else
        not_ok "the runtime agent took the identity over and the verifier kept attesting it (polls ok: $runtime_polls_ok)"
        status_json | diag
fi
if [ "${ima_verified:-0}" -ge 2 ] && line '^VMATTEST-ROOT: IMA measured: [1-9]'; then
        ok "IMA measured what ran from the real root; the verifier checked $ima_verified entries against the runtime policy"
else
        not_ok "IMA measured what ran from the real root (verified: ${ima_verified:-none})"
fi
# securityfs says the list is a regular file of size 0: the agent must not take that for a list
# that shrank, and read it from the start at every quote
if ! line 'the list shrank'; then ok "the agents read the kernel's IMA list on from where they stopped"
else not_ok "the agents read the kernel's IMA list on from where they stopped (one started over)"
        tr -d '\r' <"$VM_CONSOLE" | grep 'the list shrank' | head -n 3 | diag; fi
if line '^VMATTEST-ROOT: the /dev/shm intruder runs$' && line '^VMATTEST-ROOT: the intruder runs$' &&
        line '^VMATTEST-ROOT: IMA log names: /dev/shm/shm-intruder /usr/local/bin/intruder$'; then
        ok "IMA measured both programs outside the runtime policy: the one run from /dev/shm (tmpfs) and the one on the root's disk"
else
        not_ok "IMA measured both programs outside the runtime policy, from /dev/shm (tmpfs) and from the root's disk"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-ROOT: .*(intruder|IMA)' | diag
fi
echo "# the verifier: ${intruder_failure:-no failure recorded}" | cut -c1-400
if grep -q '/dev/shm/shm-intruder with sha256:.* not allowed by the runtime policy' <<<"$intruder_failure"; then
        ok "a program run from /dev/shm, outside the runtime policy: the verifier names it"
else
        not_ok "a program run from /dev/shm, outside the runtime policy: the verifier names it"
fi
released=$(status_json | jq -r '.[0].payload_released_at // empty')
if [ "$qemu_rc" -eq 0 ] && [ -n "$released" ] && line '^VMATTEST-ROOT: powering off'; then
        ok "the VM powered off by itself; the verifier records the release"
else
        not_ok "the VM powered off by itself (qemu exit $qemu_rc, 124: timeout); released: ${released:-no}"
        tr -d '\r' <"$VM_CONSOLE" | tail -n 30 | diag
fi
expect_equal "systemd found no ordering cycle" "$(tr -d '\r' <"$VM_CONSOLE" | grep -ci 'ordering cycle')" 0
vv delete --agent "$good_agent" >/dev/null 2>&1

# ---- scenario 2: another initrd than the tenant's policy names ---------------------------------
boot other initrd-other.img "rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.timeout=40
        rd.vmattest.fallback=poweroff"
enroll 1 || diag "scenario 2: no agent registered"
failure=
failed_pcr9() { failure=$(status_json | jq -r '.[0].failure // empty'); grep -q 'PCR 9' <<<"$failure"; }
wait_for "the verifier's verdict" 60 failed_pcr9
vm_wait; qemu_rc=$?
scenario_time "2 (other initrd)"
echo "# the verifier: ${failure:-no failure recorded}" | cut -c1-400
if grep -q 'PCR 9' <<<"$failure" && grep -q "$(sha256sum initrd-other.img | cut -c1-16)" <<<"$failure"; then
        ok "the verifier names the failing check: PCR 9, the initrd digest found"
else
        not_ok "the verifier names the failing check (failure: ${failure:-none})"
fi
if ! line 'unlock: answered' && ! line 'VMATTEST-ROOT: marker' && line 'unlock: failed after .*no key from the verifier within 40 s; fallback: poweroff'; then
        ok "no key: the volume stays locked and the console says why unlock gave up and which fallback it takes"
else
        not_ok "no key: the volume stays locked and the console says why"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'vmattest|VMATTEST' | tail -n 20 | diag
fi
if [ "$qemu_rc" -eq 0 ] && [ "$(status_json | jq -r '.[0].payload_released_at // empty')" = "" ]; then
        ok "the fallback powered the VM off; no release recorded"
else
        not_ok "the fallback powered the VM off (qemu exit $qemu_rc)"
fi
vv delete --agent "$AGENT_ID" >/dev/null 2>&1

# ---- scenario 3: the verifier is down -------------------------------------------------------------
down_port=$(random_port)
boot down initrd.img "rd.vmattest.registrar=10.0.2.2:$down_port rd.vmattest.timeout=25 rd.vmattest.fallback=prompt"
prompt_left=no
if vm_wait_console 'unlock: failed after .*fallback: prompt' "$VM_TIMEOUT"; then
        sleep 3
        kill -0 "$VM_QEMU_PID" 2>/dev/null && prompt_left=yes
fi
kill "$VM_QEMU_PID" 2>/dev/null
vm_wait
scenario_time "3 (verifier down)"
waits=$(tr -d '\r' <"$VM_CONSOLE" | grep -c 'registrar http://10.0.2.2:.*retrying in .* s left')
if [ "$waits" -ge 2 ]; then
        ok "the agent said it was waiting for the registrar ($waits progress lines)"
else
        not_ok "the agent said it was waiting for the registrar ($waits progress lines)"
fi
if [ "$prompt_left" = yes ] && line 'Please enter passphrase for disk' && ! line 'VMATTEST-ROOT: marker'; then
        ok "after the bounded wait the passphrase prompt stays for a human; the root stays locked"
else
        not_ok "after the bounded wait the passphrase prompt stays for a human (VM still up: $prompt_left)"
        tr -d '\r' <"$VM_CONSOLE" | tail -n 20 | diag
fi

# ---- scenario 4: a second unlock in the same boot -------------------------------------------------
boot second initrd.img "rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.timeout=180
        rd.vmattest.fallback=poweroff vmattest_test.mode=second-unlock vmattest_test.hold=20"
enroll 1 || diag "scenario 4: no agent registered"
first_agent=$AGENT_ID
# the second unlock registers again; the tenant (or someone who can make it) enrolls it again
enroll 2 || diag "scenario 4: the second unlock did not register"
refused() { status_json | jq -r '.[0].failure // empty' | grep -q 'already holds a key release'; }
wait_for "the verifier's refusal" 30 refused
refusal=$(status_json | jq -r '.[0].failure // empty')
vm_wait; qemu_rc=$?
scenario_time "4 (second unlock)"
if line "^VMATTEST-ROOT: marker $marker\$" && [ "$first_agent" = "$AGENT_ID" ]; then
        ok "the first unlock of the boot got the key (marker printed)"
else
        not_ok "the first unlock of the boot got the key"
fi
if line '^VMATTEST-ROOT: second unlock exit 1$'; then
        ok "the second unlock got no key and took the tenant's fallback (poweroff: exit 1)"
else
        not_ok "the second unlock got no key and took the fallback"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'vmattest|VMATTEST' | tail -n 20 | diag
fi
if grep -q 'already holds a key release' <<<"$refusal"; then
        ok "the verifier refused it: PCR 15's log already holds a key release"
else
        not_ok "the verifier refused it because of PCR 15 (failure: ${refusal:-none})"
fi
expect_equal "the VM powered off by itself" "$qemu_rc" 0

# ---- the key is in no file ---------------------------------------------------------------------
key=$(cat disk.key)
for img in initrd.img initrd-other.img; do
        if zstd -dcq "$img" 2>/dev/null | grep -qaF "$key"; then echo "$img (decompressed)"; fi
done >key-found
grep -rlaF --exclude=disk.key --exclude=key-found "$key" "$TEST_TMP" >>key-found
grep -rlaF "$key" "$VM_LOG_DIR" >>key-found
if [ ! -s key-found ] && [ -s verifier.sqlite ] && [ -s good.console ]; then
        ok "the disk key is in no file: initrds, root image, verifier database (the payload is sealed under the vault key), logs, consoles"
else
        not_ok "the disk key is in: $(tr '\n' ' ' <key-found)"
fi
if [ "$(stat -c %a vault.key)" = 600 ]; then
        ok "the verifier's vault key is 0600"
else
        not_ok "the verifier's vault key is 0600 ($(stat -c %a vault.key))"
fi
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
