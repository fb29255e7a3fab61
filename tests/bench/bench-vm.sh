#!/bin/bash
# The early-boot part of make bench (called by bench.sh; ROWS-FILE gets table rows in its format):
#   - the initrd with and without our module (the same dracut modules otherwise: the systemd,
#     network and crypt modules our module depends on, and dracut's own tpm2-tss module),
#     uncompressed and as dracut compresses it, and what the difference is made of;
#   - `vmattest unlock` in real boots (tests/vm's harness, TCG), pull (the verifier polls the
#     guest's forwarded port) and push (rd.vmattest.mode=push: the agent sends its evidence to the
#     verifier's TLS port) in interleaved boots: from its start to the key handed to cryptsetup,
#     split as its "unlock: timing:" line reports it (TPM, own CPU, waiting), against the guest's
#     boot up to the moment the unit starts (the reference, same boots); targets of issue 12.
# Usage: tests/bench/bench-vm.sh ROWS-FILE   (BENCH_VM_RUNS boots of each mode, default 3)
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
VM_DRACUT_MODULES="vmattest bash qemu qemu-net" # the tests' modules, for the boots below
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

# ---- unlock in real boots, pull and push interleaved ----------------------------------------------
vm_rootfs rootfs bench && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" || exit 1
printf 'bench-disk-key-%s' "$(openssl rand -hex 16)" >disk.key
vm_luks_image root.img disk.key rootfs >/dev/null || exit 1
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
# push mode: the guest reaches the verifier's TLS port on the host's loopback as 10.0.2.2
# (rd.vmattest.verifier), its certificate from the tenant CA the test initrds trust already
tls_port=$(random_port)
registrar_cert "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-ca.key" "IP:10.0.2.2,IP:127.0.0.1" || exit 1
verifier_config verifier.conf "$(registrar_tls_config "$tls_port" "$VM_PKI/verifier-ca.pem")
$(verifier_poll_config)"
# a long poll interval: a step of the release that waits for the next poll instead of following
# the last one at once shows in the wait
sed -i 's/^quote_interval = 1$/quote_interval = 30/' verifier.conf
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf
verifier_start verifier.conf && wait_port "$VERIFIER_PID" "$tls_port" || exit 1
# the tests' initrd for both modes: rd.vmattest.mode picks one at boot
VM_DRACUT_MODULES="vmattest bash qemu qemu-net" vm_initrd "$TEST_TMP/unlock.img" >/dev/null || exit 1
echo '{}' >tpm-policy.json
uuid=$VM_LUKS_UUID
: >seen.txt
# activated MODE-N: the id of the agent the registrar activated last that no earlier boot had
activated() {
        local i id
        for ((i = 0; i < VM_TIMEOUT * 50; i++)); do
                id=$(sed -n 's/.*registrar: agent \([^ ]*\) activated.*/\1/p' "$TEST_TMP/verifier.log" |
                        grep -vxF -f seen.txt | head -n 1)
                [ -z "$id" ] || { echo "$id" >>seen.txt; echo "$id"; return 0; }
                kill -0 "$VM_QEMU_PID" 2>/dev/null || return 1
                sleep 0.02
        done
        return 1
}
for ((i = 0; i < runs; i++)); do
        for mode in pull push; do
                vm_swtpm "$TEST_TMP/tpm-$mode$i" || exit 1
                fwd=$(random_port)
                vm_boot "bench-$mode$i" unlock.img root.img "$TEST_TMP/tpm-$mode$i" "$fwd" \
                        "rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
                        rd.vmattest.registrar=10.0.2.2:$VERIFIER_PORT rd.vmattest.contact=127.0.0.1:$fwd rd.vmattest.timeout=120
                        rd.vmattest.fallback=poweroff rd.vmattest.mode=$mode rd.vmattest.verifier=https://10.0.2.2:$tls_port
                        vmattest_test.mode=none"
                vm_mb_policy unlock.img "$VM_CMDLINE" >mb.json # while the guest boots
                # the tenant enrolls the moment the registrar activated the agent, as a tenant's
                # automation would
                agent=$(activated) || { echo "bench-vm: $mode boot $i: no agent" >&2; exit 1; }
                # shellcheck disable=SC2046
                "$VMATTEST_VERIFIER" --config verifier.conf add --agent "$agent" --policy tpm-policy.json \
                        --mb-policy mb.json --payload disk.key $([ "$mode" = pull ] || echo --push) >/dev/null
                vm_wait
                timing=$(vm_console_line 'unlock: timing:') ||
                        { echo "bench-vm: $mode boot $i: no unlock timing line" >&2; tail -n 40 "$VM_CONSOLE" >&2; exit 1; }
                # "... after T ms: serving after S ms (TPM P ms), waiting for the verifier's key W ms
                # (TPM X ms), CPU C ms (user U, system Y)"; an agent from before the wait's TPM
                # share: X is "-"
                sed -E 's/.*after ([0-9]+) ms: serving after ([0-9]+) ms \(TPM ([0-9]+) ms\), waiting for the verifier.s key ([0-9]+) ms( \(TPM ([0-9]+) ms\))?, CPU ([0-9]+) ms \(user ([0-9]+), system ([0-9]+)\).*/\1 \2 \3 \4 \7 \8 \9 \6/; s/ $/ -/' \
                        <<<"$timing" >>"$mode.txt"
                vm_console_line 'unlock: attesting to the verifier' | sed -E 's/^\[ *([0-9.]+)\].*/\1/' |
                        awk '{ printf "%.0f\n", $1 * 1000 }' >>"boot-$mode.txt"
                "$VMATTEST_VERIFIER" --config verifier.conf delete --agent "$agent" >/dev/null
        done
done
# line3 LABEL FILE COLUMN [TARGET THRESHOLD]: min, median and max of a column, its verdict
line3() {
        local a b c
        cut -d' ' -f"$3" "$2" >"$2.col$3"
        read -r a b c <<<"$(stats "$2.col$3")"
        row '%-48s %9s %9s %9s %10s %7s' "$1" "$a" "$b" "$c" "${4:-}" "${5:+$(verdict "$b" "${5:-}")}"
}
for mode in pull push; do
        line3 "unlock VM $mode: start to key handed over, ms" "$mode.txt" 1 "<= 2000" 2000
        line3 "  start to serving (EK, AK, register, key), ms" "$mode.txt" 2
        line3 "  of which the TPM (all TPM calls, wall), ms" "$mode.txt" 3
        line3 "  own CPU, all threads (user + system), ms" "$mode.txt" 5 "<= 500" 500
        line3 "    user, ms" "$mode.txt" 6
        line3 "    system (incl. the guest's TPM driver), ms" "$mode.txt" 7
        line3 "  waiting for the verifier's key, ms" "$mode.txt" 4 "<= 300" 300
        grep -qv ' -$' "$mode.txt" && line3 "    of which the TPM (quotes, certify), ms" "$mode.txt" 8
        line3 "  guest boot before unlock (reference), ms" "boot-$mode.txt" 1
done
read -r _ total_med _ <<<"$(cut -d' ' -f1 pull.txt | sort -g | awk '{ v[NR] = $1 } END { print 0, v[int((NR + 1) / 2)], 0 }')"
read -r _ boot_med _ <<<"$(stats boot-pull.txt)"
row '%-48s %29s %10s %7s' "  ratio unlock / boot before it (pull, medians)" "$(awk -v a="$total_med" -v b="$boot_med" 'BEGIN { printf "%.2f", a / b }')" "" ""
echo "$runs" >"$rows_file.runs"
