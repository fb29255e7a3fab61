# A real Debian 12 cloud guest, built as an image builder builds one; sourced by tests/vm tests
# after tests/vm/lib.sh (vm_kernel, vm_swtpm, vm_step) and tests/package/debs.sh (the .debs,
# the cached debootstrap root).
#
# guest_image: debootstrap bookworm (systemd, udev, cloud-init, dracut, cryptsetup and what the
# packages depend on; cached by tests/package/debs.sh), the Debian kernel the VM tests download
# (vm_kernel: its .deb installed with apt, as linux-image-amd64 would), then `apt install` of
# this tree's vmattest and vmattest-dracut .debs in the chroot, and the initrd made by the
# guest's own dracut inside the chroot (/proc, /sys, /dev bound). Then the disk: the root tree as
# ext4 (mkfs.ext4 -d) encrypted into LUKS2 in a plain file (cryptsetup reencrypt --encrypt
# --reduce-device-size: offline, no device-mapper on the host), under the image builder's
# PROVISIONING KEY: /etc/cryptsetup-keys.d/provisioning.key, named by the image's /etc/crypttab,
# both put into the initrd by dracut's install_items, so that the first boot opens the root
# without a human and without the tenant. Every instance made from the image shares that key
# and the LUKS volume key: `vmattest provision` (first boot) re-encrypts the root under a fresh
# key and drops the provisioning slot. The test's key is a fixed text and the keyslot uses
# PBKDF2 with 1000 iterations (Argon2's memory cost under TCG would add seconds to each boot):
# a test image's choices, not an image builder's.
#
# The image's provisioning initrd leaves out the module 90vmattest
# (/etc/dracut.conf.d/90-vmattest-provisioning.conf): without the tenant's agent.conf, `vmattest
# unlock` has no volume to unlock and powers the VM off (FailureAction=poweroff). The first
# boot's rebuild of the initrd, once enrolled, is the one that includes it.
#
# Cached under $CACHE/debian-guest/KEY (vmlinuz, initrd.img, root.img, fs-uuid), KEY hashing
# every input: this file, the package list, suite and mirror, the .debs, the kernel .deb.
# guest_boot: OVMF + swtpm + qemu TCG, direct kernel boot of the guest's own kernel and
# initrd, the root, a blank data disk and a NoCloud seed ("cidata" ISO) as virtio disks,
# user networking, serial console.

# python3-cffi-backend by name: debootstrap does not resolve the virtual packages
# python3-cryptography (cloud-init's) depends on, python3-cffi-backend-api-min/max
GUEST_PACKAGES="systemd-sysv udev cloud-init python3-cffi-backend dracut cryptsetup linux-base kmod zstd e2fsprogs iproute2"
GUEST_PROVISIONING_KEY="vmattest test image: provisioning key"
GUEST_TIMEOUT=${GUEST_TIMEOUT:-900}

# guest_chroot ROOT CMD...: CMD inside ROOT with /proc, /sys and /dev mounted, in a mount
# namespace of its own (nothing stays mounted when it ends)
guest_chroot() {
        local root=$1; shift
        unshare --mount --propagation private -- sh -c 'r=$1; shift
                mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" && mount --rbind /dev "$r/dev" &&
                exec chroot "$r" "$@"' sh "$root" "$@"
}

# guest_logged LOG CMD...: CMD with its output appended to LOG
guest_logged() {
        local log=$1; shift
        "$@" >>"$log" 2>&1
}

