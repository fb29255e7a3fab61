#!/bin/bash
# A VM follows its host, in a real boot and two live migrations (docs/protocol.md §5.9): the initrd
# of test-boot-unlock.sh with agent.conf saying host_binding = fresh and host_service =
# serial:/dev/virtio-ports/org.vmattest.host.0. On the host three swtpms play three hosts' TPMs,
# A, B and C, each behind its own `vmattest-host serve` on a UNIX socket; the VM's virtio-serial
# port org.vmattest.host.0 is qemu's -chardev socket to the service of the host it runs on (as
# AF_VSOCK would be in production: this machine has no vhost-vsock). The tenant's host policy
# trusts A's and B's AKs (not C's) and wants a fresh binding with every quote.
#   1 on host A     unlock in the initrd and then the runtime agent of the root answer every
#                   integrity quote with a binding host A's TPM made over the verifier's nonce
#                   and the vTPM's EK: the verifier checks it, releases the disk key once, the
#                   root unlocks and the verifier keeps polling, its status naming host A
#   2 to host B     a second qemu with -incoming and its own (empty) swtpm; qemu's tpm-emulator
#                   carries the vTPM's state blobs in the migration stream, so the destination
#                   vTPM is the same TPM (EK, AK, PCRs); its port goes to host B's service. Once
#                   the migration completed the source quits and the destination takes over its
#                   host forward: the verifier records the host change (host B, previous host A,
#                   "HOST CHANGED" in its log, "host_changed" POSTed to the tenant's webhook) and the VM
#                   keeps attesting; no second key release
#   3 to host C     the same move to a host the tenant does not trust: the verifier fails the
#                   agent, naming C's AK and the change from B (status, webhook)
. "$(dirname "$0")/lib.sh"
plan 16

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
# the VM lives through one boot and two migrations: every qemu's bound
VM_TIMEOUT=${VM_TIMEOUT:-900}
PORT_NAME=org.vmattest.host.0
t0=$EPOCHREALTIME

# ---- host side: kernel, initrd, root image, verifier, three hosts -----------------------------------
if vm_step kernel vm_kernel; then
        ok "kernel $KPKG unpacked with its modules in $CACHE"
else
        not_ok "kernel"; exit 1
fi
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test configuration"; exit 1; }
cat >>"$TEST_TMP/etc-vmattest/agent.conf" <<CONF
# test-migrate.sh: every integrity quote carries a fresh binding from the host the VM runs on,
# asked over the virtio-serial port (udev names it; virtio_console is in dracut's qemu module)
host_binding = "fresh"
host_service = "serial:/dev/virtio-ports/$PORT_NAME"
host_service_timeout = 10
CONF
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest"
VM_DRACUT_MODULES="vmattest bash qemu qemu-net"
if vm_step initrd vm_initrd "$TEST_TMP/initrd.img"; then
        ok "dracut builds an initrd whose agent.conf asks the host service for a fresh binding" \
                "($(du -m "$TEST_TMP/initrd.img" | cut -f1) MB)"
else
        not_ok "dracut builds an initrd with module vmattest"; exit 1
fi

cd "$TEST_TMP" || exit 1
printf 'vm-disk-key-%s' "$(openssl rand -hex 24)" >disk.key
marker="vmattest-root-$RANDOM$RANDOM"
vm_rootfs rootfs "$marker" && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" ||
        { not_ok "root file system"; exit 1; }
vm_step luks-image vm_luks_image root.img disk.key rootfs || { not_ok "LUKS2 root image"; exit 1; }
uuid=$VM_LUKS_UUID
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
# the tenant's webhook: a stand-in that logs what the verifier POSTs (host changes, failures)
webhook_port=$(random_port)
printf '{}' >webhook-body
"$TOOLS_DIR/fake-http" "$webhook_port" 200 webhook-body 2>webhook.log &
vm_pids+=("$!")
verifier_config verifier.conf "$(verifier_poll_config "webhook_url = http://127.0.0.1:$webhook_port/vmattest")"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
verifier_start verifier.conf || { not_ok "verifier"; exit 1; }
vv() { "$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" "$@"; }
echo '{}' >tpm-policy.json

