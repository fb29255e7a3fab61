#!/bin/bash
# vmattest first-boot's configuration step and the cloud-init hook that runs it
# (packaging/cloud-init/vmattest-first-boot), on files under TEST_TMP: the tenant's CA and
# agent.conf keys written and read back by the agent itself, a rerun replacing its own block,
# and nothing at all written when a field is bad, when a device is not a block device or when
# the new agent.conf would not load. The hook runs against a stand-in `cloud-init query`.
# No TPM: the configuration step (--configure-only) does not use it; the enrolment after it
# is tests/vm/test-boot-cloud.sh's and test-first-boot-resume.sh's. The hook at a boot after a
# finished first boot: vmattest's record says done, one line, no `cloud-init query`.
. "$(dirname "$0")/lib.sh"
plan 20

cd "$TEST_TMP" || exit 1
tenant_pki
mkdir -p etc bin
printf '# as packaged\n[agent]\nhandover_path = "/run/vmattest/handover.d/handover"\nstate_dir = "%s/state"\n' "$TEST_TMP" >etc/agent.conf
cp etc/agent.conf packaged.conf
token=tenant-group-token-$(openssl rand -hex 8)
vm() { "$VMATTEST" --config "$TEST_TMP/etc/agent.conf" "$@"; }
get() { vm config --get "$1"; }
state() { (cd etc && find . -type f | LC_ALL=C sort | xargs sha256sum); }
# object [JQ-FILTER]: the vmattest: object as JSON, changed by FILTER
object() {
        jq -n --rawfile ca verifier-ca.pem --arg token "$token" \
                '{registrar: "192.0.2.10:8891", verifier_ca: $ca, token: $token, volumes: ["root"]}' | jq "${1:-.}"
}

object >good.json
expect_success "first-boot --user-data FILE: the configuration step" vm first-boot --configure-only --user-data good.json
expect_equal "the tenant's CA is written beside agent.conf" "$(sha256sum <etc/verifier-ca.pem)" "$(sha256sum <verifier-ca.pem)"
expect_equal "the agent reads the tenant's keys (registrar, TLS, its CA, contact from the route, hash_ek)" \
        "$(for k in registrar_ip registrar_port registrar_tls registrar_tls_ca_cert trusted_client_ca ip contact_port uuid handover_path; do
                printf '%s=%s\n' "$k" "$(get "$k")"; done)" \
"registrar_ip=192.0.2.10
registrar_port=8891
registrar_tls=true
registrar_tls_ca_cert=$TEST_TMP/etc/verifier-ca.pem
trusted_client_ca=$TEST_TMP/etc/verifier-ca.pem
ip=0.0.0.0
contact_port=9002
uuid=hash_ek
handover_path=/run/vmattest/handover.d/handover"
contact=$(get contact_ip)
if [ -n "$contact" ] && [ "$contact" != 0.0.0.0 ]; then ok "no contact given: the address of the route to the registrar ($contact)"
else not_ok "no contact given: the address of the route to the registrar (got \"$contact\")"; fi

object '.registrar = "[2001:db8::10]:9443" | .contact = "192.0.2.33:19002" | .agent_id = "instance-id"' >second.json
expect_success "a second run with --instance-id" vm first-boot --configure-only --user-data - --instance-id iid-0123 <second.json
expect_equal "it replaces its own block: one block, the new keys" \
        "$(grep -c 'vmattest first-boot: the tenant' etc/agent.conf) $(get registrar_ip) $(get registrar_port) $(get contact_ip):$(get contact_port) $(get uuid)" \
        "1 2001:db8::10 9443 192.0.2.33:19002 iid-0123"

before=$(state)
sed '2s/./!/g' verifier-ca.pem >bad-ca.pem
jq --rawfile bad bad-ca.pem '.verifier_ca = $bad' good.json >bad-ca.json
expect_failure "a malformed CA: exit 2, the field named" 2 'vmattest\.verifier_ca: certificate 1 is not valid.*nothing written' \
        vm first-boot --configure-only --user-data bad-ca.json
object '.volumes = ["root", "/dev/null"]' >chardev.json
expect_failure "a volume that is not a block device: exit 2, the field named" 2 'vmattest\.volumes\[1\]: /dev/null is not a block device' \
        vm first-boot --configure-only --user-data chardev.json
object '.agent_id = "instance-id"' >iid.json
expect_failure "agent_id instance-id without an instance id" 2 'vmattest\.agent_id' vm first-boot --configure-only --user-data iid.json
expect_failure "an instance id that is not an agent id" 2 'vmattest\.agent_id: instance-id, but the instance id' \
        vm first-boot --configure-only --user-data iid.json --instance-id 'i d'
expect_equal "after each refusal nothing is written, no temporary file is left" "$(state)" "$before"

