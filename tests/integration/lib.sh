# Fixture and TAP helpers for the integration tests; sourced by each tests/integration/test-*.sh.
#
# swtpm_start gives the test a fresh vTPM: a new state directory manufactured by swtpm_setup
# (RSA and ECC EKs with certificates from swtpm's local CA), a swtpm on a free loopback port,
# and VMATTEST_TCTI / TPM2TOOLS_TCTI pointing at it. Every swtpm is stopped when the script
# exits, whether the tests passed, failed or the script was interrupted. KEEP_TMP=1 keeps the
# test's directory (the agent's and verifier's logs) for a post-mortem.
set -u

VMATTEST=${VMATTEST:-build/release/vmattest}
case "$VMATTEST" in /*) ;; *) VMATTEST="$PWD/$VMATTEST" ;; esac
TEST_TMP=$(mktemp -d /tmp/vmattest-test.XXXXXX)
tap_count=0
swtpm_pids=()
verifier_pids=()
tsm_double_mounts=()
TSM_DOUBLE_KEYS=$PWD/tests/fixtures/platforms/snp/fake-keys

cleanup() {
        local pid
        tsm_double_stop
        for pid in "${swtpm_pids[@]}" "${verifier_pids[@]}"; do
                kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        done
        [ -n "${KEEP_TMP:-}" ] || rm -rf "$TEST_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { tap_count=$((tap_count + 1)); echo "ok $tap_count - $*"; }
not_ok() { tap_count=$((tap_count + 1)); echo "not ok $tap_count - $*"; }
diag() { sed 's/^/# /'; }
plan() { echo "1..$1"; }

# expect_success DESC CMD...: passes when CMD exits 0.
expect_success() {
        local desc=$1; shift
        if "$@" >"$TEST_TMP/out" 2>&1; then ok "$desc"; else not_ok "$desc (exit $?)"; diag <"$TEST_TMP/out"; fi
}

# expect_failure DESC STATUS PATTERN CMD...: passes when CMD exits with STATUS (or any
# non-zero status for "any"), its output matches the extended regex PATTERN (unless ""), and it did not
# crash (no sanitizer report, no signal).
expect_failure() {
        local desc=$1 want=$2 pattern=$3 rc; shift 3
        "$@" >"$TEST_TMP/out" 2>&1
        rc=$?
        if [ "$rc" -eq 0 ]; then
                not_ok "$desc (succeeded, should have failed)"
        elif [ "$rc" -ge 126 ] || grep -q 'Sanitizer\|runtime error' "$TEST_TMP/out"; then
                not_ok "$desc (crashed: exit $rc)"
        elif [ "$want" != any ] && [ "$rc" -ne "$want" ]; then
                not_ok "$desc (exit $rc, expected $want)"
        elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$TEST_TMP/out"; then
                not_ok "$desc (no message matching /$pattern/)"
        else
                ok "$desc"; return 0
        fi
        diag <"$TEST_TMP/out"
        return 1
}

# expect_equal DESC GOT WANT
expect_equal() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf 'got:  %s\nwant: %s\n' "$2" "$3" | diag; fi
}

# swtpm_start [NAME]: manufactures and starts a fresh swtpm; exports the TCTI variables and
# SWTPM_STATE (its state directory).
swtpm_start() {
        local name=${1:-tpm} state port pid try
        state="$TEST_TMP/$name"
        mkdir -p "$state"
        if [ -n "${SWTPM_TEMPLATE:-}" ]; then
                # many vTPMs for a benchmark: copies of one manufactured state (same EK)
                cp -r "$SWTPM_TEMPLATE/." "$state/"
        elif ! swtpm_setup --tpm2 --tpmstate "$state" --create-ek-cert --overwrite >"$state.setup.log" 2>&1; then
                echo "swtpm_setup failed:" >&2; cat "$state.setup.log" >&2; return 1
        fi
        for try in 1 2 3 4 5 6 7 8 9 10; do
                port=$(lane_port_pair 10000 10000) # 10000-19999: clear of random_port and ephemeral ports
                swtpm socket --tpm2 --tpmstate dir="$state" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
                        --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
                        --flags not-need-init,startup-clear >"$state.log" 2>&1 &
                pid=$!
                # ready once ITS control port accepts (another listener on the pair, a double or
                # another test's swtpm, also accepts: then this swtpm fails to bind and is gone)
                while kill -0 "$pid" 2>/dev/null; do
                        if (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null &&
                                ss -Hltnp "sport = :$((port + 1))" | grep -q "pid=$pid,"; then
                                swtpm_pids+=("$pid")
                                export VMATTEST_TCTI="swtpm:host=127.0.0.1,port=$port"
                                export TPM2TOOLS_TCTI="$VMATTEST_TCTI"
                                export SWTPM_STATE="$state" SWTPM_PID="$pid"
                                return 0
                        fi
                        sleep 0.02
                done
                wait "$pid" 2>/dev/null
        done
        echo "swtpm did not start (last log: $(cat "$state.log"))" >&2
        return 1
}

swtpm_stop() {
        kill "$SWTPM_PID" 2>/dev/null && wait "$SWTPM_PID" 2>/dev/null; return 0
}

VMATTEST_VERIFIER=${VMATTEST_VERIFIER:-$(dirname "$VMATTEST")/vmattest-verifier}
VMATTEST_POLICY=${VMATTEST_POLICY:-$(dirname "$VMATTEST")/vmattest-policy}
TOOLS_DIR=$(dirname "$VMATTEST")/tests/tools

# tests/run runs two lanes of suites at once (TEST_LANE 0 or 1; alone: 0). A port found free
# here may be taken by the other lane before it is bound, so each lane draws from its own half of
# each range: lane_port LOW SPAN prints a port of this lane's half of LOW..LOW+SPAN-1, and
# lane_port_pair LOW SPAN an even one (swtpm and its doubles take it and the next one).
lane_port() { echo $(( RANDOM % ($2 / 2) + $1 + ($2 / 2) * ${TEST_LANE:-0} )); }
lane_port_pair() { echo $(( (RANDOM % ($2 / 4)) * 2 + $1 + ($2 / 2) * ${TEST_LANE:-0} )); }

# random_port: a loopback port nothing listens on right now
random_port() {
        local port
        while :; do
                port=$(lane_port 20000 12000) # below Linux's ephemeral range (32768-60999)
                (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
        done
}

# wait_port PID PORT: waits until PORT accepts (0) or PID died (1), at most 10 s
wait_port() {
        local i
        for ((i = 0; i < 500; i++)); do
                kill -0 "$1" 2>/dev/null || return 1
                (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
                sleep 0.02
        done
        return 1
}

# For tests that write an IMA list and extend PCR 10 as the kernel would: sha TEXT, its SHA-256
# (hex); boot_aggregate, SHA-256 over the swtpm's PCRs 0-9 (a kernel's first IMA entry);
# ima_add ARGS..., one entry (tests/tools/ima-forge ARGS) appended to ./ima.log and its extend
# performed on the swtpm
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
boot_aggregate() { tpm2_pcrread sha256:0,1,2,3,4,5,6,7,8,9 -o pcrs.bin >/dev/null && sha256sum <pcrs.bin | cut -d' ' -f1; }
# runtime_policy FILE EXCLUDES-JSON PATH=TEXT...: a Keylime runtime policy allowing each PATH with
# the SHA-256 of TEXT (the content ima-forge's entries give it: `sha TEXT`), EXCLUDES-JSON its
# excludes (a JSON array of regexes)
runtime_policy() {
        local out=$1 excludes=$2 digests='{}' pair
        shift 2
        for pair; do
                digests=$(jq -c --arg p "${pair%%=*}" --arg d "$(sha "${pair#*=}")" '. + {($p): [$d]}' <<<"$digests")
        done
        jq -n --argjson d "$digests" --argjson e "$excludes" \
                '{meta: {version: 1, generator: 0}, release: 0, digests: $d, excludes: $e, keyrings: {},
                  ima: {ignored_keyrings: [], log_hash_alg: "sha1", dm_policy: null}, "ima-buf": {},
                  "verification-keys": ""}' >"$out"
}
ima_add() { tpm2_pcrextend "10:sha256=$("$TOOLS_DIR/ima-forge" ima.log "$@")"; }

# swtpm_localca_dir: the directory of the CA that swtpm_setup certifies EKs with, found as
# swtpm_setup finds it: swtpm_setup.conf from $XDG_CONFIG_HOME, ~/.config or /etc, whose
# create_certs_tool_config (swtpm-localca.conf) names the CA's statedir (default
# /var/lib/swtpm-localca). A test or the demo run under another XDG_CONFIG_HOME gets its CA.
swtpm_localca_dir() {
        local setup_conf=/etc/swtpm_setup.conf localca_conf dir
        if [ -n "${XDG_CONFIG_HOME:-}" ] && [ -r "$XDG_CONFIG_HOME/swtpm_setup.conf" ]; then
                setup_conf=$XDG_CONFIG_HOME/swtpm_setup.conf
        elif [ -n "${HOME:-}" ] && [ -r "$HOME/.config/swtpm_setup.conf" ]; then
                setup_conf=$HOME/.config/swtpm_setup.conf
        fi
        localca_conf=$(sed -n 's/^[[:space:]]*create_certs_tool_config[[:space:]]*=[[:space:]]*//p' "$setup_conf" 2>/dev/null | tail -n 1)
        dir=$(sed -n 's/^[[:space:]]*statedir[[:space:]]*=[[:space:]]*//p' "${localca_conf:-/etc/swtpm-localca.conf}" 2>/dev/null | tail -n 1)
        echo "${dir:-/var/lib/swtpm-localca}"
}

