#!/bin/bash
# vmattest serve with mode = push on the wire, against a stand-in push-mode verifier (Python's
# http.server over TLS, below) that logs what it receives and answers as scripted: a 429 with
# Retry-After is waited out; the proof of possession is a TPM2_Certify of the AK whose qualifying
# data is the challenge; a hostile answer (a Location elsewhere, a quote in a bank not offered) is
# refused and backed off from, never served; the token goes back as a bearer token; the quote's
# qualifying data is the attestation's challenge; the wait the verifier names is kept; the agent
# presents no client certificate and opens no port.
. "$(dirname "$0")/lib.sh"
plan 9

swtpm_start || exit 1
cd "$TEST_TMP" || exit 1

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=tenant-ca \
        -keyout ca.key -out ca.pem 2>/dev/null
registrar_cert ca.pem ca.key

# The stand-in: each request is logged as one JSON line (time, method, path, Authorization,
# whether a client certificate came, body); the answers follow the script in its comments.
cat >fake-push.py <<'PY'
import base64, json, ssl, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CHALLENGE = base64.b64encode(b"push-challenge-1").decode()
QUOTE_NONCE = base64.b64encode(b"quote-challenge!").decode()
count = {}

def requested(bank):
    return {"data": {"type": "attestation", "attributes": {"stage": "awaiting_evidence", "evidence_requested": [
        {"evidence_class": "certification", "evidence_type": "tpm_quote", "chosen_parameters": {
            "challenge": QUOTE_NONCE, "signature_scheme": "rsassa", "hash_algorithm": bank,
            "selected_subjects": {bank: [0, 10]}}},
        {"evidence_class": "log", "evidence_type": "ima_log", "chosen_parameters": {
            "starting_offset": 1, "format": "text/plain"}}]}}}

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = self.command + " " + self.path.split("/")[-1 if self.path.endswith("sessions") else 2]
        n = count[kind] = count.get(kind, 0) + 1
        with open(log, "a") as f:
            f.write(json.dumps({"t": time.time(), "method": self.command, "path": self.path,
                                "auth": self.headers.get("Authorization"), "type": self.headers.get("Content-Type"),
                                "client_cert": self.connection.getpeercert() is not None and
                                self.connection.getpeercert() != {},
                                "body": json.loads(body) if body else None}) + "\n")
        if self.command == "POST" and self.path == "/v3.0/sessions":
            # the first: rate-limited, come back in 3 s
            if n == 1:
                return self.answer(429, {"errors": [{"status": "429"}]}, [("Retry-After", "3")])
            return self.answer(200, {"data": {"type": "session", "id": "s-1", "attributes": {
                "agent_id": json.loads(body)["data"]["attributes"]["agent_id"],
                "authentication_requested": [{"authentication_class": "pop", "authentication_type": "tpm_pop",
                                              "chosen_parameters": {"challenge": CHALLENGE}}]}}})
        if self.command == "PATCH" and self.path == "/v3.0/sessions/s-1":
            return self.answer(200, {"data": {"type": "session", "id": "s-1", "attributes": {
                "evaluation": "pass", "token": "s-1.secret-token"}}})
        if self.command == "POST" and self.path.endswith("/attestations"):
            if self.headers.get("Authorization") != "Bearer s-1.secret-token":
                return self.answer(401, {"errors": [{"status": "401"}]})
            # the first: a Location elsewhere; the second: a quote in a bank not offered
            if n == 1:
                return self.answer(201, requested("sha256"), [("Location", "https://elsewhere.example/x/1")])
            if n == 2:
                return self.answer(201, requested("sha1"), [("Location", self.path + "/1")])
            return self.answer(201, requested("sha256"), [("Location", self.path + "/%d" % n)])
        if self.command == "PATCH" and "/attestations/" in self.path:
            return self.answer(202, {"data": {"type": "attestation", "attributes": {"stage": "evaluating_evidence"}},
                                     "meta": {"seconds_to_next_attestation": 2}})
        return self.answer(404, {"errors": [{"status": "404"}]})

    do_GET = do_POST = do_PATCH = handle_any