# three hosts: a swtpm as each one's TPM, its AK (vmattest-host identity), its quote service
printf '[host]\n' >host.conf
mkdir -p trusted-hosts
hosts_ok=yes
for h in A B C; do
        swtpm_start "host$h" >/dev/null || { hosts_ok=no; break; }
        "$VMATTEST_HOST" --config host.conf --tcti "$VMATTEST_TCTI" identity --json >"host$h.json" 2>"host$h.identity.log" ||
                { hosts_ok=no; cat "host$h.identity.log" >&2; break; }
        declare "HOST_$h=$(jq -r .name "host$h.json")"
        "$VMATTEST_HOST" --config host.conf --tcti "$VMATTEST_TCTI" serve --listen "unix:$TEST_TMP/host$h.sock" \
                >"host$h.serve.log" 2>&1 &
        vm_pids+=("$!")
        wait_for "host $h's service" 10 test -S "$TEST_TMP/host$h.sock" || { hosts_ok=no; break; }
done
jq -r .pem hostA.json >trusted-hosts/hostA.pem
jq -r .pem hostB.json >trusted-hosts/hostB.pem
printf '{"trusted_host_aks_dir": "%s", "fresh": true}\n' "$TEST_TMP/trusted-hosts" >host-policy.json
if [ "$hosts_ok" = yes ]; then
        ok "three hosts' TPMs and quote services; the tenant's host policy trusts A and B, fresh bindings"
        echo "# host A $HOST_A, host B $HOST_B, host C $HOST_C"
else
        not_ok "three hosts' TPMs and quote services"; exit 1
fi

# qemu_on HOST NAME: the arguments that differ per qemu process: the virtio-serial port to HOST's
# service (reconnect: a service that closed a stream is connected to again), the QMP socket
qemu_on() {
        VM_QEMU_EXTRA=(-device virtio-serial-pci,id=vser0
                -chardev "socket,id=hostsvc,path=$TEST_TMP/host$1.sock,reconnect=1"
                -device "virtserialport,bus=vser0.0,chardev=hostsvc,name=$PORT_NAME"
                -qmp "unix:$TEST_TMP/$2.qmp,server=on,wait=off")
}
status_json() { vv status --agent "$AGENT_ID" --json 2>/dev/null; }
status() { status_json | jq -r ".[0].$1"; }
line() { tr -d '\r' <"$1" | grep -qE -- "$2"; }
console_lines() {
        tr -d '\r' <"$1" | grep -E 'VMATTEST-ROOT:|vmattest.*(unlock|agent|host)' | sed 's/^/#   /' | cut -c1-200
}
check() { # check DESC SECONDS CMD...: waits for CMD, ok or not_ok with the verifier's status
        local desc=$1 seconds=$2; shift 2
        if wait_for "$desc" "$seconds" "$@"; then ok "$desc"
        else not_ok "$desc"; status_json | jq -c '.[0] | {state, host, previous_host, polls, last_error, failure}' | diag
                tail -n 5 verifier.log | diag; fi
}
attests_on() { [ "$(status state)" = polling ] && [ "$(status last_error)" = null ] && [ "$(status host)" = "$1" ]; }
polled_past() { [ "$(status polls)" -ge "$1" ] && [ "$(status last_error)" = null ] && [ "$(status failure)" = null ]; }

# ---- 1: the VM boots on host A ------------------------------------------------------------------------
FWD_PORT=$(random_port)
vm_swtpm "$TEST_TMP/vtpm-A" || { not_ok "the VM's vTPM"; exit 1; }
qemu_on A vm-A
# the destinations boot nothing, but qemu's devices and firmware inputs are the same
BOOT_EXTRA="rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
        rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.contact=127.0.0.1:$FWD_PORT rd.vmattest.timeout=180
        rd.vmattest.fallback=poweroff vmattest_test.mode=runtime vmattest_test.hold=$VM_TIMEOUT"
