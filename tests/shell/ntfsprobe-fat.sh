#!/bin/bash
# ntfsprobe on real FAT12/16/32 and exFAT volumes (mkfs.vfat, mkfs.exfat),
# their state bits set by hand at the documented offsets, and with a
# Windows NTFS companion volume (mkntfs + ntfscp of a hiberfil.sys)
# passed with --windows.  For every fixture: the exit code, STATE and
# NTFS_STATE from --export evaluated by sh, the message naming the device
# first, and every image byte-for-byte unchanged.  fsck.fat -n and
# fsck.exfat cross-check the bits; valgrind runs the plain build.
# NTFSPROBE, NTFSPROBE_PLAIN (for valgrind), NTFS_MUTATE name the
# binaries; by default those of ${B:-build}.
set -u
b=${B:-build}
P=${NTFSPROBE:-$b/asan/bin/ntfsprobe}
PV=${NTFSPROBE_PLAIN:-$b/bin/ntfsprobe}
M=${NTFS_MUTATE:-$b/tools/ntfs-mutate}
n=0 failed=0

# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

for tool in mkfs.vfat mkfs.exfat mkntfs ntfscp; do
	if ! command -v "$tool" >/dev/null; then
		echo "ok 1 - ntfsprobe FAT fixtures # SKIP $tool missing (dosfstools, exfatprogs, ntfs-3g)"
		exit 0
	fi
done
for bin in "$P" "$PV" "$M"; do
	if [ ! -x "$bin" ]; then
		echo "not ok 1 - $bin is built (make unit-tests)"
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/ntfsprobe-fat.XXXXXX)
loopdev=
cleanup() {
	[ -n "$loopdev" ] && losetup -d "$loopdev"
	rm -rf "$tmp"
}
trap cleanup EXIT

