#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cp-ctl: every control-plane command of moatctl against a real
# moat-controlplane, over its real HTTPS operator API.
#
# The control plane starts in a temporary state directory on loopback; it
# prints the admin key once ("admin key: moat-key-...") and writes its CA
# certificate to STATE/ca.crt, which moatctl then pins with --cacert.  The
# admin works through workspaces, roles, tokens, keys and hosts; a key
# bound to 'viewer' is refused what viewers may not do, with the missing
# permission named; a revoked key is refused outright.  The audit log must
# hold what was done, and its chain verify; a record edited in the store
# behind the control plane's back must then fail the check.  Last, the
# failures that never reach the API: a wrong CA, nothing listening, bad
# command lines.  The API key must never appear in anything moatctl prints.
#
# One host is enrolled by agentwire.py (no moatd): it never applies
# anything, so its declared state stays pending.
#
# usage: cp-ctl.sh MOAT_CONTROLPLANE MOATCTL
set -eu

CP=${1:?usage: cp-ctl.sh MOAT_CONTROLPLANE MOATCTL}
CTL=${2:?usage: cp-ctl.sh MOAT_CONTROLPLANE MOATCTL}
NAME=cp-ctl
# shellcheck source-path=SCRIPTDIR source=cp-lib.sh
. "$(dirname "$0")/cp-lib.sh"

# no settings from the machine: only what this test sets
export HOME=$TMP
unset MOAT_SERVER MOAT_API_KEY MOAT_API_KEY_FILE MOAT_CACERT MOAT_WORKSPACE

bad() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $1" >&2
	sed 's/^/    out: /' "$TMP/out" >&2 || true
	sed 's/^/    err: /' "$TMP/err" >&2 || true
}

# run WANT-STATUS NAME ARGS...: moatctl ARGS, its status must be WANT;
# stdout in $TMP/out, stderr in $TMP/err (both also appended to all.txt)
run() {
	local want=$1 name=$2 got=0
	shift 2
	"$CTL" "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
	cat "$TMP/out" "$TMP/err" >>"$TMP/all.txt"
	if [ "$got" -eq "$want" ]; then
		pass "$name"
	else
		bad "$name: exit $got, expected $want"
	fi
}

# has FILE NAME PATTERN: the last output (out or err) matches PATTERN
has() {
	if grep -qE -- "$3" "$TMP/$1"; then
		pass "$2"
	else
		bad "$2: no /$3/ in $1"
	fi
}

start_cp
ADMIN_KEY=$(sed -n 's/^.*admin key: \(moat-key-[^ ]*\).*$/\1/p' "$TMP/cp.log" | head -n1)
[ -n "$ADMIN_KEY" ] || { echo "cp-ctl: no 'admin key:' line" >&2; cat "$TMP/cp.log" >&2; exit 1; }
( umask 077; printf '%s\n' "$ADMIN_KEY" >"$TMP/admin.key" )

# --- settings: a config file, checked, then used
cat >"$TMP/moatctl.conf" <<EOF
# written by cp-ctl.sh
server https://127.0.0.1:$API_PORT
api-key-file $TMP/admin.key
cacert $STATE/ca.crt
EOF
run 0 "cp-config check: a good file" cp-config check "$TMP/moatctl.conf"
has out "cp-config check says OK" '^configuration OK$'
printf 'server https://127.0.0.1:1\ncacert /x\ncacert /y\n' >"$TMP/bad.conf"
run 1 "cp-config check: a key twice" cp-config check "$TMP/bad.conf"
has err "cp-config check names file and line" "bad.conf:3: key given twice"
mkdir -p "$HOME/.config/moat"
cp "$TMP/moatctl.conf" "$HOME/.config/moat/moatctl.conf"
run 0 "whoami from ~/.config/moat/moatctl.conf" whoami
has out "whoami: the admin user" '^user: +admin$'
has out "whoami: bound to admin everywhere" '^bindings: +\*:admin$'
# a flag over the file: a server nobody listens on
NOBODY=$(free_port)
run 1 "--server wins over the file" --server "https://127.0.0.1:$NOBODY" whoami
has err "the flag's server was tried" "cannot reach https://127\.0\.0\.1:$NOBODY"
rm "$HOME/.config/moat/moatctl.conf"

