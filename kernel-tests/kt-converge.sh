#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-converge: a fleet converges.  A control plane in one network namespace
# (CLI) with a bridge, and N hosts (namespaces of their own, each a veth
# on the bridge and its own moatd) that enroll with one token.  Then a
# sequence of ruleset versions, assignments and label changes; after each,
# every host ends at its declared generation (the control plane's view and
# moatd's agree) with the ruleset the assignments give it:
#
#   - two rulesets by label (role=web, role=db);
#   - a new version of one: only its hosts move;
#   - a label change moves a host from one ruleset to the other;
#   - a canary assignment in audit mode, first by priority, to 50% of the
#     web hosts: exactly the hosts whose SHA-256("ASSIGNMENT/HOST") says so
#     (docs/api.md) get it, the others fall through to web;
#   - the canary deleted: every web host back on web.
#
# usage: kt-converge.sh MOATD MOATCTL MOAT-CONTROLPLANE
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_fleet_args "$@"
kt_require_kernel ip nsenter jq openssl sha256sum
kt_fleet_init ktv kt-converge

# six hosts: five web, one db; a 50% canary over five leaves all in or
# all out once in 16 fleets, and the check is exact either way
N=6
WEB=$((N - 1))
CP4=10.96.0.1
BR=br0

kt_netns "$CLI"
ip -n "$CLI" link add "$BR" type bridge
ip -n "$CLI" addr add "$CP4/24" dev "$BR"
ip -n "$CLI" link set "$BR" up

kt_cp_start
FP="sha256:$(openssl x509 -in "$TMP/cp/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)"
cpctl --json token create --uses "$N" --label site=kt | (umask 077 && jq -r .token >"$TMP/token")

printf 'policy drop\nallow ping icmp type echo-request\n' >"$TMP/host.rules"

# host I: namespace SRV-I, interface up0 (10.96.0.1I), instance INST-I,
# its files in TMP/hI
host_ns() { echo "$SRV-$1"; }
host_inst() { echo "$INST-$1"; }
host_mctl() { # I ARGS...
	local i=$1
	shift
	nsenter --net="/run/netns/$(host_ns "$i")" "$MOATCTL" -i "$(host_inst "$i")" \
		-s "$TMP/h$i/moatd.sock" "$@"
}

for i in $(seq 1 "$N"); do
	kt_fleet_host "$i" "10.96.0.1$i/24"
done

healthy() {
	[ "$(cpctl --json host list | jq '[.[] | select(.state == "healthy")] | length')" = "$N" ]
}
kt_check "$N hosts enroll and turn healthy" "$(cpctl host list 2>&1)" kt_wait 30 healthy

# host ids in the order of their namespaces: moatd of an instance other
# than "default" calls its host HOSTNAME-INSTANCE
declare -A ID
for i in $(seq 1 "$N"); do
	ID[$i]=$(cpctl --json host list |
		jq -r ".[] | select(.hostname | endswith(\"-$(host_inst "$i")\")) | .id")
done
kt_check "every host has an id" "${ID[*]}" test "$(echo "${ID[@]}" | wc -w)" = "$N"

label() { # I ROLE
	cpctl host label "${ID[$1]}" "role=$2" >/dev/null
}
# what the control plane says of host I: ruleset@version mode gen/gen
declared() {
	cpctl --json host show "${ID[$1]}" |
		jq -r '"\(.config) \(.ruleset.name // "-")@\(.ruleset.version // 0) \(.ruleset.mode // "-")"'
}
# every host converged, each with what WANT (a word per host) says:
# ruleset@version[:audit]
fleet_is() {
	local i=1 want d gen
	for want in "$@"; do
		d=$(cpctl --json host show "${ID[$i]}")
		[ "$(jq -r .config <<<"$d")" = converged ] || return 1
		gen=$(jq -r .desired_generation <<<"$d")
		[ "$(host_mctl "$i" --json status | jq -r .controlplane.applied_generation)" = "$gen" ] || return 1
		[ "$(jq -r '"\(.ruleset.name)@\(.ruleset.version)\(if .ruleset.mode == "audit" then ":audit" else "" end)"' <<<"$d")" = "$want" ] ||
			return 1
		i=$((i + 1))
	done
}
fleet_view() {
	local i d st
	for i in $(seq 1 "$N"); do printf '%s; ' "$i: $(declared "$i")"; done
	# why a host is behind, for the failure's message: is its moatd up,
	# and what did it and the control plane last say
	for i in $(seq 1 "$N"); do
		d=$(declared "$i")
		[ "${d%% *}" = converged ] && continue
		# a moatd stuck would hold moatctl for its 300 s: 5 s here
		st=$(timeout 5 nsenter --net="/run/netns/$(host_ns "$i")" \
			"$MOATCTL" -i "$(host_inst "$i")" -s "$TMP/h$i/moatd.sock" \
			status 2>&1 | head -n 1)
		printf '\n# host %s: %s\n' "$i" "${st:-moatctl status: no answer in 5 s}"
		tail -n 8 "$TMP/h$i/moatd.log" | sed "s/^/# host $i moatd: /"
		grep -F "${ID[$i]}" "$TMP/cp.log" | tail -n 5 | sed "s/^/# host $i cp: /"
	done
}

