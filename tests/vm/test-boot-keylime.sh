#!/bin/bash
# The early boot against an unmodified Keylime 7.14.3 (its registrar, verifier and tenant from
# build/keylime-venv, started by tests/interop/lib.sh on the host's loopback): the same initrd as
# test-boot-unlock.sh, whose `vmattest unlock` registers with Keylime's registrar over plain
# HTTP (10.0.2.2 from the guest) and serves the agent API through qemu's host forward. One VM
# (one vTPM, kept across its reboots: same EK, same persistent AK), three boots with one command
# line:
#   1 add       the tenant runs `keylime_tenant -c add --tpm_policy P -f disk.key` once the
#               initrd's agent registered, P pinning PCR 9 (the EFI stub's digests of this
#               initrd and this command line); Keylime's tenant sends U, its verifier V after a
#               good quote, the agent opens the payload (the LUKS passphrase) and the root
#               unlocks; the runtime agent takes the identity over after switch-root and
#               Keylime's verifier goes on polling it
#   2 reboot    nothing from the tenant: Keylime delivers V once per `add`, and the rebooted
#               initrd has a new mTLS certificate and a new payload key, so no key comes; the
#               bound runs out and the fallback (poweroff) runs
#   3 update    the tenant runs `keylime_tenant -c update` with the same arguments (delete, then
#               add: the registrar's new mTLS certificate, a new identity quote, new U and V):
#               the root unlocks again and Keylime polls the runtime agent again
# Then: the disk key is in no file (Keylime's databases and logs included).
#
# Keylime's TLS directory (cv_ca) is made from the VM tests' cached PKI (vm_keylime_cv_ca): the
# CA the initrd trusts for its clients is the CA of Keylime's verifier's and tenant's client
# certificate, and stays the same from run to run, so the initrd comes from the cache.
. "$(dirname "$0")/lib.sh"
# tests/interop/lib.sh sources tests/integration/lib.sh a second time: one TEST_TMP is enough
vm_tmp=$TEST_TMP
. tests/interop/lib.sh
rmdir "$TEST_TMP"
TEST_TMP=$vm_tmp

# Keylime's logs beside the consoles (VM_LOG_DIR), whatever the result
keylime_vm_logs() {
        local name
        [ -d "$TEST_TMP/keylime" ] || return 0
        mkdir -p "$VM_LOG_DIR"
        for name in verifier registrar; do
                [ -f "$TEST_TMP/keylime/$name.log" ] && cp "$TEST_TMP/keylime/$name.log" "$VM_LOG_DIR/keylime-$name.log"
        done
}
keylime_vm_cleanup() {
        keylime_stop
        keylime_vm_logs
        vm_cleanup
}
trap keylime_vm_cleanup EXIT
plan 19

missing=$(vm_missing_tools)
if [ -n "$missing" ]; then
        not_ok "VM test tools: $missing"
        exit 1
fi
t0=$EPOCHREALTIME

# ---- host side: kernel, initrd, root image, Keylime ------------------------------------------------
if vm_step kernel vm_kernel; then
        ok "kernel $KPKG unpacked with its modules in $CACHE"
else
        not_ok "kernel"; exit 1
fi
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test configuration"; exit 1; }
VMATTEST_BIN=$VMATTEST VMATTEST_CONFDIR="$TEST_TMP/etc-vmattest"
VM_DRACUT_MODULES="vmattest bash qemu qemu-net" # as test-boot-unlock.sh: the same image
if vm_step initrd vm_initrd "$TEST_TMP/initrd.img"; then
        ok "the initrd with module vmattest ($(du -m "$TEST_TMP/initrd.img" | cut -f1) MB), the one test-boot-unlock.sh boots"
else
        not_ok "the initrd with module vmattest"; exit 1
fi

