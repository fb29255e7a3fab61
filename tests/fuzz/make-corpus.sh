#!/bin/bash
# Re-makes the fuzz seed corpora in tests/fuzz/corpus/ from a real (software) TPM: an EK, an
# AK and a quote from swtpm through tpm2-tools, then the wire forms of docs/protocol.md §2 built from them.
# The other corpora are committed as they are: written by hand or from tests/unit/vectors, each
# in the input format its harness's header comment describes.
# Usage: tests/fuzz/make-corpus.sh   (from the top of the tree; needs swtpm, swtpm-tools,
# tpm2-tools, iproute2 and coreutils' base64)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
corpus=$top/tests/fuzz/corpus
work=$(mktemp -d)
swtpm_pid=

cleanup() {
        if [ -n "$swtpm_pid" ]; then
                kill "$swtpm_pid" 2>/dev/null || true
                wait "$swtpm_pid" 2>/dev/null || true
        fi
        rm -rf "$work"
}
trap cleanup EXIT

# A free port P with P+1 free as well (swtpm's control channel).
free_port_pair() {
        local port used
        used=$(ss -Hltn | awk '{ n = split($4, a, ":"); print a[n] }')
        for _ in $(seq 100); do
                port=$((20000 + RANDOM % 20000))
                if ! grep -qxF -e "$port" -e "$((port + 1))" <<<"$used"; then
                        echo "$port"
                        return 0
                fi
        done
        echo "make-corpus: no free port pair found" >&2
        return 1
}

port=$(free_port_pair)
mkdir "$work/state"
swtpm_setup --tpm2 --tpmstate "$work/state" --create-ek-cert --overwrite >"$work/swtpm_setup.log" 2>&1 ||
        { cat "$work/swtpm_setup.log" >&2; exit 1; }
swtpm socket --tpm2 --tpmstate dir="$work/state" --server type=tcp,port="$port" \
        --ctrl type=tcp,port=$((port + 1)) --flags not-need-init,startup-clear &
swtpm_pid=$!
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"

# swtpm has no resource manager: flush transient objects between commands.
for _ in $(seq 50); do
        tpm2_getcap properties-fixed >/dev/null 2>&1 && break
        sleep 0.1
done
cd "$work"
tpm2_createek -c ek-ecc.ctx -G ecc -u ek-ecc.pub >/dev/null
tpm2_flushcontext -t
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null
tpm2_flushcontext -t
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -n ak.name >/dev/null
tpm2_flushcontext -t
tpm2_flushcontext -s
tpm2_quote -c ak.ctx -l sha256:0,1,16 -q 616263 -m quote.msg -s quote.sig -o quote.pcrs -g sha256 >/dev/null
tpm2_flushcontext -t

b64() { base64 -w0 "$1"; }

rm -rf "$corpus"/{pcrblob,quote-string,tpm2b,encoding,config}
mkdir -p "$corpus"/{pcrblob,quote-string,tpm2b,encoding,config}

# pcrblob: tpm2_quote -o, sha256 PCRs 0, 1 and 16.
cat quote.pcrs >"$corpus/pcrblob/sha256-0-1-16"

# quote-string: Keylime's "r" b64(TPMS_ATTEST) ":" b64(TPMT_SIGNATURE) ":" b64(pcrblob).
printf 'r%s:%s:%s' "$(b64 quote.msg)" "$(b64 quote.sig)" "$(b64 quote.pcrs)" >"$corpus/quote-string/rsassa-sha256"

# tpm2b: the first byte selects the structure (fuzz-tpm2b.c): 0 TPM2B_PUBLIC, 1 TPMS_ATTEST,
# 2 TPMT_SIGNATURE.
with_selector() { { printf '%b' "\\x$1"; cat "$2"; } >"$3"; }
with_selector 00 ak.pub "$corpus/tpm2b/public-ak-rsa"
with_selector 00 ek.pub "$corpus/tpm2b/public-ek-rsa"
with_selector 00 ek-ecc.pub "$corpus/tpm2b/public-ek-ecc"
with_selector 01 quote.msg "$corpus/tpm2b/attest-quote"
with_selector 02 quote.sig "$corpus/tpm2b/signature-rsassa"

