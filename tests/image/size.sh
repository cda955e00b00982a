#!/bin/bash
# What loopboot costs in an initramfs (issue 17).  For each kernel installed
# on this machine (here: Debian 12's 6.12 with ntfs3 and 6.1 without),
# mkinitramfs -d builds, with COMPRESS=zstd:
#   dep       MODULES=dep, without loopboot's hook and scripts
#   dep-lb    MODULES=dep, with them; the running boot's state says: an
#             ntfs3 host, an ext4 image
#   most      MODULES=most (Debian's default), without
#   most-lb   MODULES=most, with
# and fails when dep-lb is more than 400 KiB larger than dep, or when
# most-lb lacks a host driver or image file system loopboot knows.  The
# figures are printed as TAP comments.
#
# Independent of the machine: the state file is a fixed one
# (LOOPBOOT_STATE, the contract's variable, which the hook reads), the
# configuration a private copy of /etc/initramfs-tools without the
# installed package's loopboot files, and this tree's hook, scripts and
# helpers, staged by "make install".  MODULES=dep itself still looks at
# this machine's root device: what its image holds (say, ext4 and e2fsck for
# an ext4 root) is in both images and so not counted.  The ntfs-3g
# package's hook copies /bin/ntfs-3g (Debian 13's: /usr/bin/ntfs-3g),
# loopboot's /usr/bin/ntfs-3g (or /bin/ntfs-3g, the first there): on a
# usr-merged system one file, which the images must hold once.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

limit_kib=400
work=$(mktemp -d)
# LB_KEEP=1: keep the images and logs (their directory is printed).
if [ -n "${LB_KEEP-}" ]; then echo "# work directory: $work"; else trap 'rm -rf "$work"' EXIT; fi
stage=$work/stage
make -s -C "$top" install DESTDIR="$stage" prefix=/usr sysconfdir=/etc >"$work/make.log" 2>&1 || {
	sed 's/^/# /' "$work/make.log"
	tap 1 "make install stages this tree"
	echo "1..$n"
	exit 1
}
# Stripped, as the package's are (dh_strip).
strip --strip-unneeded "$stage"/usr/sbin/cmdline-get "$stage"/usr/sbin/ntfsprobe \
	"$stage"/usr/sbin/loopattach "$stage"/usr/sbin/ioflusher
export LOOPBOOT_SBINDIR=$stage/usr/sbin LOOPBOOT_DATADIR=$stage/usr/share/loopboot

# The state a boot from an ntfs3 host with an ext4 image writes.  The host
# device is this machine's root device: its drivers are in both dep images.
root_dev=$(findmnt -n -o SOURCE / 2>/dev/null)
export LOOPBOOT_STATE=$work/state
(
	# shellcheck source=../../scripts/loopboot/contract
	. "$top/scripts/loopboot/contract"
	# shellcheck disable=SC2034 # the contract's fields, written by name
	LOOPBOOT_HOST_DEV=$root_dev LOOPBOOT_HOST_DRIVER=ntfs3 LOOPBOOT_HOST_RO='' \
		LOOPBOOT_HOST_MNT=/run/loopboot/host LOOPBOOT_LOOP_DEV=/dev/loop0 \
		LOOPBOOT_LOOP_FILE=/linux/root.img LOOPBOOT_IMAGE_TYPE=ext4
	loopboot_state_write "$LOOPBOOT_STATE"
)

# conf DIR MODULES yes|no|bare: a private initramfs-tools configuration,
# with loopboot or without; its settings in conf.d/zz-size, read last.
# Except for "bare" (without loopboot), every image is the one of the system
# in the file, whatever this machine's root: MODULES=dep puts in the root's
# file system (ext4: the list in "modules"), initramfs-tools' fsck hook its
# fsck (ext4: FSTYPE, which it reads instead of /etc/fstab).
conf() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a /etc/initramfs-tools/. "$dir/"
	rm -f "$dir"/hooks/loopboot "$dir"/scripts/*/loopboot "$dir"/conf.d/loopboot
	[ "$3" = yes ] && cp -a "$stage/etc/initramfs-tools/." "$dir/"
	mkdir -p "$dir/conf.d"
	printf '%s\n' "MODULES=$2" COMPRESS=zstd >"$dir/conf.d/zz-size"
	grep -q '^BUSYBOX=n' "$dir/initramfs.conf" && echo BUSYBOX=auto >>"$dir/conf.d/zz-size"
	if [ "$3" != bare ]; then
		echo FSTYPE=ext4 >>"$dir/conf.d/zz-size"
		echo ext4 >>"$dir/modules"
	fi
}
# build NAME MODULES yes|no [LINE...]: the image $work/NAME.img (log:
# NAME.log, list: NAME.list), the LINEs added to conf.d/loopboot;
# mkinitramfs' status.
build() {
	local c=$work/$1 rc
	conf "$c" "$2" "$3"
	shift 3
	[ $# = 0 ] || printf '%s\n' "$@" >>"$c/conf.d/loopboot"
	mkinitramfs -d "$c" -o "$c.img" "$kver" >"$c.log" 2>&1
	rc=$?
	lsinitramfs -l "$c.img" >"$c.list" 2>/dev/null
	return $rc
}
size() { stat -c %s "$work/$1.img"; }
kib() { echo $((($1 + 512) / 1024)); }
# holds NAME REGEX: the image's list has a path matching REGEX (ERE, on
# the path without its leading "usr/").
holds() {
	sed 's/ -> .*//' "$work/$1.list" | awk '{print $NF}' | sed 's|^usr/||' | grep -Eq -- "$2"
}

