#!/bin/bash
# lb_chroot's mount namespace (tests/lib/qemu.sh: lb_ns_only_tree) keeps
# only what the chroot needs: the copies of other mounts, other tests'
# loop and FUSE mounts among them, would keep those busy while the chroot
# runs.  And it unmounts nothing while a mount is shared with the caller's
# namespace, where the unmount would land.
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
need_mount_ns "lb_chroot's namespace"
# shellcheck source=../lib/qemu.sh
. "$LB_TOP/tests/lib/qemu.sh"
t=$(mktemp -d)
cleanup() {
	umount -l "$t/treefs/root/inside" "$t/treefs" "$t/other" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT
mkdir -p "$t/other" "$t/treefs"
mount -t tmpfs lbother "$t/other"
mount -t tmpfs lbtreefs "$t/treefs"
mkdir -p "$t/treefs/root/inside"
mount -t tmpfs lbinside "$t/treefs/root/inside"
tree=$t/treefs/root

# in_ns PROPAGATION: the mount points lb_ns_only_tree leaves in a new
# namespace, one a line, and its status last ("rc N").
in_ns() {
	# shellcheck disable=SC2016 # expanded by that bash
	unshare --mount --propagation "$1" -- bash -c "$(declare -f lb_ns_only_tree)"'
		lb_ns_only_tree "$0" 2>/dev/null
		rc=$?
		awk "{ print \$5 }" /proc/self/mountinfo
		echo "rc $rc"' "$tree"
}
out=$(in_ns private)
has() { printf '%s\n' "$out" | grep -qx -- "$1"; }
! has "$t/other" && has "$t/treefs" && has "$tree/inside" && has / && has /proc && has "rc 0"
tap $? "private namespace: a mount outside the tree is dropped; the tree's own, the one holding it, / and /proc stay"
mountpoint -q "$t/other"
tap $? "the caller's namespace keeps that mount"

mount --make-shared "$t/other"
out=$(in_ns unchanged)
has "$t/other" && has "rc 1" && mountpoint -q "$t/other"
tap $? "a mount shared with the caller: nothing is unmounted (it would be unmounted in the caller's namespace too)"

echo "1..$n"
[ "$failed" = 0 ]
