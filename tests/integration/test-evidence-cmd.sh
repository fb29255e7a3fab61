#!/bin/bash
# vmattest-verifier evidence over the real third-party evidence of tests/fixtures/platforms: each
# vector passes (exit 0) and its --json facts are the ones its manifest.json states (compared
# with jq against the manifest itself, never against copies written here); tampered variants (a
# flipped byte in a signed region, another chip's VCEK, a chain to another root, a time after a
# certificate's expiry, a REPORT_DATA or nonce that is not the evidence's) fail with exit 1 and
# the reason named; a truncated or missing file is exit 2.
#
# Manifest facts not compared, and why: the files' size/sha256 (properties of the files, not of
# what they say), layout notes and offsets ("*_offset", "region_size", "hw_report"), the fixed
# constants the parsers refuse to be anything else (HCL "signature_u32"/"signature_ascii"/
# "reserved_zero", TDX "certification_data_type"/"inner_certification_data_type", the TDX
# header's two reserved "header_svn_*"), the PCK chain's subjects and fingerprints (the chain
# verdict covers them), the HCL "jwk_n_prefix" (truncated text) and "trailing_zero_bytes" (the
# parser refuses any that is not zero), the TDREPORT's "tee_type"/"note" (its report_type is
# compared), the event logs' "*_stated_in"/"asserted_by" provenance, and gdc-host.bin's
# "efi_app_digests" (none of them occurs in that log's bytes; see below). The GRUB command line
# is compared without the trailing NUL the manifest keeps (the command prints text).
. "$(dirname "$0")/lib.sh"
plan 54

P=$PWD/tests/fixtures/platforms
SNP=$P/snp/attestation.bin
TDX=$P/tdx/tdx_prod_quote_SPR_E4.dat
GCE=$P/gce/gce-cos-85-nonce9009
AT=2025-06-01T00:00:00Z # every certificate here is valid then
cd "$TEST_TMP" || exit 1
ev() { "$VMATTEST_VERIFIER" evidence "$@"; }
# AMD's bundles as --amd-certs directories: Milan's alone, Genoa's alone (another root)
mkdir amd-milan amd-genoa && cp "$P/snp/ask_ark_milan.pem" amd-milan && cp "$P/snp/ask_ark_genoa.pem" amd-genoa

# expected MANIFEST FILE [JQ-FILTER]: the manifest's "expected" of FILE, less what the filter drops
expected() { jq --arg f "$2" ".files[] | select(.file == \$f) | .expected | ${3:-.}" "$1"; }
# mismatches EXPECTED-JSON GOT-JSON: the keys of EXPECTED whose value GOT does not equal ([] if none)
mismatches() { jq -cn --argjson e "$1" --argjson g "$2" '[$e | to_entries[] | select($g[.key] != .value) | .key]'; }
# facts_match DESC EXPECTED-JSON GOT-JSON
facts_match() {
        local bad; bad=$(mismatches "$2" "$3")
        if [ "$bad" = "[]" ]; then ok "$1"; else
                not_ok "$1"; { echo "differs: $bad"; jq -cn --argjson e "$2" --argjson g "$3" \
                        '$e | to_entries[] | select($g[.key] != .value) | {key, want: .value, got: $g[.key]}'; } | diag
        fi
}
# passes DESC OUT CMD...: exit 0 and verdict pass, the JSON in OUT
passes() {
        local desc=$1 out=$2 rc; shift 2
        "$@" >"$out" 2>"$out.err"; rc=$?
        if [ "$rc" -eq 0 ] && [ "$(jq -r .verdict "$out")" = pass ]; then ok "$desc"; else
                not_ok "$desc (exit $rc)"; cat "$out" "$out.err" | diag; fi
}
# flip FILE OFFSET OUT: FILE with the byte at OFFSET inverted
flip() {
        cp "$1" "$3" && printf "$(printf '\\%03o' $((0x$(xxd -s "$2" -l 1 -p "$1") ^ 0xff)))" |
                dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}

