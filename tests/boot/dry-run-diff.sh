#!/bin/bash
# The boot scenarios of the scenario table (tests/boot/run) against those of
# an older runner, both in a dry run (tests/boot/dry-run.sh): the same
# names, for each the same boot (kernel, disks, kernel line) and the same
# checks (TAP descriptions, regular expressions, results against an empty
# log).  Prints the differences, exits 1 if there are any.
#
#   tests/boot/dry-run-diff.sh [REV]   REV: the older tree (default: the
#                                      last commit whose tests/boot/run
#                                      built its scenarios by eval)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
rev=${1-}
if [ -z "$rev" ]; then
	for rev in $(git -C "$top" rev-list HEAD -- tests/boot/run); do
		git -C "$top" show "$rev:tests/boot/run" | grep -q '^	eval "' && break
	done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/old/boot" "$tmp/work"

# The older runner without its main part, then a loop running each of its
# scenario functions with the dry run's stubs in place.
git -C "$top" show "$rev:tests/boot/lib.sh" >"$tmp/old/boot/lib.sh" &&
	git -C "$top" show "$rev:tests/boot/run" | sed '/^list() {/,$d' >"$tmp/old/boot/run" ||
	exit 1
cat >>"$tmp/old/boot/run" <<'EOS'
. "$DRY_RUN_STUBS"
master_by_name() { master_disk "$@"; }
expect_log() {
	echo "# log $1"
	grep -Eq -- "$1" "$log"
	tap $? "$2"
}
expect_no_log() {
	echo "# no log $1"
	! grep -Eq -- "$1" "$log"
	tap $? "$2"
}
for scenario in $(declare -F | sed -n 's/^declare -f scenario_//p'); do
	dir=$LB_WORK/$scenario
	mkdir -p "$dir"
	log=$dir/serial.log
	: >"$log"
	("scenario_$scenario") >"$dir/tap" 2>"$dir/stderr"
	cat "$dir/boot.txt" "$dir/tap"
done
EOS
LB_WORK=$tmp/work DRY_RUN_STUBS=$top/tests/boot/dry-run.sh \
	bash "$tmp/old/boot/run" >"$tmp/old.out" 2>"$tmp/old.err"
LB_DRY_RUN=1 "$top/tests/boot/run" >"$tmp/new.out" 2>"$tmp/new.err"
echo "# $rev: $(grep -c '^# boot' "$tmp/old.out") scenarios, $(grep -Ec '^(not )?ok' "$tmp/old.out") checks"
echo "# now: $(grep -c '^# boot' "$tmp/new.out") scenarios, $(grep -Ec '^(not )?ok' "$tmp/new.out") checks"
if diff -u "$tmp/old.out" "$tmp/new.out"; then
	echo "# the same"
else
	exit 1
fi
