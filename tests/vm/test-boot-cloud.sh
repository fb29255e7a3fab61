#!/bin/bash
# The first boot of a real Debian 12 cloud instance and the boot after it (issue 11), against a
# real vmattest-verifier on the host. The image (tests/vm/debian-guest.sh: debootstrap, this
# tree's .debs installed with apt, the initrd made by the guest's own dracut, a LUKS2 root opened
# by the image builder's provisioning key) boots under OVMF with a swtpm vTPM and a NoCloud seed.
# The tenant made a group with an enrolment token and the image's runtime policy (made by the
# image builder with vmattest-policy from the image tree, that tree under /sysroot and an initrd
# built as the instance's first boot builds it; debian-guest.sh names its excludes and why);
# after the policy was made the image builder changed one program of the image,
# /usr/local/bin/vmattest-probe (a copy of /usr/bin/true, then of /usr/bin/false). Its user-data
# names the registrar's TLS port (10.0.2.2 from the guest), the CA, the token, the contact (the
# host forward to the agent) and the volumes root and /dev/vdb.
#   boot 1   cloud-init's final stage runs vmattest's hook: `vmattest first-boot` configures the
#            agent, registers with the token (the verifier enrols it in the group), restarts the
#            runtime agent, escrows the instance passphrase once the verifier attested this boot,
#            re-encrypts the root online and formats the data volume, writes crypttab without
#            key files, removes the provisioning key, rebuilds the initrd with the vmattest
#            module; the guest hands the new initrd out on a scratch disk and powers off
#   boot 2   the same instance (root, vTPM, seed) with that initrd: `vmattest unlock` attests,
#            the verifier releases the escrowed passphrase, root and data volume unlock, the
#            runtime agent takes over and the verifier polls it, its IMA list checked against
#            the runtime policy; the image's probe (vmattest-test-boot2.service) waits until
#            the runtime agent answered 3 integrity quote requests, runs the changed program,
#            copies the IMA list to the scratch disk and powers off: the verifier polled the
#            runtime agent at least 3 times without a failure, then fails it naming the path
#            of the changed program; the per-boot hook finds the first boot done (vmattest's
#            record) and does nothing
#   after    on the host, without device-mapper: the provisioning key opens the root no more,
#            and the image's volume key is not the root's any more
#   bad      a new instance with a malformed verifier_ca: it boots to the end, the cloud-init
#            output log names vmattest.verifier_ca, and /etc/vmattest is as packaged
# The group's tpm_policy pins no PCR 9 beforehand: the instance builds its own initrd (and so
# its digest) at its first boot, which the tenant cannot know. The group has
# --pin-first-boot-initrd instead: the first boot reports the PCR 9 of its next boots (this
# boot's UEFI log replayed with the rebuilt initrd's digest), the verifier pins the agent to it
# and releases the escrowed key only then, and boot 2 gets it only with that PCR 9.
. "$(dirname "$0")/lib.sh"
. tests/package/debs.sh
. tests/vm/debian-guest.sh
plan 26

if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP the cloud guest needs root (debootstrap, chroot)"; exit 0
fi
missing=$(vm_missing_tools)
command -v genisoimage >/dev/null || missing="$missing genisoimage"
command -v debootstrap >/dev/null || missing="$missing debootstrap"
command -v cryptsetup >/dev/null || missing="$missing cryptsetup"
if [ -n "$missing" ]; then
        not_ok "VM test tools: $missing"
        exit 1
fi
t0=$EPOCHREALTIME

if vm_step guest-image guest_image; then
        ok "a Debian 12 cloud image: the .debs installed with apt, the guest's dracut, a LUKS2 root"
else
        not_ok "a Debian 12 cloud image"; exit 1
fi
vm_test_confdir "$TEST_TMP/etc-vmattest" || { not_ok "test PKI"; exit 1; }
ca_pem=$VM_PKI/verifier-ca.pem

# ---- the tenant's verifier: its registrar's TLS port for the guest (10.0.2.2 is the host) ------
cd "$TEST_TMP" || exit 1
cp "$VM_PKI/verifier-ca.pem" "$VM_PKI/verifier-client.pem" "$VM_PKI/verifier-client.key" .
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=registrar -keyout registrar.key \
        -out registrar.csr 2>/dev/null &&