export MOAT_SERVER=https://127.0.0.1:$API_PORT
export MOAT_CACERT=$STATE/ca.crt
export MOAT_API_KEY_FILE=$TMP/admin.key

# --- workspaces
run 0 "workspace list" workspace list
has out "the default workspace" ' default +[0-9-]+ [0-9:]+Z +sha256:[0-9a-f]{64}$'
run 0 "workspace create" workspace create edge
has out "the new workspace's id" '^id: +w[a-z2-7]{10}$'
run 1 "workspace create: a name taken" workspace create edge
run 0 "workspaces list (plural)" workspaces list
has out "both workspaces" ' edge '
run 0 "workspace list --json" -j workspace list
json "--json is the API's array" 'map(.name) | index("edge") != null'

# --- roles
run 0 "role list" role list
has out "built-in roles" '^operator +yes '
run 0 "role set" role set deployer token:create token:read
has out "role set echoes" 'role deployer in workspace default: token:create token:read'
run 0 "role list -w edge" role list -w edge
if grep -q '^deployer' "$TMP/out"; then bad "roles are per workspace"; else pass "roles are per workspace"; fi
run 0 "role delete" role delete deployer
run 1 "role delete: gone" role delete deployer

# --- tokens
run 0 "token create" token create --ttl 2h --uses 2 --label role=web --label dc=fra1 --description "cp-ctl e2e"
has out "the token, once" '^token: +moat-tok-[A-Za-z0-9_-]{43}$'
has err "the warning that it is shown only now" 'shown only now'
has out "labels sorted" '^labels: +dc=fra1,role=web$'
TOKEN_ID=$(sed -n 's/^id: *//p' "$TMP/out")
run 0 "token list" token list
has out "the token listed, valid, unused" "^$TOKEN_ID +valid +0/2 +in (2h00m|1h5[0-9]m)"
if grep -q moat-tok- "$TMP/out"; then bad "token list shows no secret"; else pass "token list shows no secret"; fi
run 0 "token create --json" --json token create
json "token create --json has the token" '.token | startswith("moat-tok-")'
run 0 "token revoke" token revoke "$TOKEN_ID"
has out "revoked" '^state: +revoked$'
run 0 "tokens list -j" tokens list -j
# shellcheck disable=SC2016 # $id is jq's
json "the list says revoked" --arg id "$TOKEN_ID" '.[] | select(.id == $id) | .state == "revoked"'
run 1 "token revoke: no such token" token revoke taaaaaaaaaa

# --- hosts: none enrolled here
run 0 "host list" host list
has out "an empty fleet" '^no hosts in workspace default$'
run 1 "host show: no such host" host show haaaaaaaaaa
run 1 "host remove: no such host" host remove haaaaaaaaaa

