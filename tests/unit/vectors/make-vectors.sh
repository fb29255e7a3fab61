#!/bin/sh
# Re-makes the codec vectors the unit tests read, with tpm2-tools against a throw-away swtpm:
#   ak.pub, ak.name              tpm2_createak -u / -n (TPM2B_PUBLIC, binary Name)
#   ak.pem                       tpm2_readpublic -f pem (the AK as SubjectPublicKeyInfo PEM)
#   quote.{msg,sig,pcrs}         tpm2_quote over sha256:0-10,16 (12 PCRs: two TPML_DIGEST lists)
#   quote3.{msg,sig,pcrs}        tpm2_quote over sha256:0,1,16 (one list)
#   pcrs.txt                     tpm2_pcrread of the same PCRs, the values the quotes cover
# Every run makes a new EK and AK, so all files change together; commit them together.
# Usage: tests/unit/vectors/make-vectors.sh [port]   (port and port+1 must be free)
set -eu

port=${1:-23210}
out=$(cd "$(dirname "$0")" && pwd)
state=$(mktemp -d)
work=$(mktemp -d)
swtpm_pid=

cleanup() {
        [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null && wait "$swtpm_pid" 2>/dev/null
        rm -rf "$state" "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

swtpm_setup --tpm2 --tpmstate "$state" --create-ek-cert --overwrite >/dev/null
swtpm socket --tpm2 --tpmstate dir="$state" --server type=tcp,port="$port" \
        --ctrl type=tcp,port=$((port + 1)) --flags not-need-init,startup-clear &
swtpm_pid=$!

export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
i=0
until tpm2_getrandom 1 >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 50 ] || { echo "make-vectors: swtpm did not come up on port $port" >&2; exit 1; }
        sleep 0.1
done

# swtpm has no resource manager: flush what each command leaves loaded.
flush() {
        tpm2_flushcontext -t
        tpm2_flushcontext -s
}

cd "$work"
# The PCRs start at zero (swtpm has no firmware to measure): extend each quoted PCR with its own
# value, so that a decoder which puts a value in the wrong PCR fails the tests.
for pcr in 0 1 2 3 4 5 6 7 8 9 10 16; do
        tpm2_pcrextend "$pcr:sha256=$(printf '%02x' "$pcr" | awk '{ for (i = 0; i < 32; i++) printf "%s", $0 }')"
done
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null
flush
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -n ak.name >/dev/null
flush
tpm2_readpublic -c ak.ctx -f pem -o ak.pem >/dev/null
flush

# -q 6e6f6e6365 is the nonce "nonce", the quote's extraData.
tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7,8,9,10,16 -q 6e6f6e6365 -g sha256 \
        -m quote.msg -s quote.sig -o quote.pcrs >/dev/null
flush
tpm2_quote -c ak.ctx -l sha256:0,1,16 -q 6e6f6e6365 -g sha256 \
        -m quote3.msg -s quote3.sig -o quote3.pcrs >/dev/null
flush
tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8,9,10,16 >pcrs.txt

cp ak.pub ak.name ak.pem quote.msg quote.sig quote.pcrs quote3.msg quote3.sig quote3.pcrs pcrs.txt "$out/"
(cd "$out" && chmod 644 ak.pub ak.name ak.pem quote.* quote3.* pcrs.txt)
echo "make-vectors: wrote $(cd "$out" && ls ak.pub ak.name ak.pem quote.* quote3.* pcrs.txt | tr '\n' ' ')"
