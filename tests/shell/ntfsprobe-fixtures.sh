#!/bin/bash
# ntfsprobe on real NTFS volumes: made with mkntfs, files written through
# ntfs-3g (FUSE, or ntfscp where FUSE is missing), then put into the states
# Windows leaves behind by ntfs-mutate.  For every fixture: the exit code,
# NTFS_STATE from --export evaluated by sh, agreement with ntfs-3g.probe
# --readwrite (ntfsprobe must refuse whatever it refuses), a valgrind run,
# and the image unchanged afterwards.  Ends with a table of both verdicts.
# NTFSPROBE, NTFSPROBE_PLAIN (for valgrind), NTFS_MUTATE name the binaries;
# by default those of ${B:-build}.
set -u
b=${B:-build}
P=${NTFSPROBE:-$b/asan/bin/ntfsprobe}
PV=${NTFSPROBE_PLAIN:-$b/bin/ntfsprobe}
M=${NTFS_MUTATE:-$b/tools/ntfs-mutate}
n=0 failed=0 table=()

# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

for tool in mkntfs ntfs-3g.probe ntfscp; do
	if ! command -v "$tool" >/dev/null; then
		echo "ok 1 - ntfsprobe fixtures # SKIP $tool missing (apt-get install ntfs-3g)"
		exit 0
	fi
done
for bin in "$P" "$PV" "$M"; do
	if [ ! -x "$bin" ]; then
		echo "not ok 1 - $bin is built (make unit-tests)"
		exit 1
	fi
done
have_valgrind=1
command -v valgrind >/dev/null || have_valgrind=0

tmp=$(mktemp -d /tmp/ntfsprobe-fixtures.XXXXXX)
cleanup() {
	mountpoint -q "$tmp/mnt" 2>/dev/null && umount "$tmp/mnt"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/mnt"

# fresh NAME [MKNTFS-OPTIONS...]: a new clean 16 MiB volume in $tmp/NAME.img
fresh() {
	local f=$tmp/$1.img
	shift
	rm -f "$f"
	truncate -s 16M "$f"
	mkntfs -Q -F -L fixture "$@" "$f" >/dev/null 2>&1
}

# put IMG DIR: copies every file of DIR into the volume's root directory.
put() {
	local f
	if ntfs-3g "$1" "$tmp/mnt" 2>/dev/null; then
		cp "$2"/* "$tmp/mnt"/ && umount "$tmp/mnt"
		return
	fi
	for f in "$2"/*; do
		ntfscp -q "$1" "$f" "${f##*/}" || return 1
	done
}

# hiberfil IMG CONTENT-FILE [NAME]: writes hiberfil.sys (or NAME).
hiberfil() {
	rm -rf "$tmp/put" && mkdir "$tmp/put"
	cp "$2" "$tmp/put/${3:-hiberfil.sys}"
	put "$1" "$tmp/put"
}

# page SIGNATURE SIZE: a hiberfil.sys header page
page() {
	local f=$tmp/page-$1-$2
	head -c "$2" /dev/zero >"$f"
	[ "$1" = zero ] || printf '%s' "$1" | dd of="$f" conv=notrunc status=none
	echo "$f"
}