openssl x509 -req -in registrar.csr -CA "$VM_PKI/verifier-ca.pem" -CAkey "$VM_PKI/verifier-ca.key" -CAcreateserial \
        -CAserial registrar.srl -days 2 -extfile <(printf 'subjectAltName=IP:10.0.2.2,IP:127.0.0.1\n') \
        -out registrar.pem 2>/dev/null || { not_ok "the registrar's TLS certificate"; exit 1; }
tls_port=$(random_port)
verifier_config verifier.conf "tls_port = $tls_port
server_cert = $TEST_TMP/registrar.pem
server_key = $TEST_TMP/registrar.key
trusted_client_ca = $TEST_TMP/verifier-ca.pem
$(verifier_poll_config)"
printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>verifier.conf # [store] is the last section
verifier_start verifier.conf || { not_ok "verifier"; exit 1; }
wait_port "$VERIFIER_PID" "$tls_port" || { not_ok "the registrar's TLS port did not open"; exit 1; }
vv() { "$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" "$@"; }
# the group's policy: no PCR pinned beforehand (see the top: the first boot pins PCR 9)
echo '{}' >tpm-policy.json
token="vm-cloud-$(openssl rand -hex 20)"
printf '%s\n' "$token" >token && chmod 0600 token
expect_success "the tenant makes a group with an enrolment token and the image's runtime policy" \
        vv group add cloud --tpm-policy-file tpm-policy.json --runtime-policy "$GUEST_RUNTIME_POLICY" --token-file token \
        --pin-first-boot-initrd
read -r changed_path changed_digest <"$GUEST_CHANGED_PROGRAM"
fwd_port=$(random_port)

# user_data FILE CA-PEM-FILE: #cloud-config with a vmattest: key; boot 1's runcmd prints what
# the first boot left and hands the rebuilt initrd out on the scratch disk (vdd); power_state
# powers boot 1 off when cloud-init is done. Boot 2's probe is in the image (debian-guest.sh:
# vmattest-test-boot2.service), not in user-data: the runtime policy lists the image's files.
user_data() {
        cat >"$1" <<EOF
#cloud-config
vmattest:
  registrar: 10.0.2.2:$tls_port
  verifier_ca: |
$(sed 's/^/    /' "$2")
  token: "$token"
  contact: 127.0.0.1:$fwd_port
  volumes: [root, /dev/vdb]
runcmd:
  - - sh
    - -c
    - |
      {
        echo "root device: \$(findmnt -no SOURCE /) \$(lsblk -no TYPE "\$(findmnt -no SOURCE /)")"
        sed 's/^/agent.conf: /' /etc/vmattest/agent.conf
        sed -n '/^[^#]/s/^/crypttab: /p' /etc/crypttab
        echo "files: \$(cd /etc/vmattest && ls | tr '\n' ' ')"
        [ ! -e /etc/vmattest/verifier-ca.pem ] || echo "ca sha256: \$(sha256sum </etc/vmattest/verifier-ca.pem | cut -c1-64)"
        echo "provisioning key: \$(ls /etc/cryptsetup-keys.d/ /etc/dracut.conf.d/ | grep -c provisioning) left"
        grep -iE 'vmattest|first-boot' /var/log/cloud-init-output.log | sed 's/^/output log: /'
        initrd=/boot/initrd.img-\$(uname -r)
        echo "initrd modules: \$(lsinitrd "\$initrd" 2>/dev/null | grep -cE 'usr/bin/vmattest\$|provisioning.key')"
        if [ -b /dev/vdd ]; then
          dd if="\$initrd" of=/dev/vdd bs=1M conv=fsync status=none && echo "initrd size: \$(stat -c %s "\$initrd")"
        fi
        echo "done"
      } 2>&1 | sed 's/^/VMATTEST-GUEST: /' >/dev/console
power_state:
  mode: poweroff
  condition: true
EOF
}

