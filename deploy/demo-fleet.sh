# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The fleet half of deploy/demo.sh, sourced by it: a control plane in the
# root namespace on a bridge, and three hosts (network namespaces, each
# with its own moatd) that enroll with one install token and appear
# healthy.  The demo's server namespace is the first of them.
#
# Uses from demo.sh: $TMP, $SERVER, $INSTANCE, step, outcome, and
# FLEET_NS/FLEET_BR/CP_PID for its cleanup.

CP=build/mgmt/moat-controlplane
CP_ADDR=10.20.0.1
CP_PORT=7443
API_PORT=7444
FLEET_BR=mbr$$
FLEET_NS="$SERVER moat-demo-h2-$$ moat-demo-h3-$$"
CP_PID=""

cpctl() {
	"$MOATCTL" --server "https://127.0.0.1:$API_PORT" \
		--api-key-file "$TMP/cp/admin.key" --cacert "$TMP/cp/ca.crt" "$@"
}

fleet_cleanup() {
	[ -n "$CP_PID" ] && kill -TERM "$CP_PID" 2>/dev/null && wait "$CP_PID" 2>/dev/null
	ip link del "$FLEET_BR" 2>/dev/null
}

fleet_network() {
	local i=1 ns
	ip link add "$FLEET_BR" type bridge
	ip addr add "$CP_ADDR/24" dev "$FLEET_BR"
	ip link set "$FLEET_BR" up
	for ns in $FLEET_NS; do
		ip netns list | grep -qw "$ns" || {
			ip netns add "$ns"
			ip -n "$ns" link set lo up
		}
		ip link add "up$i-$$" type veth peer name up0 netns "$ns"
		ip link set "up$i-$$" master "$FLEET_BR" up
		ip -n "$ns" addr add "10.20.0.$((10 + i))/24" dev up0
		ip -n "$ns" link set up0 up
		echo "    host $i  $ns  up0: 10.20.0.$((10 + i))"
		i=$((i + 1))
	done
	echo "    control plane on bridge $FLEET_BR: $CP_ADDR"
}

fleet_controlplane() {
	local user=root
	id -u nobody >/dev/null 2>&1 && user=nobody
	# the control plane drops to $user: it must reach its state directory
	# through $TMP, without seeing what else is there
	chmod 711 "$TMP"
	mkdir -p "$TMP/cp"
	"$CP" --state "$TMP/cp" --listen "$CP_ADDR:$CP_PORT" \
		--api-listen "127.0.0.1:$API_PORT" --san "$CP_ADDR" --san 127.0.0.1 \
		--admin-key-file "$TMP/cp/admin.key" --heartbeat-interval 2 \
		--user "$user" >"$TMP/cp.log" 2>&1 &
	CP_PID=$!
	for _ in $(seq 100); do
		[ -s "$TMP/cp/admin.key" ] && cpctl whoami >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! cpctl whoami >/dev/null 2>&1; then
		echo "demo.sh: moat-controlplane did not start:" >&2
		cat "$TMP/cp.log" >&2
		return 1
	fi
	# what every moatd pins: SHA-256 of the CA certificate's DER
	echo "sha256:$(openssl x509 -in "$TMP/cp/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)" >"$TMP/cp/fingerprint"
	sed 's/^/    /' "$TMP/cp.log"
}

# The ruleset of hosts 2 and 3: their own address, nothing but ping in.
fleet_rules() {
	cat <<'EOF'
policy drop
allow ping  icmp type echo-request
EOF
}

# fleet_moatd NS INSTANCE IFACE RULES: a moatd that joins the fleet
fleet_moatd() {
	local ns=$1 inst=$2 dir=$TMP/$2
	mkdir -p "$dir"
	cat >"$dir/moatd.conf" <<EOF
instance $inst
interfaces $3
ruleset $4
socket $dir/moatd.sock
state-dir $dir/state
conntrack yes
controlplane $CP_ADDR:$CP_PORT
controlplane-ca $(cat "$TMP/cp/fingerprint")
install-token-file $TMP/token
user nobody
EOF
	nsenter --net="/run/netns/$ns" "$MOATD" -c "$dir/moatd.conf" >"$dir/moatd.log" 2>&1 &
	disown
}

# wait_hosts FIELD VALUE N: until N hosts have FIELD = VALUE in
# moatctl host list --json (state healthy, config converged), or 30 s;
# prints how many do
wait_hosts() {
	local n=0
	for _ in $(seq 150); do
		n=$(cpctl --json host list 2>/dev/null |
			jq --arg v "$2" "[.[] | select(.$1 == \$v)] | length" 2>/dev/null || echo 0)
		[ "$n" -ge "$3" ] && break
		sleep 0.2
	done
	echo "$n"
}