for i in $(seq 1 "$WEB"); do label "$i" web; done
label "$N" db
printf 'policy drop\nallow ping icmp type echo-request\nallow web tcp dport 80\n' >"$TMP/web1"
printf 'policy drop\nallow ping icmp type echo-request\nallow pg tcp dport 5432\n' >"$TMP/db1"
cpctl ruleset push web "$TMP/web1" >/dev/null
cpctl ruleset push db "$TMP/db1" >/dev/null
cpctl assign add --ruleset web --selector role=web >/dev/null
cpctl assign add --ruleset db --selector role=db >/dev/null
fleet() { # WEB-RULESET [HOST-3-RULESET]: what the first ones and the last run
	local i
	for i in $(seq 1 "$WEB"); do
		if [ "$i" = 3 ] && [ $# -gt 1 ]; then echo "$2"; else echo "$1"; fi
	done
	echo db@1
}
# shellcheck disable=SC2046 # a word a host
kt_check "two rulesets by label: every host converges" "@fleet_view" \
	kt_wait 60 fleet_is $(fleet web@1)

gendb=$(cpctl --json host show "${ID[$N]}" | jq -r .desired_generation)
printf 'policy drop\nallow ping icmp type echo-request\nallow web tcp dport 80,443\n' >"$TMP/web2"
cpctl ruleset push web "$TMP/web2" >/dev/null
# shellcheck disable=SC2046
kt_check "web version 2: its hosts move" "@fleet_view" \
	kt_wait 60 fleet_is $(fleet web@2)
kt_eq "web version 2: the db host's generation stays" "$gendb" \
	"$(cpctl --json host show "${ID[$N]}" | jq -r .desired_generation)"

label 3 db
# shellcheck disable=SC2046
kt_check "a label change: host 3 moves to db" "@fleet_view" \
	kt_wait 60 fleet_is $(fleet web@2 db@1)

# a canary: priority 10 (before web's 100), audit mode, half of role=web
label 3 web
printf 'policy drop\nallow ping icmp type echo-request\nallow web tcp dport 80,443,8443\n' >"$TMP/canary1"
cpctl ruleset push canary "$TMP/canary1" >/dev/null
CANARY=$(cpctl --json assign add --ruleset canary --selector role=web \
	--priority 10 --mode audit --percent 50 | jq -r .id)
# in the rollout: the first 4 bytes of SHA-256("ASSIGNMENT/HOST"),
# big-endian, mod 100, below 50
in_rollout() {
	local h
	h=$(printf '%s/%s' "$CANARY" "$1" | sha256sum | cut -c1-8)
	[ $((16#$h % 100)) -lt 50 ]
}
want=()
for i in $(seq 1 "$WEB"); do
	if in_rollout "${ID[$i]}"; then want+=(canary@1:audit); else want+=(web@2); fi
done
want+=(db@1)
kt_check "canary to 50% in audit mode: exactly the hosts the hash says (${want[*]})" \
	"@fleet_view" kt_wait 60 fleet_is "${want[@]}"
audit_hosts=0
for i in $(seq 1 "$WEB"); do
	if [ "${want[$((i - 1))]}" = canary@1:audit ] &&
		grep -qx "mode audit" "$TMP/h$i/state/desired.gen"; then
		audit_hosts=$((audit_hosts + 1))
	fi
done
kt_eq "canary: its hosts run it in audit mode" \
	"$(printf '%s\n' "${want[@]}" | grep -c canary || true)" "$audit_hosts"

cpctl assign delete "$CANARY" >/dev/null
# shellcheck disable=SC2046
kt_check "canary deleted: every web host back on web" "@fleet_view" \
	kt_wait 60 fleet_is $(fleet web@2)

kt_done