cd "$TEST_TMP" || exit 1
# the tenant's disk key: the LUKS passphrase, the payload Keylime's tenant delivers
printf 'vm-disk-key-%s' "$(openssl rand -hex 24)" >disk.key
marker="vmattest-root-$RANDOM$RANDOM"
vm_rootfs rootfs "$marker" && vm_root_add_agent rootfs "$VMATTEST_CONFDIR" || { not_ok "root file system"; exit 1; }
if vm_step luks-image vm_luks_image root.img disk.key rootfs; then
        ok "LUKS2 root image $VM_LUKS_UUID ($(du -m root.img | cut -f1) MB, busybox and the runtime agent)"
else
        not_ok "LUKS2 root image"; exit 1
fi
uuid=$VM_LUKS_UUID

vm_keylime_cv_ca "$TEST_TMP/keylime/cv_ca" || { not_ok "Keylime's TLS directory"; exit 1; }
if vm_step keylime keylime_start && cmp -s keylime/cv_ca/cacert.crt etc-vmattest/verifier-ca.pem; then
        ok "Keylime's registrar and verifier run with the prepared cv_ca: their CA is the initrd's trusted_client_ca"
else
        not_ok "Keylime's registrar and verifier run with the prepared cv_ca"; keylime_log_diag; exit 1
fi

# One command line for every boot, as a VM keeps it across reboots: the tenant's PCR 9 holds
FWD_PORT=$(random_port)
cmdline="rd.luks.uuid=$uuid root=/dev/mapper/luks-$uuid rootfstype=ext4 fsck.mode=skip rd.vmattest.volume=$uuid
        rd.vmattest.registrar=10.0.2.2:$KEYLIME_REGISTRAR_PORT rd.vmattest.contact=127.0.0.1:$FWD_PORT
        rd.vmattest.timeout=60 rd.vmattest.fallback=poweroff vmattest_test.mode=runtime vmattest_test.hold=15"

# pcr9_policy INITRD CMDLINE: the tenant's tpm_policy, PCR 9 as the EFI stub leaves it: extended
# with SHA-256 of the command line as OVMF hands it over (UTF-16LE, " initrd=initrd" appended,
# NUL-terminated), then with SHA-256 of the initrd file (the order of the boot fixtures' log)
pcr9_policy() {
        /usr/bin/python3 - "$1" "$2" <<'PY'
import hashlib, json, sys
initrd = hashlib.sha256(open(sys.argv[1], "rb").read()).digest()
cmdline = hashlib.sha256((sys.argv[2] + " initrd=initrd").encode("utf-16-le") + b"\0\0").digest()
pcr = bytes(32)
for digest in (cmdline, initrd):
    pcr = hashlib.sha256(pcr + digest).digest()
print(json.dumps({"9": [pcr.hex()]}))
PY
}

