# swtpms laid out as the clouds' vTPMs (docs/platforms.md), for the integration tests of AK
# certificates; sourced after lib.sh by tests/integration/test-ak-identity.sh and test-ecc-ak.sh,
# run in $TEST_TMP. A test CA stands in for the cloud's.
#
# cloud_ca NAME: a CA, NAME.pem and NAME.key
# cloud_issue CA PUBKEY-PEM DAYS OUT: a DER certificate of PUBKEY-PEM (a TPM key) from CA
# nv_put INDEX FILE: an NV index holding FILE, on the current swtpm
# azure_tpm NAME CA DAYS [KEY-PEM]: Azure's layout, an RSA AK evicted to 0x81000003, its
#       certificate from CA in NV 0x01C101D0 (of KEY-PEM instead of the AK, when given);
#       NAME-ak.pem, NAME-ak.tpm2b, NAME-ek.tpm2b, NAME-ek.ctx
# gce_tpm NAME CA DAYS [rsa|ecc [KEY-PEM]]: GCE's layout, one pair per kind as go-tpm-tools'
#       client/handles.go has it: the AK template (tpm2-tools' AK attributes, as GCE's:
#       0x00050072) in NV 0x01c10001 (rsa, the default: RSA-2048 RSASSA-SHA256) or 0x01c10003
#       (ecc: NIST P-256 ECDSA-SHA256), the certificate of the primary key it makes in the
#       endorsement hierarchy in NV 0x01c10000 or 0x01c10002 (of KEY-PEM instead, when given);
#       NAME-ak.pem, NAME-ak.tpm2b, NAME-ek.tpm2b, NAME-ek.ctx. On a swtpm started already
#       (GCE_TPM_SAME=1) the pair is added to it: a vTPM with both pairs, as GCE's.
#
# azure_hcl_vm NAME AGENT-LINES [HCL-DOUBLE OPTIONS...]: Azure's layout (azure_tpm, CA cloud-ca)
#       with the HCL report's NV index 0x01400001 (and the user-data index 0x01400002 of
#       USER_DATA_INDEX_SIZE bytes when set, as another tool may have left it), behind the
#       paravisor TEST DOUBLE tests/tools/hcl-double ($TSM_DOUBLE_KEYS) as the agent's TPM, and
#       an agent serving on it (cloud_serve, ak_source auto, AGENT-LINES added); AGENT_ID
# cloud_serve NAME AK-SOURCE [EXTRA-LINES]: `vmattest serve` on NAME's swtpm, registered with the
#       verifier of ./verifier.conf; AGENT_ID
# cloud_attests NAME: checks (4 TAP lines) that NAME's agent registered on its AK certificate
#       (identity proof ak-certificate, no EK certificate), attests, and gets its key released
#       (good-policy.json, disk.key) and opens it
# agent_field ID JQ: a field of `vv agents` (vv: lib.sh's)

cloud_ca() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
cloud_issue() {
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=vTPM-AK \
                -keyout stand-in.key -out stand-in.csr 2>/dev/null &&
        openssl x509 -req -in stand-in.csr -force_pubkey "$2" -CA "$1.pem" -CAkey "$1.key" \
                -CAserial "$TEST_TMP/$1.srl" -CAcreateserial -days "$3" -outform DER -out "$4" \
                -extfile <(printf 'basicConstraints=CA:FALSE\nauthorityKeyIdentifier=keyid\n') 2>/dev/null
}
nv_put() {
        tpm2_nvdefine "$1" -C o -s "$(stat -c %s "$2")" -a "ownerread|ownerwrite|authread|authwrite" >/dev/null &&
                tpm2_nvwrite "$1" -C o -i "$2"
}
cloud_ek() { # cloud_ek NAME: NAME-ek.tpm2b and NAME-ek.ctx, the EK as the agent makes it
        tpm2_createek -G rsa -u "$1-ek.tpm2b" -c "$1-ek.ctx" >/dev/null && tpm2_flushcontext -t
}
azure_tpm() {
        swtpm_start "$1" >/dev/null || return 1
        tpm2_createek -c "$1-ek.ctx" -G rsa >/dev/null && tpm2_flushcontext -t && tpm2_flushcontext -s &&
        tpm2_createak -C "$1-ek.ctx" -c "$1-ak.ctx" -G rsa -g sha256 -s rsassa -u "$1-ak.pem" -f pem >/dev/null &&
        tpm2_flushcontext -t && tpm2_flushcontext -s &&
        tpm2_evictcontrol -C o -c "$1-ak.ctx" 0x81000003 >/dev/null &&
        tpm2_readpublic -c 0x81000003 -o "$1-ak.tpm2b" >/dev/null && cloud_ek "$1" &&
        cloud_issue "$2" "${4:-$1-ak.pem}" "$3" "$1-akcert.der" && nv_put 0x01C101D0 "$1-akcert.der"
}
gce_tpm() {
        local alg=rsa2048:rsassa-sha256:null cert_nv=0x01c10000 template_nv=0x01c10001
        if [ "${4:-rsa}" = ecc ]; then alg=ecc256:ecdsa-sha256:null cert_nv=0x01c10002 template_nv=0x01c10003; fi
        if [ -z "${GCE_TPM_SAME:-}" ]; then swtpm_start "$1" >/dev/null || return 1; fi
        tpm2_createprimary -C e -g sha256 -G "$alg" \
                -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign" \
                --template-data "$1-template.bin" -c "$1-primary.ctx" -f pem -o "$1-ak.pem" >/dev/null &&
        tpm2_readpublic -c "$1-primary.ctx" -o "$1-ak.tpm2b" >/dev/null &&
        tpm2_flushcontext -t && nv_put "$template_nv" "$1-template.bin" && cloud_ek "$1" &&
        cloud_issue "$2" "${5:-$1-ak.pem}" "$3" "$1-akcert.der" && nv_put "$cert_nv" "$1-akcert.der"
}