# guest_configure ROOT FS_UUID LUKS_UUID: what the image builder writes before the packages go
# in: crypttab and its key, fstab, dracut's configuration, cloud-init's data sources, the
# services a test boot under TCG can do without
guest_configure() {
        local root=$1 fs_uuid=$2 luks_uuid=$3 unit
        echo vmattest-guest >"$root/etc/hostname"
        printf '127.0.0.1 localhost\n127.0.1.1 vmattest-guest\n' >"$root/etc/hosts"
        printf 'UUID=%s / ext4 defaults,errors=remount-ro 0 1\n' "$fs_uuid" >"$root/etc/fstab"
        # no service starts in the chroot
        printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 0755 "$root/usr/sbin/policy-rc.d"
        install -d -m 0700 "$root/etc/cryptsetup-keys.d"
        printf '%s' "$GUEST_PROVISIONING_KEY" >"$root/etc/cryptsetup-keys.d/provisioning.key"
        chmod 0400 "$root/etc/cryptsetup-keys.d/provisioning.key"
        cat >"$root/etc/crypttab" <<EOF
# the image builder's provisioning key opens the root until vmattest's first boot replaces it
root UUID=$luks_uuid /etc/cryptsetup-keys.d/provisioning.key luks,discard
EOF
        cat >"$root/etc/dracut.conf.d/10-image.conf" <<'EOF'
# a generic initrd (the image boots on hardware the builder never saw), zstd, with the root's
# crypttab (hostonly=no leaves it out otherwise; the provisioning key: 90-vmattest-provisioning)
hostonly="no"
# zstd's level 3: dracut's own choice for zstd (-15) takes 85 s of the first boot's rebuild under TCG
compress="zstd -3 -q -T0"
early_microcode="no"
add_dracutmodules+=" crypt "
install_items+=" /etc/crypttab "
omit_dracutmodules+=" plymouth i18n btrfs lvm mdraid dmraid multipath nfs iscsi fcoe fcoe-uefi nbd cifs "
EOF
        cat >"$root/etc/dracut.conf.d/90-vmattest-provisioning.conf" <<'EOF'
# The image's provisioning initrd: no vmattest module until the first boot has configured and
# enrolled the agent (without the tenant's agent.conf, `vmattest unlock` would power off), and
# the provisioning key that opens the root until then. `vmattest first-boot` removes this file
# and the key once the root is re-encrypted under the instance's own key, then rebuilds the initrd.
omit_dracutmodules+=" vmattest "
install_items+=" /etc/cryptsetup-keys.d/provisioning.key "
EOF
        mkdir -p "$root/etc/cloud/cloud.cfg.d"
        cat >"$root/etc/cloud/cloud.cfg.d/90-vmattest-image.cfg" <<'EOF'
# the test image: NoCloud (the "cidata" volume) only, no search of other clouds' metadata;
# no SSH server (no host keys to make); no locale set: cloud-init would rewrite
# /etc/default/locale per instance, a file root reads at every boot and the image's runtime
# policy pins (C.UTF-8 is libc's own, no locales package)
datasource_list: [ NoCloud, None ]
ssh_genkeytypes: []
locale: false
# no default user: cloud-init would add one to /etc/passwd, /etc/group and /etc/shadow per
# instance, files root reads at every boot and the image's runtime policy pins
users: []
EOF
        guest_add_probe "$root" || return 1
        # timers and jobs a short test boot does not need (they compete for the TCG CPU)
        for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
                fstrim.timer man-db.timer systemd-timesyncd.service; do
                ln -sf /dev/null "$root/etc/systemd/system/$unit"
        done
}