# check NAME IMG EXPECTED-EXIT EXPECTED-STATE
check() {
	local name=$1 img=$2 want=$3 state=$4 before after rc orc vrc
	before=$(sha256sum <"$img")
	"$P" "$img" >/dev/null 2>"$tmp/err"
	rc=$?
	ok $((rc != want)) "$name: ntfsprobe exits $want (got $rc)"
	if [ "$rc" -ne "$want" ]; then sed 's/^/# /' "$tmp/err"; fi
	(
		eval "$("$P" --export "$img" 2>/dev/null)"
		[ "${NTFS_STATE:-}" = "$state" ] && [ -n "${NTFS_DETAIL:-}" ]
	)
	ok $? "$name: --export gives NTFS_STATE=$state and a detail"
	if [ "$have_valgrind" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$PV" "$img" \
			>/dev/null 2>"$tmp/vg"
		vrc=$?
		ok $((vrc != want)) "$name: valgrind clean, same verdict (got $vrc)"
		if [ "$vrc" -ne "$want" ]; then sed 's/^/# /' "$tmp/vg"; fi
	else
		ok 0 "$name: valgrind # SKIP valgrind missing"
	fi
	after=$(sha256sum <"$img")
	ok $(( $([ "$before" = "$after" ]; echo $?) )) "$name: image unchanged by ntfsprobe"
	# The oracle runs on a copy: with --readwrite it opens the volume
	# read-write and may reset the journal.
	cp --sparse=always "$img" "$tmp/oracle.img"
	ntfs-3g.probe --readwrite "$tmp/oracle.img" >/dev/null 2>&1
	orc=$?
	ok $((orc != 0 && rc == 0)) \
		"$name: ntfs-3g.probe exits $orc, ntfsprobe $rc: agrees or is stricter"
	table+=("$(printf '%-28s %-9s %s' "$name" "$rc" "$orc")")
}

# --- the fixtures -----------------------------------------------------
fresh base
check "clean (mkntfs)" "$tmp/base.img" 0 safe

fresh files
rm -rf "$tmp/put" && mkdir "$tmp/put"
echo hello >"$tmp/put/readme.txt"
head -c 300000 /dev/urandom >"$tmp/put/root.img"
put "$tmp/files.img" "$tmp/put"
check "clean, files via ntfs-3g" "$tmp/files.img" 0 safe

cp "$tmp/files.img" "$tmp/x.img" && "$M" "$tmp/x.img" dirty
check "dirty flag" "$tmp/x.img" 15 dirty

cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" volume-flags 0x4000
check "chkdsk-underway flag" "$tmp/x.img" 15 dirty

cp "$tmp/x.img" "$tmp/y.img" && "$M" "$tmp/y.img" clean
check "flags cleared again" "$tmp/y.img" 0 safe

for sig in hibr HIBR RSTR; do
	cp "$tmp/base.img" "$tmp/x.img"
	hiberfil "$tmp/x.img" "$(page "$sig" 8192)"
	check "hiberfil.sys $sig" "$tmp/x.img" 14 hibernated
done
for sig in wake WAKE zero; do
	cp "$tmp/base.img" "$tmp/x.img"
	hiberfil "$tmp/x.img" "$(page "$sig" 8192)"
	check "hiberfil.sys $sig" "$tmp/x.img" 0 safe
done
cp "$tmp/base.img" "$tmp/x.img"
hiberfil "$tmp/x.img" "$(page zero 100)"
check "hiberfil.sys short, resident" "$tmp/x.img" 14 hibernated
cp "$tmp/base.img" "$tmp/x.img"
hiberfil "$tmp/x.img" "$(page zero 4000)"
check "hiberfil.sys short (4000 B)" "$tmp/x.img" 14 hibernated
cp "$tmp/base.img" "$tmp/x.img"
hiberfil "$tmp/x.img" "$(page junk 8192)"
check "hiberfil.sys other content" "$tmp/x.img" 14 hibernated
cp "$tmp/base.img" "$tmp/x.img"
if ntfs-3g "$tmp/x.img" "$tmp/mnt" 2>/dev/null; then
	truncate -s 64M "$tmp/mnt/hiberfil.sys"	# a hole: reads as zeros
	umount "$tmp/mnt"
	check "hiberfil.sys sparse (hole)" "$tmp/x.img" 0 safe
else
	ok 0 "hiberfil.sys sparse # SKIP no FUSE"
fi
cp "$tmp/base.img" "$tmp/x.img"
hiberfil "$tmp/x.img" "$(page hibr 8192)" HiberFil.SYS
check "HiberFil.SYS (name case)" "$tmp/x.img" 14 hibernated

# A root directory too large for its $INDEX_ROOT: hiberfil.sys's entry
# sits in an $INDEX_ALLOCATION block.
cp "$tmp/base.img" "$tmp/big.img"
rm -rf "$tmp/put" && mkdir "$tmp/put"
for i in $(seq 1 300); do
	echo "$i" >"$tmp/put/a-file-with-a-long-name-to-fill-the-index-$i.txt"
done
put "$tmp/big.img" "$tmp/put"
ntfsinfo -i 5 "$tmp/big.img" 2>/dev/null | grep -q 'INDEX_ALLOCATION'
ok $? "big root directory has \$INDEX_ALLOCATION blocks"
ntfsinfo -i 5 "$tmp/big.img" 2>/dev/null | grep -q 'ATTRIBUTE_LIST'
ok $? "big root directory has an \$ATTRIBUTE_LIST (index root in an extension record)"
cp "$tmp/big.img" "$tmp/x.img"
hiberfil "$tmp/x.img" "$(page hibr 8192)"
ntfsinfo -v -i 5 "$tmp/x.img" 2>/dev/null >"$tmp/root.txt"
sed -n '/Dumping index root/,/Index entries total/p' "$tmp/root.txt" | grep -qi hiberfil
ok $((! $?)) "big root: hiberfil.sys is not in \$INDEX_ROOT (so in a block)"
check "big root, hiberfil.sys hibr" "$tmp/x.img" 14 hibernated
cp "$tmp/big.img" "$tmp/x.img"
hiberfil "$tmp/x.img" "$(page zero 8192)"
check "big root, hiberfil.sys zero" "$tmp/x.img" 0 safe

# Index blocks allocated between data clusters: a root index of many runs.
rm -rf "$tmp/put" && mkdir "$tmp/put"
head -c 8192 /dev/urandom >"$tmp/blk"
cp "$tmp/base.img" "$tmp/x.img"
if ntfs-3g "$tmp/x.img" "$tmp/mnt" 2>/dev/null; then
	for i in $(seq 1 300); do
		echo "$i" >"$tmp/mnt/a-file-with-a-long-name-to-fill-the-index-$i.txt"
		cp "$tmp/blk" "$tmp/mnt/zdata$i"
	done
	cp "$(page hibr 8192)" "$tmp/mnt/hiberfil.sys"
	umount "$tmp/mnt"
	runs=$(ntfsinfo -v -i 5 "$tmp/x.img" 2>/dev/null |
		sed -n '/attribute .INDEX_ALLOCATION/,/attribute .BITMAP/p' |
		grep -c -E '^\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+')
	ok $((runs < 10)) "fragmented root index: \$INDEX_ALLOCATION has $runs runs"
	check "fragmented root, hibr" "$tmp/x.img" 14 hibernated
else
	ok 0 "fragmented root index # SKIP no FUSE"
fi

cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-unclean
check "\$LogFile unclean" "$tmp/x.img" 15 unclean-journal
cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-clean
check "\$LogFile clean restart pages" "$tmp/x.img" 0 safe
cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-fast-startup
check "\$LogFile version 2.0" "$tmp/x.img" 14 fast-startup
"$M" "$tmp/x.img" log-empty
check "\$LogFile emptied again" "$tmp/x.img" 0 safe

# A power cut while Windows rewrote a restart page: only its first sector
# is new.  Its restart area lies in that sector, so its LSN and state
# count (ntfs-3g.probe: 15 or 14 when it is the newer page).
for page in 0 1; do
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-torn "$page" 1.1
	check "\$LogFile p$page torn newer 1.1" "$tmp/x.img" 15 unclean-journal
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-torn "$page" 2.0
	check "\$LogFile p$page torn newer 2.0" "$tmp/x.img" 14 fast-startup
	# Its clean flag is not believed: the write did not finish.
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-torn "$page" 1.1 clean
	check "\$LogFile p$page torn newer clean" "$tmp/x.img" 15 unclean-journal
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-torn "$page" 1.1 older
	check "\$LogFile p$page torn older 1.1" "$tmp/x.img" 0 safe
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-torn "$page" 2.0 older
	check "\$LogFile p$page torn older 2.0" "$tmp/x.img" 0 safe
	# ntfs-3g skips a page of an unknown version and trusts the other
	# one; we cannot order them, so fail closed.
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-version "$page" 3.0
	check "\$LogFile p$page version 3.0" "$tmp/x.img" 15 unclean-journal
	# Other bytes where a restart page belongs (ntfs-3g and ntfs3 trust
	# the other page): it may have been the newer one.
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" log-garbage "$page"
	check "\$LogFile p$page garbage" "$tmp/x.img" 15 unclean-journal
done

cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" dirty
hiberfil "$tmp/x.img" "$(page hibr 8192)"
check "dirty and hibernated" "$tmp/x.img" 14 hibernated

cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" bitlocker
check "BitLocker signature" "$tmp/x.img" 16 bitlocker

cp "$tmp/base.img" "$tmp/x.img" && truncate -s 8M "$tmp/x.img"
check "truncated device" "$tmp/x.img" 13 corrupt

for rec in 0 3 5; do
	cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" tear "$rec"
	check "torn MFT record $rec" "$tmp/x.img" 13 corrupt
done

# Hostile values where ntfsprobe computes: highest VCN INT64_MAX (+1
# overflowed), a data size far above the allocation.
max=0x7fffffffffffffff
cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" attr-set 0 0x80 24 $max
check "\$MFT highest VCN INT64_MAX" "$tmp/x.img" 13 corrupt
cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" attr-set 2 0x80 24 $max
check "\$LogFile highest VCN max" "$tmp/x.img" 13 corrupt
cp "$tmp/base.img" "$tmp/x.img" && "$M" "$tmp/x.img" attr-set 2 0x80 48 $max
check "\$LogFile data size max" "$tmp/x.img" 13 corrupt

fresh big4k -s 4096 -c 4096
check "4096-byte sectors, clean" "$tmp/big4k.img" 0 safe
"$M" "$tmp/big4k.img" dirty
check "4096-byte sectors, dirty" "$tmp/big4k.img" 15 dirty

fresh c64k -c 65536
check "64 KiB clusters, clean" "$tmp/c64k.img" 0 safe

# A volume 1 MiB into a disk image, mutated with --offset.
head -c 1048576 /dev/zero >"$tmp/disk.img"
cat "$tmp/base.img" >>"$tmp/disk.img"
"$M" --offset 1048576 "$tmp/disk.img" dirty
tail -c +1048577 "$tmp/disk.img" >"$tmp/x.img"
check "dirty via --offset" "$tmp/x.img" 15 dirty

# The same through a read-only loop device with 4096-byte sectors: size
# and block size then come from the kernel (BLKGETSIZE64, BLKSSZGET).
if loopdev=$(losetup -r -f --show -b 4096 "$tmp/x.img" 2>/dev/null); then
	"$P" "$loopdev" >/dev/null 2>&1
	rc=$?
	losetup -d "$loopdev"
	ok $((rc != 15)) "dirty, on a loop device with 4096-byte sectors: exit 15 (got $rc)"
else
	ok 0 "loop device # SKIP cannot set up a loop device here"
fi

if command -v mkfs.ext4 >/dev/null; then
	truncate -s 8M "$tmp/ext4.img"
	mkfs.ext4 -q -L "it's" "$tmp/ext4.img"
	check "ext4" "$tmp/ext4.img" 12 not-ntfs
	(
		eval "$("$P" --export "$tmp/ext4.img" 2>/dev/null)"
		[ "$TYPE" = ext4 ] && [ "$LABEL" = "it's" ] && [ -n "$UUID" ]
	)
	ok $? "ext4: TYPE, LABEL (with a quote) and UUID as blkid reports"
fi
truncate -s 1M "$tmp/zero.img"
check "all zeros" "$tmp/zero.img" 12 not-ntfs
head -c 100 /dev/urandom >"$tmp/tiny.img"
check "100-byte file" "$tmp/tiny.img" 12 not-ntfs

"$P" "$tmp/does-not-exist" 2>/dev/null
ok $(($? != 2)) "missing device: exit 2"
"$P" 2>/dev/null
ok $(($? != 2)) "no argument: exit 2"

echo "# fixture                      ntfsprobe ntfs-3g.probe"
printf '# %s\n' "${table[@]}"
echo "1..$n"
[ "$failed" -eq 0 ]