vm_boot vm-A initrd.img root.img "$TEST_TMP/vtpm-A" "$FWD_PORT" "$BOOT_EXTRA"
CONSOLE_A=$VM_CONSOLE
QEMU_A=$VM_QEMU_PID
SCENARIO_T0=$EPOCHREALTIME
AGENT_ID=$(vm_agent_id 1) || diag "no agent registered"
vm_mb_policy initrd.img "$VM_CMDLINE" >mb-policy.json
vv add --agent "$AGENT_ID" --policy tpm-policy.json --mb-policy mb-policy.json --host-policy host-policy.json \
        --payload disk.key >enroll.log 2>&1 || diag <enroll.log
released() { [ "$(status payload_released_at)" != null ]; }
if wait_for "the key release" 180 released && line "$CONSOLE_A" "unlock: answered cryptsetup:/dev/disk/by-uuid/$uuid" &&
        grep -q "agent $AGENT_ID runs on host $HOST_A" verifier.log; then
        ok "in the initrd the verifier checked host A's fresh binding and released the key; unlock answered"
else
        not_ok "in the initrd the verifier checked host A's fresh binding and released the key"
        status_json | jq -c '.[0] | {state, host, last_error, failure}' | diag
        console_lines "$CONSOLE_A" | tail -n 15
fi
released_at=$(status payload_released_at)
vm_wait_console 'VMATTEST-ROOT: runtime agent: .*serving on' 120
from=$(status polls)
check "the root unlocked and its runtime agent attests on host A (3 polls, each with a fresh binding)" 60 \
        eval 'polled_past $((from + 3)) && attests_on "$HOST_A"'
printf '# step %-24s %6.1f s\n' "boot on host A" "$(awk "BEGIN { print $EPOCHREALTIME - $SCENARIO_T0 }")"
console_lines "$CONSOLE_A"

# migrate FROM TO: the VM, running in the qemu of host FROM, to a new qemu on host TO (its own
# swtpm, started empty: the migration stream brings the vTPM's state), then FROM's qemu quits and
# TO's takes over the host forward. Sets MIGRATED (yes/no) and the destination's VM_CONSOLE.
migrate() {
        local from=$1 to=$2 t=$EPOCHREALTIME src_pid=$VM_QEMU_PID
        mkdir -p "$TEST_TMP/vtpm-$to"
        vm_swtpm_run "$TEST_TMP/vtpm-$to" || return 1
        qemu_on "$to" "vm-$to"
        VM_QEMU_EXTRA+=(-incoming "unix:$TEST_TMP/migrate-$to.sock")
        vm_boot "vm-$to" initrd.img root.img "$TEST_TMP/vtpm-$to" "" "$BOOT_EXTRA"
        wait_for "the destination's monitor" 20 test -S "$TEST_TMP/vm-$to.qmp" || return 1
        wait_for "the destination's migration socket" 20 test -S "$TEST_TMP/migrate-$to.sock" || return 1
        MIGRATED=no
        if vm_migrate "$TEST_TMP/vm-$from.qmp" "unix:$TEST_TMP/migrate-$to.sock" 180; then
                MIGRATED=yes
                echo "# migration $from -> $to: $(jq -c '{"total-time", downtime,
                        ram: {transferred: .ram.transferred, mbps: .ram.mbps}}' <<<"$VM_MIGRATION_INFO")"
        fi
        vm_qmp "$TEST_TMP/vm-$from.qmp" quit >/dev/null 2>&1
        wait "$src_pid" 2>/dev/null
        [ "$MIGRATED" = yes ] && vm_hostfwd "$TEST_TMP/vm-$to.qmp" "$FWD_PORT" || MIGRATED=no
        printf '# step %-24s %6.1f s\n' "migration $from -> $to" "$(awk "BEGIN { print $EPOCHREALTIME - $t }")"
        [ "$MIGRATED" = yes ]
}

# ---- 2: live migration to host B (trusted) -------------------------------------------------------------
SCENARIO_T0=$EPOCHREALTIME
if migrate A B && [ "$(vm_qmp "$TEST_TMP/vm-B.qmp" query-status | jq -r .status)" = running ]; then
        ok "live migration to a second qemu (-incoming), the vTPM's state carried by qemu's tpm-emulator: it runs on host B"