# guest_add_probe ROOT: TEST ONLY. Boot 2's probe for tests/vm/test-boot-cloud.sh, in the image
# before its runtime policy is made (a script cloud-init wrote per instance would run from
# /var/lib/cloud, which the policy does not list). vmattest-test-boot2.service runs it at a boot
# without the provisioning key (the instance's boots after the first; the first removes the key
# late, from cloud-init's final stage, long after this unit's condition was checked). It prints
# what is mapped and the runtime agent's state, waits until the runtime agent answered the
# verifier's integrity quote requests 4 times (the test wants 3 polls after it saw the agent
# active, a line before), runs /usr/local/bin/vmattest-probe (changed after
# the policy was made: guest_image), waits for the verifier's next polls, writes the IMA list to
# the scratch disk (vdd: its length, a newline, the list) and powers off. The journal is read as
# nobody in group systemd-journal: root's reads are measured, and root opening a journal file
# journald holds open for write is an IMA violation (open_writers), which the verifier refuses.
# /usr/local/bin/vmattest-probe starts as a copy of /usr/bin/true.
guest_add_probe() {
        local root=$1
        install -D -m 0755 "$root/usr/bin/true" "$root/usr/local/bin/vmattest-probe" || return 1
        mkdir -p "$root/usr/local/sbin"
        cat >"$root/usr/local/sbin/vmattest-test-boot2" <<'EOF'
#!/bin/sh
# TEST ONLY: boot 2's probe for tests/vm/test-boot-cloud.sh (see tests/vm/debian-guest.sh)
answered() {
        setpriv --reuid=nobody --regid=systemd-journal --clear-groups -- \
                journalctl -b -q -o cat -u vmattest.service | grep -c 'quotes/integrity.* -> 200 '
}
{
        echo "boot 2 mapped: $(cd /dev/mapper && ls | grep -v control | tr '\n' ' ')"
        echo "boot 2 root device: $(findmnt -no SOURCE /) $(lsblk -no TYPE "$(findmnt -no SOURCE /)")"
        echo "boot 2 data volume: $(lsblk -no TYPE /dev/mapper/vmattest-vdb 2>&1)"
        for i in $(seq 60); do systemctl is-active -q vmattest.service && break; sleep 1; done
        echo "boot 2 runtime agent: $(systemctl is-active vmattest.service)"
        for i in $(seq 120); do [ "$(answered)" -ge 4 ] && break; sleep 1; done
        echo "boot 2 integrity quotes answered: $(answered)"
        /usr/local/bin/vmattest-probe
        echo "boot 2 changed program ran (exit $?)"
        sleep 15
        cat /sys/kernel/security/ima/ascii_runtime_measurements >/run/vmattest-test-ima
        { wc -c </run/vmattest-test-ima; cat /run/vmattest-test-ima; } | dd of=/dev/vdd bs=1M conv=fsync status=none
        echo "boot 2 IMA entries: $(wc -l </run/vmattest-test-ima)"
        echo "boot 2 done"
} 2>&1 | sed 's/^/VMATTEST-GUEST: /' >/dev/console
systemctl --no-block poweroff
EOF
        chmod 0755 "$root/usr/local/sbin/vmattest-test-boot2"
        cat >"$root/etc/systemd/system/vmattest-test-boot2.service" <<'EOF'
# TEST ONLY: boot 2's probe for tests/vm/test-boot-cloud.sh (see tests/vm/debian-guest.sh)
[Unit]
Description=vmattest test image: boot 2's probe
ConditionPathExists=!/etc/cryptsetup-keys.d/provisioning.key

[Service]
Type=exec
ExecStart=/usr/local/sbin/vmattest-test-boot2

[Install]
WantedBy=multi-user.target
EOF
        mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
        ln -sf ../vmattest-test-boot2.service "$root/etc/systemd/system/multi-user.target.wants/"
}

# guest_disk ROOT IMG FS_UUID LUKS_UUID KEYFILE: ROOT as ext4 (FS_UUID) in a LUKS2 container
# (LUKS_UUID, KEYFILE) in the file IMG, with a third of the tree's size free; no device-mapper
guest_disk() {
        local root=$1 img=$2 fs_uuid=$3 luks_uuid=$4 key=$5 mb
        mb=$(( $(du -sm "$root" | cut -f1) * 3 / 2 + 64 ))
        rm -f "$img" && truncate -s $((mb + 16))M "$img"
        # the file system 16 MiB smaller than the file: LUKS2's header takes that room
        mkfs.ext4 -q -F -U "$fs_uuid" -L root -d "$root" "$img" ${mb}M || return 1
        cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode --uuid "$luks_uuid" \
                --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$key" "$img" >/dev/null
}