# swtpm_ca_store DIR: a tpm_cert_store holding swtpm's local CA (root and issuer). swtpm_setup
# makes that CA the first time it certifies an EK: on a fresh machine, before any test has
# started a swtpm, one throwaway vTPM is manufactured first so that the CA exists before it is
# copied (the demo's first run on a fresh machine failed there: "EK certificate does not chain
# to a CA in the trust store").
swtpm_ca_store() {
        local ca
        ca=$(swtpm_localca_dir)
        mkdir -p "$1"
        if [ ! -e "$ca/issuercert.pem" ] || [ ! -e "$ca/swtpm-localca-rootca-cert.pem" ]; then
                mkdir -p "$TEST_TMP/ca-bootstrap"
                swtpm_setup --tpm2 --tpmstate "$TEST_TMP/ca-bootstrap" --create-ek-cert >"$TEST_TMP/ca-bootstrap.log" 2>&1 ||
                        { echo "swtpm_setup could not make swtpm's local CA in $ca:" >&2; cat "$TEST_TMP/ca-bootstrap.log" >&2; return 1; }
        fi
        cp "$ca/swtpm-localca-rootca-cert.pem" "$ca/issuercert.pem" "$1/"
}

# verifier_config FILE [EXTRA-REGISTRAR-LINES]: a verifier.conf on a free port, trusting
# swtpm's CA, its database in the test's directory. Sets VERIFIER_PORT.
verifier_config() {
        VERIFIER_PORT=$(random_port)
        [ -d "$TEST_TMP/ek-ca" ] || swtpm_ca_store "$TEST_TMP/ek-ca"
        cat >"$1" <<CONF
[registrar]
ip = 127.0.0.1
port = $VERIFIER_PORT
tls_port = 0
tpm_cert_store = $TEST_TMP/ek-ca
${2:-}
[store]
database = $TEST_TMP/verifier.sqlite
CONF
}

