#!/bin/bash
# An interrupted first boot resumes by itself (issue 11), against the real vmattest-verifier and
# swtpm: `vmattest first-boot` in a test root (a mount namespace with an overlay on /etc, so that
# /etc/crypttab and the provisioning files are the test's; a stand-in dracut) with a data volume
# on a loop device. The first run enrols with the token and is killed while it waits to escrow
# (a power loss before the runtime agent was attested): the token is used up (a registration
# with it is refused), the volume untouched, vmattest's record says enrolled. A run cut before
# the record said so finds the token refused and registers without it. The second run,
# with the same user-data, registers without the token, escrows once, formats the volume,
# writes crypttab and agent.conf, rebuilds the initrd and records done. A third run says done
# in one line and changes nothing, unless another user than root owns the record.
. "$(dirname "$0")/lib.sh"
plan 21

command -v unshare >/dev/null && command -v losetup >/dev/null || { echo "1..0 # SKIP no unshare or losetup"; exit 0; }
swtpm_start || exit 1
cd "$TEST_TMP" || exit 1
tenant_pki
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=registrar-ca \
        -keyout registrar-ca.key -out registrar-ca.pem 2>/dev/null
registrar_cert registrar-ca.pem registrar-ca.key
escrow_verifier_start "$TEST_TMP/verifier-ca.pem" || exit 1
agent_id=$("$VMATTEST" identity --json 2>/dev/null | jq -r .ek.hash_ek)
status() { vv status --agent "$agent_id" --json 2>/dev/null | jq -r ".[0].$1"; }

# the data volume: a blank loop device, detached when the test ends
truncate -s 24M volume.img
loop=$(losetup -f --show volume.img) || { echo "losetup failed" >&2; exit 1; }
trap 'losetup -d "$loop" 2>/dev/null; cleanup' EXIT

# the image as shipped: the package's agent.conf; the tenant's group and token
mkdir -p etc bin etc-upper etc-work
cat >etc/agent.conf <<CONF
[agent]
state_dir = $TEST_TMP/agent-state
vmattest_ml_path = $TEST_TMP/measurements.log
handover_path = $TEST_TMP/handover
ima_policy = ""
ima_ml_path = $TEST_TMP/none
max_retries = 2
retry_interval = 1
exponential_backoff = false
CONF
echo '{}' >tpm-policy.json
token="enrol-$(openssl rand -hex 24)"
printf '%s\n' "$token" >token
chmod 0600 token
vv group add first-boot --tpm-policy-file tpm-policy.json --token-file token --allow-unpinned-cmdline >group.log 2>&1 ||
        { echo "group add failed:" >&2; cat group.log >&2; exit 1; }
agent_port=$(random_port)
cat registrar-ca.pem verifier-ca.pem >tenant-ca.pem
jq -n --rawfile ca tenant-ca.pem --arg token "$token" --arg registrar "127.0.0.1:$tls_port" \
        --arg contact "127.0.0.1:$agent_port" --arg volume "$loop" \
        '{registrar: $registrar, verifier_ca: $ca, token: $token, contact: $contact, volumes: [$volume]}' >user-data.json

# the test root: /etc through an overlay (what first-boot writes there lands in etc-upper), a
# dracut that only says it ran; this system runs no systemd, so no restart of vmattest.service
# (it writes the file it is given: the new initrd, "with vmattest"); /boot through an overlay too,
# holding the image's provisioning initrd; the image's provisioning key and dracut configuration
printf '#!/bin/sh\necho "dracut $*" >>%s/dracut.calls\neval last=\\${$#}\necho "initrd with vmattest" >"$last"\n' \
        "$TEST_TMP" >bin/dracut