# GUEST_POLICY_EXCLUDES: the runtime policy's excludes, each a path written per instance (or per
# boot) that IMA measures at the instance's boots after the first: root reads it (ima-policy/
# vmattest.policy measures what root reads on disk), so its digest is the instance's, not the
# image's. An exclude lets anything at its paths pass, what runs from there too: none matches a
# directory programs run from.
GUEST_POLICY_EXCLUDES=(
        # journald (root) opens its files read-write as they grow
        '/var/log/journal/'
        # systemd-random-seed (root) reads and rewrites it at every boot
        '/var/lib/systemd/random-seed$'
        # cloud-init (root) reads back its state of the instance at every boot (obj.pkl, the
        # instance's user-data, data/instance-id, ...); not instances/ID/scripts/, where the
        # instance's runcmd is: a script run from there is named by the verifier
        '/var/lib/cloud/data/'
        '/var/lib/cloud/instances/[^/]+/[^/]+$'
        # cloud-init (root) reads the NoCloud seed's files at every boot, the ISO mounted at a
        # temporary directory: the tenant's user-data and the instance's meta-data
        '/run/cloud-init/tmp/tmp[^/]+/(user-data|meta-data|vendor-data|network-config)$'
        # systemd-sysusers (root) rewrites /etc/group and /etc/gshadow at every boot when a
        # sysusers.d file has an "m" line (vmattest.sysusers: m vmattest tss), through temporary
        # files of random names it opens read-write, empty when measured
        '/etc/\.#(group|gshadow)[^/]+$'
        # apparmor.service (root) compiles the profiles of /etc/apparmor.d (listed) for the
        # running kernel's features at the first boot and loads that cache at the boots after
        '/var/cache/apparmor/'
        # cloud-init's resizefs module (root) makes it empty at every boot to test the root is
        # writable, and reads it
        '/\.ismount-test-file$'
        # vmattest first-boot writes the instance's volumes there (their LUKS UUIDs, no key file);
        # systemd's cryptsetup generator (root) reads it at every boot
        '(/sysroot)?/etc/crypttab$'
        # vmattest first-boot writes the tenant's keys into agent.conf and its record of the first
        # boot; the cloud-init hook (root) reads both at every boot (first-boot --check-done)
        '/etc/vmattest/agent\.conf$'
        '/var/lib/vmattest/first-boot$'
)

