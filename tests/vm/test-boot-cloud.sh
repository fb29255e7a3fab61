#!/bin/bash
# A real Debian 12 cloud guest (tests/vm/debian-guest.sh: debootstrap, this tree's .debs
# installed with apt, the initrd made by the guest's own dracut, a LUKS2 root opened by the image
# builder's provisioning key) boots under OVMF with a swtpm vTPM and a NoCloud seed, twice, each
# time as a new instance from the cached image:
#   good   user-data with a vmattest: key: cloud-init's final stage runs vmattest's hook
#          (packaging/cloud-init), `vmattest first-boot` writes the tenant's CA and keys to
#          /etc/vmattest, the guest prints them on the console, cloud-init powers it off
#   bad    the same with a malformed verifier_ca: the instance still boots to the end, the
#          cloud-init output log names vmattest.verifier_ca, and /etc/vmattest is as packaged
# The enrolment itself (register with the token, escrow, provision, the rebuilt initrd, the
# second boot that attests) is not part of `vmattest first-boot` yet.
. "$(dirname "$0")/lib.sh"
. tests/package/debs.sh
. tests/vm/debian-guest.sh
plan 11

if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP the cloud guest needs root (debootstrap, chroot)"; exit 0
fi
missing=$(vm_missing_tools)
command -v genisoimage >/dev/null || missing="$missing genisoimage"
command -v debootstrap >/dev/null || missing="$missing debootstrap"
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

# user_data FILE CA-PEM-FILE: #cloud-config with a vmattest: key (the registrar on the host's
# loopback as qemu's user network shows it; no contact: the hook's primary address), a
# command that prints what the instance holds afterwards, and a power-off when cloud-init is done
user_data() {
        cat >"$1" <<EOF
#cloud-config
vmattest:
  registrar: 10.0.2.2:8891
  verifier_ca: |
$(sed 's/^/    /' "$2")
  token: "vm-test-enrolment-token-0123456789"
  agent_id: instance-id
  volumes: [root, /dev/vdb]
runcmd:
  - - sh
    - -c
    - |
      {
        echo "root device: \$(findmnt -no SOURCE /) \$(lsblk -no TYPE "\$(findmnt -no SOURCE /)")"
        sed 's/^/agent.conf: /' /etc/vmattest/agent.conf
        echo "files: \$(cd /etc/vmattest && ls | tr '\n' ' ')"
        [ ! -e /etc/vmattest/verifier-ca.pem ] || echo "ca sha256: \$(sha256sum </etc/vmattest/verifier-ca.pem | cut -c1-64)"
        grep -i 'vmattest' /var/log/cloud-init-output.log | sed 's/^/output log: /'
        echo "instance id: \$(cloud-init query v1.instance_id)"
        echo "done"
      } 2>&1 | sed 's/^/VMATTEST-GUEST: /' >/dev/console
power_state:
  mode: poweroff
  condition: true
EOF
}

# boot NAME USER-DATA: a new instance from the cached image (its own root copy, blank data
# disk, vTPM and seed); waits for it to power off
boot() {
        local name=$1 dir=$TEST_TMP/$1
        mkdir -p "$dir"
        cp --sparse=always "$GUEST_ROOT" "$dir/root.img" && truncate -s 64M "$dir/data.img" &&
                guest_seed "$dir/seed.iso" "$2" && vm_swtpm "$dir/tpm" || return 1
        guest_boot "$name" "$dir/root.img" "$dir/data.img" "$dir/seed.iso" "$dir/tpm"
        vm_wait
}
guest_line() { vm_console_line "^VMATTEST-GUEST: $1" | sed 's/^VMATTEST-GUEST: //'; }

# ---- good user-data ---------------------------------------------------------------------------
user_data "$TEST_TMP/good.yaml" "$ca_pem"
if vm_step boot-good boot good "$TEST_TMP/good.yaml"; then
        ok "good user-data: the instance boots, cloud-init runs, powers it off"
else
        not_ok "good user-data: the instance boots, cloud-init runs, powers it off (qemu: $?)"
        tail -n 30 "$VM_CONSOLE" | diag
fi
expect_equal "the root is the LUKS2 volume the provisioning key opened (crypttab in the initrd)" \
        "$(guest_line 'root device:')" "root device: /dev/mapper/root crypt"
if vm_console_line 'vmattest cloud-init hook: vmattest: key found \(user-data\)' >/dev/null &&
        vm_console_line 'first-boot: the configuration step is done' >/dev/null; then
        ok "cloud-init's final stage ran the hook, and vmattest first-boot did the configuration step"
else
        not_ok "cloud-init's final stage ran the hook, and vmattest first-boot did the configuration step"
        tr -d '\r' <"$VM_CONSOLE" | grep -iE 'vmattest|cloud-init|scripts' | tail -n 30 | diag
fi
instance_id=$(guest_line 'instance id:' | sed 's/^instance id: //')
expect_equal "agent.conf holds the tenant's keys (registrar, its CA, the primary address as contact, the instance id)" \
        "$(tr -d '\r' <"$VM_CONSOLE" | sed -n 's/^VMATTEST-GUEST: agent.conf: \(registrar_ip\|registrar_port\|registrar_tls\|registrar_tls_ca_cert\|trusted_client_ca\|contact_ip\|contact_port\|uuid\) = /\1 = /p')" \
"registrar_ip = \"10.0.2.2\"
registrar_port = 8891
registrar_tls = true
registrar_tls_ca_cert = \"/etc/vmattest/verifier-ca.pem\"
trusted_client_ca = \"/etc/vmattest/verifier-ca.pem\"
contact_ip = \"10.0.2.15\"
contact_port = 9002
uuid = \"${instance_id:-?}\""
expect_equal "/etc/vmattest/verifier-ca.pem is the tenant's CA" "$(guest_line 'ca sha256:')" \
        "ca sha256: $(sha256sum <"$ca_pem" | cut -c1-64)"
good_console=$VM_CONSOLE

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
if grep -q 'vm-test-enrolment-token' "$good_console" "$VM_CONSOLE"; then
        not_ok "the token is on no console"
else
        ok "the token is on no console"
fi
echo "# total $(awk "BEGIN { printf \"%.0f\", $EPOCHREALTIME - $t0 }") s"
