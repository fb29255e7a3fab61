#!/bin/bash
# The early-boot plumbing, in a real boot: the Debian kernel and a dracut initrd holding our
# module (initrd/90vmattest) boot under OVMF with a swtpm vTPM; in the initrd, after
# network-online.target, vmattest-unlock.service runs (here a TEST-ONLY stand-in,
# tests/vm/guest/plumbing.sh, in place of `vmattest unlock`): it sees /dev/tpmrm0, reaches the host's
# loopback as 10.0.2.2, registers the real agent with the real registrar and serves the agent API
# to the host through qemu's host forward, then answers systemd-cryptsetup's password request for
# the LUKS2 root with a test key; the root unlocks, switch-root runs the root's /sbin/init, which
# prints its marker and what was handed over in /run/vmattest, and powers off.
. "$(dirname "$0")/lib.sh"
plan 14

missing=$(vm_missing_tools)
if [ -n "$missing" ]; then
        not_ok "VM test tools: $missing"
        exit 1
fi
[ -x "$TOOLS_DIR/fake-http" ] || { not_ok "no $TOOLS_DIR/fake-http (make tests-build)"; exit 1; }
t0=$EPOCHREALTIME

# ---- host side: kernel, initrd, root image, vTPM, verifier, a tiny HTTP server ------------------
if vm_step kernel vm_kernel; then
        ok "kernel $KPKG unpacked with its modules in $CACHE"
else
        not_ok "kernel"; exit 1
fi

overlay="$TEST_TMP/overlay"
mkdir -p "$overlay/usr/lib/vmattest-test" "$overlay/etc/systemd/system/vmattest-unlock.service.d"
install -m 0755 tests/vm/guest/plumbing.sh "$overlay/usr/lib/vmattest-test/plumbing.sh"
install -m 0644 tests/vm/guest/50-plumbing.conf "$overlay/etc/systemd/system/vmattest-unlock.service.d/"
printf 'vmattest plumbing test key (not a secret)' >"$overlay/usr/lib/vmattest-test/luks.key"
chmod 0400 "$overlay/usr/lib/vmattest-test/luks.key"
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test configuration"; exit 1; }
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest" VM_INITRD_OVERLAY=$overlay
# our module (its depends() adds systemd, networkd, udev, crypt), the drivers for qemu's devices
# (not dracut's kernel-modules: every block and fs driver would double the initrd and the boot),
# and what the stand-in uses: bash (dracut's default shell here) and systemd-reply-password
VM_DRACUT_MODULES="vmattest bash qemu qemu-net"
VM_DRACUT_INSTALL="/lib/systemd/systemd-reply-password"
if vm_step initrd vm_initrd "$TEST_TMP/initrd.img"; then
        ok "dracut builds an initrd with module vmattest ($(du -m "$TEST_TMP/initrd.img" | cut -f1) MB)"
else
        not_ok "dracut builds an initrd with module vmattest"; exit 1
fi
lsinitrd "$TEST_TMP/initrd.img" >"$TEST_TMP/initrd.list" 2>&1
want_files="usr/bin/vmattest libcurl.so.4 libtss2-tcti-device.so.0 etc/vmattest/agent.conf
        etc/vmattest/verifier-ca.pem etc/vmattest/ima-policy systemd/network/99-vmattest-dhcp.network
        system/vmattest-unlock.service cryptsetup.target.wants/vmattest-unlock.service
        systemd-networkd-wait-online systemd-cryptsetup"
absent=
for f in $want_files; do grep -q -- "$f" "$TEST_TMP/initrd.list" || absent="$absent $f"; done
if [ -z "$absent" ]; then
        ok "the initrd holds the agent, libcurl, the device TCTI, config, CA, IMA policy, network and unit"
else
        not_ok "the initrd lacks:$absent"
fi

printf 'vmattest-root-%s' "$RANDOM$RANDOM" >"$TEST_TMP/marker"
marker=$(cat "$TEST_TMP/marker")
if vm_step luks-image vm_luks_root "$TEST_TMP/root.img" "$overlay/usr/lib/vmattest-test/luks.key" "$marker"; then
        ok "LUKS2 root image $VM_LUKS_UUID"
else
        not_ok "LUKS2 root image"; exit 1
fi

vm_step swtpm vm_swtpm "$TEST_TMP/vtpm" || { not_ok "swtpm"; exit 1; }
verifier_config "$TEST_TMP/verifier.conf"
verifier_start "$TEST_TMP/verifier.conf" || { not_ok "verifier"; exit 1; }
http_port=$(random_port)
printf 'plumbing-token-%s\n' "$RANDOM$RANDOM" >"$TEST_TMP/http-body"
"$TOOLS_DIR/fake-http" "$http_port" 200 "$TEST_TMP/http-body" 2>"$TEST_TMP/fake-http.log" &
vm_pids+=("$!")
wait_port "$!" "$http_port" || { not_ok "fake-http"; exit 1; }
fwd_port=$(random_port)