agent_field() { vv agents --json | jq -r --arg id "$1" ".[] | select(.agent_id == \$id) | $2"; }
cloud_released() { [ "$(vv status --agent "$1" --json 2>/dev/null | jq -r '.[0].payload_released_at')" != null ]; }

azure_hcl_vm() {
        local name=$1 lines=$2 tpm_port proxy; shift 2
        azure_tpm "$name" cloud-ca 2 && tpm2_nvdefine 0x01400001 -C o -s 2048 -a "ownerread|ownerwrite" >/dev/null ||
                return 1
        if [ -n "${USER_DATA_INDEX_SIZE:-}" ]; then
                tpm2_nvdefine 0x01400002 -C o -s "$USER_DATA_INDEX_SIZE" -a "ownerread|ownerwrite" >/dev/null || return 1
        fi
        tpm_port=${VMATTEST_TCTI##*port=}
        # the double takes two ports, as swtpm does: a free even one and the one after it
        proxy=$(lane_port_pair 10000 10000)
        while (exec 3<>"/dev/tcp/127.0.0.1/$proxy") 2>/dev/null ||
                (exec 3<>"/dev/tcp/127.0.0.1/$((proxy + 1))") 2>/dev/null; do
                proxy=$(lane_port_pair 10000 10000)
        done
        "$TOOLS_DIR/hcl-double" --keys "$TSM_DOUBLE_KEYS" --listen "$proxy" --tpm-port "$tpm_port" \
                --ak "$name-ak.pem" "$@" 2>>"$name-double.log" &
        verifier_pids+=("$!")
        wait_port "$!" "$proxy" || { diag <"$name-double.log"; return 1; }
        export VMATTEST_TCTI="swtpm:host=127.0.0.1,port=$proxy"
        cloud_serve "$name" auto "tsm_report_dir = $TEST_TMP/no-configfs-tsm
$lines"
}

cloud_serve() {
        local port; port=$(random_port)
        agent_config "$1.conf" "$VERIFIER_PORT" "port = $port
ak_source = $2
state_dir = $TEST_TMP/$1-state
vmattest_ml_path = $TEST_TMP/$1-measurements.log
trusted_client_ca = $TEST_TMP/verifier-ca.pem
ima_ml_path = $TEST_TMP/none
runtime_release = yes
${3:-}"
        "$VMATTEST" --config "$1.conf" serve >"$1.log" 2>&1 &
        verifier_pids+=("$!")
        wait_port "$!" "$port" || { diag <"$1.log"; return 1; }
        AGENT_ID=$(sed -n 's/.*agent \([0-9a-f]*\) serving.*/\1/p' "$1.log")
}
cloud_attests() {
        local name=$1 id=$AGENT_ID
        expect_equal "$name: registered with the identity proof ak-certificate, no EK certificate sent" \
                "$(agent_field "$id" '.identity_proof + " " + (.ek_certificate | tostring) + " " + .state')" \
                "ak-certificate false active"
        if grep -q "registrar: agent $id registered (EK [0-9a-f]*, identity proof ak-certificate" verifier.log; then
                ok "$name: the registrar's log line names the proof"
        else not_ok "$name: the registrar's log line names the proof"; grep "agent $id" verifier.log | diag; fi
        vv add --agent "$id" --policy good-policy.json --payload disk.key --allow-unpinned-cmdline >/dev/null 2>&1
        if wait_for released 20 cloud_released "$id"; then ok "$name: it attests and its key is released"
        else not_ok "$name: it attests and its key is released"; vv status --agent "$id" | diag; tail -5 verifier.log | diag; fi
        if grep -q "payload opened" "$name.log"; then ok "$name: the agent opened the payload"
        else not_ok "$name: the agent opened the payload"; tail -5 "$name.log" | diag; fi
}
