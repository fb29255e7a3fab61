#!/bin/bash
# vmattest identity against a fresh swtpm, cross-checked with tpm2-tools.
. "$(dirname "$0")/lib.sh"
plan 14

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1

expect_success "first identity creates the AK" "$VMATTEST" identity --json
cp out first.log
sed -n '/^{/,$p' first.log >first.json
expect_equal "first run reports the AK as created" "$(jq -r .ak.created first.json)" true
expect_success "second identity loads the AK" "$VMATTEST" identity --json
sed -n '/^{/,$p' out >second.json
expect_equal "second run reuses the AK (same name)" "$(jq -r .ak.name second.json)" "$(jq -r .ak.name first.json)"
expect_equal "second run does not create" "$(jq -r .ak.created second.json)" false

# tpm2-tools' view of the same keys
tpm2_createek -G rsa -c ek.ctx -u ek.pub -f tss >/dev/null && tpm2_flushcontext -t
tpm2_createek -G rsa -c ek2.ctx -u ek.pem -f pem >/dev/null && tpm2_flushcontext -t
tpm2_readpublic -c 0x81010002 -o ak.pub -n ak.name >/dev/null
expect_equal "ek_tpm is the TPM2B_PUBLIC tpm2_createek writes" "$(jq -r .ek.ek_tpm first.json)" "$(base64 -w0 ek.pub)"
expect_equal "hash_ek is SHA-256 of the EK's SPKI PEM" "$(jq -r .ek.hash_ek first.json)" "$(sha256sum <ek.pem | cut -d' ' -f1)"
expect_equal "aik_tpm is the persistent AK's TPM2B_PUBLIC" "$(jq -r .ak.aik_tpm first.json)" "$(base64 -w0 ak.pub)"
expect_equal "AK name matches tpm2_readpublic" "$(jq -r .ak.name first.json)" "$(xxd -p -c 256 ak.name)"
expect_equal "RSA EK certificate comes from NV 0x01c00002, issued by swtpm's CA" \
        "$(jq -r '.ek.certificate.nv_index + " " + .ek.certificate.issuer' first.json)" "0x01c00002 CN=swtpm-localca"

# ECC: swtpm provisions a P-384 EK (high-range template H-3)
"$VMATTEST" identity --ek-alg ecc --json 2>/dev/null >ecc.json
expect_equal "--ek-alg ecc finds swtpm's P-384 EK certificate at 0x01c00016" \
        "$(jq -r '.ek.template + " " + .ek.certificate.nv_index' ecc.json)" "H-3 ECC NIST P-384 (high range) 0x01c00016"

# a handle that holds something else than an AK is refused, not reused
tpm2_createprimary -C o -c primary.ctx >/dev/null && tpm2_evictcontrol -C o -c primary.ctx 0x81010003 >/dev/null
tpm2_flushcontext -t
expect_failure "a non-AK key at the AK handle is refused" 1 "0x81010003 does not hold a vmattest AK" \
        "$VMATTEST" identity --ak-handle 0x81010003

# a TPM without EK certificate is reported, not a crash
tpm2_nvundefine -C p 0x01c00002 >/dev/null
"$VMATTEST" identity --json >nocert.json 2>nocert.err
expect_equal "no EK certificate: identity still succeeds and says so" \
        "$(jq -r '.ek.certificate' nocert.json) $(grep -c 'no EK certificate' nocert.err)" "null 1"

# garbage where the certificate should be: a clear error naming the index
tpm2_nvdefine -C o -s 64 -a "ownerread|ownerwrite|authread|authwrite" 0x01c00002 >/dev/null
head -c 64 /dev/urandom >junk && tpm2_nvwrite -C o -i junk 0x01c00002 >/dev/null
expect_failure "a non-certificate in the EK certificate index is a clear error" 1 \
        "0x01c00002 does not hold a DER X.509 certificate" "$VMATTEST" identity
