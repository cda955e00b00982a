#!/bin/bash
# Regenerates tests/fuzz/corpus/fuzz-ntfsprobe/: seeds from real mkntfs
# volumes in each state ntfsprobe judges, kept small by ntfs-fuzz-seed
# (only the blocks the probe reads).  Needs mkntfs, ntfs-3g (or ntfscp) and
# the test tools of ${B:-build}.  Run by hand after changing what the probe
# reads; the seeds are committed.
set -eu
b=${B:-build}
M=$b/tools/ntfs-mutate
S=$b/tools/ntfs-fuzz-seed
out=tests/fuzz/corpus/fuzz-ntfsprobe
tmp=$(mktemp -d /tmp/ntfsprobe-corpus.XXXXXX)
trap 'mountpoint -q "$tmp/mnt" && umount "$tmp/mnt"; rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/mnt" "$tmp/put"

vol() { # vol NAME [MKNTFS-OPTIONS]: a fresh 4 MiB volume
	local f=$tmp/$1.img
	shift
	truncate -s 4M "$f"
	mkntfs -Q -F -L seed "$@" "$f" >/dev/null 2>&1
}
put() { # put IMG: copies $tmp/put/* into the root directory
	local f
	if ntfs-3g "$1" "$tmp/mnt" 2>/dev/null; then
		cp "$tmp"/put/* "$tmp/mnt/" && umount "$tmp/mnt"
	else
		for f in "$tmp"/put/*; do ntfscp -q "$1" "$f" "${f##*/}"; done
	fi
	rm -f "$tmp"/put/*
}
seed() { "$S" "$tmp/$1.img" "$out/$1"; }

vol clean && seed clean
vol dirty && "$M" "$tmp/dirty.img" dirty && seed dirty
vol log-unclean && "$M" "$tmp/log-unclean.img" log-unclean && seed log-unclean
vol log-clean && "$M" "$tmp/log-clean.img" log-clean && seed log-clean
vol fast && "$M" "$tmp/fast.img" log-fast-startup && seed fast
vol torn && "$M" "$tmp/torn.img" tear 5 && seed torn
# $LogFile restart pages torn by a power cut (only the first sector new),
# and one of an unknown version.
vol log-torn0 && "$M" "$tmp/log-torn0.img" log-torn 0 1.1 && seed log-torn0
vol log-torn1-v2 && "$M" "$tmp/log-torn1-v2.img" log-torn 1 2.0 && seed log-torn1-v2
vol log-torn1-older && "$M" "$tmp/log-torn1-older.img" log-torn 1 1.1 older &&
	seed log-torn1-older
vol log-torn-clean && "$M" "$tmp/log-torn-clean.img" log-torn 1 1.1 clean &&
	seed log-torn-clean
vol log-v3 && "$M" "$tmp/log-v3.img" log-version 1 3.0 && seed log-v3
# Hostile values for the arithmetic: highest VCN INT64_MAX ($MFT and
# $LogFile), a data size far above the allocation.
max=0x7fffffffffffffff
vol vcn-max && "$M" "$tmp/vcn-max.img" attr-set 0 0x80 24 $max && seed vcn-max
vol log-vcn-max && "$M" "$tmp/log-vcn-max.img" attr-set 2 0x80 24 $max &&
	seed log-vcn-max
vol log-size-max && "$M" "$tmp/log-size-max.img" attr-set 2 0x80 48 $max &&
	seed log-size-max
vol sect4k -s 4096 -c 4096 && seed sect4k
vol hibr
printf hibr >"$tmp/put/hiberfil.sys" && truncate -s 8192 "$tmp/put/hiberfil.sys"
put "$tmp/hibr.img" && seed hibr
vol short
printf 'x' >"$tmp/put/hiberfil.sys"
put "$tmp/short.img" && seed short
vol bigroot
# This name pattern makes ntfs-3g move the root index into an extension
# record: the seed covers $ATTRIBUTE_LIST too.
for i in $(seq 1 40); do echo "$i" >"$tmp/put/a-file-with-a-long-name-to-fill-the-index-$i.txt"; done
printf wake >"$tmp/put/hiberfil.sys" && truncate -s 8192 "$tmp/put/hiberfil.sys"
put "$tmp/bigroot.img" && seed bigroot
ls -l "$out"
