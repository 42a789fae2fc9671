#!/bin/sh
# moatd's resident memory with N rules (default 100000): moatd protects one
# end of a veth pair in a namespace of its own and applies a ClassBench-style
# ruleset of N rules (moat-bench gen); once the apply is done, print its
# VmRSS (now) and VmHWM (peak), then stop it and remove what it made.
# As root, from the repository, after `ninja -C build`.
#
#   sudo bench/moatd-memory.sh [N] [BUILD-DIR]
set -eu
n=${1:-100000}
b=$(realpath "${2:-build}")
ns=moat-mem-$$
inst=mem$$
d=$(mktemp -d)

cleanup() {
	[ -f "$d/pid" ] && kill "$(cat "$d/pid")" 2>/dev/null && sleep 1
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "/sys/fs/bpf/moat/$inst" "$d"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ctl() { "$b/tools/moatctl/moatctl" -i "$inst" -s "$d/sock" "$@"; }

ip netns add "$ns"
ip -n "$ns" link add mem0 type veth peer name mem1
ip -n "$ns" link set mem0 up
ip -n "$ns" link set mem1 up
"$b/bench/moat-bench" gen --rules "$n" >"$d/rules"
cat >"$d/conf" <<CONF
interfaces mem0
ruleset $d/rules
instance $inst
socket $d/sock
state-dir $d/state
capacity $((n < 32768 ? 65536 : 2 * n))
CONF

echo "moatd-memory: applying $n rules" >&2
nsenter --net="/run/netns/$ns" "$b/mgmt/agent/moatd" -c "$d/conf" 2>"$d/log" &
echo $! >"$d/pid"
i=0
until ctl status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$(cat "$d/pid")" 2>/dev/null; then
		echo "moatd-memory: moatd did not come up; its log:" >&2
		cat "$d/log" >&2
		exit 1
	fi
	sleep 0.2
done
sleep 2 # moatd analyses the rules once they are in force (docs/ruleset.md)
ctl status | grep -E '^(generation|ruleset):'
grep -E '^Vm(RSS|HWM):' "/proc/$(cat "$d/pid")/status"
