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

CACHE=${CACHE:-$PKG_TREE/build/cache}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKG_SUITE=bookworm
PKG_VERSION=$(cat VERSION)
PKG_DEB_DIR=$PKG_TREE/build/deb
# the image's init (a real image has it; dracut installs its halt and poweroff)
PKG_ROOT_EXTRA="systemd-sysv"
PKG_DEBS=()

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

# pkg_debs: the three .debs of this tree in build/deb (PKG_DEBS: their paths), built with
# `make deb` unless build/deb holds those of the same tarball already. The unit tests are left
# to `make check` (DEB_BUILD_OPTIONS=nocheck).
pkg_debs() {
        local key log=$TEST_TMP/deb-build.log
        make -s dist >/dev/null || return 1
        key=$(sha256sum "build/vmattest-$PKG_VERSION.tar.gz" | cut -c1-16)
        if [ "$(cat "$PKG_DEB_DIR/.tarball" 2>/dev/null)" != "$key" ]; then
                if ! DEB_BUILD_OPTIONS=nocheck make -s deb >"$log" 2>&1; then
                        echo "make deb failed:" >&2; tail -n 40 "$log" >&2; return 1
                fi
                echo "$key" >"$PKG_DEB_DIR/.tarball"
                echo "# built the packages of tarball $key"
        else
                echo "# packages of tarball $key already built"
        fi
        PKG_DEBS=("$PKG_DEB_DIR/vmattest_$PKG_VERSION-1_amd64.deb" "$PKG_DEB_DIR/vmattest-dracut_$PKG_VERSION-1_all.deb"
                "$PKG_DEB_DIR/vmattest-verifier_$PKG_VERSION-1_amd64.deb")
        ls "${PKG_DEBS[@]}" >/dev/null
}

# pkg_depends: what the built packages depend on (the first of alternatives, without versions
# and without each other), one name a line: what the root must hold before `dpkg -i`
pkg_depends() {
        local deb
        for deb in "${PKG_DEBS[@]}"; do
                dpkg-deb -f "$deb" Depends
        done | tr ',' '\n' | sed 's/([^)]*)//g; s/|.*//; s/[[:space:]]//g' | grep -v '^vmattest' | grep . | LC_ALL=C sort -u
}

# pkg_root DIR: a fresh Debian root at DIR (debootstrap --variant=minbase, the packages' dependencies
# included, nothing of ours), copied from the cache; made there first when its inputs changed.
pkg_root() {
        local dir=$1 include key cached tmp log
        include=$( { pkg_depends; printf '%s\n' $PKG_ROOT_EXTRA; } | LC_ALL=C sort -u | paste -sd,)
        key=$({ declare -f pkg_root; echo "$PKG_SUITE|minbase|$DEBIAN_MIRROR|$include"; } | sha256sum | cut -c1-16)
        cached="$CACHE/debootstrap/$PKG_SUITE-minbase-$key"
        if [ ! -e "$cached/.complete" ]; then
                mkdir -p "$CACHE/debootstrap"
                tmp="$cached.tmp.$$" log="$TEST_TMP/debootstrap.log"
                rm -rf "$tmp"
                echo "# debootstrap $PKG_SUITE into $cached (--include=$include)"
                if ! debootstrap --variant=minbase --include="$include" "$PKG_SUITE" "$tmp" "$DEBIAN_MIRROR" >"$log" 2>&1; then
                        echo "debootstrap failed:" >&2; tail -n 30 "$log" >&2; rm -rf "$tmp"; return 1
                fi
                rm -f "$tmp"/var/cache/apt/archives/*.deb
                touch "$tmp/.complete"
                rm -rf "$cached" && mv "$tmp" "$cached"
                # keep the two newest roots
                ls -dt "$CACHE"/debootstrap/*-minbase-* | grep -v '\.tmp\.' | tail -n +3 | xargs -r rm -rf
        else
                echo "# cached $cached"
        fi
        cp -a "$cached" "$dir" && rm -f "$dir/.complete"
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
