#!/bin/bash
# The host binding (docs/protocol.md §5.3) with three swtpms: one plays the host's TPM, one the
# VM's vTPM, a third another VM's vTPM. vmattest-host identity and provision write the binding
# into the vTPM's NV index; the guest reads it back without a password and cannot write it; the
# verifier's check (tests/tools/host-binding-check) passes for this vTPM's EK and fails, each by
# name, for another vTPM's EK, an untrusted host AK, a host PCR outside the policy, a corrupted
# blob and a truncated NV index.
. "$(dirname "$0")/lib.sh"
plan 19

VMATTEST_HOST=${VMATTEST_HOST:-$(dirname "$VMATTEST")/vmattest-host}
CHECK=$TOOLS_DIR/host-binding-check
NV=0x01400100

swtpm_start host || exit 1
HOST_TCTI=$VMATTEST_TCTI
swtpm_start vtpm || exit 1
VTPM_TCTI=$VMATTEST_TCTI
swtpm_start other || exit 1
OTHER_TCTI=$VMATTEST_TCTI
unset VMATTEST_TCTI
cd "$TEST_TMP" || exit 1
printf '[host]\n' >host.conf
host() { "$VMATTEST_HOST" --config host.conf "$@"; }
on() { TPM2TOOLS_TCTI=$1; shift; TPM2TOOLS_TCTI=$TPM2TOOLS_TCTI "$@"; }

printf '[host]\npcrs = 0-7,30\n' >bad.conf
expect_failure "a bad host.conf value is named with its file and line" 2 "bad.conf:2: .*pcrs" \
        "$VMATTEST_HOST" --config bad.conf provision --vtpm-tcti "$VTPM_TCTI"
expect_failure "provision without --vtpm-tcti is a usage error" 2 "vtpm-tcti is required" \
        host provision
expect_failure "provision without a host AK says what to do" 1 "step 2/3.*run 'vmattest-host identity' first" \
        host --tcti "$HOST_TCTI" provision --vtpm-tcti "$VTPM_TCTI"
expect_success "identity creates the host AK" sh -c "\"$VMATTEST_HOST\" --config host.conf identity --tcti '$HOST_TCTI' --json >id.json"
mkdir -p trusted untrusted
jq -r .pem id.json >trusted/host.pem
expect_equal "identity's AK is persistent at 0x81010010" "$(jq -r .handle id.json)" 0x81010010
host identity --tcti "$HOST_TCTI" --json >id2.json 2>/dev/null
expect_equal "identity again loads the same AK" "$(jq -r .created,.pem id2.json)" "$(printf 'false\n%s' "$(cat trusted/host.pem)")"

expect_success "provision writes the binding into the vTPM" \
        host --tcti "$HOST_TCTI" provision --vtpm-tcti "$VTPM_TCTI" --pcrs 0-7 --nv-index "$NV"
grep -q "step 3/3" "$TEST_TMP/out" || echo "# no progress line for step 3" >&2

# the guest's view: its vTPM, the index's own (empty) authorization, no password
on "$VTPM_TCTI" tpm2_nvread "$NV" -C "$NV" -o blob >nvread.log 2>&1
expect_equal "the guest reads the binding back (magic VMHB)" "$(head -c 4 blob)" "VMHB"
expect_failure "the guest cannot write the index with its owner's (empty) auth: write-locked" any "NV access locked" \
        env TPM2TOOLS_TCTI="$VTPM_TCTI" sh -c 'echo forged | tpm2_nvwrite 0x01400100 -C o -i -'
expect_failure "nor with the index's own (empty) auth: no AUTHWRITE" any "authValue or authPolicy is not available" \
        env TPM2TOOLS_TCTI="$VTPM_TCTI" sh -c 'echo forged | tpm2_nvwrite 0x01400100 -C 0x01400100 -i -'
on "$VTPM_TCTI" tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null 2>&1
on "$OTHER_TCTI" tpm2_createek -c other-ek.ctx -G rsa -u other-ek.pub >/dev/null 2>&1
on "$HOST_TCTI" tpm2_pcrread sha256:0,1,2,3,4,5,6,7 -o host-pcrs.bin >/dev/null

expect_success "the check passes for this vTPM's EK, the trusted host AK and its PCRs" \
        "$CHECK" blob ek.pub trusted 0-7 host-pcrs.bin
expect_failure "a binding checked against another vTPM's EK fails: qualifyingData" 1 "qualifyingData" \
        "$CHECK" blob other-ek.pub trusted 0-7 host-pcrs.bin
on "$OTHER_TCTI" tpm2_createak -C other-ek.ctx -c other-ak.ctx -u other-ak.pub -f pem >/dev/null 2>&1
cp other-ak.pub untrusted/other.pem
expect_failure "a host AK not in the trusted set fails: host AK" 1 "host AK is not one of" \
        "$CHECK" blob ek.pub untrusted 0-7 host-pcrs.bin

flip() { # flip FILE OFFSET OUT: copy FILE with the byte at OFFSET inverted
        local byte
        cp "$1" "$3"
        byte=$(xxd -s "$2" -l 1 -p "$1")
        printf '%02x' $((0x$byte ^ 0xff)) | xxd -r -p | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
size=$(stat -c %s blob)
flip blob $((size - 40)) pcr-flipped   # inside PCR 6's value
expect_failure "a flipped byte in a PCR value fails: pcrDigest" 1 "host binding: pcrDigest" \
        "$CHECK" pcr-flipped ek.pub trusted 0-7 host-pcrs.bin
flip blob $((size - 8 * 32 - 6 - 20)) sig-flipped   # inside the signature
expect_failure "a flipped byte in the signature fails: signature" 1 "host binding: signature" \
        "$CHECK" sig-flipped ek.pub trusted 0-7 host-pcrs.bin

# a truncated NV index: the vTPM's index redefined shorter, the head of the blob written to it
head -c $((size - 100)) blob >short
on "$VTPM_TCTI" tpm2_nvundefine "$NV" -C o >/dev/null 2>&1
on "$VTPM_TCTI" tpm2_nvdefine "$NV" -C o -s $((size - 100)) -a "ownerwrite|authread|ownerread" >/dev/null 2>&1
on "$VTPM_TCTI" tpm2_nvwrite "$NV" -C o -i short >/dev/null 2>&1
on "$VTPM_TCTI" tpm2_nvread "$NV" -C "$NV" -o short-read >/dev/null 2>&1
expect_failure "a truncated NV index fails: malformed" 1 "malformed: truncated in PCR value" \
        "$CHECK" short-read ek.pub trusted 0-7 host-pcrs.bin

# the host's PCR 7 moves (another boot configuration), the vTPM is provisioned again
on "$HOST_TCTI" tpm2_pcrextend "7:sha256=$(printf 'another host boot' | sha256sum | cut -d' ' -f1)" >/dev/null
expect_success "provision again replaces the binding" \
        host --tcti "$HOST_TCTI" provision --vtpm-tcti "$VTPM_TCTI"
on "$VTPM_TCTI" tpm2_nvread "$NV" -C "$NV" -o blob2 >/dev/null 2>&1
expect_failure "host PCR 7 outside the policy fails: host PCR 7" 1 "host PCR 7 is not the policy" \
        "$CHECK" blob2 ek.pub trusted 0-7 host-pcrs.bin
on "$HOST_TCTI" tpm2_pcrread sha256:0,1,2,3,4,5,6,7 -o host-pcrs2.bin >/dev/null
expect_success "the same binding passes a policy with the new PCR 7" \
        "$CHECK" blob2 ek.pub trusted 0-7 host-pcrs2.bin
