#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-conntrack: the stateful firewall end to end, with real traffic.
#
# Two network namespaces joined by a veth pair: a host (srv0) that moatd
# protects with "policy drop" and one inbound rule, and a peer (cli0)
# with TCP, UDP and ICMP services of its own.  The host opens connections
# out, over IPv4 and IPv6: their replies must come back although no rule
# allows them (conntrack's egress program learns the flows, and "allow
# established" passes their packets).  What the peer opens must not get
# in, except the one service a rule allows.  An established connection
# survives ruleset applies.  "classify established" sends replies through
# the rules again, where a "ct established" rule can let them in.
# moatctl conntrack lists and flushes the flows; status shows the table.
#
# usage: kt-conntrack.sh MOATD MOATCTL
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_moatd_args "$@"

kt_require_kernel ip nsenter socat ping jq ss timeout tc
kt_init

# moatd protects the host (kt-moatd.sh's SRV, srv0); the peer is CLI
SRV=$(kt_name ktch)
CLI=$(kt_name ktcp)
HOST=$SRV
PEER=$CLI
INST=$(kt_name ktct)
TMP=$(kt_tmpdir kt-conntrack)
kt_keep_dir "$TMP"
kt_instance "$INST"

HOST4=10.91.0.2
PEER4=10.91.0.1
HOST6=fd00:91::2
PEER6=fd00:91::1
CT=yes # conntrack in moatd.conf
CTMAX=4096

in_host() {
	ip netns exec "$HOST" "$@"
}

setup_net() {
	kt_veth_pair
	in_cli sysctl -qw net.ipv6.conf.cli0.disable_ipv6=0
	in_host sysctl -qw net.ipv6.conf.srv0.disable_ipv6=0
	ip -n "$PEER" addr add "$PEER4/24" dev cli0
	ip -n "$PEER" addr add "$PEER6/64" dev cli0 nodad
	ip -n "$HOST" addr add "$HOST4/24" dev srv0
	ip -n "$HOST" addr add "$HOST6/64" dev srv0 nodad
	ip -n "$PEER" link set cli0 up
	ip -n "$HOST" link set srv0 up
	# veth drops what XDP passes up unless the peer side can take it
	in_cli ethtool -K cli0 gro on >/dev/null 2>&1 || true
}

# Echo services, dual-stack: TCP 8080 and UDP 5353 on the peer; TCP
# 9090 (no rule lets it in) and 2222 (rule ssh) and UDP 6000 on the host.
start_servers() {
	in_cli socat TCP6-LISTEN:8080,ipv6only=0,reuseaddr,fork EXEC:cat &
	kt_bg $!
	in_cli socat UDP6-RECVFROM:5353,ipv6only=0,fork EXEC:cat &
	kt_bg $!
	in_host socat TCP6-LISTEN:9090,ipv6only=0,reuseaddr,fork EXEC:cat &
	kt_bg $!
	in_host socat TCP6-LISTEN:2222,ipv6only=0,reuseaddr,fork EXEC:cat &
	kt_bg $!
	in_host socat UDP6-RECVFROM:6000,ipv6only=0,fork EXEC:cat &
	kt_bg $!
	kt_wait 5 kt_listening "$PEER" tcp 8080
	kt_wait 5 kt_listening "$PEER" udp 5353
	kt_wait 5 kt_listening "$HOST" tcp 9090
	kt_wait 5 kt_listening "$HOST" tcp 2222
	kt_wait 5 kt_listening "$HOST" udp 6000
}

start_moatd() {
	kt_moatd_start "$TMP/gen1.rules" "conntrack $CT" "conntrack-max $CTMAX"
}

# tcp_echo NS 4|6 ADDR PORT WORD: what comes back ("" when nothing does)
tcp_echo() {
	printf '%s\n' "$5" |
		ip netns exec "$1" timeout 10 socat -t 2 - "TCP$2:$3:$4,connect-timeout=2" 2>/dev/null || true
}

# udp_echo NS 4|6 ADDR PORT WORD: the reply to one datagram
udp_echo() {
	printf '%s\n' "$5" |
		ip netns exec "$1" timeout 5 socat -T 2 - "UDP$2:$3:$4" 2>/dev/null || true
}

