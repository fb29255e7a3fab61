#!/bin/bash
# make dist: build/vmattest-VERSION.tar.gz, the files git tracks, as they are in the work tree
# (committed or not; untracked files are left out), under vmattest-VERSION/. Reproducible: the
# same files give the same bytes (names sorted, owner root, modes 0644 or 0755, every time the
# last commit's or SOURCE_DATE_EPOCH, gzip without a name or a time).
#
# VERSION holds the version; packaging/debian/changelog and packaging/rpm/vmattest.spec repeat
# it because their formats want it literally, and a tarball is made only when they agree.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "dist: $*" >&2; exit 1; }

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || fail "not a git checkout: make dist needs the list of tracked files"
version=$(cat VERSION)
[[ $version =~ ^[0-9]+(\.[0-9]+)*$ ]] || fail "VERSION: \"$version\" is not a version (digits and dots)"
deb=$(sed -n '1s/^vmattest (\([^)-]*\)-[^)]*).*/\1/p' packaging/debian/changelog)
[ "$deb" = "$version" ] || fail "packaging/debian/changelog's newest entry is for ${deb:-no version}, VERSION says $version"
rpm=$(sed -n 's/^Version:[[:space:]]*//p' packaging/rpm/vmattest.spec)
[ "$rpm" = "$version" ] || fail "packaging/rpm/vmattest.spec's Version is ${rpm:-missing}, VERSION says $version"

epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
out=build/vmattest-$version.tar.gz
mkdir -p build
# tracked and still in the work tree (a file deleted but not yet committed is left out)
git ls-files -z --cached | grep -zvxF -f <(git ls-files -z --deleted | tr '\0' '\n') |
        LC_ALL=C tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
                --mode='a+rX,u+w,go-w' --mtime="@$epoch" --transform="s|^|vmattest-$version/|" \
                -cf - --no-recursion --null --files-from=- |
        gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
echo "dist: $out ($(tar -tzf "$out" | wc -l) files)"
