# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# What the shell kernel tests share, the twin of kt.c: named checks,
# honest skips, and a cleanup that removes everything a test made
# (processes, network namespaces, pins, temporary directories) however
# the test ends: normally, on a failed command under set -e, on Ctrl-C,
# on meson's SIGTERM at a timeout, and even on the SIGKILL meson sends
# half a second later (see kt_init).
#
# Source it, then call kt_init.

KT_LIB=${BASH_SOURCE[0]}
KT_CHECKS=0
KT_FAILED=0
KT_REGISTRY="" # what to remove, a "KIND NAME" a line (kt_init)
KT_BPFFS=/sys/fs/bpf

# Skip with status 77 and the reason; under CI=true a skip is a failure,
# since the CI machine has everything these tests need.
kt_skip() {
	echo "SKIP: $*" >&2
	if [ "${CI:-}" = true ]; then
		echo "CI=true: a skipped kernel test is a failure" >&2
		exit 1
	fi
	exit 77
}

# kt_require_kernel TOOL...: root, BTF, bpffs, network namespaces, tools.
kt_require_kernel() {
	local t
	[ "$(id -u)" -eq 0 ] || kt_skip "needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)"
	[ -r /sys/kernel/btf/vmlinux ] || kt_skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	[ -r /proc/self/ns/net ] || kt_skip "no network namespaces"
	if [ "$(stat -f -c %T "$KT_BPFFS" 2>/dev/null)" != bpf_fs ]; then
		mkdir -p "$KT_BPFFS"
		mount -t bpf bpf "$KT_BPFFS" || kt_skip "cannot mount bpffs at $KT_BPFFS"
	fi
	for t in "$@"; do
		command -v "$t" >/dev/null || kt_skip "needs $t (deploy/deps.sh installs it)"
	done
}

# A name unique to this run, so that a run after a crashed one never
# meets its leftovers: BASE followed by the pid (at most 5 digits, to keep
# interface names within 15 bytes).
kt_name() {
	echo "$1$(($$ % 100000))"
}

# kt_check NAME WHY COMMAND...: runs COMMAND; "ok" when it succeeds,
# "not ok - NAME: WHY" when it fails.  A WHY of "@FUNCTION" is FUNCTION's
# output once COMMAND has failed: what a kt_wait ended on, not what was
# there when it began.
kt_check() {
	local name=$1 why=$2
	shift 2
	KT_CHECKS=$((KT_CHECKS + 1))
	if "$@"; then
		echo "ok $KT_CHECKS - $name"
		return 0
	fi
	KT_FAILED=$((KT_FAILED + 1))
	case $why in
	@*) why=$("${why#@}" 2>&1) ;;
	esac
	echo "not ok $KT_CHECKS - $name: $why"
	return 1
}

# kt_eq NAME WANT GOT: a check that two values are equal.
kt_eq() {
	kt_check "$1" "got '$3', want '$2'" test "$2" = "$3"
}

# Exit status for the end of the test: 0 when every check passed.
kt_done() {
	echo "# $KT_CHECKS checks, $KT_FAILED failed"
	[ "$KT_FAILED" -eq 0 ] && [ "$KT_CHECKS" -gt 0 ]
}

# kt_cleanup_registry FILE: remove what FILE lists, then FILE.  Safe to
# run twice, and from another process (the reaper).
kt_cleanup_registry() {
	local kind name pid netns="" pids="" insts="" dirs=""
	[ -f "$1" ] || return 0
	while read -r kind name; do
		case $kind in
		netns) netns="$netns $name" ;;
		pid) pids="$pids $name" ;;
		instance) insts="$insts $name" ;;
		dir) dirs="$dirs $name" ;;
		esac
	done <"$1"
	# every process in our namespaces, moatd and the servers included
	for name in $netns; do
		for pid in $(ip netns pids "$name" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for pid in $pids; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null # when it is our child
	done
	# the namespaces take their veths along, and the veths their programs
	for name in $netns; do
		ip netns del "$name" 2>/dev/null
	done
	for name in $insts; do
		rm -rf "${KT_BPFFS:?}/moat/$name" "/run/moat/$name"
	done
	rmdir /run/moat 2>/dev/null
	for name in $dirs; do
		rm -rf "$name"
	done
	rm -f "$1"
}

kt_cleanup() {
	# a second Ctrl-C must not cut the cleanup short
	trap '' INT TERM
	trap - EXIT ERR
	set +e
	kt_cleanup_registry "$KT_REGISTRY"
}

# kt_reaper PID FILE: once PID is gone, remove what FILE still lists.
kt_reaper() {
	while kill -0 "$1" 2>/dev/null; do
		sleep 0.2
	done
	kt_cleanup_registry "$2"
}

# kt_init: arm the cleanup.  A signal ends the test through exit, which
# runs the EXIT trap once.  But bash runs a trap only when the command in
# the foreground has finished, and meson sends SIGKILL half a second after
# SIGTERM: so a reaper in a session of its own, out of reach of meson's
# kill of the test's process group, waits for the test to end and
# removes whatever the test could not.
kt_init() {
	KT_REGISTRY=$(mktemp /tmp/kt-cleanup.XXXXXX)
	# shellcheck disable=SC2016 # expanded by the reaper's shell
	setsid bash -c '. "$0" && kt_reaper "$1" "$2"' "$KT_LIB" "$$" "$KT_REGISTRY" \
		</dev/null >/dev/null 2>&1 &
	# set -e ends the test at a failed command: say which
	trap 'echo "# failed (status $?, line $LINENO): $BASH_COMMAND" >&2' ERR
	trap kt_cleanup EXIT
	trap 'echo "# interrupted" >&2; exit 130' INT
	trap 'echo "# terminated" >&2; exit 143' TERM
}

# kt_netns NAME: a network namespace with IPv6 off and lo up, removed at
# exit.  IPv6 stays off on links made later (default.disable_ipv6): the
# kernel's own neighbour discovery and MLD would otherwise reach the
# program at times of the kernel's choosing.  A test about IPv6 turns it
# on per interface and accounts for what the kernel sends.
kt_netns() {
	echo "netns $1" >>"$KT_REGISTRY"
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

# kt_bg PID: a process to kill at exit.
kt_bg() {
	echo "pid $1" >>"$KT_REGISTRY"
}

# kt_instance NAME: a moat instance whose pins are removed at exit.
kt_instance() {
	echo "instance $1" >>"$KT_REGISTRY"
}

# kt_tmpdir BASE: prints a new temporary directory, removed at exit.
# Call it as `dir=$(kt_tmpdir x); kt_keep_dir "$dir"`: a command
# substitution cannot register anything in this shell.
kt_tmpdir() {
	mktemp -d "/tmp/$1.XXXXXX"
}

kt_keep_dir() {
	echo "dir $1" >>"$KT_REGISTRY"
}

# kt_wait SECONDS COMMAND...: retry COMMAND every 0.1 s until it succeeds.
kt_wait() {
	local tries=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# kt_listening NS PROTO PORT: whether a socket listens (tcp) or is bound
# (udp) on PORT in NS.
kt_listening() {
	local opt=-ltnH
	[ "$2" = udp ] && opt=-lunH
	ip netns exec "$1" ss "$opt" "sport = :$3" | grep -q .
}