else
        not_ok "live migration to a second qemu on host B"
        tail -n 5 "$TEST_TMP"/vm-A.qemu.log "$TEST_TMP"/vm-B.qemu.log "$TEST_TMP"/vtpm-B/swtpm.log 2>/dev/null | diag
fi
changed_to() { [ "$(status host)" = "$1" ] && [ "$(status previous_host)" = "$2" ] && [ "$(status host_changed_at)" != null ]; }
check "the verifier records the host change: host B, previous host A" 60 changed_to "$HOST_B" "$HOST_A"
if grep -q "agent $AGENT_ID: HOST CHANGED from $HOST_A to $HOST_B, which the host policy trusts: it keeps attesting" verifier.log
then ok "the verifier's log says HOST CHANGED from A to B, a host the policy trusts"
else not_ok "the verifier's log says HOST CHANGED from A to B"; grep "agent $AGENT_ID" verifier.log | tail -n 5 | diag; fi
if wait_for "webhook" 10 grep -q "\"event\":\"host_changed\",\"previous_host\":\"$HOST_A\",\"host\":\"$HOST_B\"" webhook.log
then ok "the host change is POSTed to the tenant's webhook (event host_changed, previous host A, host B)"
else not_ok "the host change is POSTed to the tenant's webhook"; tail -n 3 webhook.log | cut -c1-300 | diag; fi
from=$(status polls)
check "on host B the VM keeps attesting: 3 more polls, each with host B's fresh binding" 60 \
        eval 'polled_past $((from + 3)) && attests_on "$HOST_B"'
if [ "$(status payload_released_at)" = "$released_at" ] && [ "$(cat "$CONSOLE_A" "$VM_CONSOLE" | tr -d '\r' |
        grep -c 'unlock: answered')" = 1 ] && ! line "$VM_CONSOLE" 'VMATTEST-ROOT: marker'; then
        ok "the disk key was released once, before the migration; the guest did not boot again"
else
        not_ok "the disk key was released once (released at $released_at, now $(status payload_released_at))"
fi
console_lines "$VM_CONSOLE"

# ---- 3: live migration to host C (not trusted) -----------------------------------------------------------
if migrate B C; then
        ok "a second live migration: the VM runs on host C"
else
        not_ok "a second live migration to host C"
        tail -n 5 "$TEST_TMP"/vm-B.qemu.log "$TEST_TMP"/vm-C.qemu.log | diag
fi
failed_on_c() {
        [ "$(status state)" = failed ] && status failure | grep -q "host AK is not one of the 2 trusted host AKs" &&
                status failure | grep -q "the host changed from $HOST_B to $HOST_C"
}
check "on host C, which the host policy does not trust, the verifier fails the agent naming host C" 60 failed_on_c
echo "# the verifier: $(status failure)" | cut -c1-400
if wait_for "webhook" 10 grep -q "\"state\":\"failed\".*host AK is not one of.*$HOST_C" webhook.log
then ok "the failure is POSTed to the tenant's webhook, naming host C"
else not_ok "the failure is POSTed to the tenant's webhook, naming host C"; tail -n 3 webhook.log | cut -c1-300 | diag; fi
expect_equal "the host in the status stays the last trusted one (B)" "$(status host)" "$HOST_B"
vm_qmp "$TEST_TMP/vm-C.qmp" quit >/dev/null 2>&1
vm_wait
printf '# step %-24s %6.1f s\n' "migrations" "$(awk "BEGIN { print $EPOCHREALTIME - $SCENARIO_T0 }")"

# ---- the key is in no file ---------------------------------------------------------------------------
key=$(cat disk.key)
{ zstd -dcq initrd.img 2>/dev/null | grep -qaF "$key" && echo "initrd.img (decompressed)"
  grep -rlaF --exclude=disk.key --exclude=key-found "$key" "$TEST_TMP"; } >key-found
if [ ! -s key-found ] && [ -s verifier.sqlite ]; then
        ok "the disk key is in no file: initrd, root image, the vTPMs' states, verifier database, logs, consoles"
else
        not_ok "the disk key is in: $(tr '\n' ' ' <key-found)"
fi
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