# boot NAME USER-DATA: a new instance from the cached image (its own root copy, blank data
# disk, vTPM, seed and scratch disk); waits for it to power off
boot() {
        local name=$1 dir=$TEST_TMP/$1
        mkdir -p "$dir"
        cp --sparse=always "$GUEST_ROOT" "$dir/root.img" && truncate -s 64M "$dir/data.img" "$dir/scratch.img" &&
                guest_seed "$dir/seed.iso" "$2" && vm_swtpm "$dir/tpm" || return 1
        guest_boot "$name" "$dir/root.img" "$dir/data.img" "$dir/seed.iso" "$dir/tpm" "$fwd_port" "$dir/scratch.img"
        vm_wait
}
# a guest line; the console may put another line's start before it (getty's login prompt)
guest_line() { vm_console_line "VMATTEST-GUEST: $1" | sed 's/^.*VMATTEST-GUEST: //'; }
status_json() { vv status --agent "$agent_id" --json 2>/dev/null; }
polls() { status_json | jq -r '.[0].polls // 0'; }

# ---- boot 1: the first boot ---------------------------------------------------------------------
VM_CONSOLE=$TEST_TMP/good.console
: >"$VM_CONSOLE"
user_data "$TEST_TMP/good.yaml" "$ca_pem"
printf '%s' "$GUEST_PROVISIONING_KEY" >provisioning.key
# the image's volume key, as anyone holding the image can dump it (a file: no device-mapper)
cryptsetup luksDump --dump-volume-key --volume-key-file image.vk --key-file provisioning.key --batch-mode \
        "$GUEST_ROOT" >/dev/null
if vm_step boot-1 boot good "$TEST_TMP/good.yaml"; then
        ok "boot 1: the instance boots, cloud-init runs the first boot, powers it off"
else
        not_ok "boot 1: the instance boots, cloud-init runs the first boot, powers it off (qemu: $?)"
        tail -n 30 "$VM_CONSOLE" | diag
fi
tr -d '\r' <"$VM_CONSOLE" | grep -E 'first-boot:|provision: .*(escrowed|100%|done)|VMATTEST-GUEST: (crypttab|initrd|provisioning)' |
        grep -v 'output log:' | sed 's/^/#   /' | cut -c1-200
agent_id=$(vv agents --json 2>/dev/null | jq -r '.[0].agent_id // empty')
expect_equal "the root is the LUKS2 volume the provisioning key opened (crypttab in the initrd)" \
        "$(guest_line 'root device:')" "root device: /dev/mapper/root crypt"
if vm_console_line 'vmattest cloud-init hook: vmattest: key found \(user-data\)' >/dev/null &&
        vm_console_line 'first-boot: the configuration step is done' >/dev/null; then
        ok "cloud-init's final stage ran the hook, and vmattest first-boot did the configuration step"
else
        not_ok "cloud-init's final stage ran the hook, and vmattest first-boot did the configuration step"
        tr -d '\r' <"$VM_CONSOLE" | grep -iE 'vmattest|cloud-init|scripts' | tail -n 30 | diag
fi
expect_equal "agent.conf holds the tenant's keys (registrar, its CA, the contact)" \
        "$(tr -d '\r' <"$VM_CONSOLE" | sed -n 's/^VMATTEST-GUEST: agent.conf: \(registrar_ip\|registrar_port\|registrar_tls\|registrar_tls_ca_cert\|trusted_client_ca\|contact_ip\|contact_port\|uuid\) = /\1 = /p')" \
"registrar_ip = \"10.0.2.2\"
registrar_port = $tls_port
registrar_tls = true
registrar_tls_ca_cert = \"/etc/vmattest/verifier-ca.pem\"
trusted_client_ca = \"/etc/vmattest/verifier-ca.pem\"
contact_ip = \"127.0.0.1\"
contact_port = $fwd_port
uuid = \"hash_ek\""
expect_equal "/etc/vmattest/verifier-ca.pem is the tenant's CA" "$(guest_line 'ca sha256:')" \
        "ca sha256: $(sha256sum <"$ca_pem" | cut -c1-64)"
