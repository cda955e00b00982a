# shellcheck shell=bash
# Disk images for the QEMU tests, made without mounting anything on this
# machine's own file systems: mkntfs on a file, files copied in with ntfs-3g
# (FUSE) on that file, then the partition is written at 1 MiB into a disk
# with an MBR partition table.  Also the test root the boots reach.
# shellcheck source=base.sh
. "$(dirname "${BASH_SOURCE[0]}")/base.sh"

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


# lb_extract_partition DISK OUT: a copy of DISK's partition (at 1 MiB, to
# the end), for offline checks after a boot.
lb_extract_partition() {
	dd if="$1" of="$2" bs=1M skip=1 status=none
}
