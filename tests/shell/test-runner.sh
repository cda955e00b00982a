#!/bin/bash
# tests/run, the runner make check's totals line comes from: it counts each
# command's TAP lines from the command's log, so a command whose log cannot
# be written must count as a failure, not vanish; a command longer than a
# file name allows (make check's tests/parallel line) still gets a log and
# its results counted; a command that exits non-zero without a "not ok"
# counts as one failure; the totals line is the last line.
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
runner() { TEST_LOG_DIR=$1 "$LB_TOP/tests/run" "${@:2}" >"$t/out" 2>&1; }

long="echo 'ok 1 - a'; echo 'ok 2 - b' # $(printf 'x%.0s' $(seq 300))"
runner "$t/logs" "$long" "echo 'not ok 1 - c'" 'echo "ok 1 - d # SKIP why"' 'exit 3'
rc=$?
[ $rc = 1 ] && [ "$(tail -n 1 "$t/out")" = "2 passed, 2 failed, 1 skipped" ]
tap $? "a 300-character command counted, a not ok, a skip, a silent non-zero exit as a failure (got $rc: $(tail -n 1 "$t/out"))"
longest=$(find "$t/logs" -name '*.log' -printf '%f\n' | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$longest" -le 255 ] && [ "$(find "$t/logs" -name '*.log' | wc -l)" = 4 ]
tap $? "every command has its own log, each name within a file name's 255 bytes (longest $longest)"
runner /proc/self "echo 'ok 1 - a'"
rc=$?
[ $rc = 1 ] && [ "$(tail -n 1 "$t/out")" = "0 passed, 1 failed, 0 skipped" ] && grep -q 'could not be written' "$t/out"
tap $? "a log that cannot be written counts as a failure, not as nothing (got $rc: $(tail -n 1 "$t/out"))"
# A log left by an earlier run, where this run's cannot be written: the
# old results must not be counted as this run's.
mkdir -p "$t/stale"
echo 'ok 1 - from an earlier run' >"$t/stale/echo__ok_1_-_a_.log"
chmod 0444 "$t/stale/echo__ok_1_-_a_.log"
chattr +i "$t/stale/echo__ok_1_-_a_.log" 2>/dev/null && immutable=1 || immutable=''
runner "$t/stale" "echo 'ok 1 - a'"
rc=$?
[ -n "$immutable" ] && chattr -i "$t/stale/echo__ok_1_-_a_.log"
if [ -n "$immutable" ]; then
	[ $rc = 1 ] && [ "$(tail -n 1 "$t/out")" = "0 passed, 1 failed, 0 skipped" ]
	tap $? "an earlier run's log that this run cannot replace is not counted as this run's (got $rc: $(tail -n 1 "$t/out"))"
else
	tap 0 "an earlier run's log is not counted as this run's # SKIP no chattr +i here"
fi
echo "1..$n"
[ "$failed" = 0 ]
