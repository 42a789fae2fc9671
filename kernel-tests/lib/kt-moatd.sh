# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The real moatd in a test's server namespace, and moatctl asked about it:
# for the shell kernel tests, the twin of kt-moatd.c.  Source it after
# kt.sh; the test names its namespaces CLI and SRV, its moat instance INST
# and its temporary directory TMP, then calls kt_veth_pair and
# kt_moatd_start.

# kt_moatd_args "$@": the test's arguments, MOATD and MOATCTL (the
# binaries under test; meson passes them, so it builds them first).
kt_moatd_args() {
	[ $# -eq 2 ] || {
		echo "usage: $0 MOATD MOATCTL" >&2
		exit 2
	}
	MOATD=$1
	MOATCTL=$2
}

# mctl ARGS...: moatctl where moatd runs, on its socket
mctl() {
	nsenter --net="/run/netns/$SRV" "$MOATCTL" -i "$INST" -s "$TMP/moatd.sock" "$@"
}

# in_cli COMMAND...: COMMAND in the client's namespace
in_cli() {
	ip netns exec "$CLI" "$@"
}

# kt_veth_pair: namespaces CLI and SRV joined by a veth pair, cli0 in CLI
# and srv0 in SRV, both down and without addresses.
kt_veth_pair() {
	kt_netns "$CLI"
	kt_netns "$SRV"
	ip -n "$CLI" link add cli0 type veth peer name srv0 netns "$SRV"
}

# kt_fleet_link: CP4/24 on cli0 and HOST4/24 on srv0 (the test sets
# both), and the pair up; again after a "reboot" took them away.
kt_fleet_link() {
	ip -n "$CLI" addr add "$CP4/24" dev cli0
	ip -n "$SRV" addr add "$HOST4/24" dev srv0
	ip -n "$CLI" link set cli0 up
	ip -n "$SRV" link set srv0 up
}

# kt_pings: how many of 3 pings from CLI to HOST4 were answered
kt_pings() {
	ip netns exec "$CLI" ping -c 3 -i 0.2 -W 1 "$HOST4" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# kt_moatd_start RULESET [LINE...]: moatd in SRV protecting srv0 with
# RULESET, each LINE added to its configuration ("conntrack no"); its
# configuration, socket, state and log (appended to) in TMP.  Waits until
# it answers.  MOATD_PID is its pid.
kt_moatd_start() {
	local ruleset=$1
	shift
	{
		cat <<-EOF
			instance $INST
			interfaces srv0
			ruleset $ruleset
			socket $TMP/moatd.sock
			state-dir $TMP/state
		EOF
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$TMP/moatd.conf"
	nsenter --net="/run/netns/$SRV" "$MOATD" -c "$TMP/moatd.conf" >>"$TMP/moatd.log" 2>&1 &
	# shellcheck disable=SC2034 # the test's, to signal moatd
	MOATD_PID=$!
	kt_bg $!
	kt_wait 10 kt_moatd_running || {
		sed 's/^/# moatd: /' "$TMP/moatd.log" >&2
		return 1
	}
}

kt_moatd_running() {
	mctl --json status | jq -e .moatd.running >/dev/null
}

# kt_moatd_fds: the descriptors moatd (MOATD_PID) and its children hold
kt_moatd_fds() {
	local n=0 p
	for p in $MOATD_PID $(pgrep -P "$MOATD_PID"); do
		n=$((n + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 | wc -l)))
	done
	echo "$n"
}

# kt_fleet_args "$@": a fleet test's arguments, MOATD, MOATCTL and
# MOAT-CONTROLPLANE (CP).
kt_fleet_args() {
	[ $# -eq 3 ] || {
		echo "usage: $0 MOATD MOATCTL MOAT-CONTROLPLANE" >&2
		exit 2
	}
	kt_moatd_args "$1" "$2"
	# shellcheck disable=SC2034 # the test's: its control plane
	CP=$3
}

# kt_fleet_init PREFIX DIR: after kt_require_kernel, for a control plane
# and a moatd that run as nobody: kt_init, then namespaces SRV
# (PREFIXh) and CLI (PREFIXc), instance INST (PREFIXl) and a temporary
# directory TMP (DIR.XXXXXX), all removed at exit.
kt_fleet_init() {
	id nobody >/dev/null 2>&1 || kt_skip "needs the user nobody"
	kt_init
	SRV=$(kt_name "$1h")
	CLI=$(kt_name "$1c")
	INST=$(kt_name "$1l")
	TMP=$(kt_tmpdir "$2")
	kt_keep_dir "$TMP"
	chmod 711 "$TMP" # the control plane, as nobody, reaches its state dir
	kt_instance "$INST"
}

# kt_cp_start [OPTION...]: moat-controlplane in CLI as nobody, its state
# in TMP/cp, agents on CP4:7443, operators on CLI's loopback port 7444,
# heartbeats every second, each OPTION added.  CP_PID is its pid.  Ready
# when it says where it listens (after the first start's bootstrap).
kt_cp_start() {
	local log=$TMP/cp.log start
	start=$(stat -c %s "$log" 2>/dev/null || echo 0)
	mkdir -p "$TMP/cp"
	ip netns exec "$CLI" "$CP" --state "$TMP/cp" --listen "$CP4:7443" \
		--api-listen 127.0.0.1:7444 --san "$CP4" --san 127.0.0.1 \
		--admin-key-file "$TMP/cp/admin.key" --heartbeat-interval 1 \
		--user nobody "$@" >>"$log" 2>&1 &
	CP_PID=$!
	kt_bg "$CP_PID"
	kt_wait 15 sh -c "tail -c +$((start + 1)) '$log' | grep -q 'operators on'"
}

# kt_fleet_host I ADDR/LEN: host I of a fleet on CLI's bridge BR:
# namespace SRV-I whose up0 (ADDR/LEN) is on the bridge, instance INST-I,
# and its moatd, which starts with TMP/host.rules and enrolls with
# TMP/token at CP4:7443 (CA fingerprint FP); its files in TMP/hI.
kt_fleet_host() {
	local i=$1 ns=$SRV-$1
	kt_netns "$ns"
	kt_instance "$INST-$i"
	ip -n "$CLI" link add "up$i" type veth peer name up0 netns "$ns"
	ip -n "$CLI" link set "up$i" master "$BR" up
	ip -n "$ns" addr add "$2" dev up0
	ip -n "$ns" link set up0 up
	mkdir -p "$TMP/h$i"
	cat >"$TMP/h$i/moatd.conf" <<-EOF
		instance $INST-$i
		interfaces up0
		ruleset $TMP/host.rules
		socket $TMP/h$i/moatd.sock
		state-dir $TMP/h$i/state
		controlplane $CP4:7443
		controlplane-ca $FP
		install-token-file $TMP/token
		user nobody
	EOF
	nsenter --net="/run/netns/$ns" "$MOATD" -c "$TMP/h$i/moatd.conf" \
		>>"$TMP/h$i/moatd.log" 2>&1 &
	kt_bg $!
}

# cpctl ARGS...: moatctl on that control plane's API, with its admin key
cpctl() {
	ip netns exec "$CLI" "$MOATCTL" --server https://127.0.0.1:7444 \
		--api-key-file "$TMP/cp/admin.key" --cacert "$TMP/cp/ca.crt" "$@"
}