# verifier_start CONFIG: runs vmattest-verifier serve until verifier_stop or the script ends;
# sets VERIFIER_PORT from CONFIG
verifier_start() {
        VERIFIER_PORT=$(sed -n 's/^port = //p' "$1")
        "$VMATTEST_VERIFIER" --config "$1" serve >>"$TEST_TMP/verifier.log" 2>&1 &
        VERIFIER_PID=$!
        verifier_pids+=("$VERIFIER_PID")
        if ! wait_port "$VERIFIER_PID" "$VERIFIER_PORT"; then
                echo "vmattest-verifier did not start:" >&2; cat "$TEST_TMP/verifier.log" >&2; return 1
        fi
}

# verifier_stop: SIGTERM, then records an unclean exit (non-zero status, sanitizer report)
verifier_stop() {
        local rc
        kill "$VERIFIER_PID" 2>/dev/null || return 0
        wait "$VERIFIER_PID" 2>/dev/null
        rc=$?
        if [ "$rc" -ne 0 ] || grep -q 'Sanitizer\|runtime error' "$TEST_TMP/verifier.log"; then
                echo "vmattest-verifier (pid $VERIFIER_PID) exited with status $rc" >>"$TEST_TMP/verifier-failures"
        fi
        return 0
}

# verifier_clean: stops the running verifier; fails when any verifier of this test exited
# uncleanly (the log's sanitizer reports are shown)
verifier_clean() {
        verifier_stop
        [ -s "$TEST_TMP/verifier-failures" ] || return 0
        cat "$TEST_TMP/verifier-failures"
        grep -A20 'Sanitizer\|runtime error' "$TEST_TMP/verifier.log" | head -n 60
        return 1
}

