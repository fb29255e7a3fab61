#!/bin/bash
# Keylime's multi-verifier deployment, the way past one verifier: two named verifiers (uuid
# `east` and `west`) sharing one PostgreSQL database, one registrar, four agents split between
# them by the tenant (-v/-vp choose the verifier that takes the agent, -vi names it). Each
# verifier polls only its own agents, and any verifier answers for all of them.
#
# Then west stops. Keylime 7.14.3 does nothing about it: east does not take west's agents over
# (it refuses to: reactivate through east gets 400), and their records keep saying "Get Quote"
# and PASS. What shows it is the time: their attestation_count stops and their
# last_successful_attestation falls behind maximum_attestation_interval (5 quote intervals), in
# what the tenant's `-c bulkinfo` prints through east, while east's agents stay within it.
# A verifier started again with west's uuid on the same database (here on another port, as a
# replacement elsewhere would be) takes west's agents back and polls them again; their records
# still name the address west had before.
. "$(dirname "$0")/lib.sh"
plan 15

cd "$TEST_TMP" || exit 1
keylime_fleet_start east west || exit 1

declare -A agent_id agent_port agent_verifier
agents=(e1 e2 w1 w2)
for name in "${agents[@]}"; do
        keylime_agent "$name" || exit 1
        agent_id[$name]=$AGENT_ID agent_port[$name]=$AGENT_PORT
        case $name in e*) agent_verifier[$name]=east ;; *) agent_verifier[$name]=west ;; esac
done
echo "luks-$(openssl rand -hex 16)" >payload.key
tpm_policy="{\"23\": [\"$(printf %064d 0)\"]}"

# enrolment: each agent added through its own verifier (one tenant at a time: four at once take
# longer on two cores)
added=0
for name in "${agents[@]}"; do
        verifier=${agent_verifier[$name]}
        keylime_tenant -c add -t 127.0.0.1 -tp "${agent_port[$name]}" -u "${agent_id[$name]}" \
                -v 127.0.0.1 -vp "${KEYLIME_VERIFIER_PORTS[$verifier]}" -vi "$verifier" \
                --tpm_policy "$tpm_policy" -f payload.key >"add-$name.out" 2>&1 && added=$((added + 1))
done
if [ "$added" = 4 ]; then ok "keylime_tenant -c add -v 127.0.0.1 -vp PORT -vi east|west: two agents added to each verifier"
else
        not_ok "keylime_tenant -c add -v 127.0.0.1 -vp PORT -vi east|west: two agents added to each verifier ($added of 4)"
        tail -n 3 add-*.out | diag; keylime_log_diag verifier-east verifier-west registrar
fi

# record NAME: agent NAME's record from the shared database, through east (tenant.conf's verifier)
record() { keylime_verifier_agent "${agent_id[$1]}"; }
count() { record "$1" | jq -r '.attestation_count'; }
polled() { local name; for name in "$@"; do [ "$(count "$name")" -ge 3 ] 2>/dev/null || return 1; done; }
wait_for "polls" 30 polled "${agents[@]}"

# the split, as the tenant sees it through one verifier (east): cvlist -vi ID lists the agents
# whose record is that verifier's
cvlist() {
        keylime_tenant -c cvlist -vi "$1" 2>&1 | sed -n '/Agent list from/{n;p}' | jq -r '.uuids[][]' | sort | tr '\n' ' '
}
expect_equal "the verifiers share one database: through east, cvlist -vi east lists e1 e2, -vi west lists w1 w2" \
        "$(cvlist east)| $(cvlist west)" \
        "$(printf '%s\n' "${agent_id[e1]}" "${agent_id[e2]}" | sort | tr '\n' ' ')| $(printf '%s\n' "${agent_id[w1]}" "${agent_id[w2]}" | sort | tr '\n' ' ')"

# each agent's record names its verifier and shows it polled
summary() { record "$1" | jq -c '{verifier_id, verifier_port, attestation_status, operational_state, polled: (.attestation_count >= 3)}'; }
for name in "${agents[@]}"; do
        verifier=${agent_verifier[$name]}
        expect_equal "agent $name: its record names verifier $verifier and its port; Get Quote (3), PASS, polled" \
                "$(summary "$name")" \
                "{\"verifier_id\":\"$verifier\",\"verifier_port\":${KEYLIME_VERIFIER_PORTS[$verifier]},\"attestation_status\":\"PASS\",\"operational_state\":3,\"polled\":true}"
done

# checked_in LOG: the agents a verifier's LOG says it checked a quote of (Keylime logs the
# tpm_policy check of every quote with the agent's id)
checked_in() {
        local name out=""
        for name in "${agents[@]}"; do
                grep -q "allowed by TPM policy for agent '${agent_id[$name]}'" "$1" && out+="$name "
        done
        echo "$out"
}
expect_equal "each verifier polls only its own agents (the agents each one's log checked quotes of)" \
        "east: $(checked_in "$KEYLIME_DIR/verifier-east.log")west: $(checked_in "$KEYLIME_DIR/verifier-west.log")" \
        "east: e1 e2 west: w1 w2 "

# quotes NAME: the quotes agent NAME was asked for, by any verifier
quotes() { grep -c '/v2.6/quotes/integrity -> 200' "$1.log"; }

