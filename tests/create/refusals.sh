#!/bin/bash
# loopboot-create's refusals, no QEMU, no download: NTFS volumes made by
# mkntfs in files, attached to loop devices, in the states Windows leaves
# (dirty, Fast Startup, hibernated, BitLocker), one holding the file
# already, one too small.  Each refusal: exit status 1 (2 for usage), a
# message naming the object and the fix, the volume byte for byte as it
# was, nothing mounted, no loop device, no state left in /run.
#
#   tests/create/refusals.sh       (tools from build/: make all unit-tests)
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
# shellcheck source=../lib/safe-rm.sh
. "$LB_TOP/tests/lib/safe-rm.sh"
WORK=$LB_TOP/build/create-refusals
export PATH=$LB_TOP/$B/bin:$LB_TOP/$B/tools:$PATH
export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
export LOOPBOOT_CREATE_RUN=$WORK/run LOOPBOOT_CREATE_LOG=$WORK/log
CREATE=$LB_TOP/helpers/loopboot-create

if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/loop-control ] || ! command -v mkntfs >/dev/null; then
	echo "ok 1 - loopboot-create refusals # SKIP not root, no loop devices or no mkntfs"
	echo "1..1"
	exit 0
fi
for t in loopattach ntfsprobe ntfs-mutate; do
	command -v "$t" >/dev/null || {
		echo "not ok 1 - $t is built (make all unit-tests)"
		echo "1..1"
		exit 1
	}
done


safe_rm "$WORK"
mkdir -p "$WORK/run"
devs=()
cleanup() {
	local d
	for d in "${devs[@]}"; do
		findmnt -rn -S "$d" -o TARGET | while read -r m; do umount "$m"; done
		losetup -d "$d" 2>/dev/null
	done
	safe_rm "$WORK"
}
trap cleanup EXIT
printf 'pass word\n' >"$WORK/pw"

# vol_sum IMAGE: a digest of the sparse IMAGE's data and where it lies
# (a full read of 8 GiB of holes would take minutes).
vol_sum() {
	python3 -c '
import hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
end = os.fstat(fd).st_size
h = hashlib.sha256()
pos = 0
while pos < end:
    try:
        pos = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        break
    stop = os.lseek(fd, pos, os.SEEK_HOLE)
    h.update(b"%d:" % pos)
    while pos < stop:
        chunk = os.pread(fd, min(1 << 20, stop - pos), pos)
        h.update(chunk)
        pos += len(chunk)
print(h.hexdigest())' "$1"
}

# host NAME SIZE_GIB STATE: an NTFS volume in $WORK/NAME.img in STATE
# (clean, dirty, fast-startup, hibernated, bitlocker, existing), attached to
# a loop device: $dev.
host() {
	local img=$WORK/$1.img mnt=$WORK/mnt
	truncate -s "$2G" "$img"
	mkntfs -Q -F -L WIN "$img" >/dev/null 2>&1 || { echo "# mkntfs failed"; exit 1; }
	case $3 in
	dirty) ntfs-mutate "$img" dirty >/dev/null ;;
	fast-startup) ntfs-mutate "$img" log-fast-startup >/dev/null ;;
	bitlocker) ntfs-mutate "$img" bitlocker >/dev/null ;;
	hibernated | existing)
		mkdir -p "$mnt"
		ntfs-3g "$img" "$mnt"
		if [ "$3" = hibernated ]; then
			{ printf 'hibr'; head -c 65532 /dev/zero; } >"$mnt/hiberfil.sys"
		else
			mkdir "$mnt/linux"
			echo "the user's own file" >"$mnt/linux/debian.img"
		fi
		umount "$mnt"
		while pgrep -f "ntfs-3g $img" >/dev/null; do sleep 0.1; done
		;;
	esac
	dev=$(losetup -f --show "$img")
	devs+=("$dev")
}

