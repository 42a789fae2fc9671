#!/bin/sh
# moatd's idle cost in a fleet: resident memory and CPU of both its
# processes (the privileged one and the session process that speaks to
# the control plane) while it heartbeats every 10 s and nothing else
# happens.  A control plane on a veth's far end, moatd in a network
# namespace of its own protecting one end of another veth pair (conntrack
# off, one rule), enrolled with an install token; once the control plane
# says the host is healthy, /proc is read every second for SECONDS.
# As root, from the repository, after `ninja -C build`.
#
#   sudo bench/fleet/moatd-idle.sh [SECONDS] [BUILD-DIR] [JSON-FILE]
set -eu
secs=${1:-120}
b=$(realpath "${2:-build}")
json=${3:-}
ns=moat-idle-$$
inst=idle$$
hv=mih$$ # the control plane's end of the link to the namespace
d=$(mktemp -d)
chmod 755 "$d" # the session process (user nobody) reads its identity here
# a /24 and ports of our own, from the pid, so that two runs do not meet
net=10.$((200 + $$ % 50)).$(($$ % 250))
port=$((20000 + $$ % 20000))
api=$((port + 1))
hz=$(getconf CLK_TCK)

cleanup() {
	for p in "$d/moatd.pid" "$d/cp.pid"; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	sleep 1
	ip netns del "$ns" 2>/dev/null || true
	ip link del "$hv" 2>/dev/null || true
	rm -rf "/sys/fs/bpf/moat/$inst" "$d"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "moatd-idle: $*" >&2; }
fail() {
	say "$*"
	for f in cp.log moatd.log; do
		[ -f "$d/$f" ] && { echo "--- $f" >&2; tail -20 "$d/$f" >&2; }
	done
	exit 1
}
apicall() {
	curl -sS --cacert "$d/cp/ca.crt" \
		-H "Authorization: Bearer $(cat "$d/admin.key")" "$@"
}

ip netns add "$ns"
ip link add "$hv" type veth peer name cp0 netns "$ns"
ip addr add "$net.1/24" dev "$hv"
ip link set "$hv" up
ip -n "$ns" addr add "$net.2/24" dev cp0
ip -n "$ns" link set cp0 up
ip -n "$ns" link set lo up
ip -n "$ns" link add idle0 type veth peer name idle1
ip -n "$ns" link set idle0 up
ip -n "$ns" link set idle1 up

"$b/mgmt/moat-controlplane" --state "$d/cp" --listen "$net.1:$port" \
	--api-listen "127.0.0.1:$api" --san "$net.1" --san 127.0.0.1 \
	--admin-key-file "$d/admin.key" --user root >"$d/cp.log" 2>&1 &
echo $! >"$d/cp.pid"
i=0
until [ -s "$d/admin.key" ] && apicall "https://127.0.0.1:$api/v1/whoami" \
	>/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "the control plane did not come up"
	sleep 0.2
done
apicall -X POST -d '{"max_uses": 1, "ttl": 600}' \
	"https://127.0.0.1:$api/v1/workspaces/default/tokens" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' \
		>"$d/token"
fp=sha256:$(openssl x509 -in "$d/cp/ca.crt" -outform DER | sha256sum |
	cut -d' ' -f1)

"$b/bench/moat-bench" gen --rules 1 >"$d/rules"
cat >"$d/conf" <<CONF
interfaces idle0
ruleset $d/rules
instance $inst
socket $d/sock
state-dir $d/state
conntrack no
controlplane $net.1:$port
controlplane-ca $fp
install-token-file $d/token
user nobody
CONF

say "moatd in $ns joins the control plane at $net.1:$port"
nsenter --net="/run/netns/$ns" "$b/mgmt/agent/moatd" -c "$d/conf" \
	>"$d/moatd.log" 2>&1 &
