#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-unused: `moatctl rules --unused` against real traffic.
#
# Two network namespaces joined by a veth pair, client (cli0) and server
# (srv0); moatd, started here from the build, protects srv0.  The client
# sends frames that match some rules of the ruleset and none that match the
# others: --unused must list exactly the others, in rule order, and never a
# fixed row, although (non-ip) and (malformed) count nothing here either.
#
# Then a ruleset that keeps some names, changes the match of one, removes
# one and adds one.  A rule keeps its counter and its applied time while its
# name stays, so the kept unused rules must still show generation 1's
# applied time, the new rule the time of generation 2, and --min-age must
# tell the old from the new.  Traffic to every listed rule empties the
# list, and the exit status stays 0.  Last, moatd restarts and the first
# ruleset comes back: the applied times come through the restart, and the
# rule that was removed and is back starts over.
#
# No servers: the program counts a frame when srv0 receives it, whether or
# not a socket takes it; what srv0 answers leaves by srv0 and is not seen.
# IPv6 stays off (kt_netns): only ARP reaches the program unasked, and ARP
# is a fixed row.
#
# usage: kt-unused.sh MOATD MOATCTL
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_moatd_args "$@"

kt_require_kernel ip nsenter socat ping jq timeout
kt_init

CLI=$(kt_name ktuc)
SRV=$(kt_name ktus)
INST=$(kt_name ktunused)
TMP=$(kt_tmpdir kt-unused)
kt_keep_dir "$TMP"
kt_instance "$INST"

SRV4=10.91.0.2
# seconds between the two applies: the kept rules are at least this old
# when generation 2 is read, the new one is not
GAP=3

# table ARGS...: `moatctl rules --unused ARGS` for people: stdout in
# $TMP/table.out, stderr in $TMP/table.err, the exit status in STATUS
table() {
	STATUS=0
	mctl rules --unused "$@" >"$TMP/table.out" 2>"$TMP/table.err" || STATUS=$?
}

setup_net() {
	kt_veth_pair
	ip -n "$CLI" addr add 10.91.0.1/24 dev cli0
	ip -n "$SRV" addr add "$SRV4/24" dev srv0
	ip -n "$SRV" link set srv0 up
	ip -n "$CLI" link set cli0 up
}

# Every packet through the rules: the counts below are the rules' own
# (with conntrack, the pings after the first would pass as established);
# kt-ct and kt-conntrack test conntrack.
start_moatd() {
	kt_moatd_start "$TMP/gen1.rules" "conntrack no"
}

cat >"$TMP/gen1.rules" <<'EOF'
policy drop
allow ping    icmp type echo-request
allow dns     udp dport 5353
allow web     tcp dport 8080
drop  telnet  tcp dport 23
allow ntp     udp dport 123
EOF

# ping and dns stay; web takes 9090 too, under the same name; telnet
# stays; ntp goes; ssh is new.
cat >"$TMP/gen2.rules" <<'EOF'
policy drop
allow ping    icmp type echo-request
allow dns     udp dport 5353
allow web     tcp dport 8080, 9090
drop  telnet  tcp dport 23
allow ssh     tcp dport 22
EOF

# --- traffic -------------------------------------------------------------------

# udp_send PORT N: N datagrams to the server, one frame each
udp_send() {
	local i
	for i in $(seq "$2"); do
		echo "$i" | in_cli socat -u - "UDP4-SENDTO:$SRV4:$1"
	done
}

# tcp_knock PORT: a connection attempt; refused (no server) or dropped,
# either way its SYN reaches the program
tcp_knock() {
	in_cli timeout 5 socat -u /dev/null "TCP4:$SRV4:$1,connect-timeout=1" 2>/dev/null || true
}

# --- reading moatctl -----------------------------------------------------------

# unused ARGS...: `moatctl rules --unused --json ARGS`, into UNUSED
unused() {
	UNUSED=$(mctl rules --unused --json "$@")
}

# the names UNUSED lists, in its order, on one line
names() {
	jq -r '[.rules[].name] | join(" ")' <<<"$UNUSED"
}

# field NAME KEY [JSON]: KEY of rule NAME in JSON (default UNUSED), as
# moatctl wrote it.  Not through jq: jq 1.6 reads numbers as doubles, and
# applied_ns has 19 digits.
field() {
	grep -o "{\"name\":\"$1\"[^}]*}" <<<"${3:-$UNUSED}" | grep -o "\"$2\":[^,}]*" | cut -d: -f2
}

# time_ns of UNUSED, the same way
time_ns() {
	grep -o '"time_ns":[0-9]*' <<<"$UNUSED" | cut -d: -f2
}