# --- SEV-SNP: the Milan report, its VCEK, AMD's Milan ASK/ARK (the ARK pinned in code)
snp_ok() { ev snp-report --vcek "$P/snp/vcek.testcer" --amd-certs amd-milan --at "$AT" "$@"; }
passes "snp-report: the Milan report verifies with its VCEK to AMD's pinned Milan ARK" snp.json snp_ok --json "$SNP"
facts_match "snp-report: every fact of the manifest" \
        "$(expected "$P/snp/manifest.json" attestation.bin 'del(.size, .layout_note, .signature_verifies_with)')" \
        "$(jq .facts.snp_report snp.json)"
report_data=$(jq -r .facts.snp_report.report_data snp.json)
passes "snp-report: --certs PEM adds AMD certificates (only a pinned ARK among them anchors)" snp-certs.json \
        ev snp-report --json --vcek "$P/snp/vcek.testcer" --certs "$P/snp/ask_ark_milan.pem" --amd-certs amd-genoa --at "$AT" "$SNP"
passes "snp-report: --report-data the report's own passes" snp-rd.json snp_ok --json --report-data "$report_data" "$SNP"
printf '{"platform": "sev-snp", "measurements": ["%s"], "allow_debug": true}\n' \
        "$(expected "$P/snp/manifest.json" attestation.bin .measurement | tr -d '"')" >snp-policy.json
passes "snp-report: a platform policy of its measurement passes" snp-pol.json snp_ok --json --policy snp-policy.json "$SNP"

flip "$SNP" $((0x90)) snp-flipped.bin # a byte of MEASUREMENT
expect_failure "snp-report: a flipped byte of the signed measurement fails the signature" 1 \
        'signature does not verify with the VCEK' snp_ok snp-flipped.bin
expect_failure "snp-report: another chip's VCEK (azure/certs.pem's) fails on its hwID" 1 \
        "hwID is not the report's chip_id" \
        ev snp-report --vcek "$P/azure/certs.pem" --amd-certs amd-milan --at "$AT" "$SNP"
expect_failure "snp-report: a chain to another root (Genoa's ASK/ARK only) fails" 1 'SNP endorsement.*fail' \
        ev snp-report --vcek "$P/snp/vcek.testcer" --amd-certs amd-genoa --at "$AT" "$SNP"
expect_failure "snp-report: after the VCEK's expiry (2029-09-24) the chain fails" 1 'expired' \
        ev snp-report --vcek "$P/snp/vcek.testcer" --amd-certs amd-milan --at 2030-01-01 "$SNP"
expect_failure "snp-report: a --report-data that is not the report's fails" 1 \
        'REPORT_DATA is not the --report-data given' snp_ok --report-data "$(printf '%0128d' 7)" "$SNP"
printf '{"platform": "sev-snp", "measurements": ["%096d"], "allow_debug": true}\n' 1 >snp-other.json
expect_failure "snp-report: a platform policy of another measurement fails" 1 'SNP platform policy: fail' \
        snp_ok --policy snp-other.json "$SNP"
head -c 1000 "$SNP" >snp-short.bin
expect_failure "snp-report: a truncated report is exit 2, the file named" 2 'snp-short.bin' snp_ok snp-short.bin
expect_failure "snp-report: a missing report is exit 2" 2 'nothing.bin: no such file' snp_ok nothing.bin
expect_failure "snp-report: a missing VCEK is exit 2, the option named" 2 '--vcek' \
        ev snp-report --vcek nothing.der "$SNP"
expect_failure "an option of another kind is a usage error (exit 2), named" 2 '--ccel does not apply' \
        ev snp-report --ccel x.bin "$SNP"

# --- TDX: the Sapphire Rapids quote and Intel's SGX root
tdx_ok() { ev tdx-quote --intel-root "$P/tdx/trusted_root.pem" --at "$AT" "$@"; }
passes "tdx-quote: the SPR quote's chain verifies to Intel's pinned root" tdx.json tdx_ok --json "$TDX"
facts_match "tdx-quote: every fact of the manifest" \
        "$(expected "$P/tdx/manifest.json" tdx_prod_quote_SPR_E4.dat 'del(.size, .layout_note, .header_svn_0x08,
                .header_svn_0x0a, .certification_data_type, .inner_certification_data_type, .pck_chain,
                .pck_leaf_subject, .signature_chain_verifies)')" \
        "$(jq .facts.tdx_quote tdx.json)"
