#!/bin/sh
# Install what moat needs to build, test and run on Debian 12, as root.
# Idempotent: packages already present are left alone.
set -eu

packages="
	build-essential meson ninja-build pkg-config
	clang llvm bpftool
	libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev
	liburing-dev libssl-dev libmsgpack-dev libcmocka-dev
	libsqlite3-dev sqlite3 libjson-c-dev libhttp-parser-dev
	libcurl4-openssl-dev libseccomp-dev
	python3-msgpack python3-cryptography curl openssl
	iproute2 iputils-ping netcat-openbsd socat procps
	nftables iptables gnuplot-nox jq prometheus
"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages:$missing; run as root to install them" >&2
		exit 1
	fi
	echo "deps.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
