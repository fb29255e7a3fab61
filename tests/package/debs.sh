# The packages of this tree and the cached Debian roots they go into; sourced by
# tests/package/lib.sh and by tests/vm/debian-guest.sh (the cloud guest's image builder), after
# tests/integration/lib.sh (TEST_TMP), from the repository root.
#
# Knobs: CACHE (build/cache), DEBIAN_MIRROR (http://deb.debian.org/debian).

CACHE=${CACHE:-$PWD/build/cache}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKG_SUITE=bookworm
PKG_VERSION=$(cat VERSION)
PKG_DEB_DIR=$PWD/build/deb
PKG_DEBS=()

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

# pkg_debootstrap DIR NAME INCLUDE: a fresh Debian root at DIR (debootstrap --variant=minbase
# with the comma-separated packages INCLUDE), copied from the cache; made there first when its
# inputs (suite, mirror, INCLUDE, this function) changed. NAME names the kind of root in the
# cache (each kind keeps its two newest roots).
pkg_debootstrap() {
        local dir=$1 name=$2 include=$3 key cached tmp log
        key=$({ declare -f pkg_debootstrap; echo "$PKG_SUITE|minbase|$DEBIAN_MIRROR|$include"; } | sha256sum | cut -c1-16)
        cached="$CACHE/debootstrap/$PKG_SUITE-$name-$key"
        if [ ! -e "$cached/.complete" ]; then
                mkdir -p "$CACHE/debootstrap"
                tmp="$cached.tmp.$$" log="$TEST_TMP/debootstrap-$name.log"
                rm -rf "$tmp"
                echo "# debootstrap $PKG_SUITE into $cached (--include=$include)"
                if ! debootstrap --variant=minbase --include="$include" "$PKG_SUITE" "$tmp" "$DEBIAN_MIRROR" >"$log" 2>&1; then
                        echo "debootstrap failed:" >&2; tail -n 30 "$log" >&2; rm -rf "$tmp"; return 1
                fi
                rm -f "$tmp"/var/cache/apt/archives/*.deb
                touch "$tmp/.complete"
                rm -rf "$cached" && mv "$tmp" "$cached"
                ls -dt "$CACHE/debootstrap/$PKG_SUITE-$name"-* | grep -v '\.tmp\.' | tail -n +3 | xargs -r rm -rf
        else
                echo "# cached $cached"
        fi
        cp -a "$cached" "$dir" && rm -f "$dir/.complete"
}
