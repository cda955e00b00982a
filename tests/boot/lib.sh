# shellcheck shell=bash
# Shared by the boot tests and the demo: kernels, initramfs images built
# from the installed package's files, disk images, QEMU.
#
# Disk images are made without mounting anything on this machine: mkntfs on
# a file, files copied in with ntfs-3g (FUSE) on that file, then the
# partition is written at 1 MiB into a disk with an MBR partition table.

LB_TOP=${LB_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LB_WORK=${LB_WORK:-$LB_TOP/build/boot}
mkdir -p "$LB_WORK"

lb_die() {
	echo "tests/boot: $*" >&2
	exit 1
}

# The kernel version of Debian 12's 6.1 (no ntfs3) or 6.12 (ntfs3) kernel.
lb_kernel() {
	local series=$1 k
	k=$(find /boot -maxdepth 1 -name "vmlinuz-$series.*" | sort -V | tail -n 1)
	[ -n "$k" ] || return 1
	basename "$k" | sed 's/^vmlinuz-//'
}

# An initramfs for kernel $1 built by mkinitramfs from a private copy of
# /etc/initramfs-tools, i.e. from what the installed package put there, with
# a small module list so that a boot under TCG takes seconds, not minutes.
# Cached per kernel for one test run ($LB_WORK is cleared by tests/boot/run).
lb_initrd() {
	local kver=$1 out=$LB_WORK/initrd-$1.img conf
	if [ -s "$out" ]; then
		echo "$out"
		return 0
	fi
	conf=$(mktemp -d "$LB_WORK/conf.XXXXXX")
	cp -a /etc/initramfs-tools/. "$conf/"
	sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^COMPRESS=.*/COMPRESS=zstd/' \
		-e 's/^BUSYBOX=.*/BUSYBOX=y/' "$conf/initramfs.conf"
	printf '%s\n' virtio_pci virtio_blk ata_piix sd_mod ahci >"$conf/modules"
	if ! mkinitramfs -d "$conf" -o "$out.tmp" "$kver" >"$LB_WORK/mkinitramfs-$kver.log" 2>&1; then
		cat "$LB_WORK/mkinitramfs-$kver.log" >&2
		lb_die "mkinitramfs failed for $kver"
	fi
	mv "$out.tmp" "$out"
	rm -rf "$conf"
	echo "$out"
}

# The test root's static init.
lb_init_binary() {
	local out=$LB_WORK/init
	[ -x "$out" ] && [ "$out" -nt "$LB_TOP/tests/boot/init.c" ] && {
		echo "$out"
		return
	}
	gcc -static -O2 -Wall -Wextra -Werror -o "$out" "$LB_TOP/tests/boot/init.c" ||
		lb_die "cannot build the test init"
	echo "$out"
}

# lb_root_image OUT [SIZE_MB]: an ext4 image holding the test root.
lb_root_image() {
	local out=$1 size=${2:-16} dir
	dir=$(mktemp -d "$LB_WORK/root.XXXXXX")
	mkdir -p "$dir/sbin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/run" "$dir/host" "$dir/etc" "$dir/usr"
	cp "$(lb_init_binary)" "$dir/sbin/init"
	: >"$dir/etc/fstab"
	rm -f "$out"
	mkfs.ext4 -q -F -L lbroot -d "$dir" "$out" "${size}M" || lb_die "mkfs.ext4 $out failed"
	rm -rf "$dir"
}

# lb_ntfs_disk DISK LABEL FILE_IN_HOST ROOT_IMAGE [SIZE_MB]: a disk with an MBR and
# one NTFS partition (mkntfs) holding ROOT_IMAGE at FILE_IN_HOST.  Prints the
# partition's UUID (its NTFS serial number, as blkid reports it).
lb_ntfs_disk() {
	local disk=$1 label=$2 path=$3 image=$4 size=${5:-64} part mnt uuid
	part=$disk.part
	mnt=$(mktemp -d "$LB_WORK/mnt.XXXXXX")
	rm -f "$part"
	truncate -s "${size}M" "$part"
	mkntfs -Q -F -p 2048 -H 255 -S 63 -L "$label" "$part" >/dev/null 2>&1 ||
		lb_die "mkntfs $part failed"
	ntfs-3g "$part" "$mnt" || lb_die "ntfs-3g $part failed"
	mkdir -p "$mnt/$(dirname "$path")"
	# Fully allocated, as a file made in Windows is: loopattach warns about
	# sparse files.
	cp --sparse=never "$image" "$mnt/$path"
	umount "$mnt"
	# ntfs-3g's daemon writes the last of the volume when it exits.
	while pgrep -f "ntfs-3g $part" >/dev/null; do sleep 0.1; done
	rmdir "$mnt"
	uuid=$(blkid -o value -s UUID "$part")
	lb_assemble_disk "$disk" "$part" 7
	rm -f "$part"
	echo "$uuid"
}

# lb_assemble_disk DISK PARTITION_FILE MBR_TYPE: DISK = MBR + the partition at 1 MiB.
lb_assemble_disk() {
	local disk=$1 part=$2 type=$3 bytes
	bytes=$(stat -c %s "$part")
	rm -f "$disk"
	truncate -s $((bytes + 2 * 1024 * 1024)) "$disk"
	echo "start=2048, size=$((bytes / 512)), type=$type" |
		sfdisk -q --label dos "$disk" >/dev/null || lb_die "sfdisk $disk failed"
	dd if="$part" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none ||
		lb_die "dd $part into $disk failed"
}

# lb_boot KVER DISK LOG CMDLINE...: boot under QEMU (TCG), serial console to
# LOG; returns when the guest powers off, panics (panic=-1) or times out.
lb_boot() {
	local kver=$1 disk=$2 log=$3 initrd
	shift 3
	initrd=$(lb_initrd "$kver") || return 1
	timeout "${LB_BOOT_TIMEOUT:-240}" qemu-system-x86_64 -accel tcg -m 768 -smp 1 \
		-display none -monitor none -serial "file:$log" -no-reboot \
		-drive "file=$disk,format=raw,if=virtio" \
		-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 $*" </dev/null
}
