#!/bin/bash
# The RPMs: `make rpm` (rpmbuild -bb packaging/rpm/vmattest.spec on `make dist`'s tarball) on this
# Debian machine. Its BuildRequires name rpm packages Debian's rpm database does not hold, so
# this build alone passes --nodeps (RPMBUILD_FLAGS); the libraries come from Debian's -dev
# packages. Then each package's files, modes, config files and scriptlets.
. "$(dirname "$0")/lib.sh"
pkg_require_root
plan 6

rpm_build() { make -s rpm RPMBUILD_FLAGS=--nodeps >"$TEST_TMP/rpm.log" 2>&1; }
rpms=build/rpm/RPMS
if pkg_step rpmbuild rpm_build && [ -s "$rpms/x86_64/vmattest-$PKG_VERSION-1.x86_64.rpm" ] &&
        [ -s "$rpms/x86_64/vmattest-verifier-$PKG_VERSION-1.x86_64.rpm" ] &&
        [ -s "$rpms/noarch/vmattest-dracut-$PKG_VERSION-1.noarch.rpm" ]; then
        ok "rpmbuild -bb builds vmattest, vmattest-dracut (noarch) and vmattest-verifier"
else not_ok "rpmbuild -bb builds vmattest, vmattest-dracut (noarch) and vmattest-verifier"; tail -n 30 "$TEST_TMP/rpm.log" | diag; exit 1; fi

# "MODE OWNER GROUP PATH" of every file but directories, doc files and build-id links
files() { rpm -qlvp "$1" 2>/dev/null | awk '$1 !~ /^[dl]/ && $9 !~ /^\/usr\/share\/doc\// { print $1, $3, $4, $9 }'; }
expect_equal "vmattest: the agent, its unit, users, tmpfiles, config, IMA policy, man pages (8, 5), license, cloud-init hook" \
        "$(files "$rpms/x86_64/vmattest-$PKG_VERSION-1.x86_64.rpm")" \
"-rw-r--r-- root root /etc/vmattest/agent.conf
-rw-r--r-- root root /etc/vmattest/agent.conf.example
-rw-r--r-- root root /etc/vmattest/ima-policy
-rwxr-xr-x root root /usr/bin/vmattest
-rw-r--r-- root root /usr/lib/systemd/system/vmattest.service
-rw-r--r-- root root /usr/lib/sysusers.d/vmattest.conf
-rw-r--r-- root root /usr/lib/tmpfiles.d/vmattest.conf
-rw-r--r-- root root /usr/share/licenses/vmattest/LICENSE
-rw-r--r-- root root /usr/share/man/man5/vmattest.conf.5
-rw-r--r-- root root /usr/share/man/man8/vmattest.8
-rwxr-xr-x root root /var/lib/cloud/scripts/per-boot/vmattest-first-boot"
expect_equal "vmattest-dracut: the module 90vmattest, its man page (7), license" "$(files "$rpms/noarch/vmattest-dracut-$PKG_VERSION-1.noarch.rpm")" \
"-rw-r--r-- root root /usr/lib/dracut/modules.d/90vmattest/99-vmattest-dhcp.network
-rwxr-xr-x root root /usr/lib/dracut/modules.d/90vmattest/module-setup.sh
-rw-r--r-- root root /usr/lib/dracut/modules.d/90vmattest/vmattest-leave-initrd.service
-rw-r--r-- root root /usr/lib/dracut/modules.d/90vmattest/vmattest-unlock.service
-rw-r--r-- root root /usr/share/licenses/vmattest-dracut/LICENSE
-rw-r--r-- root root /usr/share/man/man7/vmattest-dracut.7"
expect_equal "vmattest-verifier: the verifier, its unit, user, config, man pages (8, 5), AMD's SNP bundles; the policy generator; license" \
        "$(files "$rpms/x86_64/vmattest-verifier-$PKG_VERSION-1.x86_64.rpm")" \
"-rw-r--r-- root root /etc/vmattest/verifier.conf
-rw-r--r-- root root /etc/vmattest/verifier.conf.example
-rwxr-xr-x root root /usr/bin/vmattest-policy
-rwxr-xr-x root root /usr/bin/vmattest-verifier
-rw-r--r-- root root /usr/lib/systemd/system/vmattest-verifier.service
-rw-r--r-- root root /usr/lib/sysusers.d/vmattest-verifier.conf
-rw-r--r-- root root /usr/share/licenses/vmattest-verifier/LICENSE
-rw-r--r-- root root /usr/share/man/man1/vmattest-policy.1
-rw-r--r-- root root /usr/share/man/man5/vmattest-verifier.conf.5
-rw-r--r-- root root /usr/share/man/man8/vmattest-verifier.8
-rw-r--r-- root root /usr/share/vmattest/amd/ask_ark_genoa.pem
-rw-r--r-- root root /usr/share/vmattest/amd/ask_ark_milan.pem
-rw-r--r-- root root /usr/share/vmattest/amd/ask_ark_turin_vcek.pem
-rw-r--r-- root root /usr/share/vmattest/intel/sgx_root_ca.pem"
expect_equal "config files: agent.conf, ima-policy, verifier.conf kept when edited (noreplace)" \
        "$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpms"/x86_64/*.rpm 2>/dev/null | awk 'NF == 2 && $1 ~ /c/')" \
"cn /etc/vmattest/agent.conf
c /etc/vmattest/agent.conf.example
cn /etc/vmattest/ima-policy
cn /etc/vmattest/verifier.conf
c /etc/vmattest/verifier.conf.example"
scripts=$(rpm -qp --scripts "$rpms/x86_64/vmattest-$PKG_VERSION-1.x86_64.rpm" "$rpms/x86_64/vmattest-verifier-$PKG_VERSION-1.x86_64.rpm" 2>/dev/null)
if grep -q 'systemd-sysusers /usr/lib/sysusers.d/vmattest.conf' <<<"$scripts" &&
        grep -q 'systemd-sysusers /usr/lib/sysusers.d/vmattest-verifier.conf' <<<"$scripts" &&
        grep -q 'systemd-tmpfiles --create /usr/lib/tmpfiles.d/vmattest.conf' <<<"$scripts" &&
        [ "$(grep -c 'systemctl --no-reload preset' <<<"$scripts")" = 2 ]; then
        ok "%post makes the users, applies tmpfiles.d and presets both units"
else not_ok "%post makes the users, applies tmpfiles.d and presets both units"; diag <<<"$scripts"; fi
