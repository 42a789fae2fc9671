#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# ruleset-check: `moatctl ruleset check` as an operator meets it, no root,
# no moatd.  A good file, a file with a parse error, a file that parses but
# is over what the compiler can index (moatctl compiles it, as moatd
# would), the boundary just below that, a shadowed rule, bad command
# lines, and `ruleset apply` with no moatd to answer: each with its exit
# status and what it prints where.
#
# usage: ruleset-check.sh MOATCTL
set -u

CTL=${1:?usage: ruleset-check.sh MOATCTL}
TMP=$(mktemp -d /tmp/ruleset-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "ok: $1"; }
bad() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $1" >&2
	sed 's/^/    out: /' "$TMP/out" >&2
	sed 's/^/    err: /' "$TMP/err" >&2
}

# run WANT NAME ARGS...: moatctl ARGS must exit WANT; output in out, err
run() {
	local want=$1 name=$2 got=0
	shift 2
	"$CTL" "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
	if [ "$got" -eq "$want" ]; then pass "$name"; else bad "$name: exit $got, expected $want"; fi
}

# has FILE NAME PATTERN: the last run's FILE (out or err) matches PATTERN
has() {
	if grep -qE -- "$3" "$TMP/$1"; then pass "$2"; else bad "$2: no /$3/ in $1"; fi
}

# lines FILE NAME N: the last run's FILE has exactly N lines
lines() {
	local n
	n=$(wc -l <"$TMP/$1")
	if [ "$n" -eq "$3" ]; then pass "$2"; else bad "$2: $n lines in $1, expected $3"; fi
}

cat >"$TMP/good.rules" <<'EOF'
policy drop
allow ssh   tcp from 203.0.113.0/24, 2001:db8::/32 dport 22
allow web   tcp dport 80, 443
drop  bad   from 198.51.100.0/24
EOF
run 0 "good: exit 0" ruleset check "$TMP/good.rules"
has out "good: says how many rules" "^$TMP/good.rules: 3 rules OK$"
lines err "good: nothing on stderr" 0

sed 's/dport 22$/dport 70000/' "$TMP/good.rules" >"$TMP/port.rules"
run 1 "port above 65535: exit 1" ruleset check "$TMP/port.rules"
has err "port above 65535: file:line:col and the word" \
	"^$TMP/port.rules:2:[0-9]+: error: .*'70000'"
lines out "port above 65535: nothing on stdout" 0

# 253 protocols (all but ICMP, TCP and ICMPv6, which an IPv4 /8 leaves
# without a term or which take flags below) and three TCP rules with
# different flags, all to one /8 and no port: no rule covers another, the
# /8 spills them into the list that every packet reads, and 256 terms are
# one more than a list holds.  Parsing finds nothing wrong.
{
	echo "policy allow"
	for n in $(seq 0 255); do
		case $n in 1 | 6 | 58) continue ;; esac
		echo "drop p$n proto $n to 10.0.0.0/8"
	done
	echo "drop s1 tcp to 10.0.0.0/8 flags syn"
	echo "drop s2 tcp to 10.0.0.0/8 flags ack"
} >"$TMP/full.rules"
run 0 "255 terms in one list: exit 0" ruleset check "$TMP/full.rules"
has out "255 terms in one list: OK" "^$TMP/full.rules: 255 rules OK$"

{
	cat "$TMP/full.rules"
	echo "drop s3 tcp to 10.0.0.0/8 flags fin"
} >"$TMP/over.rules"
run 1 "256 terms in one list: exit 1" ruleset check "$TMP/over.rules"
has err "256 terms in one list: over capacity, said so" \
	"^$TMP/over.rules: error: over capacity: more than 255 terms"
lines out "256 terms in one list: no OK on stdout" 0
run 1 "256 terms, --json: exit 1" --json ruleset check "$TMP/over.rules"
if jq -e '.ok == false and .rules == 0 and
	(.diags | map(select(.severity == "error")) | length) == 1' "$TMP/out" >/dev/null; then
	pass "256 terms, --json: ok false, one error"
else
	bad "256 terms, --json: ok false, one error"
fi

{
	cat "$TMP/good.rules"
	echo "allow ssh2  tcp from 203.0.113.0/25 dport 22"
} >"$TMP/shadow.rules"
run 0 "shadowed rule: still exit 0" ruleset check "$TMP/shadow.rules"
has err "shadowed rule: warned at its line" \
	"^$TMP/shadow.rules:5:1: warning: rule 'ssh2' can never match: rule 'ssh' \\(line 2\\)"

run 0 "standard input" ruleset check - <"$TMP/good.rules"
has out "standard input: 3 rules OK" "3 rules OK$"
run 1 "a missing file: exit 1" ruleset check "$TMP/nope.rules"
has err "a missing file: says which" "nope.rules"
run 2 "no file: usage error" ruleset check
run 2 "an unknown option: usage error" ruleset check --bogus "$TMP/good.rules"
run 2 "an unknown subcommand without a file: usage error" ruleset bogus
has err "an unknown subcommand is named as such, not as a missing file" \
	"unknown subcommand 'bogus'"

# apply with no moatd to answer: a broken file still gets its errors (moatctl
# parses it beside the call), a good one says moatd is not there
run 1 "apply, no moatd, broken file: exit 1" -s "$TMP/none.sock" ruleset apply "$TMP/port.rules"
has err "apply, no moatd, broken file: the parse's error" \
	"^$TMP/port.rules:2:[0-9]+: error: .*'70000'"
has err "apply, no moatd, broken file: nothing was applied" \
	"the ruleset has errors; nothing was applied"
run 1 "apply, no moatd, --json broken file: exit 1" --json -s "$TMP/none.sock" ruleset apply "$TMP/port.rules"
if jq -e '.ok == false and (.diags | map(select(.severity == "error")) | length) == 1' \
	"$TMP/out" >/dev/null; then
	pass "apply, no moatd, --json broken file: ok false, the error"
else
	bad "apply, no moatd, --json broken file: ok false, the error"
fi
run 1 "apply, no moatd, good file: exit 1" -s "$TMP/none.sock" ruleset apply "$TMP/good.rules"
has err "apply, no moatd, good file: moatd is not running" "moatd is not running"
run 2 "apply from standard input: usage error" ruleset apply -

echo "tests: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
