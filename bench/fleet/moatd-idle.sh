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

# CPU time in ms, to the microsecond: the scheduler's own sum over every
# thread (/proc/PID/stat's utime + stime count whole 10 ms ticks, and two
# minutes of an idle moatd are less than one)
cpu_ms() {
	cat /proc/"$1"/task/*/sched |
		awk '$1 == "se.sum_exec_runtime" { t += $3 } END { printf "%.3f\n", t }'
}
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# proportional: the libraries both processes map count half to each
pss() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup"; }

# per process: CPU at start, RSS samples (sum, max)
p0=$(cpu_ms "$pid")
k0=0
[ -n "$kid" ] && k0=$(cpu_ms "$kid")
prss=0 pmax=0 krss=0 kmax=0 n=0
while [ $n -lt "$secs" ]; do
	sleep 1
	kill -0 "$pid" 2>/dev/null || fail "moatd exited while sampled"
	r=$(kib "$pid" VmRSS)
	prss=$((prss + r))
	[ "$r" -gt "$pmax" ] && pmax=$r
	if [ -n "$kid" ]; then
		r=$(kib "$kid" VmRSS)
		krss=$((krss + r))
		[ "$r" -gt "$kmax" ] && kmax=$r
	fi
	n=$((n + 1))
done
p1=$(cpu_ms "$pid")
phwm=$(kib "$pid" VmHWM) ppss=$(pss "$pid") panon=$(kib "$pid" RssAnon)
k1=0 khwm=0 kpss=0 kanon=0
if [ -n "$kid" ]; then
	k1=$(cpu_ms "$kid")
	khwm=$(kib "$kid" VmHWM) kpss=$(pss "$kid") kanon=$(kib "$kid" RssAnon)
fi
last=$(apicall "https://127.0.0.1:$api/v1/workspaces/default/hosts" |
	python3 -c 'import json, sys, time; h = json.load(sys.stdin)[0]; print(h["state"] + ", last seen", int(time.time()) - h["last_seen"], "s ago")')

row() { # name, cpu ms at start and end, rss sum, rss max, hwm, pss, anon
	awk -v name="$1" -v t0="$2" -v t1="$3" -v s="$4" -v m="$5" -v h="$6" \
		-v p="$7" -v a="$8" -v n="$secs" 'BEGIN {
		t = (t1 - t0) / 1000
		printf "%-16s %8.4f %7.1f %8.2f %8.2f %8.2f %8.2f %8.2f\n", name,
			100 * t / n, 1000 * t, s / n / 1024, m / 1024,
			h / 1024, p / 1024, a / 1024 }'
}
echo "moatd idle in a fleet: heartbeats every 10 s, $secs s sampled, conntrack off, one rule"
printf "%-16s %8s %7s %8s %8s %8s %8s %8s\n" process "cpu %" "cpu ms" \
	"RSS MiB" "RSS max" "HWM" "PSS" "anon"
row "moatd (root)" "$p0" "$p1" "$prss" "$pmax" "$phwm" "$ppss" "$panon"
[ -n "$kid" ] && row "session (nobody)" "$k0" "$k1" "$krss" "$kmax" "$khwm" \
	"$kpss" "$kanon"
echo "the control plane sees the host: $last"

if [ -n "$json" ]; then
	awk -v s="$secs" -v pt0="$p0" -v pt1="$p1" -v pr="$prss" -v pm="$pmax" \
		-v ph="$phwm" -v kt0="$k0" -v kt1="$k1" -v kr="$krss" -v km="$kmax" \
		-v kh="$khwm" -v kid="${kid:-0}" -v pp="$ppss" -v pa="$panon" \
		-v kp="$kpss" -v ka="$kanon" 'BEGIN {
		pt = (pt1 - pt0) / 1000
		kt = (kt1 - kt0) / 1000
		printf "{\"tool\": \"moatd-idle.sh\", \"seconds\": %d, \"heartbeat_interval_s\": 10,\n", s
		printf " \"moatd\": {\"cpu_pct\": %.5f, \"cpu_seconds\": %.4f, \"rss_kib_mean\": %.0f, \"rss_kib_max\": %d, \"hwm_kib\": %d, \"pss_kib\": %d, \"anon_kib\": %d},\n", 100 * pt / s, pt, pr / s, pm, ph, pp, pa
		printf " \"session\": {\"pid_found\": %s, \"cpu_pct\": %.5f, \"cpu_seconds\": %.4f, \"rss_kib_mean\": %.0f, \"rss_kib_max\": %d, \"hwm_kib\": %d, \"pss_kib\": %d, \"anon_kib\": %d}}\n", kid ? "true" : "false", 100 * kt / s, kt, kr / s, km, kh + 0, kp + 0, ka + 0
	}' >"$json"
fi