# --- declared configuration: rulesets, assignments, a host's labels
printf 'policy drop\nallow ssh tcp dport 22\nallow web tcp dport 80,99999\n' >"$TMP/bad.rules"
run 1 "ruleset push: a bad ruleset refused" ruleset push web "$TMP/bad.rules"
has err "the parser's NAME:LINE:COL and the bad text" "^web:3:24: error: .*'99999'"
run 0 "ruleset list: nothing was stored" ruleset list
has out "no rulesets" '^no rulesets in workspace default$'
printf 'policy drop\nallow ssh tcp dport 22\nallow web tcp dport 80,443\n' >"$TMP/v1.rules"
sed 's/80,443/80,443,8080/' "$TMP/v1.rules" >"$TMP/v2.rules"
run 0 "ruleset push: version 1" ruleset push web "$TMP/v1.rules"
has out "version 1, its rules and hash" '^ruleset web: version 1 \(2 rules, sha256 [0-9a-f]{12}\)$'
run 0 "ruleset push: version 2 from stdin" ruleset push web - <"$TMP/v2.rules"
has out "the diff's header" '^--- web@v1$'
has out "the line removed" '^-allow web tcp dport 80,443$'
has out "the line added" '^\+allow web tcp dport 80,443,8080$'
run 0 "ruleset push: the same text" ruleset push web "$TMP/v2.rules"
has out "unchanged" '^ruleset web: unchanged, still version 2$'
run 0 "ruleset versions" ruleset versions web
has out "both versions" '^web +2 +2 +[0-9a-f]{12} +key:k[a-z2-7]{10}/admin '
run 0 "ruleset show --version 1" ruleset show web --version 1
has out "version 1's text" '^allow web tcp dport 80,443$'
run 0 "ruleset show --diff" ruleset show web --diff
has out "the latest's diff" '^\+allow web tcp dport 80,443,8080$'
run 1 "ruleset show: no such ruleset" ruleset show nope
run 2 "ruleset show: a bad name" ruleset show Bad_Name
run 0 "ruleset check: still moatd's local check" ruleset check "$TMP/v1.rules"

# one host, enrolled as moatd would (agentwire.py speaks the protocol;
# the interpreter of the Python tests, which has msgpack)
run 0 "token for a web host" -j token create --label role=web
HOST_ID=$(/usr/bin/python3 - "$(jq -r .token "$TMP/out")" <<PY
import sys
sys.path.insert(0, "$(dirname "$0")")
import agentwire
m = agentwire.Host(("127.0.0.1", $AGENT_PORT), "$STATE/ca.crt", "$TMP", "web1").enroll(sys.argv[1])
print(m.get("host_id", "none"))
PY
)
run 0 "host list: an unmanaged host" host list
has out "CONFIG and GEN columns" '^ID +HOSTNAME +STATE +CONFIG +LAST-SEEN +VERSION +GEN +LABELS$'
has out "unmanaged, no generation" "^$HOST_ID +web1 +pending +unmanaged +never +[^ ]+ +- +role=web$"
run 0 "assign add" assign add --ruleset web --selector role=web --priority 10 --mode audit
has out "its mode" '^mode: +audit$'
has out "latest by default" '^version: +latest$'
ASSIGN_ID=$(sed -n 's/^id: *//p' "$TMP/out")
run 0 "host list: the host has a desired generation" host list
has out "pending, 0 of 1 applied" "^$HOST_ID +web1 +pending +pending +never +[^ ]+ +0/1 +role=web$"
run 0 "assign set: one field" assign set "$ASSIGN_ID" --version 1
has out "the version changed" '^version: +1$'
has out "the others kept" '^mode: +audit$'
run 0 "assign list" assign list
has out "the assignment" "^$ASSIGN_ID +10 +web +1 +audit +100% +role=web +0$"
run 0 "host show: its declared state" host show "$HOST_ID"
has out "ruleset and mode" '^ruleset: +web version 1, audit$'
has out "generations" '^generation: +applied 0, desired 2$'
run 0 "host label: add one" host label "$HOST_ID" tier=front
has out "labels merged" '^labels: +role=web,tier=front$'
run 0 "host label: remove one, change one" host label "$HOST_ID" role=db --remove tier
has out "labels replaced" '^labels: +role=db$'
has out "no assignment matches: none" '^ruleset: +-$'
run 0 "host restore" host restore "$HOST_ID"
has out "sent again, later" "^host $HOST_ID: desired generation 3 sent again \(at its next connection\)$"
run 0 "host counters: nothing reported" host counters "$HOST_ID"
has out "says so" "^host $HOST_ID has not reported counters$"
run 0 "ruleset counters" ruleset counters web
has out "no host reporting" '^ruleset web: 0 hosts reporting$'

