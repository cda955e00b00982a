#!/bin/bash
# Regenerates tests/fuzz/corpus/fuzz-fatprobe/: the boot sector and the
# first FAT block of real mkfs.vfat / mkfs.exfat volumes, in each state
# fat.c judges, in the sparse NTFZ form of ntfz.h (a few KB each).  Needs
# mkfs.vfat (dosfstools) and mkfs.exfat (exfatprogs).  Run by hand after
# changing what the probe reads; the seeds are committed.
set -eu
out=tests/fuzz/corpus/fuzz-fatprobe
tmp=$(mktemp -d /tmp/fatprobe-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# le BYTES VALUE: VALUE as BYTES little-endian bytes, as printf escapes
le() {
	local i v=$2 s=
	for ((i = 0; i < $1; i++)); do
		s+=$(printf '\\x%02x' $((v & 255)))
		v=$((v >> 8))
	done
	printf '%s' "$s"
}

# seed IMG NAME BLOCK...: an NTFZ file with those 512-byte blocks of IMG
seed() {
	local img=$1 name=$2 blk size
	shift 2
	size=$(stat -c %s "$img")
	{
		printf 'NTFZ'
		printf '%b' "$(le 8 "$size")"
		printf '\x09'
		for blk in "$@"; do
			printf '%b\x00' "$(le 4 "$blk")$(le 2 1)"
			dd if="$img" bs=512 skip="$blk" count=1 status=none
		done
	} >"$out/$name"
}

# poke IMG OFFSET BYTES...: writes the bytes (printf escapes) at OFFSET
poke() { printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

truncate -s 1M "$tmp/f12.img" && mkfs.vfat -F 12 "$tmp/f12.img" >/dev/null
truncate -s 16M "$tmp/f16.img" && mkfs.vfat -F 16 "$tmp/f16.img" >/dev/null
truncate -s 64M "$tmp/f32.img" && mkfs.vfat -F 32 "$tmp/f32.img" >/dev/null
truncate -s 8M "$tmp/ex.img" && mkfs.exfat "$tmp/ex.img" >/dev/null

fat16_fat=$(( $(od -An -tu2 -j14 -N2 "$tmp/f16.img") ))
fat32_fat=$(( $(od -An -tu2 -j14 -N2 "$tmp/f32.img") ))
seed "$tmp/f12.img" fat12-clean 0 1
seed "$tmp/f16.img" fat16-clean 0 "$fat16_fat"
seed "$tmp/f32.img" fat32-clean 0 "$fat32_fat"
seed "$tmp/ex.img" exfat-clean 0
cp "$tmp/f16.img" "$tmp/x.img" && poke "$tmp/x.img" $((0x25)) '\x01'
seed "$tmp/x.img" fat16-boot-dirty 0 "$fat16_fat"
cp "$tmp/f16.img" "$tmp/x.img" && poke "$tmp/x.img" $((fat16_fat * 512 + 3)) '\x7f'
seed "$tmp/x.img" fat16-not-clean 0 "$fat16_fat"
cp "$tmp/f32.img" "$tmp/x.img" && poke "$tmp/x.img" $((0x41)) '\x01'
seed "$tmp/x.img" fat32-boot-dirty 0 "$fat32_fat"
cp "$tmp/f32.img" "$tmp/x.img" && poke "$tmp/x.img" $((fat32_fat * 512 + 7)) '\x07'
seed "$tmp/x.img" fat32-not-clean 0 "$fat32_fat"
cp "$tmp/ex.img" "$tmp/x.img" && poke "$tmp/x.img" 106 '\x06'
seed "$tmp/x.img" exfat-dirty-media-failure 0
ls -l "$out"
