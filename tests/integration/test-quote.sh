#!/bin/bash
# vmattest quote: tpm2_checkquote accepts it, and rejects it when any part was altered.
. "$(dirname "$0")/lib.sh"
plan 14

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1

expect_failure "quote without an AK says what to do" 1 "run 'vmattest identity' first" \
        "$VMATTEST" quote --nonce abc --pcrs 0
"$VMATTEST" identity >/dev/null 2>&1
"$VMATTEST" extend --pcr 16 --reset --data "payload key" >/dev/null

nonce=Zm9vYmFyMTIzNDU2Nzg5MA
nonce_hex=$(printf %s "$nonce" | xxd -p -c 256)
expect_success "quote writes the tpm2_checkquote files" "$VMATTEST" quote --nonce "$nonce" --pcrs 0-9,16 --out q
quote_string=$(head -n 1 out)
checkquote() { tpm2_checkquote -u q/ak.pub -m "$1" -s "$2" -f "$3" -q "$4" -g sha256; }
expect_success "tpm2_checkquote accepts the quote with its nonce" checkquote q/quote.msg q/quote.sig q/quote.pcrs "$nonce_hex"
expect_equal "the quote string is r<attest>:<sig>:<pcrblob> of those files" "$quote_string" \
        "r$(base64 -w0 q/quote.msg):$(base64 -w0 q/quote.sig):$(base64 -w0 q/quote.pcrs)"

expect_failure "another nonce is rejected" any "" checkquote q/quote.msg q/quote.sig q/quote.pcrs "$(printf other | xxd -p)"

flip() { # flip FILE OFFSET OUT: copy FILE with the byte at OFFSET inverted
        local byte
        cp "$1" "$3"
        byte=$(xxd -s "$2" -l 1 -p "$1")
        printf '%02x' $((0x$byte ^ 0xff)) | xxd -r -p | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
flip q/quote.pcrs 150 bad.pcrs   # inside PCR 0's value (digest data starts at 142)
expect_failure "an altered PCR value is rejected" any "" checkquote q/quote.msg q/quote.sig bad.pcrs "$nonce_hex"
flip q/quote.sig 100 bad.sig
expect_failure "an altered signature is rejected" any "" checkquote q/quote.msg bad.sig q/quote.pcrs "$nonce_hex"
flip q/quote.msg 60 bad.msg
expect_failure "an altered TPMS_ATTEST is rejected" any "" checkquote bad.msg q/quote.sig q/quote.pcrs "$nonce_hex"

# the pcrblob is byte for byte what tpm2_quote -o writes for the same PCRs
tpm2_quote -c 0x81010002 -l sha256:0,1,2,3,4,5,6,7,8,9,16 -q "$nonce_hex" -m t.msg -s t.sig -o t.pcrs -g sha256 >/dev/null
expect_equal "pcrblob equals tpm2_quote's PCR file" "$(xxd -p q/quote.pcrs)" "$(xxd -p t.pcrs)"

# PCR 16 binding (docs/protocol.md §2): reset, then extend with H(data): PCR16 = H(0^32 || H(data))
want16=$( { head -c 32 /dev/zero; printf 'payload key' | openssl dgst -sha256 -binary; } | openssl dgst -sha256 -r | cut -d' ' -f1)
expect_equal "extend --reset binds PCR 16 to H(data)" \
        "$("$VMATTEST" pcrs --pcrs 16 --json | jq -r '.pcrs["16"]')" "$want16"

expect_failure "PCR 24 is refused" 2 "bad range|expected a PCR|0-31|--pcrs" "$VMATTEST" quote --nonce a --pcrs 0,99
expect_failure "a 65-byte nonce is refused" 2 "1-64 bytes" "$VMATTEST" quote --nonce "$(head -c 65 /dev/zero | tr '\0' a)" --pcrs 0
expect_failure "the sha384 bank is refused for a SHA-256 AK" any "differs from the AK's signing hash" \
        "$VMATTEST" quote --nonce abc --pcrs 0 --bank sha384
expect_failure "an unreachable TPM gives exit 3 naming the TCTI" 3 "swtpm:host=127.0.0.1,port=1" \
        "$VMATTEST" --tcti swtpm:host=127.0.0.1,port=1 quote --nonce abc --pcrs 0
