#!/bin/bash
# Every tool's --version (and -V) prints "TOOL (loopboot) VERSION" with
# debian/changelog's version, the one source the Makefile builds in; and
# every --help lists --version.  The version is read here from the
# changelog's first line, independently of the Makefile.
# Runs the binaries of ${B:-build}: the plain and the ASan build.
set -u
b=${B:-build}
changelog=$(dirname "$0")/../../debian/changelog

# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

want=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$changelog")
[ -n "$want" ]
ok $? "debian/changelog's first line gives a version ($want)"

for tool in cmdline-get ntfsprobe loopattach ioflusher; do
	for bin in "$b/bin/$tool" "$b/asan/bin/$tool"; do
		if [ ! -x "$bin" ]; then
			ok 1 "$bin is built (make unit-tests)"
			continue
		fi
		for opt in --version -V; do
			out=$("$bin" "$opt" 2>&1)
			rc=$?
			[ "$rc" = 0 ] && [ "$out" = "$tool (loopboot) $want" ]
			ok $? "$bin $opt: \"$out\", exit $rc"
		done
		"$bin" --help | grep -q -- "-V, --version"
		ok $? "$bin --help lists -V, --version"
	done
done

echo "1..$n"
[ "$failed" -eq 0 ]