chmod 0755 bin/dracut
mkdir -p boot-upper boot-work etc-upper/cryptsetup-keys.d etc-upper/dracut.conf.d
initrd=initrd.img-$(uname -r)
echo "provisioning initrd" >boot-upper/"$initrd"
echo "image provisioning key" >etc-upper/cryptsetup-keys.d/provisioning.key
echo 'omit_dracutmodules+=" vmattest "' >etc-upper/dracut.conf.d/90-vmattest-provisioning.conf
# (unshare and sh each exec the next: in the background, $! is vmattest's own pid, which a kill -KILL
# must reach as a power loss would)
in_test_root=(unshare -m --propagation private sh -c 'mount -t overlay overlay \
        -o lowerdir=/etc,upperdir="$0/etc-upper",workdir="$0/etc-work" /etc || exit 99
        mount -t overlay overlay -o lowerdir=/boot,upperdir="$0/boot-upper",workdir="$0/boot-work" /boot || exit 99
        # CUT_AT_KEY: the provisioning key a mount point, its removal fails (EBUSY): a run cut there
        [ -z "$CUT_AT_KEY" ] || mount --bind /etc/cryptsetup-keys.d/provisioning.key \
                /etc/cryptsetup-keys.d/provisioning.key || exit 99
        PATH="$0/bin:$PATH" exec "$@"' "$TEST_TMP"
        "$VMATTEST" --config "$TEST_TMP/etc/agent.conf" first-boot --user-data user-data.json --instance-id iid-resume-1)
first_boot() { "${in_test_root[@]}"; }
stage() { sed -n 's/^stage //p' agent-state/first-boot 2>/dev/null; }

# 1. cut after the enrolment: nothing attests the runtime agent yet, so the escrow waits; the
# process is killed there, as a power loss would
"${in_test_root[@]}" >run1.log 2>&1 &
run1=$!
verifier_pids+=("$run1")
if wait_for escrow-wait 60 grep -q "escrow: the verifier has not attested this agent yet" run1.log; then
        kill -KILL "$run1"; wait "$run1" 2>/dev/null
        sleep 1 # what the killed process sent is answered before the next step looks
        ok "first run: enrolled with the token, killed while it waits to escrow"
else not_ok "first run: enrolled with the token, killed while it waits to escrow"; diag <run1.log; kill -KILL "$run1"; fi
expect_equal "... the agent is enrolled, the record says enrolled, the volume is untouched" \
        "$(status agent_id) $(stage) $(cryptsetup isLuks "$loop" && echo luks || echo blank)" "$agent_id enrolled blank"
if ! grep -qF "$token" agent-state/first-boot etc/agent.conf run1.log; then ok "... the token is in neither the record nor the log"
else not_ok "... the token is in neither the record nor the log"; fi
expect_failure "the token is used up: a registration with it is refused (HTTP 403)" 1 \
        "HTTP 403: .*enrolment token used up" \
        "$VMATTEST" --config etc/agent.conf register --enrol-token-stdin <<<"$token"

# a run cut between the activation and the record's "enrolled" (the record says registering):
# the token is refused, it registers without it; killed again while it waits to escrow
cp agent-state/first-boot record.enrolled
sed -i 's/^stage .*/stage registering/' agent-state/first-boot
"${in_test_root[@]}" >run1b.log 2>&1 &
run1b=$!
verifier_pids+=("$run1b")
if wait_for escrow-wait 60 grep -q "escrow: the verifier has not attested this agent yet" run1b.log; then
        kill -KILL "$run1b"; wait "$run1b" 2>/dev/null
fi
if grep -q "the registrar refused the enrolment token (.*used up.*); an earlier run of this first boot was cut after sending it" run1b.log &&
   grep -q "agent $agent_id registered and activated at .* without the enrolment token" run1b.log; then
        ok "a run cut before the record said enrolled: the token refused, it registers without it"
else not_ok "a run cut before the record said enrolled: the token refused, it registers without it"; diag <run1b.log; fi
expect_equal "... the record still says registering (nothing proved the enrolment)" "$(stage)" registering
cp record.enrolled agent-state/first-boot

# the runtime agent with the tenant's keys (what the restart of vmattest.service does)
sed "s/^port = .*/port = $agent_port/" etc/agent.conf >serve.conf
agent_serve serve.conf || exit 1
polled() { [ "$(status last_ok)" != null ] && [ "$(status state)" = polling ]; }
wait_for polled 30 polled || { vv status --agent "$agent_id" | diag; }

