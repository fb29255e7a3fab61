#!/bin/bash
# make demo: the whole story in one real boot on this machine. The Debian kernel and a dracut
# initrd with the vmattest module boot under OVMF with a swtpm vTPM (qemu, TCG); the root disk is
# LUKS2 and only the tenant's verifier (vmattest-verifier, on this machine's loopback) holds its
# key. Watch the VM's agent attest from the initrd, the verifier check the measured boot and
# release the key, the root unlock, the verifier keep polling the running VM (IMA against the
# tenant's runtime policy), and name the program the tenant does not know when it runs.
# Everything is stopped at the end, and on Ctrl-C. The VM's console is in build/test-logs/vm/demo.console.
. "$(dirname "$0")/vm/lib.sh"
set -o pipefail

vmattest-verifier() { "$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
fail() { printf '\033[1mdemo stopped: %s\033[0m\n' "$*" >&2; exit 1; }
status_of() { vmattest-verifier status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }

missing=$(vm_missing_tools)
[ -z "$missing" ] || fail "$missing"

step "Building the VM: the Debian kernel (downloaded once), a dracut initrd with the vmattest module, a LUKS2 root"
vm_kernel >/dev/null || fail "kernel"
vm_test_confdir "$TEST_TMP/etc-vmattest" || fail "configuration"
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest" VM_DRACUT_MODULES="vmattest bash qemu qemu-net"
vm_initrd "$TEST_TMP/initrd.img" | sed 's/^# /  /' || fail "dracut"
cd "$TEST_TMP" || exit 1
printf 'demo-disk-key-%s' "$(openssl rand -hex 24)" >disk.key
vm_rootfs rootfs "the tenant's root file system" && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" || fail "root"
# the tenant's golden runtime policy is made from its tree and the initrd (IMA measures the
# initrd's programs too: unlock loads the policy there); then someone adds a program
vm_runtime_policy rootfs initrd.img >runtime-policy.json || fail "runtime policy"
vm_root_add_intruder rootfs
vm_luks_image root.img disk.key rootfs || fail "root image"
echo "  kernel $KPKG, initrd $(du -m initrd.img | cut -f1) MB, LUKS2 root $VM_LUKS_UUID (busybox and the runtime agent)"
echo "  the initrd carries the agent, /etc/vmattest/agent.conf, the tenant's CA and IMA policy: no key"

step "The tenant's verifier (registrar + verifier) on loopback; the disk key is given to it alone"
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
verifier_config verifier.conf "$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf
verifier_start verifier.conf || fail "verifier"
echo "  vmattest-verifier serve (pid $VERIFIER_PID): registrar on 127.0.0.1:$VERIFIER_PORT (10.0.2.2:$VERIFIER_PORT from the VM)"

step "The VM boots: OVMF measures the kernel (PCR 4), the EFI stub the initrd and command line (PCR 9)"
vm_swtpm "$TEST_TMP/vtpm" || fail "swtpm"
fwd=$(random_port)
uuid=$VM_LUKS_UUID
vm_boot demo initrd.img root.img "$TEST_TMP/vtpm" "$fwd" \
        "rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
        rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.contact=127.0.0.1:$fwd rd.vmattest.timeout=300
        rd.vmattest.fallback=poweroff vmattest_test.mode=runtime vmattest_test.hold=25 vmattest_test.intruder=1"
echo "  qemu (TCG) pid $VM_QEMU_PID; the VM's console, filtered to the agent and the root's own lines:"
# the console as it comes, lines of the agent and the unlocked root, until qemu ends
tail --pid="$VM_QEMU_PID" -n +1 -f "$VM_CONSOLE" 2>/dev/null |
        sed -u -n 's/\r$//; /vmattest\[\|VMATTEST-ROOT\|Please enter passphrase/{s/\x1b\[[0-9;]*m//g; s/^/  vm| /; p}' &
vm_pids+=("$!")

agent_id=$(vm_agent_id 1) || fail "no agent registered from the VM; see $VM_CONSOLE"
step "The VM's agent registered from the initrd; the tenant enrolls it with its policy and the disk key"
vm_mb_policy initrd.img "$VM_CMDLINE" >mb-policy.json
echo '{}' >tpm-policy.json
echo "  measured-boot policy (PCR 9: this initrd and this command line, computed from the files):"
jq -c . mb-policy.json | sed 's/^/    /'
echo "  runtime policy: $(jq '.digests | length' runtime-policy.json) paths of its root tree and initrd with their SHA-256"
show vmattest-verifier add --agent "$agent_id" --policy tpm-policy.json --mb-policy mb-policy.json \
        --runtime-policy runtime-policy.json --payload disk.key | sed 's/^/  /'

released() { [ "$(status_of payload_released_at)" != null ]; }
wait_for "the key release" 120 released || fail "no key released: $(status_of failure)"
step "The verifier checked the quotes, the event log and PCR 15, and released the key (U, then V)"
grep -E 'release|attests' verifier.log | tail -n 4 | sed 's/^/  verifier| /'

vm_wait_console 'VMATTEST-ROOT: runtime agent: .*serving on' 120 || fail "the root did not come up; see $VM_CONSOLE"
step "The root is unlocked; its runtime agent took the identity over, and the verifier keeps polling"
from=$(status_of polls)
more_polls() { [ "$(status_of polls)" -ge $((from + 5)) ] && [ "$(status_of last_error)" = null ]; }
wait_for "five polls of the running VM" 30 more_polls || fail "the running VM is not polled: $(status_of last_error)"
show vmattest-verifier status --agent "$agent_id" | sed 's/^/  /'

vm_wait_console 'VMATTEST-ROOT: ran /usr/local/bin/intruder' 60 || fail "the intruder did not run"
step "In the running VM a program the tenant's runtime policy does not know runs: IMA measures it"
failed() { [ "$(status_of state)" = failed ]; }
wait_for "the verifier's verdict" 20 failed || fail "the verifier did not notice"
show vmattest-verifier status --agent "$agent_id" | sed 's/^/  /'

step "The VM powers off by itself"
vm_wait
echo "  done: the disk key went from the verifier to the attested VM only (sealed in the verifier's"
echo "  database, in locked memory in the agent, in no file or log); console: $VM_LOG_DIR/demo.console"
