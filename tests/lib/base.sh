# shellcheck shell=bash
# What every QEMU test shares: where the tree is ($LB_TOP), where a test
# works ($LB_WORK, made here; default build/boot) and how it gives up.
LB_TOP=${LB_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LB_WORK=${LB_WORK:-$LB_TOP/build/boot}
mkdir -p "$LB_WORK"

lb_die() {
	echo "tests/boot: $*" >&2
	exit 1
}
