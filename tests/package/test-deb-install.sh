#!/bin/bash
# The .debs installed as an image builder installs them: `dpkg -i` into a fresh Debian 12 root
# (debootstrap --variant=minbase, cached), then the users, the files and their modes, the
# conffiles, the units (systemd-analyze verify and security) and the image builder's steps 2
# and 3: the tenant's CAs in /etc/vmattest, the initrd rebuilt by the root's own dracut, with
# the module, and the agent reading its configuration inside that initrd. Last, a purge.
. "$(dirname "$0")/lib.sh"
pkg_require_root
plan 16

pkg_step build pkg_debs || { not_ok "the packages build"; exit 1; }
root=$TEST_TMP/root
pkg_step root pkg_root "$root" || { not_ok "a debootstrap root"; exit 1; }
in_root() { pkg_chroot "$root" "$@"; }

if pkg_step dpkg-i pkg_install "$root"; then ok "dpkg -i installs vmattest, vmattest-dracut and vmattest-verifier"
else not_ok "dpkg -i installs vmattest, vmattest-dracut and vmattest-verifier"; diag <"$TEST_TMP/dpkg.log"; exit 1; fi
expect_equal "all three are installed" \
        "$(in_root dpkg-query -W -f '${Package} ${Status}\n' vmattest vmattest-dracut vmattest-verifier)" \
"vmattest install ok installed
vmattest-dracut install ok installed
vmattest-verifier install ok installed"

# the users: system users (uid below 1000), no shell, their state directory as home
user_line() { in_root getent passwd "$1" | awk -F: '{ print $1, ($3 < 1000 ? "system" : "uid " $3), $6, $7 }'; }
expect_equal "user vmattest: a system user, home /var/lib/vmattest, no shell" "$(user_line vmattest)" \
        "vmattest system /var/lib/vmattest /usr/sbin/nologin"
expect_equal "user vmattest-verifier: a system user, home /var/lib/vmattest-verifier, no shell" \
        "$(user_line vmattest-verifier)" "vmattest-verifier system /var/lib/vmattest-verifier /usr/sbin/nologin"
expect_equal "vmattest is in group tss (/dev/tpmrm0), vmattest-verifier is not" \
        "$(in_root id -nG vmattest | tr ' ' '\n' | sort | paste -sd' '); $(in_root id -nG vmattest-verifier)" \
        "tss vmattest; vmattest-verifier"

# files and modes as installed
modes() { (cd "$root" && stat -c '%a %U:%G %n' "$@"); }
expect_equal "files, owners and modes" "$(modes usr/bin/vmattest usr/bin/vmattest-verifier etc/vmattest \
        etc/vmattest/agent.conf etc/vmattest/ima-policy etc/vmattest/verifier.conf \
        lib/systemd/system/vmattest.service lib/systemd/system/vmattest-verifier.service \
        usr/lib/sysusers.d/vmattest.conf usr/lib/sysusers.d/vmattest-verifier.conf usr/lib/tmpfiles.d/vmattest.conf \
        usr/lib/dracut/modules.d/90vmattest/module-setup.sh usr/lib/dracut/modules.d/90vmattest/vmattest-unlock.service \
        usr/share/man/man8/vmattest.8.gz usr/share/man/man8/vmattest-verifier.8.gz \
        usr/share/man/man5/vmattest.conf.5.gz usr/share/man/man5/vmattest-verifier.conf.5.gz \
        usr/share/man/man7/vmattest-dracut.7.gz)" \
"755 root:root usr/bin/vmattest
755 root:root usr/bin/vmattest-verifier
755 root:root etc/vmattest
644 root:root etc/vmattest/agent.conf
644 root:root etc/vmattest/ima-policy
644 root:root etc/vmattest/verifier.conf
644 root:root lib/systemd/system/vmattest.service
644 root:root lib/systemd/system/vmattest-verifier.service
644 root:root usr/lib/sysusers.d/vmattest.conf
644 root:root usr/lib/sysusers.d/vmattest-verifier.conf
644 root:root usr/lib/tmpfiles.d/vmattest.conf
755 root:root usr/lib/dracut/modules.d/90vmattest/module-setup.sh
644 root:root usr/lib/dracut/modules.d/90vmattest/vmattest-unlock.service
644 root:root usr/share/man/man8/vmattest.8.gz
644 root:root usr/share/man/man8/vmattest-verifier.8.gz
644 root:root usr/share/man/man5/vmattest.conf.5.gz
644 root:root usr/share/man/man5/vmattest-verifier.conf.5.gz
644 root:root usr/share/man/man7/vmattest-dracut.7.gz"
expect_equal "dpkg knows the conffiles" \
        "$(in_root dpkg-query -W -f '${Conffiles}\n' vmattest vmattest-verifier | awk 'NF { print $1 }')" \
"/etc/vmattest/agent.conf
/etc/vmattest/agent.conf.example
/etc/vmattest/ima-policy
/etc/vmattest/verifier.conf
/etc/vmattest/verifier.conf.example"
expect_success "the installed agent reads the package's agent.conf (handover_user = vmattest)" \
        in_root vmattest config --get handover_path

