#!/bin/bash
# An initrd behind NAT unlocks in push mode, in real boots: the VM's network is qemu's user-mode
# NAT with no host forward at all, so no verifier can reach the guest; test-boot-unlock.sh's
# initrd (the same cached image: everything this test changes is on the kernel command line)
# runs `vmattest unlock` with rd.vmattest.mode=push and rd.vmattest.verifier=URL: it registers
# with vmattest-verifier on the host's loopback (10.0.2.2), pushes its evidence to the
# verifier's API v3 on its TLS port, fetches the key through vmattest's release extension
# (docs/protocol.md §4.3), opens U and V in the TPM and answers systemd-cryptsetup. Two boots,
# each with a fresh vTPM:
#   1 push          the tenant enrols the agent with `add --push` and the disk key as soon as
#                   it registered; the root unlocks, its runtime agent (the root's agent.conf says
#                   mode = push) takes the identity over and keeps pushing: the verifier accepts
#                   at least three of its attestations, then a program outside the runtime
#                   policy runs from /dev/shm and the verifier fails the agent, naming it
#   2 push-refused  the tenant's policy cannot hold (PCR 23 pinned to a value it never has): the
#                   verifier fails the agent, no key, the fallback (poweroff), no root
# Then: the disk key is in no file the test made.
. "$(dirname "$0")/lib.sh"
plan 14

missing=$(vm_missing_tools)
if [ -n "$missing" ]; then
        not_ok "VM test tools: $missing"
        exit 1
fi
command -v ss >/dev/null || { not_ok "VM test tools: missing ss (apt-get install iproute2)"; exit 1; }
t0=$EPOCHREALTIME

# ---- host side: kernel, initrd, root image, verifier ----------------------------------------------
vm_step kernel vm_kernel || { not_ok "kernel"; exit 1; }
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test configuration"; exit 1; }
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest"
# test-boot-unlock.sh's modules and configuration: the same initrd, from the cache
VM_DRACUT_MODULES="vmattest bash qemu qemu-net"
vm_step initrd vm_initrd "$TEST_TMP/initrd.img" || { not_ok "dracut builds an initrd with module vmattest"; exit 1; }
# the initrd's agent.conf says pull: push is the command line's, and the verifier's TLS CA must
# be in the initrd for it
if lsinitrd "$TEST_TMP/initrd.img" 2>&1 | grep -q 'etc/vmattest/verifier-tls-ca.pem'; then
        ok "the initrd holds the push verifier's CA (verifier_tls_ca_cert) although its agent.conf says pull"
else
        not_ok "the initrd holds the push verifier's CA (verifier_tls_ca_cert)"; exit 1
fi

cd "$TEST_TMP" || exit 1
printf 'vm-disk-key-%s' "$(openssl rand -hex 24)" >disk.key
marker="vmattest-root-$RANDOM$RANDOM"
tls_port=$(random_port)
# the root's runtime agent pushes to the same verifier: rd.vmattest.* are the initrd's, the
# root reads its own agent.conf (as an image's would say it, or cloud-init's settings)
vm_rootfs rootfs "$marker" && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" &&
        printf '\n# the runtime agent behind NAT: push mode\n[agent]\nmode = push\nverifier_url = "%s"\n' \
                "https://10.0.2.2:$tls_port" >>rootfs/etc/vmattest/agent.conf || { not_ok "root file system"; exit 1; }
vm_runtime_policy rootfs initrd.img >runtime-policy.json || { not_ok "runtime policy"; exit 1; }
vm_root_add_intruder rootfs
vm_step luks-image vm_luks_image root.img disk.key rootfs || { not_ok "LUKS2 root image"; exit 1; }
uuid=$VM_LUKS_UUID

# the verifier: plain registrar port, and its TLS port (API v3) with a certificate for the
# address the guest reaches it at, from the tenant CA the initrd trusts
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
registrar_cert "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-ca.key" "IP:10.0.2.2,IP:127.0.0.1" ||
        { not_ok "the verifier's TLS certificate"; exit 1; }
release_verifier_config "$(registrar_tls_config "$tls_port" "$TEST_TMP/verifier-ca.pem")"
verifier_start verifier.conf || { not_ok "verifier"; exit 1; }
wait_port "$VERIFIER_PID" "$tls_port" || { not_ok "the verifier's TLS port did not open"; exit 1; }
echo '{}' >tpm-policy.json
printf '{"23": ["%s"]}\n' "$(printf 'ab%.0s' $(seq 32))" >unsatisfiable-policy.json

