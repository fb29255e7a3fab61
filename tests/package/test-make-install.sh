#!/bin/bash
# `make install` without a package: DESTDIR and PREFIX honoured, the dracut module and the units
# where dracut's and systemd's pkg-config files say, the units and the module naming the
# binaries in PREFIX; and neither `make`, `make install` nor the package builds' make targets
# would run scripts/deps.sh (apt-get), while `make check` still does.
. "$(dirname "$0")/lib.sh"
plan 5

dest=$TEST_TMP/dest
if make -s install DESTDIR="$dest" PREFIX=/opt/vmattest >"$TEST_TMP/install.log" 2>&1; then
        ok "make install DESTDIR=... PREFIX=/opt/vmattest"
else not_ok "make install DESTDIR=... PREFIX=/opt/vmattest"; diag <"$TEST_TMP/install.log"; fi
pc() { pkg-config --variable="$1" "$2" 2>/dev/null || echo "$3"; }
unitdir=$(pc systemdsystemunitdir systemd /lib/systemd/system)
moduledir=$(pc dracutmodulesdir dracut /usr/lib/dracut/modules.d)
(cd "$dest" && find . -type f -printf '%m %p\n' | LC_ALL=C sort) >"$TEST_TMP/installed"
expect_equal "the files, where dracut and systemd look and under PREFIX" "$(cat "$TEST_TMP/installed")" "$(LC_ALL=C sort <<LIST
644 ./etc/vmattest/agent.conf
644 ./etc/vmattest/agent.conf.example
644 ./etc/vmattest/ima-policy
644 ./etc/vmattest/verifier.conf
644 ./etc/vmattest/verifier.conf.example
755 ./opt/vmattest/bin/vmattest
755 ./opt/vmattest/bin/vmattest-verifier
755 ./opt/vmattest/bin/vmattest-policy
644 ./opt/vmattest/share/man/man1/vmattest-policy.1
644 ./opt/vmattest/share/man/man5/vmattest.conf.5
644 ./opt/vmattest/share/man/man5/vmattest-verifier.conf.5
644 ./opt/vmattest/share/man/man7/vmattest-dracut.7
644 ./opt/vmattest/share/man/man8/vmattest.8
644 ./opt/vmattest/share/man/man8/vmattest-verifier.8
644 ./usr/share/vmattest/intel/sgx_root_ca.pem
644 .$unitdir/vmattest.service
644 .$unitdir/vmattest-verifier.service
644 .$(pc sysusersdir systemd /usr/lib/sysusers.d)/vmattest.conf
644 .$(pc sysusersdir systemd /usr/lib/sysusers.d)/vmattest-verifier.conf
644 .$(pc tmpfilesdir systemd /usr/lib/tmpfiles.d)/vmattest.conf
755 .$moduledir/90vmattest/module-setup.sh
755 ./var/lib/cloud/scripts/per-boot/vmattest-first-boot
644 ./usr/share/vmattest/amd/ask_ark_genoa.pem
644 ./usr/share/vmattest/amd/ask_ark_milan.pem
644 ./usr/share/vmattest/amd/ask_ark_turin_vcek.pem
644 .$moduledir/90vmattest/99-vmattest-dhcp.network
644 .$moduledir/90vmattest/vmattest-leave-initrd.service
644 .$moduledir/90vmattest/vmattest-unlock.service
LIST
)"
expect_equal "the units, the module and the cloud-init hook name the binaries in PREFIX" \
        "$(grep -h '^ExecStart=' "$dest$unitdir"/vmattest*.service; grep -o ':-[^}]*}' "$dest$moduledir/90vmattest/module-setup.sh"
           grep '^VMATTEST = ' "$dest/var/lib/cloud/scripts/per-boot/vmattest-first-boot")" \
"ExecStart=/opt/vmattest/bin/vmattest-verifier serve
ExecStart=/opt/vmattest/bin/vmattest serve
:-/opt/vmattest/bin/vmattest}
:-/etc/vmattest}
VMATTEST = \"/opt/vmattest/bin/vmattest\""

# every target make would run, as if all were out of date (-B), without running them (-n)
runs_deps() {
        make -nB "$@" >"$TEST_TMP/make-n" 2>&1 || { echo "make -nB $* failed: $(tail -n 1 "$TEST_TMP/make-n")"; return; }
        grep -c 'scripts/deps.sh' "$TEST_TMP/make-n"
}
expect_equal "make, make install, and the targets the package builds call run no deps.sh (apt-get)" \
        "$(runs_deps all install clean tests-build dist)" 0
expect_equal "make check still installs its dependencies first" "$(runs_deps check)" 1