# refuse DESCRIPTION STATUS REGEX ARGS...: loopboot-create ARGS on $dev
# ends with STATUS, its stderr matches REGEX, nothing changed.
refuse() {
	local what=$1 want=$2 re=$3 img before after rc
	shift 3
	img=$(losetup -n -O BACK-FILE "$dev")
	before=$(vol_sum "$img")
	# A mirror nobody answers: a refusal that slips through fails at
	# debootstrap, without a download.
	"$CREATE" --host "$dev" --file /linux/debian.img --user alice \
		--password-file "$WORK/pw" --yes --mirror http://127.0.0.1:9/debian "$@" \
		</dev/null >"$WORK/out" 2>"$WORK/err"
	rc=$?
	[ "$rc" = "$want" ]
	tap $? "$what: exit status $want (got $rc)"
	grep -Eq -- "$re" "$WORK/err"
	tap $? "$what: the message says why and what to do ($re)" ||
		sed 's/^/#   /' "$WORK/err"
	after=$(vol_sum "$img")
	[ "$before" = "$after" ]
	tap $? "$what: the volume is unchanged, byte for byte"
	[ -z "$(findmnt -rn -S "$dev")" ] && ! losetup -n -j "$img" -O NAME | grep -qvx "$dev" &&
		[ -z "$(ls -A "$WORK/run")" ]
	tap $? "$what: nothing mounted, no loop device, no state left"
}

host clean 8 clean
refuse "size below the minimum" 1 'too small for Debian trixie.*at least 3\.0GiB' --size 2G
refuse "desktop below its minimum" 1 'at least 12\.0GiB' --size 8G --desktop
refuse "--fs of another type" 2 '--fs zfs: ext4, btrfs or xfs' --size 3G --fs zfs
refuse "an xfs /home below mkfs.xfs' minimum" 1 '--home-size 256M: give at least 300M \(for xfs\)' \
	--size 3G --fs xfs --home-size 256M
refuse "a password on the command line" 2 'never goes on the command line' --size 3G --password secret
refuse "a relative --file" 2 'absolute path' --size 3G --file linux/x.img
refuse "'..' in --file" 2 "no '.' or '..'" --size 3G --file /linux/../x.img
refuse "no space left for Windows" 1 'not enough free space: .* must stay free \(10% of the volume, at least 2 GiB\).*Nothing was written' --size 7G
# No --yes, no terminal: it asks nobody.
img=$(losetup -n -O BACK-FILE "$dev")
before=$(vol_sum "$img")
"$CREATE" --host "$dev" --file /linux/debian.img --user alice --password-file "$WORK/pw" \
	--size 3G </dev/null >"$WORK/out" 2>"$WORK/err"
rc=$?
[ "$rc" = 1 ] && grep -q 'give --yes' "$WORK/err" && grep -q 'free space' "$WORK/out"
tap $? "without --yes and a terminal: the plan is shown, nothing asked, exit 1" ||
	sed 's/^/#   /' "$WORK/err"
[ "$before" = "$(vol_sum "$img")" ] && [ -z "$(findmnt -rn -S "$dev")" ]
tap $? "without --yes: the volume is unchanged and unmounted"
rm -f "$WORK/nopw"
"$CREATE" --host "$dev" --file /linux/debian.img --user alice --size 3G --yes \
	</dev/null >"$WORK/out" 2>"$WORK/err"
[ $? = 1 ] && grep -q 'give --password-file' "$WORK/err"
tap $? "no terminal for the password prompt: refused, asks for --password-file"
"$CREATE" --host "$WORK/clean.img" --file /linux/debian.img --user alice --size 3G --yes \
	--password-file "$WORK/pw" </dev/null >"$WORK/out" 2>"$WORK/err"
[ $? = 1 ] && grep -q 'not a block device' "$WORK/err"
tap $? "--host naming a file, not a partition: refused"