# ntfs3g_once NAME: ntfs-3g is in image NAME once, as a file (usr/bin),
# whoever copied it (when ntfs-3g is installed).
ntfs3g_once() {
	local c
	[ -x /usr/bin/ntfs-3g ] || return 0
	c=$(awk '$1 ~ /^-/ && $NF ~ /(^|\/)ntfs-3g$/' "$work/$1.list" | wc -l)
	[ "$c" = 1 ]
	tap $? "$kver: $1: ntfs-3g is in once, beside the ntfs-3g package's hook (found $c)"
}

# most_checks: MODULES=most gets everything, as before.
most_checks() {
	local missing='' m t
	for m in loop overlay ext4 btrfs xfs exfat vfat nls_cp437 nls_utf8; do
		holds most-lb "/$m\.ko" || missing="$missing $m"
	done
	for t in fsck e2fsck fsck.ext4 fsck.btrfs fsck.xfs; do
		holds most-lb "^sbin/$t\$" || missing="$missing $t"
	done
	if modinfo -k "$kver" ntfs3 >/dev/null 2>&1; then
		holds most-lb '/ntfs3\.ko' || missing="$missing ntfs3"
	elif [ "$(modinfo -k "$kver" -F filename fuse 2>/dev/null)" != "(builtin)" ]; then
		holds most-lb '/fuse\.ko' || missing="$missing fuse"
	fi
	if [ -x /usr/bin/ntfs-3g ]; then
		holds most-lb '^bin/ntfs-3g$' || missing="$missing ntfs-3g"
	fi
	[ -z "$missing" ]
	tap $? "$kver: MODULES=most: every host driver and image file system, ntfs-3g${missing:+ (missing:$missing)}"
	ntfs3g_once most-lb
}

# This machine's own kernels (MODULES=dep looks at this machine): those
# installed with /boot and /lib/modules (make deps installs
# linux-image-amd64: on Debian 12 the 6.1 without ntfs3, on Debian 13 the
# 6.12 with it).
kernels=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -rV |
	while read -r k; do [ -d "/lib/modules/$k/kernel" ] && echo "$k"; done)
