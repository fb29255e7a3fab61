#!/bin/busybox sh
# TEST ONLY: /sbin/init of the plain test root that tests/vm/test-provision.sh boots, with two
# more disks: /dev/vdb (A, an image builder's LUKS2 volume under the provisioning passphrase,
# holding files) and /dev/vdc (B, blank). It reports each result in a console line
# "VMATTEST-PROV: ..." for the host to check, then powers off. By vmattest_test.phase:
#   1  opens and mounts A with the provisioning passphrase and runs the disk work of `vmattest
#      provision` (the test tool luks-provision: key 1 from a file, no escrow) while A is
#      mounted; kills it (SIGKILL) once the online reencryption is under way; a second run in
#      the same boot must refuse and say why; then the VM goes down as a crash would (no sync)
#   2  the next boot: the provisioning passphrase still opens A (its activation recovers the
#      interrupted step); A mounted, the tool runs again with a new key (key 2), resumes,
#      converges; then what opens A and B, A's files, and a third run finds nothing left
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# no udev in this root: libdevmapper makes the /dev/mapper nodes itself
export DM_DISABLE_UDEV=1
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
say() { echo "VMATTEST-PROV: $*"; }
arg() { sed -n "s/.*vmattest_test\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
T=/etc/vmattest-test
A=/dev/vdb B=/dev/vdc
mkdir -p /run/cryptsetup /mnt/a /mnt/check
yesno() { if "$@" >/dev/null 2>&1; then echo yes; else echo no; fi; }
opens() { cryptsetup open --test-passphrase --key-file "$1" "$2"; } # KEYFILE DEVICE
vk_opens() { cryptsetup open --test-passphrase --volume-key-file $T/image-volume-key "$A"; }
reencrypting() { cryptsetup luksDump "$A" | grep -q 'online-reencrypt'; }
files() { (cd "$1" && find . -type f | sort | while read -r f; do echo "$f $(sha256sum <"$f" | cut -c1-64)"; done); }
provision() { # LOG KEYFILE [OPTION...]
        local log=$1 key=$2; shift 2
        LUKS_PROVISION_DEBUG=$(arg debug) luks-provision --key-file "$key" --provisioning-key-file $T/provisioning.key \
                --data "$B" "$@" >"$log" 2>&1
}
phase=$(arg phase)

say "phase $phase: $(cat $T/marker)"
modprobe dm_crypt || say "modprobe dm_crypt failed"
say "phase $phase: provisioning opens A: $(yesno opens $T/provisioning.key "$A")"
cryptsetup open --key-file $T/provisioning.key "$A" prov-a && mount /dev/mapper/prov-a /mnt/a
say "phase $phase: A mounted: $(yesno grep -q ' /mnt/a ' /proc/mounts)"
files /mnt/a >/run/files-now
say "phase $phase: files: $(sha256sum </run/files-now | cut -c1-64)"

if [ "$phase" = 1 ]; then
        say "before: image volume key opens A: $(yesno vk_opens)"
        # small reencryption steps, so that the kill comes while the reencryption runs
        provision /run/run1.log $T/key1 --root "$A:prov-a" --hotzone 65536 &
        run1=$!
        i=0
        while [ $i -lt 600 ] && kill -0 $run1 2>/dev/null && ! reencrypting; do sleep 0.05; i=$((i + 1)); done
        sleep 1
        kill -9 $run1 2>/dev/null
        wait $run1
        say "run 1 killed: exit $?"
        sed 's/^/VMATTEST-PROV: run 1: /' /run/run1.log | grep -v debug | tail -n 5
        say "interrupted mid-reencryption: $(yesno reencrypting)"
        say "helper mappings left: $(dmsetup info -c --noheadings -o name,attr 2>&1 | tr '\n' ' ')"
        provision /run/run1b.log $T/key2 --root "$A:prov-a"
        say "same-boot rerun exit $?"
        sed 's/^/VMATTEST-PROV: same-boot rerun: /' /run/run1b.log | grep -v debug | tail -n 3
        say "powering off without a sync (a crash)"
        poweroff -f
fi

# the volume found from its mount point, as `vmattest provision root` finds the root's
provision /run/run2.log $T/key2 --root-of /mnt/a
say "run 2 exit $?"
sed 's/^/VMATTEST-PROV: run 2: /' /run/run2.log | grep -v debug | tail -n 40
say "run 2 progress lines: $(grep -c '% (' /run/run2.log)"
files /mnt/a | cmp -s - /run/files-now && say "files intact while mounted: yes" || say "files intact while mounted: no"
umount /mnt/a && cryptsetup close prov-a
say "A closed: $(yesno test ! -e /dev/mapper/prov-a)"

luks-provision --check --provisioning-key-file $T/provisioning.key --root "$A" --data "$B" >/dev/null 2>&1
say "rerun check exit $?"
say "after: keyslots of A: $(cryptsetup luksDump "$A" | grep -c '^  [0-9]*: luks2')"
say "after: provisioning opens A: $(yesno opens $T/provisioning.key "$A")"
say "after: image volume key opens A: $(yesno vk_opens)"
say "after: key 1 opens A: $(yesno opens $T/key1 "$A")"
say "after: key 1 opens B: $(yesno opens $T/key1 "$B")"
say "after: key 2 opens A: $(yesno opens $T/key2 "$A")"
say "after: key 2 opens B: $(yesno opens $T/key2 "$B")"
say "after: B is $(cryptsetup luksDump "$B" | sed -n 's/^Version:[[:space:]]*/LUKS/p') subsystem $(cryptsetup luksDump "$B" | sed -n 's/^Subsystem:[[:space:]]*//p')"
cryptsetup open --key-file $T/key2 "$A" inst-a && mount -o ro /dev/mapper/inst-a /mnt/check
files /mnt/check >/run/files-after
say "files after, opened with key 2: $(sha256sum </run/files-after | cut -c1-64)"
umount /mnt/check; cryptsetup close inst-a
say "powering off"
poweroff -f