# poke IMG OFFSET BYTES: writes BYTES (printf escapes) at OFFSET
poke() { printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# u16 IMG OFFSET: the little-endian 16-bit value there
u16() { echo $(($(od -An -tu2 -j"$2" -N2 "$1"))); }

# check NAME IMG EXPECTED-EXIT EXPECTED-STATE [NTFSPROBE-OPTIONS...]:
# the verdict, --export, the message, and no byte of IMG (nor of any
# --windows image) changed.  Leaves stderr in $tmp/err.
check() {
	local name=$1 img=$2 want=$3 state=$4 before after rc
	shift 4
	before=$(cat "$img" "$tmp"/ntfs-*.img 2>/dev/null | sha256sum)
	"$P" "$@" "$img" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ok $((rc != want)) "$name: exit $want (got $rc)"
	if [ "$rc" -ne "$want" ]; then sed 's/^/# /' "$tmp/err"; fi
	if [ "$want" -eq 0 ]; then
		grep -q "^$img: .*safe to mount read-write" "$tmp/out"
		ok $? "$name: says safe on stdout"
	else
		grep -q "^ntfsprobe: $img: .* volume is not safe to mount read-write: .* To fix: " "$tmp/err"
		ok $? "$name: message names the device first, then the remedy"
	fi
	(
		eval "$("$P" --export "$@" "$img" 2>/dev/null)"
		[ "${STATE:-}" = "$state" ] && [ -n "${DETAIL:-}" ] &&
			[ "${NTFS_STATE:-}" = not-ntfs ] &&
			{ [ "$TYPE" = vfat ] || [ "$TYPE" = exfat ]; }
	)
	ok $? "$name: --export gives STATE=$state, a DETAIL, NTFS_STATE=not-ntfs"
	"$P" "$@" "$img" >/dev/null 2>"$tmp/err"
	after=$(cat "$img" "$tmp"/ntfs-*.img 2>/dev/null | sha256sum)
	ok $(($([ "$before" = "$after" ]; echo $?))) "$name: images unchanged by ntfsprobe"
}

truncate -s 1M "$tmp/f12.img" && mkfs.vfat -F 12 "$tmp/f12.img" >/dev/null
truncate -s 16M "$tmp/f16.img" && mkfs.vfat -F 16 "$tmp/f16.img" >/dev/null
truncate -s 64M "$tmp/f32.img" && mkfs.vfat -F 32 "$tmp/f32.img" >/dev/null
truncate -s 8M "$tmp/ex.img" && mkfs.exfat "$tmp/ex.img" >/dev/null
fat16=$(($(u16 "$tmp/f16.img" 14) * 512))	# first FAT: reserved sectors
fat32=$(($(u16 "$tmp/f32.img" 14) * 512))
NS=--no-windows-scan

# --- FAT and exFAT volumes by themselves -------------------------------
check "FAT12 clean" "$tmp/f12.img" 0 safe $NS
check "FAT16 clean" "$tmp/f16.img" 0 safe $NS
check "FAT32 clean" "$tmp/f32.img" 0 safe $NS
check "exFAT clean" "$tmp/ex.img" 0 safe $NS
for f in 16 32; do
	fsck.fat -n "$tmp/f$f.img" >/dev/null 2>&1
	ok $? "FAT$f clean: fsck.fat -n agrees"
done
fsck.exfat -n "$tmp/ex.img" >/dev/null 2>&1
ok $? "exFAT clean: fsck.exfat -n agrees"

cp "$tmp/f12.img" "$tmp/x.img" && poke "$tmp/x.img" $((0x25)) '\x01'
check "FAT12 dirty (0x25 bit 0)" "$tmp/x.img" 15 dirty $NS
fsck.fat -n "$tmp/x.img" 2>&1 | grep -q 'Dirty bit is set'
ok $? "FAT12 dirty: fsck.fat -n sees the dirty bit"

cp "$tmp/f16.img" "$tmp/x.img" && poke "$tmp/x.img" $((0x25)) '\x01'
check "FAT16 dirty (0x25 bit 0)" "$tmp/x.img" 15 dirty $NS
fsck.fat -n "$tmp/x.img" 2>&1 | grep -q 'Dirty bit is set'
ok $? "FAT16 dirty: fsck.fat -n sees the dirty bit"

cp "$tmp/f16.img" "$tmp/x.img" && poke "$tmp/x.img" $((fat16 + 3)) '\x7f'
check "FAT16 FAT[1] bit 15 clear" "$tmp/x.img" 15 dirty $NS
fsck.fat -n "$tmp/x.img" 2>&1 | grep -q 'Dirty bit is set'
ok $? "FAT16 FAT[1] bit 15 clear: fsck.fat -n calls it dirty too"
grep -q 'clean-shutdown' "$tmp/err"
ok $? "FAT16 FAT[1] bit 15 clear: the message names the FAT[1] bit"

cp "$tmp/f16.img" "$tmp/x.img" && poke "$tmp/x.img" $((fat16 + 3)) '\xbf'
check "FAT16 FAT[1] bit 14 clear (hard error)" "$tmp/x.img" 15 dirty $NS
grep -q 'chkdsk /f /r' "$tmp/err"
ok $? "FAT16 hard error: the remedy is chkdsk /f /r"

cp "$tmp/f32.img" "$tmp/x.img" && poke "$tmp/x.img" $((0x41)) '\x01'
check "FAT32 dirty (0x41 bit 0)" "$tmp/x.img" 15 dirty $NS
fsck.fat -n "$tmp/x.img" 2>&1 | grep -q 'Dirty bit is set'
ok $? "FAT32 dirty: fsck.fat -n sees the dirty bit"

cp "$tmp/f32.img" "$tmp/x.img" && poke "$tmp/x.img" $((fat32 + 7)) '\x07'
check "FAT32 FAT[1] bit 27 clear" "$tmp/x.img" 15 dirty $NS
fsck.fat -n "$tmp/x.img" 2>&1 | grep -q 'Dirty bit is set'
ok $? "FAT32 FAT[1] bit 27 clear: fsck.fat -n calls it dirty too"

cp "$tmp/ex.img" "$tmp/x.img" && poke "$tmp/x.img" 106 '\x02'
check "exFAT VolumeDirty" "$tmp/x.img" 15 dirty $NS
grep -q "^ntfsprobe: $tmp/x.img: exFAT volume is not safe to mount read-write: marked dirty" "$tmp/err"
ok $? "exFAT VolumeDirty: message 'DEVICE: exFAT volume ... marked dirty'"
# VolumeFlags are outside the boot region checksum: fsck.exfat still
# accepts the boot region, and repairing clears exactly that bit.
fsck.exfat -n "$tmp/x.img" >/dev/null 2>&1
ok $? "exFAT VolumeDirty: fsck.exfat -n accepts the checksum"
cp "$tmp/x.img" "$tmp/y.img" && fsck.exfat -y "$tmp/y.img" >/dev/null 2>&1
[ "$(u16 "$tmp/y.img" 106)" = 0 ]
ok $? "exFAT VolumeDirty: fsck.exfat -y clears it (exfatprogs reads it as dirty)"
check "exFAT after fsck.exfat -y" "$tmp/y.img" 0 safe $NS

cp "$tmp/ex.img" "$tmp/x.img" && poke "$tmp/x.img" 106 '\x04'
check "exFAT MediaFailure" "$tmp/x.img" 15 dirty $NS
cp "$tmp/ex.img" "$tmp/x.img" && poke "$tmp/x.img" 106 '\x08'
check "exFAT ClearToZero only" "$tmp/x.img" 0 safe $NS

cp "$tmp/ex.img" "$tmp/x.img" && poke "$tmp/x.img" 92 '\xff\xff\xff\xff'
"$P" $NS "$tmp/x.img" >/dev/null 2>&1
rc=$?
blkid -p "$tmp/x.img" 2>/dev/null | grep -q exfat && want=13 || want=12
ok $((rc != want)) "exFAT with 2^32-1 clusters: $want (corrupt if blkid still says exfat; got $rc)"
cp "$tmp/f16.img" "$tmp/x.img" && poke "$tmp/x.img" $((0x16)) '\x01\x00'
check "FAT16 with a FAT too small" "$tmp/x.img" 13 corrupt $NS
cp "$tmp/f32.img" "$tmp/x.img" && truncate -s 32M "$tmp/x.img"
check "FAT32 truncated" "$tmp/x.img" 13 corrupt $NS

# 4096-byte sectors: the FAT is found in sectors of the boot sector's size.
truncate -s 300M "$tmp/s32.img" && mkfs.vfat -S 4096 -s 1 -F 32 "$tmp/s32.img" >/dev/null
check "FAT32, 4096-byte sectors, clean" "$tmp/s32.img" 0 safe $NS
cp "$tmp/s32.img" "$tmp/x.img"
poke "$tmp/x.img" $(($(u16 "$tmp/s32.img" 14) * 4096 + 7)) '\x07'
check "FAT32, 4096-byte sectors, FAT[1] bit 27 clear" "$tmp/x.img" 15 dirty $NS
# ... and through a read-only loop device with 4096-byte blocks, where
# size and block size come from the kernel.
if l=$(losetup -r -f --show -b 4096 "$tmp/x.img" 2>/dev/null); then
	"$P" $NS "$l" >/dev/null 2>&1
	rc=$?
	losetup -d "$l"
	ok $((rc != 15)) "FAT32 FAT[1] bit 27 clear, on a 4096-byte-block loop device: 15 (got $rc)"
else
	skip "FAT32 on a loop device" "cannot set up a loop device here"
fi
truncate -s 32M "$tmp/s16.img" && mkfs.vfat -S 4096 -s 1 -F 16 "$tmp/s16.img" >/dev/null
check "FAT16, 4096-byte sectors, clean" "$tmp/s16.img" 0 safe $NS
rm -f "$tmp/s32.img" "$tmp/x.img"

# --- the Windows (NTFS) companion ---------------------------------------
# ntfs NAME [SIGNATURE]: $tmp/ntfs-NAME.img, with a hiberfil.sys whose
# first page starts with SIGNATURE when given
ntfs() {
	local f=$tmp/ntfs-$1.img
	truncate -s 16M "$f"
	mkntfs -Q -F -L windows "$f" >/dev/null 2>&1 || return 1
	if [ -n "${2:-}" ]; then
		head -c 8192 /dev/zero >"$tmp/hiberfil.sys"
		printf '%s' "$2" | dd of="$tmp/hiberfil.sys" conv=notrunc status=none
		ntfscp -q "$f" "$tmp/hiberfil.sys" hiberfil.sys || return 1
	fi
}
ntfs clean && ntfs hibr hibr && ntfs wake wake
ok $? "NTFS companions made (mkntfs, ntfscp)"
"$PV" "$tmp/ntfs-hibr.img" >/dev/null 2>&1
ok $(($? != 14)) "the hibr companion is hibernated by itself (exit 14)"
cp "$tmp/ntfs-clean.img" "$tmp/ntfs-fast.img" && "$M" "$tmp/ntfs-fast.img" log-fast-startup
cp "$tmp/ntfs-clean.img" "$tmp/ntfs-dirty.img" && "$M" "$tmp/ntfs-dirty.img" dirty

W=(--windows "$tmp/ntfs-hibr.img")
check "FAT16 clean, Windows hibernated" "$tmp/f16.img" 14 hibernated "${W[@]}"
grep -q "^ntfsprobe: $tmp/f16.img: FAT16 volume is not safe to mount read-write: Windows on $tmp/ntfs-hibr.img is hibernated" "$tmp/err"
ok $? "Windows hibernated: the message names the FAT device, then the NTFS one"
grep -q "powercfg /h off" "$tmp/err"
ok $? "Windows hibernated: the remedy is a full shutdown / powercfg /h off"
check "FAT32 clean, Windows hibernated" "$tmp/f32.img" 14 hibernated "${W[@]}"
check "FAT12 clean, Windows hibernated" "$tmp/f12.img" 14 hibernated "${W[@]}"
check "exFAT clean, Windows hibernated" "$tmp/ex.img" 14 hibernated "${W[@]}"
check "exFAT clean, Windows Fast Startup" "$tmp/ex.img" 14 fast-startup --windows "$tmp/ntfs-fast.img"
grep -q "is hibernated (Fast Startup)" "$tmp/err"
ok $? "Fast Startup: the message says so"
check "FAT16 clean, Windows shut down (no hiberfil.sys)" "$tmp/f16.img" 0 safe --windows "$tmp/ntfs-clean.img"
check "FAT16 clean, hiberfil.sys wake" "$tmp/f16.img" 0 safe --windows "$tmp/ntfs-wake.img"
check "FAT16 clean, Windows volume dirty (not a reason)" "$tmp/f16.img" 0 safe --windows "$tmp/ntfs-dirty.img"
check "FAT16 clean, second of two --windows hibernated" "$tmp/f16.img" 14 hibernated \
	--windows "$tmp/ntfs-clean.img" "${W[@]}"
check "FAT16 clean, --windows not NTFS (ignored)" "$tmp/f16.img" 0 safe --windows "$tmp/f32.img"
cp "$tmp/ex.img" "$tmp/x.img" && poke "$tmp/x.img" 106 '\x02'
check "exFAT dirty and Windows hibernated: 14" "$tmp/x.img" 14 hibernated "${W[@]}"
(
	eval "$("$P" --export "${W[@]}" "$tmp/x.img" 2>/dev/null)"
	case $DETAIL in *hibernated*VolumeDirty*) exit 0 ;; esac
	exit 1
)
ok $? "exFAT dirty and Windows hibernated: DETAIL names both"
"$P" --windows "$tmp/does-not-exist" "$tmp/f16.img" >/dev/null 2>&1
ok $(($? != 2)) "--windows naming a missing device: exit 2"
"$P" --windows 2>/dev/null
ok $(($? != 2)) "--windows without a device: exit 2"

