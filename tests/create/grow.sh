#!/bin/bash
# loopboot-grow and loopattach --set-capacity, no QEMU: an ext4 image on an
# NTFS volume (mkntfs in a file, mounted with ntfs-3g), grown offline
# (--image) and online (attached by loopattach, mounted, with a state file
# as the boot writes it: LOOPBOOT_STATE); shrinking, too little space left
# on the host and an image in use refused, nothing changed.
#
#   tests/create/grow.sh        (tools from build/: make all)
# shellcheck disable=SC2015 # "a && b || c": c when either fails
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
# shellcheck source=../lib/safe-rm.sh
. "$LB_TOP/tests/lib/safe-rm.sh"
WORK=$LB_TOP/build/create-grow
export PATH=$LB_TOP/$B/bin:$PATH
export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
GROW=$LB_TOP/helpers/loopboot-grow
MiB=1048576


if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/loop-control ] || ! command -v ntfs-3g >/dev/null; then
	echo "ok 1 - loopboot-grow # SKIP not root, no loop devices or no ntfs-3g"
	echo "1..1"
	exit 0
fi
safe_rm "$WORK"
mkdir -p "$WORK/host" "$WORK/root"
host=$WORK/host
loopdev=''
cleanup() {
	findmnt -rn "$WORK/root" >/dev/null && umount "$WORK/root"
	[ -n "$loopdev" ] && loopattach --detach "$loopdev" 2>/dev/null
	if findmnt -rn "$host" >/dev/null; then
		umount "$host"
		while pgrep -f "ntfs-3g $WORK/ntfs.img" >/dev/null; do sleep 0.1; done
	fi
	safe_rm "$WORK"
}
trap cleanup EXIT

# A 4 GiB volume: 2 GiB must stay free, so about 1.6 GiB can be taken.
truncate -s 4G "$WORK/ntfs.img"
mkntfs -Q -F -L WIN "$WORK/ntfs.img" >/dev/null 2>&1 && ntfs-3g "$WORK/ntfs.img" "$host" ||
	{ echo "not ok 1 - NTFS volume made and mounted"; echo "1..1"; exit 1; }
mkdir "$host/linux"
img=$host/linux/root.img
dd if=/dev/zero of="$img" bs=1M count=64 status=none
mkfs.ext4 -q -F -b 4096 -T ext4 -E lazy_itable_init=0,lazy_journal_init=0,nodiscard "$img"
echo "data" >"$WORK/marker"
debugfs -w -R "write $WORK/marker marker" "$img" >/dev/null 2>&1

fs_bytes() { # the ext4 file system's size in bytes
	dumpe2fs -h "$1" 2>/dev/null | awk -F: '
		/^Block count/ { c = $2 } /^Block size/ { s = $2 } END { print c * s }'
}

# Offline.
"$GROW" --image "$img" +32M --yes >"$WORK/out" 2>&1
tap $? "offline: +32M on an image on ntfs-3g" || sed 's/^/#   /' "$WORK/out"
[ "$(stat -c %s "$img")" = $((96 * MiB)) ]
tap $? "offline: the file is 96 MiB ($(stat -c %s "$img"))"
[ "$(fs_bytes "$img")" = $((96 * MiB)) ]
tap $? "offline: the file system fills it ($(fs_bytes "$img"))"
[ $(($(stat -c '%b*%B' "$img"))) -ge $((96 * MiB)) ]
tap $? "offline: the new part is allocated on the host (not sparse)"
e2fsck -fn "$img" >"$WORK/fsck" 2>&1
tap $? "offline: e2fsck -fn clean"
"$GROW" --image "$img" --to 128M --yes >"$WORK/out" 2>&1 && [ "$(stat -c %s "$img")" = $((128 * MiB)) ]
tap $? "offline: --to 128M"

refused() { # DESCRIPTION REGEX ARGS...
	local what=$1 re=$2 before
	shift 2
	before=$(stat -c %s "$img")
	"$GROW" "$@" --yes >"$WORK/out" 2>&1
	[ $? = 1 ] && grep -Eq -- "$re" "$WORK/out" && [ "$(stat -c %s "$img")" = "$before" ]
	tap $? "$what: refused, size unchanged ($re)" || sed 's/^/#   /' "$WORK/out"
}
refused "shrinking" 'shrinking is refused' --image "$img" --to 64M
refused "the same size" 'shrinking is refused' --image "$img" --to 128M
refused "more than the host can spare" 'not enough free space.*at least 2 GiB' --image "$img" +3G
refused "no state file, no --image" 'not booted through loopboot' +8M

# Online: attached and mounted as the boot leaves it.
loopdev=$(loopattach --root "$host" /linux/root.img)
refused "an image in use, offline" 'in use by' --image "$img" +8M
mount "$loopdev" "$WORK/root"
cat >"$WORK/state" <<EOF
LOOPBOOT_HOST_DEV='$WORK/ntfs.img'
LOOPBOOT_HOST_DRIVER='ntfs-3g'
LOOPBOOT_HOST_RO=''
LOOPBOOT_HOST_MNT='$host'
LOOPBOOT_LOOP_DEV='$loopdev'
LOOPBOOT_LOOP_FILE='/linux/root.img'
LOOPBOOT_IMAGE_TYPE='ext4'
EOF
before=$(df -B1 --output=size "$WORK/root" | tail -n 1)
LOOPBOOT_STATE=$WORK/state "$GROW" +64M --yes >"$WORK/out" 2>&1
rc=$?
# Online ext4 resizing needs CAP_SYS_RESOURCE, which some containers drop
# (the QEMU test, tests/create/e2e.sh, grows online in a real system).
if [ $(((0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24) & 1)) = 0 ]; then
	[ $rc = 1 ] && grep -q 'the file and .* have the new size already' "$WORK/out"
	tap $? "online without CAP_SYS_RESOURCE: the failure says what has grown" ||
		sed 's/^/#   /' "$WORK/out"
	skip "online: df shows the new size" "no CAP_SYS_RESOURCE here: the kernel refuses online resizing"
	resize2fs "$loopdev" >/dev/null 2>&1
else
	tap $rc "online: +64M, mounted" || sed 's/^/#   /' "$WORK/out"
	after=$(df -B1 --output=size "$WORK/root" | tail -n 1)
	[ "$after" -gt $((before + 60 * MiB)) ]
	tap $? "online: df shows it ($before -> $after bytes)"
fi
[ "$(blockdev --getsize64 "$loopdev")" = $((192 * MiB)) ]
tap $? "online: the loop device has the new size (LOOP_SET_CAPACITY)"
grep -q data "$WORK/root/marker"
tap $? "online: the data is still there"
LOOPBOOT_STATE=$WORK/state "$GROW" --to 100M --yes >"$WORK/out" 2>&1
[ $? = 1 ] && grep -q 'shrinking is refused' "$WORK/out"
tap $? "online: shrinking refused"
loopattach --set-capacity "$WORK/ntfs.img" >/dev/null 2>&1
[ $? = 1 ]
tap $? "loopattach --set-capacity on a file that is no loop device: refused"
umount "$WORK/root"
loopattach --detach "$loopdev"
loopdev=''
e2fsck -fn "$img" >"$WORK/fsck" 2>&1
tap $? "online: e2fsck -fn clean afterwards"
[ "$(stat -c %s "$img")" = $((192 * MiB)) ] && [ $(($(stat -c '%b*%B' "$img"))) -ge $((192 * MiB)) ]
tap $? "online: the host holds exactly the new size, allocated"

echo "1..$n"
[ "$failed" = 0 ]
