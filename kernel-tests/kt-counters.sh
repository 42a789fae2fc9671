#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-counters: a host's per-rule counters reach the control plane, for
# real.  A control plane in one network namespace (CLI), a host in another
# (SRV) whose moatd protects srv0 with "counters-interval 2".
#
#   - moatd --check refuses a counters-interval of 0 with the key's range;
#   - periodic: the unmanaged host (no desired state, so no apply, so
#     nothing asks) reports every 2 s by itself; pings from CLI show up in
#     the control plane's copy of its counters without any request;
#   - refresh: once the control plane declares a ruleset, `moatctl
#     ruleset counters NAME --refresh` asks and waits, and prints the
#     pings sent just before, exact, with nothing on stderr.
#
# usage: kt-counters.sh MOATD MOATCTL MOAT-CONTROLPLANE
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_fleet_args "$@"
kt_require_kernel ip nsenter ping jq openssl sha256sum
kt_fleet_init ktk kt-counters

HOST4=10.97.0.2
CP4=10.97.0.1

kt_veth_pair
kt_fleet_link

kt_check "control plane starts" "see $TMP/cp.log" kt_cp_start
FP="sha256:$(openssl x509 -in "$TMP/cp/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)"
cpctl --json token create --label site=kt | (umask 077 && jq -r .token >"$TMP/token")

# without conntrack every echo-request is rule ping's (with it, those
# after the first would be the flow's, "(established)"); policy allow
# lets the control plane's replies in
cat >"$TMP/host.rules" <<'EOF'
policy allow
allow ping icmp type echo-request
EOF
CONF=("controlplane $CP4:7443" "controlplane-ca $FP"
	"install-token-file $TMP/token" "user nobody" "conntrack no")

# --- moatd --check ---------------------------------------------------------------

printf 'interfaces srv0\nruleset %s\ncounters-interval 0\n' "$TMP/host.rules" >"$TMP/bad.conf"
st=0
out=$("$MOATD" --check -c "$TMP/bad.conf" 2>&1) || st=$?
kt_check "counters-interval 0: moatd --check fails" "status $st" test "$st" -ne 0
kt_check "counters-interval 0: file, line, column and the range" "$out" \
	grep -qF "bad.conf:3:19: counters-interval is not a number of seconds from 1 to 3600: '0'" <<<"$out"

# --- periodic reports -------------------------------------------------------------

kt_moatd_start "$TMP/host.rules" "${CONF[@]}" "counters-interval 2"
host_field() { # FIELD: of the only host, from the API
	cpctl --json host list | jq -r ".[0].$1"
}
host_is_healthy() {
	[ "$(host_field state)" = healthy ]
}
kt_check "enrolls and turns healthy" "state $(host_field state 2>&1)" kt_wait 15 host_is_healthy
HOST_ID=$(host_field id)
kt_eq "unmanaged: no desired state, so no apply asks for counters" unmanaged "$(host_field config)"

counters() { # JQ: of the host's last report
	cpctl --json host counters "$HOST_ID" | jq -r "$1"
}
reported() {
	[ "$(counters .time)" -gt 0 ]
}
# the first report an interval after welcome
kt_check "a report comes unasked" "time $(counters .time)" kt_wait 5 reported
kt_eq "not asked: not pending" false "$(counters .pending)"

kt_eq "3 pings answered" 3 "$(kt_pings)"
# each echo-request crosses srv0's XDP program once, through rule ping;
# the replies leave by srv0's egress, which no rule counts
ping_is() {
	[ "$(counters '.rules[] | select(.name == "ping") | .packets')" = "$1" ]
}
kt_check "the pings in the next report, unasked" \
	"at $(date +%s): $(cpctl --json host counters "$HOST_ID" | jq -c '[.time, .rules]')" \
	kt_wait 6 ping_is 3

# two reports in a row, 2 s apart (the store's time is in seconds)
t1=$(counters .time)
newer_than() {
	[ "$(counters .time)" -gt "$1" ]
}
kt_check "another report" "time $t1" kt_wait 5 newer_than "$t1"
t2=$(counters .time)
kt_check "another report" "time $t2" kt_wait 5 newer_than "$t2"
t3=$(counters .time)
kt_check "reports 2 s apart" "times $t1 $t2 $t3" \
	test $((t3 - t2)) -ge 1 -a $((t3 - t2)) -le 3

# --- refresh ----------------------------------------------------------------------

cp "$TMP/host.rules" "$TMP/web.rules"
cpctl ruleset push web "$TMP/web.rules" >/dev/null
cpctl assign add --ruleset web --selector site=kt >/dev/null
converged() {
	[ "$(host_field config)" = converged ]
}
kt_check "assigned web: converged" "config $(host_field config)" kt_wait 10 converged
kt_eq "3 pings more" 3 "$(kt_pings)"
st=0
cpctl ruleset counters web --refresh --timeout 5 >"$TMP/out" 2>"$TMP/err" || st=$?
kt_eq "counters --refresh: exit 0" 0 "$st"
kt_check "counters --refresh: nothing on stderr" "$(cat "$TMP/err")" test ! -s "$TMP/err"
# the rule's name stayed: 3 + 3 echo-requests of 98 bytes (84 of IP, 14
# of Ethernet)
kt_check "counters --refresh: ping's 6 packets, at once" "$(cat "$TMP/out")" \
	grep -qE "^ping +allow +6 +588 +$HOST_ID \(6\)$" "$TMP/out"
kt_check "counters --refresh: one host reporting" "$(head -n1 "$TMP/out")" \
	grep -qE "^ruleset web: 1 hosts reporting, the oldest report [0-9]+s ago$" "$TMP/out"

kt_done
