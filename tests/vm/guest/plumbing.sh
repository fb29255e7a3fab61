#!/bin/bash
# TEST ONLY, never part of the product. tests/vm/test-boot-plumbing.sh installs this into its test
# initrd with a drop-in (50-plumbing.conf) that runs it in place of `vmattest unlock` in
# vmattest-unlock.service. It proves the plumbing the real agent relies on: the vTPM device, the
# agent binary with its libraries (libcurl, the device TCTI), the network both ways (the agent
# registers with the verifier on the host and serves its API through qemu's host forward), and
# systemd's password agent protocol: it answers the LUKS prompt with a test key baked into this
# test initrd, where the real agent answers with the key the verifier released.
# Parameters come from the kernel command line (vmattest_test.*); results go to the console as
# "VMATTEST-TEST: [uptime] ..." lines that the host reads.
set -u
say() { local up rest; read -r up rest </proc/uptime; echo "VMATTEST-TEST: [$up] $*"; }
arg() { local w; for w in $(</proc/cmdline); do [[ $w == "vmattest_test.$1="* ]] && echo "${w#*=}"; done; }
# log_line FILE TEXT: the first line of FILE that contains TEXT
log_line() { local l; while IFS= read -r l; do [[ $l == *"$2"* ]] && { echo "$l"; return 0; }; done <"$1"; return 1; }

say "started: test stand-in for vmattest unlock"
if [[ -c /dev/tpmrm0 ]]; then say "tpm /dev/tpmrm0 present"; else say "tpm /dev/tpmrm0 missing"; fi
if version=$(/usr/bin/vmattest version 2>&1); then say "agent runs: $version"; else say "agent does not run: $version"; fi

# the host's loopback through qemu's user network: a fixed answer from tests/tools/fake-http
http=$(arg http)
if exec 3<>"/dev/tcp/${http%:*}/${http#*:}"; then
        printf 'GET /vmattest-plumbing HTTP/1.0\r\nHost: %s\r\n\r\n' "$http" >&3
        status= last=
        while IFS= read -r -t 20 line <&3; do
                line=${line%$'\r'}
                [[ $status ]] || status=$line
                [[ $line ]] && last=$line
        done
        exec 3<&-
        say "http GET $http: ${status:-no answer}; body: $last"
else
        say "http GET $http: cannot connect"
fi

# the agent itself: register with the verifier's registrar (TPM + libcurl + network), then serve
# the agent API until the host has reached it through the host forward
registrar=$(arg registrar)
mkdir -p /run/vmattest-test
{
        printf '%s\n' "$(</etc/vmattest/agent.conf)"
        printf 'registrar_ip = %s\nregistrar_port = %s\n' "${registrar%:*}" "${registrar#*:}"
        printf 'contact_ip = 127.0.0.1\ncontact_port = %s\nmax_retries = 3\n' "$(arg fwd)"
} >/run/vmattest-test/agent.conf
/usr/bin/vmattest --config /run/vmattest-test/agent.conf serve >/run/vmattest-test/serve.log 2>&1 &
serve=$!
for ((i = 0; i < 600; i++)); do
        if line=$(log_line /run/vmattest-test/serve.log "serving on"); then
                say "agent registered: $line"
                break
        fi
        kill -0 $serve 2>/dev/null || break
        sleep 0.2
done
for ((i = 0; i < 600; i++)); do
        if line=$(log_line /run/vmattest-test/serve.log "/version -> 200"); then
                say "agent API reached from the host: $line"
                break
        fi
        kill -0 $serve 2>/dev/null || break
        sleep 0.2
done
if kill $serve 2>/dev/null; then
        wait $serve
else
        wait $serve; say "agent serve exited: $?"
        while IFS= read -r line; do say "serve: $line"; done </run/vmattest-test/serve.log
fi

# what the real agent hands to the runtime agent through /run (here: a marker only)
mkdir -p /run/vmattest && echo "plumbing test" >/run/vmattest/plumbing-test

# systemd's password agent protocol: answer the cryptsetup request with the test key
for ((i = 0; i < 1200; i++)); do
        for ask in /run/systemd/ask-password/ask.*; do
                [[ -f $ask ]] || continue
                id= socket= not_after=
                while IFS='=' read -r key value; do
                        case $key in Id) id=$value ;; Socket) socket=$value ;; NotAfter) not_after=$value ;; esac
                done <"$ask"
                [[ $id == cryptsetup:* ]] || continue
                if /lib/systemd/systemd-reply-password 1 "$socket" </usr/lib/vmattest-test/luks.key; then
                        say "answered $id (request NotAfter=${not_after:-unset})"
                        exit 0
                fi
                say "could not answer $id"
                exit 1
        done
        sleep 0.2
done
say "no password request in 240 s"
exit 1