# ---- boot --------------------------------------------------------------------------------------
uuid=$VM_LUKS_UUID
t_boot=$EPOCHREALTIME
vm_boot plumbing "$TEST_TMP/initrd.img" "$TEST_TMP/root.img" "$TEST_TMP/vtpm" "$fwd_port" \
        "rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip
        vmattest_test.http=10.0.2.2:$http_port vmattest_test.registrar=10.0.2.2:$VERIFIER_PORT
        vmattest_test.fwd=$fwd_port"
# the host's side of the agent API: once the guest serves, call it through the host forward
api_code=none
if vm_wait_console 'VMATTEST-TEST: .* agent registered' "$VM_TIMEOUT"; then
        for try in 1 2 3 4 5 6 7 8 9 10; do
                api_code=$(curl -sk --max-time 20 --cert "$VM_PKI/verifier-client.pem" \
                        --key "$VM_PKI/verifier-client.key" -o "$TEST_TMP/api-version.json" \
                        -w '%{http_code}' "https://127.0.0.1:$fwd_port/version")
                [ "$api_code" = 200 ] && break
                sleep 1
        done
fi
vm_wait
qemu_rc=$?
printf '# step %-24s %6.1f s\n' "boot (qemu to power-off)" "$(awk "BEGIN { print $EPOCHREALTIME - $t_boot }")"
tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-(TEST|ROOT):' | sed 's/^.*VMATTEST-/#   VMATTEST-/'

line() { vm_console_line "$1" >/dev/null; }
if line 'VMATTEST-TEST: .* tpm /dev/tpmrm0 present'; then
        ok "the guest booted the initrd under OVMF; /dev/tpmrm0 is there"
else
        not_ok "the guest booted the initrd under OVMF; /dev/tpmrm0 is there"
fi
if line "VMATTEST-TEST: .* agent runs: vmattest "; then
        ok "the agent binary runs in the initrd"
else
        not_ok "the agent binary runs in the initrd"
fi
if line "VMATTEST-TEST: .* http GET 10.0.2.2:$http_port: HTTP/1.[01] 200 .*; body: $(cat "$TEST_TMP/http-body")"; then
        ok "the initrd's network reaches the host's loopback as 10.0.2.2 after network-online.target"
else
        not_ok "the initrd's network reaches the host's loopback as 10.0.2.2"
fi
agents=$("$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" agents --json 2>/dev/null | jq -r '.[0].state' 2>/dev/null)
if line "VMATTEST-TEST: .* agent registered" && [ "$agents" = active ]; then
        ok "the agent in the initrd registered and activated at the host's registrar (TPM, libcurl, network)"
else
        not_ok "the agent in the initrd registered at the host's registrar (registrar says: ${agents:-nothing})"
fi
if [ "$api_code" = 200 ] && line "VMATTEST-TEST: .* agent API reached from the host"; then
        ok "the host reached the guest's agent API (mTLS) through the host forward 127.0.0.1:$fwd_port"
else
        not_ok "the host reached the guest's agent API through the host forward (HTTP $api_code)"
fi
if line "VMATTEST-TEST: .* answered cryptsetup:/dev/disk/by-uuid/$uuid"; then
        ok "the stand-in answered systemd-cryptsetup's password request for the root volume"
else
        not_ok "the stand-in answered systemd-cryptsetup's password request for the root volume"
fi
if line "^VMATTEST-ROOT: marker $marker\$"; then
        ok "the root unlocked and switch-root ran its /sbin/init (marker printed)"
else
        not_ok "the root unlocked and switch-root ran its /sbin/init (marker printed)"
fi
if line "^VMATTEST-ROOT: /run/vmattest handed over: plumbing-test"; then
        ok "/run/vmattest crossed switch-root"
else
        not_ok "/run/vmattest crossed switch-root"
fi
cycles=$(tr -d '\r' <"$VM_CONSOLE" | grep -ci 'ordering cycle')
expect_equal "systemd found no ordering cycle" "$cycles" 0
if [ "$qemu_rc" -eq 0 ] && line '^VMATTEST-ROOT: powering off'; then
        ok "the VM powered off by itself"
else
        not_ok "the VM powered off by itself (qemu exit $qemu_rc, 124: timeout after ${VM_TIMEOUT}s); console: $VM_LOG_DIR/$(basename "$VM_CONSOLE")"
        tr -d '\r' <"$VM_CONSOLE" | tail -n 40 | diag
fi
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
