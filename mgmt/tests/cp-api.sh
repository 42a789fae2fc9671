#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# cp-api: the operator API of a real moat-controlplane, over HTTPS with
# curl, as docs/api.md describes it: keys and 401, each endpoint's reply,
# a viewer's 403 naming the missing permission, 400s naming the bad
# field, 404 and 405, and last an audit log that holds every mutating
# call and every denial, its chain intact.  Then the connection's own
# rules: keep-alive, pipelining, a body too big, a request that stalls,
# a stream that does not parse, and a clean exit on SIGTERM.
#
# The control plane runs on loopback ports found free, in a temporary
# state directory, as whoever runs the test (--user root keeps root when
# that is root: nothing here needs another user).
#
# usage: cp-api.sh MOAT_CONTROLPLANE
set -eu

CP=${1:?usage: cp-api.sh MOAT_CONTROLPLANE}
for tool in curl jq python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "cp-api: SKIP: $tool is not installed" >&2
		exit 77
	fi
done
NAME=cp-api
# shellcheck source-path=SCRIPTDIR source=cp-lib.sh
. "$(dirname "$0")/cp-lib.sh"

bad() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $1" >&2
	sed 's/^/    reply: /' "$TMP/out" >&2 || true
}

URL=https://127.0.0.1:$API_PORT
CP_ARGS=(--admin-key-file "$TMP/admin.key")
start_cp
ADMIN=$(cat "$TMP/admin.key")

