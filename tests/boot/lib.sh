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

# lb_root_dir DIR [FSTAB_LINE]: the test root's files.
lb_root_dir() {
	local dir=$1
	mkdir -p "$dir/sbin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/run" "$dir/host" \
		"$dir/etc" "$dir/usr"
	cp "$(lb_init_binary)" "$dir/sbin/init"
	printf '%s\n' "${2:-# no other file systems}" >"$dir/etc/fstab"
}

# lb_root_image OUT [SIZE_MB [TYPE [FSTAB_LINE]]]: an image holding the test
# root (ext4 unless TYPE says otherwise).
lb_root_image() {
	local out=$1 size=${2:-16} type=${3:-ext4} dir
	dir=$(mktemp -d "$LB_WORK/root.XXXXXX")
	lb_root_dir "$dir" "${4:-}"
	lb_fs_image "$type" "$dir" "$out" "$size" lbroot
	rm -rf "$dir"
}

# lb_ntfs_disk DISK LABEL FILE_IN_HOST ROOT_IMAGE [SIZE_MB]: a disk with an MBR
# and one NTFS partition (mkntfs) holding ROOT_IMAGE at FILE_IN_HOST.  Prints
# the partition's UUID (its NTFS serial number, as blkid reports it).
lb_ntfs_disk() {
	local disk=$1 label=$2 path=$3 image=$4 size=${5:-64} dir uuid
	dir=$(mktemp -d "$LB_WORK/host.XXXXXX")
	mkdir -p "$dir/$(dirname "$path")"
	cp "$image" "$dir/$path"
	lb_fs_image ntfs "$dir" "$disk.part" "$size" "$label"
	rm -rf "$dir"
	uuid=$(blkid -o value -s UUID "$disk.part")
	lb_assemble_disk "$disk" "$disk.part" 7
	rm -f "$disk.part"
	echo "$uuid"
}

# lb_fs_image TYPE DIR OUT SIZE_MB [LABEL]: a file system of TYPE (ntfs, ext2,
# ext3, ext4, btrfs, xfs, vfat, exfat) holding DIR's files (fully allocated,
# as files made in Windows are: loopattach warns about sparse files).  This machine's kernel
# may lack vfat and exFAT, so those are filled without a kernel mount
# (mtools, exfat-fuse); xfs is filled through a loop mount.
lb_fs_image() {
	local type=$1 dir=$2 out=$3 size=$4 label=${5:-LBHOST} mnt dev=
	rm -f "$out"
	truncate -s "${size}M" "$out"
	case $type in
	ntfs)
		mkntfs -Q -F -p 2048 -H 255 -S 63 -L "$label" "$out" >/dev/null 2>&1 &&
			mnt=$(mktemp -d "$LB_WORK/mnt.XXXXXX") &&
			ntfs-3g "$out" "$mnt" &&
			cp -a --sparse=never "$dir"/. "$mnt"/ &&
			umount "$mnt" && rmdir "$mnt" &&
			# ntfs-3g's daemon writes the last of the volume as it exits.
			while pgrep -f "ntfs-3g $out" >/dev/null; do sleep 0.1; done ;;
	ext2 | ext3 | ext4)
		mkfs."$type" -q -F -L "$label" -d "$dir" "$out" >/dev/null ;;
	btrfs)
		mkfs.btrfs -q -f -L "$label" --rootdir "$dir" "$out" >/dev/null ;;
	vfat)
		mkfs.vfat -n "$label" "$out" >/dev/null &&
			MTOOLS_SKIP_CHECK=1 mcopy -s -i "$out" "$dir"/* ::/ ;;
	exfat | xfs)
		if [ "$type" = exfat ]; then
			mkfs.exfat -L "$label" "$out" >/dev/null
		else
			# mkfs.xfs refuses file systems under 300 MB unless told
			# it runs for tests.
			TEST_DEV=1 TEST_DIR=1 QA_CHECK_FS=1 mkfs.xfs -q -f -L "$label" "$out"
		fi &&
			mnt=$(mktemp -d "$LB_WORK/mnt.XXXXXX") &&
			if [ "$type" = exfat ]; then
				# exfat-fuse wants a block device.
				dev=$(losetup -f --show "$out") &&
					mount.exfat-fuse "$dev" "$mnt" >/dev/null
			else
				mount -o loop "$out" "$mnt"
			fi &&
			cp -a --sparse=never "$dir"/. "$mnt"/ &&
			umount "$mnt" && rmdir "$mnt" &&
			if [ -n "${dev-}" ]; then
				while pgrep -f "mount.exfat-fuse $dev" >/dev/null; do sleep 0.1; done
				losetup -d "$dev"
			fi ;;
	*)
		lb_die "lb_fs_image: unknown type $type" ;;
	esac || lb_die "cannot make a $type file system in $out"
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
# LB_DISK2, when set, is a second disk (vdb).
lb_boot() {
	local kver=$1 disk=$2 log=$3 initrd
	shift 3
	initrd=$(lb_initrd "$kver") || return 1
	timeout "${LB_BOOT_TIMEOUT:-240}" qemu-system-x86_64 -accel tcg -m 768 -smp 1 \
		-display none -monitor none -serial "file:$log" -no-reboot \
		-drive "file=$disk,format=raw,if=virtio" \
		${LB_DISK2:+-drive "file=$LB_DISK2,format=raw,if=virtio"} \
		-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 $*" </dev/null
}
