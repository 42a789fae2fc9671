#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# moat, demonstrated: sudo ./deploy/demo.sh
#
# Installs what moat needs (deploy/deps.sh), builds it into build/, then
# runs a small fleet on this machine without touching its network: a
# control plane (moat-controlplane) on a bridge, and three hosts, network
# namespaces each with its own moatd, that enroll with one install token
# and appear healthy in `moatctl host list`.  The control plane then
# pushes a ruleset to the label they share, and every host converges on
# it.  The first host is also the firewall demo's server: a client
# namespace sends real ping, TCP and UDP to it, some allowed and some
# dropped by that ruleset.  Then the per-rule counters summed over the
# fleet, a bad ruleset refused by the control plane while the hosts keep
# the good one, moatctl's counters and status, and the audit log.
# Everything it creates is removed when it ends, also on Ctrl-C.
#
# Exit status 0 when the hosts joined and every allowed connection got
# through and every dropped one did not; 1 otherwise.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: moat loads XDP programs and creates namespaces: run it as root (sudo $0)" >&2
	exit 1
fi

CLIENT=moat-demo-client-$$
SERVER=moat-demo-server-$$
INSTANCE=demo$$
TMP=$(mktemp -d /tmp/moat-demo.XXXXXX)
MOATD=build/mgmt/agent/moatd
MOATCTL=build/tools/moatctl/moatctl
NINJA_PID=""

step() {
	printf '\n==> %s\n' "$*"
}

# shellcheck disable=SC2317 # called by the traps
cleanup() {
	local pid ns
	trap - EXIT INT TERM
	set +e
	# a background ninja would build on after Ctrl-C; it stops its jobs on TERM
	[ -n "$NINJA_PID" ] && kill -TERM "$NINJA_PID" 2>/dev/null && wait "$NINJA_PID" 2>/dev/null
	fleet_cleanup
	# shellcheck disable=SC2086 # a list of names
	for ns in "$CLIENT" $FLEET_NS; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "/sys/fs/bpf/moat/$INSTANCE" "/run/moat/$INSTANCE" \
		/sys/fs/bpf/moat/"$INSTANCE"-h[23] "$TMP"
	rmdir /run/moat 2>/dev/null
	echo "demo.sh: removed the namespaces, the bridge, moatd and the control plane, the pins and $TMP"
}
# shellcheck source=demo-fleet.sh
. deploy/demo-fleet.sh
trap cleanup EXIT
trap 'echo; echo "demo.sh: interrupted"; exit 130' INT
trap 'echo "demo.sh: terminated"; exit 143' TERM

# --- install and build -------------------------------------------------------

step "Installing what moat needs (deploy/deps.sh)"
./deploy/deps.sh
echo "    all there"

# ninja into a log, with a progress line every few seconds
build() {
	local log=$TMP/build.log start=$SECONDS
	if [ ! -d build ]; then
		echo "    meson setup build"
		meson setup build >"$log" 2>&1 || {
			tail -n 30 "$log"
			return 1
		}
	fi
	echo "    ninja -C build (a first build takes a minute or two)"
	ninja -C build >"$log" 2>&1 &
	NINJA_PID=$!
	while kill -0 "$NINJA_PID" 2>/dev/null; do
		sleep 3
		tail -n 1 "$log" | sed -n 's/^\(\[[0-9]*\/[0-9]*\]\).*/    \1 compiling.../p'
	done
	wait "$NINJA_PID" || {
		NINJA_PID=""
		tail -n 30 "$log"
		return 1
	}
	NINJA_PID=""
	echo "    built in $((SECONDS - start)) s"
}

step "Building moatd, moatctl and moat-controlplane into build/"
if ! build; then
	echo "demo.sh: the build failed (above)" >&2
	exit 1
fi

# --- the network ---------------------------------------------------------------

step "Two network namespaces joined by a veth pair"
for ns in "$CLIENT" "$SERVER"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$CLIENT" link add cli0 type veth peer name srv0 netns "$SERVER"
ip -n "$CLIENT" addr add 10.10.0.1/24 dev cli0
ip -n "$CLIENT" addr add 198.51.100.7/24 dev cli0 # an address of the "bad network"
ip -n "$CLIENT" addr add fd00:10::1/64 dev cli0 nodad
ip -n "$SERVER" addr add 10.10.0.2/24 dev srv0
ip -n "$SERVER" addr add fd00:10::2/64 dev srv0 nodad
ip -n "$CLIENT" link set cli0 up
ip -n "$SERVER" link set srv0 up
# so that only the firewall stands between the bad network and the server
ip -n "$SERVER" route add 198.51.100.0/24 dev srv0
echo "    client  $CLIENT  cli0: 10.10.0.1 (the office), 198.51.100.7 (a bad network), fd00:10::1"
echo "    server  $SERVER  srv0: 10.10.0.2, fd00:10::2"

# servers on the server side: TCP echo on 22, 80 and 8080, UDP on 53 and 5353
for port in 22 80 8080; do
	ip netns exec "$SERVER" socat "TCP6-LISTEN:$port,ipv6only=0,reuseaddr,fork" EXEC:cat &
	disown # the cleanup ends it, silently