# agent_config FILE REGISTRAR-PORT [EXTRA-LINES]: an agent.conf for this test
agent_config() {
        cat >"$1" <<CONF
[agent]
registrar_ip = 127.0.0.1
registrar_port = $2
state_dir = $TEST_TMP/agent-state
vmattest_ml_path = $TEST_TMP/measurements.log
handover_path = $TEST_TMP/handover
# the host's kernel keeps its IMA policy: tests/vm loads ours in a VM
ima_policy = ""
max_retries = 2
retry_interval = 1
# the tests' registrar is plain HTTP unless a test says otherwise (registrar_tls is the default)
registrar_tls = false
${3:-}
CONF
}

# tenant_pki: a verifier CA (the agents' trusted_client_ca) and the verifier's client
# certificate from it: $TEST_TMP/verifier-ca.pem, verifier-client.{pem,key}
tenant_pki() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=verifier-ca \
                -keyout "$TEST_TMP/verifier-ca.key" -out "$TEST_TMP/verifier-ca.pem" 2>/dev/null &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=verifier \
                -keyout "$TEST_TMP/verifier-client.key" -out "$TEST_TMP/verifier-client.csr" 2>/dev/null &&
        openssl x509 -req -in "$TEST_TMP/verifier-client.csr" -CA "$TEST_TMP/verifier-ca.pem" \
                -CAkey "$TEST_TMP/verifier-ca.key" -CAcreateserial -days 2 \
                -out "$TEST_TMP/verifier-client.pem" 2>/dev/null
}

# registrar_cert CA-PEM CA-KEY [SANS]: the registrar's TLS certificate and key, registrar.pem and
# registrar.key in $TEST_TMP, issued by CA for SANS (default IP:127.0.0.1); the CA's serial file
# is the test's, so a CA from a cache stays untouched
registrar_cert() {
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=registrar \
                -keyout "$TEST_TMP/registrar.key" -out "$TEST_TMP/registrar.csr" 2>/dev/null &&
        openssl x509 -req -in "$TEST_TMP/registrar.csr" -CA "$1" -CAkey "$2" -CAserial "$TEST_TMP/registrar.srl" \
                -CAcreateserial -days 2 -extfile <(printf 'subjectAltName=%s\n' "${3:-IP:127.0.0.1}") \
                -out "$TEST_TMP/registrar.pem" 2>/dev/null
}

