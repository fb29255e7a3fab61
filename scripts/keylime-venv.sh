#!/bin/sh
# Prepares the Keylime that tests/interop runs against: an unmodified Keylime from PyPI, pinned
# with its dependencies in tests/interop/requirements.txt, in a virtualenv of Debian's python3:
#   VENV/bin/keylime_{registrar,verifier,tenant}, keylime-policy, ...
#   VENV/share/keylime/templates/   the sdist's config templates (the wheel ships none)
#   VENV/share/keylime/defaults/    Keylime's default configs, rendered from them by its own
#                                   keylime_upgrade_config --defaults
#   VENV/.stamp                     SHA-256 of the requirements and of this script: the venv is
#                                   built again only when either changes
# Usage: scripts/keylime-venv.sh [VENV]   (default build/keylime-venv). Nothing is installed
# outside VENV; the Debian packages it needs (python3-venv, python3-gpg) come from `make deps`.
set -eu
cd "$(dirname "$0")/.."

venv=${1:-build/keylime-venv}
requirements=tests/interop/requirements.txt
# Debian's interpreter, not whichever python3 is first on PATH: python3-gpg is built for it
python=/usr/bin/python3
key=$(cat "$requirements" "$0" | sha256sum | cut -d' ' -f1)

if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$key" ]; then
        touch "$venv/.stamp" # newer than its inputs, for make
        exit 0
fi

echo "keylime-venv: building $venv from $requirements"
rm -rf "$venv"
"$python" -m venv "$venv"
pip() { "$venv/bin/python" -m pip --disable-pip-version-check --no-input "$@"; }
# every package and dependency is pinned with its hash: pip resolves nothing on its own
pip install -q --require-hashes --no-deps --only-binary :all: -r "$requirements"

# keylime imports gpg (GPGME's binding), which is not taken from PyPI: it must match the
# system's libgpgme. Only that package is linked in; the venv sees nothing else of the system's.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -s /usr/lib/python3/dist-packages/gpg "$site/gpg"

# The sdist (same release, hash-checked from the same file) for its config templates
mkdir -p "$venv/src" "$venv/share/keylime/defaults"
grep -A2 '^keylime==' "$requirements" >"$venv/src/keylime-sdist.txt"
pip download -q --require-hashes --no-deps --no-binary :all: -d "$venv/src" -r "$venv/src/keylime-sdist.txt"
version=$(sed -n 's/^keylime==\([^ ]*\).*/\1/p' "$requirements")
tar -xzf "$venv/src/keylime-$version.tar.gz" -C "$venv/src" "keylime-$version/templates"
mv "$venv/src/keylime-$version/templates" "$venv/share/keylime/templates"
"$venv/bin/keylime_upgrade_config" --defaults --templates "$venv/share/keylime/templates" \
        --out "$venv/share/keylime/defaults" >"$venv/src/upgrade-config.log" 2>&1 ||
        { cat "$venv/src/upgrade-config.log" >&2; exit 1; }

# what the interop tests start must at least import
"$venv/bin/python" -W ignore -c 'import gpg, psycopg2, keylime.cmd.registrar, keylime.cmd.verifier, keylime.cmd.tenant, keylime.cmd.keylime_policy' \
        >"$venv/src/import-check.log" 2>&1 || { cat "$venv/src/import-check.log" >&2; exit 1; }
for conf in registrar verifier tenant ca logging; do
        [ -s "$venv/share/keylime/defaults/$conf.conf" ] || { echo "keylime-venv: no default $conf.conf" >&2; exit 1; }
done
echo "$key" >"$venv/.stamp"
echo "keylime-venv: Keylime $version ready in $venv"
