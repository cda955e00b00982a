#!/bin/bash
# The image test: initramfs images built by mkinitramfs -d from what the
# installed package put in /etc/initramfs-tools, in each release's tree
# (tests/release/prepare) by its own mkinitramfs, for Debian 12's 6.1 and
# 6.12 and Debian 13's 6.12 and 7.x, unpacked, listed, and chrooted into to
# run the helpers as the boot will.
set -u
export LB_WORK=${LB_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/build/image}
rm -rf "$LB_WORK"
# shellcheck source=../lib/qemu.sh
. "$(dirname "$0")/../lib/qemu.sh"
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

# A small NTFS volume to probe from inside the image.
ntfs=$LB_WORK/probe.ntfs
truncate -s 16M "$ntfs"
mkntfs -Q -F -L PROBE "$ntfs" >/dev/null 2>&1

for series in 6.1 6.12 t612 t7; do
	kver=$(lb_kernel "$series") || {
		tap 1 "a $series kernel is installed (tests/release/prepare)"
		continue
	}
	img=$(lb_initrd "$kver")
	root=$LB_WORK/unpacked-$kver
	mkdir -p "$root"
	unmkinitramfs "$img" "$root" 2>/dev/null
	# With early parts (microcode; from initramfs-tools 0.148 the
	# compressed modules too) the main archive is in main/: the list is
	# that of every part.
	if [ -d "$root/main" ]; then
		list=$(cd "$root" && find . -mindepth 2 | sed 's|^\./[^/]*/||')
		root=$root/main
	else
		list=$(cd "$root" && find . | sed 's|^\./||')
	fi
	has() { printf '%s\n' "$list" | grep -Eq -- "$1"; }

	for f in usr/sbin/cmdline-get usr/sbin/ntfsprobe usr/sbin/loopattach usr/sbin/ioflusher \
		scripts/loopboot-functions usr/share/loopboot/contract usr/share/loopboot/drivers \
		usr/share/loopboot/core usr/share/loopboot/initramfs-tools \
		usr/share/loopboot/shutdown-setup usr/share/loopboot/shutdown \
		usr/lib/loopboot/shutdown-root/shutdown usr/share/loopboot/preload scripts/init-top/loopboot \
		scripts/local-premount/loopboot scripts/local-bottom/loopboot scripts/panic/loopboot \
		sbin/fsck sbin/e2fsck sbin/fsck.ext4 sbin/logsave; do
		has "^(usr/)?$f\$"
		tap $? "$kver: image holds $f"
	done
	grep -q loopboot "$root/scripts/local-premount/ORDER"
	tap $? "$kver: local-premount/ORDER runs loopboot"
	grep -q loopboot "$root/scripts/panic/ORDER"
	tap $? "$kver: panic/ORDER runs loopboot (the host is released before a panic shell)"
	has '/loop\.ko' || grep -q '/loop\.ko' "$root/lib/modules/$kver/modules.builtin" 2>/dev/null
	tap $? "$kver: the loop driver is in the image or built in"
	if [ "$series" = 6.12 ] || [ "$series" = t612 ]; then
		has '/ntfs3\.ko'
		tap $? "$kver: ntfs3 module in the image"
	elif [ "$series" = t7 ]; then
		! has '/ntfs3\.ko' && has '/ntfs\.ko'
		tap $? "$kver: no ntfs3 here: the new ntfs driver's module is in the image"
	else
		! has '/ntfs3\.ko' && has '^(usr/)?bin/ntfs-3g$' && has '/fuse\.ko'
		tap $? "$kver: no ntfs3 here, so ntfs-3g and fuse are in the image"
	fi

	# The helpers run inside the image: their libraries came along.
	for tool in cmdline-get ntfsprobe loopattach ioflusher; do
		chroot "$root" /usr/sbin/$tool --help >/dev/null 2>&1
		tap $? "$kver: chroot: $tool --help runs"
	done
	v=$(chroot "$root" /usr/sbin/cmdline-get --cmdline 'ro "loop=/My Linux/root.img" rw' loop 2>&1)
	[ "$v" = "/My Linux/root.img" ]
	tap $? "$kver: chroot: cmdline-get reads GRUB's quoting (got: $v)"
	cp "$ntfs" "$root/probe.ntfs"
	chroot "$root" /usr/sbin/ntfsprobe /probe.ntfs >/dev/null 2>&1
	tap $? "$kver: chroot: ntfsprobe finds a fresh mkntfs volume safe"
	rm -f "$root/probe.ntfs"
	# The shutdown environment the hook staged runs on its own (its busybox
	# finds its libraries there), and costs the image no byte: its busybox
	# is the image's.
	sdtree=$root/usr/lib/loopboot/shutdown-root
	v=$(chroot "$sdtree" /bin/sh -c 'printf "a\nb\n" | tac | tr "\n" " "; pidof nothing; sync && echo ok' 2>&1)
	[ "$v" = "b a ok" ]
	tap $? "$kver: chroot into the staged shutdown environment: its sh, tac, tr, pidof and sync run (got: $v)"
	[ "$sdtree/bin/busybox" -ef "$root/usr/bin/busybox" ] && [ "$sdtree/bin/umount" -ef "$root/usr/bin/busybox" ]
	tap $? "$kver: the shutdown environment's busybox is the image's (a hard link)"
	[ "$(readlink "$root/host")" = /run/loopboot/host ]
	tap $? "$kver: /host in the image leads to the host's mount point (no ln at boot)"
	chroot "$root" /bin/sh -n /scripts/loopboot-functions
	tap $? "$kver: chroot: the image's sh parses loopboot-functions"
	# The image's own sh loads every part and finds each stage's entry.
	mkdir -p "$root/dev"
	[ -e "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3
	# shellcheck disable=SC2016 # run by the image's sh
	chroot "$root" /bin/sh -c '. /scripts/loopboot-functions &&
		for f in loopboot_read_options loopboot_premount loopboot_bottom \
			loopboot_panic loopboot_prepare_shutdown loopboot_state_read; do
			command -v "$f" >/dev/null || exit 1
		done' >/dev/null 2>&1
	tap $? "$kver: chroot: the image's sh loads every part of the boot logic"
	# Without loop= the premount returns before loading the boot logic:
	# its first trace mark ("options") is never written.
	printf 'root=/dev/sda2 ro quiet xloop =x\n' >"$root/cmdline-noloop"
	rm -f "$root/kmsg-noloop"
	LOOPBOOT_CMDLINE=/cmdline-noloop LOOPBOOT_KMSG=/kmsg-noloop \
		timeout 20 chroot "$root" /bin/sh /scripts/local-premount/loopboot >/dev/null 2>&1 &&
		[ ! -e "$root/kmsg-noloop" ]
	tap $? "$kver: chroot: without loop= the premount exits 0 at once, boot logic not loaded"
done
echo "1..$n"