server = HTTPServer(("127.0.0.1", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.verify_mode = ssl.CERT_OPTIONAL # as Keylime's verifier: a client certificate is taken if offered
context.load_verify_locations(cert)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
FAKE_PORT=$(random_port)
python3 fake-push.py "$FAKE_PORT" registrar.pem registrar.key requests.log 2>fake.log &
FAKE_PID=$!
verifier_pids+=("$FAKE_PID")
wait_port "$FAKE_PID" "$FAKE_PORT" || { echo "the stand-in verifier did not start: $(cat fake.log)" >&2; exit 1; }

# the kernel's IMA list: 3 entries, the verifier asks from entry 1
ima_add boot_aggregate "$(boot_aggregate)"
ima_add /usr/bin/good "$(sha good)"
ima_add /usr/lib/libgood.so "$(sha libgood)"

agent_config agent.conf "$(random_port)" "port = $(random_port)
ima_ml_path = $TEST_TMP/ima.log
measuredboot_ml_path = $TEST_TMP/no-eventlog
mode = push
verifier_url = https://127.0.0.1:$FAKE_PORT
verifier_tls_ca_cert = $TEST_TMP/ca.pem
attestation_interval_seconds = 3
retry_interval = 1"
"$VMATTEST" --config agent.conf serve --no-register >agent.log 2>&1 &
AGENT_PID=$!
verifier_pids+=("$AGENT_PID")
accepted() { [ "$(grep -c 'push: attestation [0-9]* accepted' agent.log)" -ge "$1" ]; }
if wait_for "attestations" 40 accepted 2; then ok "serve (mode = push) attests twice to the stand-in verifier"
else not_ok "serve (mode = push) attests twice to the stand-in verifier"; diag <agent.log; diag <fake.log; fi
if kill -0 "$AGENT_PID" 2>/dev/null && ! ss -Hltnp 2>/dev/null | grep -q "pid=$AGENT_PID,"; then
        ok "... with no port open"
else not_ok "... with no port open"; fi

req() { jq -c "select((.method | test(\"^$1\")) and (.path | test(\"$2\")))" requests.log; }
# the 429's Retry-After: 3 s between the two session requests
gap=$(req POST 'sessions$' | jq -s '.[1].t - .[0].t')
expect_equal "a 429's Retry-After (3 s) is waited out" "$(jq -n "$gap >= 2.9 and $gap < 6")" true
# the proof: TPM2_Certify (TPM2_ST_ATTEST_CERTIFY) with the challenge as qualifying data
message=$(req PATCH 'sessions/s-1$' | jq -r '.body.data.attributes.authentication_provided[0].data.message' | head -n 1)
attest_hex=$(printf '%s' "$message" | base64 -d | od -An -tx1 -v | tr -d ' \n')
challenge_hex=$(printf 'push-challenge-1' | od -An -tx1 -v | tr -d ' \n')
# TPMS_ATTEST: TPM_GENERATED_VALUE, TPM_ST_ATTEST_CERTIFY, ..., extraData (a TPM2B)
if [ "${attest_hex:0:12}" = ff5443478017 ] && [[ "$attest_hex" == *"0010$challenge_hex"* ]]; then
        ok "the proof of possession is a TPM2_Certify over the session's challenge"
else not_ok "the proof of possession is a TPM2_Certify over the session's challenge"; echo "# $attest_hex" ; fi
# the hostile answers: refused, backed off from, no evidence sent for them
if grep -q 'Location is not /v3.0/agents/.*/attestations/INDEX' agent.log &&
        grep -q 'hash_algorithm is not sha256' agent.log &&
        [ "$(req PATCH 'attestations/1$' | wc -l)" = 0 ]; then
        ok "a Location elsewhere and a quote in a bank not offered are refused, no evidence given for them"
else not_ok "a Location elsewhere and a quote in a bank not offered are refused, no evidence given for them"
        diag <agent.log; fi
# every attestation request carries the token; the agent never presents a client certificate
expect_equal "the attestations carry the session's bearer token, as JSON:API" \
        "$(req . 'attestations' | jq -r '"\(.auth) \(.type)"' | sort -u)" \
        "Bearer s-1.secret-token application/vnd.api+json"
expect_equal "... and no request carries a client certificate" "$(jq -r .client_cert requests.log | sort -u)" false
# the evidence: the quote over the challenge, PCRs 0, 10 (and 16), the IMA list from entry 1
evidence=$(req PATCH 'attestations/3$' | head -n 1)
quote_msg=$(jq -r '.body.data.attributes.evidence_collected[0].data.message' <<<"$evidence" | base64 -d |
        od -An -tx1 -v | tr -d ' \n')
nonce_hex=$(printf 'quote-challenge!' | od -An -tx1 -v | tr -d ' \n')
ima=$(jq -r '.body.data.attributes.evidence_collected[1].data |
        "\(.entry_count) \(.entries | split("\n")[0] | split(" ")[4])"' \
        <<<"$evidence")
if [ "${quote_msg:0:12}" = ff5443478018 ] && [[ "$quote_msg" == *"0010$nonce_hex"* ]] &&
        [ "$ima" = "2 /usr/bin/good" ]; then
        ok "the evidence: a quote over the attestation's challenge, the IMA list from the entry asked for"
else not_ok "the evidence: a quote over the attestation's challenge, the IMA list from the entry asked for"
        echo "# $quote_msg / $ima"; fi
# the wait the verifier names (2 s) between two accepted attestations
times=$(req POST 'attestations$' | jq -s '[.[-2].t, .[-1].t] | .[1] - .[0]')
expect_equal "the verifier's seconds_to_next_attestation (2 s) is kept" "$(jq -n "$times >= 1.9 and $times < 4")" true
