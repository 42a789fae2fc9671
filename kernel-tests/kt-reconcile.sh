#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-reconcile: a managed host, for real.  A control plane in one network
# namespace (CLI), a host in another (SRV) whose moatd protects srv0.
#
# First the host as a control plane that declared "web" version 3
# (generation 5) left it: its state directory holds desired.gen and
# last-good.rules, as moatd writes them when it applies a `desired`:
#
#   - a reboot (interface and pins gone) with the control plane away: moatd
#     comes back at last-good.rules, not its configured ruleset, in the
#     declared mode (audit: nothing dropped, would-drops counted; enforce);
#   - hello says generation 5; moatctl status shows it;
#   - a local apply is refused; --force applies it, records drift and tells
#     the control plane at once; a restart keeps it.
#
# Then the control plane declares it (moatctl ruleset push, assign, host
# label, host restore: the operator API):
#
#   - a ruleset assigned by label: the host converges (the store's
#     generations are below the one on record: sent all the same);
#   - a new version: converged again, and the fleet counters carry a rule's
#     packets over (same name); a new rule starts at zero;
#   - an invalid ruleset is refused by the control plane with the parser's
#     error; one the host cannot load (over its capacity of 64) leaves it
#     at its previous generation, failing, with the error on both sides;
#   - drift shows in the control plane; restore ends it;
#   - audit mode; a reboot without the control plane comes back at last
#     known good in audit mode, and the control plane back finds it
#     converged;
#   - a rollout that leaves the host out (percent 0): none declared, the
#     ruleset stays, the host unmanaged; listed by id: managed again.
#
# usage: kt-reconcile.sh MOATD MOATCTL MOAT-CONTROLPLANE
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_fleet_args "$@"
kt_require_kernel ip nsenter socat jq openssl sha256sum
kt_fleet_init ktr kt-reconcile

HOST4=10.95.0.2
CP4=10.95.0.1
CP_PID=""

kt_veth_pair
kt_fleet_link

cp_stop() {
	kill -TERM "$CP_PID" || { sed "s/^/# cp: /" "$TMP/cp.log" >&2; return 1; }
	wait "$CP_PID" || true
}

status_of() { # KEY: of moatctl status's controlplane object
	mctl --json status | jq -r ".controlplane.$1"
}

cp_state_is() {
	[ "$(status_of state)" = "$1" ]
}

# capacity 64, the fewest counter slots: a ruleset of 100 rules is one
# this host cannot load, and the control plane accepts
moatd_start() {
	kt_moatd_start "$TMP/host.rules" "controlplane $CP4:7443" \
		"controlplane-ca $FP" "install-token-file $TMP/token" \
		"user nobody" "capacity 64"
}

moatd_stop() {
	kill -TERM "$MOATD_PID" || { sed "s/^/# moatd: /" "$TMP/moatd.log" >&2; return 1; }
	wait "$MOATD_PID" || true
}

tcp8080() { # what the host's echo server says back to CLI, "" when dropped
	echo hi | ip netns exec "$CLI" timeout 5 socat -t 1 - \
		"TCP4:$HOST4:8080,connect-timeout=1" 2>/dev/null || true
}

# "reboot": moatd gone, the interface (and its XDP and TC programs) and the
# pins gone with it; the state directory stays, as a disk does
reboot() {
	moatd_stop
	ip -n "$SRV" link del srv0
	rm -rf "${KT_BPFFS:?}/moat/$INST"
	ip -n "$CLI" link add cli0 type veth peer name srv0 netns "$SRV"
	kt_fleet_link
}

kt_check "control plane starts" "see $TMP/cp.log" kt_cp_start
FP="sha256:$(openssl x509 -in "$TMP/cp/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)"
cpctl --json token create --uses 1 | (umask 077 && jq -r .token >"$TMP/token")

# the configured ruleset lets everything in; the declared one only ping
cat >"$TMP/host.rules" <<'EOF'
policy allow
EOF
cat >"$TMP/web-v3.rules" <<'EOF'
policy drop
allow ping icmp type echo-request
EOF
cat >"$TMP/local.rules" <<'EOF'
policy allow
allow web tcp dport 8080
EOF
ip netns exec "$SRV" socat TCP4-LISTEN:8080,reuseaddr,fork EXEC:cat &
kt_bg $!