base_cmdline="rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
        rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.mode=push
        rd.vmattest.verifier=https://10.0.2.2:$tls_port rd.vmattest.fallback=poweroff"

# boot NAME CMDLINE-EXTRA: a fresh vTPM and a boot behind NAT: no host forward
boot() {
        vm_swtpm "$TEST_TMP/$1-tpm" || return 1
        SCENARIO_T0=$EPOCHREALTIME
        vm_boot "$1" initrd.img root.img "$TEST_TMP/$1-tpm" "" "$base_cmdline $2"
}

# enroll TPM-POLICY: once the initrd's agent attests in push mode, the tenant enrolls it for
# push with its policies and the disk key; sets AGENT_ID
enroll() {
        vm_mb_policy initrd.img "$VM_CMDLINE" >mb-policy.json || return 1
        AGENT_ID=$(vm_push_agent_id 1) || return 1
        vv add --agent "$AGENT_ID" --policy "$1" --mb-policy mb-policy.json \
                --runtime-policy runtime-policy.json --payload disk.key --push >>enroll.log 2>&1
}

scenario_time() {
        printf '# step %-24s %6.1f s\n' "boot $1" "$(awk "BEGIN { print $EPOCHREALTIME - $SCENARIO_T0 }")"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-ROOT:|vmattest.*(unlock|agent|registrar|taking over|push)' |
                sed 's/^/#   /' | cut -c1-200
}
line() { vm_console_line "$1" >/dev/null; }
status_json() { vv status --agent "$AGENT_ID" --json 2>/dev/null; }
status() { status_json | jq -r ".[0].$1"; }
# qemu's listening TCP sockets: none, with no host forward
qemu_listens() { ss -Htlnp 2>/dev/null | grep "pid=$VM_QEMU_PID,"; }

# ---- boot 1: push, the policy holds ---------------------------------------------------------------
boot push "rd.vmattest.timeout=180 vmattest_test.mode=runtime vmattest_test.hold=15 vmattest_test.intruder=1"
enroll tpm-policy.json ||
        diag "boot 1: no agent attested in push mode, or the enrolment failed: $(tail -n 3 enroll.log)"
listening=$(qemu_listens)
runtime_ok=no from=
if vm_wait_console 'VMATTEST-ROOT: runtime agent: .*attesting in push mode' "$VM_TIMEOUT"; then
        from=$(status polls)
        three_more() { [ "$(status polls)" -ge $((from + 3)) ]; }
        wait_for "three attestations of the runtime agent" 20 three_more && [ "$(status failure)" = null ] &&
                runtime_ok=yes
        runtime_polls=$(( $(status polls) - from ))
fi
intruder_failure=
intruder_named() {
        intruder_failure=$(status 'failure // empty')
        grep -q /dev/shm/shm-intruder <<<"$intruder_failure"
}
vm_wait_console 'VMATTEST-ROOT: IMA log names:' "$VM_TIMEOUT" && wait_for "the verifier's verdict" 20 intruder_named
vm_wait; qemu_rc=$?
scenario_time "1 (push)"
if [ -n "$AGENT_ID" ] && [ -z "$listening" ] && line 'unlock: registered' &&
        line 'unlock: push mode' && ! line "agent $AGENT_ID serving on"; then
        ok "behind NAT with no host forward (qemu listens on no port), unlock registered and attests in push mode"
else
        not_ok "behind NAT with no host forward, unlock registered and attests in push mode" \
                "(qemu listens: ${listening:-nothing})"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'vmattest' | tail -n 20 | diag
fi
if line 'push: attestation [0-9]+ accepted' && line "unlock: answered cryptsetup:/dev/disk/by-uuid/$uuid" &&
        line 'unlock: done'; then
        ok "the verifier accepted its evidence, released the key in push mode, and unlock answered systemd-cryptsetup"
else
        not_ok "the verifier released the key in push mode and unlock answered systemd-cryptsetup"
        status_json | diag; grep -iE 'push|release' verifier.log | tail -n 20 | diag
fi
if line "^VMATTEST-ROOT: marker $marker\$" &&
        line '^VMATTEST-ROOT: PCR 15 log events: root-identity key-released leave-initrd'; then
        ok "the root unlocked: its /sbin/init printed the marker; PCR 15 records the release and leave-initrd"
else
        not_ok "the root unlocked and its /sbin/init printed the marker"