# applied_ns of the running generation, the same way
generation_applied_ns() {
	mctl --json status | grep -o '"applied_ns":[0-9]*' | cut -d: -f2
}

# packets of row NAME in `moatctl rules --json`
packets() {
	mctl --json rules | jq -r --arg n "$1" '.rules[] | select(.name == $n) | .packets'
}

# apply FILE: moatctl ruleset apply FILE, its stderr in $TMP/apply.err
apply() {
	mctl ruleset apply "$1" >/dev/null 2>"$TMP/apply.err"
}

# --- the test ------------------------------------------------------------------

setup_net
if ! kt_check "moatd starts and answers on its socket" "its log is above" start_moatd; then
	kt_done || exit 1
fi
GEN1_NS=$(generation_applied_ns)
kt_check "generation 1 has an applied time" "'$GEN1_NS'" test "${GEN1_NS:-0}" -gt 0

echo "# generation 1: traffic for ping and dns only"
in_cli ping -c 3 -i 0.2 -W 2 -q "$SRV4" >/dev/null
udp_send 5353 4
sleep 0.3 # the last frames on their way through the veth
# The list below means something only if the traffic arrived, and if
# there are fixed rows of no packets to leave out.
kt_eq "gen 1: ping counted the 3 echo requests" 3 "$(packets ping)"
kt_eq "gen 1: dns counted the 4 datagrams" 4 "$(packets dns)"
kt_eq "gen 1: (non-ip) counted nothing" 0 "$(packets non-ip)"
kt_eq "gen 1: (malformed) counted nothing" 0 "$(packets malformed)"

rm -f "/run/moat/$INST/rules.last"
kt_check "gen 1: --unused --json exits 0" "see stderr" unused
kt_eq "gen 1: --unused lists web, telnet, ntp in rule order, no fixed row" \
	"web telnet ntp" "$(names)"
kt_eq "gen 1: their actions" "allow drop allow" "$(jq -r '[.rules[].action] | join(" ")' <<<"$UNUSED")"
kt_eq "gen 1: rules_total counts the 5 rules, not the fixed rows" 5 "$(jq -r .rules_total <<<"$UNUSED")"
kt_eq "gen 1: no --min-age, nothing left out" "0 0" "$(jq -r '"\(.min_age_s) \(.unused_younger)"' <<<"$UNUSED")"
kt_eq "gen 1: the generation" 1 "$(jq -r .generation <<<"$UNUSED")"
# every rule of generation 1 appeared with it: one apply, one time
for r in web telnet ntp; do
	kt_eq "gen 1: $r applied when generation 1 was" "$GEN1_NS" "$(field $r applied_ns)"
done
TIME_NS=$(time_ns)
kt_check "gen 1: age_s is whole seconds from applied_ns to time_ns" \
	"age_s $(field web age_s), applied $GEN1_NS, time $TIME_NS" \
	test "$(field web age_s)" -eq $(((TIME_NS - GEN1_NS) / 1000000000))
kt_check "gen 1: --unused leaves rules.last to the reads with rates" \
	"/run/moat/$INST/rules.last was written" test ! -e "/run/moat/$INST/rules.last"

table
kt_eq "gen 1: table: exit 0" 0 "$STATUS"
kt_eq "gen 1: table: header" "RULE ACTION AGE APPLIED" "$(head -1 "$TMP/table.out" | tr -s ' ')"
kt_eq "gen 1: table: the same rules" "web telnet ntp" "$(tail -n +2 "$TMP/table.out" | awk '{ print $1 }' | paste -sd' ')"
kt_eq "gen 1: table: the count on stderr" "3 of 5 rules unused" "$(cat "$TMP/table.err")"

echo "# generation 2, $GAP s later: web changed, ntp removed, ssh added"
sleep "$GAP"
BEFORE_NS=$(date +%s%N)
kt_check "apply gen2.rules" "see $TMP/apply.err" apply "$TMP/gen2.rules"
AFTER_NS=$(date +%s%N)
GEN2_NS=$(generation_applied_ns)

unused
# dns is still not listed: its 4 datagrams stayed with its name
kt_eq "gen 2: --unused lists web, telnet, ssh; ntp went with its rule" \
	"web telnet ssh" "$(names)"
kt_eq "gen 2: the generation" 2 "$(jq -r .generation <<<"$UNUSED")"
kt_eq "gen 2: web keeps generation 1's time, its match changed under the same name" \
	"$GEN1_NS" "$(field web applied_ns)"
kt_eq "gen 2: telnet keeps generation 1's time" "$GEN1_NS" "$(field telnet applied_ns)"
kt_eq "gen 2: ssh is as new as generation 2" "$GEN2_NS" "$(field ssh applied_ns)"
kt_check "gen 2: ssh was applied during the apply" \
	"$BEFORE_NS <= $(field ssh applied_ns) <= $AFTER_NS" \
	test "$BEFORE_NS" -le "$(field ssh applied_ns)" -a "$(field ssh applied_ns)" -le "$AFTER_NS"