# NTFS devices: unchanged, no companion check.
before=$(sha256sum <"$tmp/ntfs-clean.img")
"$P" "${W[@]}" "$tmp/ntfs-clean.img" >/dev/null 2>&1
ok $? "NTFS clean with --windows hibernated: still 0 (no companion check for NTFS)"
(
	eval "$("$P" --export "$tmp/ntfs-hibr.img" 2>/dev/null)"
	[ "$TYPE" = ntfs ] && [ "$NTFS_STATE" = hibernated ] && [ "$STATE" = hibernated ] &&
		[ -n "$NTFS_DETAIL" ] && [ "$NTFS_DETAIL" = "$DETAIL" ]
)
ok $? "NTFS: --export NTFS_STATE as before, STATE/DETAIL the same verdict"
[ "$before" = "$(sha256sum <"$tmp/ntfs-clean.img")" ]
ok $? "NTFS image unchanged"
if command -v mkfs.ext4 >/dev/null; then
	truncate -s 8M "$tmp/ext4.img" && mkfs.ext4 -q "$tmp/ext4.img"
	"$P" "$tmp/ext4.img" >/dev/null 2>&1
	ok $(($? != 12)) "ext4: still 12"
	(
		eval "$("$P" --export "$tmp/ext4.img" 2>/dev/null)"
		[ "$TYPE" = ext4 ] && [ "$NTFS_STATE" = not-ntfs ] && [ "$STATE" = unchecked ]
	)
	ok $? "ext4: NTFS_STATE=not-ntfs, STATE=unchecked"