moatd_start
kt_check "enrolls" "$(mctl --json status | jq -c .controlplane)" kt_wait 15 cp_state_is connected
kt_check "a server listens on the host's tcp 8080" "not listening" \
	kt_wait 5 kt_listening "$SRV" tcp 8080
kt_eq "unmanaged: no desired generation in moatctl status" null "$(status_of applied_generation)"
kt_eq "unmanaged: tcp 8080 passes (policy allow)" hi "$(tcp8080)"

# --- a managed host, rebooted while the control plane is away -------------

# desired.gen and last-good.rules as moatd writes them after applying
# generation 5, "web" version 3, in audit mode (moatd(8), JOINING A FLEET)
managed() { # MODE
	cp "$TMP/web-v3.rules" "$TMP/state/last-good.rules"
	cat >"$TMP/state/desired.gen" <<-EOF
		generation 5
		ruleset web
		version 3
		sha256 $(sha256sum "$TMP/web-v3.rules" | cut -d' ' -f1)
		mode $1
		drift 0
	EOF
}

cp_stop
managed audit
reboot
moatd_start
kt_check "rebooted, control plane away: moatd says it is at last known good" \
	"$(grep -c . "$TMP/moatd.log") log lines" \
	grep -q "back at its last known good ruleset, web v3 (desired generation 5)" "$TMP/moatd.log"
kt_eq "moatctl status: generation 5 applied" 5 "$(status_of applied_generation)"
kt_eq "moatctl status: the declared ruleset" "web@v3 audit" "$(status_of desired_ruleset)"
# audit: web-v3's "policy drop" only counts what it would drop
kt_eq "audit mode: tcp 8080 passes" hi "$(tcp8080)"
# the SYN and what follows of the connection, each a would-drop
kt_check "audit mode: the policy counted would-drops" \
	"$(mctl --json rules | jq -c '.rules[] | select(.name == "policy")')" \
	test "$(mctl --json rules | jq '.rules[] | select(.name == "policy") | .would_drop')" -gt 0

managed enforce
reboot
moatd_start
kt_eq "rebooted in enforce mode: tcp 8080 dropped (last-good, not the configured file)" "" "$(tcp8080)"
kt_eq "enforce mode: moatctl status" "web@v3 enforce" "$(status_of desired_ruleset)"

# --- the control plane back: hello says generation 5 ------------------------

kt_cp_start
kt_check "control plane back: connected" "$(mctl --json status | jq -c .controlplane)" \
	kt_wait 20 cp_state_is connected
# it declared nothing for this host: nothing is sent, generation 5 stays
sleep 2
kt_eq "the heartbeat's ruleset is last-good.rules" \
	"$(sha256sum "$TMP/web-v3.rules" | cut -d' ' -f1)" \
	"$(cpctl --json host list | jq -r '.[0].dataplane.ruleset_hash')"
kt_eq "control plane declared nothing: generation 5 stays" 5 "$(status_of applied_generation)"
kt_eq "control plane declared nothing: tcp 8080 still dropped" "" "$(tcp8080)"

# --- drift ---------------------------------------------------------------------

out=$(mctl ruleset apply "$TMP/local.rules" 2>&1 || true)
kt_check "a local apply is refused on a managed host" "$out" \
	sh -c "printf '%s' \"\$1\" | grep -q 'this host is managed'" _ "$out"
kt_eq "refused: tcp 8080 still dropped" "" "$(tcp8080)"
kt_eq "refused: no drift" false "$(status_of drift)"

st=0
out=$(mctl ruleset apply --force "$TMP/local.rules" 2>&1) || st=$?
kt_check "--force applies it" "status $st: $out" test "$st" -eq 0
kt_eq "--force: tcp 8080 passes" hi "$(tcp8080)"
kt_eq "--force: moatctl status says drift" true "$(status_of drift)"
kt_check "--force: drift on record" "$(cat "$TMP/state/desired.gen")" \
	grep -qx "drift 1" "$TMP/state/desired.gen"
