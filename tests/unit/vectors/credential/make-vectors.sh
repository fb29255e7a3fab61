#!/bin/bash
# Re-makes the known-answer vectors of tests/unit/test-credential.c: software EKs and what
# tpm2-tools' own software TPM2_MakeCredential (tpm2_makecredential --tcti none) made for them.
#   <ek>.pem      the EK's private key (a throw-away test key, made with openssl genpkey)
#   <ek>.pub      its TPM2B_PUBLIC on an EK-like template, as `tpm2_createek -f tss` writes one
#   <ek>.blob     tpm2_makecredential's output for `secret` and `object.name`
#   secret        the credential: 32 random [A-Za-z0-9] bytes, as Keylime's registrar makes
#   object.name   the Name it is bound to: 0x000b || SHA-256 of a fixed string (the test never
#                 loads the object, so any well-formed Name will do)
# EKs: rsa2048 and ecc-p256 follow the TCG EK templates L-1 and L-2 (SHA-256, AES-128-CFB, the
# PolicySecret(TPM_RH_ENDORSEMENT) policy); rsa3072-sha384 and ecc-p384 have SHA-384, AES-256-CFB
# and userWithAuth like the high-range templates (whose PolicyOR'ed policy is replaced here by
# PolicySecret under SHA-384: the policy only changes the EK's Name, which credentials ignore).
# tpm2-tools writes the ECC ephemeral point's coordinates without their leading zero bytes, and
# hashes the short x into the seed (KDFe); a TPM pads them, and takes either. The P-384 blob is
# made again until its x is short (1 run in 256), the P-256 one until its x is full: the vectors
# then cover both forms.
# The RSA and P-256 blobs also seed the fuzzer (tests/fuzz/corpus/credential-blob/).
# Every run makes new keys and seeds, so all files change together; commit them together.
# Usage: tests/unit/vectors/credential/make-vectors.sh   (needs openssl, xxd and tpm2-tools; made
# with tpm2-tools 5.4, whose tpm2_makecredential takes the EK as -u)
set -euo pipefail

out=$(cd "$(dirname "$0")" && pwd)
corpus=$out/../../../fuzz/corpus/credential-blob
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

hex() { xxd -p -c 1000 | tr -d '\n'; }
unhex() { xxd -r -p; }
u16() { printf '%04x' "$1"; }

# PolicySecret(TPM_RH_ENDORSEMENT) with an empty policyRef (Part 3, 23.4):
# H(H(zeros || TPM_CC_PolicySecret || Name(TPM_RH_ENDORSEMENT)) || policyRef).
policy_secret_endorsement() {
        local alg=$1 zeros
        zeros=$(head -c "$2" /dev/zero | hex)
        printf '%s000001514000000b' "$zeros" | unhex | openssl dgst -"$alg" -binary | openssl dgst -"$alg" -binary | hex
}
policy256=$(policy_secret_endorsement sha256 32)
policy384=$(policy_secret_endorsement sha384 48)
# The TCG's published L-1/L-2 policy: a check on the computation above.
[ "$policy256" = 837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa ] ||
        { echo "make-vectors: PolicySecret digest $policy256 is not the TCG's" >&2; exit 1; }

# TPMA_OBJECT: fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt,
# plus userWithAuth for the high-range-like keys.
attrs_low=000300b2
attrs_high=000300f2

# TPMT_PUBLIC of an RSA key (exponent 0: the default 65537) and of an ECC key; the TPM2B_PUBLIC
# prefixes its size.
rsa_public() { # NAME_ALG ATTRS POLICY KEY_BITS SYM_BITS PEM
        local modulus
        modulus=$(openssl rsa -in "$6" -noout -modulus | sed 's/^Modulus=//' | tr 'A-F' 'a-f')
        printf '0001%s%s%s%s0006%s0043' "$1" "$2" "$(u16 $((${#3} / 2)))" "$3" "$(u16 "$5")"
        printf '0010%s00000000%s%s' "$(u16 "$4")" "$(u16 $((${#modulus} / 2)))" "$modulus"
}
ecc_public() { # NAME_ALG ATTRS POLICY CURVE FIELD_BYTES SYM_BITS PEM
        local point x y
        # the uncompressed point 04 || X || Y ends the DER SubjectPublicKeyInfo
        point=$(openssl pkey -in "$7" -pubout -outform DER | tail -c $((2 * $5 + 1)) | hex)
        x=${point:2:$((2 * $5))} y=${point:$((2 + 2 * $5))}
        printf '0023%s%s%s%s0006%s0043' "$1" "$2" "$(u16 $((${#3} / 2)))" "$3" "$(u16 "$6")"
        printf '0010%s0010%s%s%s%s' "$4" "$(u16 "$5")" "$x" "$(u16 "$5")" "$y"
}
tpm2b() { local body; body=$(cat); printf '%s%s' "$(u16 $((${#body} / 2)))" "$body" | unhex; }

cd "$work"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out rsa3072-sha384.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ecc-p256.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ecc-p384.pem

rsa_public 000b $attrs_low "$policy256" 2048 128 rsa2048.pem | tpm2b >rsa2048.pub
rsa_public 000c $attrs_high "$policy384" 3072 256 rsa3072-sha384.pem | tpm2b >rsa3072-sha384.pub
ecc_public 000b $attrs_low "$policy256" 0003 32 128 ecc-p256.pem | tpm2b >ecc-p256.pub
ecc_public 000c $attrs_high "$policy384" 0004 48 256 ecc-p384.pem | tpm2b >ecc-p384.pub

secret=$(openssl rand -base64 96 | tr -dc 'A-Za-z0-9')
printf '%s' "${secret:0:32}" >secret
{ printf '000b'; printf 'vmattest credential test AK' | openssl dgst -sha256 -binary | hex; } | unhex >object.name

makecredential() { # EK: EK.blob
        # (it warns that it runs without a TPM: that is the point)
        tpm2_makecredential --tcti none -u "$1.pub" -s secret -n "$(hex <object.name)" -o "$1.blob" \
                >/dev/null 2>makecredential.log || { cat makecredential.log >&2; exit 1; }
}
# The size of the ephemeral x in an ECC blob: magic, version, TPM2B_ID_OBJECT, the secret's size, x.
u16_at() { od -An -tu1 -j "$2" -N2 "$1" | awk '{ print $1 * 256 + $2 }'; }
ephemeral_x_size() { u16_at "$1" $((8 + 2 + $(u16_at "$1" 8) + 2)); }

makecredential rsa2048
makecredential rsa3072-sha384
for try in $(seq 5000); do
        makecredential ecc-p256
        [ "$(ephemeral_x_size ecc-p256.blob)" -eq 32 ] && break
done
for try in $(seq 5000); do
        makecredential ecc-p384
        [ "$(ephemeral_x_size ecc-p384.blob)" -lt 48 ] && break
done
[ "$try" -lt 5000 ] || { echo "make-vectors: no short ephemeral x in 5000 P-384 blobs" >&2; exit 1; }

# world-readable like the rest of the tree, whatever the umask (the keys protect nothing)
install -m 0644 secret object.name ./*.pem ./*.pub ./*.blob "$out/"
install -m 0644 -D rsa2048.blob "$corpus/rsa2048"
install -m 0644 -D ecc-p256.blob "$corpus/ecc-p256"
echo "make-vectors: wrote $(cd "$out" && echo secret object.name *.pem *.pub *.blob)"