# pings NS ADDR: how many of 3 echo requests were answered
pings() {
	ip netns exec "$1" ping -n -c 3 -i 0.2 -W 1 "$2" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# flows JQFILTER: how many flows of `moatctl conntrack --json` match
flows() {
	mctl conntrack --json | jq "[.flows[] | select($1)] | length"
}

row() {
	mctl --json rules | jq -r ".rules[] | select(.name == \"$1\") | .packets"
}

setup_net
start_servers

cat >"$TMP/gen1.rules" <<EOF
policy drop
allow ssh tcp dport 2222
EOF
start_moatd

echo "# the host opens flows: their replies come back without a rule"
kt_eq "status: conntrack on, 4096 flows" 4096 "$(mctl --json status | jq -r .conntrack.max)"
kt_check "egress program on srv0" "no tc egress filter" \
	sh -c "ip netns exec $HOST tc filter show dev srv0 egress | grep -q moat_egress"
kt_eq "tcp out $PEER4:8080 echoes" one "$(tcp_echo "$HOST" 4 $PEER4 8080 one)"
kt_eq "tcp out [$PEER6]:8080 echoes" two "$(tcp_echo "$HOST" 6 "[$PEER6]" 8080 two)"
kt_eq "udp out $PEER4:5353 gets its reply" three "$(udp_echo "$HOST" 4 $PEER4 5353 three)"
kt_eq "udp out [$PEER6]:5353 gets its reply" four "$(udp_echo "$HOST" 6 "[$PEER6]" 5353 four)"
kt_eq "ping $PEER4: 3 of 3 answered" 3 "$(pings "$HOST" $PEER4)"
kt_eq "ping $PEER6: 3 of 3 answered" 3 "$(pings "$HOST" $PEER6)"

echo "# the peer opens flows: only what a rule allows gets in"
kt_eq "tcp in $HOST4:9090 dropped" "" "$(tcp_echo "$PEER" 4 $HOST4 9090 five)"
kt_eq "tcp in [$HOST6]:9090 dropped" "" "$(tcp_echo "$PEER" 6 "[$HOST6]" 9090 six)"
kt_eq "udp in $HOST4:6000 dropped" "" "$(udp_echo "$PEER" 4 $HOST4 6000 seven)"
kt_eq "ping from the peer: 0 of 3 answered" 0 "$(pings "$PEER" $HOST4)"
kt_eq "tcp in $HOST4:2222 echoes (rule ssh)" eight "$(tcp_echo "$PEER" 4 $HOST4 2222 eight)"
# the handshake's SYN is ssh's; every later packet of the flow is established
kt_eq "rule ssh counted only the SYN" 1 "$(row ssh)"
kt_check "established row counted the flows' packets" "established row $(mctl --json rules | jq -c '.rules[] | select(.name == "established")')" \
	test "$(mctl --json rules | jq -r '.rules[] | select(.name == "established") | .packets')" -gt 10

echo "# the table"
kt_check "tcp out to 8080 listed, opened by the host" "$(mctl conntrack)" \
	test "$(flows '.proto == "tcp" and .dport == 8080 and .opened == "out" and .dst == "'$PEER4'"')" = 1
kt_check "tcp in to 2222 listed, opened by the peer, replied" "$(mctl conntrack)" \
	test "$(flows '.proto == "tcp" and .dport == 2222 and .opened == "in" and .replied')" = 1
kt_check "udp flows replied" "$(mctl conntrack)" \
	test "$(flows '.proto == "udp" and .dport == 5353 and .state == "replied"')" = 2
kt_check "echo flows, v4 and v6" "$(mctl conntrack)" \
	test "$(flows '.proto == "icmp" or .proto == "icmpv6"')" -ge 2
kt_check "nothing the peer was refused is in the table" "$(mctl conntrack)" \
	test "$(flows '.dport == 9090 or .dport == 6000')" = 0
kt_check "--addr and --proto filter the table" "$(mctl conntrack --addr $PEER6 --proto udp)" \
	test "$(mctl conntrack --json --addr "$PEER6" --proto udp | jq '.count')" = 1
ENTRIES=$(mctl --json status | jq -r .conntrack.entries)
kt_check "status counts the entries" "entries $ENTRIES" test "$ENTRIES" -ge 7
kt_eq "status: nothing evicted" 0 "$(mctl --json status | jq -r .conntrack.evicted)"
mctl status | grep -q '^conntrack: .* of 4096 flows' ||
	kt_check "status shows the table" "$(mctl status)" false
FC=$(mctl --json status | jq -c .flow_cache)
kt_eq "status: every flow cache miss stored or held" true \
	"$(echo "$FC" | jq '(.misses | type) == "number" and .misses == .filled + .evicted + .held')"
mctl status | grep -q '^flow cache: ' ||
	kt_check "status shows the flow cache" "$(mctl status)" false

echo "# an established connection survives applies"
coproc LONG { in_host socat - "TCP4:$PEER4:8080"; }
echo first >&"${LONG[1]}"
read -r -t 5 got <&"${LONG[0]}" || got=""
kt_eq "long-lived connection: first echo" first "$got"
cat >"$TMP/gen2.rules" <<EOF
policy drop
allow ssh   tcp dport 2222
drop  noise udp dport 9
EOF
mctl ruleset apply "$TMP/gen2.rules" >/dev/null
echo second >&"${LONG[1]}"
read -r -t 5 got <&"${LONG[0]}" || got=""
kt_eq "long-lived connection: echo after an apply" second "$got"

echo "# moatd killed and restarted: the table and its flows stay"
BEFORE=$(mctl --json status | jq -r .conntrack.entries)
kill -9 "$MOATD_PID"
wait "$MOATD_PID" 2>/dev/null || true
echo during >&"${LONG[1]}"
read -r -t 5 got <&"${LONG[0]}" || got=""
kt_eq "moatd dead: the established connection still echoes" during "$got"
kt_eq "moatd dead: a new outbound flow still gets its reply" dead "$(udp_echo "$HOST" 4 $PEER4 5353 dead)"
kt_check "moatd dead: moatctl conntrack reads the pinned table" "$(mctl conntrack 2>&1)" \
	test "$(mctl conntrack --json | jq .count)" -ge "$BEFORE"
start_moatd
echo after >&"${LONG[1]}"
read -r -t 5 got <&"${LONG[0]}" || got=""
kt_eq "new moatd: the connection still echoes" after "$got"
kt_check "new moatd: adopted the table (no flow lost)" "$(mctl conntrack 2>&1)" \
	test "$(mctl --json status | jq -r .conntrack.entries)" -ge "$BEFORE"
kt_eq "new moatd: still the 4096-flow table" 4096 "$(mctl --json status | jq -r .conntrack.max)"

echo "# classify established: replies go through the rules"
cat >"$TMP/gen3.rules" <<EOF
policy drop
classify established
allow ssh tcp dport 2222
EOF
mctl ruleset apply "$TMP/gen3.rules" >/dev/null
echo third >&"${LONG[1]}"
read -r -t 2 got <&"${LONG[0]}" || got=""
kt_eq "long-lived connection: no echo (no rule for it)" "" "$got"
kt_eq "tcp out $PEER4:8080: no reply gets in" "" "$(tcp_echo "$HOST" 4 $PEER4 8080 nine)"
cat >"$TMP/gen4.rules" <<EOF
policy drop
classify established
allow back ct established, related
allow ssh  tcp dport 2222
EOF
mctl ruleset apply "$TMP/gen4.rules" >/dev/null
kt_eq "ct established rule: tcp out echoes again" ten "$(tcp_echo "$HOST" 4 $PEER4 8080 ten)"
# TCP retransmits "third" now that its ACK can get back
read -r -t 5 got <&"${LONG[0]}" || got=""
kt_eq "long-lived connection: the held echo arrives" third "$got"
kt_check "rule back counted the replies" "back $(row back)" test "$(row back)" -gt 0
kt_eq "ct established rule: ping from the peer still 0 of 3" 0 "$(pings "$PEER" $HOST4)"
eval "exec ${LONG[1]}>&-" # the long connection ends

echo "# verdict logs"
cat >"$TMP/gen5.rules" <<EOF
policy drop
allow ssh    tcp dport 2222
allow udplog udp dport 6000 log
EOF
mctl ruleset apply "$TMP/gen5.rules" >/dev/null
mctl log --json --count 3 --duration 20 >"$TMP/log.json" 2>"$TMP/log.err" &
LOGPID=$!
kt_bg $LOGPID
sleep 1
for w in l1 l2 l3; do
	udp_echo "$PEER" 4 $HOST4 6000 "$w" >/dev/null
done
wait "$LOGPID" || true
kt_eq "moatctl log: 3 events, one per new flow" 3 "$(wc -l <"$TMP/log.json")"
kt_eq "moatctl log: rule, verdict, port, source" "udplog allow 6000 $PEER4" \
	"$(head -1 "$TMP/log.json" | jq -r '"\(.rule) \(.verdict) \(.dport) \(.src)"')"
mctl log --json --rate 2 --duration 3 >"$TMP/log2.json" 2>"$TMP/log2.err" &
LOGPID=$!
kt_bg $LOGPID
sleep 0.5
for w in $(seq 20); do
	printf 'x%s\n' "$w" | in_cli socat -u - "UDP4-SENDTO:$HOST4:6000"
done
wait "$LOGPID" || true
SHOWN=$(wc -l <"$TMP/log2.json")
kt_check "moatctl log --rate 2: at most 2 events a second shown" "shown $SHOWN" \
	test "$SHOWN" -ge 2 -a "$SHOWN" -le 8
kt_check "moatctl log --rate 2: says how many it left out" "$(cat "$TMP/log2.err")" \
	grep -q "events not shown (over --rate 2/s)" "$TMP/log2.err"
kt_eq "log --rate 0: usage error, exit 2" 2 "$(mctl log --rate 0 >/dev/null 2>&1; echo $?)"

echo "# flush"
N=$(mctl conntrack --json --proto icmp | jq .count)
kt_check "icmp flows to flush" "count $N" test "$N" -ge 1
kt_eq "flush --proto icmp says how many" "flushed $N flow$([ "$N" = 1 ] || echo s)" "$(mctl conntrack flush --proto icmp)"
kt_eq "no icmp flow left" 0 "$(flows '.proto == "icmp"')"
kt_eq "status counts the flushed" "$N" "$(mctl --json status | jq -r .conntrack.flushed)"
mctl conntrack flush >/dev/null
kt_eq "flush: the table is empty" 0 "$(mctl conntrack --json | jq .count)"
kt_eq "bad --state: usage error, exit 2" 2 "$(mctl conntrack --state bogus >/dev/null 2>&1; echo $?)"

echo "# conntrack no: the table and the egress program go"
kill "$MOATD_PID"
wait "$MOATD_PID" 2>/dev/null || true
CT=no
cp "$TMP/gen2.rules" "$TMP/gen1.rules"
start_moatd
kt_eq "conntrack no: status says off" false "$(mctl --json status | jq -r .conntrack.enabled)"
kt_eq "conntrack no: moatctl conntrack refuses, exit 1" 1 "$(mctl conntrack >/dev/null 2>&1; echo $?)"
kt_check "conntrack no: no egress program on srv0" "$(in_host tc filter show dev srv0 egress)" \
	sh -c "! ip netns exec $HOST tc filter show dev srv0 egress | grep -q moat_egress"
kt_check "conntrack no: the pinned table is gone" "$(ls "$KT_BPFFS/moat/$INST")" \
	test ! -e "$KT_BPFFS/moat/$INST/ct"
kt_eq "conntrack no: replies to the host's flows are dropped (policy drop)" "" \
	"$(tcp_echo "$HOST" 4 $PEER4 8080 stateless)"

echo "# a full table: moatd says so in its log"
kill "$MOATD_PID"
wait "$MOATD_PID" 2>/dev/null || true
CT=yes
CTMAX=1024
start_moatd
kt_eq "a new table of 1024 flows" 1024 "$(mctl --json status | jq -r .conntrack.max)"
in_host bash -c "for i in \$(seq 1500); do echo x >/dev/udp/$PEER4/7; done" 2>/dev/null || true
kt_check "moatd logs the evictions" "see $TMP/moatd.log" \
	kt_wait 15 grep -q "conntrack table full: at least" "$TMP/moatd.log"
kt_check "status counts them" "$(mctl status | grep -A1 '^conntrack:')" \
	test "$(mctl --json status | jq -r .conntrack.evicted)" -ge 476
mctl status | grep -q "warning: the table is under pressure" ||
	kt_check "status warns of the pressure" "$(mctl status)" false

kt_check "moatd still running" "see $TMP/moatd.log" kt_moatd_running
kt_done
