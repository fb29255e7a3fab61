#!/bin/bash
# dracut module 90vmattest: the early-boot half of vmattest. It installs the agent, its config,
# trust anchors and IMA policy, a DHCP network for systemd-networkd, vmattest-unlock.service, which
# attests to the tenant's verifier and answers the LUKS password request (docs/protocol.md §6), and
# vmattest-leave-initrd.service, which records in PCR 15 that the boot leaves the initrd. All logic
# is in the agent (`vmattest unlock`); this file only installs.
#
# Build-time knobs (environment of dracut):
#   VMATTEST_BIN      the agent to install as /usr/bin/vmattest   (default /usr/bin/vmattest)
#   VMATTEST_CONFDIR  the host directory installed as /etc/vmattest (default /etc/vmattest):
#                     agent.conf, ima-policy if present, and the CA files and revocation
#                     certificate agent.conf names
# shellcheck disable=SC2154 # libdirs, moddir, initdir, systemd*dir come from dracut

vmattest_bin() { echo "${VMATTEST_BIN:-/usr/bin/vmattest}"; }
vmattest_confdir() { echo "${VMATTEST_CONFDIR:-/etc/vmattest}"; }

check() {
    require_binaries "$(vmattest_bin)" || return 1
    [[ -f "$(vmattest_confdir)/agent.conf" ]] || return 1
    return 0
}

depends() {
    echo systemd systemd-initrd systemd-udevd udev-rules systemd-networkd crypt
    return 0
}

installkernel() {
    instmods -o '=drivers/char/tpm'
}

# vmattest_conf KEY: the value of KEY as the agent reads agent.conf (its own parser and defaults)
vmattest_conf() {
    "$(vmattest_bin)" --config "$(vmattest_confdir)/agent.conf" config --get "$1"
}

# vmattest_inst_dlopen SONAME...: libraries the agent loads with dlopen(), and the libraries they
# link (dracut resolves the dependencies of executables only, and dlopen() hides these from it)
vmattest_inst_dlopen() {
    local soname dir lib found
    for soname in "$@"; do
        found=
        for dir in $libdirs; do
            [[ -e $dir/$soname ]] || continue
            found=1
            inst_library "$dir/$soname"
            for lib in $($DRACUT_LDD "$dir/$soname" | sed -n 's/.* => \(\/[^ ]*\) .*/\1/p'); do
                inst_library "$lib"
            done
        done
        [[ $found ]] || { derror "vmattest: no $soname in $libdirs"; return 1; }
    done
}

install() {
    local confdir key mode path src tls
    confdir=$(vmattest_confdir)

    inst_binary "$(vmattest_bin)" /usr/bin/vmattest || return 1
    # the TCTI that tctildr loads for device:/dev/tpmrm0 (the agent's HTTP client is libevent's,
    # linked: no libcurl here)
    vmattest_inst_dlopen libtss2-tcti-device.so.0 || return 1

    inst_simple "$confdir/agent.conf" /etc/vmattest/agent.conf
    [[ -f $confdir/ima-policy ]] && inst_simple "$confdir/ima-policy" /etc/vmattest/ima-policy
    # the trust anchors agent.conf names, at the path it names (/etc/vmattest/* comes from confdir);
    # revocation actions are not installed: the image's own business
    tls=$(vmattest_conf registrar_tls) || { derror "vmattest: $confdir/agent.conf is not valid"; return 1; }
    mode=$(vmattest_conf mode) || return 1
    for key in trusted_client_ca registrar_tls_ca_cert verifier_tls_ca_cert revocation_cert; do
        [[ $key == registrar_tls_ca_cert && $tls != true ]] && continue
        path=$(vmattest_conf "$key") || return 1
        [[ $path ]] || continue
        src=$path
        [[ $path == /etc/vmattest/* ]] && src=$confdir/${path#/etc/vmattest/}
        # the push verifier's CA: needed with mode = push; with pull, installed when it exists,
        # for rd.vmattest.mode=push on the command line
        [[ $key == verifier_tls_ca_cert && $mode != push && ! -e $src ]] && continue
        inst_simple "$src" "$path" || { derror "vmattest: $key = $path: no $src"; return 1; }
    done

    # the runtime agent's user (the vmattest package's agent.conf names it as handover_user): unlock
    # looks the name up in the initrd's own /etc/passwd, as dracut's modules do for their users
    grep -q '^vmattest:' "$initdir/etc/passwd" 2>/dev/null ||
        grep '^vmattest:' "$dracutsysrootdir/etc/passwd" >>"$initdir/etc/passwd" 2>/dev/null

    # never an unauthenticated shell in an initrd that guards the disk key: dracut's emergency
    # handling powers off instead (a command line that says otherwise changes PCR 9: no key)
    mkdir -p "$initdir/etc/cmdline.d"
    echo "rd.shell=0 rd.emergency=poweroff" >"$initdir/etc/cmdline.d/90vmattest.conf"

    inst_simple "$moddir/99-vmattest-dhcp.network" "$systemdnetwork/99-vmattest-dhcp.network"
    inst_simple "$moddir/vmattest-unlock.service" "$systemdsystemunitdir/vmattest-unlock.service"
    inst_simple "$moddir/vmattest-leave-initrd.service" "$systemdsystemunitdir/vmattest-leave-initrd.service"
    $SYSTEMCTL -q --root "$initdir" enable vmattest-unlock.service vmattest-leave-initrd.service
}