[ -n "$kernels" ] || tap 1 "a kernel installed on this machine (make deps installs linux-image-amd64)"
last=
for kver in $kernels; do
	# MODULES=dep needs a root device it can resolve (a container's root is
	# none): without one, the MODULES=dep half is skipped.
	deps="dep dep no|dep-lb dep yes|dep-bare dep bare"
	if ! build dep dep no; then
		if grep -Eq 'workaround is MODULES=most|MODULES dep requires' "$work/dep.log"; then
			sed 's/^/# mkinitramfs: /' "$work/dep.log" | tail -n 4
			skip "$kver: MODULES=dep images" "MODULES=dep cannot work on this machine (above)"
		else
			sed 's/^/# mkinitramfs: /' "$work/dep.log" | tail -n 8
			tap 1 "$kver: mkinitramfs builds dep (MODULES=dep, loopboot: no)"
		fi
		deps=
	fi
	ok=1
	IFS='|' read -r -a todo <<<"${deps#dep dep no|}|most most no|most-lb most yes"
	# Two at a time: most of mkinitramfs' time is one process (the
	# compressor, the module copies).
	rm -f "$work"/*.rc
	for b in "${todo[@]}"; do
		[ -n "$b" ] || continue
		# shellcheck disable=SC2086 # three words
		set -- $b
		while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
		(
			build "$@"
			echo $? >"$work/$1.rc"
		) &
	done
	wait
	for b in "${todo[@]}"; do
		[ -n "$b" ] || continue
		# shellcheck disable=SC2086 # three words
		set -- $b
		if [ "$(cat "$work/$1.rc" 2>/dev/null)" != 0 ]; then
			ok=
			sed 's/^/# mkinitramfs: /' "$work/$1.log" | tail -n 8
			tap 1 "$kver: mkinitramfs builds $1 (MODULES=$2, loopboot: $3)"
		fi
	done
	[ -n "$ok" ] || continue
	tap 0 "$kver: mkinitramfs builds ${deps:+dep, dep-lb, dep-bare, }most and most-lb"
	! grep -E '^(E|W): loopboot' "$work/most-lb.log" ${deps:+"$work/dep-lb.log"} |
		sed 's/^/# /' | grep -q .
	tap $? "$kver: the hook says nothing alarming (state read, host partition found)"
	m=$(size most) ml=$(size most-lb)
	echo "# $kver: MODULES=most: $(kib "$m") KiB, with loopboot $(kib "$ml") KiB: +$(kib $((ml - m))) KiB"
	most_checks
	[ -n "$deps" ] || continue
	last=$kver

	d=$(size dep) dl=$(size dep-lb) db=$(size dep-bare)
	echo "# $kver: MODULES=dep as this machine makes it (its own root, its fstab's fsck):" \
		"$(kib "$db") KiB; loopboot's image is $(kib $((dl - db))) KiB larger"
	echo "# $kver: MODULES=dep:  $(kib "$d") KiB, with loopboot $(kib "$dl") KiB: +$(kib $((dl - d))) KiB"
	[ $((dl - d)) -le $((limit_kib * 1024)) ]
	tap $? "$kver: MODULES=dep, ntfs3 host, ext4 image: loopboot adds $(kib $((dl - d))) KiB (at most $limit_kib)"

	# What dep-lb holds: the boot logic and its tools, the host's and the
	# image's drivers, busybox and the shutdown environment the hook staged.
	missing=
	for re in '^sbin/(loopattach|ntfsprobe|cmdline-get|ioflusher)$' '^scripts/loopboot-functions$' \
		'^share/loopboot/(contract|drivers|core|shutdown|shutdown-setup)$' \
		'^lib/loopboot/shutdown-root/(shutdown|bin/busybox)$' '^bin/busybox$' '/loop\.ko' '/overlay\.ko' \
		'^sbin/e2fsck$' '^sbin/fsck\.ext4$' '^sbin/fsck$' '/ext4\.ko'; do
		holds dep-lb "$re" || missing="$missing $re"
	done
	if modinfo -k "$kver" ntfs3 >/dev/null 2>&1; then
		holds dep-lb '/ntfs3\.ko' || missing="$missing ntfs3"
	else
		# No ntfs3 (6.1): the NTFS host is mounted by ntfs-3g.
		holds dep-lb '^bin/ntfs-3g$' || missing="$missing ntfs-3g"
		[ "$(modinfo -k "$kver" -F filename fuse 2>/dev/null)" = "(builtin)" ] ||
			holds dep-lb '/fuse\.ko' || missing="$missing fuse"
	fi
	[ -z "$missing" ]
	tap $? "$kver: dep-lb holds the boot logic, busybox, the host's and the image's drivers${missing:+ (missing:$missing)}"
	# ... and none of the others, unless MODULES=dep put it in anyway.
	extra=
	for m in xfs btrfs exfat vfat; do
		holds dep-lb "/$m\.ko" && ! holds dep "/$m\.ko" && extra="$extra $m"
	done
	for t in fsck.xfs fsck.btrfs; do
		holds dep-lb "^sbin/$t\$" && ! holds dep "^sbin/$t\$" && extra="$extra $t"
	done
	[ -z "$extra" ]
	tap $? "$kver: dep-lb has no other host or image file system${extra:+ (has:$extra)}"

	# One ntfs-3g, a file (usr/bin), whoever copied it.
	ntfs3g_once dep-lb
done

# No state and no settings: MODULES=dep gets everything, and a note says why.
# (On the last kernel built above, whose dep image is there to compare.)
if [ -n "$last" ]; then
	kver=$last
	LOOPBOOT_STATE=$work/none build dep-nostate dep yes
	rc=$?
	grep -q "I: loopboot: MODULES=dep, but the host's and the image's file system is not known" \
		"$work/dep-nostate.log" && holds dep-nostate '/xfs\.ko' &&
		holds dep-nostate '/btrfs\.ko' && holds dep-nostate '/exfat\.ko' && [ $rc = 0 ]
	tap $? "$kver: MODULES=dep, nothing known: every driver goes in, with a note"
	# A setting instead of the state: the image is btrfs.
	LOOPBOOT_STATE=$work/none build dep-conf dep yes \
		'LOOPBOOT_HOST_FS="exfat"' 'LOOPBOOT_IMAGE_FS="btrfs"'
	rc=$?
	[ $rc = 0 ] && holds dep-conf '/btrfs\.ko' && holds dep-conf '/exfat\.ko' &&
		holds dep-conf '^sbin/fsck\.btrfs$' && ! grep -q 'I: loopboot' "$work/dep-conf.log" &&
		{ holds dep '/xfs\.ko' || ! holds dep-conf '/xfs\.ko'; }
	tap $? "$kver: MODULES=dep, LOOPBOOT_HOST_FS=exfat LOOPBOOT_IMAGE_FS=btrfs: those, no xfs"
fi
echo "1..$n"
[ "$failed" = 0 ]
