# VM harness for the early-boot tests; sourced by tests/vm/test-*.sh from the repository root.
#
# A real boot, all on this machine: the Debian kernel package unpacked (not installed) into
# build/cache, an initramfs built by dracut with our module initrd/90vmattest (cached, keyed by a
# hash of every input), a small LUKS2 root image, a swtpm vTPM on a unix socket, and qemu (q35,
# OVMF, TCG, tpm-tis, virtio-net with user networking and a host forward to the agent port, serial
# console to a file, a hard timeout). Guests speak to the test through console lines that start
# with "VMATTEST-" (see vm_console_line). Facts and pitfalls: tests/vm/README.
#
# On top of tests/integration/lib.sh (TAP helpers, TEST_TMP, random_port, wait_port, verifier_*).
# Knobs: KPKG (kernel package), CACHE (build/cache), VM_TIMEOUT (qemu bound, s), VM_KEEP=1 (keep
# TEST_TMP), VM_LOG_DIR (console logs copied there, default build/test-logs/vm).

VM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$VM_ROOT" || exit 1
. tests/integration/lib.sh

CACHE=${CACHE:-$VM_ROOT/build/cache}
VM_TIMEOUT=${VM_TIMEOUT:-240}
VM_LOG_DIR=${VM_LOG_DIR:-$VM_ROOT/build/test-logs/vm}
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
# What the VM tests need beyond the integration tests' packages (the lead's `make deps`).
VM_PACKAGES="qemu-system-x86 ovmf busybox-static cpio dracut-core dracut-network cryptsetup-bin e2fsprogs zstd kmod"
vm_pids=()

vm_cleanup() {
        local pid
        for pid in "${vm_pids[@]}"; do
                kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        done
        if [ "${VM_KEEP:-0}" = 1 ]; then
                echo "# kept $TEST_TMP" >&2
                TEST_TMP=/nonexistent # cleanup() of tests/integration/lib.sh removes nothing then
        fi
        cleanup
}
trap vm_cleanup EXIT

# vm_step NAME CMD...: runs CMD, then prints its wall time as a TAP comment; returns its status
vm_step() {
        local name=$1 start=$EPOCHREALTIME rc; shift
        "$@"
        rc=$?
        printf '# step %-24s %6.1f s%s\n' "$name" "$(awk "BEGIN { print $EPOCHREALTIME - $start }")" \
                "$([ $rc -eq 0 ] || echo " (failed: $rc)")"
        return $rc
}