fi
if line "^VMATTEST-ROOT: runtime agent: .*taking over agent $AGENT_ID from the initrd" &&
        line "^VMATTEST-ROOT: runtime agent: .*agent $AGENT_ID attesting in push mode to https://10.0.2.2:$tls_port"
then
        ok "the runtime agent took the identity over and attests in push mode to the same verifier"
else
        not_ok "the runtime agent took the identity over and attests in push mode"
        tr -d '\r' <"$VM_CONSOLE" | grep 'VMATTEST-ROOT: runtime agent' | diag
fi
if [ "$runtime_ok" = yes ] && line '^VMATTEST-ROOT: runtime agent pushed [1-9][0-9]* accepted attestations'; then
        ok "the verifier accepted at least 3 of the runtime agent's pushed attestations after switch-root, none failed"
else
        not_ok "the verifier accepted at least 3 pushed attestations after switch-root" \
                "(${runtime_polls:-none} more; counting from ${from:-never})"
        status_json | diag; tr -d '\r' <"$VM_CONSOLE" | grep 'VMATTEST-ROOT: runtime agent' | diag
fi
echo "# the verifier: ${intruder_failure:-no failure recorded}" | cut -c1-400
if grep -q '/dev/shm/shm-intruder with sha256:.* not allowed by the runtime policy' <<<"$intruder_failure"; then
        ok "a program run from /dev/shm, outside the runtime policy: the verifier fails the push agent, naming it"
else
        not_ok "a program outside the runtime policy fails the push agent, named"
fi
released=$(status 'payload_released_at // empty')
if [ "$qemu_rc" -eq 0 ] && [ -n "$released" ] && line '^VMATTEST-ROOT: powering off'; then
        ok "the VM powered off by itself; the verifier records the release"
else
        not_ok "the VM powered off by itself (qemu exit $qemu_rc, 124: timeout); released: ${released:-no}"
        tr -d '\r' <"$VM_CONSOLE" | tail -n 30 | diag
fi
expect_equal "systemd found no ordering cycle" "$(tr -d '\r' <"$VM_CONSOLE" | grep -ci 'ordering cycle')" 0
vv delete --agent "$AGENT_ID" >/dev/null 2>&1

# ---- boot 2: push, a policy that cannot hold --------------------------------------------------------
boot push-refused "rd.vmattest.timeout=30"
enroll unsatisfiable-policy.json ||
        diag "boot 2: no agent attested in push mode, or the enrolment failed: $(tail -n 1 enroll.log)"
failure=
failed_pcr23() { failure=$(status 'failure // empty'); grep -q 'PCR 23' <<<"$failure"; }
wait_for "the verifier's verdict" 60 failed_pcr23
listening=$(qemu_listens)
vm_wait; qemu_rc=$?
scenario_time "2 (push-refused)"
echo "# the verifier: ${failure:-no failure recorded}" | cut -c1-400
if grep -q 'PCR 23' <<<"$failure" && [ -z "$listening" ]; then
        ok "behind NAT, the verifier judged the pushed evidence and names the failing check: PCR 23"
else
        not_ok "the verifier names the failing check (failure: ${failure:-none}; qemu listens: ${listening:-nothing})"
fi
if ! line 'unlock: answered' && ! line 'VMATTEST-ROOT:' &&
        line 'unlock: failed after .*no key from the verifier within 30 s; fallback: poweroff'; then
        ok "no key: the volume stays locked, no root runs, and the console says why unlock gave up and its fallback"
else
        not_ok "no key: the volume stays locked, no root runs, and the console says why"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'vmattest|VMATTEST' | tail -n 20 | diag
fi
if [ "$qemu_rc" -eq 0 ] && [ -z "$(status 'payload_released_at // empty')" ]; then
        ok "the fallback powered the VM off; no release recorded"
else
        not_ok "the fallback powered the VM off (qemu exit $qemu_rc)"
fi
vv delete --agent "$AGENT_ID" >/dev/null 2>&1

# ---- the key is in no file ---------------------------------------------------------------------
found=$(vm_key_found "$(cat disk.key)" initrd.img)
if [ -z "$found" ] && [ -s verifier.sqlite ] && [ -s push.console ] && [ -s push-refused.console ]; then
        ok "the disk key is in no file: initrd, root image, verifier database (sealed), logs, consoles"
else
        not_ok "the disk key is in: $(tr '\n' ' ' <<<"$found")"
fi
expect_equal "the verifier's vault key is 0600" "$(stat -c %a vault.key)" 600
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