done
for port in 53 5353; do
	: >"$TMP/udp-$port"
	ip netns exec "$SERVER" socat -u "UDP6-RECV:$port,ipv6only=0" "OPEN:$TMP/udp-$port,append" &
	disown
done
ip netns exec "$CLIENT" socat TCP4-LISTEN:9000,reuseaddr,fork EXEC:cat &
disown
echo "    listening on the server: tcp 22, 80, 8080 (echo); udp 53, 5353"
echo "    listening on the client: tcp 9000 (echo)"

step "The fleet's network: a bridge for the control plane, a link to it from each host"
fleet_network

step "Starting moat-controlplane on $CP_ADDR:$CP_PORT (operators: https://127.0.0.1:$API_PORT)"
fleet_controlplane

step "An install token for three hosts: moatctl token create --uses 3"
cpctl --json token create --uses 3 --label demo=yes --description "demo.sh" >"$TMP/token.json"
(umask 077 && jq -r .token "$TMP/token.json" >"$TMP/token")
echo "    token $(jq -r .id "$TMP/token.json"), 3 uses, label demo=yes (the secret is in $TMP/token)"

# --- moatd ---------------------------------------------------------------------

cat >"$TMP/demo.rules" <<'EOF'
# The demo server: 10.10.0.2 and fd00:10::2 (docs/ruleset.md).
# The first rule that matches decides; the policy decides the rest.
policy drop

drop  bad-nets    from 198.51.100.0/24
allow ssh-office  tcp from 10.10.0.0/24 dport 22
allow web         tcp dport 80, 443
allow dns         udp dport 53
allow ping        icmp type echo-request
allow ping6       icmpv6 type echo-request
EOF

cat >"$TMP/moatd.conf" <<EOF
instance $INSTANCE
interfaces srv0
ruleset $TMP/demo.rules
socket $TMP/moatd.sock
state-dir $TMP/state
controlplane $CP_ADDR:$CP_PORT
controlplane-ca $(cat "$TMP/cp/fingerprint")
install-token-file $TMP/token
user nobody
EOF

moatctl() {
	nsenter --net="/run/netns/$SERVER" "$MOATCTL" -i "$INSTANCE" -s "$TMP/moatd.sock" "$@"
}

step "The ruleset moatd enforces on srv0 ($TMP/demo.rules)"
sed 's/^/    /' "$TMP/demo.rules"

step "Starting moatd in the server's namespace"
# nsenter, not ip netns exec: moatd pins its programs in the real /sys/fs/bpf
nsenter --net="/run/netns/$SERVER" "$MOATD" -c "$TMP/moatd.conf" >"$TMP/moatd.log" 2>&1 &
disown
# ready once moatd answers on its socket (moatctl status also works
# without moatd, from the pins, and would not tell)
moatd_running() {
	moatctl --json status 2>/dev/null | jq -e .moatd.running >/dev/null
}
for _ in $(seq 100); do
	moatd_running && break
	sleep 0.1
done
if ! moatd_running; then
	echo "demo.sh: moatd did not start:" >&2
	cat "$TMP/moatd.log" >&2
	exit 1
fi
sed 's/^/    /' "$TMP/moatd.log"

step "Hosts 2 and 3: moatd with policy drop on up0, joining the same fleet"
fleet_rules >"$TMP/host.rules"
i=2
for ns in $FLEET_NS; do
	[ "$ns" = "$SERVER" ] && continue
	fleet_moatd "$ns" "$INSTANCE-h$i" up0 "$TMP/host.rules"
	echo "    host $i: moatd instance $INSTANCE-h$i in $ns"
	i=$((i + 1))
done

step "moatctl host list: three hosts enrolled with the token, healthy"
healthy=$(wait_hosts state healthy 3)
cpctl host list | sed 's/^/    /'

step "The fleet's ruleset, from the control plane: moatctl ruleset push web, assign to demo=yes"
cpctl ruleset push web "$TMP/demo.rules" | sed 's/^/    /'
cpctl assign add --ruleset web --selector demo=yes | sed 's/^/    /'

step "Every host converges on web v1: moatctl host list (CONFIG, GEN applied/desired)"
converged=$(wait_hosts config converged 3)
cpctl host list | sed 's/^/    /'

# --- traffic -------------------------------------------------------------------

wrong=0
total=0

# outcome EXPECTED GOT DESCRIPTION: print one line, count the surprises
outcome() {
	total=$((total + 1))
	if [ "$1" = "$2" ]; then
		printf '    ok     %s\n' "$3"
	else
		printf '    WRONG  %s (expected: %s)\n' "$3" "$1"
		wrong=$((wrong + 1))
	fi
}

client() {
	ip netns exec "$CLIENT" "$@"
}