# west stops (as its service manager would stop it; a crash leaves the same database behind)
keylime_verifier_stop west
stopped_at=$(date +%s)
declare -A count_at_stop quotes_at_stop
for name in "${agents[@]}"; do count_at_stop[$name]=$(count "$name") quotes_at_stop[$name]=$(quotes "$name"); done

# overdue: from an agent's record on stdin, whether its last_successful_attestation is older than
# its maximum_attestation_interval ("10s": 5 quote intervals of 2 s), Keylime's own bound
overdue() {
        jq --argjson now "$(date +%s)" \
                '$now - .last_successful_attestation > (.maximum_attestation_interval | rtrimstr("s") | tonumber)'
}
# stale NAME...: every agent NAME is overdue; fresh NAME...: none is
stale() { local name; for name in "$@"; do [ "$(record "$name" | overdue)" = true ] || return 1; done; }
fresh() { local name; for name in "$@"; do [ "$(record "$name" | overdue)" = false ] || return 1; done; }
# east refuses to poll an agent whose record is west's (PUT /agents/ID/reactivate: 400)
keylime_tenant -c reactivate -u "${agent_id[w1]}" -nvc >reactivate.out 2>&1
wait_for "west's agents overdue" 25 stale w1 w2
sleep 1

# what the tenant sees through east: `keylime_tenant -c bulkinfo` (every agent's record)
keylime_tenant -c bulkinfo >bulkinfo.out 2>&1
bulk() {
        local record
        record=$(sed -n '/Bulk Agent Info/{n;p}' bulkinfo.out | jq -c --arg id "${agent_id[$1]}" '.[$id]')
        jq -c --argjson overdue "$(overdue <<<"$record")" \
                '{verifier_id, operational_state, attestation_status, overdue: $overdue}' <<<"$record"
}
expect_equal "west stopped: through east, bulkinfo shows west's agents overdue (last_successful_attestation older than maximum_attestation_interval), east's not" \
        "$(for name in "${agents[@]}"; do bulk "$name" | jq -r '.verifier_id + ":" + (.overdue | tostring)'; done | tr '\n' ' ')" \
        "east:false east:false west:true west:true "
expect_equal "... the silent part: their state and status do not change (Get Quote, PASS, verifier west)" \
        "$(bulk w1) $(bulk w2)" \
        '{"verifier_id":"west","operational_state":"Get Quote","attestation_status":"PASS","overdue":true} {"verifier_id":"west","operational_state":"Get Quote","attestation_status":"PASS","overdue":true}'
grown() { local name; for name in "$@"; do [ "$(count "$name")" -gt "${count_at_stop[$name]}" ] 2>/dev/null || return 1; done; }
expect_equal "... east's agents keep being attested (attestation_count grows), west's are not (attestation_count and the quotes the agents answered stay as at the stop, $(($(date +%s) - stopped_at)) s ago)" \
        "$(grown e1 e2 && echo grown) $(for name in w1 w2; do echo -n "$(count "$name")/$(quotes "$name") "; done)" \
        "grown $(for name in w1 w2; do echo -n "${count_at_stop[$name]}/${quotes_at_stop[$name]} "; done)"
# (east looks the agent up by its id and east's uuid: no such row)
expect_equal "... east does not take them over: keylime_tenant -c reactivate through east gets 400, east finds no agent of its own by that id" \
        "$(grep -c 'Reactivate command response: 400' reactivate.out) $(grep -c "Error for agent ID ${agent_id[w1]}: No row was found" "$KEYLIME_DIR/verifier-east.log")" "1 1"

# a verifier with west's uuid on the same database takes west's agents back, wherever it runs
west_old_port=${KEYLIME_VERIFIER_PORTS[west]}
keylime_verifier_port west
keylime_verifier_start west || exit 1
declare -A count_at_restart
for name in "${agents[@]}"; do count_at_restart[$name]=$(count "$name"); done
back() { local name; for name in "$@"; do [ "$(count "$name")" -ge $((count_at_restart[$name] + 2)) ] 2>/dev/null || return 1; done; }
if wait_for "west's agents polled again" 30 back w1 w2 e1 e2 && fresh "${agents[@]}"; then
        ok "west started again (uuid west, another port): its agents are attested again, east's still are"
else
        not_ok "west started again (uuid west, another port): its agents are attested again, east's still are"
        for name in "${agents[@]}"; do summary "$name" | diag; done; keylime_log_diag verifier-east verifier-west
fi
expect_equal "... all four Get Quote (3), PASS" \
        "$(for name in "${agents[@]}"; do record "$name" | jq -r '"\(.operational_state) \(.attestation_status)"'; done | sort -u)" "3 PASS"
expect_equal "... west's agents' records keep west's old port ($west_old_port; west now listens on ${KEYLIME_VERIFIER_PORTS[west]}) and verifier id west" \
        "$(summary w1 | jq -c '[.verifier_id, .verifier_port]') $(summary w2 | jq -c '[.verifier_id, .verifier_port]')" \
        "[\"west\",$west_old_port] [\"west\",$west_old_port]"
# (keylime_service appends to the log: the second start's lines follow its last start line)
tail -n +"$(grep -n 'Starting Keylime verifier' "$KEYLIME_DIR/verifier-west.log" | tail -n 1 | cut -d: -f1)" \
        "$KEYLIME_DIR/verifier-west.log" >west-again.log
expect_equal "... and the restarted west polls only west's agents" "$(checked_in west-again.log)" "w1 w2 "