# call WANT NAME KEY METHOD PATH [BODY]: the reply's status must be WANT;
# its body in $TMP/out.  KEY "-" sends no Authorization header.
call() {
	local want=$1 name=$2 key=$3 method=$4 path=$5 got
	local args=(-sS --cacert "$STATE/ca.crt" -o "$TMP/out" -w '%{http_code}'
		-X "$method")
	[ "$key" = - ] || args+=(-H "Authorization: Bearer $key")
	[ $# -lt 6 ] || args+=(-H 'Content-Type: application/json' --data-raw "$6")
	got=$(curl "${args[@]}" "$URL$path") || got="curl failed"
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		bad "$name: status $got, expected $want"
	fi
}

# --- authentication
call 401 "no key" - GET /v1/whoami
json "401 says how to send a key" '.error | test("Authorization: Bearer")'
call 401 "a key that is not one" moat-key-nonsense GET /v1/whoami
call 401 "a key of the right shape, unknown" \
	"${ADMIN%??????}xxxxxx" GET /v1/whoami
curl -sS --cacert "$STATE/ca.crt" -o "$TMP/out" -u admin:x "$URL/v1/whoami" || true
json "Basic is not Bearer: 401" '.error | test("malformed, unknown or revoked")'
call 200 "whoami" "$ADMIN" GET /v1/whoami
json "whoami: admin, bound to admin on *" \
	'.user == "admin" and (.key_id | test("^k[a-z2-7]{10}$")) and .bindings == [{"workspace": "*", "workspace_id": "*", "role": "admin"}]'

# --- routing
call 404 "an unknown path" "$ADMIN" GET /v1/nothing
json "404 names the path" '.error | test("/v1/nothing")'
call 405 "a method the path does not take" "$ADMIN" PUT /v1/whoami
call 404 "an unknown workspace" "$ADMIN" GET /v1/workspaces/nowhere/tokens
json "404 names the workspace" '.error | test("nowhere")'

# --- workspaces
call 200 "workspace list" "$ADMIN" GET /v1/workspaces
json "the default workspace, its CA pinned" \
	'length == 1 and .[0].name == "default" and (.[0].id | test("^w[a-z2-7]{10}$")) and (.[0].ca_fingerprint | test("^sha256:[0-9a-f]{64}$")) and (.[0].created > 0)'
DEFAULT_ID=$(jq -r '.[0].id' "$TMP/out")
call 201 "workspace create" "$ADMIN" POST /v1/workspaces '{"name": "edge"}'
json "the new workspace" '.name == "edge" and (.id | test("^w"))'
EDGE_ID=$(jq -r .id "$TMP/out")
call 409 "workspace create: the name is taken" "$ADMIN" POST /v1/workspaces '{"name": "edge"}'
call 400 "workspace create: a bad name" "$ADMIN" POST /v1/workspaces '{"name": "Edge!"}'
json "400 names the field" '.error | test("field .name.")'
call 400 "workspace create: not JSON" "$ADMIN" POST /v1/workspaces '{"name": '
call 200 "a workspace by its id" "$ADMIN" GET "/v1/workspaces/$EDGE_ID/roles"

# --- tokens
call 201 "token create" "$ADMIN" POST /v1/workspaces/default/tokens \
	'{"ttl": 7200, "max_uses": 3, "labels": {"role": "web"}, "description": "cp-api"}'
json "the token, its secret once" \
	'(.token | test("^moat-tok-[A-Za-z0-9_-]{43}$")) and .state == "valid" and .max_uses == 3 and .uses == 0 and .labels == {"role": "web"} and .description == "cp-api" and (.expires - .created == 7200) and (.created_by | startswith("key:"))'
TOKEN_ID=$(jq -r .id "$TMP/out")
SECRET=$(jq -r .token "$TMP/out")
call 201 "token create: defaults" "$ADMIN" POST /v1/workspaces/default/tokens '{}'
json "ttl 1 h, one use" '(.expires - .created == 3600) and .max_uses == 1'
call 201 "token create: no body at all" "$ADMIN" POST /v1/workspaces/default/tokens
call 400 "token create: ttl past 30 days" "$ADMIN" POST /v1/workspaces/default/tokens '{"ttl": 2592001}'
json "400 names ttl" '.error | test("field .ttl.")'
call 400 "token create: max_uses 0" "$ADMIN" POST /v1/workspaces/default/tokens '{"max_uses": 0}'
json "400 names max_uses" '.error | test("field .max_uses.")'
call 400 "token create: a label that is not a string" "$ADMIN" POST /v1/workspaces/default/tokens '{"labels": {"a": 1}}'
json "400 names labels" '.error | test("field .labels.")'
call 200 "token list" "$ADMIN" GET /v1/workspaces/default/tokens
json "three tokens listed" 'length == 3'
if grep -qF "$SECRET" "$TMP/out" || grep -q moat-tok- "$TMP/out"; then
	bad "token list shows no secret"
else
	pass "token list shows no secret"
fi
call 200 "token revoke" "$ADMIN" DELETE "/v1/workspaces/default/tokens/$TOKEN_ID"
json "revoked" '.state == "revoked" and .revoked == true and .revoked_at > 0'
call 200 "token revoke again: the same answer" "$ADMIN" DELETE "/v1/workspaces/default/tokens/$TOKEN_ID"
call 404 "token revoke: another workspace's token" "$ADMIN" DELETE "/v1/workspaces/edge/tokens/$TOKEN_ID"
call 404 "token revoke: no such token" "$ADMIN" DELETE /v1/workspaces/default/tokens/taaaaaaaaaa

# --- hosts: none enrolled here (the agent channel has its own tests)
call 200 "host list" "$ADMIN" GET /v1/workspaces/default/hosts
json "an empty fleet" 'length == 0'
call 404 "host show: no such host" "$ADMIN" GET /v1/workspaces/default/hosts/haaaaaaaaaa
call 404 "host remove: no such host" "$ADMIN" DELETE /v1/workspaces/default/hosts/haaaaaaaaaa

# --- roles
call 200 "role list" "$ADMIN" GET /v1/workspaces/default/roles
json "the built-in roles" '[.[] | select(.builtin) | .name] | sort == ["admin", "operator", "viewer"]'
json "viewer's permissions" '.[] | select(.name == "viewer") | .permissions == ["token:read", "host:read", "role:read", "workspace:read"]'
call 200 "role put" "$ADMIN" PUT /v1/workspaces/default/roles/deployer '{"permissions": ["token:read", "token:create"]}'
json "the role, permissions in canonical order" '.name == "deployer" and .builtin == false and .permissions == ["token:create", "token:read"]'
call 400 "role put: an unknown permission" "$ADMIN" PUT /v1/workspaces/default/roles/deployer '{"permissions": ["token:read", "moon:land"]}'
json "400 names the entry" '.error | test("permissions\\[1\\]") and test("moon:land")'
call 400 "role put: permissions missing" "$ADMIN" PUT /v1/workspaces/default/roles/deployer '{}'
json "400 names permissions" '.error | test("field .permissions.")'
call 400 "role put: a bad name" "$ADMIN" PUT /v1/workspaces/default/roles/Bad_Name '{"permissions": []}'
call 409 "role put: a built-in role" "$ADMIN" PUT /v1/workspaces/default/roles/admin '{"permissions": []}'
call 200 "role list in edge" "$ADMIN" GET /v1/workspaces/edge/roles
json "roles are per workspace" 'map(.name) | index("deployer") == null'

# --- keys
call 201 "key create: a viewer of default" "$ADMIN" POST /v1/keys \
	'{"user": "viewer1", "bindings": [{"workspace": "default", "role": "viewer"}]}'
json "the key, its secret once" \
	'(.key | test("^moat-key-k[a-z2-7]{10}-[A-Za-z0-9_-]{43}$")) and .user == "viewer1" and .revoked == false and .bindings == [{"workspace": "default", "workspace_id": "'"$DEFAULT_ID"'", "role": "viewer"}]'
VIEWER=$(jq -r .key "$TMP/out")
VIEWER_ID=$(jq -r .id "$TMP/out")
call 201 "key create: a deployer by workspace id" "$ADMIN" POST /v1/keys \
	'{"user": "ci", "bindings": [{"workspace": "'"$DEFAULT_ID"'", "role": "deployer"}, {"workspace": "edge", "role": "operator"}]}'
DEPLOYER=$(jq -r .key "$TMP/out")
DEPLOYER_ID=$(jq -r .id "$TMP/out")
call 400 "key create: a role the workspace lacks" "$ADMIN" POST /v1/keys \
	'{"user": "x", "bindings": [{"workspace": "edge", "role": "deployer"}]}'
json "400 names the binding" '.error | test("bindings\\[0\\]\\.role")'
call 400 "key create: a workspace that does not exist" "$ADMIN" POST /v1/keys \
	'{"user": "x", "bindings": [{"workspace": "default", "role": "viewer"}, {"workspace": "nowhere", "role": "viewer"}]}'
json "400 names the workspace" '.error | test("bindings\\[1\\]\\.workspace")'
call 400 "key create: only built-in roles on *" "$ADMIN" POST /v1/keys \
	'{"user": "x", "bindings": [{"workspace": "*", "role": "deployer"}]}'
call 400 "key create: no user" "$ADMIN" POST /v1/keys '{"bindings": []}'
json "400 names user" '.error | test("field .user.")'
call 201 "key create: an auditor on *" "$ADMIN" POST /v1/keys \
	'{"user": "auditor", "bindings": [{"workspace": "*", "role": "operator"}]}'
AUDITOR=$(jq -r .key "$TMP/out")
call 200 "key list" "$ADMIN" GET /v1/keys
json "four keys, no secrets" 'length == 4 and all(.[]; has("key") | not)'
# shellcheck disable=SC2016 # $id is jq's
json "the deployer's key, bound twice" --arg id "$DEPLOYER_ID" '.[] | select(.id == $id) | .user == "ci" and (.bindings | length == 2)'

# --- what a viewer may not do: 403 names the permission
call 200 "viewer: whoami" "$VIEWER" GET /v1/whoami
call 200 "viewer: token list" "$VIEWER" GET /v1/workspaces/default/tokens
call 403 "viewer: token create" "$VIEWER" POST /v1/workspaces/default/tokens '{}'
json "403 names token:create" '.missing_permission == "token:create" and (.error | test("default"))'
call 403 "viewer: token revoke" "$VIEWER" DELETE "/v1/workspaces/default/tokens/$TOKEN_ID"
json "403 names token:revoke" '.missing_permission == "token:revoke"'
call 403 "viewer: host remove" "$VIEWER" DELETE /v1/workspaces/default/hosts/haaaaaaaaaa
json "403 names host:remove" '.missing_permission == "host:remove"'
call 403 "viewer: role put" "$VIEWER" PUT /v1/workspaces/default/roles/x '{"permissions": []}'
json "403 names role:admin" '.missing_permission == "role:admin"'
call 403 "viewer: another workspace" "$VIEWER" GET /v1/workspaces/edge/tokens
json "403 names token:read" '.missing_permission == "token:read"'
call 403 "viewer: key list" "$VIEWER" GET /v1/keys
json "403 names key:admin" '.missing_permission == "key:admin"'
call 403 "viewer: workspace create" "$VIEWER" POST /v1/workspaces '{"name": "mine"}'
json "403 names workspace:create" '.missing_permission == "workspace:create"'
call 403 "viewer: audit" "$VIEWER" GET /v1/audit
json "403 names audit:read" '.missing_permission == "audit:read"'
call 200 "viewer: workspace list" "$VIEWER" GET /v1/workspaces
json "only the workspace it may read" 'map(.name) == ["default"]'

# --- a custom role does what it grants
call 201 "deployer: token create" "$DEPLOYER" POST /v1/workspaces/default/tokens '{}'
call 403 "deployer: host list" "$DEPLOYER" GET /v1/workspaces/default/hosts
json "403 names host:read" '.missing_permission == "host:read"'
call 200 "operator in edge: host list" "$DEPLOYER" GET /v1/workspaces/edge/hosts

# --- role delete, key revoke
call 200 "role delete" "$ADMIN" DELETE /v1/workspaces/default/roles/deployer
call 404 "role delete: gone" "$ADMIN" DELETE /v1/workspaces/default/roles/deployer
call 409 "role delete: a built-in role" "$ADMIN" DELETE /v1/workspaces/default/roles/viewer
call 200 "key revoke" "$ADMIN" DELETE "/v1/keys/$VIEWER_ID"
json "revoked" '.revoked == true and .id == "'"$VIEWER_ID"'"'
call 401 "a revoked key is refused" "$VIEWER" GET /v1/whoami
call 404 "key revoke: no such key" "$ADMIN" DELETE /v1/keys/kaaaaaaaaaa

# --- audit
call 400 "audit: a bad limit" "$ADMIN" GET '/v1/audit?limit=0'
json "400 names limit" '.error | test("limit")'
call 200 "audit list" "$ADMIN" GET '/v1/audit?limit=100000'
cp "$TMP/out" "$TMP/audit.json"
for action in workspace.create token.create token.revoke role.put role.delete key.create key.revoke; do
	# shellcheck disable=SC2016 # $a is jq's
	json "audit: $action recorded" --arg a "$action" 'any(.[]; .action == $a and .result == "ok" and (.actor | startswith("key:")) and (.source | test("^127\\.0\\.0\\.1:[0-9]+$")))'
done
# the viewer's 8 refusals above, and the deployer's one
json "audit: every denial recorded" '[.[] | select(.action == "auth.deny")] | length == 9'
json "audit: a denial says what was missing" 'any(.[]; .action == "auth.deny" and .result == "denied: missing token:create" and .workspace == "'"$DEFAULT_ID"'")'
json "audit: seq counts up from 1" '[.[].seq] == [range(1; length + 1)]'
# shellcheck disable=SC2016 # $i is jq's
json "audit: each record names the one before" '[range(1; length) as $i | .[$i].prev == .[$i - 1].hash] | all'
# the chain's hash, recomputed here as docs/api.md says
if python3 - "$TMP/audit.json" <<'EOF'; then
import hashlib, json, sys
prev = "0" * 64
for r in json.load(open(sys.argv[1])):
    h = hashlib.sha256(b"moat-audit-v1\n")
    for k in ("seq", "time", "actor", "source", "action", "workspace", "target", "result", "detail", "prev"):
        v = str(r[k]).encode()
        h.update(b"%d:" % len(v) + v + b"\n")
    assert r["prev"] == prev and h.hexdigest() == r["hash"], r
    prev = r["hash"]
EOF
	pass "audit: every hash verifies"
else
	bad "audit: every hash verifies"
fi
call 200 "audit: a page" "$ADMIN" GET '/v1/audit?after=2&limit=3'
json "audit: after and limit" 'length == 3 and .[0].seq == 3'
call 200 "audit: an operator on * reads all" "$AUDITOR" GET '/v1/audit?limit=100000'
json "audit: as many records" "length >= $(jq length "$TMP/audit.json")"

# --- the connection
out=$(curl -sS --cacert "$STATE/ca.crt" -H "Authorization: Bearer $ADMIN" \
	-o /dev/null -o /dev/null -w '%{num_connects} ' \
	"$URL/v1/whoami" "$URL/v1/whoami")
if [ "$out" = "1 0 " ]; then
	pass "keep-alive: two requests, one connection"
else
	bad "keep-alive: connects per request '$out', expected '1 0 '"
fi
# raw: stdin's bytes over TLS as they are; prints the statuses answered
# and the seconds until the server closed: "200 404 0"
raw() {
	python3 -c '
import re, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="127.0.0.1")
s.sendall(sys.stdin.buffer.read())
t, data = time.monotonic(), b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(" ".join(re.findall(r"HTTP/1\.1 ([0-9]{3}) ", data.decode())),
      round(time.monotonic() - t))
' "$API_PORT" "$STATE/ca.crt" >"$TMP/out"
}

