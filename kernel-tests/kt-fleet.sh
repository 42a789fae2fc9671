#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-fleet: moatd joins a fleet, for real.  A control plane in one network
# namespace (CLI), a host in another (SRV) whose moatd protects srv0, the
# only way to the control plane, with "policy drop": management traffic
# passes because the host opened it (conntrack).  The test checks:
#
#   - a wrong CA fingerprint: no connection, the token not used;
#   - enrollment with a token, identity.pem 0600, the host healthy;
#   - the session process: user nobody, no capabilities, seccomp, no_new_privs;
#   - the control plane stopped: enforcement goes on; restarted: the host
#     is back; killed (SIGKILL): the host is back and nothing is lost;
#   - the session process killed: moatd starts another;
#   - the host removed by an operator: moatd is told at once; a new token
#     re-enrolls it (same host id) with its state dir left as it was;
#   - moatd killed: the host turns stale, then offline.
#
# usage: kt-fleet.sh MOATD MOATCTL MOAT-CONTROLPLANE
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_fleet_args "$@"
kt_require_kernel ip nsenter socat ping jq openssl sha256sum
kt_fleet_init ktf kt-fleet

HOST4=10.93.0.2
CP4=10.93.0.1
CP_PID=""

kt_veth_pair
kt_fleet_link

# the control plane, in CLI; its API on CLI's loopback
cp_start() {
	kt_cp_start --stale-after 3 --offline-after 6
}

host_field() { # FIELD: of the only host, from the API
	cpctl --json host list | jq -r ".[0].$1"
}

host_state_is() {
	[ "$(host_field state)" = "$1" ]
}

cp_state_is() { # moatd's own view: moatctl status
	[ "$(mctl --json status | jq -r .controlplane.state)" = "$1" ]
}

cp_state_not() {
	! cp_state_is "$1"
}

kt_check "control plane starts" "see $TMP/cp.log" cp_start
FP="sha256:$(openssl x509 -in "$TMP/cp/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)"
cpctl --json token create --uses 1 --label site=kt >"$TMP/token.json"
(umask 077 && jq -r .token "$TMP/token.json" >"$TMP/token")
TOKEN_ID=$(jq -r .id "$TMP/token.json")
token_uses() {
	cpctl --json token list | jq -r ".[] | select(.id == \"$TOKEN_ID\") | .uses"
}

# policy drop: only ping in; the host's own connections come back as
# established (conntrack), the control plane's among them
cat >"$TMP/host.rules" <<'EOF'
policy drop
allow ping icmp type echo-request
EOF
ip netns exec "$SRV" socat TCP4-LISTEN:8080,reuseaddr,fork EXEC:cat &
kt_bg $!

# --- a wrong fingerprint -------------------------------------------------------

WRONG="sha256:$(printf '%064d' 0)"
kt_moatd_start "$TMP/host.rules" "controlplane $CP4:7443" \
	"controlplane-ca $WRONG" "install-token-file $TMP/token" "user nobody"
kt_check "wrong CA fingerprint: moatd says so" "$(grep -c . "$TMP/moatd.log") log lines" \
	kt_wait 10 grep -q "matches the pinned $WRONG" "$TMP/moatd.log"
kt_eq "wrong CA fingerprint: the token is not used" 0 "$(token_uses)"
kt_eq "wrong CA fingerprint: no host" 0 "$(cpctl --json host list | jq length)"
kill -TERM "$MOATD_PID"
wait "$MOATD_PID" || true

# --- enrollment ----------------------------------------------------------------

kt_moatd_start "$TMP/host.rules" "controlplane $CP4:7443" \
	"controlplane-ca $FP" "install-token-file $TMP/token" "user nobody"
kt_check "enrolls and turns healthy" "state $(host_field state 2>&1)" kt_wait 15 host_state_is healthy
kt_eq "the token was used once" 1 "$(token_uses)"
HOST_ID=$(host_field id)
kt_check "host id" "'$HOST_ID'" test "${HOST_ID#h}" != "$HOST_ID"
kt_eq "label of the token" kt "$(host_field labels.site)"
kt_eq "the heartbeat carries the instance" "$INST" "$(host_field dataplane.instance)"
kt_eq "the heartbeat carries the ruleset's hash" \
	"$(sha256sum "$TMP/host.rules" | cut -d' ' -f1)" "$(host_field dataplane.ruleset_hash)"
kt_check "moatctl status: connected" "$(mctl --json status | jq -c .controlplane)" cp_state_is connected
kt_eq "identity.pem is 0600" 600 "$(stat -c %a "$TMP/state/identity.pem")"
kt_check "the token is not in the state dir" "grep found it" \
	sh -c "! grep -rqF '$(cat "$TMP/token")' '$TMP/state'"

