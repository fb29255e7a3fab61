#!/bin/bash
# The units as systemd runs them: the .debs installed into a fresh Debian 12 root, which then
# boots as a container (systemd-nspawn, its systemd 252 as PID 1, the host's network). Both
# services start in their sandboxes as their users: the agent registers with the verifier
# through a swtpm on this machine (tcti = swtpm:..., the container has no /dev/tpmrm0), the
# tenant enrolls it as vmattest-verifier, the verifier polls it over mutual TLS, a hand-over
# file it cannot use is removed, and both stop cleanly. What a container cannot show (the TPM
# device, the kernel's measurement lists, the initrd's hand-over) the two-boot VM test does.
. "$(dirname "$0")/lib.sh"
pkg_require_root
command -v systemd-nspawn >/dev/null || { echo "1..0 # SKIP no systemd-nspawn (apt-get install systemd-container)"; exit 0; }
tests=14
plan $tests

pkg_step build pkg_debs || { not_ok "the packages build"; exit 1; }
root=$TEST_TMP/root
pkg_step root pkg_root "$root" || { not_ok "a debootstrap root"; exit 1; }
pkg_install "$root" || { not_ok "dpkg -i"; diag <"$TEST_TMP/dpkg.log"; exit 1; }

# The tenant's configuration, as cloud-init or the image builder would write it
swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
registrar_port=$(random_port) agent_port=$(random_port)
etc=$root/etc/vmattest
swtpm_ca_store "$etc/tpm_cert_store"
cp verifier-ca.pem "$etc/verifier-ca.pem"
install -m 0644 verifier-client.pem "$etc/verifier-client-cert.pem"
install -m 0640 verifier-client.key "$etc/verifier-client-key.pem"
pkg_chroot "$root" chgrp vmattest-verifier /etc/vmattest/verifier-client-key.pem
sed -i "s/^port = 8890$/port = $registrar_port/; s/^quote_interval = 2$/quote_interval = 1/" "$etc/verifier.conf"
cat >>"$etc/agent.conf" <<CONF
registrar_ip = 127.0.0.1
registrar_port = $registrar_port
registrar_tls = false
port = $agent_port
tcti = "$VMATTEST_TCTI"
CONF

# Boot. nspawn lets a container lock memory (mlock) only with CAP_IPC_LOCK in its bounding set;
# the units themselves run without any capability, within LimitMEMLOCK=
systemd-nspawn --quiet --register=no --keep-unit --capability=CAP_IPC_LOCK --console=pipe -D "$root" -b \
        >"$TEST_TMP/nspawn.log" 2>&1 &
nspawn_pid=$!
verifier_pids+=("$nspawn_pid") # stopped (the container powered off) when the script ends
init_pid=
for _ in $(seq 100); do
        init_pid=$(pgrep -P "$nspawn_pid" -x systemd) && break
        kill -0 "$nspawn_pid" 2>/dev/null || break
        sleep 0.1
done
if [ -z "$init_pid" ]; then
        echo "# SKIP the container did not boot here:"; diag <"$TEST_TMP/nspawn.log"
        for i in $(seq "$tests"); do echo "ok $i # SKIP no container"; done
        exit 0
fi
in_ct() { nsenter -t "$init_pid" -a "$@"; }
as_tenant() { in_ct setpriv --reuid=vmattest-verifier --regid=vmattest-verifier --init-groups -- "$@"; }
journal() { in_ct journalctl --no-pager -o cat -u "$1"; }

# systemctl reaches PID 1 once its private socket is there
booted() { wait_for "systemd's socket" 30 in_ct test -S /run/systemd/private &&
        state=$(timeout 60 nsenter -t "$init_pid" -a systemctl is-system-running --wait 2>&1); }
pkg_step boot booted
expect_equal "the container boots (systemd: running, no failed unit)" "$state" running
[ "$state" = running ] || in_ct systemctl --no-pager --failed | diag
expect_equal "vmattest.service and vmattest-verifier.service are active" \
        "$(in_ct systemctl is-active vmattest.service vmattest-verifier.service | paste -sd' ')" "active active"

