#!/bin/bash
# The man pages keep step with the code: every key the agent's and the verifier's config parsers
# accept has an entry of its own in vmattest.conf(5) / vmattest-verifier.conf(5) (in its
# section), every rd.vmattest.* option `vmattest unlock` knows has one in vmattest-dracut(7),
# and every page renders without a groff or man warning. The keys come from the parsers' tables
# (agent/config.c, verifier/config.c), each confirmed by the built binaries (a key they do not
# know would be a bad extraction), and from the example configurations; the options from what
# `vmattest unlock` itself lists for an unknown one.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT_PAGE=$ROOT/agent/vmattest.conf.5
VERIFIER_PAGE=$ROOT/verifier/vmattest-verifier.conf.5
DRACUT_PAGE=$ROOT/initrd/vmattest-dracut.7
PAGES="$ROOT/agent/vmattest.8 $AGENT_PAGE $ROOT/verifier/vmattest-verifier.8 $VERIFIER_PAGE $DRACUT_PAGE
$ROOT/policy/vmattest-policy.1 $ROOT/host/vmattest-host.8"
plan 9

cd "$TEST_TMP" || exit 1

# the entries of a page: "SECTION KEY" for each ".TP" followed by ".B KEY" (or .BI/.BR; for
# an option, the name before its '='), SECTION being the .SS heading it is under
page_entries() {
        awk '/^\.SS / { section = $2 }
             prev == ".TP" && /^\.B[IR]? / { term = $2; sub(/=.*/, "", term); gsub(/\\/, "", term)
                                             print section, term }
             { prev = $0 }' "$1"
}

# agent keys: KEY(name, ...) and { "agent", "name", ... } in agent_keys[]
agent_source_keys() {
        sed -n '/^static const struct conf_key agent_keys\[\]/,/^};/p' "$ROOT/agent/config.c" |
                sed -n 's/^ *KEY(\([a-z0-9_]*\),.*/\1/p; s/^ *{ "agent", "\([a-z0-9_]*\)".*/\1/p'
}
# verifier keys as "[section] key": KEY("section", name, ...) and { "section", "name", ... }
verifier_source_keys() {
        sed -n '/^static const struct conf_key verifier_keys\[\]/,/^};/p' "$ROOT/verifier/config.c" |
                sed -n 's/^ *KEY("\([a-z]*\)", \([a-z0-9_]*\),.*/[\1] \2/p; s/^ *{ "\([a-z]*\)", "\([a-z0-9_]*\)".*/[\1] \2/p'
}
# the keys an example configuration names, set or commented out, as "[section] key"
example_keys() {
        awk '/^\[[a-z]+\]$/ { section = $1 }
             /^#? *[a-z][a-z0-9_]* *=/ { line = $0; sub(/^# */, "", line); sub(/ *=.*/, "", line)
                                        print section, line }' "$1" | sort -u
}

agent_source_keys | sort -u >agent-keys
verifier_source_keys | sort -u >verifier-keys
if [ "$(wc -l <agent-keys)" -ge 30 ] && [ "$(wc -l <verifier-keys)" -ge 20 ]; then
        ok "the parsers' tables give $(wc -l <agent-keys) agent and $(wc -l <verifier-keys) verifier keys"
else not_ok "the parsers' tables give too few keys: the extraction no longer matches config.c"; fi

# each extracted key is one the binaries take: `config --get` answers 2 only for an unknown key,
# and vmattest-verifier names an unknown key as such before anything else
printf '[agent]\n' >empty-agent.conf
unknown=
while read -r key; do
        "$VMATTEST" --config empty-agent.conf config --get "$key" >/dev/null 2>&1
        [ $? -ne 2 ] || unknown="$unknown $key"
done <agent-keys
while read -r section key; do
        printf '%s\n%s = @\n' "$section" "$key" >one.conf
        "$VMATTEST_VERIFIER" --config one.conf agents 2>&1 | grep -q 'unknown key' && unknown="$unknown $section$key"
done <verifier-keys
expect_equal "the binaries know every key extracted from the sources" "${unknown# }" ""

# the example configurations name no key the tables lack (a key a new table style would hide)
missing=$(comm -13 agent-keys <(example_keys "$ROOT/agent/agent.conf" | sed 's/^\[agent\] //'))
missing="$missing$(comm -13 verifier-keys <(example_keys "$ROOT/verifier/verifier.conf"))"
expect_equal "agent.conf and verifier.conf (the examples) name no key beyond the tables" "$missing" ""

# check_agent_page PAGE / check_verifier_page PAGE / check_dracut_page PAGE: the keys or
# options without an entry of their own, one a line
check_agent_page() { comm -23 agent-keys <(page_entries "$1" | awk '{ print $2 }' | sort -u); }
check_verifier_page() { comm -23 verifier-keys <(page_entries "$1" | sort -u); }
"$VMATTEST" --config empty-agent.conf unlock --cmdline <(echo rd.vmattest.not-an-option=1) >unlock.out 2>&1
sed -n 's/.*unknown option (known: \(.*\))$/\1/p' unlock.out | tr ',' '\n' | sed 's/^ *//; s/=0|1$//' |
        sort -u >options
check_dracut_page() { comm -23 options <(page_entries "$1" | awk '{ print $2 }' | sort -u); }
if grep -qx rd.vmattest.volume options && grep -qx rd.vmattest options; then
        ok "vmattest unlock lists its $(wc -l <options) kernel command line options"
else not_ok "vmattest unlock lists its kernel command line options"; diag <unlock.out; fi

expect_equal "vmattest.conf(5) has an entry for every agent key" "$(check_agent_page "$AGENT_PAGE")" ""
expect_equal "vmattest-verifier.conf(5) has an entry for every key, in its section" \
        "$(check_verifier_page "$VERIFIER_PAGE")" ""
expect_equal "vmattest-dracut(7) has an entry for every rd.vmattest option" "$(check_dracut_page "$DRACUT_PAGE")" ""

# the check itself: a page with one entry deleted fails it
sed '/^\.TP$/{N; /\n\.B unlock_timeout$/d}' "$AGENT_PAGE" >agent-page-cut
sed '/^\.TP$/{N; /\n\.B max_agents$/d}' "$VERIFIER_PAGE" >verifier-page-cut
sed '/^\.TP$/{N; /\n\.BI rd\.vmattest\.timeout= SECONDS$/d}' "$DRACUT_PAGE" >dracut-page-cut
expect_equal "a page without the entry of unlock_timeout, [registrar] max_agents or rd.vmattest.timeout fails" \
        "$(check_agent_page agent-page-cut) $(check_verifier_page verifier-page-cut) $(check_dracut_page dracut-page-cut)" \
        "unlock_timeout [registrar] max_agents rd.vmattest.timeout"

# groff and man find nothing to warn about (lintian's manpage checks run the same)
if ! command -v man >/dev/null; then
        ok "# SKIP man is not installed"
else
        warnings=
        for page in $PAGES; do
                out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
                [ -z "$out" ] || warnings="$warnings$(basename "$page"): $out"$'\n'
        done
        expect_equal "every man page renders without a warning" "$warnings" ""
fi
