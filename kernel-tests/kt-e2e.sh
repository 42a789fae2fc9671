#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-e2e: moatd and moatctl end to end, with real traffic.
#
# Two network namespaces joined by a veth pair, client (cli0) and server
# (srv0).  moatd, started here from the build, protects srv0; the client
# talks to the server with ping, socat and the kernel's own sockets over
# IPv4 and IPv6: what the ruleset allows must get through, what it drops
# must not.
#
# Exact counters.  Every frame cli0 transmits reaches srv0's XDP program,
# and no other frame does (the program sees srv0's receive side only).
# An nftables netdev egress chain on cli0 sorts the same frames by the
# same meaning, written independently in nft: the fixed verdicts first,
# then the ruleset's rules in order, then the policy, each into a counter
# named after its moat row.  Every row of `moatctl --json rules` must
# equal its nft twin, packets and bytes, whatever the kernel chose to send
# on its own (ARP, neighbour discovery, MLD reports, retransmitted SYNs).
# cli0 stays down until both ends count, so both start from zero.  Rows
# whose count the test knows by itself (3 pings, 5 datagrams) are also
# checked against that number.
#
# Then a changed ruleset is applied (new generation, counters follow rule
# names, traffic meets the new rules) and a broken one (refused with
# file:line:col, nothing changes).
#
# usage: kt-e2e.sh MOATD MOATCTL
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_moatd_args "$@"

kt_require_kernel ip nsenter nft socat ping jq ss timeout
kt_init

CLI=$(kt_name ktec)
SRV=$(kt_name ktes)
INST=$(kt_name kte2e)
TMP=$(kt_tmpdir kt-e2e)
kt_keep_dir "$TMP"
kt_instance "$INST"

SRV4=10.90.0.2
SRV6=fd00:90::2

# --- the network -----------------------------------------------------------

setup_net() {
	kt_veth_pair
	# IPv6 on this pair only: the test accounts for what the kernel sends
	in_cli sysctl -qw net.ipv6.conf.cli0.disable_ipv6=0
	ip netns exec "$SRV" sysctl -qw net.ipv6.conf.srv0.disable_ipv6=0
	ip -n "$CLI" addr add 10.90.0.1/24 dev cli0
	ip -n "$CLI" addr add fd00:90::1/64 dev cli0 nodad
	ip -n "$SRV" addr add "$SRV4/24" dev srv0
	ip -n "$SRV" addr add "$SRV6/64" dev srv0 nodad
	ip -n "$SRV" link set srv0 up
}

# TCP echo servers on 8080 and 9090, UDP sinks on 5353 and 6000 (each
# datagram a line in a file), all dual-stack.
start_servers() {
	local port
	for port in 8080 9090; do
		ip netns exec "$SRV" socat "TCP6-LISTEN:$port,ipv6only=0,reuseaddr,fork" EXEC:cat &
		kt_bg $!
		kt_wait 5 kt_listening "$SRV" tcp "$port"
	done
	for port in 5353 6000; do
		: >"$TMP/udp-$port"
		ip netns exec "$SRV" socat -u "UDP6-RECV:$port,ipv6only=0" \
			"OPEN:$TMP/udp-$port,append" &
		kt_bg $!
		kt_wait 5 kt_listening "$SRV" udp "$port"
	done
}

# generation_is N: whether moatd runs generation N
generation_is() {
	[ "$(mctl --json status | jq -r .generation.generation)" = "$1" ]
}

# --- the rulesets, in moat and in nft --------------------------------------

cat >"$TMP/gen1.rules" <<'EOF'
policy drop
allow ping     icmp type echo-request
allow ping6    icmpv6 type echo-request
allow web      tcp dport 8080
allow dns      udp dport 5353
drop  blocked  udp dport 6000
EOF

# The same, as nft sees the client's frames on their way out.
NFT_GEN1='
	icmp type echo-request counter name "c_ping" accept
	icmpv6 type echo-request counter name "c_ping6" accept
	tcp dport 8080 counter name "c_web" accept
	udp dport 5353 counter name "c_dns" accept
	udp dport 6000 counter name "c_blocked" accept
	counter name "c_policy"'

# Generation 2: web also takes 9090; dns turns to drop under the same
# name (so its counter carries on); blocked goes, and 6000 falls to the
# policy.
cat >"$TMP/gen2.rules" <<'EOF'
policy drop
allow ping     icmp type echo-request
allow ping6    icmpv6 type echo-request
allow web      tcp dport 8080, 9090
drop  dns      udp dport 5353
EOF

