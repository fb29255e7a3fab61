#!/bin/bash
# The early-boot part of make bench (called by bench.sh; ROWS-FILE gets table rows in its format):
#   - the initrd with and without our module (the same dracut modules otherwise: the systemd,
#     network and crypt modules our module depends on, and dracut's own tpm2-tss module),
#     uncompressed and as dracut compresses it, and what the difference is made of;
#   - `vmattest unlock` in real boots (tests/vm's harness, TCG): from its start to the key handed
#     to cryptsetup, split as its "unlock: timing:" line reports it (TPM, own CPU, waiting),
#     against the guest's boot up to the moment the unit starts (the reference, same boots).
# Usage: tests/bench/bench-vm.sh ROWS-FILE   (BENCH_VM_RUNS boots, default 3)
rows_file=$1
. "$(dirname "$0")/../vm/lib.sh"
VMATTEST=$VM_ROOT/build/release/vmattest
VMATTEST_VERIFIER=$VM_ROOT/build/release/vmattest-verifier
runs=${BENCH_VM_RUNS:-3}

row() { printf "$@" >>"$rows_file"; printf '\n' >>"$rows_file"; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print v <= t ? "ok" : "MISSED" }'; }
stats() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.0f %.0f %.0f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
unpack() { rm -rf "$2" && mkdir -p "$2" && (cd "$2" && zstd -dcq "$1" | cpio -id --quiet 2>/dev/null); }

vm_kernel >/dev/null || { echo "bench-vm: no kernel" >&2; exit 1; }
vm_test_confdir "$TEST_TMP/etc-vmattest" || exit 1
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest"
# the dracut modules our module depends on; "+ tpm2-tss" adds dracut's own TPM module (tss2,
# tpm2-tools and their libraries): the issue's "the TPM and network libraries that dracut's own
# modules carry"
base_modules="bash qemu qemu-net systemd systemd-initrd systemd-udevd udev-rules systemd-networkd crypt"
build() { VM_DRACUT_MODULES=$2 vm_initrd "$TEST_TMP/$1.img" >/dev/null && unpack "$TEST_TMP/$1.img" "$TEST_TMP/$1"; }
build with "vmattest $base_modules" && build without "$base_modules" &&
        build with-tss "vmattest $base_modules tpm2-tss" && build without-tss "$base_modules tpm2-tss" || exit 1
