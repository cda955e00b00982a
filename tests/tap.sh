# shellcheck shell=bash
# TAP lines for the shell tests, counted by tests/run:
#   tap STATUS DESCRIPTION   "ok N - ..." when STATUS is 0, else "not ok N - ..."
#   ok STATUS DESCRIPTION    the same
#   skip DESCRIPTION REASON  "ok N - DESCRIPTION # SKIP REASON"
n=0 failed=0
tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
ok() { tap "$@"; }
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
