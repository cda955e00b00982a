#!/bin/bash
# loopattach on real loop devices: every option checked against sysfs and
# losetup, the LOOP_SET_FD fallback, eight attaches racing, every refusal,
# failures injected after the device is bound (strace), and valgrind.
#
# Loop devices are shared with everything else on the machine: this test
# detaches only devices it attached itself, and all of them on exit.
#
#   B=build tests/shell/loopattach.sh      (binaries from $B; default build)
set -u
B=${B:-build}
ASAN=$B/asan/bin/loopattach
PLAIN=$B/bin/loopattach
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

# As tap.sh's ok, with the tool's last stderr shown under a failure.
ok() {	# ok CONDITION-STATUS DESCRIPTION
	tap "$1" "$2"
	[ "$1" -eq 0 ] || { [ -s "$tmp/err" ] && sed 's/^/#   stderr: /' "$tmp/err"; }
	return 0
}

if [ ! -e /dev/loop-control ] || [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 - loopattach on real loop devices # SKIP no /dev/loop-control or not root"
	echo "1..1"
	exit 0
fi
for bin in "$ASAN" "$PLAIN"; do
	if [ ! -x "$bin" ]; then
		echo "not ok 1 - $bin is built (run make unit-tests)"
		echo "1..1"
		exit 1
	fi
done

tmp=$(mktemp -d /var/tmp/loopattach-test.XXXXXX)
mine=" "		# devices this test attached and has not detached
# loopattach raises a device's read-ahead, and that setting outlives the
# attach; put back what each device had when this test began.
declare -A ra_before
for q in /sys/block/loop*/queue/read_ahead_kb; do
	[ -r "$q" ] && ra_before[$q]=$(cat "$q")
done
ra_new=${ra_before[/sys/block/loop0/queue/read_ahead_kb]:-}
touched=" "		# every device this test attached
# A detached loop device may hold its backing file a moment longer (udev's
# probe still has the device open: the kernel clears it at the last close),
# so unmounting the host right after can fail with EBUSY: wait a little.
umount_host() {
	local i
	for i in $(seq 50); do
		umount "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	umount "$1"
}
cleanup() {
	local d q
	chattr -i "$tmp/immutable.img" 2>/dev/null
	mountpoint -q "$tmp/ro" && umount "$tmp/ro"
	mountpoint -q "$tmp/btrfs" 2>/dev/null && umount "$tmp/btrfs"
	mountpoint -q "$tmp/enc" 2>/dev/null && umount "$tmp/enc"
	for d in $mine; do losetup -d "$d" 2>/dev/null; done
	mountpoint -q "$tmp/ntfs" 2>/dev/null && umount_host "$tmp/ntfs"
	touched="$touched$mine"
	for q in "${!ra_before[@]}"; do
		[ "$(cat "$q" 2>/dev/null)" = "${ra_before[$q]}" ] ||
			echo "${ra_before[$q]}" >"$q" 2>/dev/null
	done
	# Devices made during the test (LOOP_CTL_GET_FREE adds them) that
	# this test attached: the kernel's default, as loop0 had it.
	for d in $touched; do
		q=/sys/block/${d#/dev/}/queue/read_ahead_kb
		[ -n "${ra_before[$q]:-}" ] || [ -z "$ra_new" ] ||
			echo "$ra_new" >"$q" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# att [ENV=V...] -- ARGS: run the ASan tool, keep stdout in $dev, status in $rc
att() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	dev=$(env "${envs[@]}" "$ASAN" "$@" 2>"$tmp/err")
	rc=$?
	if [ $rc -eq 0 ] && [[ $dev =~ ^/dev/loop[0-9]+$ ]]; then
		mine="$mine$dev "
	fi
}
forget() { mine=${mine/ $1 / }; touched="$touched$1 "; }
detach() { losetup -d "$1" && forget "$1"; }
sys() { cat "/sys/block/${1#/dev/}/loop/$2" 2>/dev/null; }
# Devices (of any owner) backed by FILE, from losetup: the oracle for
# "no device left behind".
backed_by() { losetup -n -O NAME -j "$1" | wc -l; }

img=$tmp/root.img
fallocate -l 64M "$img"
printf 'loopattach-test' | dd of="$img" conv=notrunc status=none

# -- plain attach: every default as documented ------------------------------
att -- "$img"
ok $? "plain attach succeeds"
[[ $dev =~ ^/dev/loop[0-9]+$ ]] && [ "$(printf '%s\n' "$dev" | wc -l)" = 1 ]
ok $? "stdout is the device name and nothing else ($dev)"
[ ! -s "$tmp/err" ]
ok $? "no message on stderr for a whole file on ext4"
[ "$(losetup -n --raw -O BACK-FILE,OFFSET,SIZELIMIT,AUTOCLEAR,RO "$dev")" = \
	"$img 0 0 0 0" ]
ok $? "losetup: back-file, offset 0, sizelimit 0, autoclear off, rw"
[ "$(sys "$dev" autoclear)" = 0 ] && [ "$(sys "$dev" partscan)" = 0 ] &&
	[ "$(cat "/sys/block/${dev#/dev/}/ro")" = 0 ]
ok $? "sysfs: autoclear 0, partscan 0, ro 0"
[ "$(sys "$dev" dio)" = 1 ]
ok $? "direct I/O on by default on an ext4 host file"
hostdisk=$(findmnt -n -o SOURCE -T "$img" 2>/dev/null)
hostdisk=$(lsblk -n -d -o PKNAME "$hostdisk" 2>/dev/null | grep . || basename "$hostdisk")
if [ -r "/sys/block/$hostdisk/queue/read_ahead_kb" ]; then
	hra=$(cat "/sys/block/$hostdisk/queue/read_ahead_kb")
	[ "$(cat "/sys/block/${dev#/dev/}/queue/read_ahead_kb")" -ge "$hra" ]
	ok $? "direct I/O: loop read-ahead at least the host disk's ($hra KiB)"
else
	skip "loop read-ahead matches the host disk's" "host disk not found in sysfs"
fi
[ "$(blockdev --getsize64 "$dev")" = $((64 << 20)) ]
ok $? "device size is the file size"
[ "$(head -c 15 "$dev")" = loopattach-test ]
ok $? "device reads the file's bytes"
printf 'written-through' | dd of="$dev" conv=notrunc,fsync status=none &&
	[ "$(head -c 15 "$img")" = written-through ]
ok $? "device is writable and writes reach the file"

# -- --associated and --detach ---------------------------------------------
out=$("$ASAN" --associated "$img" 2>"$tmp/err")
[ "$out" = "$dev" ]
ok $? "--associated prints the device backed by the file"
first=$dev
att -- "$img"
[ $rc -eq 1 ] && [ -z "$dev" ] && [ "$(backed_by "$img")" = 1 ] &&
	grep -qx "loopattach: $img: already attached to $first (loopattach --detach $first first, or use that device)" "$tmp/err"
ok $? "the same file again: refused (exit 1), naming the device it is on"
att -- --read-only "$img"
[ $rc -eq 1 ] && [ "$(backed_by "$img")" = 1 ] && grep -q "already attached to $first" "$tmp/err"
ok $? "the same file again, --read-only: refused as well"
att -- --reuse "$img"
[ $rc -eq 0 ] && [ "$dev" = "$first" ] && [ "$(backed_by "$img")" = 1 ] && [ ! -s "$tmp/err" ]
ok $? "the same file again, --reuse: the device it is on, exit 0, no second device"
dev=$first
out=$("$ASAN" -j "$img" --root / 2>"$tmp/err")
[ "$out" = "$dev" ]
ok $? "-j with --root / finds it too"
"$ASAN" -d "$dev" 2>"$tmp/err" && forget "$dev"
ok $? "--detach succeeds"
[ -z "$(sys "$dev" backing_file)" ] && [ "$(backed_by "$img")" = 0 ]
ok $? "after --detach nothing is backed by the file"
"$ASAN" -d "$dev" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'nothing attached' "$tmp/err"
ok $? "--detach of a free device: exit 1, says nothing attached"
"$ASAN" -d /dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'not a loop device' "$tmp/err"
ok $? "--detach /dev/null: exit 1, not a loop device"
"$ASAN" -j "$img" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q 'no loop device' "$tmp/err"
ok $? "--associated for an unattached file: exit 1, no output"

# -- every option, on both paths -------------------------------------------
for path in configure legacy; do
	envs=()
	[ $path = legacy ] && envs=(LOOPATTACH_FORCE_LEGACY=1)

	att "${envs[@]}" -- -o 1M --sizelimit 16M -P -b 4096 "$img"
	ok $rc "$path: -o 1M --sizelimit 16M -P -b 4096 attaches"
	[ "$(sys "$dev" offset)" = 1048576 ] && [ "$(sys "$dev" sizelimit)" = 16777216 ]
	ok $? "$path: sysfs offset 1048576, sizelimit 16777216"
	[ "$(sys "$dev" partscan)" = 1 ]
	ok $? "$path: partscan 1"
	[ "$(cat "/sys/block/${dev#/dev/}/queue/logical_block_size")" = 4096 ]
	ok $? "$path: logical block size 4096"
	[ "$(blockdev --getsize64 "$dev")" = 16777216 ]
	ok $? "$path: device size is the size limit"
	[ "$(sys "$dev" autoclear)" = 0 ]
	ok $? "$path: autoclear off"
	detach "$dev"

	att "${envs[@]}" -- --offset 0x200 --sizelimit 1MiB "$img"
	[ $rc -eq 0 ] && [ "$(sys "$dev" offset)" = 512 ] &&
		[ "$(sys "$dev" sizelimit)" = 1048576 ]
	ok $? "$path: --offset 0x200 --sizelimit 1MiB"
	detach "$dev"

	att "${envs[@]}" -- --read-only "$img"
	[ $rc -eq 0 ] && [ "$(cat "/sys/block/${dev#/dev/}/ro")" = 1 ] &&
		[ "$(losetup -n --raw -O RO "$dev")" = 1 ]
	ok $? "$path: --read-only gives a read-only device (sysfs, losetup)"
	! dd if=/dev/zero of="$dev" count=1 conv=notrunc status=none 2>/dev/null
	ok $? "$path: writing to the read-only device fails"
	detach "$dev"

	for dio in off on; do
		att "${envs[@]}" -- --direct-io=$dio "$img"
		want=0
		[ $dio = on ] && want=1
		[ $rc -eq 0 ] && [ "$(sys "$dev" dio)" = $want ]
		ok $? "$path: --direct-io=$dio gives dio $want"
		detach "$dev"
	done
	att "${envs[@]}" -- --direct-io "$img"
	[ $rc -eq 0 ] && [ "$(sys "$dev" dio)" = 1 ]
	ok $? "$path: --direct-io alone means on"
	detach "$dev"
	# An offset the host disk cannot do direct I/O at: the kernel refuses
	# direct I/O, the device is buffered, and a warning says so.
	att "${envs[@]}" -- --offset 256 "$img"
	[ $rc -eq 0 ] && [ "$(sys "$dev" dio)" = 0 ] &&
		grep -q "warning: direct I/O is off" "$tmp/err"
	ok $? "$path: direct I/O refused by the kernel (offset 256): buffered, with a warning"
	[ $rc -eq 0 ] && detach "$dev"
done

if command -v strace >/dev/null; then
	# The hook really takes the other path: the ioctls the kernel sees.
	strace -f -qq -e trace=ioctl -o "$tmp/trace" env LOOPATTACH_FORCE_LEGACY=1 \
		"$PLAIN" "$img" >"$tmp/out" 2>"$tmp/err"
	d=$(cat "$tmp/out")
	[ -n "$d" ] && mine="$mine$d "
	grep -q LOOP_SET_FD "$tmp/trace" && grep -q LOOP_SET_STATUS64 "$tmp/trace" &&
		! grep -q LOOP_CONFIGURE "$tmp/trace"
	ok $? "LOOPATTACH_FORCE_LEGACY=1 uses LOOP_SET_FD + LOOP_SET_STATUS64"
	[ -n "$d" ] && detach "$d"
	strace -f -qq -e trace=ioctl -o "$tmp/trace" "$PLAIN" "$img" >"$tmp/out" 2>"$tmp/err"
	d=$(cat "$tmp/out")
	[ -n "$d" ] && mine="$mine$d "
	grep -q LOOP_CONFIGURE "$tmp/trace" && ! grep -q LOOP_SET_FD "$tmp/trace"
	ok $? "by default LOOP_CONFIGURE alone"
	[ -n "$d" ] && detach "$d"

	# -- failures after the device is bound leave nothing behind ---------------
	# inject IOCTL ERRNO [ENV=V]: fail the first IOCTL (by name) that comes
	# once the device is asked for (LOOP_CTL_GET_FREE) with ERRNO. Not simply
	# the first: the check for an earlier attachment of the file reads every
	# bound device's LOOP_GET_STATUS64 before that, and a machine may have
	# other loop devices of its own.
	inject() {
		local name=$1 err=$2 idx
		shift 2
		strace -f -qq -e trace=ioctl -o "$tmp/trace" env "$@" "$PLAIN" "$img" \
			>"$tmp/out" 2>/dev/null
		d=$(cat "$tmp/out")
		[ -n "$d" ] && detach "$d"
		idx=$(grep "ioctl(" "$tmp/trace" | grep -n . |
			sed -n '/LOOP_CTL_GET_FREE/,$p' | grep -m1 "$name" | cut -d: -f1)
		[ -n "$idx" ] || return 1
		strace -f -qq -e trace=ioctl -e inject=ioctl:error="$err":when="$idx" \
			-o "$tmp/trace" env "$@" "$PLAIN" "$img" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		d=$(cat "$tmp/out")
		[ -n "$d" ] && mine="$mine$d "
	}
	inject LOOP_SET_STATUS64 EINVAL LOOPATTACH_FORCE_LEGACY=1
	[ $rc -eq 1 ] && [ -z "$d" ] && [ "$(backed_by "$img")" = 0 ] &&
		grep -q LOOP_CLR_FD "$tmp/trace"
	ok $? "legacy: LOOP_SET_STATUS64 failing -> exit 1, LOOP_CLR_FD, nothing left"
	[ -n "$d" ] && detach "$d"
	inject LOOP_GET_STATUS64 EIO
	[ $rc -eq 1 ] && [ -z "$d" ] && [ "$(backed_by "$img")" = 0 ] &&
		grep -q LOOP_CLR_FD "$tmp/trace"
	ok $? "read-back failing after LOOP_CONFIGURE -> exit 1, LOOP_CLR_FD, nothing left"
	[ -n "$d" ] && detach "$d"
	inject LOOP_CONFIGURE EBUSY
	[ $rc -eq 0 ] && [ -n "$d" ] && [ "$(grep -c 'LOOP_CTL_GET_FREE' "$tmp/trace")" = 2 ]
	ok $? "LOOP_CONFIGURE losing the race (EBUSY) -> asks for a free device again, succeeds"
	[ -n "$d" ] && detach "$d"
	inject LOOP_CONFIGURE ENOTTY
	[ $rc -eq 0 ] && [ -n "$d" ] && grep -q LOOP_SET_FD "$tmp/trace"
	ok $? "LOOP_CONFIGURE unknown (ENOTTY, kernel < 5.8) -> falls back to LOOP_SET_FD"
	[ -n "$d" ] && detach "$d"
else
	for what in "LOOPATTACH_FORCE_LEGACY=1 takes LOOP_SET_FD" "injected failures leave nothing behind"; do
		skip "$what" "strace not installed"
	done
fi

# -- eight attaches racing for devices -------------------------------------
race() {	# race ENV...: 8 attaches at once of 8 files
	local i pids=() devs
	for i in 1 2 3 4 5 6 7 8; do
		env "$@" "$ASAN" "$tmp/race$i.img" >"$tmp/race$i.out" 2>"$tmp/race$i.err" &
		pids+=($!)
	done
	rc=0
	for i in 0 1 2 3 4 5 6 7; do wait "${pids[$i]}" || rc=1; done
	devs=$(cat "$tmp"/race?.out)
	for d in $devs; do mine="$mine$d "; done
	[ $rc -eq 0 ] && [ "$(sort -u <<<"$devs" | grep -c '^/dev/loop')" = 8 ]
	rc=$?
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(losetup -n -O BACK-FILE "$(cat "$tmp/race$i.out")" 2>/dev/null)" = \
			"$tmp/race$i.img" ] || rc=1
	done
	for d in $devs; do detach "$d"; done
}
for i in 1 2 3 4 5 6 7 8; do truncate -s 8M "$tmp/race$i.img" "$tmp/lo$i.img"; done
race X=1
ok $rc "8 parallel attaches: all succeed, 8 distinct devices, each on its file"
race LOOPATTACH_FORCE_LEGACY=1
ok $rc "8 parallel attaches with LOOP_SET_FD: the same"
# Against losetup, which does not take loop-control's lock: 8 of each at
# once, so some of loopattach's LOOP_CONFIGURE calls really lose.  losetup
# gets files of its own: loopattach refuses a file already attached.
for i in 1 2 3 4 5 6 7 8; do
	"$ASAN" "$tmp/race$i.img" >"$tmp/mixed$i.out" 2>"$tmp/mixed$i.err" &
	losetup -f --show "$tmp/lo$i.img" >"$tmp/lo$i.out" 2>/dev/null &
done
wait
rc=0
for i in 1 2 3 4 5 6 7 8; do
	d=$(cat "$tmp/mixed$i.out")
	[[ $d =~ ^/dev/loop[0-9]+$ ]] && mine="$mine$d " || rc=1
	[ "$(losetup -n -O BACK-FILE "$d" 2>/dev/null)" = "$tmp/race$i.img" ] || rc=1
	d=$(cat "$tmp/lo$i.out")
	[ -n "$d" ] && mine="$mine$d "
done
[ "$(cat "$tmp"/mixed?.out | sort -u | wc -l)" = 8 ] || rc=1
cat "$tmp"/mixed?.out "$tmp"/lo?.out | sort | uniq -d | grep -q . && rc=1
ok $rc "8 loopattach racing 8 losetup: all 8 attached, each on its file, no device shared"
while read -r d; do detach "$d"; done < <(cat "$tmp"/mixed?.out "$tmp"/lo?.out)
# One file, 8 attaches at once: the "already attached" question is asked
# again under loop-control's lock, so exactly one wins.
for i in 1 2 3 4 5 6 7 8; do
	"$ASAN" "$tmp/race1.img" >"$tmp/same$i.out" 2>"$tmp/same$i.err" &
done
wait
while read -r d; do mine="$mine$d "; done < <(cat "$tmp"/same?.out)
[ "$(cat "$tmp"/same?.out | wc -l)" = 1 ] && [ "$(backed_by "$tmp/race1.img")" = 1 ] &&
	[ "$(grep -l "already attached to $(cat "$tmp"/same?.out)" "$tmp"/same?.err | wc -l)" = 7 ]
ok $? "8 attaches of one file at once: one device, 7 refused naming it"
while read -r d; do detach "$d"; done < <(cat "$tmp"/same?.out)
for i in 1 2 3 4 5 6 7 8; do
	"$ASAN" --reuse "$tmp/race1.img" >"$tmp/same$i.out" 2>"$tmp/same$i.err" &
done
wait
while read -r d; do mine="$mine$d "; done < <(sort -u "$tmp"/same?.out)
[ "$(sort -u "$tmp"/same?.out | wc -l)" = 1 ] && [ "$(cat "$tmp"/same?.out | wc -l)" = 8 ] &&
	[ "$(backed_by "$tmp/race1.img")" = 1 ] && ! grep -q "already attached" "$tmp"/same?.err
ok $? "8 attaches --reuse of one file at once: one device, all 8 print it"
sort -u "$tmp"/same?.out | while read -r d; do detach "$d"; done
cat "$tmp"/race?.err "$tmp"/mixed?.err >"$tmp/err"
for i in 1 2 3 4 5 6 7 8; do
	[ -e "$(cat "$tmp/race$i.out")" ] || rc=1
done
ok $rc "every device node exists (devtmpfs, or made with mknod)"

# Without devtmpfs (an empty /dev in a private mount namespace): the
# control node and the device node are made from sysfs's numbers.  On a
# kernel with loop as a module this also runs the libkmod load first.
if command -v unshare >/dev/null; then
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare -m bash -c 'mount -t tmpfs tmpfs /dev && "$1" "$2" >"$3" &&
		stat -c "%t:%T" /dev/loop-control "$(cat "$3")" >"$4"' \
		- "$ASAN" "$img" "$tmp/nodev.out" "$tmp/nodev.stat" 2>"$tmp/err"
	rc=$?
	d=$(cat "$tmp/nodev.out" 2>/dev/null)
	[[ $d =~ ^/dev/loop[0-9]+$ ]] && mine="$mine$d "
	want=$(printf '%x:%x\n' 10 237
		IFS=: read -r ma mi <"/sys/block/${d#/dev/}/dev" 2>/dev/null &&
		printf '%x:%x\n' "$ma" "$mi")
	[ $rc -eq 0 ] && [ "$(cat "$tmp/nodev.stat")" = "$want" ] &&
		[ "$(sys "$d" backing_file)" = "$img" ]
	ok $? "empty /dev: /dev/loop-control and $d made with mknod, attached"
	[[ $d =~ ^/dev/loop[0-9]+$ ]] && detach "$d"
else
	skip "empty /dev: nodes made with mknod" "no unshare"
fi

# -- refusals --------------------------------------------------------------
refuse() {	# refuse WHAT GREP ARGS...
	local what=$1 pattern=$2
	shift 2
	att -- "$@"
	[ $rc -eq 1 ] && [ -z "$dev" ] && grep -q -- "$pattern" "$tmp/err"
	ok $? "refused: $what (exit 1, message: $pattern)"
}
mkdir "$tmp/dir"
refuse "a directory" "not a regular file" "$tmp/dir"
refuse "a character device" "not a regular file" /dev/null
mkfifo "$tmp/fifo"
refuse "a FIFO (without hanging)" "not a regular file" "$tmp/fifo"
: >"$tmp/empty.img"
refuse "an empty file" "is empty" "$tmp/empty.img"
head -c 1000 /dev/zero >"$tmp/odd.img"
refuse "a size not a multiple of 512" "not a multiple of 512" "$tmp/odd.img"
[ "$(backed_by "$tmp/odd.img")" = 0 ]
ok $? "nothing attached after a refusal"
refuse "an offset past the end" "past the end" -o 64M "$img"
att -- "$tmp/missing.img"
[ $rc -eq 3 ] && [ -z "$dev" ] &&
	grep -qx "loopattach: $tmp/missing.img: no such file; check the path" "$tmp/err"
ok $? "a missing file: exit 3 (its own status), message names the file first"
"$ASAN" -j "$tmp/missing.img" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 3 ] && [ ! -s "$tmp/out" ] && grep -q "missing.img: no such file" "$tmp/err"
ok $? "--associated on a missing file: exit 3 too"

# -- nothing but a regular file is ever opened (issue 12) -------------------
# Opening a device node runs its driver (a "b 7 222" node makes loop222
# appear through the legacy autoload), a FIFO blocks, a socket fails oddly:
# loopattach opens FILE with O_PATH only and looks at what it is first.
# noopen WHAT PATH-SEEN ARGS...: refused (exit 1, "not a regular file"),
# within 10 s, and strace shows PATH-SEEN opened with O_PATH only.
noopen() {
	local what=$1 seen=$2
	shift 2
	if command -v strace >/dev/null; then
		timeout 10 strace -f -qq -e trace=open,openat,openat2 -o "$tmp/trace" \
			"$PLAIN" "$@" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		grep -F -- "$seen" "$tmp/trace" >"$tmp/opens"
		[ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q "not a regular file" "$tmp/err" &&
			[ -s "$tmp/opens" ] && ! grep -v O_PATH "$tmp/opens" | grep -q . &&
			! grep -q /proc/self/fd "$tmp/trace"
		ok $? "$what: refused at once, opened with O_PATH only (strace)"
		[ $rc -eq 0 ] && mine="$mine$(cat "$tmp/out") "
	else
		timeout 10 "$PLAIN" "$@" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		[ $rc -eq 1 ] && grep -q "not a regular file" "$tmp/err"
		ok $? "$what: refused at once (no strace: opens not checked)"
	fi
}
mkdir -p "$tmp/nodes/host"
mkfifo "$tmp/nodes/fifo"
mknod "$tmp/nodes/null" c 1 3
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$tmp/nodes/sock" 2>/dev/null ||
	{ command -v nc >/dev/null && timeout 1 nc -lU "$tmp/nodes/sock"; }
if [ -e /sys/block/loop222 ] || [ -e /dev/loop222 ]; then
	skip "a block device node b 7 222 is not opened" "loop222 exists already"
else
	mknod "$tmp/nodes/blk" b 7 222
	mknod "$tmp/nodes/host/blk" b 7 222
	ln -s /blk "$tmp/nodes/host/devlink"
	noopen "a block device node (b 7 222)" "$tmp/nodes/blk" "$tmp/nodes/blk"
	noopen "a symlink inside --root to a block device node" '"/devlink"' \
		--root "$tmp/nodes/host" /devlink
	[ ! -e /sys/block/loop222 ] && [ ! -e /dev/loop222 ]
	ok $? "no /sys/block/loop222 or /dev/loop222 appeared (nothing autoloaded)"
	if [ -e /sys/block/loop222 ] && command -v python3 >/dev/null; then
		# LOOP_CTL_REMOVE: take back what the old behaviour made.
		python3 -c 'import fcntl, os
fcntl.ioctl(os.open("/dev/loop-control", os.O_RDWR), 0x4C81, 222)' 2>/dev/null
	fi
fi
noopen "a FIFO" "$tmp/nodes/fifo" "$tmp/nodes/fifo"
noopen "a FIFO, --read-only" "$tmp/nodes/fifo" --read-only "$tmp/nodes/fifo"
noopen "a character device (a copy of /dev/null)" "$tmp/nodes/null" "$tmp/nodes/null"
if [ -S "$tmp/nodes/sock" ]; then
	noopen "a socket" "$tmp/nodes/sock" "$tmp/nodes/sock"
else
	skip "a socket is not opened" "no python3 or nc to make one"
fi

cp "$img" "$tmp/immutable.img" && chattr +i "$tmp/immutable.img"
refuse "an immutable file without --read-only" "--read-only" "$tmp/immutable.img"
mkdir "$tmp/ro" && mount --bind "$tmp/dir" "$tmp/ro" &&
	mount -o remount,bind,ro "$tmp/ro"
cp "$img" "$tmp/dir/rofs.img"
refuse "a file on a read-only mount without --read-only" "read-only" "$tmp/ro/rofs.img"
grep -q "Read-only file system" "$tmp/err"
ok $? "the read-only mount message gives the reason"
att -- --read-only "$tmp/ro/rofs.img"
[ $rc -eq 0 ] && [ "$(cat "/sys/block/${dev#/dev/}/ro")" = 1 ]
ok $? "the same file with --read-only: a read-only device"
[ $rc -eq 0 ] && detach "$dev"

truncate -s 16M "$tmp/sparse.img"
att -- "$tmp/sparse.img"
[ $rc -eq 0 ] && grep -q "warning: sparse file" "$tmp/err"
ok $? "a sparse file is attached with a warning on stderr"
[ $rc -eq 0 ] && detach "$dev"
# Compression as the host file system reports it: btrfs shows compressed
# extents through FIEMAP (encoded) and chattr +c through statx.
if command -v mkfs.btrfs >/dev/null && grep -qw btrfs /proc/filesystems; then
	truncate -s 256M "$tmp/btrfs.img"
	mkdir "$tmp/btrfs"
	bdev=$(losetup -f --show "$tmp/btrfs.img") && mine="$mine$bdev "
	if [ -n "$bdev" ] && mkfs.btrfs -q "$bdev" >/dev/null 2>&1 &&
		mount -o compress-force=zstd "$bdev" "$tmp/btrfs"; then
		yes loopattach | head -c 8M >"$tmp/btrfs/encoded.img"
		: >"$tmp/btrfs/attr.img"
		chattr +c "$tmp/btrfs/attr.img"
		yes loopattach | head -c 8M >>"$tmp/btrfs/attr.img"
		sync
		refuse "a file in compressed extents (FIEMAP)" "is compressed" \
			"$tmp/btrfs/encoded.img"
		refuse "a file with the compressed attribute (statx)" "is compressed" \
			"$tmp/btrfs/attr.img"
		umount "$tmp/btrfs"
	else
		ok 1 "a compressed btrfs host could be made"
	fi
	[ -n "$bdev" ] && detach "$bdev"
else
	skip "compressed host files refused" "no mkfs.btrfs (btrfs-progs) or no btrfs"
fi
# Encryption as the host reports it (statx): an ext4 fscrypt directory.
if command -v e4crypt >/dev/null && command -v mkfs.ext4 >/dev/null; then
	truncate -s 64M "$tmp/enc.img"
	mkdir "$tmp/enc"
	edev=$(losetup -f --show "$tmp/enc.img") && mine="$mine$edev "
	if [ -n "$edev" ] && mkfs.ext4 -q -O encrypt "$edev" &&
		mount "$edev" "$tmp/enc" && mkdir "$tmp/enc/d" &&
		echo loopattach-test | e4crypt add_key -S 0x4c4f4f5041545443 \
			"$tmp/enc/d" >/dev/null 2>&1; then
		head -c 1M /dev/zero >"$tmp/enc/d/root.img"
		refuse "an encrypted file (statx)" "is encrypted" "$tmp/enc/d/root.img"
		umount "$tmp/enc"
	else
		skip "encrypted host files refused" "no ext4 encryption here"
		mountpoint -q "$tmp/enc" && umount "$tmp/enc"
	fi
	[ -n "$edev" ] && detach "$edev"
else
	skip "encrypted host files refused" "no e4crypt (e2fsprogs)"
fi

# -- FUSE host (ntfs-3g): direct I/O off by default --------------------------
# The NTFS attributes as 8 hex digits (system.ntfs_attrib_be), and setting
# them: setfattr/getfattr (attr) if installed, else python3.
getntfsattr() {
	if command -v getfattr >/dev/null; then
		getfattr --absolute-names -n system.ntfs_attrib_be -e hex --only-values "$1" \
			2>/dev/null | od -An -tx1 | tr -d ' \n'
	else
		python3 -c 'import os, sys
print(os.getxattr(sys.argv[1], "system.ntfs_attrib_be").hex())' "$1" 2>/dev/null
	fi
}
setntfsattr() {	# setntfsattr PATH HEX8
	if command -v setfattr >/dev/null; then
		setfattr -n system.ntfs_attrib_be -v "0x$2" "$1"
	elif command -v python3 >/dev/null; then
		python3 -c 'import os, sys
os.setxattr(sys.argv[1], "system.ntfs_attrib_be", bytes.fromhex(sys.argv[2]))' "$1" "$2"
	else
		return 1
	fi
}
if command -v ntfs-3g >/dev/null && command -v mkntfs >/dev/null &&
	[ -e /dev/fuse ]; then
	truncate -s 64M "$tmp/ntfs.img"
	mkdir "$tmp/ntfs"
	if mkntfs -Q -F -L T "$tmp/ntfs.img" >/dev/null 2>&1 &&
		ntfs-3g "$tmp/ntfs.img" "$tmp/ntfs"; then
		head -c 8M /dev/zero >"$tmp/ntfs/root.img"
		att -- "$tmp/ntfs/root.img"
		[ $rc -eq 0 ] && [ "$(sys "$dev" dio)" = 0 ] && [ ! -s "$tmp/err" ]
		ok $? "file on ntfs-3g (FUSE): attached with direct I/O off, no warning"
		[ $rc -eq 0 ] && detach "$dev"
		# NTFS compression through ntfs-3g: no statx attribute, no
		# FIEMAP; only the system.ntfs_attrib_be xattr tells.  New
		# files in a directory with the compressed attribute are
		# compressed (ntfs-3g does it with 4 KiB clusters, as mkntfs
		# makes them).
		mkfs.ext4 -q -F "$tmp/small-ext4.img" 8M >/dev/null 2>&1
		mkdir "$tmp/ntfs/c"
		if setntfsattr "$tmp/ntfs/c" 00000800; then
			dd if="$tmp/small-ext4.img" of="$tmp/ntfs/c/root.img" bs=1M \
				status=none
			dd if="$tmp/small-ext4.img" of="$tmp/ntfs/plain.img" bs=1M \
				status=none
			sync
			a=$(getntfsattr "$tmp/ntfs/c/root.img")
			[ $((0x${a:-0} & 0x800)) -ne 0 ]
			ok $? "ntfs-3g compressed the new file (system.ntfs_attrib_be $a)"
			refuse "a compressed file on ntfs-3g (system.ntfs_attrib_be)" \
				"is compressed" "$tmp/ntfs/c/root.img"
			grep -q 'compact /u' "$tmp/err" && grep -q 'Compress contents' "$tmp/err"
			ok $? "the compressed message gives the Windows remedy"
			att -- --read-only --root "$tmp/ntfs" /c/root.img
			[ $rc -eq 1 ] && grep -q "is compressed" "$tmp/err"
			ok $? "the compressed file through --root, --read-only: refused too"
			att -- "$tmp/ntfs/plain.img"
			[ $rc -eq 0 ] && [ "$(sys "$dev" backing_file)" = "$tmp/ntfs/plain.img" ]
			ok $? "an uncompressed file on the same ntfs-3g volume attaches"
			[ $rc -eq 0 ] && detach "$dev"
		else
			skip "a compressed file on ntfs-3g is refused" \
				"no setfattr or python3 to set the compressed attribute"
		fi
		umount_host "$tmp/ntfs"
	else
		ok 1 "mkntfs and ntfs-3g make a FUSE host"
	fi
else
	skip "file on ntfs-3g (FUSE): direct I/O off" "ntfs-3g, mkntfs or /dev/fuse missing"
fi

# -- --root: the file is looked up inside the host mount only --------------
host=$tmp/host
mkdir -p "$host/linux" "$host/sub/deeper"
cp "$img" "$host/linux/root.img"
cp "$img" "$tmp/secret.img"	# outside the host: must never be reached
ln -s /linux/root.img "$host/abs-good"
ln -s "$tmp/secret.img" "$host/abs-escape"
ln -s ../../../secret.img "$host/sub/deeper/rel-escape"
ln -s ../../linux "$host/sub/deeper/rel-good"
ln -s /linux/nowhere.img "$host/abs-dangling"
for how in openat2 walk; do
	envs=(X=1)
	[ $how = walk ] && envs=(LOOPATTACH_FORCE_WALK=1)
	for p in /linux/root.img linux/root.img /abs-good sub/deeper/rel-good/root.img \
		/sub/../linux/./root.img; do
		att "${envs[@]}" -- --root "$host" "$p"
		[ $rc -eq 0 ] && [ "$(sys "$dev" backing_file)" = "$host/linux/root.img" ]
		ok $? "--root ($how): $p is the host's /linux/root.img"
		[ $rc -eq 0 ] && detach "$dev"
	done
	for p in ../secret.img /../../secret.img abs-escape sub/deeper/rel-escape \
		"sub/../../secret.img"; do
		att "${envs[@]}" -- --root "$host" "$p"
		[ $rc -eq 3 ] && [ "$(backed_by "$tmp/secret.img")" = 0 ]
		ok $? "--root ($how): $p cannot reach the file outside the root (exit 3, no such file inside)"
		[ $rc -eq 0 ] && detach "$dev"
	done
	att "${envs[@]}" -- --root "$host" --read-only /abs-good
	out=$(env "${envs[@]}" "$ASAN" --root "$host" -j /abs-good 2>"$tmp/err")
	[ -n "$dev" ] && [ "$out" = "$dev" ]
	ok $? "--root ($how) with --associated finds the device"
	[ $rc -eq 0 ] && detach "$dev"
	# One resolution for every question the boot script asks: attach by
	# the real path, then ask and attach through a symlink inside the root.
	att "${envs[@]}" -- --root "$host" /linux/root.img
	first=$dev
	out=$(env "${envs[@]}" "$ASAN" --root "$host" -j /abs-good 2>"$tmp/err")
	[ -n "$first" ] && [ "$out" = "$first" ]
	ok $? "--root ($how): --associated through an absolute symlink in the root finds $first"
	out=$(env "${envs[@]}" "$ASAN" --root "$host" -j sub/deeper/rel-good/root.img 2>"$tmp/err")
	[ -n "$first" ] && [ "$out" = "$first" ]
	ok $? "--root ($how): --associated through a relative symlink finds it too"
	att "${envs[@]}" -- --root "$host" /abs-good
	[ $rc -eq 1 ] && [ -z "$dev" ] && grep -q "already attached to $first" "$tmp/err" &&
		[ "$(backed_by "$host/linux/root.img")" = 1 ]
	ok $? "--root ($how): attach through the symlink refused, already attached to $first"
	[ -n "$first" ] && detach "$first"
	"$ASAN" --root "$host" -j /linux/missing.img >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 3 ] && [ ! -s "$tmp/out" ] &&
		grep -qx "loopattach: /linux/missing.img: no such file inside $host" "$tmp/err"
	ok $? "--root ($how): --associated on a missing path: exit 3, names it inside the root"
	att "${envs[@]}" -- --root "$host" /abs-dangling
	[ $rc -eq 3 ] && grep -qx "loopattach: /abs-dangling: no such file inside $host" "$tmp/err"
	ok $? "--root ($how): attach of a dangling symlink: exit 3"
	"$ASAN" --root "$host" -j /abs-escape >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 3 ] && [ ! -s "$tmp/out" ]
	ok $? "--root ($how): --associated through a symlink leading outside: exit 3, not the outside file"
done

# -- usage -----------------------------------------------------------------
usage() {	# usage WHAT ARGS...
	local what=$1
	shift
	"$ASAN" "$@" >"$tmp/out" 2>"$tmp/err"
	[ $? -eq 2 ] && [ ! -s "$tmp/out" ] && [ -s "$tmp/err" ]
	ok $? "usage error, exit 2: $what"
}
usage "no FILE"
usage "two FILEs" "$img" "$img"
usage "--offset abc" --offset abc "$img"
usage "--offset -1" --offset -1 "$img"
usage "--sizelimit 99999999999999999999" --sizelimit 99999999999999999999 "$img"
usage "--sector-size 1000" --sector-size 1000 "$img"
usage "--direct-io=maybe" --direct-io=maybe "$img"
usage "--detach with FILE" --detach /dev/loop0 "$img"
usage "unknown option" --bogus "$img"
"$ASAN" --help | grep -q "^Exit status"
ok $? "--help documents the exit status"
"$ASAN" --version | grep -q "^loopattach (loopboot) "
ok $? "--version"

# -- valgrind on the plain build --------------------------------------------
if command -v valgrind >/dev/null; then
	vg() {	# vg WHAT ENV... -- ARGS...
		local what=$1 envs=()
		shift
		while [ "$1" != -- ]; do envs+=("$1"); shift; done
		shift
		out=$(env "${envs[@]}" valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=all "$PLAIN" "$@" 2>"$tmp/err")
		rc=$?
		[[ $out =~ ^/dev/loop[0-9]+$ ]] && mine="$mine$out "
		# valgrind warns that it does not know the loop ioctls; those
		# warnings are no errors (the code zeroes what they fill in).
		grep -v -e 'unhandled ioctl' -e 'spurious value errors' \
			-e README_MISSING_SYSCALL "$tmp/err" >"$tmp/vgerr"
		[ $rc -ne 99 ] && ! grep -q '^==[0-9]*==' "$tmp/vgerr"
		ok $? "valgrind clean: $what"
	}
	vg "attach with every option" X=1 -- -o 1M --sizelimit 8M -P -b 4096 --direct-io=on "$img"
	d=$out
	vg "--associated" X=1 -- -j "$img"
	vg "--detach" X=1 -- -d "$d"
	[ $rc -eq 0 ] && forget "$d"
	vg "attach, LOOP_SET_FD path" LOOPATTACH_FORCE_LEGACY=1 -- "$img"
	[[ $out =~ ^/dev/loop ]] && detach "$out"
	vg "--root, walk" LOOPATTACH_FORCE_WALK=1 -- --root "$host" sub/deeper/rel-good/root.img
	[[ $out =~ ^/dev/loop ]] && detach "$out"
	vg "a refusal" X=1 -- "$tmp/odd.img"
else
	skip "valgrind" "valgrind not installed"
fi

echo "1..$n"
[ $failed -eq 0 ]
