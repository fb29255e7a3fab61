#!/bin/bash
# The hardware report with the integrity quote (docs/protocol.md §5) through configfs-tsm, here
# the FUSE test double tests/tools/tsm-double (SEV-SNP provider, fake keys): REPORT_DATA binds the
# nonce, the AK and the EK (computed here with tpm2-tools and hashlib, not the agent's code); a
# racing writer, a short report and a required report that is missing are refused. Needs root
# and /dev/fuse.
. "$(dirname "$0")/lib.sh"
plan 22

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ] || [ ! -x "$TOOLS_DIR/tsm-double" ]; then
        for i in $(seq 22); do ok "# SKIP needs root, /dev/fuse and tsm-double"; done
        exit 0
fi

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
"$VMATTEST" identity >/dev/null 2>&1
tsm_double_start "$TEST_TMP/tsm" || exit 1

# The Names, independently: the AK's at its handle, the EK's from tpm2-tools' own L-1 template
tpm2_readpublic -c 0x81010002 -n ak.name >/dev/null
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null && tpm2_readpublic -c ek.ctx -n ek.name >/dev/null
tpm2_flushcontext -t >/dev/null 2>&1
binding() { # binding NONCE: SHA-512("vmattest-tsm-report-v1" || 0x00 || nonce || AK name || EK name), hex
        python3 -c 'import hashlib, sys
print(hashlib.sha512(b"vmattest-tsm-report-v1\0" + sys.argv[1].encode() + open("ak.name", "rb").read()
                     + open("ek.name", "rb").read()).hexdigest())' "$1"
}
# report_data FILE: the SNP report's REPORT_DATA (0x50, 64 bytes) of the base64 outblob in FILE's
# platform_evidence, hex
report_data() { jq -r "${2:-.platform_evidence}.outblob" "$1" | base64 -d | head -c 144 | tail -c 64 | xxd -p -c 64; }

conf() { # conf FILE LINES: an agent.conf for vmattest quote
        printf '[agent]\nstate_dir = %s/agent-state\n%s\n' "$TEST_TMP" "$2" >"$1"
}
conf auto.conf "tsm_report_dir = $TEST_TMP/tsm"
quote() { "$VMATTEST" --config "$1" quote --json --nonce "$2" --pcrs 0 >"$3"; }

expect_success "vmattest quote takes a hardware report from the double" quote auto.conf nonceA1 a.json
expect_equal "platform_evidence: provider, generation after one write, an outblob and an auxblob" \
        "$(jq -r '.platform_evidence | "\(.provider) \(.generation) \(.outblob | length > 0) \(.auxblob | length > 0)"' a.json)" \
        "sev_guest 1 true true"
expect_equal "REPORT_DATA binds the nonce, the AK and the EK" "$(report_data a.json)" "$(binding nonceA1)"
expect_equal "the agent removed its configfs-tsm entry" "$(ls "$TEST_TMP/tsm" | wc -l)" 0

# the double's report is what a verifier will check: signed by the VCEK of auxblob, which
# chains to the ARK the double wrote (a check of the double, not of the agent)
check_report() {
        python3 - "$1" "$TEST_TMP/tsm.ark.pem" <<'PY'
import base64, json, struct, subprocess, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
ev = json.load(open(sys.argv[1]))["platform_evidence"]
report, aux = base64.b64decode(ev["outblob"]), base64.b64decode(ev["auxblob"])
certs = {}
for i in range(0, len(aux), 24):
    guid, off, size = aux[i:i + 16], *struct.unpack("<II", aux[i + 16:i + 24])
    if guid == bytes(16):
        break
    certs[guid.hex()] = aux[off:off + size]
vcek = x509.load_der_x509_certificate(certs["63da758de6644564adc5f4b93be8accd"])
r = int.from_bytes(report[0x2a0:0x2a0 + 72], "little")
s = int.from_bytes(report[0x2a0 + 72:0x2a0 + 144], "little")
vcek.public_key().verify(encode_dss_signature(r, s), report[:0x2a0], ec.ECDSA(hashes.SHA384()))
open("ask.pem", "wb").write(x509.load_der_x509_certificate(certs["4ab7b379bbac4fe4a02f05aef327c782"]).public_bytes(
    encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM))
open("vcek.pem", "wb").write(vcek.public_bytes(
    encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM))
subprocess.run(["openssl", "verify", "-CAfile", sys.argv[2], "-untrusted", "ask.pem", "vcek.pem"], check=True)
PY
}
expect_success "the double's report verifies with its VCEK, which chains to its ARK" check_report a.json

expect_success "another nonce" quote auto.conf nonceB2 b.json
expect_equal "... gives another report, bound to that nonce" "$(report_data b.json)" "$(binding nonceB2)"

"$VMATTEST" --config auto.conf quote --nonce nonceC3 --pcrs 0 >text.out 2>&1
expect_equal "the text form prints platform_evidence on a line of its own" \
        "$(sed -n 's/^platform_evidence //p' text.out | jq -r .provider)" sev_guest