printf '{"platform": "tdx", "mrtd": [%s]}\n' "$(expected "$P/tdx/manifest.json" tdx_prod_quote_SPR_E4.dat .mrtd)" >tdx-policy.json
passes "tdx-quote: a platform policy of its MRTD passes" tdx-pol.json tdx_ok --json --policy tdx-policy.json "$TDX"
printf '{"platform": "tdx", "mrtd": ["%096d"]}\n' 1 >tdx-other.json
expect_failure "tdx-quote: a platform policy of another MRTD fails" 1 'TDX platform policy: fail: .*MRTD' \
        tdx_ok --policy tdx-other.json "$TDX"
flip "$TDX" $((48 + 16 + 48 + 48 + 24)) tdx-flipped.bin # a byte of MRTD
expect_failure "tdx-quote: a flipped byte of the signed MRTD fails the quote signature" 1 \
        'signature does not verify with the attestation key' tdx_ok tdx-flipped.bin
expect_failure "tdx-quote: after the PCK certificate's expiry (2029-09-20) the chain fails" 1 'expired' \
        ev tdx-quote --intel-root "$P/tdx/trusted_root.pem" --at 2030-01-01 "$TDX"
openssl x509 -inform DER -in "$P/gce/ca-certs/gcp_ek_ak_ca_root.crt" -out other-root.pem
expect_failure "tdx-quote: a root that is not Intel's pinned one is refused" 1 'TDX quote signature chain.*fail' \
        ev tdx-quote --intel-root other-root.pem --at "$AT" "$TDX"
expect_failure "tdx-quote: a --report-data that is not the quote's fails" 1 'REPORTDATA is not the --report-data given' \
        tdx_ok --report-data "$(printf '%0128d' 7)" "$TDX"
# a CC event log of SHA-384 alone (Spec ID event, then one EV_EFI_ACTION into RTMR0): its RTMR0
# is not the quote's
spec="$(printf 'Spec ID Event03' | xxd -p)00 00000000 00020002 01000000 0c003000 00"
echo "00000000 03000000 $(printf '%040d' 0) 21000000 $spec 01000000 07000080 01000000 0c00
        $(printf 'aa%.0s' $(seq 48)) 04000000 $(printf test | xxd -p)" | xxd -r -p >ccel.bin
expect_failure "tdx-quote: a CC event log that does not replay to the quote's RTMR0 fails, both values shown" 1 \
        'RTMR0 replays to 7bb2c5d8.*, the quote has 2927da70' tdx_ok --ccel ccel.bin "$TDX"
expect_failure "tdx-quote: a UEFI log extending PCR 0 is no CC event log (exit 2)" 2 'extends measurement register index 0' \
        tdx_ok --ccel "$P/eventlogs/cos-85-amd-sev.bin" "$TDX"
head -c 700 "$TDX" >tdx-short.dat
expect_failure "tdx-quote: a truncated quote is exit 2" 2 'tdx-short.dat' tdx_ok tdx-short.dat

# --- Azure HCL reports: the binding of the runtime data (no matching VCEK exists for the SNP one)
for t in snp tdx; do
        passes "hcl-report ($t): the runtime data is the one its hardware report binds" hcl-$t.json \
                ev hcl-report --json "$P/azure/hcl-report-$t.bin"
done
hcl_drop='del(.header.signature_u32, .header.signature_ascii, .header.reserved_zero, .hw_report,
        .igvm_request_data.offset, .igvm_request_data.variable_data_offset, .trailing_zero_bytes_after_variable_data,
        .layout_note, .report_data_offset_in_hw_report, .caveat, .jwk_n_prefix, .tdreport.tee_type, .tdreport.note)'
# nested members compared as subsets: the manifest states some of each object's fields
hcl_got() { # hcl_got FACTS-JSON EXPECTED-JSON: the facts cut to the expected's shape
        jq -n --argjson g "$1" --argjson e "$2" '$g | with_entries(select(.key as $k | $e | has($k)))
                | with_entries(.key as $k | if ($e[$k] | type) == "object"
                               then .value |= with_entries(select(.key as $m | $e[$k] | has($m))) else . end)'
}
for t in snp tdx; do
        want=$(expected "$P/azure/manifest.json" "hcl-report-$t.bin" "$hcl_drop")
        facts_match "hcl-report ($t): the manifest's header, request data, runtime data and hardware report facts" \
                "$want" "$(hcl_got "$(jq .facts.hcl_report "hcl-$t.json")" "$want")"