serving() { [ "$(journal vmattest.service | grep -c ' serving on https://')" -ge "$1" ]; }
wait_for "serving" 30 serving 1
agent=$(journal vmattest.service | sed -n 's/^vmattest: agent \([^ ]*\) serving on .*/\1/p' | head -n 1)
registered() { journal vmattest-verifier.service | grep -q "agent $agent activated"; }
if [ -n "$agent" ] && wait_for "registered" 30 registered; then
        ok "the agent registers with the verifier and activates (through the swtpm)"
else not_ok "the agent registers with the verifier and activates (through the swtpm)"; journal vmattest.service | diag; fi

# the agent's process: its user, tss, no capability, no new privileges, seccomp; its state
main_pid=$(in_ct systemctl show -p MainPID --value vmattest.service)
proc=$(in_ct cat "/proc/$main_pid/status" 2>/dev/null)
tss_gid=$(in_ct getent group tss | cut -d: -f3)
uid=$(in_ct id -u vmattest)
if grep -q "^Uid:[[:space:]]*$uid[[:space:]]" <<<"$proc" && grep -q "^Groups:.*\b$tss_gid\b" <<<"$proc" &&
        grep -q '^CapEff:[[:space:]]*0000000000000000' <<<"$proc" && grep -q '^CapBnd:[[:space:]]*0000000000000000' <<<"$proc" &&
        grep -q '^NoNewPrivs:[[:space:]]*1' <<<"$proc" && grep -q '^Seccomp:[[:space:]]*2' <<<"$proc"; then
        ok "vmattest serve runs as vmattest, in group tss, without capabilities, under seccomp"
else not_ok "vmattest serve runs as vmattest, in group tss, without capabilities, under seccomp"
        grep -E '^(Uid|Groups|Cap|NoNewPrivs|Seccomp)' <<<"$proc" | diag; fi
if ! journal vmattest.service | grep -q 'secure heap is not available'; then
        ok "its secure heap is locked (LimitMEMLOCK= is enough, no CAP_IPC_LOCK)"
else not_ok "its secure heap is locked (LimitMEMLOCK= is enough, no CAP_IPC_LOCK)"; journal vmattest.service | diag; fi
expect_equal "its state directory: vmattest's, 0700, the mTLS key 0600" \
        "$(in_ct stat -c '%a %U %n' /var/lib/vmattest /var/lib/vmattest/server-private.pem)" \
"700 vmattest /var/lib/vmattest
600 vmattest /var/lib/vmattest/server-private.pem"

# the tenant, as vmattest-verifier: enrolls the agent; the verifier polls it over mutual TLS
echo '{}' >"$root/var/tmp/any-pcrs.json"
expect_success "the tenant enrolls the agent (vmattest-verifier add, as vmattest-verifier)" \
        as_tenant vmattest-verifier add --agent "$agent" --policy /var/tmp/any-pcrs.json
status() { as_tenant vmattest-verifier status --agent "$agent" --json 2>/dev/null | jq -r ".[0].$1"; }
polled() { [ "$(status state)" = polling ] && [ "$(status last_ok)" != null ]; }
if wait_for "polled" 30 polled; then ok "the verifier polls the agent: good quotes over mutual TLS"
else not_ok "the verifier polls the agent: good quotes over mutual TLS"
        as_tenant vmattest-verifier status --agent "$agent" | diag; journal vmattest.service | tail -n 5 | diag; fi

# Type=notify through the sandboxes: each told systemd it is ready (or the boot above would
# have waited), and its status line says what it does
status_text() { in_ct systemctl show -p StatusText --value "$1"; }
verifier_counts() { [ "$(status_text vmattest-verifier.service)" = "1 agents polled, 0 failed" ]; }
if [[ "$(status_text vmattest.service)" == "serving agent $agent on "* ]] && wait_for "counts" 10 verifier_counts; then
        ok "systemctl status shows what each does (STATUS=: the agent serving, the agents polled)"
