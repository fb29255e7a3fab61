#!/bin/bash
# lib/credential.c end to end: blobs made by credential_make() for a swtpm's EKs, opened by that
# TPM with TPM2_ActivateCredential (tpm2-tools). The blobs come from the unit test program in its
# tool mode (tests/unit/test-credential.c: CREDENTIAL_MAKE_*), of the variant under test.
. "$(dirname "$0")/lib.sh"
plan 14

tool="$(dirname "$VMATTEST")/tests/unit/test-credential"
if [ ! -x "$tool" ]; then
        for _ in $(seq 14); do not_ok "no $tool: build it with make tests-build"; done
        exit 1
fi
swtpm_start || exit 1
cd "$TEST_TMP" || exit 1

# The AK the credentials are for: tpm2_createak's default under the RSA EK, as Keylime's agent
# makes it. swtpm has no resource manager: flush what each command leaves loaded.
tpm2_createek -G rsa -c ek-rsa.ctx -u ek-rsa.pub >/dev/null && tpm2_flushcontext -t
tpm2_createak -C ek-rsa.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -n ak.name >/dev/null
tpm2_flushcontext -t && tpm2_flushcontext -s
tpm2_createek -G ecc -c ek-ecc.ctx -u ek-ecc.pub >/dev/null && tpm2_flushcontext -t
# SHA-384 / AES-256 EKs like the high-range templates: userWithAuth, so no policy session.
high_attributes='fixedtpm|fixedparent|sensitivedataorigin|userwithauth|adminwithpolicy|restricted|decrypt'
for key in ecc384 rsa3072; do
        tpm2_createprimary -C e -g sha384 -G "$key:aes256cfb" -a "$high_attributes" -c "ek-$key.ctx" >/dev/null &&
                tpm2_readpublic -c "ek-$key.ctx" -o "ek-$key.pub" >/dev/null
        tpm2_flushcontext -t
done

# The credential: 32 [A-Za-z0-9] bytes, as Keylime's registrar makes it.
secret=$(head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
printf '%s' "${secret:0:32}" >secret

# make EK_PUB NAME OUT: credential_make() for the AK name, through the test program's tool mode.
make_blob() {
        CREDENTIAL_MAKE_EK=$1 CREDENTIAL_MAKE_NAME=$2 CREDENTIAL_MAKE_SECRET=secret CREDENTIAL_MAKE_OUT=$3 "$tool"
}

# activate EK_CTX BLOB OUT: TPM2_ActivateCredential(AK, EK). The low-range EK templates clear
# userWithAuth and need PolicySecret(TPM_RH_ENDORSEMENT) (docs/protocol.md §1); the others take the
# empty endorsement password.
activate() {
        local ek=$1 blob=$2 out=$3 rc
        rm -f "$out"
        case "$ek" in
        ek-rsa.ctx|ek-ecc.ctx)
                tpm2_startauthsession --policy-session -S session.ctx &&
                        tpm2_policysecret -S session.ctx -c e >/dev/null &&
                        tpm2_activatecredential -c ak.ctx -C "$ek" -i "$blob" -o "$out" \
                                -P session:session.ctx >/dev/null
                rc=$?
                tpm2_flushcontext session.ctx 2>/dev/null ;;
        *)
                tpm2_activatecredential -c ak.ctx -C "$ek" -i "$blob" -o "$out" >/dev/null
                rc=$? ;;
        esac
        tpm2_flushcontext -t
        return $rc
}

for ek in rsa ecc ecc384 rsa3072; do
        expect_success "credential_make for the $ek EK" make_blob "ek-$ek.pub" ak.name "blob-$ek"
        expect_success "the TPM activates the $ek EK's credential" activate "ek-$ek.ctx" "blob-$ek" "recovered-$ek"
        expect_equal "the $ek EK's credential is the secret" "$(cat "recovered-$ek" 2>/dev/null)" "${secret:0:32}"
done

# tpm2-tools' own software makecredential on the same inputs: the harness above is sound.
tpm2_makecredential --tcti none -u ek-rsa.pub -s secret -n "$(xxd -p -c 256 ak.name)" -o blob-tools \
        >/dev/null 2>&1
activate ek-rsa.ctx blob-tools recovered-tools >/dev/null 2>&1
expect_equal "tpm2_makecredential's blob activates the same way" "$(cat recovered-tools 2>/dev/null)" "${secret:0:32}"

# A credential bound to another Name (last byte flipped) fails the TPM's integrity check.
{ head -c 33 ak.name; tail -c 1 ak.name | tr '\000-\377' '\001-\377\000'; } >other.name
make_blob ek-rsa.pub other.name blob-other
expect_failure "a credential for another Name fails TPM2_ActivateCredential" 1 "integrity check failed" \
        activate ek-rsa.ctx blob-other recovered-other