kt_check "--force: the control plane is told at once" "$(tail -n 3 "$TMP/cp.log")" \
	kt_wait 5 grep -q "drifted from generation 5" "$TMP/cp.log"

moatd_stop
moatd_start
kt_eq "restarted: still drifted" true "$(status_of drift)"
kt_eq "restarted: the forced ruleset stays (adopted)" hi "$(tcp8080)"


# --- declared by the control plane -------------------------------------------

HOST_ID=$(cpctl --json host list | jq -r '.[0].id')
host_field() { # FIELD: of the host, in the control plane's view
	cpctl --json host show "$HOST_ID" | jq -r ".$1"
}
host_view() { # for the failure messages
	cpctl --json host show "$HOST_ID" |
		jq -c '{config, desired_generation, applied_generation, drift, apply_error}'
}
host_is() { # FIELD VALUE
	[ "$(host_field "$1")" = "$2" ]
}
converged() { # the control plane and moatd agree, without drift
	host_is config converged &&
		[ "$(status_of applied_generation)" = "$(host_field desired_generation)" ]
}
newer_than() { # GEN: converged at a generation past GEN
	converged && [ "$(status_of applied_generation)" -gt "$1" ]
}
on_record() { # LINE: in desired.gen
	grep -qx "$1" "$TMP/state/desired.gen"
}
says() { # TEXT PATTERN
	printf '%s' "$1" | grep -q "$2"
}

cat >"$TMP/web-v1.rules" <<'EOF'
policy drop
allow ping icmp type echo-request
allow web tcp dport 8080
EOF
{
	cat "$TMP/web-v1.rules"
	echo "allow extra tcp dport 9090"
} >"$TMP/web-v2.rules"

cpctl host label "$HOST_ID" role=web >/dev/null
kt_eq "ruleset pushed: version 1" 1 \
	"$(cpctl --json ruleset push web "$TMP/web-v1.rules" | jq -r .version)"
ASSIGN=$(cpctl --json assign add --ruleset web --selector role=web | jq -r .id)
# the store's generations start at 1, below the 5 on record from "another
# control plane": the host is sent the store's all the same
kt_check "assigned: the host converges" "$(host_view)" kt_wait 10 converged
kt_eq "converged: no drift left" false "$(status_of drift)"
kt_check "converged: version 1 on record" "$(cat "$TMP/state/desired.gen")" \
	on_record "version 1"
kt_eq "converged: tcp 8080 passes (rule web)" hi "$(tcp8080)"
GEN=$(status_of applied_generation)

# traffic on rule web, then version 2: the counters the host reports once
# it applied it carry web's packets over (the same name)
tcp8080 >/dev/null
kt_eq "ruleset pushed: version 2" 2 \
	"$(cpctl --json ruleset push web "$TMP/web-v2.rules" | jq -r .version)"
kt_check "version 2: converged at a new generation" "$(host_view)" \
	kt_wait 10 newer_than "$GEN"
GEN=$(status_of applied_generation)
rule_packets() { # RULE: summed over the hosts' last reports
	cpctl --json ruleset counters web |
		jq -r ".rules[] | select(.name == \"$1\") | .packets"
}
counted() {
	[ "$(rule_packets web)" -gt 0 ]
}
# two connections, each at least a SYN and an ACK through rule web
kt_check "counters: web's packets carried over to version 2" \
	"$(cpctl --json ruleset counters web | jq -c .rules)" kt_wait 10 counted
kt_eq "counters: the new rule is there, from zero" 0 "$(rule_packets extra)"

# --- refused by the control plane, and by the host --------------------------

printf 'policy drop\nallow web tcpx dport 8080\n' >"$TMP/bad.rules"
st=0
out=$(cpctl ruleset push web "$TMP/bad.rules" 2>&1) || st=$?
kt_check "an invalid ruleset is refused" "status $st: $out" test "$st" -ne 0
kt_check "refused: with the parser's error" "$out" says "$out" "web:2:.*tcpx"
kt_eq "refused: no new version" 2 "$(cpctl --json ruleset versions web | jq length)"