done
passes "hcl-report (snp): --type snp, the platform the tenant expects, passes" hcl-type.json \
        ev hcl-report --json --type snp "$P/azure/hcl-report-snp.bin"
expect_failure "hcl-report (snp): --type tdx fails: the unsigned report type chooses nothing" 1 \
        'holds a SEV-SNP report, the policy expects TDX' ev hcl-report --type tdx "$P/azure/hcl-report-snp.bin"
expect_failure "hcl-report (snp): azure/certs.pem's VCEK is another chip's" 1 "hwID is not the report's chip_id" \
        ev hcl-report --vcek "$P/azure/certs.pem" --amd-certs amd-milan --at "$AT" \
        "$P/azure/hcl-report-snp.bin"
offset=$(grep -abo BAEFD3E1 "$P/azure/hcl-report-snp.bin" | cut -d: -f1)
cp "$P/azure/hcl-report-snp.bin" hcl-flipped.bin # vmUniqueId BAEFD3E1-... becomes CAEFD3E1-...: still JSON
printf 'C' | dd of=hcl-flipped.bin bs=1 seek="$offset" conv=notrunc status=none
expect_failure "hcl-report: runtime data changed after the hardware report bound it fails the binding" 1 \
        'HCL type and binding.*fail: .*REPORT_DATA' ev hcl-report hcl-flipped.bin
head -c 1500 "$P/azure/hcl-report-tdx.bin" >hcl-short.bin
expect_failure "hcl-report: a truncated report is exit 2" 2 'hcl-short.bin' ev hcl-report hcl-short.bin

# --- GCE vTPM quotes in three banks, under the attestation's AK, nonce 0x9009
nonce=$(cat "$GCE/nonce.hex")
quote() { ev tpm-quote --attest "$GCE/quote-$1/quote.attest" --signature "$GCE/quote-$1/quote.sig" \
        --ak "$GCE/ak_pub.tpmt" --pcrs "$GCE/quote-$1/pcrs.json" "${@:2}"; }
for bank in sha1 sha256 sha384; do
        passes "tpm-quote ($bank): the GCE quote verifies under its AK with nonce $nonce and its PCR values" \
                quote-$bank.json quote $bank --json --nonce "$nonce"
        facts_match "tpm-quote ($bank): the manifest's TPMS_ATTEST" \
                "$(expected "$P/gce/manifest.json" "gce-cos-85-nonce9009/quote-$bank/quote.attest" '.tpms_attest | del(.parsed_len, .total_len)')" \
                "$(jq .facts.tpms_attest quote-$bank.json)"
done
passes "tpm-quote: without --pcrs the signature and nonce pass, the PCR values listed as not checked" quote-nopcrs.json \
        ev tpm-quote --json --attest "$GCE/quote-sha256/quote.attest" --signature "$GCE/quote-sha256/quote.sig" \
        --ak "$GCE/ak_pub.tpmt" --nonce "$nonce"
expect_equal "tpm-quote: without --pcrs, 'TPM quote PCR values' is in not_checked" \
        "$(jq -r '.not_checked[].check' quote-nopcrs.json)" "TPM quote PCR values"
ak_size=$(stat -c %s "$GCE/ak_pub.tpmt") # a TPM2B_PUBLIC: the u16 size (big-endian), then the TPMT_PUBLIC
{ printf "$(printf '\\x%02x\\x%02x' $((ak_size >> 8)) $((ak_size & 255)))"; cat "$GCE/ak_pub.tpmt"; } >ak.tpm2b
passes "tpm-quote: the AK as a TPM2B_PUBLIC passes as well" quote-tpm2b.json \
        ev tpm-quote --json --attest "$GCE/quote-sha256/quote.attest" --signature "$GCE/quote-sha256/quote.sig" \
        --ak ak.tpm2b --nonce "$nonce" --pcrs "$GCE/quote-sha256/pcrs.json"
