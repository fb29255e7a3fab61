#!/bin/busybox sh
# TEST ONLY: /sbin/init of the LUKS2 root that tests/vm/test-boot-unlock.sh and
# test-boot-platform.sh boot (made by vm_rootfs in tests/vm/lib.sh). PID 1 after switch-root:
# systemd moved /dev, /proc, /sys and /run here. It reports to the host through console lines
# "VMATTEST-ROOT: ...", then, by vmattest_test.mode on the kernel command line:
#   runtime        runs the runtime agent (`vmattest serve`), which takes over the identity
#                  `vmattest unlock` handed over in /run, for vmattest_test.hold seconds, while
#                  the verifier on the host keeps polling it (or, with mode = push in the root's
#                  agent.conf, while it pushes its evidence); then, with vmattest_test.intruder=1,
#                  runs two programs the tenant's runtime policy does not know: first a copy of
#                  busybox in /dev/shm (tmpfs), then /usr/local/bin/intruder (on the root's
#                  disk), says which of them the IMA log names, and serves on for 10 s
#   second-unlock  runs `vmattest unlock` a second time in the same boot (the verifier must not
#                  release a key again); its kernel options come from this boot's command line
#                  with rd.vmattest.timeout replaced by vmattest_test.hold
# and powers off.
export PATH=/bin:/usr/bin
exec </dev/console >/dev/console 2>&1
say() { echo "VMATTEST-ROOT: $*"; }
arg() {
        for w in $(cat /proc/cmdline); do
                case $w in "vmattest_test.$1="*) echo "${w#*=}" ;; esac
        done
}

say "marker $(cat /etc/vmattest-test/marker)"
if [ -d /run/vmattest ]; then
        say "/run/vmattest handed over: $(ls /run/vmattest | tr '\n' ' ')"
else
        say "no /run/vmattest"
fi
if [ -r /run/vmattest/measurements.log ]; then
        vmattest measure --list >/run/vmattest-test-pcr15 2>&1
        say "PCR 15 log: $(wc -l </run/vmattest-test-pcr15) records"
        say "PCR 15 log events: $(cut -d' ' -f2 /run/vmattest-test-pcr15 | tr '\n' ' ')"
fi
hold=$(arg hold)
case $(arg mode) in
runtime)
        vmattest serve >/run/vmattest-test-serve.log 2>&1 &
        serve=$!
        i=0
        # pull: "agent ID serving on URL"; push: "agent ID attesting in push mode to URL"
        started='serving on|attesting in push mode'
        while [ $i -lt 300 ] && ! grep -qE "$started" /run/vmattest-test-serve.log; do
                kill -0 $serve 2>/dev/null || break
                sleep 0.2
                i=$((i + 1))
        done
        say "runtime agent: $(grep -m1 -e 'taking over' -e 'registered' /run/vmattest-test-serve.log)"
        say "runtime agent: $(grep -m1 -E "$started" /run/vmattest-test-serve.log || echo not serving)"
        sleep "${hold:-15}"
        if [ "$(arg intruder)" = 1 ]; then
                # a program dropped where anyone can write and nothing is on disk; busybox picks
                # its applet by argv[0], so it runs as echo
                grep -q ' /dev/shm tmpfs ' /proc/mounts ||
                        { busybox mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm; }
                busybox cp /bin/busybox /dev/shm/shm-intruder
                (exec -a echo /dev/shm/shm-intruder "VMATTEST-ROOT: the /dev/shm intruder runs")
                say "ran /dev/shm/shm-intruder (on $(grep -m1 -o ' /dev/shm [a-z0-9]*' /proc/mounts | busybox cut -d' ' -f3))"
                /usr/local/bin/intruder
                say "ran /usr/local/bin/intruder"
                say "IMA log names:$(for p in /dev/shm/shm-intruder /usr/local/bin/intruder; do
                        grep -q " $p" /sys/kernel/security/ima/ascii_runtime_measurements && echo " $p"
                done | tr -d '\n')"
                sleep 10
        fi
        say "runtime agent answered $(grep -c ' -> 200' /run/vmattest-test-serve.log) requests"
        say "runtime agent pushed $(grep -c 'push: attestation [0-9]* accepted' /run/vmattest-test-serve.log) accepted attestations"
        # what else it said (refusals, errors), for the host's log when a check fails
        grep -v -E -e ' -> 200' -e "$started" -e 'taking over' -e 'push: attestation [0-9]* accepted' \
                /run/vmattest-test-serve.log | tail -n 5 |
                while read -r l; do say "runtime agent said: $l"; done
        say "IMA measured: $(grep -c -e ' /bin/busybox' -e ' /usr/bin/vmattest' \
                /sys/kernel/security/ima/ascii_runtime_measurements) entries of /bin/busybox and /usr/bin/vmattest"
        kill $serve
        ;;
second-unlock)
        for w in $(cat /proc/cmdline); do
                case $w in rd.vmattest.timeout=*) ;; rd.vmattest.*) echo "$w" ;; esac
        done >/run/vmattest-test-cmdline
        echo "rd.vmattest.timeout=${hold:-15}" >>/run/vmattest-test-cmdline
        say "second unlock: starting"
        vmattest unlock --cmdline /run/vmattest-test-cmdline
        say "second unlock exit $?"
        ;;
esac
say "powering off"
poweroff -f
