#!/bin/bash
# Re-makes the vectors of tests/unit/test-quote_check.c with vmattest itself on two fresh
# swtpms: two quotes of one AK (nonces "nonceA" then "nonceB", PCRs 0 and 16, PCR 16 bound to
# payload.pem) and the AK of another TPM; and a quote of an ECC AK (tpm_signing_alg = ecdsa:
# ECDSA-SHA256, nonce "nonceA", PCRs 0 and 16 bound to payload.pem) with that AK, ecc-ak.pub and
# ecdsa-quote.txt. Run from the repository root after `make`.
set -euo pipefail
out=tests/unit/vectors/quote-check
export VMATTEST=${VMATTEST:-build/release/vmattest}
. tests/integration/lib.sh
vmattest() { "$VMATTEST" "$@"; }

openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -out "$out/payload.pem" 2>/dev/null
openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -out "$out/other-payload.pem" 2>/dev/null

swtpm_start other >/dev/null
vmattest identity >/dev/null 2>&1
tpm2_readpublic -c 0x81010002 -o "$out/other-ak.pub" >/dev/null

swtpm_start this >/dev/null
vmattest identity >/dev/null 2>&1
tpm2_readpublic -c 0x81010002 -o "$out/ak.pub" >/dev/null
vmattest extend --pcr 16 --reset --data-file "$out/payload.pem" --bank sha256 >/dev/null
vmattest quote --nonce nonceA --pcrs 0,16 >"$out/quote1.txt"
sleep 0.1 # the TPM clock counts milliseconds: the second quote is later
vmattest quote --nonce nonceB --pcrs 0,16 >"$out/quote2.txt"

swtpm_start ecc >/dev/null
printf '[agent]\ntpm_signing_alg = ecdsa\n' >"$TEST_TMP/ecdsa.conf"
vmattest --config "$TEST_TMP/ecdsa.conf" identity >/dev/null 2>&1
tpm2_readpublic -c 0x81010002 -o "$out/ecc-ak.pub" >/dev/null
vmattest extend --pcr 16 --reset --data-file "$out/payload.pem" --bank sha256 >/dev/null
vmattest --config "$TEST_TMP/ecdsa.conf" quote --nonce nonceA --pcrs 0,16 >"$out/ecdsa-quote.txt"
echo "vectors written to $out"
