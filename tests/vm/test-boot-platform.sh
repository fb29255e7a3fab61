#!/bin/bash
# A hardware report beneath the vTPM, in real boots: the initrd of test-boot-unlock.sh plus,
# TEST ONLY, the configfs-tsm TEST DOUBLE (tests/tools/tsm-double: a FUSE file system playing an
# SEV-SNP guest's /sys/kernel/config/tsm/report, signing with the published fake AMD keys of
# tests/fixtures/platforms/snp/fake-keys; it is not AMD hardware and proves nothing about one).
# A test unit (vmattest-test-tsm-double.service, wanted by and ordered before
# vmattest-unlock.service) loads the fuse module and mounts the double at /run/tsm-double, with
# the launch measurement vmattest_test.tsm_measurement= of the kernel command line (default 48 x
# 0x5a); agent.conf says tsm_report_dir = /run/tsm-double and platform_report = required, so
# `vmattest unlock` answers a quote request that it cannot give a report to with 503. The double
# outlives switch-root (argv[0] "@...", IgnoreOnIsolate=yes; its mount moves with /run), so that
# the runtime agent of the root (root-init.sh, mode=runtime) serves reports as well: the
# verifier records the release once that agent proves it holds the key.
# The host's verifier trusts the double's fake ARK (platform_test_roots: made by running the
# double once on the host; every run's ARK has the same key and subject) and the tenant enrols
# each boot's agent with a platform policy allowing the measurement 48 x 0x5a and the disk key.
# Two scenarios, each its own boot with a fresh vTPM:
#   1 measurement allowed  the verifier says "hardware report: SEV-SNP" for the agent (the
#                          report's REPORT_DATA binds this boot's nonce, AK and EK), releases the
#                          key, the root unlocks (the marker of tests/vm/guest/root-init.sh), the
#                          runtime agent takes over, the verifier records the release and goes on
#                          polling it, each quote with a report
#   2 other measurement    the double reports 48 x 0x11: the verifier fails the agent naming the
#                          measurement, no key, the fallback (poweroff) after rd.vmattest.timeout
. "$(dirname "$0")/lib.sh"
plan 14

missing=$(vm_missing_tools)
if [ -n "$missing" ]; then
        not_ok "VM test tools: $missing"
        exit 1
fi
TSM_DOUBLE=$TOOLS_DIR/tsm-double
if [ ! -x "$TSM_DOUBLE" ] || ! ldconfig -p | grep -q 'libfuse3\.so\.3 '; then
        not_ok "the test double $TSM_DOUBLE (make tests-build) and libfuse3 on this machine"
        exit 1
fi
t0=$EPOCHREALTIME
good_measurement=$(printf '5a%.0s' $(seq 48))
other_measurement=$(printf '11%.0s' $(seq 48))

# ---- host side: kernel, initrd with the double, root image, verifier -----------------------------
if vm_step kernel vm_kernel; then
        ok "kernel $KPKG unpacked with its modules in $CACHE"
else
        not_ok "kernel"; exit 1
fi
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test configuration"; exit 1; }
cat >>"$TEST_TMP/etc-vmattest/agent.conf" <<CONF
# test-boot-platform.sh: every quote carries a report from the TEST DOUBLE, or none is answered
platform_report = "required"
tsm_report_dir = "/run/tsm-double"
CONF
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest"

# the overlay: the double's unit, its start script and the fake keys. Nothing here varies per
# run (the measurement comes from the command line), so the initrd is cached.
overlay=$TEST_TMP/overlay
mkdir -p "$overlay/usr/lib/systemd/system" "$overlay/etc/systemd/system/vmattest-unlock.service.wants" \
        "$overlay/usr/sbin" "$overlay/usr/share/vmattest-test/tsm-double-keys"