# svsm-manifest: an SVSM vTPM service's manifest is the EK's TPMT_PUBLIC, without the size
# (its all-services seed is committed as written)
mkdir -p "$corpus/svsm-manifest"
tail -c +3 ek.pub >"$corpus/svsm-manifest/ek-rsa"
tail -c +3 ek-ecc.pub >"$corpus/svsm-manifest/ek-ecc"

# encoding: base64 and hex as Keylime sends them (nonces, HMACs, names).
printf '%s' "$(b64 ak.name)" >"$corpus/encoding/base64-ak-name"
printf 'YQ==' >"$corpus/encoding/base64-pad2"
printf 'YWI=' >"$corpus/encoding/base64-pad1"
printf 'YWJj' >"$corpus/encoding/base64-nopad"
od -An -tx1 -v ak.name | tr -d ' \n' >"$corpus/encoding/hex-ak-name"
printf '616263DEADbeef00' >"$corpus/encoding/hex-mixed-case"

# config: agent.conf with every key (agent/config.c), plain and rust-keylime-style quoted.
cat >"$corpus/config/all-keys.conf" <<'CONF'
[agent]
uuid = d432fbb3-d2f1-4a97-9ef7-75bd81c00000
ip = 0.0.0.0
port = 9002
contact_ip = 192.0.2.10
contact_port = 9002
registrar_ip = registrar.example.org
registrar_port = 8890
tpm_hash_alg = sha256
tpm_encryption_alg = rsa
tpm_signing_alg = rsassa
ek_handle = generate
ak_handle = 0x81010002
tcti = swtpm:host=127.0.0.1,port=2321
registrar_tls = false
registrar_tls_ca_cert = /etc/vmattest/registrar-ca.crt
max_retries = 10
retry_interval = 1
exponential_backoff = true
state_dir = /var/lib/vmattest
server_key = server-private.pem
server_cert = server-cert.crt
CONF
cat >"$corpus/config/quoted.conf" <<'CONF'
; rust-keylime writes TOML-style quoted values
[agent]
uuid = ""
ip = "::1"
contact_ip = "fe80::1"
tpm_hash_alg = "sha384"
tpm_encryption_alg = "ecc256"
ek_handle = "81010001"
ak_handle = "0x81010002"
tcti = "device:/dev/tpmrm0"
registrar_tls = "yes"
max_retries = "0"
exponential_backoff = no
CONF

# eventlog: real firmware logs from tests/fixtures/platforms/eventlogs, a SHA-1 log (TCG
# PC Client 1.2 records, no Spec ID event) and a crypto-agile one with SHA-384 and GRUB's events.
cp "$top/tests/fixtures/platforms/eventlogs/debian-10.bin" "$corpus/eventlog/gce-debian-10-sha1"
cp "$top/tests/fixtures/platforms/eventlogs/cos-85-amd-sev.bin" "$corpus/eventlog/gce-cos-85-sha1-sha256-sha384"

# quote-signed: the real GCE attestation's three quotes (fuzz-quote-signed.c's input: u16 sizes,
# big-endian, before the attest and the signature; the bank; the PCR mask; the values; the nonce)
gce=$top/tests/fixtures/platforms/gce/gce-cos-85-nonce9009
byte() { printf "\\$(printf %03o "$1")"; }
be16() { byte $(($1 >> 8)); byte $(($1 & 255)); }
mkdir -p "$corpus/quote-signed"
for bank in 0:sha1 1:sha256 2:sha384; do
        q=$gce/quote-${bank#*:}
        nonce=$(tr -d '\n' <"$gce/nonce.hex")
        {
                be16 "$(stat -c %s "$q/quote.attest")"
                cat "$q/quote.attest"
                be16 "$(stat -c %s "$q/quote.sig")"
                cat "$q/quote.sig"
                byte "${bank%%:*}"
                byte 0; byte 255; byte 255; byte 255 # PCRs 0-23
                jq -r '.pcrs | to_entries | sort_by(.key | tonumber) | .[].value' "$q/pcrs.json" | tr -d '\n' | xxd -r -p
                byte $((${#nonce} / 2))
                printf %s "$nonce" | xxd -r -p
        } >"$corpus/quote-signed/gce-${bank#*:}"
done

echo "make-corpus: seeds written to $corpus"
for name in pcrblob quote-string tpm2b encoding config eventlog quote-signed; do
        dir=$corpus/$name
        printf '  %-14s %2d files, %5d bytes\n' "$name" "$(find "$dir" -type f | wc -l)" \
                "$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
done
