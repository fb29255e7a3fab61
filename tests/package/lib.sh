# Package test harness; sourced by tests/package/test-*.sh, from any directory.
#
# The packages are built from this tree's `make dist` tarball (`make deb`, `make rpm`) and
# installed into a fresh Debian 12 root made by debootstrap, as an image builder would. Built
# once per tree: build/deb is rebuilt when the tarball's bytes change. The debootstrap root is
# cached in build/cache/debootstrap, keyed by its inputs (suite, variant, mirror, the packages
# included: the built packages' dependencies), and each test gets a copy of it.
#
# On top of tests/integration/lib.sh (TAP helpers, TEST_TMP, swtpm_start, random_port, ...).
# Knobs: CACHE (build/cache), DEBIAN_MIRROR (http://deb.debian.org/debian), PKG_KEEP=1 (keep
# TEST_TMP). Needs root (debootstrap, chroot, dpkg -i into a root).

PKG_TREE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$PKG_TREE" || exit 1
. tests/integration/lib.sh

# the image's init (a real image has it; dracut installs its halt and poweroff)
PKG_ROOT_EXTRA="systemd-sysv"
. tests/package/debs.sh

pkg_cleanup() {
        if [ "${PKG_KEEP:-0}" = 1 ]; then
                echo "# kept $TEST_TMP" >&2
                TEST_TMP=/nonexistent # cleanup() of tests/integration/lib.sh removes nothing then
        fi
        cleanup
}
trap pkg_cleanup EXIT

# pkg_require_root: every package test needs root; without it the whole plan is skipped
pkg_require_root() {
        [ "$(id -u)" = 0 ] && return 0
        echo "1..0 # SKIP the package tests need root (debootstrap, chroot, dpkg -i into a root)"
        exit 0
}

# pkg_step NAME CMD...: runs CMD, then prints its wall time as a TAP comment; returns its status
pkg_step() {
        local name=$1 start=$EPOCHREALTIME rc; shift
        "$@"
        rc=$?
        printf '# step %-24s %6.1f s%s\n' "$name" "$(awk "BEGIN { print $EPOCHREALTIME - $start }")" \
                "$([ $rc -eq 0 ] || echo " (failed: $rc)")"
        return $rc
}

# pkg_root DIR: a fresh Debian root at DIR (debootstrap --variant=minbase, the packages' dependencies
# included, nothing of ours), copied from the cache (pkg_debootstrap)
pkg_root() {
        pkg_debootstrap "$1" minbase "$( { pkg_depends; printf '%s\n' $PKG_ROOT_EXTRA; } | LC_ALL=C sort -u | paste -sd,)"
}

# pkg_chroot ROOT CMD...: CMD inside ROOT with /proc mounted, in a mount namespace of its own
# (nothing stays mounted when it ends, whatever happens)
pkg_chroot() {
        local root=$1; shift
        unshare --mount --propagation private -- sh -c 'mount -t proc proc "$1/proc" && root=$1 && shift && exec chroot "$root" "$@"' \
                sh "$root" "$@"
}

# pkg_install ROOT: the three .debs installed into ROOT with dpkg -i (output in $TEST_TMP/dpkg.log)
pkg_install() {
        local root=$1
        mkdir -p "$root/tmp/debs" && cp "${PKG_DEBS[@]}" "$root/tmp/debs/" &&
                pkg_chroot "$root" sh -c 'dpkg -i /tmp/debs/*.deb' >"$TEST_TMP/dpkg.log" 2>&1
}

# pkg_exposure ROOT UNIT: systemd-analyze security's overall exposure of UNIT as installed in ROOT
pkg_exposure() {
        pkg_chroot "$1" systemd-analyze security --offline=yes "$2" 2>&1 |
                sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