# the session process: moatd's child, unprivileged, filtered
SESS=$(pgrep -P "$MOATD_PID" -f session-fd | head -n 1)
kt_check "a session process" "none found" test -n "$SESS"
status_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SESS/status"; }
kt_eq "session process runs as nobody" "$(id -u nobody)" "$(status_of Uid)"
kt_eq "session process: no capabilities" 0000000000000000 "$(status_of CapEff)"
kt_eq "session process: seccomp filter" 2 "$(status_of Seccomp)"
kt_eq "session process: no_new_privs" 1 "$(status_of NoNewPrivs)"

# --- the control plane goes away ----------------------------------------------

kill -TERM "$CP_PID"
wait "$CP_PID" || true
kt_check "a server listens on the host's tcp 8080" "not listening" \
	kt_wait 5 kt_listening "$SRV" tcp 8080
kt_eq "control plane down: ping still allowed" 3 "$(kt_pings)"
r=$(echo hi | ip netns exec "$CLI" timeout 5 socat -t 1 - "TCP4:$HOST4:8080,connect-timeout=1" 2>/dev/null || true)
kt_eq "control plane down: tcp 8080 still dropped" "" "$r"
kt_check "control plane down: moatd knows" "$(mctl --json status | jq -c .controlplane)" \
	kt_wait 10 cp_state_not connected

cp_start
kt_check "control plane restarted: the host is back" "state $(host_field state 2>&1)" \
	kt_wait 20 cp_state_is connected
seen=$(host_field last_seen)
sleep 2.5
kt_check "restarted: heartbeats go on" "last_seen $seen then $(host_field last_seen)" \
	test "$(host_field last_seen)" -gt "$seen"

kill -KILL "$CP_PID"
wait "$CP_PID" || true
cp_start
kt_check "control plane killed and restarted: the host is back" "$(mctl --json status | jq -c .controlplane)" \
	kt_wait 70 cp_state_is connected
kt_eq "killed: the host is still the same one" "$HOST_ID" "$(host_field id)"
kt_check "killed: the audit chain verifies" "$(cpctl audit verify 2>&1)" cpctl audit verify

# --- the session process dies --------------------------------------------------

kill -KILL "$SESS"
kt_check "session process killed: moatd says so" "$(tail -n 3 "$TMP/moatd.log")" \
	kt_wait 5 grep -q "killed by signal 9" "$TMP/moatd.log"
kt_check "session process killed: another one connects" "$(mctl --json status | jq -c .controlplane)" \
	kt_wait 15 cp_state_is connected
NEW=$(pgrep -P "$MOATD_PID" -f session-fd | head -n 1)
kt_check "a new session process" "old $SESS, new '$NEW'" test -n "$NEW" -a "$NEW" != "$SESS"

# --- removed by an operator -----------------------------------------------------

cpctl host remove "$HOST_ID" >/dev/null
kt_check "removed: moatd is told at once" "$(mctl --json status | jq -c .controlplane)" \
	kt_wait 5 grep -q "host_removed" "$TMP/moatd.log"
kt_check "removed: moatd refused (no token left)" "$(mctl --json status | jq -c .controlplane)" \
	kt_wait 5 cp_state_is refused
kt_eq "removed: the API says removed" removed "$(host_field state)"

# a new token, the state dir as it was: moatd enrolls again
kill -TERM "$MOATD_PID"
wait "$MOATD_PID" || true
cpctl --json token create | (umask 077 && jq -r .token >"$TMP/token")
kt_moatd_start "$TMP/host.rules" "controlplane $CP4:7443" \
	"controlplane-ca $FP" "install-token-file $TMP/token" "user nobody"
kt_check "re-enrolled with a new token: healthy" "state $(host_field state 2>&1)" \
	kt_wait 20 host_state_is healthy
kt_eq "re-enrolled: the same host id" "$HOST_ID" "$(host_field id)"

# --- the host dies --------------------------------------------------------------

pkill -KILL -P "$MOATD_PID" || true
kill -KILL "$MOATD_PID"
wait "$MOATD_PID" || true
kt_check "moatd killed: stale" "state $(host_field state)" kt_wait 8 host_state_is stale
kt_check "moatd killed: then offline" "state $(host_field state)" kt_wait 8 host_state_is offline
kt_check "moatd killed: the firewall stays (pins)" "no pins" \
	test -d "$KT_BPFFS/moat/$INST"

kt_done
