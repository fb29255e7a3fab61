#!/bin/bash
# The first boot's disk work (agent/luks_provision.c) in a real VM: the online reencryption of a
# mounted LUKS2 volume needs device-mapper, which only a VM has here. The Debian kernel and a small
# dracut initrd boot a plain busybox root (its /sbin/init is tests/vm/guest/provision-init.sh)
# with two more disks: A, an image builder's LUKS2 volume under a "provisioning" passphrase,
# holding files; B, blank. The test tool luks-provision (the disk work of `vmattest provision`
# with the key from a file: no escrow) runs in the guest while A is open and mounted. Two boots of
# the same disks:
#   1  the tool (key 1) is killed with SIGKILL in the middle of the online reencryption; a rerun
#      in the same boot refuses and says why; the VM goes down as a crash would
#   2  the provisioning passphrase still opens A; the tool runs again with a new key (key 2),
#      resumes, converges
# The host checks what the guest reports: the provisioning passphrase, the image's volume key
# (luksDump --dump-volume-key on the host, before) and key 1 open nothing, key 2 opens A (its
# only keyslot) and B, A's files are intact, B is LUKS2, and a third run finds nothing to do.
. "$(dirname "$0")/lib.sh"
plan 16

missing=$(vm_missing_tools)
if [ -n "$missing" ]; then
        not_ok "VM test tools: $missing"
        exit 1
fi
TOOL=${LUKS_PROVISION:-$VM_ROOT/build/release/tests/tools/luks-provision}
[ -x "$TOOL" ] || { not_ok "no $TOOL (make tests-build)"; exit 1; }
t0=$EPOCHREALTIME

vm_step kernel vm_kernel || { not_ok "kernel"; exit 1; }
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test configuration"; exit 1; }
# vm_initrd keys its cache on these; the module vmattest is not in this initrd
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest"
# systemd's initrd mounting a plain ext4 root from virtio: nothing of vmattest's
VM_DRACUT_MODULES="systemd systemd-initrd systemd-udevd udev-rules dracut-systemd bash qemu rootfs-block"
if vm_step initrd vm_initrd "$TEST_TMP/initrd.img"; then
        ok "dracut builds a plain initrd ($(du -m "$TEST_TMP/initrd.img" | cut -f1) MB)"
else
        not_ok "dracut builds a plain initrd"; exit 1
fi

cd "$TEST_TMP" || exit 1
# the guest's root: busybox, cryptsetup, kmod's modprobe with device-mapper's and the crypto API's
# modules, the test tool; the keys as files (a test: the real command makes and escrows its own)
marker="vmattest-provision-$RANDOM$RANDOM"
vm_rootfs rootfs "$marker" || { not_ok "root file system"; exit 1; }
install -m 0755 "$VM_ROOT/tests/vm/guest/provision-init.sh" rootfs/sbin/init
vm_root_add_programs rootfs /sbin/cryptsetup /sbin/dmsetup /usr/bin/kmod=/sbin/modprobe "$TOOL=/usr/bin/luks-provision" ||
        { not_ok "programs in the root"; exit 1; }
kmods="rootfs/lib/modules/$VM_KVER"
for d in kernel/drivers/md kernel/crypto kernel/lib kernel/arch/x86/crypto; do
        mkdir -p "$kmods/$(dirname "$d")" && cp -R "$VM_KMODDIR/$d" "$kmods/$d"
done
cp "$VM_KMODDIR"/modules.order "$VM_KMODDIR"/modules.builtin* "$kmods/" 2>/dev/null
depmod -b rootfs "$VM_KVER" || { not_ok "depmod of the root's modules"; exit 1; }
printf 'image-builder-provisioning-%s' "$(openssl rand -hex 8)" >rootfs/etc/vmattest-test/provisioning.key
for k in key1 key2; do openssl rand -hex 32 | tr -d '\n' >rootfs/etc/vmattest-test/$k; done

# A: the image builder's volume, files of known digests; B: blank
mkdir -p a-files/etc a-files/data
cp "$VM_ROOT/README.md" a-files/etc/readme
head -c $((12 * 1024 * 1024)) /dev/urandom >a-files/data/blob
echo "$marker" >a-files/marker
(cd a-files && find . -type f | LC_ALL=C sort | while read -r f; do echo "$f $(sha256sum <"$f" | cut -c1-64)"; done) >files.expected
vm_step luks-image vm_luks_image a.img rootfs/etc/vmattest-test/provisioning.key a-files || { not_ok "volume A"; exit 1; }
# the image's volume key, as anyone holding the image reads it (no device-mapper needed)
cryptsetup luksDump --dump-volume-key --batch-mode --key-file rootfs/etc/vmattest-test/provisioning.key \
        --volume-key-file image-volume-key a.img >/dev/null 2>&1 || { not_ok "the image's volume key"; exit 1; }
truncate -s 48M b.img
cp image-volume-key rootfs/etc/vmattest-test/image-volume-key
truncate -s $(( $(du -sm rootfs | cut -f1) * 3 / 2 + 32 ))M root.img
mkfs.ext4 -q -F -d rootfs root.img || { not_ok "root image"; exit 1; }
ok "root, A ($(du -m --apparent-size a.img | cut -f1) MB LUKS2, provisioning passphrase) and B (48 MB blank)"