# ping_replies ADDR [-I SRC]: replies to 3 echo requests
ping_replies() {
	client ping -c 3 -i 0.2 -W 1 "$@" 2>/dev/null | sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# tcp_try ADDRESS: "echoed" when the server echoed a line back within 2 s
tcp_try() {
	local got
	got=$(echo hello | client timeout 10 socat -t 2 - "$1,connect-timeout=2" 2>/dev/null) || true
	if [ "$got" = hello ]; then echo echoed; else echo "timed out"; fi
}

# udp_try PORT: how many of 3 datagrams reached the server
udp_try() {
	local i
	for i in 1 2 3; do
		echo "datagram $i" | client socat -u - "UDP4-SENDTO:10.10.0.2:$1"
	done
	sleep 0.3
	grep -c datagram "$TMP/udp-$1" || true
}

outcome 3 "$healthy" "hosts healthy in the fleet: $healthy/3"
outcome 3 "$converged" "hosts converged on the control plane's ruleset web: $converged/3"

step "Traffic from the client to the server"
n=$(ping_replies 10.10.0.2)
outcome 3 "$n" "ping 10.10.0.2: $n/3 replies (allowed by ping)"
n=$(ping_replies fd00:10::2)
outcome 3 "$n" "ping fd00:10::2: $n/3 replies (allowed by ping6)"
n=$(ping_replies -I 198.51.100.7 10.10.0.2)
outcome 0 "$n" "ping 10.10.0.2 from the bad network: $n/3 replies (dropped by bad-nets)"
r=$(tcp_try TCP4:10.10.0.2:22)
outcome echoed "$r" "tcp 10.10.0.2:22 from the office: $r (allowed by ssh-office)"
r=$(tcp_try TCP4:10.10.0.2:22,bind=198.51.100.7)
outcome "timed out" "$r" "tcp 10.10.0.2:22 from the bad network: $r (dropped by bad-nets)"
r=$(tcp_try TCP4:10.10.0.2:80)
outcome echoed "$r" "tcp 10.10.0.2:80: $r (allowed by web)"
r=$(tcp_try "TCP6:[fd00:10::2]:80")
outcome echoed "$r" "tcp [fd00:10::2]:80: $r (allowed by web)"
r=$(tcp_try TCP4:10.10.0.2:8080)
outcome "timed out" "$r" "tcp 10.10.0.2:8080: $r (dropped by the policy; a server listens there)"
n=$(udp_try 53)
outcome 3 "$n" "udp 10.10.0.2:53: $n/3 datagrams arrived (allowed by dns)"
n=$(udp_try 5353)
outcome 0 "$n" "udp 10.10.0.2:5353: $n/3 datagrams arrived (dropped by the policy)"

step "Traffic the server opens: no rule allows the replies, conntrack does"
r=$(echo hello | ip netns exec "$SERVER" timeout 10 socat -t 2 - TCP4:10.10.0.1:9000,connect-timeout=2 2>/dev/null) || true
[ "$r" = hello ] && r=echoed || r="timed out"
outcome echoed "$r" "tcp 10.10.0.1:9000 from the server: $r (the replies pass as established)"
n=$(ip netns exec "$SERVER" ping -c 3 -i 0.2 -W 1 10.10.0.1 2>/dev/null | sed -n 's/.* \([0-9]*\) received.*/\1/p')
outcome 3 "$n" "ping 10.10.0.1 from the server: $n/3 replies (established)"

# --- what moat saw -------------------------------------------------------------

step "moatctl rules: packets and bytes per rule (in parentheses, the fixed rows)"
moatctl rules | sed 's/^/    /'

step "moatctl ruleset counters web --refresh: each rule over the whole fleet"
# --refresh asks the hosts for fresh counters and waits for their answers
cpctl --json ruleset counters web --refresh >"$TMP/counters.json"
cpctl ruleset counters web | sed 's/^/    /'
n=$(jq '[.rules[] | select(.name == "web") | .packets] | add // 0' "$TMP/counters.json")
outcome yes "$([ "$n" -gt 0 ] && echo yes || echo no)" "fleet counters: rule web matched $n packets"

step "A bad ruleset: the control plane refuses it, the hosts keep web v1"
printf 'policy drop\nallow web tcp dport 80, 99999\n' >"$TMP/bad.rules"
sed 's/^/    /' "$TMP/bad.rules"
r=$(cpctl ruleset push web "$TMP/bad.rules" 2>&1) && r="accepted: $r" || true
printf '%s\n' "$r" | sed 's/^/    /'
outcome refused "$(case $r in accepted*) echo accepted ;; *99999*) echo refused ;; *) echo "?" ;; esac)" \
	"ruleset push of a bad version: refused with the parser's error"
n=$(wait_hosts config converged 3)
cpctl host list | sed 's/^/    /'
outcome 3 "$n" "hosts still converged on web v1 after the refusal: $n/3"

step "moatctl conntrack: the flows moat tracks"
moatctl conntrack | sed 's/^/    /'

step "moatctl status (the control plane's part at the end)"
moatctl status | sed 's/^/    /'

step "moatctl audit list: what the control plane recorded, hash-chained"
cpctl audit list | sed 's/^/    /'
r=$(cpctl audit verify 2>&1) || true
outcome "audit chain OK" "${r%%:*}" "moatctl audit verify: $r"

if [ "$wrong" -eq 0 ]; then
	step "All $total outcomes as expected: moat allowed and dropped what the ruleset says"
	exit 0
fi
step "$wrong of $total outcomes were not as expected"
exit 1
