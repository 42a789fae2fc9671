#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Push to applied with real moatd: kt-converge.sh's fleet (a control
# plane in one namespace with a bridge, HOSTS hosts each in a namespace
# of its own with its moatd, enrolled with one install token), then a
# ClassBench-style ruleset of RULES rules pushed with moatctl and
# assigned to every host, and PUSHES more versions, each with one more
# rule's action turned around.  For each push: from just before the
# first command to the hosts API saying every host converged on the
# version (polled every 50 ms, each poll a moatctl run), and each moatd's
# own apply (parse, compile, load) as its log says.  As root, after
# `ninja -C build`; what it makes is removed at exit (kernel-tests/lib).
#
#   sudo bench/fleet/moatd-push.sh [HOSTS] [RULES] [PUSHES] [BUILD-DIR] [LOG-DIR]
#
# LOG-DIR, when given, gets the control plane's and each moatd's log.
set -eu
here=$(dirname "$0")
# shellcheck source=SCRIPTDIR/../../kernel-tests/lib/kt.sh
. "$here/../../kernel-tests/lib/kt.sh"
# shellcheck source=SCRIPTDIR/../../kernel-tests/lib/kt-moatd.sh
. "$here/../../kernel-tests/lib/kt-moatd.sh"

N=${1:-10}
RULES=${2:-10000}
PUSHES=${3:-3}
b=$(realpath "${4:-build}")
logs=${5:-}
kt_fleet_args "$b/mgmt/agent/moatd" "$b/tools/moatctl/moatctl" \
	"$b/mgmt/moat-controlplane"
kt_require_kernel ip nsenter jq openssl sha256sum
kt_fleet_init mpu moatd-push
CP4=10.97.0.1
BR=br0
say() { echo "moatd-push: $*" >&2; }

kt_netns "$CLI"
ip -n "$CLI" link add "$BR" type bridge
ip -n "$CLI" addr add "$CP4/16" dev "$BR"
ip -n "$CLI" link set "$BR" up
# heartbeats every 10 s, moatd's default, not the tests' 1 s: a moatd
# busy applying for longer than three intervals sends none, and the
# control plane would end its session
kt_cp_start --heartbeat-interval 10
FP="sha256:$(openssl x509 -in "$TMP/cp/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)"
cpctl --json token create --uses "$N" | (umask 077 && jq -r .token >"$TMP/token")
printf 'policy drop\nallow ping icmp type echo-request\n' >"$TMP/host.rules"

for i in $(seq 1 "$N"); do
	kt_fleet_host "$i" "10.97.$((i / 200 + 1)).$((i % 200 + 1))/16"
done

count() { # JQ-CONDITION: how many hosts the API says meet it
	cpctl --json host list | jq "[.[] | select($1)] | length"
}
healthy() { [ "$(count '.state == "healthy"')" = "$N" ]; }
kt_wait 60 healthy || {
	say "not every host enrolled and turned healthy in 60 s"
	exit 1
}
say "$N moatd enrolled and healthy; pushing $RULES rules"

"$b/bench/moat-bench" gen --rules "$RULES" >"$TMP/v0.rules"
now_ms() { echo "${EPOCHREALTIME/./}" | awk '{ printf "%.1f", $1 / 1000 }'; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# min, median and max of the numbers on stdin
spread() { sort -g | awk '{ v[NR] = $1 } END { printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }

printf '%-6s %10s %12s %25s\n' push "request ms" "converged ms" "moatd apply ms min/p50/max"
for k in $(seq 0 "$PUSHES"); do
	rules=$TMP/v$k.rules
	if [ "$k" -gt 0 ]; then
		# one more rule's action turned around: a new version
		r=$(printf 'r%06d' "$k")
		awk -v r="$r" '$2 == r && ($1 == "drop" || $1 == "allow") {
			sub(/^[a-z]+/, $1 == "drop" ? "allow" : "drop") } { print }' \
			"$TMP/v$((k - 1)).rules" >"$rules"
	fi
	t0=$(now_ms)
	v=$(cpctl --json ruleset push bench "$rules" | jq -r .version)
	[ "$k" -gt 0 ] || cpctl assign add --ruleset bench >/dev/null
	t1=$(now_ms)
	conv() { [ "$(count ".config == \"converged\" and .ruleset.version == $v")" = "$N" ]; }
	ok=yes
	until conv; do
		if [ "$(since "$t0" "$(now_ms)" | cut -d. -f1)" -gt 120000 ]; then
			ok=no
			break
		fi
		sleep 0.05
	done
	t2=$(now_ms)
	apply=$(cat "$TMP"/h*/moatd.log | sed -n "s/.*applied bench@v$v: .* in \([0-9.]*\) ms.*/\1/p" | spread)
	if [ $ok = yes ]; then
		printf '%-6s %10s %12s %25s\n' "$((k + 1)) v$v" "$(since "$t0" "$t1")" \
			"$(since "$t0" "$t2")" "$apply"
	else
		printf '%-6s %10s %12s %25s\n' "$((k + 1)) v$v" "$(since "$t0" "$t1")" \
			"never" "$apply"
		say "version $v: not every host converged in 120 s"
		break
	fi
done
if [ -n "$logs" ]; then
	mkdir -p "$logs"
	cp "$TMP/cp.log" "$logs/controlplane.log"
	for i in $(seq 1 "$N"); do cp "$TMP/h$i/moatd.log" "$logs/moatd-$i.log"; done
fi
[ "$ok" = yes ]