# registrar_tls_config PORT CLIENT-CA: the [registrar] lines for verifier_config's extra
# argument that open its TLS port PORT with registrar_cert's certificate, trusting CLIENT-CA
registrar_tls_config() {
        printf 'tls_port = %s\nserver_cert = %s\nserver_key = %s\ntrusted_client_ca = %s\n' "$1" \
                "$TEST_TMP/registrar.pem" "$TEST_TMP/registrar.key" "$2"
}

# release_verifier_config [REGISTRAR-EXTRA [VERIFIER-EXTRA]]: $TEST_TMP/verifier.conf for a test
# that releases keys: verifier_config's with REGISTRAR-EXTRA, the tests' polling
# (verifier_poll_config, VERIFIER-EXTRA added to [verifier]) and a payload vault
release_verifier_config() {
        verifier_config "$TEST_TMP/verifier.conf" "${1:+$1
}$(verifier_poll_config "${2:-}")"
        printf 'payload_vault = %s\n' "$TEST_TMP/vault.key" >>"$TEST_TMP/verifier.conf" # [store] is the last section
}

# vv ARGS...: the tenant's vmattest-verifier with $TEST_TMP/verifier.conf
vv() { "$VMATTEST_VERIFIER" --config "$TEST_TMP/verifier.conf" "$@"; }

# escrow_verifier_start CLIENT-CA: $TEST_TMP/verifier.conf with registrar_cert's TLS port
# (tls_port, what escrow and enrolment tokens need), the tests' polling (verifier_poll_config)
# and a payload vault, and the verifier serving it; 1 when it did not come up
escrow_verifier_start() {
        tls_port=$(random_port)
        release_verifier_config "$(registrar_tls_config "$tls_port" "$1")"
        verifier_start "$TEST_TMP/verifier.conf" || return 1
        wait_port "$VERIFIER_PID" "$tls_port" || { echo "the registrar's TLS port did not open" >&2; return 1; }
}

# verifier_poll_config: the [verifier] lines for verifier_config's extra argument
verifier_poll_config() {
        printf '[verifier]\nquote_interval = 1\nrequest_timeout = 5\nclient_cert = %s\nclient_key = %s\n%s\n' \
                "$TEST_TMP/verifier-client.pem" "$TEST_TMP/verifier-client.key" "${1:-}"
}

# wait_for DESC SECONDS CMD...: polls CMD every 0.2 s until it succeeds (0) or time is up (1)
wait_for() {
        local i limit=$(( $2 * 5 ))
        shift 2
        for ((i = 0; i < limit; i++)); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.2
        done
        return 1
}

# tsm_double_start DIR [OPTIONS]: the configfs-tsm TEST DOUBLE (tests/tools/tsm-double: an
# SEV-SNP provider signing with the published fake keys) mounted at DIR until tsm_double_stop or
# the script's end; its fake ARK in DIR.ark.pem (a verifier's platform_test_roots)
tsm_double_start() {
        local dir=$1
        shift
        mkdir -p "$dir"
        "$TOOLS_DIR/tsm-double" --keys "$TSM_DOUBLE_KEYS" --ark-out "$dir.ark.pem" "$@" \
                "$dir" 2>>"$TEST_TMP/tsm-double.log" &
        verifier_pids+=("$!")
        tsm_double_mounts+=("$dir")
        wait_for "mounted" 10 mountpoint -q "$dir" || { echo "tsm-double did not mount $dir" >&2; return 1; }
}

tsm_double_stop() {
        local dir
        for dir in "${tsm_double_mounts[@]}"; do umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null; done
        tsm_double_mounts=()
}

# agent_serve CONFIG: runs vmattest serve until the script ends; AGENT_PID
agent_serve() {
        "$VMATTEST" --config "$1" serve >>"$TEST_TMP/agent.log" 2>&1 &
        AGENT_PID=$!
        verifier_pids+=("$AGENT_PID")
        wait_port "$AGENT_PID" "$(sed -n 's/^port = //p' "$1")" ||
                { echo "vmattest serve did not start:" >&2; cat "$TEST_TMP/agent.log" >&2; return 1; }
}