# two requests in one write, the first keeping the connection, the second
# closing it: two answers in order, then the end
printf 'GET /v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\nGET /v1/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' \
	"$ADMIN" "$ADMIN" | raw
if grep -qx '200 404 0' "$TMP/out"; then
	pass "pipelined: answers in order, then closed"
else
	bad "pipelined: answers in order, then closed"
fi
# a body over 1 MiB: refused on its Content-Length, before it is read
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$TMP/big.json"
got=$(curl -sS --cacert "$STATE/ca.crt" -o "$TMP/out" -w '%{http_code}' \
	-H "Authorization: Bearer $ADMIN" --data-binary "@$TMP/big.json" \
	"$URL/v1/workspaces") || true
if [ "$got" = 413 ]; then
	pass "a body over 1 MiB: 413"
else
	bad "a body over 1 MiB: 413 (got $got)"
fi
# 'Content-Length: 10' and five bytes: the request stalls; 408 after 10 s
printf 'POST /v1/workspaces HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"na' | raw
if grep -qE '^408 (9|10|11|12)$' "$TMP/out"; then
	pass "a stalled request: 408 and closed after 10 s"
else
	bad "a stalled request: 408 and closed after 10 s"
fi
printf 'GARBAGE\r\n\r\n' | raw
if grep -qx '400 0' "$TMP/out"; then
	pass "a stream that is not HTTP: 400, then closed"
else
	bad "a stream that is not HTTP: 400, then closed"
fi
call 200 "still serving after all that" "$ADMIN" GET /v1/whoami

# SIGTERM: every connection closed, the store closed, exit 0 (and under
# ASan, nothing leaked on the way)
status=0
kill "$CP_PID" && wait "$CP_PID" || status=$?
CP_PID=
if [ "$status" -eq 0 ]; then
	pass "SIGTERM: a clean exit"
else
	bad "SIGTERM: a clean exit (status $status)"
fi
if grep -qE 'AddressSanitizer|runtime error' "$TMP/cp.log"; then
	FAILED=$((FAILED + 1))
	echo "FAIL: sanitizer reports in the control plane's log:" >&2
	cat "$TMP/cp.log" >&2
fi

echo "cp-api: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