# 100 rules more: the control plane takes it, this host (64 slots) cannot
{
	cat "$TMP/web-v2.rules"
	for i in $(seq 1 100); do echo "allow r$i tcp dport $((10000 + i))"; done
} >"$TMP/web-big.rules"
cpctl ruleset push web "$TMP/web-big.rules" >/dev/null
kt_check "over capacity: the host is failing" "$(host_view)" \
	kt_wait 10 host_is config failing
kt_check "over capacity: the control plane has the host's error" "$(host_view)" \
	says "$(host_field apply_error)" "cannot apply web@v3"
kt_eq "over capacity: the previous generation stays" "$GEN" "$(status_of applied_generation)"
kt_check "over capacity: version 2 stays on record" "$(cat "$TMP/state/desired.gen")" \
	on_record "version 2"
kt_eq "over capacity: version 2 still enforced" hi "$(tcp8080)"
kt_check "over capacity: moatctl status says why" "$(status_of apply_error)" \
	says "$(status_of apply_error)" "cannot apply web@v3"

cpctl ruleset push web "$TMP/web-v1.rules" >/dev/null
kt_check "a version that fits: converged again" "$(host_view)" \
	kt_wait 10 newer_than "$GEN"

# --- drift, restore ----------------------------------------------------------

mctl ruleset apply --force "$TMP/local.rules" >/dev/null
kt_check "--force: the control plane shows drift" "$(host_view)" \
	kt_wait 5 host_is config drift
cpctl host restore "$HOST_ID" >/dev/null
kt_check "restored: converged" "$(host_view)" kt_wait 10 converged
kt_eq "restored: moatd's drift cleared" false "$(status_of drift)"
kt_check "restored: on record" "$(cat "$TMP/state/desired.gen")" on_record "drift 0"

# --- audit mode, then a reboot without the control plane --------------------

GEN=$(status_of applied_generation)
cpctl assign set "$ASSIGN" --mode audit >/dev/null
kt_check "audit: converged" "$(host_view)" kt_wait 10 newer_than "$GEN"
kt_check "audit: on record" "$(cat "$TMP/state/desired.gen")" on_record "mode audit"
would_drop() {
	mctl --json rules | jq '.rules[] | select(.name == "policy") | .would_drop'
}
before=$(would_drop)
# a SYN to a port no rule allows: the policy would drop it, and does not
ip netns exec "$CLI" timeout 3 socat -T 1 - "TCP4:$HOST4:7777,connect-timeout=1" \
	</dev/null >/dev/null 2>&1 || true
kt_check "audit: the policy counts a would-drop" "before $before, now $(would_drop)" \
	test "$(would_drop)" -gt "$before"
GEN=$(status_of applied_generation)

cp_stop
reboot
moatd_start
kt_check "offline reboot: last known good, in audit mode" "$(tail -n 3 "$TMP/moatd.log")" \
	grep -q "applied $TMP/state/last-good.rules in audit mode" "$TMP/moatd.log"
kt_eq "offline reboot: tcp 8080 passes" hi "$(tcp8080)"
kt_eq "offline reboot: the generation on record" "$GEN" "$(status_of applied_generation)"
kt_cp_start
kt_check "control plane back: converged at the same generation" "$(host_view)" \
	kt_wait 20 converged
kt_eq "control plane back: nothing new applied" "$GEN" "$(status_of applied_generation)"

# --- rollout: outside it, then listed ----------------------------------------

cpctl assign set "$ASSIGN" --percent 0 >/dev/null
unmanaged() {
	! grep -q "^ruleset " "$TMP/state/desired.gen"
}
kt_check "percent 0, not listed: the host falls out (none declared)" \
	"$(cat "$TMP/state/desired.gen")" kt_wait 10 unmanaged
kt_eq "none declared: the ruleset in force stays" hi "$(tcp8080)"
st=0
out=$(mctl ruleset apply "$TMP/web-v1.rules" 2>&1) || st=$?
kt_check "none declared: a local apply needs no --force" "status $st: $out" test "$st" -eq 0
cpctl assign set "$ASSIGN" --host "$HOST_ID" >/dev/null
kt_check "listed in the rollout: managed and converged" "$(host_view)" \
	kt_wait 10 converged
kt_check "listed: web on record" "$(cat "$TMP/state/desired.gen")" on_record "ruleset web"

kt_done
