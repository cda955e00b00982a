# shellcheck shell=bash
# The master disks of the boot tests (tests/boot/run): made once per run in
# $LB_WORK and copied for each scenario, which boots the copy (each boot
# writes to it).  Each is an MBR and one partition of the host's type,
# filled by a setup function; the names are those of scenarios.tsv.
#   master_disk NAME    prints its path (made first if need be); its
#                       partition's UUID is in master-NAME.uuid beside it
#   MASTERS             every master: NAME HOST_TYPE MBR_TYPE SIZE_MB SETUP
#   NTFS_LABEL          the label every host carries (LBHOST)
#   MUTATE              build/tools/ntfs-mutate, which makes the NTFS states
# shellcheck source=../lib/disk.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/disk.sh"

# NTFS states: clean, hibernated (hiberfil.sys starting with "hibr"), dirty
# ($Volume flag), fast-startup ($LogFile version 2.0), torn ($LogFile),
# compressed (the root in an NTFS-compressed file).
NTFS_LABEL=LBHOST
MUTATE=$LB_TOP/build/tools/ntfs-mutate

# The usual host: the test root at /linux/root.img and "/My Linux/root.img",
# and files that are not file systems.
setup_standard() {
	mkdir -p "$1/linux" "$1/My Linux" "$1/Windows"
	lb_root_image "$1/linux/root.img" 24
	cp "$1/linux/root.img" "$1/My Linux/root.img"
	: >"$1/linux/empty.img"
	head -c 1048576 /dev/zero >"$1/linux/zero.img"
	# A root whose superblock claims more blocks than the file holds:
	# still ext4 to blkid, but fsck gives up (exit 4) and mount refuses.
	cp "$1/linux/root.img" "$1/linux/broken.img"
	debugfs -w -R 'ssv blocks_count 999999' "$1/linux/broken.img" >/dev/null 2>&1 ||
		lb_die "debugfs could not break the test image's superblock"
}
setup_hibernated() {
	setup_standard "$1"
	{ printf 'hibr'; head -c 65532 /dev/zero; } >"$1/hiberfil.sys"
}
# A separate /usr image, listed in the root's fstab as Debian allows.
setup_usr() {
	local usr
	mkdir -p "$1/linux"
	lb_root_image "$1/linux/root.img" 24 ext4 '/host/linux/usr.img /usr ext4 loop 0 2'
	usr=$(mktemp -d "$LB_WORK/usr.XXXXXX")
	echo "the /usr image" >"$usr/lbtest-usr-marker"
	lb_fs_image ext4 "$usr" "$1/linux/usr.img" 8 lbusr
	rm -rf "$usr"
}
# Every image type a root can be in, made once and copied into each host
# that holds them: /linux/<type>.img, beside the usual files.
IMAGE_TYPES="ext2 ext3 btrfs xfs"
image_size() { case $1 in btrfs) echo 128 ;; xfs) echo 96 ;; *) echo 24 ;; esac; }
setup_images() {
	local t
	setup_standard "$1"
	for t in $IMAGE_TYPES; do
		[ -s "$LB_WORK/image-$t.img" ] ||
			lb_root_image "$LB_WORK/image-$t.img" "$(image_size "$t")" "$t"
		cp "$LB_WORK/image-$t.img" "$1/linux/$t.img"
	done
}

# /linux/c/root.img, compressed by NTFS: ntfs-3g compresses new files in a
# directory with the compressed attribute (0x800, set through the
# attribute ntfs-3g exposes).
compress_in_ntfs() { # PARTITION_FILE
	local mnt ok=1
	mnt=$(mktemp -d "$LB_WORK/mnt.XXXXXX")
	ntfs-3g "$1" "$mnt" || lb_die "cannot mount $1 with ntfs-3g"
	if mkdir "$mnt/linux/c" &&
		setfattr -n system.ntfs_attrib_be -v 0x00000810 "$mnt/linux/c" &&
		cp --sparse=never "$mnt/linux/root.img" "$mnt/linux/c/root.img" &&
		getfattr --absolute-names -n system.ntfs_attrib_be -e hex "$mnt/linux/c/root.img" |
		grep -q '=0x.....[89a-f]..$'; then
		ok=0
	fi
	umount "$mnt"
	while pgrep -f "ntfs-3g $1" >/dev/null; do sleep 0.1; done
	rmdir "$mnt"
	[ "$ok" = 0 ] || lb_die "cannot make a compressed file on $1"
}