# an agent.conf the result would not load: refused before anything is renamed
printf 'handover_user = no-such-user-here\n' >>etc/agent.conf
before=$(state)
expect_failure "an agent.conf that would not load: nothing written" 2 'would not load.*no-such-user-here.*nothing written' \
        vm first-boot --configure-only --user-data good.json
expect_equal "... and the files are as they were" "$(state)" "$before"
cp packaged.conf etc/agent.conf && rm -f etc/verifier-ca.pem

# the hook: the vmattest: key of vendor-data and user-data, through `cloud-init query`
printf '#!/bin/sh\n# stand-in for cloud-init query\necho "$*" >>%s/queries\ncase "$2" in\nuserdata) cat %s/userdata ;;\nvendordata) cat %s/vendordata ;;\nv1.instance_id) echo iid-hook-7 ;;\nesac\n' \
        "$TEST_TMP" "$TEST_TMP" "$TEST_TMP" >bin/cloud-init
# the configuration step alone, but for the hook's question to the record
printf '#!/bin/sh\ncase " $* " in *" --check-done "*) exec %s --config %s/etc/agent.conf "$@" ;; esac\nexec %s --config %s/etc/agent.conf "$@" --configure-only\n' \
        "$VMATTEST" "$TEST_TMP" "$VMATTEST" "$TEST_TMP" >bin/vmattest
chmod 0755 bin/cloud-init bin/vmattest
sed -e "s|\"/usr/bin/vmattest\"|\"$TEST_TMP/bin/vmattest\"|" -e "s|\"/var/lib/cloud/data/instance-id\"|\"$TEST_TMP/instance-id\"|" \
        "$OLDPWD/packaging/cloud-init/vmattest-first-boot" >bin/hook
chmod 0755 bin/hook
hook() { PATH="$TEST_TMP/bin:$PATH" bin/hook; }
printf '#cloud-config\nhostname: x\n' >userdata
: >vendordata
before=$(state)
out=$(hook 2>&1); rc=$?
expect_equal "hook: no vmattest: key: one line, exit 0, nothing written" "$rc|$out|$(state)" \
        "0|vmattest cloud-init hook: no vmattest: key in user-data or vendor-data: nothing to do|$before"
{ echo '#cloud-config'; echo 'vmattest:'; echo '  registrar: 192.0.2.77'; echo '  verifier_ca: |'; sed 's/^/    /' verifier-ca.pem; } >vendordata
printf '#cloud-config\nvmattest:\n  token: "%s"\n  agent_id: instance-id\n' "$token" >userdata
out=$(hook 2>&1); rc=$?
expect_equal "hook: vendor-data's registrar and CA, user-data's token, cloud-init's instance id" \
        "$rc $(get registrar_ip) $(get uuid)" "0 192.0.2.77 iid-hook-7"
if grep -rq "$token" etc/ "$TEST_TMP/out" 2>/dev/null || [[ $out == *"$token"* ]]; then
        not_ok "the token is in no file and no output"
else ok "the token is in no file and no output"; fi

# a boot after the first: vmattest's record of this instance says done
echo iid-hook-7 >instance-id
mkdir -p state
record() { printf 'vmattest-first-boot 1\ninstance_id %s\nagent_id iid-hook-7\nregistrar_ip 192.0.2.77\nregistrar_port 8891\nstage %s\nat 1733500000\n' "$1" "$2" >state/first-boot; }
record iid-hook-7 done
rm -f queries
before=$(state)
out=$(hook 2>&1); rc=$?
expect_equal "hook, the record says done: exit 0, one line, no cloud-init query, nothing written" \
        "$rc|$(sed 's/^[^:]*: first-boot: //' <<<"$out")|$(cat queries 2>/dev/null)|$(state)" \
        "0|first boot of instance iid-hook-7 done at 2024-12-06T15:46:40Z: nothing to do||$before"
start=$(date +%s%N); hook >/dev/null 2>&1; cost=$(( ($(date +%s%N) - start) / 1000000 ))
echo "the hook at a boot after the first: $cost ms" | diag
record iid-hook-7 enrolled
rm -f queries
out=$(hook 2>&1); rc=$?
expect_equal "hook, the record says enrolled: the long way (cloud-init query, first-boot)" \
        "$rc $(grep -c . queries)" "0 3"
record iid-of-the-image-builder done
rm -f queries
out=$(hook 2>&1); rc=$?
expect_equal "hook, a done record of another instance: the long way" "$rc $(grep -c . queries)" "0 3"
record iid-hook-7 done
printf 'stage done\n' >>state/first-boot
rm -f queries
out=$(hook 2>&1); rc=$?
expect_equal "hook, a record that does not parse: the long way" "$rc $(grep -c . queries)" "0 3"