# guest_runtime_policy ROOT OUT: the tenant's runtime policy (Keylime's format) for the instances
# of the image tree ROOT, made with vmattest-policy as an image builder makes it:
#   - the tree, each file under its path there (vmattest-policy runtime --rootfs);
#   - the tree again under /sysroot: systemd in the initrd reads some of the root's files (fstab,
#     os-release) as root before switch-root, and IMA records the path it opened;
#   - the files of the initrd the instance's first boot builds (dracut --force --add vmattest,
#     once vmattest first-boot removed the provisioning dracut file): such an initrd is built
#     here in the chroot with the image's dracut configuration less that file (--confdir), unpacked
#     (lsinitrd --unpack), and its tree hashed: what runs in the initrd after unlock loaded the
#     IMA policy is logged under its path there, which may differ from the root's (dracut
#     installs modules.d/*/x.sh as /usr/bin/x, and the like); the instance's dracut, from the
#     same files and configuration, makes the same files.
# Each step --merge's the one before; GUEST_POLICY_EXCLUDES go into the policy.
guest_runtime_policy() {
        local root=$1 out=$2 work=$TEST_TMP/runtime-policy exclude=() regex conf
        for regex in "${GUEST_POLICY_EXCLUDES[@]}"; do exclude+=(--exclude "$regex"); done
        rm -rf "$work" && mkdir -p "$work/initrd" "$work/view" "$root/tmp/instance-dracut.conf.d" || return 1
        for conf in "$root"/etc/dracut.conf.d/*.conf; do
                [ "${conf##*/}" = 90-vmattest-provisioning.conf ] || cp "$conf" "$root/tmp/instance-dracut.conf.d/" || return 1
        done
        # the module installs the CAs agent.conf names (the packaged one: registrar-ca.pem and
        # verifier-ca.pem; the instance's: the tenant's verifier-ca.pem), which the image does not
        # have: placeholders (read from the initrd's memory, never measured)
        mkdir -p "$root/tmp/instance-vmattest" && cp "$root"/etc/vmattest/* "$root/tmp/instance-vmattest/" &&
                echo "placeholder: the tenant's CA comes at the first boot" >"$root/tmp/instance-vmattest/verifier-ca.pem" &&
                cp "$root/tmp/instance-vmattest/verifier-ca.pem" "$root/tmp/instance-vmattest/registrar-ca.pem" || return 1
        if ! guest_logged "$TEST_TMP/guest-build.log" guest_chroot "$root" env VMATTEST_CONFDIR=/tmp/instance-vmattest \
                dracut --force --confdir /tmp/instance-dracut.conf.d --add vmattest --kver "$VM_KVER" /tmp/initrd-instance.img; then
                echo "dracut --add vmattest in the guest root failed:" >&2; tail -n 30 "$TEST_TMP/guest-build.log" >&2; return 1
        fi
        (cd "$work/initrd" && lsinitrd --unpack "$root/tmp/initrd-instance.img" >/dev/null 2>&1)
        rm -rf "$root/tmp/instance-dracut.conf.d" "$root/tmp/instance-vmattest" "$root/tmp/initrd-instance.img"
        [ -s "$work/initrd/usr/lib/systemd/system/vmattest-unlock.service" ] ||
                { echo "the instance's initrd has no vmattest module (see $TEST_TMP/guest-build.log)" >&2; return 1; }
        "$VMATTEST_POLICY" runtime -q --rootfs "$root" "${exclude[@]}" --timestamp image -o "$work/root.json" &&
                cp -al "$root" "$work/view/sysroot" &&
                "$VMATTEST_POLICY" runtime -q --rootfs "$work/view" --merge "$work/root.json" --timestamp image \
                        -o "$work/sysroot.json" &&
                "$VMATTEST_POLICY" runtime -q --rootfs "$work/initrd" --merge "$work/sysroot.json" --timestamp image -o "$out" ||
                return 1
        echo "# runtime policy: $(jq '.digests | length' "$out") paths, $(jq '.excludes | length' "$out") excludes"
        rm -rf "$work"
}

# guest_image: the image, from the cache when its inputs did not change. Sets GUEST_VMLINUZ,
# GUEST_INITRD, GUEST_ROOT (the LUKS2 root image; copy it before booting), GUEST_FS_UUID,
# GUEST_RUNTIME_POLICY (the tenant's runtime policy for the image's instances) and
# GUEST_CHANGED_PROGRAM ("PATH SHA-256": the program changed after the policy was made).
guest_image() {
        local include key dir tmp root log kdeb fs_uuid luks_uuid drivers
        pkg_debs >/dev/null || return 1
        vm_kernel || return 1
        kdeb=$(ls "$CACHE/${KPKG}"_*_amd64.deb | sort -V | tail -n1)
        # the guest gets the agent and its dracut module, not the verifier
        PKG_DEBS=("${PKG_DEBS[0]}" "${PKG_DEBS[1]}")
        # shellcheck disable=SC2086 # GUEST_PACKAGES: a list
        include=$( { pkg_depends; printf '%s\n' $GUEST_PACKAGES; } | LC_ALL=C sort -u | paste -sd,)
        key=$({ sha256sum "$VM_ROOT/tests/vm/debian-guest.sh" "${PKG_DEBS[0]}" "${PKG_DEBS[1]}" "$kdeb" "$VMATTEST_POLICY" |
                        cut -c1-64
                echo "$PKG_SUITE|$DEBIAN_MIRROR|$include"; } | sha256sum | cut -c1-16)
        dir="$CACHE/debian-guest/$key"
        GUEST_VMLINUZ=$dir/vmlinuz GUEST_INITRD=$dir/initrd.img GUEST_ROOT=$dir/root.img
        GUEST_RUNTIME_POLICY=$dir/runtime-policy.json GUEST_CHANGED_PROGRAM=$dir/changed-program
        if [ -e "$dir/.complete" ]; then
                GUEST_FS_UUID=$(cat "$dir/fs-uuid")
                echo "# cached guest image $dir"
                return 0
        fi
        tmp="$dir.tmp.$$" root="$TEST_TMP/guest-root" log="$TEST_TMP/guest-build.log"
        rm -rf "$tmp" "$root" && mkdir -p "$tmp"
        vm_step guest-debootstrap pkg_debootstrap "$root" guest "$include" || return 1
        fs_uuid=$(cat /proc/sys/kernel/random/uuid) luks_uuid=$(cat /proc/sys/kernel/random/uuid)
        guest_configure "$root" "$fs_uuid" "$luks_uuid" || return 1
        mkdir -p "$root/tmp/debs" && cp "${PKG_DEBS[0]}" "${PKG_DEBS[1]}" "$kdeb" "$root/tmp/debs/" || return 1
        # the packages as an image builder installs them (INITRD=No: the kernel's postinst leaves
        # the initrd to the step after, /etc/kernel/postinst.d/dracut would build it once more)
        if ! vm_step guest-apt-install guest_logged "$log" guest_chroot "$root" sh -c \
                'DEBIAN_FRONTEND=noninteractive apt-get install -y /tmp/debs/vmattest*.deb &&
                 INITRD=No DEBIAN_FRONTEND=noninteractive apt-get install -y /tmp/debs/linux-image-*.deb'; then
                echo "apt install in the guest root failed:" >&2; tail -n 30 "$log" >&2; return 1
        fi
        # the root small (the first boot re-encrypts all of it, under TCG): no drivers for hardware
        # a qemu guest never has
        rm -rf "$root/lib/modules/$VM_KVER/kernel/sound" "$root/lib/modules/$VM_KVER/kernel/net/wireless" \
                "$root/lib/modules/$VM_KVER/kernel/net/mac80211" "$root/lib/modules/$VM_KVER/kernel/net/bluetooth"
        for drivers in gpu media infiniband net/wireless net/ethernet staging iio usb bluetooth isdn mtd video hwmon \
                comedi net/can scsi/qla2xxx scsi/lpfc scsi/mpt3sas scsi/be2iscsi scsi/bfa scsi/qedf scsi/qedi; do
                rm -rf "$root/lib/modules/$VM_KVER/kernel/drivers/$drivers"
        done
        guest_logged "$log" guest_chroot "$root" depmod "$VM_KVER" || return 1
        # cloud-init renders the instance's network for systemd-networkd (no ifupdown, no netplan)
        systemctl --root "$root" enable systemd-networkd.service >>"$log" 2>&1 || return 1
        # the initrd, by the guest's own dracut with the configuration above
        if ! vm_step guest-dracut guest_logged "$log" guest_chroot "$root" dracut --force --kver "$VM_KVER" \
                "/boot/initrd.img-$VM_KVER"; then
                echo "dracut in the guest root failed:" >&2; tail -n 30 "$log" >&2; return 1
        fi
        cp "$root/boot/vmlinuz-$VM_KVER" "$tmp/vmlinuz" && cp "$root/boot/initrd.img-$VM_KVER" "$tmp/initrd.img" || return 1
        rm -rf "$root/tmp/debs" "$root/usr/sbin/policy-rc.d" "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*_* \
                "$root"/usr/share/doc/* "$root"/usr/share/man/*
        # the tenant's runtime policy, from the finished tree; then a program of the image changes
        vm_step guest-runtime-policy guest_runtime_policy "$root" "$tmp/runtime-policy.json" || return 1
        rm -f "$root/usr/local/bin/vmattest-probe" && install -m 0755 "$root/usr/bin/false" "$root/usr/local/bin/vmattest-probe" &&
                printf '/usr/local/bin/vmattest-probe %s\n' "$(sha256sum <"$root/usr/local/bin/vmattest-probe" | cut -c1-64)" \
                >"$tmp/changed-program" || return 1
        printf '%s' "$GUEST_PROVISIONING_KEY" >"$TEST_TMP/provisioning.key"
        vm_step guest-disk guest_disk "$root" "$tmp/root.img" "$fs_uuid" "$luks_uuid" "$TEST_TMP/provisioning.key" ||
                return 1
        echo "$fs_uuid" >"$tmp/fs-uuid"
        rm -rf "$root"
        touch "$tmp/.complete"
        rm -rf "$dir" && mv "$tmp" "$dir"
        # keep the two newest images
        ls -dt "$CACHE"/debian-guest/* | grep -v '\.tmp\.' | tail -n +3 | xargs -r rm -rf
        GUEST_FS_UUID=$(cat "$dir/fs-uuid")
        echo "# built guest image $dir (root $(du -m --apparent-size "$dir/root.img" | cut -f1) MB," \
                "initrd $(du -m "$dir/initrd.img" | cut -f1) MB)"
}

# guest_seed ISO USER-DATA-FILE: a NoCloud seed, an ISO 9660 volume "cidata" holding user-data
# and meta-data (instance-id vmattest-test-<random>: each seed is a new instance)
guest_seed() {
        local iso=$1 dir
        dir=$(mktemp -d "$TEST_TMP/seed.XXXXXX")
        cp "$2" "$dir/user-data"
        printf 'instance-id: vmattest-test-%s\nlocal-hostname: vmattest-guest\n' "$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')" \
                >"$dir/meta-data"
        genisoimage -quiet -output "$iso" -volid cidata -joliet -rock "$dir/user-data" "$dir/meta-data"
}

# guest_boot NAME ROOT DATA SEED TPMDIR [HOSTFWD-PORT [SCRATCH]]: boots the guest in the
# background (GUEST_TIMEOUT bound); VM_QEMU_PID and VM_CONSOLE as vm_boot sets them. HOSTFWD-PORT:
# the host's 127.0.0.1:PORT reaches the guest's agent port 9002 (the verifier's way to the
# agent); SCRATCH: a fourth virtio disk (vdd) for the guest to hand files out on. The initrd:
# GUEST_BOOT_INITRD, else the image's.
guest_boot() {
        local name=$1 root=$2 data=$3 seed=$4 tpm=$5 fwd=${6:-} scratch=${7:-} extra=()
        [ -z "$scratch" ] || extra=(-drive file="$scratch",if=virtio,format=raw)
        VM_CMDLINE="console=ttyS0 root=UUID=$GUEST_FS_UUID ro panic=-1"
        VM_CONSOLE="$TEST_TMP/$name.console"
        cp "$OVMF_VARS" "$TEST_TMP/$name.vars.fd"
        : >"$VM_CONSOLE"
        timeout -k 5 "$GUEST_TIMEOUT" qemu-system-x86_64 \
                -machine q35 -accel tcg -smp 2 -m 1024 -nodefaults -display none -no-reboot \
                -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
                -drive if=pflash,format=raw,file="$TEST_TMP/$name.vars.fd" \
                -chardev socket,id=chrtpm,path="$tpm/swtpm.sock" \
                -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
                -drive file="$root",if=virtio,format=raw \
                -drive file="$data",if=virtio,format=raw \
                -drive file="$seed",if=virtio,format=raw,readonly=on "${extra[@]}" \
                -netdev user,id=n0${fwd:+,hostfwd=tcp:127.0.0.1:$fwd-:9002} -device virtio-net-pci,netdev=n0 \
                -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
                -serial file:"$VM_CONSOLE" \
                -kernel "$GUEST_VMLINUZ" -initrd "${GUEST_BOOT_INITRD:-$GUEST_INITRD}" -append "$VM_CMDLINE" \
                >"$TEST_TMP/$name.qemu.log" 2>&1 &
        VM_QEMU_PID=$!
        vm_pids+=("$VM_QEMU_PID")
}
