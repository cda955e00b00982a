# shellcheck shell=bash
# Expectations on the serial log of a boot, $log: each prints one TAP line
# (tests/lib/tap.sh).
#   expect_log REGEX DESCRIPTION      some line matches (grep -E)
#   expect_no_log REGEX DESCRIPTION   no line matches
# With LB_DRY_RUN=1 each also prints "# log REGEX" or "# no log REGEX"
# before its line: tests/boot/dry-run-diff.sh compares them.
# shellcheck source=tap.sh
declare -F tap >/dev/null || . "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# shellcheck disable=SC2154 # log: set by the test
expect_log() {
	[ "${LB_DRY_RUN:-0}" = 1 ] && echo "# log $1"
	grep -Eq -- "$1" "$log"
	tap $? "$2"
}
expect_no_log() {
	[ "${LB_DRY_RUN:-0}" = 1 ] && echo "# no log $1"
	! grep -Eq -- "$1" "$log"
	tap $? "$2"
}
