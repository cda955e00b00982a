# shellcheck shell=bash
# What every QEMU test shares: where the tree is ($LB_TOP), where a test
# works ($LB_WORK, made here; default build/boot) and how it gives up.
LB_TOP=${LB_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LB_WORK=${LB_WORK:-$LB_TOP/build/boot}
mkdir -p "$LB_WORK"

# lb_die MESSAGE: the message, after the name of the script that gives up
# (tests/bench/run, tests/boot/run, ...), and exit 1.
lb_die() {
	echo "${0#"$LB_TOP"/}: $*" >&2
	exit 1
}