# qemu wants a vTPM on its socket (vm_boot); nothing here uses it
mkdir -p "$TEST_TMP/tpm" && swtpm_setup --tpm2 --tpmstate "$TEST_TMP/tpm" --overwrite >/dev/null 2>&1 || { not_ok "swtpm"; exit 1; }
VM_EXTRA_DRIVES=("$TEST_TMP/a.img" "$TEST_TMP/b.img")
# boot NAME PHASE: a boot of the guest with the three disks as they are
boot() {
        local boot_t0=$EPOCHREALTIME
        vm_swtpm_run "$TEST_TMP/tpm" || return 1
        vm_boot "$1" initrd.img root.img "$TEST_TMP/tpm" "$(random_port)" \
                "root=/dev/vda rootfstype=ext4 rw fsck.mode=skip vmattest_test.phase=$2 ${VM_TEST_DEBUG:+vmattest_test.debug=1}"
        vm_wait; qemu_rc=$?
        printf '# step %-24s %6.1f s\n' "boot $2" "$(awk "BEGIN { print $EPOCHREALTIME - $boot_t0 }")"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-PROV:' | sed 's/^/#   /' | cut -c1-200
}
says() { vm_console_line "^VMATTEST-PROV: $1\$" >/dev/null; }
expected=$(sha256sum <files.expected | cut -c1-64)

# ---- boot 1: the first boot, killed in the middle of the reencryption ------------------------------
boot interrupted 1
if says "phase 1: $marker" && says "phase 1: provisioning opens A: yes" && says "phase 1: A mounted: yes" &&
        says "before: image volume key opens A: yes" && says "phase 1: files: $expected"; then
        ok "the guest opened and mounted A with the provisioning passphrase; the image's volume key opens it; its files are the image's"
else
        not_ok "the guest opened and mounted A"; tr -d '\r' <"$VM_CONSOLE" | tail -n 30 | diag
fi
if says "run 1 killed: exit 137" && says "interrupted mid-reencryption: yes"; then
        ok "run 1 was killed (SIGKILL) in the middle of the online reencryption of the mounted A"
else
        not_ok "run 1 was killed in the middle of the online reencryption"
fi
if says "same-boot rerun exit 1" && vm_console_line "^VMATTEST-PROV: same-boot rerun: .*left the mapping prov-a-[a-z-]* behind: reboot" >/dev/null; then
        ok "a rerun in the same boot refuses and says why (the killed run's helper mappings; reboot)"
else
        not_ok "a rerun in the same boot refuses and says why"
fi
expect_equal "boot 1 went down (as a crash: no sync)" "$qemu_rc" 0

# ---- boot 2: the interrupted first boot runs again with a new key ---------------------------------
boot resumed 2
if says "phase 2: provisioning opens A: yes" && says "phase 2: A mounted: yes" && says "phase 2: files: $expected"; then
        ok "after the interruption the provisioning passphrase still opens A, its files intact"
else
        not_ok "after the interruption the provisioning passphrase still opens A, its files intact"
        tr -d '\r' <"$VM_CONSOLE" | tail -n 30 | diag
fi
if says "run 2 exit 0" && vm_console_line '^VMATTEST-PROV: run 2: .*resuming the reencryption' >/dev/null &&
        vm_console_line '^VMATTEST-PROV: run 2: .*the LUKS2 volume of /mnt/a: /dev/vdb, open as prov-a' >/dev/null; then
        ok "run 2 with a new key found A from its mount point, resumed the online reencryption and finished"
else
        not_ok "run 2 with a new key resumed the online reencryption and finished"
fi
if [ "$(vm_console_line '^VMATTEST-PROV: run 2 progress lines: ' | sed 's/.*: //')" -ge 1 ] 2>/dev/null &&
        vm_console_line '^VMATTEST-PROV: run 2: .*re-encrypting under a fresh volume key: [0-9]+% \([0-9]+ of [0-9]+ MiB\)' >/dev/null; then
        ok "the reencryption printed progress lines (percent)"
else
        not_ok "the reencryption printed progress lines"
fi
if says "files intact while mounted: yes" && says "A closed: yes"; then
        ok "A's files stayed intact while mounted through the reencryption"
else
        not_ok "A's files stayed intact while mounted through the reencryption"
fi
if says "after: provisioning opens A: no" && says "after: image volume key opens A: no"; then
        ok "neither the provisioning passphrase nor the image's volume key opens A any more"
else
        not_ok "neither the provisioning passphrase nor the image's volume key opens A any more"
fi
if says "after: key 1 opens A: no" && says "after: key 1 opens B: no"; then
        ok "the killed run's key opens nothing"
else
        not_ok "the killed run's key opens nothing"
fi
if says "after: key 2 opens A: yes" && says "after: key 2 opens B: yes" && says "after: keyslots of A: 1"; then
        ok "the second run's key opens A (its only keyslot) and B"
else
        not_ok "the second run's key opens A (its only keyslot) and B"
fi
if says "after: B is LUKS2 subsystem vmattest"; then
        ok "B is LUKS2, committed (subsystem vmattest)"
else
        not_ok "B is LUKS2, committed"
fi
expect_equal "A's files, opened with the instance key, are the image's" \
        "$(vm_console_line '^VMATTEST-PROV: files after, opened with key 2: ' | sed 's/.*: //')" "$expected"
if says "rerun check exit 3" && [ "$qemu_rc" -eq 0 ] && says "powering off"; then
        ok "a third run finds nothing left to do; the VM powered off by itself"
else
        not_ok "a third run finds nothing left (qemu exit $qemu_rc, 124: timeout)"
        tr -d '\r' <"$VM_CONSOLE" | tail -n 30 | diag
fi
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
