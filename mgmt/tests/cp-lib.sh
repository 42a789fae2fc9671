# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by the control plane's end-to-end tests (cp-api.sh, cp-ctl.sh):
# a temporary directory, kept only when something failed; pass and fail
# counters; free loopback ports; moat-controlplane started in it.
#
# Set before sourcing: NAME (for messages), CP (the binary).  The test
# defines bad() (it knows what output to show) and may set CP_ARGS (more
# options).

TMP=$(mktemp -d "/tmp/${NAME:?}.XXXXXX")
STATE=$TMP/state
CP_PID=
CP_ARGS=()
PASSED=0
FAILED=0

cleanup() {
	if [ -n "$CP_PID" ]; then
		kill "$CP_PID" 2>/dev/null || true
		wait "$CP_PID" 2>/dev/null || true
	fi
	if [ "$FAILED" -eq 0 ]; then
		rm -rf "$TMP"
	else
		echo "$NAME: kept $TMP for a look" >&2
	fi
}
trap cleanup EXIT

# a loopback port free now, below the ephemeral range (cptest.py says why)
free_port() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/cptest.py" --free-port
}

pass() {
	PASSED=$((PASSED + 1))
	echo "ok: $1"
}

# json NAME JQ-ARGS...: the last reply ($TMP/out) is JSON, and
# `jq -e JQ-ARGS` holds
json() {
	local name=$1
	shift
	if [ -s "$TMP/out" ] && jq -e "$@" "$TMP/out" >/dev/null; then
		pass "$name"
	else
		bad "$name: jq -e $*"
	fi
}

AGENT_PORT=$(free_port)
API_PORT=$(free_port)
mkdir -m 0700 "$STATE"

# As root, the control plane would become its user, who cannot read $TMP;
# --user is ignored by anyone else.  It is ready once it says where it
# listens: the first start's bootstrap (ca.crt, the admin key) is done
# by then, though its port takes connections from the moment it is bound.
start_cp() {
	: >"$TMP/cp.log"
	"$CP" --state "$STATE" --listen "127.0.0.1:$AGENT_PORT" \
		--api-listen "127.0.0.1:$API_PORT" --user root "${CP_ARGS[@]}" \
		>>"$TMP/cp.log" 2>&1 &
	CP_PID=$!
	for _ in $(seq 100); do
		if grep -q 'operators on' "$TMP/cp.log"; then
			return 0
		fi
		sleep 0.1
	done
	echo "$NAME: moat-controlplane did not start:" >&2
	cat "$TMP/cp.log" >&2
	exit 1
}

stop_cp() {
	kill "$CP_PID"
	wait "$CP_PID" 2>/dev/null || true
	CP_PID=
}