# tmpfiles.d: the kernel's measurement lists (stand-ins in the chroot's empty /sys, root's 0440
# as the kernel makes them) become group vmattest's, still read only
lists="sys/kernel/security/ima/ascii_runtime_measurements sys/kernel/security/tpm0/binary_bios_measurements"
for f in $lists; do mkdir -p "$root/${f%/*}" && install -m 0440 /dev/null "$root/$f"; done
in_root systemd-tmpfiles --create vmattest.conf >"$TEST_TMP/tmpfiles.log" 2>&1
# shellcheck disable=SC2086
expect_equal "tmpfiles.d: the measurement lists become root:vmattest 0440" "$(cd "$root" && in_root stat -c '%a %U:%G %n' $lists)" \
"440 root:vmattest sys/kernel/security/ima/ascii_runtime_measurements
440 root:vmattest sys/kernel/security/tpm0/binary_bios_measurements"
rm -rf "${root:?}/sys/kernel"

# the units: enabled, valid, hardened
expect_equal "both units are enabled (multi-user.target wants them)" \
        "$(cd "$root/etc/systemd/system/multi-user.target.wants" && readlink vmattest.service vmattest-verifier.service)" \
"/lib/systemd/system/vmattest.service
/lib/systemd/system/vmattest-verifier.service"
expect_success "systemd-analyze verify: both units" \
        in_root systemd-analyze verify --man=no vmattest.service vmattest-verifier.service
agent_exposure=$(pkg_exposure "$root" vmattest.service)
verifier_exposure=$(pkg_exposure "$root" vmattest-verifier.service)
echo "# systemd-analyze security --offline=yes: vmattest.service $agent_exposure, vmattest-verifier.service $verifier_exposure"
expect_equal "systemd-analyze security: exposure at most 2.0 for both units" \
        "$(awk -v a="${agent_exposure:-99}" -v v="${verifier_exposure:-99}" 'BEGIN { print (a <= 2.0 && v <= 2.0) ? "yes" : "no" }')" yes

# the image builder's step 2: the tenant's CAs (the verifier's client CA, the registrar's)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=tenant-ca \
        -keyout "$TEST_TMP/ca.key" -out "$root/etc/vmattest/verifier-ca.pem" 2>/dev/null
cp "$root/etc/vmattest/verifier-ca.pem" "$root/etc/vmattest/registrar-ca.pem"
# step 3: the root's own dracut rebuilds the initrd (no kernel here: --no-kernel)
dracut_in_root() { in_root dracut --force --no-kernel --kver 6.1.0-package-test /tmp/initrd.img >"$TEST_TMP/dracut.log" 2>&1; }
if pkg_step dracut dracut_in_root &&
        grep -q 'Including module: vmattest' "$TEST_TMP/dracut.log" && ! grep -q 'dracut: vmattest:' "$TEST_TMP/dracut.log"; then
        ok "the root's dracut builds an initrd with the module 90vmattest"
else not_ok "the root's dracut builds an initrd with the module 90vmattest"; grep -i 'vmattest\|error\|fail' "$TEST_TMP/dracut.log" | diag; fi
lsinitrd "$root/tmp/initrd.img" >"$TEST_TMP/lsinitrd" 2>&1
missing=""
for f in usr/bin/vmattest etc/vmattest/agent.conf etc/vmattest/ima-policy etc/vmattest/verifier-ca.pem \
        etc/vmattest/registrar-ca.pem usr/lib/systemd/system/vmattest-unlock.service \
        usr/lib/systemd/system/vmattest-leave-initrd.service usr/lib/systemd/network/99-vmattest-dhcp.network \
        etc/systemd/system/cryptsetup.target.wants/vmattest-unlock.service; do
        grep -q " $f\( \|$\)" "$TEST_TMP/lsinitrd" || missing="$missing $f"
done
expect_equal "the initrd holds the agent, its configuration, the CAs, the IMA policy and the units" "${missing:-none}" none
# unlock reads agent.conf in the initrd: handover_user must be a name the initrd's passwd knows
initrd_root=$TEST_TMP/initrd
mkdir -p "$initrd_root" && (cd "$initrd_root" && lsinitrd --unpack "$root/tmp/initrd.img" >/dev/null 2>&1)
expect_equal "in the initrd, the agent reads agent.conf (the user vmattest is in its /etc/passwd)" \
        "$(chroot "$initrd_root" /usr/bin/vmattest config --get handover_path 2>&1)" "/run/vmattest/handover.d/handover"

# a purge leaves no configuration, unit or enablement behind
in_root dpkg --purge vmattest-dracut vmattest vmattest-verifier >"$TEST_TMP/purge.log" 2>&1
left=$(cd "$root" && ls -d etc/vmattest/*.conf* etc/vmattest/ima-policy lib/systemd/system/vmattest*.service \
        etc/systemd/system/multi-user.target.wants/vmattest* 2>/dev/null)
expect_equal "dpkg --purge removes the packages' files, conffiles and unit links" "${left:-none}" none
