# Fixture for the interop tests: `vmattest serve` on swtpm against an unmodified Keylime (its
# registrar, verifier, tenant and keylime-policy, as released on PyPI and pinned in
# tests/interop/requirements.txt), from the venv scripts/keylime-venv.sh prepares (`make deps`,
# `make check`). Sourced by each tests/interop/test-*.sh; brings tests/integration/lib.sh's TAP
# helpers and swtpm fixture along.
#
# keylime_start runs Keylime's verifier and registrar on loopback, on free ports, with all their
# state in $KEYLIME_DIR ($TEST_TMP/keylime): the configs (Keylime's defaults rendered from its own
# templates, changed only where keylime_start says why), the CA and the TLS certificates the
# verifier makes with Keylime's own CA code at its first start (cv_ca/), the sqlite databases and
# the logs. Each runs in a process group of its own, stopped when the script exits, whether the
# tests passed, failed or the script was interrupted. After a failure the logs are kept in
# build/test-logs/interop-TEST/.
#
# keylime_fleet_start runs the same Keylime as several verifiers sharing one PostgreSQL (Debian's
# server, started by pg_start in $TEST_TMP/pg and stopped on exit like the services), for the
# multi-verifier deployment.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

KEYLIME_VENV=${KEYLIME_VENV:-build/keylime-venv}
case "$KEYLIME_VENV" in /*) ;; *) KEYLIME_VENV="$PWD/$KEYLIME_VENV" ;; esac
KEYLIME_LOGS="$PWD/build/test-logs/interop-$(basename "$0" .sh)"
# Bound on each service's start (Keylime migrates its empty database and makes its CA first)
KEYLIME_START_TIMEOUT=${KEYLIME_START_TIMEOUT:-60}
keylime_pgids=()
interop_failed=0

if [ ! -f "$KEYLIME_VENV/.stamp" ]; then
        echo "1..1"
        echo "not ok 1 - no Keylime in $KEYLIME_VENV: run 'make deps' or scripts/keylime-venv.sh"
        exit 1
fi

# a failed check keeps the logs (see keylime_cleanup)
not_ok() { interop_failed=1; tap_count=$((tap_count + 1)); echo "not ok $tap_count - $*"; }

keylime_cleanup() {
        keylime_stop
        pg_stop # after its clients
        rm -rf "$KEYLIME_LOGS" # an earlier run's
        if [ "$interop_failed" = 1 ] && [ -d "$TEST_TMP" ]; then
                mkdir -p "$KEYLIME_LOGS"
                find "$TEST_TMP" -maxdepth 2 -name '*.log' -exec cp {} "$KEYLIME_LOGS/" \;
                echo "# logs kept in $KEYLIME_LOGS"
        fi
        cleanup
}
trap keylime_cleanup EXIT

# keylime_set FILE KEY VALUE: sets KEY, which must be on exactly one line of FILE (one of
# Keylime's configs, whose sections never share a key name)
keylime_set() {
        local lines
        lines=$(grep -c "^$2 = " "$1")
        if [ "$lines" != 1 ]; then
                echo "keylime_set: $1 has $lines lines for $2" >&2; return 1
        fi
        sed -i "s|^$2 = .*|$2 = $3|" "$1"
}

# keylime_service NAME[:LABEL] PORT...: runs keylime_NAME in a process group of its own (its pid
# is the group's id; KEYLIME_SERVICE_PGID) and waits until it listens on every PORT, at most
# KEYLIME_START_TIMEOUT seconds. Its log is $KEYLIME_DIR/LABEL.log (LABEL: NAME unless given, for
# several services of one program), appended to when it starts again.
keylime_service() {
        local name=${1%%:*} label=${1#*:} pid port ports start=$SECONDS said=$SECONDS; shift
        # Keylime's main process forks workers and, on SIGTERM, waits for them without
        # signalling them: it stops only when the whole group gets the signal (as systemd's
        # KillMode=control-group gives it), so keylime_stop signals the group
        setsid "$KEYLIME_VENV/bin/keylime_$name" >>"$KEYLIME_DIR/$label.log" 2>&1 </dev/null &
        pid=$!
        keylime_pgids+=("$pid")
        KEYLIME_SERVICE_PGID=$pid
        for port in "$@"; do
                while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
                        if ! kill -0 "$pid" 2>/dev/null; then
                                echo "# keylime_$name ($label) exited before it listened on 127.0.0.1:$port; its log ends:"
                                tail -n 15 "$KEYLIME_DIR/$label.log" | diag
                                return 1
                        fi
                        if [ $((SECONDS - start)) -ge "$KEYLIME_START_TIMEOUT" ]; then
                                echo "# keylime_$name ($label, pid $pid) not listening on 127.0.0.1:$port after $KEYLIME_START_TIMEOUT s; its log ends:"
                                tail -n 15 "$KEYLIME_DIR/$label.log" | diag
                                return 1
                        fi
                        if [ $((SECONDS - said)) -ge 5 ]; then
                                echo "# waiting for keylime_$name ($label, pid $pid) on 127.0.0.1:$port: $((SECONDS - start)) s"
                                said=$SECONDS
                        fi
                        sleep 0.1
                done
        done
        ports="$*"
        echo "# keylime_$name ($label, pid $pid) listening on 127.0.0.1:${ports// /, } after $((SECONDS - start)) s"
}

# keylime_stop [PGID...]: SIGTERM to each service's process group (those given, or all),
# SIGKILL to what is left after 20 s (Keylime lets its workers drain for up to
# shutdown_drain_timeout, 10 s by default)
keylime_stop() {
        local pgid alive i stopping=("$@") left=()
        [ $# -gt 0 ] || stopping=("${keylime_pgids[@]}")
        [ "${#stopping[@]}" -gt 0 ] || return 0
        for pgid in "${stopping[@]}"; do
                kill -TERM -- "-$pgid" 2>/dev/null
        done
        for ((i = 0; i < 200; i++)); do
                alive=0
                for pgid in "${stopping[@]}"; do
                        kill -0 -- "-$pgid" 2>/dev/null && alive=1
                done
                [ "$alive" = 0 ] && break
                sleep 0.1
        done
        for pgid in "${stopping[@]}"; do
                kill -KILL -- "-$pgid" 2>/dev/null && echo "# keylime process group $pgid did not stop on SIGTERM: killed"
                wait "$pgid" 2>/dev/null
        done
        for pgid in "${keylime_pgids[@]}"; do
                [[ " ${stopping[*]} " == *" $pgid "* ]] || left+=("$pgid")
        done
        keylime_pgids=("${left[@]}")
}

# keylime_start: Keylime's verifier, then its registrar (which serves with the TLS certificates the
# verifier's first start made). Keylime's default configuration, except:
#   verifier.conf   port, registrar_port              free ports (defaults 8881, 8891)
#   registrar.conf  port, tls_port                    free ports (defaults 8890, 8891)
#   tenant.conf     verifier_port, registrar_port     the same ports
#   tenant.conf     tpm_cert_store                    swtpm's local CA (it certifies the EKs), in
#                                                     place of /var/lib/keylime/tpm_cert_store
# and KEYLIME_DIR (the default /var/lib/keylime) in the test's directory. Sets
# KEYLIME_VERIFIER_PORT, KEYLIME_REGISTRAR_PORT (HTTP), KEYLIME_REGISTRAR_TLS_PORT.
keylime_start() {
        keylime_configure &&
        keylime_service verifier "$KEYLIME_VERIFIER_PORT" &&
        keylime_service registrar "$KEYLIME_REGISTRAR_PORT" "$KEYLIME_REGISTRAR_TLS_PORT"
}

# keylime_configure: keylime_start's configs and ports, nothing started
keylime_configure() {
        local conf
        export KEYLIME_DIR="$TEST_TMP/keylime"
        mkdir -p "$KEYLIME_DIR"
        for conf in verifier registrar tenant ca logging; do
                cp "$KEYLIME_VENV/share/keylime/defaults/$conf.conf" "$KEYLIME_DIR/$conf.conf"
        done
        export KEYLIME_VERIFIER_CONFIG="$KEYLIME_DIR/verifier.conf" KEYLIME_REGISTRAR_CONFIG="$KEYLIME_DIR/registrar.conf" \
                KEYLIME_TENANT_CONFIG="$KEYLIME_DIR/tenant.conf" KEYLIME_CA_CONFIG="$KEYLIME_DIR/ca.conf" \
                KEYLIME_LOGGING_CONFIG="$KEYLIME_DIR/logging.conf"

        KEYLIME_VERIFIER_PORT=$(random_port)
        KEYLIME_REGISTRAR_PORT=$(random_port)
        KEYLIME_REGISTRAR_TLS_PORT=$(random_port)
        while [ "$KEYLIME_REGISTRAR_PORT" = "$KEYLIME_VERIFIER_PORT" ]; do KEYLIME_REGISTRAR_PORT=$(random_port); done
        while [ "$KEYLIME_REGISTRAR_TLS_PORT" = "$KEYLIME_VERIFIER_PORT" ] ||
                [ "$KEYLIME_REGISTRAR_TLS_PORT" = "$KEYLIME_REGISTRAR_PORT" ]; do KEYLIME_REGISTRAR_TLS_PORT=$(random_port); done
        swtpm_ca_store "$KEYLIME_DIR/tpm_cert_store" || return 1
        keylime_set "$KEYLIME_VERIFIER_CONFIG" port "$KEYLIME_VERIFIER_PORT" &&
        keylime_set "$KEYLIME_VERIFIER_CONFIG" registrar_port "$KEYLIME_REGISTRAR_TLS_PORT" &&
        keylime_set "$KEYLIME_REGISTRAR_CONFIG" port "$KEYLIME_REGISTRAR_PORT" &&
        keylime_set "$KEYLIME_REGISTRAR_CONFIG" tls_port "$KEYLIME_REGISTRAR_TLS_PORT" &&
        keylime_set "$KEYLIME_TENANT_CONFIG" verifier_port "$KEYLIME_VERIFIER_PORT" &&
        keylime_set "$KEYLIME_TENANT_CONFIG" registrar_port "$KEYLIME_REGISTRAR_TLS_PORT" &&
        keylime_set "$KEYLIME_TENANT_CONFIG" tpm_cert_store "$KEYLIME_DIR/tpm_cert_store"
}

# pg_start: a PostgreSQL server of Debian's (its newest installed major version) for Keylime's
# verifiers: a fresh cluster in $TEST_TMP/pg/data, listening on no TCP port, only on its unix
# socket in $TEST_TMP/pg (mode 0700: its owner and root connect), superuser `keylime` trusted
# there, database `keylime`. PostgreSQL refuses to run as root: as root the cluster belongs to
# Debian's `postgres` user and $TEST_TMP becomes traversable (0711) for it. Stopped by pg_stop
# on exit. Sets PG_DATA, PG_SOCKET_DIR and KEYLIME_DATABASE_URL (Keylime's database_url, read by
# SQLAlchemy with psycopg2).
pg_start() {
        local bin
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        if [ ! -x "$bin/initdb" ]; then
                echo "# no PostgreSQL server in /usr/lib/postgresql: run 'make deps' (Debian's postgresql)"; return 1
        fi
        PG_BIN=$bin PG_AS=()
        PG_SOCKET_DIR="$TEST_TMP/pg"
        mkdir -p "$PG_SOCKET_DIR"
        chmod 700 "$PG_SOCKET_DIR"
        if [ "$(id -u)" = 0 ]; then
                if ! id postgres >/dev/null 2>&1; then
                        echo "# running as root and no 'postgres' user to run PostgreSQL as"; return 1
                fi
                chmod 711 "$TEST_TMP"
                chown postgres: "$PG_SOCKET_DIR"
                PG_AS=(setpriv --reuid=postgres --regid=postgres --clear-groups)
        fi
        if ! "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_SOCKET_DIR/data" -U keylime --auth=trust --no-locale \
                -E UTF8 --no-sync >"$PG_SOCKET_DIR/initdb.log" 2>&1; then
                echo "# initdb failed:"; diag <"$PG_SOCKET_DIR/initdb.log"; return 1
        fi
        PG_DATA="$PG_SOCKET_DIR/data"
        # throwaway data: no fsync; Keylime keeps a pool of connections for each worker of each
        # verifier
        if ! "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_SOCKET_DIR/postgres.log" -w -t 30 \
                -o "-c listen_addresses= -c unix_socket_directories=$PG_SOCKET_DIR -c fsync=off -c max_connections=200" \
                start >"$PG_SOCKET_DIR/pg_ctl.log" 2>&1; then
                echo "# PostgreSQL did not start:"; diag <"$PG_SOCKET_DIR/postgres.log"; return 1
        fi
        if ! "$PG_BIN/createdb" -h "$PG_SOCKET_DIR" -U keylime keylime >"$PG_SOCKET_DIR/createdb.log" 2>&1; then
                echo "# createdb keylime failed:"; diag <"$PG_SOCKET_DIR/createdb.log"; return 1
        fi
        KEYLIME_DATABASE_URL="postgresql+psycopg2://keylime@/keylime?host=$PG_SOCKET_DIR"
        echo "# PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on $PG_SOCKET_DIR/.s.PGSQL.5432"
}

# pg_stop: pg_start's server, fast shutdown (its clients are cut off), SIGKILL after 10 s
pg_stop() {
        local pid
        [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
        pid=$(head -n 1 "$PG_DATA/postmaster.pid")
        if ! "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 10 stop >/dev/null 2>&1; then
                kill -KILL "$pid" 2>/dev/null && echo "# PostgreSQL (pid $pid) did not stop: killed"
        fi
        PG_DATA=""
}

# keylime_fleet_start NAME...: Keylime's multi-verifier deployment: PostgreSQL (pg_start), one
# verifier for each NAME, all sharing its database, and one registrar. keylime_start's configs,
# and for each verifier $KEYLIME_DIR/verifier-NAME.conf with
#   uuid            NAME (the verifier id: each agent's record is the verifier's of that id)
#   port            a free port of its own
#   database_url    postgresql+psycopg2://keylime@/keylime?host=$TEST_TMP/pg
# started in the order given (the first one migrates the empty database and makes the CA the
# others and the registrar use); its log is $KEYLIME_DIR/verifier-NAME.log. tenant.conf names the
# first. Sets KEYLIME_VERIFIER_PORTS[NAME] and KEYLIME_VERIFIER_PGIDS[NAME] (and
# KEYLIME_VERIFIER_PORT, the first one's).
declare -A KEYLIME_VERIFIER_PORTS=() KEYLIME_VERIFIER_PGIDS=()
keylime_fleet_start() {
        local name
        keylime_configure && pg_start || return 1
        keylime_set "$KEYLIME_VERIFIER_CONFIG" database_url "$KEYLIME_DATABASE_URL" || return 1
        for name in "$@"; do
                cp "$KEYLIME_VERIFIER_CONFIG" "$KEYLIME_DIR/verifier-$name.conf"
                keylime_set "$KEYLIME_DIR/verifier-$name.conf" uuid "$name" || return 1
                if [ "$name" = "$1" ]; then
                        KEYLIME_VERIFIER_PORTS[$name]=$KEYLIME_VERIFIER_PORT
                else
                        keylime_verifier_port "$name" || return 1
                fi
                keylime_verifier_start "$name" || return 1
        done
        keylime_service registrar "$KEYLIME_REGISTRAR_PORT" "$KEYLIME_REGISTRAR_TLS_PORT"
}

# keylime_verifier_port NAME: moves verifier NAME to another free port (taken when it next starts)
keylime_verifier_port() {
        local port used
        used=" $KEYLIME_REGISTRAR_PORT $KEYLIME_REGISTRAR_TLS_PORT ${KEYLIME_VERIFIER_PORTS[*]} "
        port=$(random_port)
        while [[ "$used" == *" $port "* ]]; do port=$(random_port); done
        KEYLIME_VERIFIER_PORTS[$1]=$port
        keylime_set "$KEYLIME_DIR/verifier-$1.conf" port "$port"
}

# keylime_verifier_start NAME: (re)starts keylime_fleet_start's verifier NAME, on its port
keylime_verifier_start() {
        KEYLIME_VERIFIER_CONFIG="$KEYLIME_DIR/verifier-$1.conf" \
                keylime_service "verifier:verifier-$1" "${KEYLIME_VERIFIER_PORTS[$1]}" || return 1
        KEYLIME_VERIFIER_PGIDS[$1]=$KEYLIME_SERVICE_PGID
}

# keylime_verifier_stop NAME: stops verifier NAME as keylime_stop does
keylime_verifier_stop() { keylime_stop "${KEYLIME_VERIFIER_PGIDS[$1]}"; }

# keylime_tenant ARGS...: Keylime's tenant with this test's configs
keylime_tenant() { "$KEYLIME_VENV/bin/keylime_tenant" "$@"; }

# keylime_policy ARGS...: Keylime's policy tool (keylime-policy create runtime ...)
keylime_policy() { "$KEYLIME_VENV/bin/keylime-policy" "$@"; }

# keylime_cvstatus ID: the verifier's record of agent ID, the JSON object `keylime_tenant -c
# cvstatus` prints (operational_state, attestation_status, attestation_count, last_event_id ...)
keylime_cvstatus() {
        keylime_tenant -c cvstatus -u "$1" 2>&1 | sed -n '/Agent Info from Verifier/{n;p}' | jq -c --arg id "$1" '.[$id]'
}

# keylime_verifier_agent ID: the same record straight from the verifier's REST API (GET
# /v2.6/agents/ID with the tenant's client certificate), quicker than a tenant for polling loops
keylime_verifier_agent() {
        curl -s --max-time 10 --cacert "$KEYLIME_DIR/cv_ca/cacert.crt" --cert "$KEYLIME_DIR/cv_ca/client-cert.crt" \
                --key "$KEYLIME_DIR/cv_ca/client-private.pem" \
                "https://127.0.0.1:$KEYLIME_VERIFIER_PORT/v2.6/agents/$1" | jq -c '.results'
}

# keylime_field ID FIELD: one field of keylime_verifier_agent's record
keylime_field() { keylime_verifier_agent "$1" | jq -r ".$2"; }

# keylime_polled ID N: Keylime's verifier has attested agent ID at least N times (for wait_for)
keylime_polled() { [ "$(keylime_field "$1" attestation_count)" -ge "$2" ] 2>/dev/null; }
# keylime_failed ID: Keylime's verifier failed agent ID
keylime_failed() { [ "$(keylime_field "$1" attestation_status)" = FAIL ]; }

# The agent.conf lines that register over HTTPS, at the registrar's TLS port, trusting the CA
# Keylime's verifier made (the one that issued the registrar's certificate)
keylime_tls_registrar_conf() {
        printf 'registrar_tls = true\nregistrar_port = %s\nregistrar_tls_ca_cert = %s\n' \
                "$KEYLIME_REGISTRAR_TLS_PORT" "$KEYLIME_DIR/cv_ca/cacert.crt"
}

# keylime_agent NAME [EXTRA-CONF]: a fresh swtpm and `vmattest serve` on it, registering with
# Keylime's registrar over plain HTTP (unless EXTRA-CONF says otherwise), taking Keylime's key
# release (runtime_release) and trusting the CA of Keylime's verifier for its clients. Sets
# AGENT_ID, AGENT_PORT, AGENT_PID; its log is $TEST_TMP/NAME.log, its IMA list
# $TEST_TMP/NAME-ima.log (no file: none).
keylime_agent() {
        AGENT_ID="" AGENT_PORT="" AGENT_PID="" # the checks after a failed start fail, not the script
        swtpm_start "$1" >/dev/null || return 1
        AGENT_PORT=$(random_port)
        agent_config "$TEST_TMP/$1.conf" "$KEYLIME_REGISTRAR_PORT" "port = $AGENT_PORT
state_dir = $TEST_TMP/$1-state
vmattest_ml_path = $TEST_TMP/$1-measurements.log
measuredboot_ml_path = $TEST_TMP/$1-no-eventlog
trusted_client_ca = $KEYLIME_DIR/cv_ca/cacert.crt
ima_ml_path = $TEST_TMP/$1-ima.log
runtime_release = yes
${2:-}"
        "$VMATTEST" --config "$TEST_TMP/$1.conf" serve >"$TEST_TMP/$1.log" 2>&1 &
        AGENT_PID=$!
        verifier_pids+=("$AGENT_PID")
        if ! wait_port "$AGENT_PID" "$AGENT_PORT"; then
                echo "# vmattest serve ($1) did not start:"; diag <"$TEST_TMP/$1.log"; return 1
        fi
        AGENT_ID=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' "$TEST_TMP/$1.log")
}

# keylime_log_diag [LABEL...]: the last lines of Keylime's logs (those of the services LABEL, by
# default verifier and registrar) that tell a failure, as TAP comments
keylime_log_diag() {
        local name names=("$@")
        [ $# -gt 0 ] || names=(verifier registrar)
        for name in "${names[@]}"; do
                [ -f "$KEYLIME_DIR/$name.log" ] || continue
                # (less two warnings of every start: no /usr/share/keylime/templates, the CA's
                # default password)
                grep -E ' - (ERROR|WARNING|CRITICAL) - ' "$KEYLIME_DIR/$name.log" |
                        grep -v 'configuration upgrade templates path\|default. password option' | tail -n 8 | cut -c1-400 |
                        sed "s/^/$name: /" | diag
        done
}

# keylime_revocation_ca DIR: the tenant's CA in DIR, made by Keylime's own keylime_ca (as
# `keylime_tenant -c add --cert DIR` would at its first use), with the RevocationNotifier key and
# certificate: `add --cert DIR` gives the verifier that key as the agent's revocation_key (the
# verifier signs the notifications about that agent with it) and puts the certificate in the
# agent's payload; vmattest takes it from agent.conf's revocation_cert instead, so it is made
# here before the agents start. Keylime's command-line tools refuse the CA's 'default'
# password (they would prompt for one): ca.conf gets a password of its own first.
keylime_revocation_ca() {
        keylime_set "$KEYLIME_CA_CONFIG" password "tenant-ca-$(openssl rand -hex 8)" &&
        "$KEYLIME_VENV/bin/keylime_ca" -c init -d "$1" >"$1.log" 2>&1 &&
        "$KEYLIME_VENV/bin/keylime_ca" -c create -n RevocationNotifier -d "$1" >>"$1.log" 2>&1 &&
        [ -s "$1/RevocationNotifier-cert.crt" ] ||
                { echo "# keylime_ca could not make the tenant's CA in $1:"; diag <"$1.log"; return 1; }
}

# keylime_boot_agent NAME LOG [EXTRA-CONF]: keylime_agent serving LOG as the firmware's event
# log, its swtpm holding the PCRs LOG's firmware left (tests/tools/eventlog-replay), and PCR 15
# as the initrd leaves it after an unlock (root-identity, key-released, leave-initrd: the same
# records by the same code)
keylime_boot_agent() {
        local name=$1 log=$2
        keylime_agent "$name" "measuredboot_ml_path = $log
${3:-}" || return 1
        "$TOOLS_DIR/eventlog-replay" "$log" | xargs -r -n 8 tpm2_pcrextend || return 1
        "$VMATTEST" --config "$TEST_TMP/$name.conf" measure --event root-identity \
                --data "/dev/disk/by-uuid/$(cat /proc/sys/kernel/random/uuid)" >/dev/null &&
        "$VMATTEST" --config "$TEST_TMP/$name.conf" measure --event key-released --data "$AGENT_ID" >/dev/null &&
        "$VMATTEST" --config "$TEST_TMP/$name.conf" measure --event leave-initrd --data switch-root >/dev/null
}

# keylime_add_mb ID PORT REFSTATE: the tenant adds agent ID with a measured-boot reference state
# (the tenant adds PCRs 0-9 and 11-15 to the mask for it); its output in add-ID.out
keylime_add_mb() {
        keylime_tenant -c add -t 127.0.0.1 -tp "$2" -u "$1" --tpm_policy '{}' --mb-policy "$3" >"$TEST_TMP/add-$1.out" 2>&1
}
