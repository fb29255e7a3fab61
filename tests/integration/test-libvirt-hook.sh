#!/bin/bash
# The libvirt hook (host/libvirt-hook-qemu, installed as /etc/libvirt/hooks/qemu), invoked exactly
# as libvirt invokes it: argv "DOMAIN prepare begin -", the domain XML on stdin. A vTPM state made
# by swtpm_setup where libvirt keeps it (<root>/<uuid>/tpm2) is provisioned offline by the hook
# (a short-lived swtpm on it, vmattest-host provision, swtpm stopped); then a swtpm started on the
# state as libvirt would start the VM's holds the binding, which the verifier's check accepts for
# that vTPM's EK. Other operations, domains without an emulated TPM, a state not made yet, a
# hostile uuid: nothing done, or refused by name when VMATTEST_HOOK_REQUIRED=yes.
. "$(dirname "$0")/lib.sh"
plan 10

VMATTEST_HOST=${VMATTEST_HOST:-$(dirname "$VMATTEST")/vmattest-host}
HOOK="$(dirname "$VMATTEST")/../../host/libvirt-hook-qemu"
NV=0x01400100

swtpm_start host >/dev/null || exit 1
host_tcti=$VMATTEST_TCTI
cd "$TEST_TMP" || exit 1
printf '[host]\n' >host.conf
"$VMATTEST_HOST" --config host.conf identity --tcti "$host_tcti" --json >host.json 2>identity.log ||
        { cat identity.log >&2; exit 1; }
mkdir -p trusted && jq -r .pem host.json >trusted/host.pem

uuid=6f3c2a4e-8d1b-4c7e-9a2f-0b5d6e7f8a9c
root="$TEST_TMP/swtpm"
mkdir -p "$root/$uuid/tpm2"
swtpm_setup --tpm2 --tpmstate "$root/$uuid/tpm2" --create-ek-cert --overwrite >setup.log 2>&1 ||
        { cat setup.log >&2; exit 1; }
domain_xml() { # domain_xml UUID TPM-ELEMENT
        cat <<XML
<domain type='kvm'>
  <name>vm1</name>
  <uuid>$1</uuid>
  <sysinfo type='smbios'><system><entry name='uuid'>00000000-0000-0000-0000-000000000000</entry></system></sysinfo>
  <devices>
    $2
  </devices>
</domain>
XML
}
TPM_ELEMENT="<tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
    </tpm>"
domain_xml "$uuid" "$TPM_ELEMENT" >vm1.xml
# hook ARGS... <XML: as libvirt runs /etc/libvirt/hooks/qemu, with the settings in its environment
cat >hook <<SH
#!/bin/sh
export VMATTEST_HOOK_CONF=/nonexistent VMATTEST_SWTPM_ROOT="$root" VMATTEST_HOST="$VMATTEST_HOST"
export VMATTEST_HOST_CONFIG="$TEST_TMP/host.conf" VMATTEST_TCTI="$host_tcti"
exec "$HOOK" "\$@"
SH
chmod +x hook
hook() { ./hook "$@"; }
# expect_said DESC PATTERN CMD...: CMD succeeds and says PATTERN
expect_said() {
        local desc=$1 pattern=$2; shift 2
        if "$@" >"$TEST_TMP/out" 2>&1 && grep -Eq -- "$pattern" "$TEST_TMP/out"; then ok "$desc"
        else not_ok "$desc"; diag <"$TEST_TMP/out"; fi
}

# other operations: nothing read, nothing done
state_sum=$(sha256sum <"$root/$uuid/tpm2/tpm2-00.permall")
expect_success "start begin, started, stopped, release: nothing done" \
        bash -c "for op in 'start begin' 'started begin' 'stopped end' 'release end'; do
                ./hook vm1 \$op - </dev/null || exit 1; done"
expect_equal "... the vTPM state untouched" "$(sha256sum <"$root/$uuid/tpm2/tpm2-00.permall")" "$state_sum"

expect_success "prepare begin provisions the vTPM's state" hook vm1 prepare begin - <vm1.xml
cp out hook.log
if grep -q "vmattest-host hook: vm1: host binding: .* bytes in vTPM NV $NV" hook.log
then ok "the hook says what it wrote"
else not_ok "the hook says what it wrote"; diag <hook.log; fi
expect_success "the short-lived swtpm is gone" \
        bash -c "! pgrep -f '[s]wtpm socket --tpm2 --tpmstate dir=$root/$uuid/tpm2' >/dev/null"

# the VM's swtpm, as libvirt starts it: the binding is there and names this vTPM's EK
SWTPM_TEMPLATE="$root/$uuid/tpm2" swtpm_start vm1-vtpm >/dev/null || exit 1
tpm2_nvread "$NV" -C "$NV" -o binding.bin >/dev/null 2>&1
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null 2>&1
TPM2TOOLS_TCTI="$host_tcti" tpm2_pcrread sha256:0,1,2,3,4,5,6,7 -o host-pcrs.bin >/dev/null
expect_equal "the verifier's check accepts the binding for the vTPM's EK" \
        "$("$TOOLS_DIR/host-binding-check" binding.bin ek.pub trusted 0-7 host-pcrs.bin)" "host binding ok"
swtpm_stop

# nothing to do, or refused by name when a binding is required
domain_xml "$uuid" "<tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>" \
        >passthrough.xml
expect_said "a domain without an emulated TPM: nothing to provision" "no emulated TPM" \
        hook vm1 prepare begin - <passthrough.xml
domain_xml 0a1b2c3d-0000-4000-8000-000000000001 "$TPM_ELEMENT" >first-start.xml
expect_said "a first start (no state yet): said, and the VM starts" "a first start" \
        hook vm1 prepare begin - <first-start.xml
expect_failure "... the VM does not start when a binding is required" 1 "VMATTEST_HOOK_REQUIRED=yes" \
        env VMATTEST_HOOK_REQUIRED=yes ./hook vm1 prepare begin - <first-start.xml
domain_xml "../../../etc" "$TPM_ELEMENT" >hostile.xml
expect_said "a uuid that is no uuid (a path) is refused" "no <uuid> of the form" \
        hook vm1 prepare begin - <hostile.xml