conf off.conf "tsm_report_dir = $TEST_TMP/tsm
platform_report = off"
quote off.conf nonceD4 off.json
expect_equal "platform_report = off serves none" "$(jq -c 'has("quote"), has("platform_evidence")' off.json | tr '\n' ' ')" \
        "true false "

conf missing.conf "tsm_report_dir = $TEST_TMP/no-tsm"
quote missing.conf nonceE5 missing.json
expect_equal "auto without configfs-tsm: the quote alone" "$(jq -c 'has("quote"), has("platform_evidence")' missing.json | tr '\n' ' ')" \
        "true false "
conf required.conf "tsm_report_dir = $TEST_TMP/no-tsm
platform_report = required"
expect_failure "required without configfs-tsm: no quote, the reason named" any \
        "platform report \(required\).*no-tsm: no such directory" quote required.conf nonceF6 required.json

tsm_double_start "$TEST_TMP/race" --race || exit 1
conf race.conf "tsm_report_dir = $TEST_TMP/race"
expect_failure "a writer racing ours is retried, then named" any "another writer raced us \(3 attempts\)" \
        quote race.conf nonceG7 race.json
expect_equal "... and the entry is removed" "$(ls "$TEST_TMP/race" | wc -l)" 0

tsm_double_start "$TEST_TMP/short" --short || exit 1
conf short.conf "tsm_report_dir = $TEST_TMP/short"
expect_failure "a short report is refused" any "outblob: SEV-SNP report is 1000 bytes, not 1184" \
        quote short.conf nonceH8 short.json

tsm_double_start "$TEST_TMP/none" --provider "" || exit 1
conf none.conf "tsm_report_dir = $TEST_TMP/none"
quote none.conf nonceH9 none.json
expect_equal "auto with configfs-tsm but no provider: the quote alone" \
        "$(jq -c 'has("quote"), has("platform_evidence")' none.json | tr '\n' ' ')" "true false "
conf none-required.conf "tsm_report_dir = $TEST_TMP/none
platform_report = required"
expect_failure "required with no provider: refused, naming it" any "no provider behind it" \
        quote none-required.conf nonceH10 none-required.json

# through an SVSM: its vTPM service's manifest comes along, REPORT_DATA = SHA-512(binding || manifest)
head -c 300 /dev/urandom >manifest.bin
tsm_double_start "$TEST_TMP/svsm" --manifest manifest.bin || exit 1
conf svsm.conf "tsm_report_dir = $TEST_TMP/svsm
tsm_service_provider = svsm"
quote svsm.conf nonceI9 svsm.json
expect_equal "through the SVSM: the manifest is served" "$(jq -r .platform_evidence.manifest svsm.json)" \
        "$(base64 -w0 manifest.bin)"
expect_equal "... and REPORT_DATA is SHA-512(binding || manifest)" "$(report_data svsm.json)" \
        "$( { binding nonceI9 | xxd -r -p; cat manifest.bin; } | sha512sum | cut -d' ' -f1)"

# the agent's API: the integrity quote carries it; required and missing is a 503 with the reason
tenant_pki
serve() { # serve CONF-LINES: vmattest serve on a new port; PORT
        PORT=$(random_port)
        agent_config serve.conf 1 "port = $PORT
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
$1"
        "$VMATTEST" --config serve.conf serve --no-register >>agent.log 2>&1 &
        AGENT_PID=$!
        verifier_pids+=("$AGENT_PID")
        wait_port "$AGENT_PID" "$PORT"
}
api() { # api PATH: the HTTP status; the body in reply.json
        curl -s -o reply.json -w '%{http_code}' --cacert agent-state/server-cert.crt \
                --cert verifier-client.pem --key verifier-client.key "https://127.0.0.1:$PORT/v2.6/$1"
}
serve "tsm_report_dir = $TEST_TMP/tsm" || exit 1
expect_equal "GET quotes/integrity answers with platform_evidence" \
        "$(api 'quotes/integrity?nonce=nonceJ10&mask=0x1&partial=1') $(jq -r .results.platform_evidence.provider reply.json)" \
        "200 sev_guest"
expect_equal "... bound to that request's nonce" "$(report_data reply.json .results.platform_evidence)" "$(binding nonceJ10)"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
serve "tsm_report_dir = $TEST_TMP/no-tsm
platform_report = required" || exit 1
code=$(api 'quotes/integrity?nonce=nonceK11&mask=0x1&partial=1')
expect_equal "required and missing: 503 naming the reason, no quote" \
        "$code $(jq -r '.status | test("platform report \\(required\\)")' reply.json) $(jq -r '.results.quote // "none"' reply.json)" \
        "503 true none"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
if ! grep -q 'Sanitizer\|runtime error' agent.log; then ok "the agent ran without a sanitizer report"
else not_ok "the agent ran without a sanitizer report"; grep -A20 'Sanitizer\|runtime error' agent.log | diag; fi