# The dirty flag a crashed or hibernated Windows leaves on FAT and exFAT:
# the boot sector's (FAT16 0x25 bit 0, FAT32 0x41 bit 0, exFAT
# VolumeFlags 106 bit 1, outside its checksum).
mark_fat_dirty() { # PARTITION_FILE
	local off=$((0x25)) flag='\001'
	if [ "$(dd if="$1" bs=1 skip=3 count=5 status=none)" = EXFAT ]; then
		off=106 flag='\002'
	elif [ "$(dd if="$1" bs=1 skip=$((0x52)) count=5 status=none)" = FAT32 ]; then
		off=$((0x41))
	fi
	# shellcheck disable=SC2059 # the flag is an octal escape
	printf "$flag" | dd of="$1" bs=1 seek="$off" conv=notrunc status=none ||
		lb_die "cannot mark $1 dirty"
}

# Every master disk the scenarios use: NAME HOST_TYPE MBR_TYPE SIZE_MB SETUP.
MASTERS="ntfs-clean ntfs 7 128 setup_standard
ntfs-hibernated ntfs 7 128 setup_hibernated
ntfs-dirty ntfs 7 128 setup_standard
ntfs-fast-startup ntfs 7 128 setup_standard
ntfs-torn ntfs 7 128 setup_standard
ntfs-compressed ntfs 7 128 setup_standard
ext4-root ext4 83 24 lb_root_dir
host-ntfs ntfs 7 400 setup_images
host-ext4 ext4 83 400 setup_images
host-btrfs btrfs 83 480 setup_images
host-vfat vfat c 400 setup_images
host-exfat exfat 7 400 setup_images
fat-dirty vfat c 128 setup_standard
fat-clean vfat c 128 setup_standard
exfat-dirty exfat 7 128 setup_standard
usr ntfs 7 96 setup_usr"

# master_disk NAME: prints the path of master disk NAME, made first if
# need be (its partition's UUID goes to master-NAME.uuid beside it).
master_disk() {
	local name=$1 type mbr size setup disk dir part
	read -r _ type mbr size setup < <(printf '%s\n' "$MASTERS" | grep "^$name ") ||
		lb_die "no master disk $name"
	disk=$LB_WORK/master-$name.img
	if [ ! -s "$disk" ]; then
		dir=$(mktemp -d "$LB_WORK/hostdir.XXXXXX")
		"$setup" "$dir"
		part=$LB_WORK/master-$name.part
		lb_fs_image "$type" "$dir" "$part" "$size" "$NTFS_LABEL"
		case $name in
		ntfs-dirty) "$MUTATE" "$part" dirty || lb_die "ntfs-mutate dirty failed" ;;
		ntfs-fast-startup) "$MUTATE" "$part" log-fast-startup || lb_die "ntfs-mutate failed" ;;
		# A power cut while Windows rewrote the newer restart page of
		# $LogFile: only its first sector reached the disk.
		ntfs-torn) "$MUTATE" "$part" log-torn 0 1.1 || lb_die "ntfs-mutate log-torn failed" ;;
		ntfs-compressed) compress_in_ntfs "$part" ;;
		fat-dirty | exfat-dirty) mark_fat_dirty "$part" ;;
		esac
		blkid -o value -s UUID "$part" >"$LB_WORK/master-$name.uuid"
		lb_assemble_disk "$disk.tmp" "$part" "$mbr"
		rm -rf "$dir" "$part"
		mv "$disk.tmp" "$disk"
	fi
	echo "$disk"
}