# --- counters --refresh: two connected hosts report web v1's counters;
# one answers each request (10 packets of 60 bytes per request so far),
# the other never does (mgmt/tests/counting-hosts.py)
run 0 "token for two counting hosts" -j token create --uses 2
V1_SHA=$(sha256sum "$TMP/v1.rules" | cut -d' ' -f1)
/usr/bin/python3 "$(dirname "$0")/counting-hosts.py" 127.0.0.1 "$AGENT_PORT" \
	"$STATE/ca.crt" "$TMP" "$(jq -r .token "$TMP/out")" "$V1_SHA" >"$TMP/hosts" 2>"$TMP/hosts.err" &
HOSTS_PID=$!
trap 'kill "$HOSTS_PID" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do
	[ "$(wc -l <"$TMP/hosts")" -eq 2 ] && break
	sleep 0.1
done
ANSWERING=$(awk '$1 == "answering" { print $2 }' "$TMP/hosts")
SILENT=$(awk '$1 == "silent" { print $2 }' "$TMP/hosts")
# their unasked reports reach the store a moment after hello
for _ in $(seq 50); do
	"$CTL" -j ruleset counters web 2>/dev/null | jq -e '.hosts == 2' >/dev/null && break
	sleep 0.1
done
run 0 "ruleset counters: the last reports" ruleset counters web
has out "two hosts, none asked" '^ruleset web: 2 hosts reporting, the oldest report [0-9]+s ago$'
# 1 + 2 packets, unasked
has out "ssh: 3 packets, 180 bytes" "^ssh +allow +3 +180 +$SILENT \\(2\\), $ANSWERING \\(1\\)$"
run 0 "counters --refresh: one host never answers" ruleset counters web --refresh --timeout 3
# answering's first answer (10) and silent's last report (2)
has out "ssh: the answer summed, 12 packets" "^ssh +allow +12 +720 +$ANSWERING \\(10\\), $SILENT \\(2\\)$"
has out "silent: asked and not answered" '^ruleset web: 2 hosts reporting, .*, 1 asked and not answered$'
has err "progress after 2 s" '^moatctl: waiting for 1 of 2 hosts to report \(2s of 3s\)$'
has err "the silent host named" "^moatctl: warning: no report within 3s from 1 of 2 hosts asked \\(their previous counters are shown\\): $SILENT$"
run 0 "host counters --refresh: an answer" host counters "$ANSWERING" --refresh
has out "its second answer: 20 packets" '^ssh +20 +1200$'
if [ -s "$TMP/err" ]; then bad "host counters --refresh: nothing on stderr"; else pass "host counters --refresh: nothing on stderr"; fi
run 0 "host counters --refresh: no answer in 1 s" host counters "$SILENT" --refresh --timeout 1
has out "its last report, pending" "^host $SILENT: generation 0, ruleset [0-9a-f]{12}, reported .* \\(asked again, not answered\\)$"
has err "named" "^moatctl: warning: no report within 1s from 1 of 1 hosts asked \\(their previous counters are shown\\): $SILENT$"
run 0 "host counters --refresh: a host away" host counters "$HOST_ID" --refresh
has err "not asked" "^moatctl: warning: not connected, so not asked \\(their last counters are shown\\): $HOST_ID$"
run 0 "counters --refresh --json" -j ruleset counters web --refresh --timeout 1
json "--json: the reply with its reports" \
	--arg a "$ANSWERING" --arg s "$SILENT" \
	'(.reports | map({(.host_id): .pending}) | add) == {($a): false, ($s): true} and (.rules[0].packets == 32)'
kill "$HOSTS_PID"
wait "$HOSTS_PID" 2>/dev/null || true
run 0 "assign delete" assign delete "$ASSIGN_ID"
run 1 "assign delete: gone" assign delete "$ASSIGN_ID"
run 2 "assign add without --ruleset" assign add --priority 1
has err "names --ruleset" 'missing --ruleset'
run 2 "assign add: a bad mode" assign add --ruleset web --mode block
run 2 "host label: nothing to change" host label "$HOST_ID"