kt_check "gen 2: web is at least $GAP s old" "age_s $(field web age_s)" test "$(field web age_s)" -ge "$GAP"
kt_check "gen 2: ssh is younger than $GAP s" "age_s $(field ssh age_s)" test "$(field ssh age_s)" -lt "$GAP"

unused --min-age "${GAP}s"
kt_eq "gen 2: --min-age ${GAP}s leaves ssh out" "web telnet" "$(names)"
kt_eq "gen 2: --min-age ${GAP}s: its seconds, and the one left out" "$GAP 1" \
	"$(jq -r '"\(.min_age_s) \(.unused_younger)"' <<<"$UNUSED")"
table --min-age "${GAP}s"
kt_eq "gen 2: --min-age ${GAP}s: the count on stderr" \
	"2 of 5 rules unused and in place for at least ${GAP}s (1 more unused, in place for less)" \
	"$(cat "$TMP/table.err")"

echo "# traffic for web's new port"
tcp_knock 9090
sleep 0.3
unused
kt_eq "gen 2: web is off the list after its first packet" "telnet ssh" "$(names)"

# two refreshes or more before the interrupt, each the same list
# (nsenter execs moatctl: the SIGINT is moatctl's)
WATCH_STATUS=0
timeout -s INT --preserve-status 1.8 nsenter --net="/run/netns/$SRV" \
	"$MOATCTL" -i "$INST" rules --unused --json --watch 0.5 >"$TMP/watch.out" || WATCH_STATUS=$?
kt_eq "--watch: Ctrl-C ends it with status 0" 0 "$WATCH_STATUS"
kt_check "--watch: two refreshes or more" "$(wc -l <"$TMP/watch.out") lines" \
	test "$(wc -l <"$TMP/watch.out")" -ge 2
kt_eq "--watch: each refresh lists telnet and ssh" "telnet ssh" \
	"$(jq -r '[.rules[].name] | join(" ")' "$TMP/watch.out" | sort -u)"

echo "# traffic for the rest"
tcp_knock 23
tcp_knock 22
sleep 0.3
kt_check "all used: --unused --json exits 0" "see stderr" unused
kt_eq "all used: an empty list" "" "$(names)"
table
kt_eq "all used: the table exits 0 too" 0 "$STATUS"
kt_eq "all used: nothing on stdout, not even the header" "" "$(cat "$TMP/table.out")"
kt_eq "all used: the count on stderr" "0 of 5 rules unused" "$(cat "$TMP/table.err")"

echo "# moatd restarts, then gen1.rules again"
# The restarted moatd adopts what is pinned, generation 2 with each name's
# slot, counter and applied time; the apply that follows keeps them.
kill -TERM "$MOATD_PID"
wait "$MOATD_PID" || true
kt_check "moatd starts again" "see $TMP/moatd.log" start_moatd
kt_eq "restart: generation 2 adopted" 2 "$(mctl --json status | jq -r .generation.generation)"
kt_eq "restart: web keeps generation 1's time" "$GEN1_NS" "$(field web applied_ns "$(mctl --json rules)")"
BEFORE_NS=$(date +%s%N)
kt_check "apply gen1.rules: generation 3" "see $TMP/apply.err" apply "$TMP/gen1.rules"
ALL=$(mctl --json rules)
kt_eq "gen 3: web keeps generation 1's time through a restart and two applies" \
	"$GEN1_NS" "$(field web applied_ns "$ALL")"
kt_eq "gen 3: telnet keeps generation 1's time" "$GEN1_NS" "$(field telnet applied_ns "$ALL")"
unused
# the others had packets, and their counters came through the restart
kt_eq "gen 3: only ntp is unused, back after generation 2 removed it" "ntp" "$(names)"
kt_check "gen 3: ntp starts over: applied with generation 3, not 1" \
	"$BEFORE_NS <= $(field ntp applied_ns)" test "$BEFORE_NS" -le "$(field ntp applied_ns)"

echo "# bad command lines"
kt_eq "--min-age 10x: exit 2" 2 "$(mctl rules --unused --min-age 10x 2>"$TMP/usage.err" >/dev/null; echo $?)"
kt_check "--min-age 10x: the message quotes it" "$(cat "$TMP/usage.err")" grep -q "not '10x'" "$TMP/usage.err"
kt_eq "--min-age without --unused: exit 2" 2 "$(mctl rules --min-age 7d 2>/dev/null >/dev/null; echo $?)"

kt_done