if [ -n "$agent_id" ] && vm_console_line 'first-boot: register: agent .* registered and activated .* with the enrolment token' >/dev/null &&
        [ "$(status_json | jq -r '.[0].agent_id')" = "$agent_id" ]; then
        ok "enrolled without a human: registered with the token, the verifier enrolled agent $agent_id in the group"
else
        not_ok "enrolled without a human (agent: ${agent_id:-none})"
        vv agents --json | diag
fi
if vm_console_line 'provision: the instance passphrase is escrowed with the verifier' >/dev/null &&
        vm_console_line 'first-boot: done: enrolled, the instance passphrase escrowed' >/dev/null; then
        ok "the instance passphrase was escrowed, the volumes provisioned, the initrd rebuilt"
else
        not_ok "the instance passphrase was escrowed, the volumes provisioned, the initrd rebuilt"
        tr -d '\r' <"$VM_CONSOLE" | grep -iE 'vmattest|first-boot|provision|escrow|dracut' | tail -n 30 | diag
fi
if [ "$(status_json | jq -r '.[0].pcr9_pinned_by')" = first-boot ] &&
        vm_console_line "PCR 9 of agent $agent_id pinned with" >/dev/null; then
        ok "the first boot pinned the agent's PCR 9 to the initrd it built ($(vm_console_line 'PCR 9 \(.*\) of the next boots' |
                sed 's/^.*PCR 9 (/PCR 9 (/' | cut -c1-150))"
else
        not_ok "the first boot pinned the agent's PCR 9 to the initrd it built"
        { status_json; tr -d '\r' <"$VM_CONSOLE" | grep -E 'PCR 9|pin' | tail -n 10; } | diag
fi
crypttab=$(tr -d '\r' <"$VM_CONSOLE" | sed -n 's/^VMATTEST-GUEST: crypttab: //p')
if grep -qE '^root UUID=[-0-9a-f]+ none luks,discard,password-cache=no$' <<<"$crypttab" &&
        grep -qE '^vmattest-vdb UUID=[-0-9a-f]+ none luks,discard,password-cache=no$' <<<"$crypttab" &&
        [ -n "$(guest_line 'agent.conf: unlock_volumes')" ]; then
        ok "crypttab: root and the data volume without a key file; agent.conf: unlock_volumes"
else
        not_ok "crypttab: root and the data volume without a key file; agent.conf: unlock_volumes"
        echo "$crypttab" | diag
fi
expect_equal "the provisioning key and the provisioning dracut configuration are gone; the new initrd has the agent, no key" \
        "$(guest_line 'provisioning key:') $(guest_line 'initrd modules:')" "provisioning key: 0 left initrd modules: 1"
initrd_size=$(guest_line 'initrd size:' | sed 's/^initrd size: //')
head -c "${initrd_size:-0}" good/scratch.img >initrd-instance.img
boot1_console=$VM_CONSOLE

