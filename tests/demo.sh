#!/bin/bash
# make demo: the whole story in one real boot on this machine. The Debian kernel and a dracut
# initrd with the vmattest module boot under OVMF with a swtpm vTPM (qemu, TCG); the root disk is
# LUKS2 and only the tenant's verifier (vmattest-verifier, on this machine's loopback) holds its
# key. Watch the VM's agent attest from the initrd, the verifier check the measured boot and
# release the key, the root unlock, the verifier keep polling the running VM (IMA against the
# tenant's runtime policy), and name the program the tenant does not know when it runs.
# The host is part of the story (docs/protocol.md §5.9): two swtpms play two hosts' physical
# TPMs, A and B, whose AKs the tenant trusts. Before the VM starts, host A's TPM vouches for this
# vTPM (`vmattest-host provision`: a host quote over the vTPM's EK, in the vTPM's NV index); the
# verifier checks that binding before it releases the key. In the running VM the agent asks the
# host it runs on for a fresh binding with every quote (`vmattest-host serve`, over a
# virtio-serial port); then the VM is live-migrated to host B (a second qemu, the vTPM's state
# carried in the migration stream) and the verifier follows: a host change, to a trusted host.
# Everything is stopped at the end, and on Ctrl-C. The VM's consoles (before and after the
# migration) are in build/test-logs/vm/vm-A.console and vm-B.console.
. "$(dirname "$0")/vm/lib.sh"
set -o pipefail