# vm_missing_tools: names the tools (and packages) this machine lacks; empty when all are there
vm_missing_tools() {
        local t missing=
        for t in qemu-system-x86_64 swtpm swtpm_setup dracut lsinitrd cryptsetup mkfs.ext4 cpio \
                dpkg-deb depmod timeout curl jq openssl; do
                command -v "$t" >/dev/null || missing="$missing $t"
        done
        [ -r "$OVMF_CODE" ] || missing="$missing $OVMF_CODE"
        [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing="$missing busybox-static"
        [ -z "$missing" ] || echo "missing:$missing (apt-get install $VM_PACKAGES)"
}

# vm_kernel: the Debian kernel, unpacked into $CACHE (downloaded once with apt-get download, as
# tests/fixtures/capture-boot-logs.sh does; a cached package wins over a newer one apt knows).
# Sets VM_KVER, VM_VMLINUZ and VM_KMODDIR (its modules, with depmod's indexes).
vm_kernel() {
        local deb kdir
        mkdir -p "$CACHE"
        if [ -z "${KPKG:-}" ]; then
                deb=$(ls "$CACHE"/linux-image-6.1.0-*-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n1)
                if [ -n "$deb" ]; then
                        KPKG=$(dpkg-deb -f "$deb" Package)
                else
                        KPKG=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
                                awk '{print $1}' | sort -V | tail -n1)
                fi
        fi
        [ -n "$KPKG" ] || { echo "no linux-image-6.1.0-*-amd64 cached in $CACHE nor known to apt (apt-get update)" >&2; return 1; }
        deb=$(ls "$CACHE/${KPKG}"_*_amd64.deb 2>/dev/null | sort -V | tail -n1)
        if [ -z "$deb" ]; then
                echo "# downloading $KPKG into $CACHE"
                (cd "$CACHE" && apt-get download "$KPKG" >/dev/null 2>&1) || { echo "apt-get download $KPKG failed" >&2; return 1; }
                deb=$(ls "$CACHE/${KPKG}"_*_amd64.deb | sort -V | tail -n1)
        fi
        kdir="$CACHE/${KPKG}_$(dpkg-deb -f "$deb" Version)"
        VM_KVER=${KPKG#linux-image-}
        VM_VMLINUZ="$kdir/boot/vmlinuz-$VM_KVER"
        VM_KMODDIR="$kdir/modules/lib/modules/$VM_KVER"
        if [ ! -s "$VM_VMLINUZ" ]; then
                rm -rf "$kdir/boot.tmp" && mkdir -p "$kdir/boot.tmp"
                dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir/boot.tmp" ./boot || return 1
                rm -rf "${kdir:?}/boot" && mv "$kdir/boot.tmp/boot" "$kdir/boot" && rmdir "$kdir/boot.tmp"
        fi
        if [ ! -s "$VM_KMODDIR/modules.dep.bin" ]; then
                # modules.dep and friends are made by the package's postinst: depmod them here
                rm -rf "$kdir/modules.tmp" && mkdir -p "$kdir/modules.tmp"
                dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir/modules.tmp" ./lib/modules || return 1
                depmod -b "$kdir/modules.tmp" "$VM_KVER" || return 1
                rm -rf "$kdir/modules" && mv "$kdir/modules.tmp" "$kdir/modules"
        fi
        [ -s "$VM_VMLINUZ" ] && [ -s "$VM_KMODDIR/modules.dep.bin" ]
}

# vm_initrd OUT: the dracut initramfs with our module, from the cache when its inputs did not
# change. Inputs (all in the cache key):
#   VMATTEST_BIN, VMATTEST_CONFDIR   passed to initrd/90vmattest/module-setup.sh
#   VM_DRACUT_MODULES                dracut -m list (our module's depends() adds the rest)
#   VM_DRACUT_INSTALL                extra host files (dracut --install, libraries resolved;
#                                    their content is in the key, not only their names)
#   VM_DRACUT_DRIVERS                extra kernel modules (dracut --add-drivers), e.g. fuse
#   VM_INITRD_OVERLAY                a directory copied over the initrd's root (dracut --include):
#                                    test-only units, drop-ins and scripts
# plus initrd/90vmattest, the kernel version, this function and every installed package's
# version (dracut copies host binaries). The module directory is offered to dracut through a
# private dracutbasedir (symlinks to /usr/lib/dracut plus ours): nothing on the host changes.
vm_initrd() {
        local out=$1 key base img log start
        key=$({
                declare -f vm_initrd
                echo "$VM_KVER|$VM_DRACUT_MODULES|${VM_DRACUT_INSTALL:-}|${VM_DRACUT_DRIVERS:-}"
                # shellcheck disable=SC2086 # a list of paths
                sha256sum "$VMATTEST_BIN" ${VM_DRACUT_INSTALL:-}
                (cd "$VM_ROOT/initrd/90vmattest" && find . -type f | LC_ALL=C sort | xargs sha256sum)
                (cd "$VMATTEST_CONFDIR" && find . -type f | LC_ALL=C sort | xargs -r sha256sum)
                [ -z "${VM_INITRD_OVERLAY:-}" ] ||
                        (cd "$VM_INITRD_OVERLAY" && find . | LC_ALL=C sort | xargs -r stat -c '%n %a' &&
                         find . -type f | LC_ALL=C sort | xargs -r sha256sum)
                dpkg-query -W -f '${Package} ${Version}\n'
        } | sha256sum | cut -c1-16)
        img="$CACHE/initrd/vmattest-$VM_KVER-$key.img"
        if [ ! -s "$img" ]; then
                base="$TEST_TMP/dracutbase"
                mkdir -p "$base/modules.d" "$TEST_TMP/dracut.conf.d" "$CACHE/initrd"
                ln -sf /usr/lib/dracut/[!m]* "$base/"
                ln -sf /usr/lib/dracut/modules.d/* "$base/modules.d/"
                ln -sfn "$VM_ROOT/initrd/90vmattest" "$base/modules.d/90vmattest"
                log="$TEST_TMP/dracut.log"
                # shellcheck disable=SC2086
                if ! dracutbasedir="$base" VMATTEST_BIN="$VMATTEST_BIN" VMATTEST_CONFDIR="$VMATTEST_CONFDIR" \
                        dracut --force --quiet --conf /dev/null --confdir "$TEST_TMP/dracut.conf.d" \
                        --tmpdir "$TEST_TMP" --no-hostonly --no-hostonly-cmdline --reproducible \
                        --no-early-microcode --zstd \
                        --kver "$VM_KVER" --kmoddir "$VM_KMODDIR" -m "$VM_DRACUT_MODULES" --filesystems ext4 \
                        ${VM_DRACUT_INSTALL:+--install "${VM_DRACUT_INSTALL:-}"} \
                        ${VM_DRACUT_DRIVERS:+--add-drivers "${VM_DRACUT_DRIVERS:-}"} \
                        ${VM_INITRD_OVERLAY:+--include "$VM_INITRD_OVERLAY" /} \
                        "$img.tmp.$$" >"$log" 2>&1; then
                        echo "dracut failed:" >&2; tail -n 40 "$log" >&2; rm -f "$img.tmp.$$"; return 1
                fi
                mv "$img.tmp.$$" "$img"
                # keep the six newest images (a suite may boot several variants)
                ls -t "$CACHE"/initrd/vmattest-*.img | tail -n +7 | xargs -r rm -f
                echo "# built $img ($(du -m "$img" | cut -f1) MB)"
        else
                echo "# cached $img"
                touch "$img"
        fi
        cp "$img" "$out"
}

# vm_rootfs DIR MARKER: a busybox root whose /sbin/init is tests/vm/guest/root-init.sh (it prints
# "VMATTEST-ROOT: marker MARKER", what /run/vmattest holds, runs the scenario's agent, powers off)
vm_rootfs() {
        local dir=$1 marker=$2 a
        rm -rf "$dir" && mkdir -p "$dir"/{bin,sbin,etc/vmattest-test,dev,proc,sys,run,tmp}
        cp /bin/busybox "$dir/bin/busybox"
        for a in sh ls cat echo grep wc tr sleep kill poweroff mount; do ln -s busybox "$dir/bin/$a"; done
        printf 'NAME="vmattest test root"\nID=vmattest-test\n' >"$dir/etc/os-release" # switch-root wants it
        echo "$marker" >"$dir/etc/vmattest-test/marker"
        install -m 0755 "$VM_ROOT/tests/vm/guest/root-init.sh" "$dir/sbin/init"
}

# vm_root_add_agent DIR CONFDIR: the agent (VMATTEST_BIN) with every library it links or dlopen()s
# (the device TCTI), the loader's cache, and CONFDIR as /etc/vmattest with the runtime's
# changes: no IMA policy load (the initrd did it)
vm_root_add_agent() {
        local dir=$1 conf=$2 lib libs
        install -D -m 0755 "$VMATTEST_BIN" "$dir/usr/bin/vmattest"
        libs=$( { ldd "$VMATTEST_BIN"
                  for lib in libtss2-tcti-device.so.0; do
                          lib=$(ldconfig -p | sed -n "s/^[[:space:]]*$lib (libc6,x86-64) => //p" | head -n1)
                          echo " => $lib "; ldd "$lib"
                  done; } | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' | sort -u)
        for lib in $libs; do
                mkdir -p "$dir$(dirname "$lib")" && cp -L "$lib" "$dir$lib" || return 1
        done
        printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >"$dir/etc/ld.so.conf"
        ldconfig -r "$dir" || return 1
        mkdir -p "$dir/etc/vmattest"
        cp "$conf"/* "$dir/etc/vmattest/"
        printf '\n# the runtime root: the initrd loaded the IMA policy\n[agent]\nima_policy = ""\n' \
                >>"$dir/etc/vmattest/agent.conf"
}

# vm_root_add_programs DIR HOST-PATH[=GUEST-PATH]...: host programs with every library they link
# (ldd), at GUEST-PATH (default: the same path), and the loader's cache
vm_root_add_programs() {
        local dir=$1 arg src dst lib; shift
        for arg in "$@"; do
                src=${arg%%=*} dst=${arg#*=}
                install -D -m 0755 "$src" "$dir$dst" || return 1
                for lib in $(ldd "$src" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
                        [ -e "$dir$lib" ] || { mkdir -p "$dir$(dirname "$lib")" && cp -L "$lib" "$dir$lib"; } || return 1
                done
        done
        printf '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' >"$dir/etc/ld.so.conf"
        ldconfig -r "$dir"
}

# vm_tree_digests DIR PREFIX...: "PATH<TAB>SHA-256" for every regular file under DIR, once for
# each PREFIX ("" for /), PATH being PREFIX and its path in DIR; a symlink's path gets its
# target's digest.
vm_tree_digests() {
        local dir=$1 f digest prefix; shift
        (cd "$dir" && find . -type f -o -type l | while read -r f; do
                digest=$(sha256sum <"$f" | cut -c1-64) || continue
                for prefix in "$@"; do printf '%s%s\t%s\n' "$prefix" "${f#.}" "$digest"; done
        done)
}

# vm_initrd_digests INITRD: "PATH<TAB>SHA-256" for every regular file in the initramfs image
# INITRD (dracut's: a cpio, zstd-compressed here), PATH being its path in the initrd. With
# ima-policy/vmattest.policy IMA measures what runs from the initrd's ramfs/tmpfs root too:
# every program, library and module the initrd runs or loads after `vmattest unlock` loaded the
# policy (cryptsetup, udev's helpers, systemd's generators on daemon-reload, vmattest measure
# of vmattest-leave-initrd.service, ...), under the path it has there (IMA records the resolved
# path, so the initrd's symlinks, bin -> usr/bin and the like, need no entry).
vm_initrd_digests() {
        local img dir
        img=$(realpath "$1") && dir=$(mktemp -d "$TEST_TMP/initrd-files.XXXXXX") || return 1
        (cd "$dir" && lsinitrd --unpack "$img" >/dev/null 2>&1)
        if [ ! -s "$dir/usr/bin/vmattest" ]; then
                echo "vm_initrd_digests: $1 did not unpack (no usr/bin/vmattest)" >&2
                rm -rf "$dir"
                return 1
        fi
        (cd "$dir" && find . -type f -print0 | xargs -0 sha256sum) |
                sed -n 's/^\([0-9a-f]\{64\}\)  \.\(\/.*\)$/\2\t\1/p'
        rm -rf "$dir"
}

# vm_runtime_policy ROOTDIR INITRD: the tenant's golden runtime policy (Keylime's format,
# lib/runtime_policy.h). TEST STAND-IN for `vmattest-policy runtime`, which does not list a tree
# under a second prefix nor unpack an initrd yet (tests/vm/README). It allows:
#   - every file of the root tree ROOTDIR under its path in the root, and under /sysroot as well
#     (systemd in the initrd reads some of the root's files, as root, before switch-root, and
#     IMA records the path it opened);
#   - every regular file of the initrd image INITRD under its path in the initrd
#     (vm_initrd_digests).
# The two trees share paths (/usr/bin/vmattest, and a library or program the root and the
# initrd both carry in different builds): a path lists every digest either tree gives it.
vm_runtime_policy() {
        { vm_tree_digests "$1" "" /sysroot && vm_initrd_digests "$2"; } >"$TEST_TMP/policy-digests" ||
                return 1
        jq -R -n '[inputs | split("\t") | {path: .[0], digest: .[1]}] | group_by(.path) |
                {meta: {version: 1, generator: 0},
                 digests: (map({(.[0].path): (map(.digest) | unique)}) | add), excludes: [],
                 keyrings: {}, ima: {ignored_keyrings: [], log_hash_alg: "sha1", dm_policy: null}}' \
                <"$TEST_TMP/policy-digests"
}

# vm_root_add_intruder DIR: /usr/local/bin/intruder, a program the tenant's runtime policy (made
# before) does not know; root-init.sh runs it with vmattest_test.intruder=1
vm_root_add_intruder() {
        mkdir -p "$1/usr/local/bin"
        printf '#!/bin/sh\necho "VMATTEST-ROOT: the intruder runs"\n' >"$1/usr/local/bin/intruder"
        chmod 0755 "$1/usr/local/bin/intruder"
}

# vm_luks_image IMG KEYFILE DIR: an image (LUKS2, key KEYFILE) holding DIR as ext4, sized to fit.
# Sets VM_LUKS_UUID. Needs no device-mapper on the host.
vm_luks_image() {
        local img=$1 key=$2 dir=$3 mb
        mb=$(( $(du -sm "$dir" | cut -f1) * 3 / 2 + 16 ))
        truncate -s $((mb + 16))M "$img"
        # the filesystem 16 MiB smaller than the file: LUKS2's header takes that room
        mkfs.ext4 -q -F -d "$dir" "$img" ${mb}M || return 1
        cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
                --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$key" "$img" >/dev/null || return 1
        VM_LUKS_UUID=$(cryptsetup luksUUID "$img")
}

# vm_swtpm DIR: a fresh vTPM (EK certificates from swtpm's local CA) serving qemu on DIR/swtpm.sock
vm_swtpm() {
        vm_swtpm_setup "$1" && vm_swtpm_run "$1"
}

# vm_swtpm_setup DIR: a fresh vTPM state in DIR (EK certificates from swtpm's local CA), not running
vm_swtpm_setup() {
        local dir=$1
        mkdir -p "$dir"
        swtpm_setup --tpm2 --tpmstate "$dir" --create-ek-cert --overwrite >"$dir/setup.log" 2>&1 ||
                { cat "$dir/setup.log" >&2; return 1; }
}

# vm_swtpm_run DIR: the vTPM of DIR (made by vm_swtpm) serving qemu on DIR/swtpm.sock with the
# state it kept: for a reboot of the same VM (same EK, same persistent AK; the firmware's
# TPM2_Startup(CLEAR) resets the PCRs). --terminate: it ends with qemu's connection.
vm_swtpm_run() {
        local dir=$1 i
        rm -f "$dir/swtpm.sock"
        swtpm socket --tpm2 --tpmstate dir="$dir" --ctrl type=unixio,path="$dir/swtpm.sock" \
                --log file="$dir/swtpm.log",level=1 --terminate &
        vm_pids+=("$!")
        for ((i = 0; i < 100; i++)); do [ -S "$dir/swtpm.sock" ] && return 0; sleep 0.05; done
        echo "swtpm did not create $dir/swtpm.sock" >&2
        return 1
}

# vm_host_provision DIR HOST-TCTI: `vmattest-host provision` of the vTPM state DIR (made by
# vm_swtpm_setup, before vm_swtpm_run) as libvirt's hook does it before a VM starts: a short-lived
# swtpm on DIR (TCP on loopback), the host TPM HOST-TCTI quotes its PCRs over the vTPM's EK Name,
# the binding goes into the vTPM's NV index; then that swtpm shuts down and the state keeps it.
# VMATTEST_HOST names the program; its output in DIR/provision.log.
vm_host_provision() {
        local dir=$1 port pid i rc=1
        for ((i = 0; i < 8; i++)); do
                port=$(lane_port_pair 10000 10000)
                swtpm socket --tpm2 --tpmstate dir="$dir" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
                        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
                        >"$dir/provision-swtpm.log" 2>&1 &
                pid=$!
                wait_for "the provisioning swtpm" 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$((port + 1))" && break
                kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
        done
        [ -n "$pid" ] || { echo "swtpm did not start on $dir" >&2; return 1; }
        "$VMATTEST_HOST" --tcti "$2" provision --vtpm-tcti "swtpm:host=127.0.0.1,port=$port" >"$dir/provision.log" 2>&1 &&
                rc=0
        swtpm_ioctl --tcp "127.0.0.1:$((port + 1))" -s >/dev/null 2>&1 || kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        [ $rc = 0 ] || cat "$dir/provision.log" >&2
        return $rc
}

# vm_boot NAME INITRD ROOTIMG TPMDIR HOSTFWD-PORT CMDLINE-EXTRA: starts qemu in the background
# (a virtio-rng device, as clouds give: without it the guest's CRNG is ready only ~15 s in); the
# images of the array VM_EXTRA_DRIVES follow the root as further virtio disks (vdb, vdc, ...);
# the array VM_QEMU_EXTRA is appended to qemu's arguments (devices, -qmp, -incoming);
# VM_QEMU_PID, console to $TEST_TMP/NAME.console, the kernel command line in VM_CMDLINE; the
# guest's port 9002 is reachable on the host at 127.0.0.1:HOSTFWD-PORT (none when empty: a
# migration's destination gets its forward once the source is gone, vm_hostfwd), the host's
# loopback from the guest as 10.0.2.2.
vm_boot() {
        local name=$1 initrd=$2 root=$3 tpm=$4 fwd=$5 extra drive drives=()
        for drive in ${VM_EXTRA_DRIVES[@]+"${VM_EXTRA_DRIVES[@]}"}; do drives+=(-drive "file=$drive,if=virtio,format=raw"); done
        # shellcheck disable=SC2086,SC2116 # one line, single spaces
        extra=$(echo $6)
        VM_CMDLINE="console=ttyS0 rd.shell=0 rd.emergency=poweroff panic=-1 $extra"
        VM_CONSOLE="$TEST_TMP/$name.console"
        cp "$OVMF_VARS" "$TEST_TMP/$name.vars.fd"
        : >"$VM_CONSOLE"
        timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 \
                -machine q35 -accel tcg -smp 2 -m 1024 -nodefaults -display none -no-reboot \
                -drive if=pflash,format=raw,readonly=on,file="$OVMF_CODE" \
                -drive if=pflash,format=raw,file="$TEST_TMP/$name.vars.fd" \
                -chardev socket,id=chrtpm,path="$tpm/swtpm.sock" \
                -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
                -drive file="$root",if=virtio,format=raw "${drives[@]}" \
                -netdev user,id=n0${fwd:+,hostfwd=tcp:127.0.0.1:$fwd-:9002} -device virtio-net-pci,netdev=n0 \
                -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
                -serial file:"$VM_CONSOLE" \
                -kernel "$VM_VMLINUZ" -initrd "$initrd" \
                -append "$VM_CMDLINE" \
                ${VM_QEMU_EXTRA[@]+"${VM_QEMU_EXTRA[@]}"} \
                >"$TEST_TMP/$name.qemu.log" 2>&1 &
        VM_QEMU_PID=$!
        vm_pids+=("$VM_QEMU_PID")
}

# vm_qmp SOCKET COMMAND [ARGUMENTS-JSON]: one QMP command on qemu's monitor SOCKET (-qmp
# unix:SOCKET,server=on,wait=off); prints the "return" value as JSON, fails with qemu's error
vm_qmp() {
        python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
f = s.makefile("rw")
def answer():
    while True:
        m = json.loads(f.readline())
        if "event" not in m:
            return m
answer()  # the greeting
f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n"); f.flush(); answer()
cmd = {"execute": sys.argv[2]}
if len(sys.argv) > 3:
    cmd["arguments"] = json.loads(sys.argv[3])
f.write(json.dumps(cmd) + "\n"); f.flush()
m = answer()
if "error" in m:
    print("qemu: %s: %s" % (sys.argv[2], m["error"].get("desc")), file=sys.stderr)
    sys.exit(1)
print(json.dumps(m.get("return")))
PY
}

# vm_migrate SOURCE-QMP DESTINATION-URI SECONDS: live migration of the VM behind SOURCE-QMP to a
# qemu started with -incoming DESTINATION-URI (the same devices; its own swtpm, to which qemu's
# tpm-emulator hands the vTPM's state blobs in the migration stream); waits until it completed
# (0) or failed or time is up (1, qemu's status and error on stderr). The source stays paused
# ("postmigrate") for the caller to quit.
vm_migrate() {
        local qmp=$1 uri=$2 i info status
        # qemu's default of 32 MiB/s is for a network; this is one machine
        vm_qmp "$qmp" migrate-set-parameters '{"max-bandwidth": 1073741824, "downtime-limit": 1000}' >/dev/null &&
                vm_qmp "$qmp" migrate "{\"uri\": \"$uri\"}" >/dev/null || return 1
        for ((i = 0; i < $3 * 2; i++)); do
                info=$(vm_qmp "$qmp" query-migrate) || return 1
                status=$(jq -r .status <<<"$info")
                case $status in
                completed) VM_MIGRATION_INFO=$info; return 0 ;;
                failed | cancelled) echo "migration $status: $(jq -r '."error-desc" // empty' <<<"$info")" >&2; return 1 ;;
                esac
                sleep 0.5
        done
        echo "migration still $status after $3 s" >&2
        return 1
}

# vm_hostfwd QMP PORT: the guest's port 9002 at 127.0.0.1:PORT on the host from now on (a
# migration's destination takes over its source's forward once the source quit)
vm_hostfwd() {
        vm_qmp "$1" human-monitor-command "{\"command-line\": \"hostfwd_add n0 tcp:127.0.0.1:$2-:9002\"}" |
                jq -e '. == ""' >/dev/null
}

# vm_wait: waits for the qemu of vm_boot to end; 0 when the guest powered off, 124 on timeout.
# Copies the console log to VM_LOG_DIR.
vm_wait() {
        local rc
        wait "$VM_QEMU_PID"
        rc=$?
        mkdir -p "$VM_LOG_DIR" && cp "$VM_CONSOLE" "$VM_LOG_DIR/"
        return $rc
}

# vm_console_line PATTERN: the first console line matching the extended regex PATTERN (CRs removed)
vm_console_line() {
        tr -d '\r' <"$VM_CONSOLE" | grep -E -m1 -- "$1"
}

# vm_wait_console PATTERN SECONDS: waits until the console shows PATTERN (0), qemu ended or time
# is up (1)
vm_wait_console() {
        local i
        for ((i = 0; i < $2 * 5; i++)); do
                vm_console_line "$1" >/dev/null && return 0
                kill -0 "$VM_QEMU_PID" 2>/dev/null || { vm_console_line "$1" >/dev/null; return; }
                sleep 0.2
        done
        return 1
}

# vm_agent_id N: waits until the console shows the N-th agent that registered and serves (its
# line "agent ID serving on"; 1: `unlock` in the initrd); prints ID. Fails when qemu ends first.
vm_agent_id() {
        local i
        for ((i = 0; i < VM_TIMEOUT * 5; i++)); do
                [ "$(tr -d '\r' <"$VM_CONSOLE" | grep -cE 'agent [^ ]+ serving on')" -ge "$1" ] && break
                kill -0 "$VM_QEMU_PID" 2>/dev/null || return 1
                sleep 0.2
        done
        tr -d '\r' <"$VM_CONSOLE" | grep -oE 'agent [^ ]+ serving on' | sed -n "$1s/agent \([^ ]*\) .*/\1/p" | grep .
}

# vm_push_agent_id N: as vm_agent_id, for agents in push mode (mode = push, rd.vmattest.mode=push),
# which open no port: their line is "agent ID attesting in push mode to URL"
vm_push_agent_id() {
        local i
        for ((i = 0; i < VM_TIMEOUT * 5; i++)); do
                [ "$(tr -d '\r' <"$VM_CONSOLE" | grep -cE 'agent [^ ]+ attesting in push mode')" -ge "$1" ] && break
                kill -0 "$VM_QEMU_PID" 2>/dev/null || return 1
                sleep 0.2
        done
        tr -d '\r' <"$VM_CONSOLE" | grep -oE 'agent [^ ]+ attesting in push mode' | sed -n "$1s/agent \([^ ]*\) .*/\1/p" | grep .
}

# vm_key_found KEY INITRD...: the files that hold KEY, one a line (none: the key is in no file):
# each INITRD decompressed (dracut's zstd cpio; an appended cpio is read as it is), every file
# under TEST_TMP but disk.key (the tenant's own copy: root image, verifier database, logs,
# consoles) and the console logs copied to VM_LOG_DIR
vm_key_found() {
        local key=$1 img; shift
        for img in "$@"; do
                if zstd -dcq "$img" 2>/dev/null | grep -qaF -- "$key" || grep -qaF -- "$key" "$img"; then
                        echo "$img (decompressed)"
                fi
        done
        grep -rlaF --exclude=disk.key -- "$key" "$TEST_TMP"
        grep -rlaF -- "$key" "$VM_LOG_DIR" 2>/dev/null
        return 0
}

# vm_mb_policy INITRD CMDLINE: the tenant's measured-boot policy (lib/mb_policy.h) for INITRD
# booted with CMDLINE, made by vmattest-policy from the files alone: PCR 9 holds exactly two
# EV_EVENT_TAG events, the EFI stub's digests of the initrd and of the command line as OVMF hands
# it over (" initrd=initrd" appended: OVMF's loader for qemu -kernel adds it when qemu has
# -initrd). PCR 4 (the kernel as qemu patched it) is not pinned: see README.
vm_mb_policy() {
        "$VMATTEST_POLICY" measured-boot -q --initrd "$1" --cmdline "$2 initrd=initrd"
}

# vm_test_confdir DIR: the agent configuration the test initrds carry as /etc/vmattest (the
# module's VMATTEST_CONFDIR): agent.conf for a guest behind qemu's user network (the registrar's
# port, the contact address and the volume come from rd.vmattest.* on the command line), the
# tenant's verifier CA, and the IMA policy vmattest ships (ima-policy/vmattest.policy). The tenant PKI (VM_PKI: verifier-ca.pem, verifier-client.{pem,key})
# is made once and cached, so that the initrd cache key stays the same from run to run.
vm_test_confdir() {
        local dir=$1
        VM_PKI="$CACHE/vm-pki"
        if [ ! -s "$VM_PKI/verifier-client.key" ]; then
                rm -rf "$VM_PKI.tmp" && mkdir -p "$VM_PKI.tmp"
                # as tenant_pki of tests/integration/lib.sh, but valid for ten years: it is cached
                (cd "$VM_PKI.tmp" &&
                 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
                        -subj /CN=vm-test-verifier-ca -keyout verifier-ca.key -out verifier-ca.pem &&
                 openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=verifier \
                        -keyout verifier-client.key -out verifier-client.csr &&
                 openssl x509 -req -in verifier-client.csr -CA verifier-ca.pem -CAkey verifier-ca.key \
                        -CAcreateserial -days 3650 -out verifier-client.pem) >/dev/null 2>&1 || return 1
                rm -rf "$VM_PKI" && mv "$VM_PKI.tmp" "$VM_PKI"
        fi
        mkdir -p "$dir"
        cp "$VM_PKI/verifier-ca.pem" "$dir/verifier-ca.pem"
        # the CA of the verifier's TLS port, at agent.conf's default verifier_tls_ca_cert: the
        # module installs it for rd.vmattest.mode=push (test-boot-push.sh); the tenant's CA here
        cp "$VM_PKI/verifier-ca.pem" "$dir/verifier-tls-ca.pem"
        cat >"$dir/agent.conf" <<CONF
# vmattest VM tests: the agent configuration in the test initrd (tests/vm/lib.sh)
[agent]
# qemu's user network: the guest is 10.0.2.15, the host's loopback is 10.0.2.2
ip = "0.0.0.0"
port = 9002
registrar_ip = "10.0.2.2"
registrar_tls = false
trusted_client_ca = "/etc/vmattest/verifier-ca.pem"
CONF
        cp "$VM_ROOT/ima-policy/vmattest.policy" "$dir/ima-policy"
}

# vm_keylime_cv_ca DIR: a TLS directory for Keylime's verifier, registrar and tenant in Keylime's
# own layout (its cv_ca: cacert.crt, server-cert.crt, server-private.pem, client-cert.crt,
# client-private.pem) made from the VM tests' tenant PKI (VM_PKI, from vm_test_confdir): the CA
# is the one the test initrds trust as trusted_client_ca, the client certificate the one
# vmattest-verifier uses, and the server certificate (127.0.0.1 and localhost, ten years, for
# Keylime's verifier and registrar) is made once into VM_PKI. Put at $KEYLIME_DIR/cv_ca before
# Keylime's first start, Keylime uses it as it finds it (tls_dir = generate makes a new CA only
# when cv_ca/cacert.crt is missing): a CA of Keylime's making would be new at every run, and the
# initrd that must trust it would be built again each time (the initrd cache keys on its files).
vm_keylime_cv_ca() {
        local dir=$1
        if [ ! -s "$VM_PKI/keylime-server.key" ]; then
                (cd "$VM_PKI" &&
                 openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=keylime-server \
                        -keyout keylime-server.key.tmp -out keylime-server.csr &&
                 printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n' >keylime-server.ext &&
                 openssl x509 -req -in keylime-server.csr -CA verifier-ca.pem -CAkey verifier-ca.key \
                        -CAcreateserial -days 3650 -extfile keylime-server.ext -out keylime-server.pem &&
                 mv keylime-server.key.tmp keylime-server.key) >/dev/null 2>&1 || return 1
        fi
        mkdir -p "$dir" && chmod 0700 "$dir"
        install -m 0644 "$VM_PKI/verifier-ca.pem" "$dir/cacert.crt"
        install -m 0644 "$VM_PKI/keylime-server.pem" "$dir/server-cert.crt"
        install -m 0600 "$VM_PKI/keylime-server.key" "$dir/server-private.pem"
        install -m 0644 "$VM_PKI/verifier-client.pem" "$dir/client-cert.crt"
        install -m 0600 "$VM_PKI/verifier-client.key" "$dir/client-private.pem"
}