else not_ok "systemctl status shows what each does (STATUS=: the agent serving, the agents polled)"
        { status_text vmattest.service; status_text vmattest-verifier.service; } | diag; fi

# a hand-over it cannot use (not unlock's): the sandboxed serve still opens and removes it
in_ct sh -c 'install -d -o vmattest -g vmattest -m 0700 /run/vmattest/handover.d &&
        echo not-a-handover | install -o vmattest -g vmattest -m 0600 /dev/stdin /run/vmattest/handover.d/handover &&
        systemctl restart vmattest.service'
taken() { journal vmattest.service | grep -q 'hand-over /run/vmattest/handover.d/handover: expected the line'; }
if wait_for "taken" 10 taken && ! in_ct test -e /run/vmattest/handover.d/handover && wait_for "serving" 30 serving 2; then
        ok "serve, in its sandbox, reads and removes the hand-over file in /run/vmattest/handover.d"
else not_ok "serve, in its sandbox, reads and removes the hand-over file in /run/vmattest/handover.d"
        journal vmattest.service | tail -n 5 | diag; fi
# that warning went to the journal at priority warning, the lines around it at info
warnings=$(in_ct journalctl --no-pager -o cat -p warning -u vmattest.service)
if grep -q 'hand-over /run/vmattest/handover.d/handover: expected the line' <<<"$warnings" &&
        ! grep -q ' serving on https://' <<<"$warnings"; then
        ok "journalctl -p warning finds the agent's warning and not its info lines (sd-daemon priorities)"
else not_ok "journalctl -p warning finds the agent's warning and not its info lines (sd-daemon priorities)"
        diag <<<"$warnings"; fi

# /dev/tpmrm0 through the sandbox: the container has no TPM, so a stand-in node (the null
# device's numbers) owned tss:tss 0660 as tpm-udev makes it, opened read-write by a unit with
# vmattest.service's sandbox (its private /dev, the bind mount, the device ACL, its user
# namespace, group tss); a node of tss's alone (0600) must stay closed to it
in_ct sh -c 'mknod -m 0660 /dev/tpmrm0 c 1 3 && chown tss:tss /dev/tpmrm0 &&
        sed -e "/^ExecStartPre=/d; /^Restart/d; /^NotifyAccess=/d; /^TimeoutStartSec=/d; s/^Type=notify/Type=oneshot/" \
            -e "s|^ExecStart=.*|ExecStart=/bin/sh -c \"exec 3<>/dev/tpmrm0\"|" \
            /lib/systemd/system/vmattest.service >/run/systemd/system/tpm-open.service && systemctl daemon-reload'
tpm_open() { in_ct systemctl start tpm-open.service >/dev/null 2>&1; }
if tpm_open && in_ct chmod 0600 /dev/tpmrm0 && ! tpm_open; then
        ok "in vmattest.service's sandbox, user vmattest opens /dev/tpmrm0 (0660 tss:tss) through group tss"
else not_ok "in vmattest.service's sandbox, user vmattest opens /dev/tpmrm0 (0660 tss:tss) through group tss"
        in_ct journalctl --no-pager -o cat -u tpm-open.service | tail -n 5 | diag; fi

in_ct systemctl stop vmattest.service vmattest-verifier.service
expect_equal "both stop cleanly on SIGTERM (exit status 0)" \
        "$(in_ct systemctl show -p ExecMainStatus --value vmattest.service vmattest-verifier.service | grep . | paste -sd' ')" "0 0"
in_ct systemctl poweroff >/dev/null 2>&1
if timeout 30 tail --pid="$nspawn_pid" -f /dev/null; then ok "the container powers off"
else not_ok "the container powers off"; diag <"$TEST_TMP/nspawn.log"; fi