VM_DRACUT_MODULES="vmattest bash qemu qemu-net" # the tests' initrd, for the boots below
vm_initrd "$TEST_TMP/boot.img" >/dev/null || exit 1
cd "$TEST_TMP" || exit 1
kib() { awk '{ s += $1 } END { printf "%.0f", s / 1024 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
size() { du -sb "$1" | cut -f1; }
# added A B: "size path" of the files only A has
added() { join -1 2 -2 1 -v 1 <(cd "$1" && find . -type f -printf '%s %P\n' | sort -k2) \
        <(cd "$2" && find . -type f -printf '%P\n' | sort) | awk '{ print $2, $1 }'; }
added with without >added.list
added with-tss without-tss >added-tss.list
growth=$(mib $(( $(size with-tss) - $(size without-tss) )))
row '%-48s %29s %10s %7s' "initrd, dracut's TPM and network modules, MiB" "$(mib "$(size without-tss)")" "" ""
row '%-48s %29s %10s %7s' "  the same with the vmattest module, MiB" "$(mib "$(size with-tss)")" "" ""
row '%-48s %29s %10s %7s' "  growth, uncompressed MiB" "$growth" "< 2" "$(verdict "$growth" 1.99)"
row '%-48s %29s %10s %7s' "  growth, zstd as dracut writes it, MiB" \
        "$(mib $(( $(stat -c %s with-tss.img) - $(stat -c %s without-tss.img) )))" "" ""
row '%-48s %29s %10s %7s' "initrd the tests boot (no tpm2-tss module), MiB" "$(mib "$(size with)")" "" ""
row '%-48s %29s %10s %7s' "  growth over the same without vmattest, MiB" "$(mib $(( $(size with) - $(size without) )))" "" ""
row '%-48s %29s %10s %7s' "    the agent, KiB" "$(grep -E ' usr/bin/vmattest$' added.list | kib)" "" ""
row '%-48s %29s %10s %7s' "    TPM libraries (tss2), KiB" "$(grep -E 'libtss2' added.list | kib)" "" ""
row '%-48s %29s %10s %7s' "    libevent, inih, config, CA, IMA policy, KiB" "$(grep -E 'libevent|libinih| etc/' added.list | kib)" "" ""
row '%-48s %29s %10s %7s' "    anything else, KiB" "$(grep -vE ' usr/bin/vmattest$|libtss2|libevent|libinih| etc/' added.list | kib)" "" ""
echo "bench-vm: what else the module adds to the tests' initrd:"; grep -vE ' usr/bin/vmattest$|libtss2|libevent|libinih| etc/' added.list | sort -rn | head -n 8

# ---- unlock in real boots ------------------------------------------------------------------------
vm_rootfs rootfs bench && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" || exit 1
printf 'bench-disk-key-%s' "$(openssl rand -hex 16)" >disk.key
vm_luks_image root.img disk.key rootfs >/dev/null || exit 1
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
verifier_config verifier.conf "$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf
verifier_start verifier.conf || exit 1
echo '{}' >tpm-policy.json
uuid=$VM_LUKS_UUID
for ((i = 0; i < runs; i++)); do
        vm_swtpm "$TEST_TMP/tpm$i" || exit 1
        fwd=$(random_port)
        vm_boot "bench$i" boot.img root.img "$TEST_TMP/tpm$i" "$fwd" \
                "rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
                rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.contact=127.0.0.1:$fwd rd.vmattest.timeout=120
                rd.vmattest.fallback=poweroff vmattest_test.mode=none"
        # the tenant enrolls as soon as the agent registered, as a tenant's automation would
        agent=$(vm_agent_id 1) || { echo "bench-vm: boot $i: no agent" >&2; exit 1; }
        vm_mb_policy boot.img "$VM_CMDLINE" >mb.json
        "$VMATTEST_VERIFIER" --config verifier.conf add --agent "$agent" --policy tpm-policy.json \
                --mb-policy mb.json --payload disk.key >/dev/null
        vm_wait
        timing=$(vm_console_line 'unlock: timing:') || { echo "bench-vm: boot $i: no unlock timing line" >&2; exit 1; }
        # "... after T ms: serving after S ms (TPM P ms), waiting for the verifier's key W ms, CPU C ms (user U, system Y)"
        read -r total serving tpm wait cpu user sys < <(sed -E 's/.*after ([0-9]+) ms: serving after ([0-9]+) ms \(TPM ([0-9]+) ms\), waiting for the verifier.s key ([0-9]+) ms, CPU ([0-9]+) ms \(user ([0-9]+), system ([0-9]+)\).*/\1 \2 \3 \4 \5 \6 \7/' <<<"$timing")
        start=$(vm_console_line 'unlock: attesting to the verifier' | sed -E 's/^\[ *([0-9.]+)\].*/\1/')
        echo "$total" >>total.txt; echo "$serving" >>serving.txt; echo "$tpm" >>tpm.txt; echo "$wait" >>wait.txt
        echo "$cpu" >>cpu.txt; echo "$user" >>user.txt; echo "$sys" >>sys.txt
        awk -v s="$start" 'BEGIN { printf "%.0f\n", s * 1000 }' >>boot.txt
        "$VMATTEST_VERIFIER" --config verifier.conf delete --agent "$agent" >/dev/null
done
line3() { read -r a b c <<<"$(stats "$2")"; row '%-48s %9s %9s %9s %10s %7s' "$1" "$a" "$b" "$c" "${3:-}" "${4:-}"; }
line3 "unlock (VM, TCG): start to key handed over, ms" total.txt
line3 "  start to serving (IMA policy, EK, AK, register), ms" serving.txt
line3 "    of which the TPM, ms" tpm.txt
line3 "  waiting for the verifier's key, ms" wait.txt
read -r _ cpu_med _ <<<"$(stats cpu.txt)"
line3 "  own CPU, all threads (user + system), ms" cpu.txt "< 100" "$(verdict "$cpu_med" 99)"
line3 "    user, ms" user.txt
line3 "    system (incl. the guest's TPM driver), ms" sys.txt
line3 "guest boot until unlock starts (reference), ms" boot.txt
read -r _ total_med _ <<<"$(stats total.txt)"
read -r _ boot_med _ <<<"$(stats boot.txt)"
row '%-48s %29s %10s %7s' "  ratio unlock / boot before it (medians)" "$(awk -v a="$total_med" -v b="$boot_med" 'BEGIN { printf "%.2f", a / b }')" "" ""
echo "$runs" >"$rows_file.runs"
