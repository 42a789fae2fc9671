#!/bin/sh
# Install what is needed, build, and run every test: the unit tests (also
# under AddressSanitizer and UBSan), the kernel tests, and a bounded
# libFuzzer run of the network-facing parsers.  As root, on
# Debian 12.  Ends with "tests: N passed, N failed, N skipped", counted
# from meson's own results.
set -eu
cd "$(dirname "$0")/.."

./deploy/deps.sh

build() { # dir, meson options...
	dir=$1
	shift
	if [ -d "$dir" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

build build
build build-asan -Db_sanitize=address,undefined -Db_lundef=false

# The network-facing parsers under libFuzzer for a bounded time (suite
# 'fuzz', docs/fuzzing.md).  Only the targets are built: the option
# instruments the whole tree, and clang is not the tree's compiler.
if [ -d build-fuzz ]; then
	meson configure build-fuzz -Dfuzz=true >/dev/null
else
	CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
fi
ninja -C build-fuzz mgmt/tests/fuzz-wire mgmt/tests/fuzz-proto mgmt/tests/fuzz-http

status=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs || status=1
meson test -C build --suite unit --suite kernel --print-errorlogs || status=1
meson test -C build-fuzz --suite fuzz --no-rebuild --print-errorlogs || status=1

python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	build-fuzz/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