# 2a. a run cut at the provisioning key's removal, the last step: the new initrd is in place
# already, and the key with it (the old order removed the key before the rebuild: a cut there
# left neither an initrd with vmattest nor the key)
CUT_AT_KEY=1 first_boot >run2a.log 2>&1
expect_equal "a run cut at the provisioning key's removal: failed, the new initrd in place, the key still there" \
        "$? $(cat boot-upper/"$initrd") $(cat etc-upper/cryptsetup-keys.d/provisioning.key 2>/dev/null)" \
        "1 initrd with vmattest image provisioning key"
expect_equal "... the provisioning dracut configuration is gone, no new initrd left beside it" \
        "$(ls etc-upper/dracut.conf.d boot-upper | grep -c 'provisioning.conf\|vmattest-new')" 0
expect_equal "... the record says the rebuilt initrd is in place" "$(stage)" initrd-in-place
uuid_cut=$(cryptsetup luksUUID "$loop" 2>/dev/null)
calls_cut=$(wc -l <dracut.calls)

# 2b. the next boot: the same user-data, its token used up
first_boot >run2.log 2>&1
rc=$?
expect_equal "second run: exit 0" "$rc" 0
[ "$rc" -eq 0 ] || diag <run2.log
if grep -q "agent $agent_id was enrolled by an earlier run of this first boot: registered and activated again at .* without the enrolment token" run2.log &&
   ! grep -q "with the enrolment token" run2.log; then
        ok "... it registers again without the token"
else not_ok "... it registers again without the token"; diag <run2.log; fi
expect_equal "... escrows once (the verifier took one escrow, in the cut run)" \
        "$(grep -c "escrowed its payload" verifier.log) $(grep -c "escrowed by an earlier run" run2.log)" "1 1"
expect_equal "... did not format the volume again, removed the provisioning key" \
        "$(cryptsetup luksUUID "$loop" 2>/dev/null) $(ls etc-upper/cryptsetup-keys.d)" "$uuid_cut "
uuid=$(cryptsetup luksUUID "$loop" 2>/dev/null)
expect_equal "... formats the volume (LUKS2, subsystem vmattest) and writes crypttab and unlock_volumes" \
        "$(cryptsetup luksDump "$loop" 2>/dev/null | sed -n 's/^Subsystem:[[:space:]]*//p')|$(grep -v '^#' etc-upper/crypttab)|$("$VMATTEST" --config etc/agent.conf config --get unlock_volumes)" \
        "vmattest|vmattest-$(basename "$loop") UUID=$uuid none luks,discard,password-cache=no|$uuid"
# the initrd in place is the one whose PCR 9 was pinned (a boot may have had the key with it):
# a rebuild would differ, and could no longer be pinned
expect_equal "... keeps the initrd the cut run put in place (no rebuild) and records done" \
        "$(wc -l <dracut.calls) $(cat boot-upper/"$initrd") $(stage)" "$calls_cut initrd with vmattest done"
expect_equal "... the agent is still enrolled" "$(status agent_id)" "$agent_id"

# 3. every boot after: the record says done
snapshot() { { find etc-upper etc agent-state -type f | LC_ALL=C sort | xargs sha256sum; cryptsetup luksDump "$loop";
        cat dracut.calls; grep -c "registered" verifier.log; } 2>&1; }
before=$(snapshot)
out=$(first_boot 2>&1); rc=$?
expect_equal "third run: exit 0, one line" "$rc|$(sed 's/^[^:]*: first-boot: //; s/ done at [0-9T:Z-]*:/ done at T:/' <<<"$out")" \
        "0|first boot of instance iid-resume-1 done at T: nothing to do"
expect_equal "... and nothing changed (files, LUKS header, initrd, registrar)" "$(snapshot)" "$before"
expect_success "... --check-done says the same (exit 0)" "$VMATTEST" --config etc/agent.conf first-boot --check-done --instance-id iid-resume-1
expect_failure "... but not for another instance id (exit 1)" 1 "" \
        "$VMATTEST" --config etc/agent.conf first-boot --check-done --instance-id iid-another
# the state directory is the runtime agent's user's: a record that user wrote cannot say done
chown nobody agent-state/first-boot
expect_failure "... nor when another user than root owns the record (it could be forged)" 1 "" \
        "$VMATTEST" --config etc/agent.conf first-boot --check-done --instance-id iid-resume-1