expect_failure "tpm-quote: another nonce fails" 1 'not over the nonce' quote sha256 --nonce 9010
expect_failure "tpm-quote: another bank's PCR values fail" 1 'not the ones quoted' \
        ev tpm-quote --attest "$GCE/quote-sha256/quote.attest" --signature "$GCE/quote-sha256/quote.sig" \
        --ak "$GCE/ak_pub.tpmt" --pcrs "$GCE/quote-sha1/pcrs.json" --nonce "$nonce"
flip "$GCE/quote-sha256/quote.attest" 60 attest-flipped.bin # a byte of the clock info
expect_failure "tpm-quote: a flipped byte of the signed attest fails the signature" 1 'signature does not verify' \
        ev tpm-quote --attest attest-flipped.bin --signature "$GCE/quote-sha256/quote.sig" --ak "$GCE/ak_pub.tpmt" --nonce "$nonce"
expect_failure "tpm-quote: another AK (azure/akpub.pem, PEM) fails the signature" 1 'signature does not verify' \
        ev tpm-quote --attest "$GCE/quote-sha256/quote.attest" --signature "$GCE/quote-sha256/quote.sig" \
        --ak "$P/azure/akpub.pem" --nonce "$nonce"
head -c 100 "$GCE/quote-sha256/quote.attest" >attest-short.bin
expect_failure "tpm-quote: a truncated attest is exit 2, the file named" 2 'attest-short.bin' \
        ev tpm-quote --attest attest-short.bin --signature "$GCE/quote-sha256/quote.sig" --ak "$GCE/ak_pub.tpmt"
expect_failure "tpm-quote: a missing signature file is exit 2" 2 'nothing.sig: no such file' \
        ev tpm-quote --attest "$GCE/quote-sha256/quote.attest" --signature nothing.sig --ak "$GCE/ak_pub.tpmt"

# --- UEFI event logs: format, counts, algorithms, replayed PCRs, EFI applications, command line
bad_logs=
for log in "$P"/eventlogs/*.bin; do
        name=$(basename "$log")
        if ! ev eventlog --json "$log" >log.json 2>log.err || [ "$(jq -r .verdict log.json)" != pass ]; then
                bad_logs+=" $name(exit)"; continue
        fi
        want=$(expected "$P/eventlogs/manifest.json" "$name" \
                'del(.asserted_by, .asserted_by_note, .pcrs_stated_in, .efi_app_digests_stated_in, .kernel_cmdline_stated_in, .event_count_counts)')
        got=$(jq --argjson e "$want" '.facts
                | .pcrs = [$e.pcrs[]? as $w | {bank: $w.bank, pcrs: ((.pcrs[] | select(.bank == $w.bank) | .pcrs)
                                                                     | with_entries(select(.key as $k | $w.pcrs | has($k))))}]
                | .kernel_cmdline = (.kernel_cmdlines[0] // null)
                | .efi_app_digests = (.efi_app_digests | with_entries(select(.key as $k | $e.efi_app_digests // {} | has($k))))' log.json)
        # gdc-host.bin's manifest states four EFI application digests of which none occurs
        # anywhere in the log's bytes (its three PCR 4 application events carry others): they
        # cannot be found by reading this file, so they are not compared
        [ "$name" != gdc-host.bin ] || want=$(jq 'del(.efi_app_digests)' <<<"$want")
        want=$(jq '(if .kernel_cmdline then .kernel_cmdline |= rtrimstr("\u0000") else . end)
                | if .pcrs then . else .pcrs = [] end' <<<"$want")
        bad=$(mismatches "$want" "$got")
        [ "$bad" = "[]" ] || bad_logs+=" $name$bad"
done
expect_equal "eventlog: every log of eventlogs/ passes with its manifest's facts (PCRs per bank, EFI apps, cmdline)" \
        "${bad_logs:-none}" none
passes "eventlog: the GCE attestation's log" gce-log.json ev eventlog --json "$GCE/event_log.bin"
facts_match "eventlog: the GCE log's format, algorithms and event count" \
        "$(expected "$P/gce/manifest.json" gce-cos-85-nonce9009/event_log.bin 'del(.event_count_counts)')" \
        "$(jq .facts gce-log.json)"
head -c 5000 "$P/eventlogs/rhel8-uefi.bin" >log-short.bin
expect_failure "eventlog: a truncated log is exit 2, the event named" 2 'log-short.bin: .*event' ev eventlog log-short.bin