echo $! >"$d/moatd.pid"
pid=$(cat "$d/moatd.pid")
i=0
until apicall "https://127.0.0.1:$api/v1/workspaces/default/hosts" |
	grep -q '"state": *"healthy"'; do
	i=$((i + 1))
	[ $i -gt 150 ] && fail "moatd did not enroll and report healthy in 30 s"
	kill -0 "$pid" 2>/dev/null || fail "moatd exited"
	sleep 0.2
done
# the session process: moatd's child (the privileged parent forks it)
kid=$(pgrep -P "$pid" | head -1)
[ -n "$kid" ] || say "no session process under moatd ($pid): measuring the parent alone"
say "enrolled; sampling moatd $pid and its session process ${kid:-none} for $secs s"

ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# per process: ticks at start, RSS samples (sum, max)
p0=$(ticks "$pid")
k0=0
[ -n "$kid" ] && k0=$(ticks "$kid")
prss=0 pmax=0 krss=0 kmax=0 n=0
while [ $n -lt "$secs" ]; do
	sleep 1
	kill -0 "$pid" 2>/dev/null || fail "moatd exited while sampled"
	r=$(kib "$pid" VmRSS)
	prss=$((prss + r))
	[ "$r" -gt $pmax ] && pmax=$r
	if [ -n "$kid" ]; then
		r=$(kib "$kid" VmRSS)
		krss=$((krss + r))
		[ "$r" -gt $kmax ] && kmax=$r
	fi
	n=$((n + 1))
done
p1=$(ticks "$pid")
phwm=$(kib "$pid" VmHWM)
k1=0 khwm=0
[ -n "$kid" ] && { k1=$(ticks "$kid"); khwm=$(kib "$kid" VmHWM); }
last=$(apicall "https://127.0.0.1:$api/v1/workspaces/default/hosts" |
	python3 -c 'import json, sys; h = json.load(sys.stdin)[0]; print(h["state"], h["last_seen"])')

row() { # name, ticks, rss sum, rss max, hwm
	awk -v name="$1" -v t="$2" -v s="$3" -v m="$4" -v h="$5" -v n="$secs" \
		-v hz="$hz" 'BEGIN {
		printf "%-16s %8.3f %8.2f %9.2f %9.2f %9.2f\n", name,
			100 * t / hz / n, t / hz, s / n / 1024, m / 1024, h / 1024 }'
}
echo "moatd idle in a fleet: heartbeats every 10 s, $secs s sampled, conntrack off, one rule"
printf "%-16s %8s %8s %9s %9s %9s\n" process "cpu %" "cpu s" "RSS MiB" "RSS max" "HWM MiB"
row "moatd (root)" $((p1 - p0)) $prss $pmax "$phwm"
[ -n "$kid" ] && row "session (nobody)" $((k1 - k0)) $krss $kmax "$khwm"
echo "control plane sees the host: $last"

if [ -n "$json" ]; then
	awk -v s="$secs" -v hz="$hz" -v pt=$((p1 - p0)) -v pr=$prss -v pm=$pmax \
		-v ph="$phwm" -v kt=$((k1 - k0)) -v kr=$krss -v km=$kmax \
		-v kh="$khwm" -v kid="${kid:-0}" 'BEGIN {
		printf "{\"tool\": \"moatd-idle.sh\", \"seconds\": %d, \"heartbeat_interval_s\": 10,\n", s
		printf " \"moatd\": {\"cpu_pct\": %.4f, \"cpu_seconds\": %.2f, \"rss_kib_mean\": %.0f, \"rss_kib_max\": %d, \"hwm_kib\": %d},\n", 100 * pt / hz / s, pt / hz, pr / s, pm, ph
		printf " \"session\": {\"pid_found\": %s, \"cpu_pct\": %.4f, \"cpu_seconds\": %.2f, \"rss_kib_mean\": %.0f, \"rss_kib_max\": %d, \"hwm_kib\": %d}}\n", kid ? "true" : "false", 100 * kt / hz / s, kt / hz, kr / s, km, kh + 0
	}' >"$json"
fi