NFT_GEN2='
	icmp type echo-request counter name "c_ping" accept
	icmpv6 type echo-request counter name "c_ping6" accept
	tcp dport { 8080, 9090 } counter name "c_web" accept
	udp dport 5353 counter name "c_dns" accept
	counter name "c_policy"'

# A port out of range on line 3: moatctl must refuse the whole file.
cat >"$TMP/bad.rules" <<'EOF'
policy drop
allow ping     icmp type echo-request
allow web      tcp dport 8080, 99999
EOF

# The fixed verdicts of docs/ruleset.md come before any rule, as in the
# program.  c_malformed is never counted: the kernel's own stack does not
# send truncated frames, so the malformed row must stay 0.
nft_setup() {
	in_cli nft -f - <<-EOF
		table netdev kte2e {
			counter c_arp {}
			counter c_nd {}
			counter c_non_ip {}
			counter c_malformed {}
			counter c_policy {}
			counter c_ping {}
			counter c_ping6 {}
			counter c_web {}
			counter c_dns {}
			counter c_blocked {}
			chain rules {
				$NFT_GEN1
			}
			chain egress {
				type filter hook egress device "cli0" priority 0; policy accept;
				ether type arp counter name "c_arp" accept
				ether type != { ip, ip6 } counter name "c_non_ip" accept
				icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } counter name "c_nd" accept
				jump rules
			}
		}
	EOF
}

# Swap the rules chain in one transaction; the named counters stay.
nft_rules() {
	in_cli nft -f - <<-EOF
		flush chain netdev kte2e rules
		table netdev kte2e {
			chain rules {
				$1
			}
		}
	EOF
}

# --- counters ----------------------------------------------------------------

# "c_NAME PACKETS BYTES" per moat row, sorted
moat_counts() {
	mctl --json rules | jq -r '.rules[] | "c_\(.name | gsub("-"; "_")) \(.packets) \(.bytes)"' | sort
}

nft_counts() {
	in_cli nft -j list counters table netdev kte2e |
		jq -r '.nftables[] | .counter // empty | "\(.name) \(.packets) \(.bytes)"' | sort
}

# the nft twin of each line of $1 ("missing" when there is none)
twins() {
	awk 'NR == FNR { n[$1] = $2 " " $3; next }
	     { print $1, ($1 in n ? n[$1] : "missing") }' <(echo "$2") <(echo "$1")
}

# A snapshot of both sides that agrees: a frame nft counted may still be
# on its way to the program, and the kernel may send one at any moment;
# so moat is read before and after nft, and the reads are retried until
# they are stable.  Sets MOAT and NFT either way.
counts_settle() {
	local m2
	MOAT=$(moat_counts)
	NFT=$(nft_counts)
	m2=$(moat_counts)
	[ "$MOAT" = "$m2" ] && [ "$MOAT" = "$(twins "$MOAT" "$NFT")" ]
}

# packets of moat row $1 in the last snapshot
row() {
	echo "$MOAT" | awk -v n="c_${1//-/_}" '$1 == n { print $2 }'
}