# --- keys, and a viewer's limits
run 0 "key create" key create --user viewer1 --role viewer --role edge:viewer
has out "the key, once" '^key: +moat-key-k[a-z2-7]{10}-[A-Za-z0-9_-]{43}$'
has out "bound where asked" '^bindings: +default:viewer,edge:viewer$'
VIEWER_ID=$(sed -n 's/^id: *//p' "$TMP/out")
( umask 077; sed -n 's/^key: *//p' "$TMP/out" >"$TMP/viewer.key" )
run 0 "key list" key list
has out "the viewer's key" "^$VIEWER_ID +viewer1 "
run 0 "viewer: token list" --api-key-file "$TMP/viewer.key" token list
run 1 "viewer: token create refused" --api-key-file "$TMP/viewer.key" token create
has err "403 names the missing permission" "missing permission 'token:create'"
run 1 "viewer: host remove refused" --api-key-file "$TMP/viewer.key" host remove haaaaaaaaaa
has err "403 names host:remove" "missing permission 'host:remove'"
run 1 "viewer: ruleset push refused" --api-key-file "$TMP/viewer.key" ruleset push web "$TMP/v1.rules"
has err "403 names ruleset:write" "missing permission 'ruleset:write'"
run 0 "viewer: ruleset list" --api-key-file "$TMP/viewer.key" ruleset list
MOAT_API_KEY=$(cat "$TMP/viewer.key") run 1 "viewer (MOAT_API_KEY): key list refused" key list
has err "403 names key:admin" "missing permission 'key:admin'"
run 0 "key revoke" key revoke "$VIEWER_ID"
run 1 "a revoked key is refused" --api-key-file "$TMP/viewer.key" whoami
has err "401 says the key was refused" 'refused the API key'

# --- audit
run 0 "audit list" audit list
has out "token.create recorded" ' token\.create '
has out "the denial recorded" ' auth\.deny '
run 0 "audit list --after 1 --limit 2" -j audit list --after 1 --limit 2
json "audit list pages" 'length == 2 and .[0].seq == 2'
run 0 "audit verify" audit verify
has out "the chain holds" '^audit chain OK: [0-9]+ records, head [0-9a-f]{64}$'

# an edit behind the control plane's back must show
DB=
for f in "$STATE"/*; do
	if [ -f "$f" ] && head -c 15 "$f" | grep -q 'SQLite format 3'; then
		DB=$f
	fi
done
if [ -n "$DB" ] && command -v sqlite3 >/dev/null; then
	stop_cp
	sqlite3 "$DB" "UPDATE audit SET result = 'ok' WHERE action = 'auth.deny';"
	start_cp
	run 1 "audit verify: an edited record" audit verify
	has err "the edit found" 'audit chain broken'
	run 1 "audit verify --json: an edited record" -j audit verify
	json "audit verify --json says not ok" '.ok == false'
else
	echo "cp-ctl: no SQLite file in $STATE or no sqlite3: edit test not run" >&2
	FAILED=$((FAILED + 1))
fi

# --- failures before the API
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TMP/other.key" -out "$TMP/other.crt" -days 1 \
	-subj "/CN=another CA" 2>/dev/null
run 1 "a CA that did not sign the server" --cacert "$TMP/other.crt" whoami
has err "says the certificate did not verify" 'cannot verify'
run 1 "nothing listening" --server "https://127.0.0.1:$(free_port)" whoami
has err "says it cannot reach the server" 'cannot reach https://127\.0\.0\.1:[0-9]+: Connection refused; is moat-controlplane running'
run 2 "http:// refused" --server "http://127.0.0.1:$API_PORT" whoami
run 2 "a bad --ttl" token create --ttl 99d
run 2 "an unknown subcommand" host frob
run 2 "a bad option" token list --frob
run 0 "token --help" token --help

if grep -qF "$ADMIN_KEY" "$TMP/all.txt"; then
	bad "the admin key never printed"
else
	pass "the admin key never printed"
fi

echo "cp-ctl: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