vmattest-verifier() { "$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
fail() { printf '\033[1mdemo stopped: %s\033[0m\n' "$*" >&2; exit 1; }
VMATTEST_HOST=${VMATTEST_HOST:-$(dirname "$VMATTEST")/vmattest-host}
vmattest-host() { "$VMATTEST_HOST" --config "$TEST_TMP/host.conf" "$@"; }
status_of() { vmattest-verifier status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }

missing=$(vm_missing_tools)
[ -z "$missing" ] || fail "$missing"

step "Building the VM: the Debian kernel (downloaded once), a dracut initrd with the vmattest module, a LUKS2 root"
vm_kernel >/dev/null || fail "kernel"
vm_test_confdir "$TEST_TMP/etc-vmattest" || fail "configuration"
# the initrd's agent serves the binding the host provisioned (and starts only with one); the root's
# asks the host it runs on, through the virtio-serial port, for every quote
printf 'host_binding = "required"\n' >>"$TEST_TMP/etc-vmattest/agent.conf"
PORT_NAME=org.vmattest.host.0
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest" VM_DRACUT_MODULES="vmattest bash qemu qemu-net"
vm_initrd "$TEST_TMP/initrd.img" | sed 's/^# /  /' || fail "dracut"
cd "$TEST_TMP" || exit 1
printf 'demo-disk-key-%s' "$(openssl rand -hex 24)" >disk.key
vm_rootfs rootfs "the tenant's root file system" && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" || fail "root"
sed -i 's/^host_binding = .*/host_binding = "fresh"/' rootfs/etc/vmattest/agent.conf
printf 'host_service = "serial:/dev/virtio-ports/%s"\nhost_service_timeout = 10\n' "$PORT_NAME" >>rootfs/etc/vmattest/agent.conf
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

step "Two hosts: a swtpm plays each one's physical TPM; the provider publishes their AKs, the tenant trusts both"
printf '[host]\n' >host.conf
mkdir -p trusted-hosts
for h in A B; do
        swtpm_start "host$h" >/dev/null || fail "host $h's TPM"
        declare "TCTI_$h=$VMATTEST_TCTI"
        vmattest-host --tcti "$VMATTEST_TCTI" identity --json >"host$h.json" 2>/dev/null || fail "vmattest-host identity"
        jq -r .pem "host$h.json" >"trusted-hosts/host$h.pem"
        declare "HOST_$h=$(jq -r .name "host$h.json")"
        # its quote service for the VMs it runs (AF_VSOCK in production; a UNIX socket that qemu
        # connects the VM's virtio-serial port to, here)
        # (the program itself, not the shell function: its pid is the one the clean-up stops)
        "$VMATTEST_HOST" --config host.conf --tcti "$VMATTEST_TCTI" serve --listen "unix:$TEST_TMP/host$h.sock" \
                >"host$h.serve.log" 2>&1 &
        vm_pids+=("$!")
        wait_for "host $h's service" 10 test -S "$TEST_TMP/host$h.sock" || fail "vmattest-host serve"
        echo "  host $h: AK Name $(jq -r .name "host$h.json" | cut -c1-24)... (vmattest-host identity); vmattest-host serve on host$h.sock"
done
printf '{"trusted_host_aks_dir": "%s"}\n' "$TEST_TMP/trusted-hosts" >host-policy.json
echo "  the tenant's host policy: $(cat host-policy.json)"

step "Before the VM starts on host A, host A's TPM vouches for its vTPM (as libvirt's hook does it)"
vm_swtpm_setup "$TEST_TMP/vtpm" || fail "swtpm_setup"
echo "$ vmattest-host provision --tcti <host A's TPM> --vtpm-tcti <the VM's vTPM, offline>"
vm_host_provision "$TEST_TMP/vtpm" "$TCTI_A" || fail "vmattest-host provision"
sed 's/^vmattest-host: //; s/^/  /' "$TEST_TMP/vtpm/provision.log"

step "The VM boots on host A: OVMF measures the kernel (PCR 4), the EFI stub the initrd and command line (PCR 9)"
vm_swtpm_run "$TEST_TMP/vtpm" || fail "swtpm"
fwd=$(random_port)
uuid=$VM_LUKS_UUID
# qemu_on HOST NAME: the VM's virtio-serial port to HOST's service, its monitor (QMP)
qemu_on() {
        VM_QEMU_EXTRA=(-device virtio-serial-pci,id=vser0 -chardev "socket,id=hostsvc,path=$TEST_TMP/host$1.sock,reconnect=1"
                -device "virtserialport,bus=vser0.0,chardev=hostsvc,name=$PORT_NAME"
                -qmp "unix:$TEST_TMP/$2.qmp,server=on,wait=off")
}
# console NAME: the console as it comes, lines of the agent and the unlocked root, until its qemu ends
console() {
        tail --pid="$VM_QEMU_PID" -n +1 -f "$VM_CONSOLE" 2>/dev/null |
                sed -u -n 's/\r$//; /vmattest\[\|VMATTEST-ROOT\|Please enter passphrase/{s/\x1b\[[0-9;]*m//g; s/^/  vm| /; p}' &
        vm_pids+=("$!")
}
boot_args="rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
        rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.contact=127.0.0.1:$fwd rd.vmattest.timeout=300
        rd.vmattest.fallback=poweroff vmattest_test.mode=runtime vmattest_test.hold=60 vmattest_test.intruder=1"
qemu_on A vm-A
vm_boot vm-A initrd.img root.img "$TEST_TMP/vtpm" "$fwd" "$boot_args"
echo "  qemu (TCG) pid $VM_QEMU_PID; the VM's console, filtered to the agent and the root's own lines:"
console

agent_id=$(vm_agent_id 1) || fail "no agent registered from the VM; see $VM_CONSOLE"
step "The VM's agent registered from the initrd; the tenant enrolls it with its policy and the disk key"
vm_mb_policy initrd.img "$VM_CMDLINE" >mb-policy.json
echo '{}' >tpm-policy.json
echo "  measured-boot policy (PCR 9: this initrd and this command line, computed from the files):"
jq -c . mb-policy.json | sed 's/^/    /'
echo "  runtime policy: $(jq '.digests | length' runtime-policy.json) paths of its root tree and initrd with their SHA-256"
show vmattest-verifier add --agent "$agent_id" --policy tpm-policy.json --mb-policy mb-policy.json \
        --runtime-policy runtime-policy.json --host-policy host-policy.json --payload disk.key | sed 's/^/  /'

released() { [ "$(status_of payload_released_at)" != null ]; }
wait_for "the key release" 120 released || fail "no key released: $(status_of failure)"
step "The verifier checked the quotes, the event log, PCR 15 and host A's binding, and released the key (U, then V)"
grep -E 'release|attests|runs on host' verifier.log | tail -n 5 | sed 's/^vmattest-verifier: //; s/^/  verifier| /'

vm_wait_console 'VMATTEST-ROOT: runtime agent: .*serving on' 120 || fail "the root did not come up; see $VM_CONSOLE"
step "The root is unlocked; its runtime agent took the identity over, and the verifier keeps polling"
from=$(status_of polls)
more_polls() { [ "$(status_of polls)" -ge $((from + 5)) ] && [ "$(status_of last_error)" = null ]; }
wait_for "five polls of the running VM" 30 more_polls || fail "the running VM is not polled: $(status_of last_error)"
show vmattest-verifier status --agent "$agent_id" | sed 's/^/  /'

step "Live migration to host B: a second qemu (-incoming) with its own swtpm and host B's service"
mkdir -p "$TEST_TMP/vtpm-B"
vm_swtpm_run "$TEST_TMP/vtpm-B" || fail "host B's swtpm"
src_pid=$VM_QEMU_PID
qemu_on B vm-B
VM_QEMU_EXTRA+=(-incoming "unix:$TEST_TMP/migrate-B.sock")
vm_boot vm-B initrd.img root.img "$TEST_TMP/vtpm-B" "" "$boot_args"
wait_for "the destination" 20 test -S "$TEST_TMP/migrate-B.sock" || fail "the destination qemu did not start"
echo "$ (qemu monitor) migrate unix:migrate-B.sock"
vm_migrate "$TEST_TMP/vm-A.qmp" "unix:$TEST_TMP/migrate-B.sock" 120 || fail "the migration failed"
echo "  migrated in $(jq -r '."total-time"' <<<"$VM_MIGRATION_INFO") ms (paused $(jq -r .downtime <<<"$VM_MIGRATION_INFO") ms):" \
        "RAM, devices and the vTPM's state (qemu's tpm-emulator)"
vm_qmp "$TEST_TMP/vm-A.qmp" quit >/dev/null 2>&1
wait "$src_pid" 2>/dev/null
mkdir -p "$VM_LOG_DIR" && cp "$TEST_TMP/vm-A.console" "$VM_LOG_DIR/"
vm_hostfwd "$TEST_TMP/vm-B.qmp" "$fwd" || fail "host B's forward"
echo "  the qemu on host A quit; the one on host B took its port over: the verifier polls on"
console
moved() { [ "$(status_of host)" = "$HOST_B" ] && [ "$(status_of previous_host)" = "$HOST_A" ]; }
wait_for "the host change" 60 moved || fail "the verifier did not follow: $(status_of last_error) $(status_of failure)"
from=$(status_of polls)
more_polls() { [ "$(status_of polls)" -ge $((from + 3)) ] && [ "$(status_of last_error)" = null ]; }
wait_for "three polls on host B" 30 more_polls || fail "the VM is not polled on host B: $(status_of last_error)"
step "The verifier followed the VM: every quote now carries host B's fresh binding, a host the tenant trusts"
grep 'HOST CHANGED' verifier.log | tail -n 1 | sed 's/^vmattest-verifier: //; s/^/  verifier| /' | cut -c1-220
show vmattest-verifier status --agent "$agent_id" | sed 's/^/  /'

vm_wait_console 'VMATTEST-ROOT: ran /usr/local/bin/intruder' 60 || fail "the intruder did not run"
step "In the running VM a program the tenant's runtime policy does not know runs: IMA measures it"
failed() { [ "$(status_of state)" = failed ]; }
wait_for "the verifier's verdict" 20 failed || fail "the verifier did not notice"
show vmattest-verifier status --agent "$agent_id" | sed 's/^/  /'

step "The VM powers off by itself"
vm_wait
echo "  done: the disk key went from the verifier to the attested VM only (sealed in the verifier's"
echo "  database, in locked memory in the agent, in no file or log); consoles: $VM_LOG_DIR/vm-{A,B}.console"