fi

# --- the scan of /proc/partitions: a hibernated Windows on a loop device
if loopdev=$(losetup -r -f --show "$tmp/ntfs-hibr.img" 2>/dev/null); then
	"$P" "$tmp/f16.img" >/dev/null 2>"$tmp/err"
	rc=$?
	ok $((rc != 14)) "scan: a clean FAT16 with Windows hibernated on $loopdev: 14 (got $rc)"
	grep -q "Windows on /dev/loop[0-9]* is hibernated" "$tmp/err"
	ok $? "scan: the message names the loop device"
	"$P" $NS "$tmp/f16.img" >/dev/null 2>&1
	ok $? "scan: --no-windows-scan ignores it"
	"$P" --windows "$tmp/ntfs-clean.img" "$tmp/f16.img" >/dev/null 2>&1
	ok $? "scan: --windows replaces the scan"
	if command -v valgrind >/dev/null; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$PV" "$tmp/f16.img" \
			>/dev/null 2>"$tmp/vg"
		rc=$?
		ok $((rc != 14)) "scan under valgrind: clean, same verdict (got $rc)"
		if [ "$rc" -ne 14 ]; then sed 's/^/# /' "$tmp/vg"; fi
	fi
	losetup -d "$loopdev"
	loopdev=
else
	skip "scan of /proc/partitions" "cannot set up a loop device here"
fi

# valgrind on the plain build: FAT, exFAT with a companion, and dirty.
if command -v valgrind >/dev/null; then
	cp "$tmp/f32.img" "$tmp/x.img" && poke "$tmp/x.img" $((fat32 + 7)) '\x07'
	for c in "0 $NS $tmp/f16.img" "14 ${W[*]} $tmp/ex.img" "15 $NS $tmp/x.img"; do
		read -r want args <<<"$c"
		# shellcheck disable=SC2086 # word splitting of the arguments wanted
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$PV" --export $args \
			>/dev/null 2>"$tmp/vg"
		rc=$?
		ok $((rc != want)) "valgrind ntfsprobe --export $args: clean, exit $want (got $rc)"
		if [ "$rc" -ne "$want" ]; then sed 's/^/# /' "$tmp/vg"; fi
	done
else
	skip "valgrind" "valgrind missing"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
