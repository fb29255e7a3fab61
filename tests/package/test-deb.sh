#!/bin/bash
# The Debian packages as built: `make dist` is reproducible, `make deb` (dpkg-buildpackage -us -uc
# -b on the tarball) makes the three packages, each holds the expected files with their modes
# and conffiles, the binaries carry dpkg-buildflags' hardening, and lintian reports no error.
. "$(dirname "$0")/lib.sh"
pkg_require_root
plan 14

# make dist twice, the second time after a file's time changed: the same bytes
tarball=build/vmattest-$PKG_VERSION.tar.gz
make -s dist >/dev/null && first=$(sha256sum <"$tarball")
touch README.md
make -s dist >/dev/null && second=$(sha256sum <"$tarball")
expect_equal "make dist is reproducible (same tree, same bytes)" "$second" "$first"
listed=$(tar -tzf "$tarball" | grep -c "^vmattest-$PKG_VERSION/")
expect_equal "make dist holds every tracked file under vmattest-$PKG_VERSION/" "$listed" \
        "$(($(git ls-files | wc -l) - $(git ls-files --deleted | wc -l)))"

if pkg_step build pkg_debs; then ok "make deb builds vmattest, vmattest-dracut and vmattest-verifier"
else not_ok "make deb builds vmattest, vmattest-dracut and vmattest-verifier"; exit 1; fi

# contents: "MODE OWNER PATH" of every file but directories
contents() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $1, $2, $6 }'; }
expect_equal "vmattest: the agent, its unit, users, tmpfiles, config, IMA policy, man pages (8, 5), cloud-init hook" "$(contents "${PKG_DEBS[0]}")" \
"-rw-r--r-- root/root ./etc/vmattest/agent.conf
-rw-r--r-- root/root ./etc/vmattest/agent.conf.example
-rw-r--r-- root/root ./etc/vmattest/ima-policy
-rw-r--r-- root/root ./lib/systemd/system/vmattest.service
-rwxr-xr-x root/root ./usr/bin/vmattest
-rw-r--r-- root/root ./usr/lib/sysusers.d/vmattest.conf
-rw-r--r-- root/root ./usr/lib/tmpfiles.d/vmattest.conf
-rw-r--r-- root/root ./usr/share/doc/vmattest/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/vmattest/changelog.Debian.gz
-rw-r--r-- root/root ./usr/share/doc/vmattest/copyright
-rw-r--r-- root/root ./usr/share/doc/vmattest/packaging.md.gz
-rw-r--r-- root/root ./usr/share/lintian/overrides/vmattest
-rw-r--r-- root/root ./usr/share/man/man5/vmattest.conf.5.gz
-rw-r--r-- root/root ./usr/share/man/man8/vmattest.8.gz
-rwxr-xr-x root/root ./var/lib/cloud/scripts/per-boot/vmattest-first-boot"
expect_equal "vmattest-dracut: the module 90vmattest, its man page (7)" "$(contents "${PKG_DEBS[1]}")" \
"-rw-r--r-- root/root ./usr/lib/dracut/modules.d/90vmattest/99-vmattest-dhcp.network
-rwxr-xr-x root/root ./usr/lib/dracut/modules.d/90vmattest/module-setup.sh
-rw-r--r-- root/root ./usr/lib/dracut/modules.d/90vmattest/vmattest-leave-initrd.service
-rw-r--r-- root/root ./usr/lib/dracut/modules.d/90vmattest/vmattest-unlock.service
-rw-r--r-- root/root ./usr/share/doc/vmattest-dracut/changelog.Debian.gz
-rw-r--r-- root/root ./usr/share/doc/vmattest-dracut/copyright
-rw-r--r-- root/root ./usr/share/man/man7/vmattest-dracut.7.gz"
expect_equal "vmattest-verifier: the verifier, its unit, user, config, man pages (8, 5), AMD's SNP bundles; the policy generator" "$(contents "${PKG_DEBS[2]}")" \
"-rw-r--r-- root/root ./etc/vmattest/verifier.conf
-rw-r--r-- root/root ./etc/vmattest/verifier.conf.example
-rw-r--r-- root/root ./lib/systemd/system/vmattest-verifier.service
-rwxr-xr-x root/root ./usr/bin/vmattest-policy
-rwxr-xr-x root/root ./usr/bin/vmattest-verifier
-rw-r--r-- root/root ./usr/lib/sysusers.d/vmattest-verifier.conf
-rw-r--r-- root/root ./usr/share/doc/vmattest-verifier/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/vmattest-verifier/changelog.Debian.gz
-rw-r--r-- root/root ./usr/share/doc/vmattest-verifier/copyright
-rw-r--r-- root/root ./usr/share/doc/vmattest-verifier/packaging.md.gz
-rw-r--r-- root/root ./usr/share/man/man1/vmattest-policy.1.gz
-rw-r--r-- root/root ./usr/share/man/man5/vmattest-verifier.conf.5.gz
-rw-r--r-- root/root ./usr/share/man/man8/vmattest-verifier.8.gz
-rw-r--r-- root/root ./usr/share/vmattest/amd/ask_ark_genoa.pem
-rw-r--r-- root/root ./usr/share/vmattest/amd/ask_ark_milan.pem
-rw-r--r-- root/root ./usr/share/vmattest/amd/ask_ark_turin_vcek.pem
-rw-r--r-- root/root ./usr/share/vmattest/intel/sgx_root_ca.pem"