# boot NAME: the VM (its vTPM in $TEST_TMP/tpm, made at the first boot) boots; BOOT_T0
boot() {
        if [ -d "$TEST_TMP/tpm" ]; then vm_swtpm_run "$TEST_TMP/tpm"; else vm_swtpm "$TEST_TMP/tpm"; fi || return 1
        BOOT_T0=$EPOCHREALTIME
        vm_boot "$1" initrd.img root.img "$TEST_TMP/tpm" "$FWD_PORT" "$cmdline"
}
boot_time() {
        printf '# step %-24s %6.1f s\n' "boot $1" "$(awk "BEGIN { print $EPOCHREALTIME - $BOOT_T0 }")"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-ROOT:|vmattest.*(unlock|agent|registrar|taking over)' |
                sed 's/^/#   /' | cut -c1-200
}
line() { vm_console_line "$1" >/dev/null; }
# regcert: the mTLS certificate Keylime's registrar holds for the agent (SHA-256 fingerprint)
regcert() {
        keylime_tenant -c regstatus -u "$AGENT_ID" 2>&1 | sed -n '/Agent Info from Registrar/{n;p}' |
                jq -r --arg id "$AGENT_ID" '.[$id].mtls_cert' | openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
# state: Keylime's verifier's view of the agent: operational state, attestation status, last event
state() { keylime_cvstatus "$AGENT_ID" | jq -r '"\(.operational_state), \(.attestation_status), \(.last_event_id // "no event")"'; }
# tenant OUT ARGS...: keylime_tenant ARGS with its output in OUT
tenant() { local out=$1; shift; keylime_tenant "$@" >"$out" 2>&1; }
polled() { [ "$(keylime_field "$AGENT_ID" attestation_count)" -ge "$1" ] 2>/dev/null; }

# unlocked BOOT TENANT-OUT: the checks of a boot in which the tenant acted (1 and 3)
unlocked() {
        local from=? polls_ok=no count=?
        # the runtime agent serves after switch-root: Keylime's verifier must go on polling it
        if vm_wait_console 'VMATTEST-ROOT: runtime agent: .*serving on' "$VM_TIMEOUT"; then
                from=$(keylime_field "$AGENT_ID" attestation_count)
                wait_for "three more polls" 18 polled $((from + 3)) && polls_ok=yes
                count=$(keylime_field "$AGENT_ID" attestation_count)
        fi
        vm_wait; qemu_rc=$?
        boot_time "$1"
        if line ' /v2\.6/keys/ukey -> 200 ' && line ' /v2\.6/keys/vkey -> 200 ' && line 'K authenticated, payload opened' &&
                line "unlock: answered cryptsetup:/dev/disk/by-uuid/$uuid" && line 'unlock: done'; then
                ok "boot $1: Keylime delivered U (tenant) and V (verifier), the agent opened the payload and answered systemd-cryptsetup"
        else
                not_ok "boot $1: Keylime delivered U and V and unlock answered systemd-cryptsetup"
                diag <"$2"; keylime_log_diag
        fi
        if line "^VMATTEST-ROOT: marker $marker\$"; then
                ok "boot $1: the root unlocked and switch-root ran its /sbin/init (marker printed)"
        else
                not_ok "boot $1: the root unlocked and switch-root ran its /sbin/init (marker printed)"
        fi
        if line "^VMATTEST-ROOT: runtime agent: .*taking over agent $AGENT_ID from the initrd" && [ "$polls_ok" = yes ] &&
                [ "$(state)" = "Get Quote, PASS, no event" ]; then
                ok "boot $1: the runtime agent took the identity over; Keylime's verifier polled it after switch-root ($from -> $count good attestations, Get Quote, PASS)"
        else
                not_ok "boot $1: the runtime agent took the identity over and Keylime kept polling it (polls ok: $polls_ok; $(state))"
                keylime_log_diag
        fi
        if [ "$qemu_rc" -eq 0 ] && line '^VMATTEST-ROOT: powering off'; then
                ok "boot $1: the VM powered off by itself"
        else
                not_ok "boot $1: the VM powered off by itself (qemu exit $qemu_rc, 124: timeout)"
                tr -d '\r' <"$VM_CONSOLE" | tail -n 30 | diag
        fi
}

# ---- boot 1: the tenant adds the agent -------------------------------------------------------------
boot first || { not_ok "boot 1"; exit 1; }
AGENT_ID=$(vm_agent_id 1)
tpm_policy=$(pcr9_policy initrd.img "$VM_CMDLINE")
tenant_args=(-t 127.0.0.1 -tp "$FWD_PORT" -u "$AGENT_ID" --tpm_policy "$tpm_policy" -f disk.key)
if [ -n "$AGENT_ID" ] && line 'unlock: registered' &&
        [ "$(keylime_tenant -c regstatus -u "$AGENT_ID" 2>&1 | sed -n '/Agent Info from Registrar/{n;p}' |
                jq -r --arg id "$AGENT_ID" '.[$id] | "\(.ip):\(.port)"')" = "127.0.0.1:$FWD_PORT" ]; then
        # (Keylime's registrar shows an agent once it activated)
        ok "boot 1: unlock in the initrd registered and activated with Keylime's registrar (plain HTTP), contact 127.0.0.1:$FWD_PORT"
else
        not_ok "boot 1: unlock in the initrd registered and activated with Keylime's registrar"; keylime_log_diag
fi
cert1=$(regcert)
if vm_step tenant-add tenant add.out -c add "${tenant_args[@]}" && grep -q 'added to Verifier' add.out; then
        ok "boot 1: keylime_tenant -c add --tpm_policy (PCR 9: this initrd and command line) -f disk.key"
else
        not_ok "boot 1: keylime_tenant -c add --tpm_policy -f disk.key"; tail -n 15 add.out | diag
fi
unlocked 1 add.out

# ---- boot 2: a reboot, nothing from the tenant ------------------------------------------------------
count1=$(keylime_field "$AGENT_ID" attestation_count) # boot 1's VM is off: no poll can pass now
boot reboot || { not_ok "boot 2"; exit 1; }
id2=$(vm_agent_id 1)
cert2=$(regcert)
vm_wait; qemu_rc=$?
boot_time 2
after_reboot=$(state)
if [ "$id2" = "$AGENT_ID" ] && [ -n "$cert2" ] && [ "$cert2" != "$cert1" ]; then
        ok "boot 2: the same agent (same EK and AK) registered again with Keylime's registrar, with a new mTLS certificate"
else
        not_ok "boot 2: the same agent registered again with a new mTLS certificate (id ${id2:-none}; certificate ${cert2:-none})"
fi
if [ "$qemu_rc" -eq 0 ] && line 'unlock: failed after .*no key from the verifier within 60 s; fallback: poweroff' &&
        ! line 'unlock: answered' && ! line 'VMATTEST-ROOT: marker'; then
        ok "boot 2: no V from Keylime without the tenant: unlock gave up after its 60 s and the fallback powered the VM off, root locked"
else
        not_ok "boot 2: no key without the tenant, the fallback ran (qemu exit $qemu_rc)"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'vmattest|VMATTEST' | tail -n 20 | diag
fi
# Keylime's verifier kept trying the enrolled agent through the reboot, over TLS that trusts the
# mTLS certificate of boot 1 only: no request got through to the rebooted agent (which logs each)
# and no attestation passed. Its state is then a retry, a request still waiting for its timeout
# ("Get Quote") or, once the retries ran out, a failure: which one depends on timing alone.
count2=$(keylime_field "$AGENT_ID" attestation_count)
echo "# Keylime's verifier after the reboot: $after_reboot; good attestations $count1 -> $count2"
if [ -n "$count1" ] && [ "$count2" = "$count1" ] && ! line '10\.0\.2\.2:[0-9]+ /[^ ]* -> [0-9]{3} '; then
        ok "boot 2: none of the verifier's requests reached the rebooted agent (new mTLS certificate), no attestation passed ($count1 -> $count2; $after_reboot)"
else
        not_ok "boot 2: no request reached the rebooted agent and no attestation passed ($count1 -> $count2; $after_reboot)"
        tr -d '\r' <"$VM_CONSOLE" | grep -E ' -> [0-9]{3} ' | head -n 5 | diag; keylime_log_diag
fi

# ---- boot 3: the tenant enrolls the agent again for this boot -------------------------------------
boot update || { not_ok "boot 3"; exit 1; }
id3=$(vm_agent_id 1)
if [ "$id3" = "$AGENT_ID" ] && vm_step tenant-update tenant update.out -c update "${tenant_args[@]}" &&
        grep -q 'added to Verifier' update.out; then
        ok "boot 3: keylime_tenant -c update with the same arguments (delete, add: new mTLS certificate, new U and V)"
else
        not_ok "boot 3: keylime_tenant -c update with the same arguments (agent ${id3:-none})"; tail -n 15 update.out | diag
fi
unlocked 3 update.out

# ---- the key is in no file ---------------------------------------------------------------------
keylime_vm_logs
key=$(cat disk.key)
{ grep -rlaF --exclude=disk.key --exclude=key-found "$key" "$TEST_TMP"; grep -rlaF "$key" "$VM_LOG_DIR"; } >key-found
if [ ! -s key-found ] && [ -s keylime/cv_data.sqlite ] && [ -s first.console ]; then
        ok "the disk key is in no file: root image, Keylime's databases and logs, the tenant's output, consoles"
else
        not_ok "the disk key is in: $(tr '\n' ' ' <key-found)"
fi
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