# ima_not_allowed LIST POLICY: the ima-ng lines of the IMA list LIST whose path no exclude of the
# runtime policy POLICY matches (jq's regexes for Python's: a diagnosis) and whose digest it does
# not list for that path, and the violations: what the verifier would refuse
ima_not_allowed() {
        awk '$3 ~ /^ima-(ng|sig)$/ && $5 != "boot_aggregate" { print $2 "\t" $4 "\t" $5 }' "$1" |
                jq -R -r --slurpfile p "$2" '($p[0].excludes) as $ex | split("\t") | . as [$th, $d, $path] |
                        if ($th | test("^0+$")) then "violation: \($path)"
                        elif any($ex[]; . as $r | $path | test("^(" + $r + ")")) then empty
                        elif (($p[0].digests[$path] // []) | index($d | sub("^sha256:"; ""))) then empty
                        else "\($path) \($d)" end'
}

# ---- boot 2: the instance's own initrd attests and unlocks; the probe runs the changed program ----
SCENARIO_T0=$EPOCHREALTIME
polled=0 failure=null boot2_rc=1
if [ -s initrd-instance.img ]; then
        vm_swtpm_run good/tpm &&
                GUEST_BOOT_INITRD=$TEST_TMP/initrd-instance.img guest_boot good2 good/root.img good/data.img good/seed.iso \
                        good/tpm "$fwd_port" good/scratch.img
        # the polls the verifier counted while it had no failure, from the runtime agent's start (the
        # polls of the agent unreachable before count too), until it fails the agent or qemu ends
        from=
        while :; do
                status=$(status_json)
                failure=$(jq -r '.[0].failure // "null"' <<<"$status")
                [ "$failure" = null ] || break
                polled=$(jq -r '.[0].polls // 0' <<<"$status")
                [ -n "$from" ] || ! guest_line 'boot 2 runtime agent: active' >/dev/null || from=$polled
                kill -0 "$VM_QEMU_PID" 2>/dev/null || break
                sleep 0.5
        done
        vm_wait
        boot2_rc=$?
        printf '# step %-24s %6.1f s\n' boot-2 "$(awk "BEGIN { print $EPOCHREALTIME - $SCENARIO_T0 }")"
        tr -d '\r' <"$VM_CONSOLE" | grep -E 'VMATTEST-GUEST:|unlock: (answered|done|registered)' | sed 's/^/#   /' | cut -c1-200
        # the probe's copy of the IMA list: what the policy does not allow, for a failure's diagnosis
        ima_size=$(head -n1 good/scratch.img | tr -dc 0-9)
        if [ -n "$ima_size" ] && [ "$ima_size" -gt 0 ] && [ "$ima_size" -lt 33554432 ]; then
                tail -c +$(($(head -n1 good/scratch.img | wc -c) + 1)) good/scratch.img | head -c "$ima_size" >boot2-ima.txt
                cp boot2-ima.txt "$VM_LOG_DIR/good2.ima" 2>/dev/null
                ima_not_allowed boot2-ima.txt "$GUEST_RUNTIME_POLICY" | sed 's/^/#   not allowed: /' | head -n 60
        fi
else
        VM_CONSOLE=$TEST_TMP/none.console
        : >"$VM_CONSOLE"
fi
# Each volume's request is answered by unlock, or the volume is opened by systemd-cryptsetup
# without that answer (seen here: the data volume's request gone right after the root's answer,
# its passphrase taken from the kernel keyring): unlock counts an open dm-crypt mapping of the
# volume as done, and ends with its success, not the fallback.
answered=$(tr -d '\r' <"$VM_CONSOLE" | grep -c 'unlock: answered cryptsetup:/dev/disk/by-uuid/')
opened=$(tr -d '\r' <"$VM_CONSOLE" | grep -c 'unlock: .* was opened without this agent.s answer')
if [ "$answered" -ge 1 ] && [ $((answered + opened)) -eq 2 ] && vm_console_line 'unlock: done' >/dev/null &&
        ! vm_console_line 'unlock: failed' >/dev/null; then
        ok "boot 2: vmattest unlock in the initrd attested, got the escrowed passphrase, both volumes done ($answered answered, $opened opened by systemd-cryptsetup itself)"
else
        not_ok "boot 2: vmattest unlock in the initrd attested and both volumes were done ($answered answered, $opened opened otherwise)"
        tr -d '\r' <"$VM_CONSOLE" | grep -iE 'vmattest|unlock|cryptsetup' | tail -n 30 | diag
fi
expect_equal "boot 2: root and data volume are mapped, the root from the LUKS2 mapping" \
        "$(guest_line 'boot 2 mapped:') | $(guest_line 'boot 2 root device:') | $(guest_line 'boot 2 data volume:')" \
        "boot 2 mapped: root vmattest-vdb  | boot 2 root device: /dev/mapper/root crypt | boot 2 data volume: crypt"
if [ "$(guest_line 'boot 2 runtime agent:')" = "boot 2 runtime agent: active" ] && [ -n "$from" ] &&
        [ "$polled" -ge $((from + 3)) ] && [ "$(guest_line 'boot 2 integrity quotes answered:' | sed 's/^.*: //')" -ge 3 ] 2>/dev/null; then
        ok "boot 2: the runtime agent took over and the verifier polled it under the image's runtime policy ($((polled - from)) polls of this boot before a failure)"
else
        not_ok "boot 2: the runtime agent took over and the verifier polled it under the image's runtime policy ($polled polls, from ${from:-none}, before a failure; $(guest_line 'boot 2 integrity quotes answered:'))"
        status_json | diag
fi
if [[ $failure == *": $changed_path with sha256:${changed_digest:0:4}"*"is not allowed by the runtime policy"* ]] &&
        [ -n "$(guest_line 'boot 2 changed program ran')" ]; then
        ok "boot 2: a program changed after the policy was made runs: the verifier fails the agent and names $changed_path"
else
        not_ok "boot 2: a program changed after the policy was made runs: the verifier fails the agent and names $changed_path"
        echo "failure: $failure" | diag
fi
expect_equal "boot 2: the instance powered off by itself" "$boot2_rc" 0
if [ -n "$(status_json | jq -r '.[0].payload_released_at // empty')" ]; then
        ok "the verifier records the release to boot 2"
else
        not_ok "the verifier records the release to boot 2"
fi
# the hook runs at every boot (an interrupted first boot resumes): after the first, it stops at
# vmattest's record (and its reads are in the policy's excludes: the agent did not fail on them)
if vm_console_line 'first-boot: first boot of instance vmattest-test-[0-9a-f]+ done at .*: nothing to do' >/dev/null; then
        ok "boot 2: the per-boot hook finds the first boot done in vmattest's record and does nothing"
else
        not_ok "boot 2: the per-boot hook finds the first boot done in vmattest's record and does nothing"
        tr -d '\r' <"$VM_CONSOLE" | grep -iE 'vmattest cloud-init hook|first-boot' | tail -n 10 | diag
fi

# ---- after: the image's secrets open nothing ------------------------------------------------------
if cryptsetup open --test-passphrase --key-file provisioning.key good/root.img 2>/dev/null; then
        not_ok "the provisioning key no longer opens the root"
else
        ok "the provisioning key no longer opens the root"
fi
printf 'vmattest-test-%s' "$(openssl rand -hex 8)" >probe.key
if [ -s image.vk ] && ! cryptsetup luksAddKey --volume-key-file image.vk --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --batch-mode good/root.img probe.key >addkey.out 2>&1; then
        ok "the image's volume key is not the root's any more ($(head -n1 addkey.out))"
else
        not_ok "the image's volume key is not the root's any more (dumped: $([ -s image.vk ] && echo yes || echo no))"
fi

# ---- bad user-data: a malformed CA ------------------------------------------------------------
sed '/BEGIN CERTIFICATE/,/END CERTIFICATE/{ /CERTIFICATE/!s/[A-Za-z]/!/g }' "$ca_pem" >"$TEST_TMP/bad-ca.pem"
user_data "$TEST_TMP/bad.yaml" "$TEST_TMP/bad-ca.pem"
if vm_step boot-bad boot bad "$TEST_TMP/bad.yaml"; then
        ok "bad user-data: the instance still boots to the end and powers off"
else
        not_ok "bad user-data: the instance still boots to the end and powers off (qemu: $?)"
        tail -n 30 "$VM_CONSOLE" | diag
fi
if guest_line 'output log: .*vmattest\.verifier_ca' >/dev/null; then
        ok "the cloud-init output log names the field: $(guest_line 'output log: .*vmattest\.verifier_ca' | cut -c13-200)"
else
        not_ok "the cloud-init output log names the field vmattest.verifier_ca"
        tr -d '\r' <"$VM_CONSOLE" | grep -i 'vmattest' | tail -n 20 | diag
fi
expect_equal "nothing written: /etc/vmattest as packaged" "$(guest_line 'files:')" \
        "files: agent.conf agent.conf.example ima-policy "
expect_equal "nothing written: agent.conf without the first-boot block" \
        "$(tr -d '\r' <"$VM_CONSOLE" | grep -c '^VMATTEST-GUEST: agent.conf: .*vmattest first-boot')" 0
if grep -q "$token" "$boot1_console" "$TEST_TMP/good2.console" "$VM_CONSOLE" verifier.log 2>/dev/null; then
        not_ok "the token is on no console and in no log"
else
        ok "the token is on no console and in no log"
fi
printf '# step %-24s %6.1f s\n' total "$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")"