cp "$VM_ROOT"/tests/fixtures/platforms/snp/fake-keys/*.pem "$overlay/usr/share/vmattest-test/tsm-double-keys/"
cat >"$overlay/usr/sbin/vmattest-test-tsm-double" <<SCRIPT
#!/bin/bash
# TEST ONLY (tests/vm/test-boot-platform.sh): mounts the configfs-tsm TEST DOUBLE, fake SEV-SNP
# reports signed with published fake keys, at /run/tsm-double; the launch measurement from
# vmattest_test.tsm_measurement= on the kernel command line (the initrd is the same for every boot)
measurement=
for arg in \$(</proc/cmdline); do
        case \$arg in vmattest_test.tsm_measurement=*) measurement=\${arg#*=} ;; esac
done
# /dev/fuse appears when the module loads
modprobe fuse || exit 1
mkdir -p /run/tsm-double
# "@": systemd spares it at switch-root (the runtime agent of the root reads it too)
exec -a @tsm-double $TSM_DOUBLE --keys /usr/share/vmattest-test/tsm-double-keys \${measurement:+--measurement "\$measurement"} /run/tsm-double
SCRIPT
chmod 0755 "$overlay/usr/sbin/vmattest-test-tsm-double"
cat >"$overlay/usr/lib/systemd/system/vmattest-test-tsm-double.service" <<'UNIT'
# TEST ONLY (tests/vm/test-boot-platform.sh): not part of the dracut module.
[Unit]
Description=TEST DOUBLE of configfs-tsm (fake SEV-SNP reports, fake AMD keys) at /run/tsm-double
DefaultDependencies=no
ConditionPathExists=/etc/initrd-release
Before=vmattest-unlock.service
Conflicts=shutdown.target
Before=shutdown.target
# the double must outlive switch-root, for the runtime agent: the isolate of
# initrd-switch-root.target leaves it running, and systemd's SIGTERM to the initrd's processes
# spares it (argv[0] starts with "@": vmattest-test-tsm-double)
IgnoreOnIsolate=yes

[Service]
Type=exec
ExecStart=/usr/sbin/vmattest-test-tsm-double
# the agent may read reports only once the file system is there
ExecStartPost=/bin/bash -c 'for i in {1..100}; do while read -r _ m _; do [ "$m" = /run/tsm-double ] && exit 0; done </proc/self/mounts; sleep 0.1; done; exit 1'
StandardOutput=journal+console
StandardError=journal+console
UNIT
ln -s /usr/lib/systemd/system/vmattest-test-tsm-double.service \
        "$overlay/etc/systemd/system/vmattest-unlock.service.wants/vmattest-test-tsm-double.service"
VM_INITRD_OVERLAY=$overlay VM_DRACUT_INSTALL=$TSM_DOUBLE VM_DRACUT_DRIVERS=fuse
VM_DRACUT_MODULES="vmattest bash qemu qemu-net"
if vm_step initrd vm_initrd "$TEST_TMP/initrd.img"; then
        ok "dracut builds an initrd with module vmattest and the test double ($(du -m "$TEST_TMP/initrd.img" | cut -f1) MB)"
else
        not_ok "dracut builds an initrd with module vmattest and the test double"; exit 1
fi
lsinitrd "$TEST_TMP/initrd.img" >"$TEST_TMP/initrd.list" 2>&1
absent=
for f in usr/bin/vmattest "${TSM_DOUBLE#/}" libfuse3.so.3 kernel/fs/fuse/fuse.ko \
        vmattest-test-tsm-double.service vmattest-unlock.service.wants/vmattest-test-tsm-double.service \
        usr/sbin/vmattest-test-tsm-double tsm-double-keys/vcek_private_key.pem; do
        grep -q -- "$f" "$TEST_TMP/initrd.list" || absent="$absent $f"
done
if [ -z "$absent" ] && lsinitrd -f etc/vmattest/agent.conf "$TEST_TMP/initrd.img" | grep -q 'platform_report = "required"'; then
        ok "the initrd holds the double with libfuse3, fuse.ko, the fake keys, its unit, and agent.conf requires a report"
else
        not_ok "the initrd lacks:$absent"
fi

cd "$TEST_TMP" || exit 1
printf 'vm-disk-key-%s' "$(openssl rand -hex 24)" >disk.key
marker="vmattest-root-$RANDOM$RANDOM"
# the root carries the runtime agent with the same agent.conf: it reads the double too
vm_rootfs rootfs "$marker" && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" ||
        { not_ok "root file system"; exit 1; }
if vm_step luks-image vm_luks_image root.img disk.key rootfs; then
        ok "LUKS2 root image $VM_LUKS_UUID"
else
        not_ok "LUKS2 root image"; exit 1
fi
uuid=$VM_LUKS_UUID

# the double's fake ARK, from one run of it on the host: the guest's double signs with the same
# keys under the same subject
if vm_step fake-ark tsm_double_start "$TEST_TMP/tsm-host" && [ -s "$TEST_TMP/tsm-host.ark.pem" ]; then
        ok "the double's fake ARK for platform_test_roots"
else
        not_ok "the double's fake ARK (host FUSE)"; cat "$TEST_TMP/tsm-double.log" | diag; exit 1
fi
tsm_double_stop
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
# amd_certs_dir names an empty place: only the test root can anchor the chain
verifier_config verifier.conf "$(verifier_poll_config "platform_test_roots = $TEST_TMP/tsm-host.ark.pem
amd_certs_dir = $TEST_TMP/no-amd-certs")"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
verifier_start verifier.conf || { not_ok "verifier"; exit 1; }
vv() { "$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" "$@"; }
echo '{}' >tpm-policy.json
printf '{"platform": "sev-snp", "measurements": ["%s"]}\n' "$good_measurement" >snp-policy.json

base_cmdline="rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
        rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.fallback=poweroff"

# boot NAME CMDLINE-EXTRA: a fresh vTPM and a boot of initrd.img
boot() {
        vm_swtpm "$TEST_TMP/$1-tpm" || return 1
        FWD_PORT=$(random_port)
        SCENARIO_T0=$EPOCHREALTIME
        vm_boot "$1" initrd.img root.img "$TEST_TMP/$1-tpm" "$FWD_PORT" \
                "$base_cmdline rd.vmattest.contact=127.0.0.1:$FWD_PORT $2"
}

# enroll: once the initrd's agent registered, the tenant enrolls it with the measured-boot policy
# of this initrd and command line, the platform policy and the disk key; sets AGENT_ID
enroll() {
        AGENT_ID=$(vm_agent_id 1) || return 1
        vm_mb_policy initrd.img "$VM_CMDLINE" >mb-policy.json
        vv add --agent "$AGENT_ID" --policy tpm-policy.json --mb-policy mb-policy.json \
                --platform-policy snp-policy.json --payload disk.key >>enroll.log 2>&1
}

scenario_time() {
        printf '# step %-24s %6.1f s\n' "scenario $1" "$(awk "BEGIN { print $EPOCHREALTIME - $SCENARIO_T0 }")"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-ROOT:|TEST DOUBLE|tsm-double|vmattest.*(unlock|agent|registrar|report)' |
                sed 's/^/#   /' | cut -c1-200
}
line() { vm_console_line "$1" >/dev/null; }
status_json() { vv status --agent "$AGENT_ID" --json 2>/dev/null; }

# ---- scenario 1: the double's measurement is the one the tenant allows ----------------------------
boot good "rd.vmattest.timeout=180 vmattest_test.mode=runtime vmattest_test.hold=25"
enroll || diag "scenario 1: no agent registered"
good_agent=$AGENT_ID
released() { [ -n "$(status_json | jq -r '.[0].payload_released_at // empty')" ]; }
runtime_reports=no
if vm_wait_console 'VMATTEST-ROOT: runtime agent: .*serving on' "$VM_TIMEOUT" &&
        wait_for "the release recorded" 15 released; then
        from=$(status_json | jq -r '.[0].polls // 0')
        # three more polls of the runtime agent, the last answered: a quote without a report is
        # a 503, which the verifier counts as unreachable (last_error)
        more_polls() { [ "$(status_json | jq -r '.[0].polls // 0')" -ge $((from + 3)) ] &&
                [ "$(status_json | jq -r '.[0].last_error')" = null ]; }
        wait_for "three polls of the runtime agent" 15 more_polls &&
                [ "$(status_json | jq -r '.[0].failure')" = null ] && runtime_reports=yes
fi
vm_wait; qemu_rc=$?
scenario_time "1 (measurement allowed)"
if line "^VMATTEST-ROOT: marker $marker\$" && line "unlock: answered cryptsetup:/dev/disk/by-uuid/$uuid"; then
        ok "the root unlocked with the released key (marker printed)"
else
        not_ok "the root unlocked with the released key (marker printed)"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'vmattest|VMATTEST|DOUBLE|fuse' | tail -n 20 | diag
fi
if [ -n "$good_agent" ] && grep -q "agent $good_agent attests (quote, PCRs, .*hardware report: SEV-SNP" verifier.log; then
        ok "the verifier says the agent attests with a hardware report: SEV-SNP ($(grep -m1 -o "hardware report: SEV-SNP[^)]*" verifier.log))"
else
        not_ok "the verifier says the agent attests with a hardware report: SEV-SNP"
        grep "agent ${good_agent:-none}" verifier.log | tail -n 5 | diag
fi
released=$(status_json | jq -r '.[0].payload_released_at // empty')
if [ -n "$released" ] && [ "$(status_json | jq -r '.[0].failure')" = null ]; then
        ok "the verifier's status shows the key released ($released), no failure"
else
        not_ok "the verifier's status shows the key released"
        status_json | diag
fi
if line "^VMATTEST-ROOT: runtime agent: .*taking over agent $good_agent from the initrd" && [ "$runtime_reports" = yes ]; then
        ok "after switch-root the runtime agent took over and the verifier kept polling it, each quote with a report of the double"
else
        not_ok "after switch-root the runtime agent serves reports of the double (polls ok: $runtime_reports)"
        status_json | jq -c '.[0] | {polls, last_error, failure}' | diag
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-ROOT: runtime' | diag
fi
if [ "$qemu_rc" -eq 0 ] && line '^VMATTEST-ROOT: powering off'; then
        ok "the VM powered off by itself"
else
        not_ok "the VM powered off by itself (qemu exit $qemu_rc, 124: timeout)"
        tr -d '\r' <"$VM_CONSOLE" | tail -n 30 | diag
fi
vv delete --agent "$good_agent" >/dev/null 2>&1

# ---- scenario 2: the double reports another launch measurement ------------------------------------
boot other "rd.vmattest.timeout=40 vmattest_test.tsm_measurement=$other_measurement"
enroll || diag "scenario 2: no agent registered"
failure=
failed_measurement() { failure=$(status_json | jq -r '.[0].failure // empty'); grep -q 'measurement' <<<"$failure"; }
wait_for "the verifier's verdict" 60 failed_measurement
vm_wait; qemu_rc=$?
scenario_time "2 (other measurement)"
echo "# the verifier: ${failure:-no failure recorded}" | cut -c1-400
if grep -q 'SNP report: measurement is not one of the 1 allowed' <<<"$failure"; then
        ok "the verifier fails the agent naming the launch measurement"
else
        not_ok "the verifier fails the agent naming the launch measurement (failure: ${failure:-none})"
fi
if ! line 'unlock: answered' && ! line 'VMATTEST-ROOT: marker' &&
        line 'unlock: failed after .*no key from the verifier within 40 s; fallback: poweroff'; then
        ok "no key: the volume stays locked and unlock takes the fallback (poweroff)"
else
        not_ok "no key: the volume stays locked and unlock takes the fallback"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'vmattest|VMATTEST' | tail -n 20 | diag
fi
if [ "$qemu_rc" -eq 0 ] && [ "$(status_json | jq -r '.[0].payload_released_at // empty')" = "" ]; then
        ok "the fallback powered the VM off; no release recorded"
else
        not_ok "the fallback powered the VM off (qemu exit $qemu_rc); no release recorded"
fi
vv delete --agent "$AGENT_ID" >/dev/null 2>&1

# ---- the key is in no file ---------------------------------------------------------------------
key=$(cat disk.key)
{ zstd -dcq initrd.img 2>/dev/null | grep -qaF "$key" && echo "initrd.img (decompressed)"
  grep -rlaF --exclude=disk.key --exclude=key-found "$key" "$TEST_TMP"
  grep -rlaF "$key" "$VM_LOG_DIR/good.console" "$VM_LOG_DIR/other.console"; } >key-found
if [ ! -s key-found ] && [ -s verifier.sqlite ]; then
        ok "the disk key is in no file: initrd, root image, verifier database, logs, consoles"
else
        not_ok "the disk key is in: $(tr '\n' ' ' <key-found)"
fi
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