# --usb: the disk for the boot image is judged before anything is written:
# to the partition (refuse checks it byte for byte) and to the disk.  Loop
# devices stand in for the sticks; their sysfs is stubbed (LOOPBOOT_SYSFS),
# since a loop device has no vendor or model, and the kernel here may not
# scan partition tables: the stub says which device is a partition of
# which disk, which one the host is on, and what it holds.
# usbdisk SIZE_MIB [ext4]: a loop device ($u) with its stub sysfs (ext4:
# holding a file system, to be mounted).
S=$WORK/sys
export LOOPBOOT_SYSFS=$S
usbdisk() {
	local img
	img=$(mktemp "$WORK/usb.XXXXXX")
	truncate -s "$1M" "$img"
	[ -z "${2-}" ] || mkfs.ext4 -q "$img" >/dev/null
	u=$(losetup -f --show "$img")
	devs+=("$u")
	stub "$u"
}
# stub DEV: DEV's stub sysfs ($us, its name $un): size, dev and ro from the
# real one, not removable, no vendor or model.
stub() {
	un=${1#/dev/}
	us=$S/block/$un
	mkdir -p "$us/holders" "$S/class/block"
	cp "/sys/class/block/$un/dev" "/sys/class/block/$un/size" "/sys/class/block/$un/ro" "$us/"
	echo 0 >"$us/removable"
	ln -sfn "../../block/$un" "$S/class/block/$un"
}
# as_partition NAME DISK: the stub shows NAME as a partition of DISK.
as_partition() {
	rm -rf "${S:?}/class/block/$1"
	mkdir -p "$S/block/$2/$1"
	echo 1 >"$S/block/$2/$1/partition"
	ln -sfn "../../block/$2/$1" "$S/class/block/$1"
}
usb_sum() { sha256sum <"$1" | cut -c1-64; }
host usbhost 8 clean
refuse "--usb naming a file" 1 '--usb .*: not a block device; give the whole USB disk.*Nothing was written' \
	--size 3G --usb "$WORK/pw" --yes-usb "$WORK/pw"
usbdisk 600
as_partition "$un" sdz
refuse "--usb naming a partition" 1 "--usb $u: a partition of /dev/sdz, not a whole disk.*give --usb /dev/sdz" \
	--size 3G --usb "$u"
usbdisk 600 ext4
part=$u
usbdisk 600
as_partition "${part#/dev/}" "$un"
mkdir -p "$WORK/stick"
mount "$part" "$WORK/stick"
before_u=$(usb_sum "$u")
refuse "--usb with a mounted partition" 1 "--usb $u: in use: $part is mounted at $WORK/stick .*unmount it first" \
	--size 3G --usb "$u" --yes-usb "$u"
umount "$WORK/stick"
swapdev=$part
usbdisk 600
mkswap -q "$swapdev" >/dev/null 2>&1 && swapon "$swapdev" && {
	rm -rf "${S:?}/class/block/${swapdev#/dev/}"
	mkdir -p "$us/holders/${swapdev#/dev/}"
	ln -sfn "../../block/$un/holders/${swapdev#/dev/}" "$S/class/block/${swapdev#/dev/}"
	refuse "--usb under a device in use as swap (a holder: dm, md)" 1 "--usb $u: in use: $swapdev is in use as swap" \
		--size 3G --usb "$u" --yes-usb "$u"
	swapoff "$swapdev"
}
[ "$(usb_sum "$u")" = "$before_u" ]
tap $? "--usb refusals: the disk is unchanged, byte for byte"
usbdisk 100
refuse "--usb too small" 1 "--usb $u \\(no model known, 100\\.0MiB, not removable.*\\): too small for the boot image: give a disk of at least 512\\.0MiB" \
	--size 3G --usb "$u" --yes-usb "$u"
refuse "--yes-usb naming another disk" 2 "--yes-usb ${devs[-2]}: names another device than --usb $u" \
	--size 3G --usb "$u" --yes-usb "${devs[-2]}"
refuse "--yes-usb without --usb" 2 "--yes-usb $u: no --usb DEVICE was given" --size 3G --yes-usb "$u"

# The host's own disk is refused as the stick: the host itself, and the
# disk holding the host partition.
stub "$dev"
refuse "--usb naming the host itself" 1 "--usb $dev: holds the host partition $dev.*give another disk" \
	--size 3G --usb "$dev" --yes-usb "$dev"
usbdisk 1024
as_partition "${dev#/dev/}" "$un"
refuse "--usb naming the disk of the host partition" 1 "--usb $u: holds the host partition $dev, which is to hold the file; give another disk" \
	--size 3G --usb "$u" --yes-usb "$u"
rm -rf "${S:?}/block/$un/${dev#/dev/}" "${S:?}/class/block/${dev#/dev/}"

# The second question: named with vendor, model and size, asked even with
# --yes; not asked without a terminal; a wrong answer writes nothing.
usbdisk 1024
echo 1 >"$us/removable"
mkdir -p "$us/device"
echo 'SanDisk ' >"$us/device/vendor"
echo 'Cruzer Blade    ' >"$us/device/model"
refuse "--usb, --yes, no terminal: the disk's question is not answered by --yes" 1 \
	"--usb $u: not asking without a terminal whether to erase it: give --yes-usb $u" --size 3G --usb "$u"
grep -q "USB disk    $u (SanDisk Cruzer Blade, 1\\.0GiB, removable): the boot image, written over everything on it" "$WORK/out"
tap $? "--usb: the plan names the disk, its vendor, model, size, and that all on it is lost" ||
	sed 's/^/#   /' "$WORK/out"
img=$(losetup -n -O BACK-FILE "$dev")
before=$(vol_sum "$img")
before_u=$(usb_sum "$u")
printf 'y\nsdz\n' | script -qec "$(printf '%q ' "$CREATE" --host "$dev" --file /linux/debian.img \
	--user alice --password-file "$WORK/pw" --size 3G --usb "$u" --mirror http://127.0.0.1:9/debian)" \
	/dev/null >"$WORK/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "At the end, erase $u (SanDisk Cruzer Blade, 1\\.0GiB, removable) and write the boot image to it?" "$WORK/out" &&
	grep -q "Type its name ($un) to confirm" "$WORK/out" &&
	grep -q "not confirmed (answered 'sdz'); nothing written" "$WORK/out"
tap $? "--usb on a terminal: a second question names the disk; a wrong name stops the run (exit $rc)" ||
	sed 's/^/#   /' "$WORK/out"
[ "$before" = "$(vol_sum "$img")" ] && [ "$before_u" = "$(usb_sum "$u")" ] &&
	[ -z "$(findmnt -rn -S "$dev")" ] && [ -z "$(ls -A "$WORK/run")" ]
tap $? "--usb not confirmed: the partition and the disk are unchanged, nothing mounted, no state"
unset LOOPBOOT_SYSFS

host existing 8 existing
refuse "the file exists already" 1 '/linux/debian\.img: already exists on .*never overwritten' --size 3G
mnt=$WORK/mnt
ntfs-3g -o ro "$dev" "$mnt" && grep -q "the user's own file" "$mnt/linux/debian.img"
tap $? "the existing file still holds the user's data"
umount "$mnt"
while pgrep -f "ntfs-3g -o ro $dev" >/dev/null; do sleep 0.1; done

# A host mounted already: read-only is refused; read-write is used where it
# is, and left mounted.
host mounted 8 clean
mkdir -p "$WORK/user-mnt"
ntfs-3g -o ro "$dev" "$WORK/user-mnt"
"$CREATE" --host "$dev" --file /linux/debian.img --user alice --password-file "$WORK/pw" \
	--size 3G --yes </dev/null >"$WORK/out" 2>"$WORK/err"
[ $? = 1 ] && grep -q "mounted read-only at $WORK/user-mnt; remount it read-write or unmount it" "$WORK/err"
tap $? "a host mounted read-only: refused, named where" || sed 's/^/#   /' "$WORK/err"
umount "$WORK/user-mnt"
while pgrep -f "ntfs-3g -o ro $dev" >/dev/null; do sleep 0.1; done
ntfs-3g "$dev" "$WORK/user-mnt"
"$CREATE" --host "$dev" --file /linux/debian.img --user alice --password-file "$WORK/pw" \
	--size 3G </dev/null >"$WORK/out" 2>"$WORK/err"
[ $? = 1 ] && grep -q "mounted at $WORK/user-mnt" "$WORK/out" && grep -q 'give --yes' "$WORK/err"
tap $? "a host mounted read-write: used where it is (the plan says so)" ||
	sed 's/^/#   /' "$WORK/out" "$WORK/err"
[ "$(findmnt -rn -S "$dev" -o TARGET)" = "$WORK/user-mnt" ] && [ -z "$(ls -A "$WORK/run")" ]
tap $? "a host mounted read-write: left mounted where it was, no state left"
umount "$WORK/user-mnt"
while pgrep -f "ntfs-3g $dev" >/dev/null; do sleep 0.1; done

for state in dirty fast-startup hibernated bitlocker; do
	host "$state" 8 "$state"
	case $state in
	dirty) re='chkdsk /f' ;;
	fast-startup | hibernated) re='Fast Startup.*powercfg /h off' ;;
	bitlocker) re='BitLocker.*manage-bde -off' ;;
	esac
	refuse "Windows volume $state" 1 "$dev: refused, nothing was written: .*$re" --size 3G
done

echo "1..$n"
[ "$failed" = 0 ]