# check_counts LABEL: every row equals its nft twin, one named check each
check_counts() {
	local name p b want
	kt_wait 5 counts_settle || true
	while read -r name p b; do
		name=${name#c_}
		name=${name//_/-}
		want=$(twins "c_${name//-/_}" "$NFT" | cut -d' ' -f2-)
		echo "# $1: $name: $p packets, $b bytes; nft: $want"
		kt_eq "$1: row $name = what cli0 sent to it (nft): packets bytes" "$want" "$p $b"
	done <<<"$MOAT"
}

# --- traffic -----------------------------------------------------------------

# ping_replies -4|-6 ADDR: replies to 3 echo requests
ping_replies() {
	in_cli ping "$1" -c 3 -i 0.2 -W 2 "$2" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# tcp_echo 4|6 ADDR PORT WORD: what the server echoes of WORD; nothing
# when the connection is not made within 2 s
tcp_echo() {
	printf '%s\n' "$4" |
		in_cli timeout 10 socat -t 2 - "TCP$1:$2:$3,connect-timeout=2" 2>/dev/null || true
}

# udp_send 4|6 ADDR PORT WORD N: N datagrams "WORD i", one socket each
udp_send() {
	local i
	for i in $(seq "$5"); do
		printf '%s %d\n' "$4" "$i" | in_cli socat -u - "UDP$1-SENDTO:$2:$3"
	done
}

# udp_received PORT WORD: datagrams with WORD the sink on PORT wrote
udp_received() {
	sleep 0.2 # the sink writes what the socket queued
	grep -c "^$2 " "$TMP/udp-$1" || true
}

# apply_to OUT FILE: moatctl ruleset apply FILE, its stdout in OUT
apply_to() {
	mctl ruleset apply "$2" >"$1"
}

# --- the test ----------------------------------------------------------------

setup_net
start_servers
# conntrack no: the rules' own meaning, packet by packet; kt-ct tests conntrack
if ! kt_check "moatd starts and answers on its socket" "its log is above" \
	kt_moatd_start "$TMP/gen1.rules" "conntrack no" "capacity 64"; then
	kt_done || exit 1
fi

ST=$(mctl --json status)
kt_eq "status: moatd running" true "$(jq -r .moatd.running <<<"$ST")"
kt_eq "status: generation 1" 1 "$(jq -r .generation.generation <<<"$ST")"
kt_eq "status: policy drop, 5 rules" "drop 5" "$(jq -r '"\(.generation.policy) \(.generation.rules)"' <<<"$ST")"
kt_eq "status: srv0 attached" true "$(jq -r '.interfaces[] | select(.name == "srv0") | .attached' <<<"$ST")"
# veth has native XDP, and xdp-mode auto takes it where the driver has it
kt_eq "status: srv0 in native mode" native "$(jq -r '.interfaces[] | select(.name == "srv0") | .mode' <<<"$ST")"
GEN1_PROG=$(jq -r .generation.prog_id <<<"$ST")
ENTRY_PROG=$(jq -r '.interfaces[] | select(.name == "srv0") | .prog_id' <<<"$ST")
kt_check "status: program ids" "generation $GEN1_PROG, srv0 $ENTRY_PROG" \
	test "$GEN1_PROG" -gt 0 -a "$ENTRY_PROG" -gt 0
# xdp-attach entry, moatd's default: srv0 runs the entry program, which
# hands frames to the generation (docs/architecture.md, "Attachment")
kt_eq "status: srv0 runs the entry program, not generation 1's" "false yes" \
	"$(jq -r '.interfaces[] | select(.name == "srv0") | .direct' <<<"$ST") $([ "$ENTRY_PROG" != "$GEN1_PROG" ] && echo yes)"
DIRECT=false

# Both ends count from here: nothing left cli0 before it was up.
nft_setup || kt_skip "nft cannot count cli0's egress (see above; the kernel needs CONFIG_NETFILTER_EGRESS)"
ip -n "$CLI" link set cli0 up

echo "# generation 1"
kt_eq "gen 1: ping $SRV4: 3 replies (rule ping)" 3 "$(ping_replies -4 $SRV4)"
kt_eq "gen 1: ping $SRV6: 3 replies (rule ping6)" 3 "$(ping_replies -6 $SRV6)"
kt_eq "gen 1: tcp $SRV4:8080 echoes (rule web)" one "$(tcp_echo 4 $SRV4 8080 one)"
kt_eq "gen 1: tcp [$SRV6]:8080 echoes (rule web)" two "$(tcp_echo 6 "[$SRV6]" 8080 two)"
kt_eq "gen 1: tcp $SRV4:9090 not connected (policy drop)" "" "$(tcp_echo 4 $SRV4 9090 three)"
udp_send 4 $SRV4 5353 dns4 5
udp_send 6 "[$SRV6]" 5353 dns6 5
udp_send 4 $SRV4 6000 blk4 5
kt_eq "gen 1: udp $SRV4:5353: 5 of 5 received (rule dns)" 5 "$(udp_received 5353 dns4)"
kt_eq "gen 1: udp [$SRV6]:5353: 5 of 5 received (rule dns)" 5 "$(udp_received 5353 dns6)"
kt_eq "gen 1: udp $SRV4:6000: 0 of 5 received (rule blocked)" 0 "$(udp_received 6000 blk4)"

sleep 0.5 # the last ACKs of the TCP connections
check_counts "gen 1"
# what the test knows by itself: one echo request each, one frame a datagram
kt_eq "gen 1: ping counted the 3 echo requests" 3 "$(row ping)"
kt_eq "gen 1: ping6 counted the 3 echo requests" 3 "$(row ping6)"
kt_eq "gen 1: dns counted the 10 datagrams" 10 "$(row dns)"
kt_eq "gen 1: blocked counted the 5 datagrams" 5 "$(row blocked)"
kt_check "gen 1: policy counted the SYNs to 9090" "policy $(row policy)" test "$(row policy)" -ge 1
kt_check "gen 1: nd counted the client's neighbour solicitations" "nd $(row nd)" test "$(row nd)" -ge 1
kt_check "gen 1: web counted the connections' frames" "web $(row web)" test "$(row web)" -ge 6
kt_eq "gen 1: nothing malformed" 0 "$(row malformed)"
kt_eq "gen 1: nothing but IP, ARP" 0 "$(row non-ip)"
GEN1_MOAT=$MOAT

echo "# generation 2: ruleset apply"
nft_rules "$NFT_GEN2"
kt_check "apply gen2.rules: exit 0" "see stderr" apply_to "$TMP/apply.out" "$TMP/gen2.rules"
kt_check "apply gen2.rules: says generation 2" "$(cat "$TMP/apply.out")" grep -q "generation 2 " "$TMP/apply.out"
ST=$(mctl --json status)
kt_eq "status: generation 2" 2 "$(jq -r .generation.generation <<<"$ST")"
kt_eq "status: 4 rules" 4 "$(jq -r .generation.rules <<<"$ST")"
# the ruleset's hash is the SHA-256 of its canonical text
kt_eq "status: the hash of gen2.rules' canonical text" \
	"$("$MOATCTL" ruleset fmt "$TMP/gen2.rules" | sha256sum | cut -d' ' -f1)" \
	"$(jq -r .generation.hash <<<"$ST")"
GEN2_PROG=$(jq -r .generation.prog_id <<<"$ST")
kt_check "status: generation 2 has a program of its own" "$GEN1_PROG then $GEN2_PROG" \
	test "$GEN2_PROG" -gt 0 -a "$GEN2_PROG" != "$GEN1_PROG"
# a generation switch replaces the program attached directly, or the
# tail call behind the entry program, which stays
if [ "$DIRECT" = true ]; then
	kt_eq "status: srv0 runs generation 2's program" "$GEN2_PROG" \
		"$(jq -r '.interfaces[] | select(.name == "srv0") | .prog_id' <<<"$ST")"
else
	kt_eq "status: srv0 keeps its entry program" "$ENTRY_PROG" \
		"$(jq -r '.interfaces[] | select(.name == "srv0") | .prog_id' <<<"$ST")"
fi
kt_eq "status: srv0 still attached" true "$(jq -r '.interfaces[] | select(.name == "srv0") | .attached' <<<"$ST")"

# Counters follow names: before any new traffic, the kept names show
# their generation 1 counts (nd and policy may move on their own).
MOAT=$(moat_counts)
for r in ping ping6 web dns; do
	kt_eq "gen 2: $r keeps its counts across the apply" \
		"$(echo "$GEN1_MOAT" | grep "^c_$r ")" "$(echo "$MOAT" | grep "^c_$r ")"
done
kt_eq "gen 2: blocked is gone" "" "$(row blocked)"

kt_eq "gen 2: ping $SRV4: 3 replies (rule ping)" 3 "$(ping_replies -4 $SRV4)"
kt_eq "gen 2: tcp $SRV4:9090 echoes (rule web)" four "$(tcp_echo 4 $SRV4 9090 four)"
kt_eq "gen 2: tcp [$SRV6]:9090 echoes (rule web)" five "$(tcp_echo 6 "[$SRV6]" 9090 five)"
udp_send 4 $SRV4 5353 drop4 5
udp_send 4 $SRV4 6000 pol4 5
kt_eq "gen 2: udp $SRV4:5353: 0 of 5 received (rule dns, now drop)" 0 "$(udp_received 5353 drop4)"
kt_eq "gen 2: udp $SRV4:6000: 0 of 5 received (policy drop)" 0 "$(udp_received 6000 pol4)"

sleep 0.5
check_counts "gen 2"
kt_eq "gen 2: ping counted 3 more echo requests" 6 "$(row ping)"
kt_eq "gen 2: dns counted 5 more datagrams" 15 "$(row dns)"

echo "# a broken ruleset"
kt_check "apply bad.rules: refused with exit 1" "see $TMP/bad.err" \
	test "$(mctl ruleset apply "$TMP/bad.rules" >/dev/null 2>"$TMP/bad.err"; echo $?)" = 1
kt_check "apply bad.rules: file:line:col on stderr" "$(cat "$TMP/bad.err")" \
	grep -q "^$TMP/bad.rules:3:[0-9]*: .*99999" "$TMP/bad.err"
kt_check "apply bad.rules: 'nothing was applied'" "$(cat "$TMP/bad.err")" \
	grep -q "the ruleset has errors; nothing was applied" "$TMP/bad.err"
# moatd was asked (moatctl parses beside the apply) and says why it refused
kt_check "moatd's log: bad.rules refused with the line" "see $TMP/moatd.log" \
	grep -q "bad.rules:3:[0-9]*: .*99999" "$TMP/moatd.log"
kt_eq "status: still generation 2" 2 "$(mctl --json status | jq -r .generation.generation)"
kt_eq "status: still generation 2's program" "$GEN2_PROG" "$(mctl --json status | jq -r .generation.prog_id)"
kt_eq "after bad apply: tcp $SRV4:9090 still echoes (rule web)" six "$(tcp_echo 4 $SRV4 9090 six)"
udp_send 4 $SRV4 5353 still4 5
kt_eq "after bad apply: udp $SRV4:5353 still dropped (rule dns)" 0 "$(udp_received 5353 still4)"
sleep 0.5
check_counts "after bad apply"
kt_eq "after bad apply: dns counted 5 more datagrams" 20 "$(row dns)"

echo "# SIGHUP: moatd re-reads its configured ruleset file"
# The configured file is gen1.rules, which generation 2 replaced by an
# apply: a reload brings it back as generation 3.
kill -HUP "$MOATD_PID"
kt_check "SIGHUP: generation 3 from the configured file" "see $TMP/moatd.log" \
	kt_wait 10 generation_is 3
kt_eq "SIGHUP: the configured ruleset's 5 rules" 5 "$(mctl --json status | jq -r .generation.rules)"
kt_eq "SIGHUP: tcp $SRV4:9090 refused again (policy drop, as in gen 1)" "" "$(tcp_echo 4 $SRV4 9090 seven)"

# A broken configured file: the reload fails, the log says why, nothing changes.
cp "$TMP/gen1.rules" "$TMP/gen1.good"
cp "$TMP/bad.rules" "$TMP/gen1.rules"
kill -HUP "$MOATD_PID"
kt_check "SIGHUP with a broken file: moatd logs the error with file:line" "see $TMP/moatd.log" \
	kt_wait 10 grep -q "gen1.rules:3:" "$TMP/moatd.log"
kt_eq "SIGHUP with a broken file: still generation 3" 3 "$(mctl --json status | jq -r .generation.generation)"
kt_eq "SIGHUP with a broken file: tcp $SRV4:8080 still echoes (rule web)" eight "$(tcp_echo 4 $SRV4 8080 eight)"
cp "$TMP/gen1.good" "$TMP/gen1.rules"

echo "# shadowed and redundant rules: warnings, and the apply goes on"
# moatctl looks for them itself while moatd applies (docs/moatctl.md); the
# warnings come back with file:line:col, once each, and apply changes
# nothing about them: the ruleset means what it says.
{
	cat "$TMP/gen2.rules"
	echo "allow web9090 tcp dport 9090"
	echo "drop  late     udp dport 5353"
} >"$TMP/shadow.rules"
kt_check "apply shadow.rules: exit 0" "see $TMP/shadow.err" \
	apply_to "$TMP/shadow.out" "$TMP/shadow.rules" 2>"$TMP/shadow.err"
kt_check "apply shadow.rules: says generation 4" "$(cat "$TMP/shadow.out")" grep -q "generation 4 " "$TMP/shadow.out"
kt_eq "apply shadow.rules: web9090 can never match, at 6:1" 1 \
	"$(grep -c "^$TMP/shadow.rules:6:1: warning: rule 'web9090' can never match: rule 'web' (line 4)" "$TMP/shadow.err")"
kt_eq "apply shadow.rules: late can never match, at 7:1" 1 \
	"$(grep -c "^$TMP/shadow.rules:7:1: warning: rule 'late' can never match: rule 'dns' (line 5)" "$TMP/shadow.err")"
kt_eq "apply shadow.rules: two warnings, nothing else" 2 "$(grep -c warning "$TMP/shadow.err")"
kt_eq "apply --json: the same two in diags" "6 7" \
	"$(mctl --json ruleset apply "$TMP/shadow.rules" | jq -r '[.diags[] | select(.severity == "warning") | .line] | join(" ")')"
kt_eq "status: 6 rules in force" 6 "$(mctl --json status | jq -r .generation.rules)"

echo "# over capacity (capacity 64): refused, and said so"
{
	echo "policy drop"
	for i in $(seq 1 80); do echo "allow r$i tcp dport $((20000 + i))"; done
} >"$TMP/big.rules"
kt_check "apply big.rules: refused with exit 1" "see $TMP/big.err" \
	test "$(mctl ruleset apply "$TMP/big.rules" >/dev/null 2>"$TMP/big.err"; echo $?)" = 1
kt_check "apply big.rules: the diag names the capacity" "$(cat "$TMP/big.err")" \
	grep -q "error: over capacity: 80 rules.*this data plane holds" "$TMP/big.err"
kt_check "apply big.rules: the summary says over capacity" "$(cat "$TMP/big.err")" \
	grep -q "^moatctl: moatd: cannot apply .*big.rules: over capacity; the running generation stays" "$TMP/big.err"
kt_eq "status: still generation 5, 6 rules" "5 6" \
	"$(mctl --json status | jq -r '"\(.generation.generation) \(.generation.rules)"')"

echo "# xdp-attach auto at a reload: the generation directly, then the entry again"
# only where libxdp's dispatcher cannot load (under it, always the entry)
if [ "$(mctl --json status | jq -r .features.dispatcher)" = false ]; then
	cp "$TMP/moatd.conf" "$TMP/moatd.conf.entry"
	echo "xdp-attach auto" >>"$TMP/moatd.conf"
	kill -HUP "$MOATD_PID"
	kt_check "xdp-attach auto: reload makes generation 6" "see $TMP/moatd.log" \
		kt_wait 10 generation_is 6
	ST=$(mctl --json status)
	kt_eq "xdp-attach auto: srv0 runs generation 6's program itself" \
		"true $(jq -r .generation.prog_id <<<"$ST")" \
		"$(jq -r '.interfaces[] | select(.name == "srv0") | "\(.direct) \(.prog_id)"' <<<"$ST")"
	kt_eq "xdp-attach auto: tcp $SRV4:8080 still echoes (rule web)" nine "$(tcp_echo 4 $SRV4 8080 nine)"
	cp "$TMP/moatd.conf.entry" "$TMP/moatd.conf"
	kill -HUP "$MOATD_PID"
	kt_check "xdp-attach entry: reload makes generation 7" "see $TMP/moatd.log" \
		kt_wait 10 generation_is 7
	ST=$(mctl --json status)
	GEN7_PROG=$(jq -r .generation.prog_id <<<"$ST")
	SRV0=$(jq -r '.interfaces[] | select(.name == "srv0") | "\(.direct) \(.prog_id)"' <<<"$ST")
	kt_check "xdp-attach entry: srv0 runs the entry program again, not generation 7's" \
		"srv0: $SRV0, generation 7: $GEN7_PROG" \
		test "${SRV0% *}" = false -a "${SRV0#* }" != "$GEN7_PROG" -a "${SRV0#* }" -gt 0
fi

# libxdp 1.3 leaked a descriptor for every read of an interface, which
# moatd does at every apply and status (docs/architecture.md, "Attachment")
echo "# descriptors: status reads and applies leave none open in moatd"
FDS0=$(kt_moatd_fds)
for _ in $(seq 50); do
	mctl --json status >/dev/null
	mctl --json rules >/dev/null
done
APPLIED=0
for _ in 1 2 3 4 5; do apply_to "$TMP/fd.out" "$TMP/gen2.rules" && APPLIED=$((APPLIED + 1)); done
GEN=$(mctl --json status | jq -r .generation.generation)
kill -HUP "$MOATD_PID"
kt_wait 10 generation_is $((GEN + 1)) || true
GEN2=$(mctl --json status | jq -r .generation.generation)
FDS1=$(kt_moatd_fds)
kt_check "50 status and rules reads, 5 applies and a reload leave moatd's descriptors as they were" \
	"$FDS0 before, $FDS1 after, $APPLIED applies, generation $GEN then $GEN2" \
	test "$APPLIED" = 5 -a "$GEN2" = $((GEN + 1)) -a "$FDS1" -le $((FDS0 + 2))

kt_check "moatd still running" "see $TMP/moatd.log" kt_moatd_running
kt_done
