#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-reconcile: a managed host, for real.  A control plane in one network
# namespace (CLI), a host in another (SRV) whose moatd protects srv0.  The
# host enrolls; then it is made a managed host as a control plane that
# declared "web" version 3 (generation 5) would have left it: its state
# directory holds desired.gen and last-good.rules (what moatd writes when
# it applies a `desired`; the operator API that declares rulesets is not
# there yet, and the control plane's store is not for tests to write).
# The test checks:
#
#   - a reboot (interface and pins gone) with the control plane away: moatd
#     comes back at last-good.rules, not its configured ruleset, in the
#     declared mode (audit: nothing dropped, would-drops counted; enforce);
#   - hello says the generation: the control plane, which declared nothing,
#     sends nothing, and the host stays at it;
#   - moatctl status shows the desired generation and the ruleset;
#   - a local apply on a managed host is refused, and changes nothing;
#   - --force applies it, records drift (desired.gen) and tells the control
#     plane at once; moatctl status shows it; a restart keeps it.
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

link_up() { # the veth pair and its addresses: again after a "reboot"
	ip -n "$CLI" addr add "$CP4/24" dev cli0
	ip -n "$SRV" addr add "$HOST4/24" dev srv0
	ip -n "$CLI" link set cli0 up
	ip -n "$SRV" link set srv0 up
}
kt_veth_pair
link_up

cp_start() {
	local log=$TMP/cp.log start
	start=$(stat -c %s "$log" 2>/dev/null || echo 0)
	ip netns exec "$CLI" "$CP" --state "$TMP/cp" --listen "$CP4:7443" \
		--api-listen 127.0.0.1:7444 --san "$CP4" --san 127.0.0.1 \
		--admin-key-file "$TMP/cp/admin.key" --heartbeat-interval 1 \
		--user nobody >>"$log" 2>&1 &
	CP_PID=$!
	kt_bg "$CP_PID"
	kt_wait 15 sh -c "tail -c +$((start + 1)) '$log' | grep -q 'operators on'"
}

cp_stop() {
	kill -TERM "$CP_PID" || { sed "s/^/# cp: /" "$TMP/cp.log" >&2; return 1; }
	wait "$CP_PID" || true
}

cpctl() {
	ip netns exec "$CLI" "$MOATCTL" --server https://127.0.0.1:7444 \
		--api-key-file "$TMP/cp/admin.key" --cacert "$TMP/cp/ca.crt" "$@"
}

status_of() { # KEY: of moatctl status's controlplane object
	mctl --json status | jq -r ".controlplane.$1"
}

cp_state_is() {
	[ "$(status_of state)" = "$1" ]
}

moatd_start() {
	kt_moatd_start "$TMP/host.rules" "controlplane $CP4:7443" \
		"controlplane-ca $FP" "install-token-file $TMP/token" "user nobody"
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
	link_up
}

mkdir -p "$TMP/cp"
kt_check "control plane starts" "see $TMP/cp.log" cp_start
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

cp_start
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

kt_done