expect_equal "conffiles: agent.conf, the example and the IMA policy; verifier.conf and its example" \
        "$(dpkg-deb -I "${PKG_DEBS[0]}" conffiles; dpkg-deb -I "${PKG_DEBS[2]}" conffiles)" \
"/etc/vmattest/agent.conf
/etc/vmattest/agent.conf.example
/etc/vmattest/ima-policy
/etc/vmattest/verifier.conf
/etc/vmattest/verifier.conf.example"

depends=$(dpkg-deb -f "${PKG_DEBS[1]}" Depends)
if [[ $depends == *"dracut | dracut-core"* && $depends == *"vmattest (>= $PKG_VERSION-1)"* ]]; then
        ok "vmattest-dracut depends on dracut | dracut-core and on this vmattest"
else not_ok "vmattest-dracut depends on dracut | dracut-core and on this vmattest"; echo "Depends: $depends" | diag; fi
depends=$(dpkg-deb -f "${PKG_DEBS[0]}" Depends)
if [[ $depends == *"tpm-udev"* && $depends == *"libtss2-tcti-device0"* && $depends == *"systemd |"* ]]; then
        ok "vmattest depends on tpm-udev (group tss), the device TCTI it loads, systemd-sysusers"
else not_ok "vmattest depends on tpm-udev (group tss), the device TCTI it loads, systemd-sysusers"; echo "Depends: $depends" | diag; fi

# hardening: PIE, full RELRO, stack protector and fortified calls in both binaries, and
# dpkg-buildflags' own CFLAGS reached the compiler: its -ffile-prefix-map leaves the build
# directory out of the debug information (the dbgsym packages)
unpacked=$TEST_TMP/unpacked
for deb in "$PKG_DEB_DIR"/vmattest{,-verifier}{,-dbgsym}_"$PKG_VERSION"-1_amd64.deb; do dpkg-deb -x "$deb" "$unpacked"; done
hardened=yes
for bin in "$unpacked"/usr/bin/vmattest "$unpacked"/usr/bin/vmattest-verifier; do
        readelf -hW "$bin" | grep -q 'Type:.*DYN' || { hardened=no; echo "$bin: not PIE"; }
        readelf -lW "$bin" | grep -q GNU_RELRO || { hardened=no; echo "$bin: no RELRO"; }
        readelf -dW "$bin" | grep -q 'FLAGS.*NOW' || { hardened=no; echo "$bin: no BIND_NOW"; }
        nm -D "$bin" | grep -q __stack_chk_fail || { hardened=no; echo "$bin: no stack protector"; }
        nm -D "$bin" | grep -q '__[a-z]*_chk@' || { hardened=no; echo "$bin: no fortified calls"; }
done >"$TEST_TMP/hardening" 2>&1
expect_equal "both binaries: PIE, RELRO, BIND_NOW, stack protector, _FORTIFY_SOURCE" "$hardened" yes
[ "$hardened" = yes ] || diag <"$TEST_TMP/hardening"
build_dir="$PKG_DEB_DIR/vmattest-$PKG_VERSION"
if ! readelf --debug-dump=info "$unpacked"/usr/lib/debug/.build-id/*/*.debug 2>/dev/null | grep -q "$build_dir" &&
        readelf --debug-dump=info "$unpacked"/usr/lib/debug/.build-id/*/*.debug 2>/dev/null | grep -q 'DW_AT_producer'; then
        ok "dpkg-buildflags' CFLAGS reached the compiler (-ffile-prefix-map: no $build_dir in the debug info)"
else not_ok "dpkg-buildflags' CFLAGS reached the compiler (-ffile-prefix-map: no $build_dir in the debug info)"; fi

# lintian: errors fail, warnings are listed
run_lintian() { lintian --pedantic "$PKG_DEB_DIR/vmattest_${PKG_VERSION}-1_amd64.changes" >"$TEST_TMP/lintian" 2>&1; }
pkg_step lintian run_lintian
grep -v '^running with root' "$TEST_TMP/lintian" | diag
errors=$(grep -c '^E: ' "$TEST_TMP/lintian")
expect_equal "lintian: no errors ($(grep -c '^W: ' "$TEST_TMP/lintian") warnings, listed above)" "$errors" 0
expect_equal "lintian: no copyright, license or man page tag" \
        "$(grep -E '^[EWP]: .*(copyright|licen[cs]e|manpage|groff)' "$TEST_TMP/lintian")" ""

# a changelog that disagrees with VERSION: no tarball (in a repository of its own holding the
# files dist.sh reads: the work tree stays as it is)
mini=$TEST_TMP/mini
for f in VERSION scripts/dist.sh packaging/debian/changelog packaging/rpm/vmattest.spec; do
        mkdir -p "$mini/$(dirname "$f")" && cp -p "$f" "$mini/$f"
done
git -C "$mini" init -q && git -C "$mini" add . && git -C "$mini" -c user.name=t -c user.email=t@t commit -qm t &&
        sed -i "1s/($PKG_VERSION-/(9.9.9-/" "$mini/packaging/debian/changelog"
expect_failure "make dist refuses a debian/changelog that disagrees with VERSION" any \
        "packaging/debian/changelog's newest entry is for 9.9.9, VERSION says $PKG_VERSION" "$mini/scripts/dist.sh"
