# shellcheck shell=bash
# TAP lines for the tests, counted by tests/run:
#   tap STATUS DESCRIPTION   "ok N - ..." when STATUS is 0, else "not ok N - ..."
#                            (returns 1 then, so that "tap ... || explain" works)
#   ok STATUS DESCRIPTION    the same
#   skip DESCRIPTION REASON  "ok N - DESCRIPTION # SKIP REASON"
# Two settings, for tests whose lines come from runs side by side and are
# put together afterwards (tests/boot/run, tests/system/run):
#   TAP_NUMBERED=0           "ok - ..." without the number
#   TAP_PREFIX="name: "      put before every description
# $n counts the lines, $failed the failures.
n=0 failed=0
tap() {
	# One line, whatever the description quotes (a tool's output): a
	# second line would be outside the test's result.
	local num=" $((n + 1))" desc=${2//$'\n'/ }
	n=$((n + 1))
	[ "${TAP_NUMBERED:-1}" = 1 ] || num=
	if [ "$1" -eq 0 ]; then
		echo "ok$num - ${TAP_PREFIX-}$desc"
	else
		echo "not ok$num - ${TAP_PREFIX-}$desc"
		failed=$((failed + 1))
		return 1
	fi
}
ok() { tap "$@"; }
skip() {
	local num=" $((n + 1))"
	n=$((n + 1))
	[ "${TAP_NUMBERED:-1}" = 1 ] || num=
	echo "ok$num - ${TAP_PREFIX-}$1 # SKIP $2"
}
# need_mount_ns DESCRIPTION: a test that needs root and mount namespaces
# ends here, as one skipped line, where it has neither.
need_mount_ns() {
	[ "$(id -u)" = 0 ] && unshare --mount true 2>/dev/null && return 0
	skip "$1" "needs root and mount namespaces (unshare --mount)"
	echo "1..$n"
	exit 0
}
