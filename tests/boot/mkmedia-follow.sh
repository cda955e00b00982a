#!/bin/bash
# loopboot-mkmedia --follow: media with GRUB only, which find the NTFS
# partition by UUID, open the image with loopback and load the kernel and
# initramfs from inside it, through the image's own menu
# (/boot/loopboot/grub.cfg, written by loopboot's kernel hook) or else
# /vmlinuz and /initrd.img.  The image holds Debian 12's two kernels, the
# links and the menu naming 6.12 first; the stick boots by UEFI (Secure
# Boot off) into 6.12 through the image's menu.  Then 6.12 is removed
# inside the image, the links moved to 6.1 and the menu written again, as
# apt and the hook do, and the same stick shows the new menu and boots by
# BIOS into 6.1.  With Secure Boot on, Debian 12's signed GRUB cannot read
# NTFS: that boot must stop in GRUB with loopboot's message, as documented
# (Debian 13's can: tests/boot/esp.sh boots such a stick under Secure Boot).
#
#   tests/boot/mkmedia-follow.sh     TAP; logs in build/boot-follow/NAME/serial.log
#   LB_JOBS=1                        one guest at a time (default 2)
set -u
LB_WORK=${LB_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/build/boot-follow}
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=../lib/expect.sh
. "$(dirname "$0")/../lib/expect.sh"
# shellcheck source=../lib/disk.sh
. "$(dirname "$0")/../lib/disk.sh"
# shellcheck source=../lib/qemu.sh
. "$(dirname "$0")/../lib/qemu.sh"

# shellcheck source=../lib/mkmedia.sh
. "$(dirname "$0")/../lib/mkmedia.sh"
OVMF=/usr/share/OVMF
for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd OVMF_CODE_4M.secboot.fd OVMF_VARS_4M.ms.fd; do
	[ -r "$OVMF/$f" ] || lb_die "$OVMF/$f: not found; install the package ovmf (make deps)"
done
knew=$(lb_kernel 6.12) || lb_die "no Debian 6.12 kernel (tests/release/prepare bookworm)"
kold=$(lb_kernel 6.1) || lb_die "no Debian 6.1 kernel (tests/release/prepare bookworm)"
rm -rf "$LB_WORK"
mkdir -p "$LB_WORK"
start=$SECONDS

# --- the image: both kernels, Debian's links naming 6.12 ---------------------------
root=$LB_WORK/rootdir
lb_root_dir "$root"
mkdir -p "$root/boot"
for k in "$knew" "$kold"; do
	if ! cp "$(lb_vmlinuz "$k")" "$root/boot/" || ! cp "$(lb_initrd "$k")" "$root/boot/initrd.img-$k"; then
		lb_die "cannot put kernel $k in the image"
	fi
done
ln -s "boot/vmlinuz-$knew" "$root/vmlinuz"
ln -s "boot/initrd.img-$knew" "$root/initrd.img"
# The menu of the image's kernels, as loopboot's kernel hook writes it.
LOOPBOOT_BOOT_DIR=$root/boot "$LB_TOP/helpers/loopboot-kernel-menu" --create
grep -q "lb_boot /boot/vmlinuz-$knew" "$root/boot/loopboot/grub.cfg"
tap $? "the kernel hook wrote the image's menu (/boot/loopboot/grub.cfg) with both kernels"
lb_fs_image ext4 "$root" "$LB_WORK/root.img" 72 lbroot
rm -rf "$root"
uuid=$(lb_ntfs_disk "$LB_WORK/disk.img" LBHOST "My Linux/root.img" "$LB_WORK/root.img" 112) || exit 1
rm -f "$LB_WORK/root.img"
append="root=UUID=$uuid \"loop=/My Linux/root.img\" rw panic=-1"

"$mkmedia" --follow --append "$append" --serial --timeout 1 --iso "$LB_WORK/follow.iso" \
	>"$LB_WORK/mkmedia.log" 2>&1
tap $? "loopboot-mkmedia --follow --iso (see $LB_WORK/mkmedia.log)" || sed 's/^/# /' "$LB_WORK/mkmedia.log"
grep -q 'not NTFS or exFAT' "$LB_WORK/mkmedia.log"
tap $? "--follow: warns that Debian's signed GRUB cannot read NTFS (Secure Boot off then)"
xorriso -indev "$LB_WORK/follow.iso" -find / -name 'vmlinuz*' 2>/dev/null >"$LB_WORK/iso-kernels"
! grep -q vmlinuz "$LB_WORK/iso-kernels" && [ "$(stat -c %s "$LB_WORK/follow.iso")" -lt $((40 * 1024 * 1024)) ]
tap $? "--follow: no kernel on the media ($(stat -c %s "$LB_WORK/follow.iso") bytes)"
echo "# inputs ready after $((SECONDS - start)) s"

# UNTIL: a regex of the serial log that ends the boot early (a stop in GRUB).
boot() { # NAME SECONDS UNTIL DISK QEMU_OPTIONS...
	local name=$1 secs=$2 until=$3 disk=$4 dir=$LB_WORK/$1 t0=$SECONDS
	shift 4
	mkdir -p "$dir"
	cp --sparse=always "$disk" "$dir/disk.img"
	# A boot index for the disk too: OVMF connects only the devices in the
	# boot order, and GRUB must see the disk to find the partition.
	lb_qemu_until "$dir/serial.log" "$until" -t "$secs" -s "file:$dir/serial.log" -nic none \
		-drive "file=$dir/disk.img,format=raw,if=none,id=hd" -device virtio-blk-pci,drive=hd,bootindex=1 \
		"$@" </dev/null >"$dir/qemu.log" 2>&1
	echo "$? $((SECONDS - t0))" >"$dir/result"
	rm -f "$dir/disk.img" "$dir/vars.fd"
}
stick=(-device qemu-xhci -drive "file=$LB_WORK/follow.iso,format=raw,if=none,id=stick,snapshot=on"
	-device "usb-storage,drive=stick,bootindex=0")
boot_uefi() {
	mkdir -p "$LB_WORK/uefi"
	cp "$OVMF/OVMF_VARS_4M.fd" "$LB_WORK/uefi/vars.fd"
	boot uefi "${LB_BOOT_TIMEOUT:-300}" '^$.' "$LB_WORK/disk.img" -machine q35 \
		-drive "if=pflash,format=raw,readonly=on,file=$OVMF/OVMF_CODE_4M.fd" \
		-drive "if=pflash,format=raw,file=$LB_WORK/uefi/vars.fd" "${stick[@]}"
}
boot_secureboot() {
	mkdir -p "$LB_WORK/secureboot"
	cp "$OVMF/OVMF_VARS_4M.ms.fd" "$LB_WORK/secureboot/vars.fd"
	boot secureboot "${LB_REFUSED_TIMEOUT:-120}" 'you need to load the kernel first|Linux version' \
		"$LB_WORK/disk.img" \
		-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-global ICH9-LPC.disable_s3=1 \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF/OVMF_CODE_4M.secboot.fd" \
		-drive "if=pflash,format=raw,unit=1,file=$LB_WORK/secureboot/vars.fd" "${stick[@]}"
}
# After the "update": the links name 6.1 (the same disk otherwise).
boot_bios_updated() {
	boot bios-updated "${LB_BOOT_TIMEOUT:-300}" '^$.' "$LB_WORK/disk-updated.img" \
		-drive "file=$LB_WORK/follow.iso,format=raw,if=none,id=iso,snapshot=on" \
		-device virtio-blk-pci,drive=iso,bootindex=0
}

# The kernel update, offline: inside the image on the NTFS partition, the
# newer kernel removed, the links moved to the other one and the menu
# written again by the kernel hook, as apt would leave them (debugfs,
# nothing mounted but the NTFS).
update_kernel_links() {
	local part=$LB_WORK/part.img mnt=$LB_WORK/mnt img kb=$LB_WORK/kb
	lb_extract_partition "$LB_WORK/disk.img" "$part"
	mkdir -p "$mnt" "$kb"
	touch "$kb/vmlinuz-$kold" "$kb/initrd.img-$kold"
	LOOPBOOT_BOOT_DIR=$kb "$LB_TOP/helpers/loopboot-kernel-menu" --create || return 1
	ntfs-3g "$part" "$mnt" || return 1
	img="$mnt/My Linux/root.img"
	if ! { debugfs -w -R "rm /boot/vmlinuz-$knew" "$img" &&
		debugfs -w -R "rm /boot/initrd.img-$knew" "$img" &&
		debugfs -w -R "rm /boot/loopboot/grub.cfg" "$img" &&
		debugfs -w -R "write $kb/loopboot/grub.cfg /boot/loopboot/grub.cfg" "$img" &&
		debugfs -R "cat /boot/loopboot/grub.cfg" "$img" | grep -q "lb_boot /boot/vmlinuz-$kold" &&
		! debugfs -R "cat /boot/loopboot/grub.cfg" "$img" | grep -q "vmlinuz-$knew" &&
		debugfs -w -R "rm /vmlinuz" "$img" &&
		debugfs -w -R "rm /initrd.img" "$img" &&
		debugfs -w -R "symlink /vmlinuz boot/vmlinuz-$kold" "$img" &&
		debugfs -w -R "symlink /initrd.img boot/initrd.img-$kold" "$img" &&
		debugfs -R "stat /vmlinuz" "$img" | grep -qF "Fast link dest: \"boot/vmlinuz-$kold\"" &&
		e2fsck -fn "$img"; }; then
		umount "$mnt"
		return 1
	fi
	umount "$mnt" || return 1
	while pgrep -f "ntfs-3g $part" >/dev/null; do sleep 0.1; done
	cp --sparse=always "$LB_WORK/disk.img" "$LB_WORK/disk-updated.img" &&
		dd if="$part" of="$LB_WORK/disk-updated.img" bs=1M seek=1 conv=notrunc,sparse status=none &&
		rm -rf "$part" "$kb" && rmdir "$mnt"
} >"$LB_WORK/update.log" 2>&1

boot_uefi &
[ "${LB_JOBS:-2}" -ge 2 ] || wait
update_kernel_links
tap $? "inside the image: $knew removed, the links and the menu name $kold (see $LB_WORK/update.log)"
[ "${LB_JOBS:-2}" -ge 2 ] || wait
boot_bios_updated &
[ "${LB_JOBS:-2}" -ge 2 ] || wait -n
boot_secureboot &
wait

for name in uefi bios-updated secureboot; do
	read -r rc secs <"$LB_WORK/$name/result"
	echo "# $name: QEMU exit $rc after $secs s"
	failed_before=$failed
	log=$LB_WORK/$name/serial.log
	TAP_PREFIX="$name: "
	case $name in
	secureboot)
		expect_log 'secureboot|Secure Boot|shim|GNU GRUB' "shim and GRUB started"
		expect_log 'prohibited by secure boot policy' "GRUB refuses to load its ntfs module under Secure Boot"
		expect_log "loopboot: no partition UUID=$uuid; Secure Boot on" \
			"signed GRUB cannot read the NTFS partition: loopboot's message"
		expect_no_log 'Linux version' "no kernel started"
		;;
	*)
		if [ "$name" = uefi ]; then want=$knew other=$kold; else want=$kold other=$knew; fi
		expect_log 'Debian in /My Linux/root.img \(newest kernel in the image\)' "GRUB's menu"
		expect_log "Debian GNU/Linux, with Linux ${want//+/\\+}" "the image's own menu names $want"
		if [ "$name" = uefi ]; then
			expect_log "Debian GNU/Linux, with Linux ${other//+/\\+}" "... and $other"
		else
			expect_no_log "Debian GNU/Linux, with Linux ${other//+/\\+}" "... and no more $other (removed)"
		fi
		expect_log "^LBTEST cmdline BOOT_IMAGE=\\(lb_root\\)/boot/vmlinuz-${want//+/\\+} " \
			"the first entry, the image's menu's, booted: /boot/vmlinuz-$want inside the image"
		expect_log "Linux version ${want//+/\\+} " "the kernel the image's menu and links name: $want"
		expect_log '^LBTEST reached root-in-file' "the init in the file ran"
		expect_log '^LBTEST mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
		expect_log 'loopboot: root file system /My Linux/root.img on /dev/vda1' \
			"loopboot read loop= with its space intact"
		if [ "$name" = uefi ]; then
			expect_log 'efi: EFI v' "booted by UEFI"
		else
			expect_no_log 'efi: EFI v' "booted by BIOS"
		fi
		;;
	esac
	TAP_PREFIX=
	if [ "$failed" -gt "$failed_before" ]; then
		echo "# $name serial log (last 30 lines):"
		tail -n 30 "$log" | sed 's/^/#   /'
	fi
done
echo "# total $((SECONDS - start)) s"
if [ "$failed" = 0 ]; then
	rm -f "$LB_WORK"/*.img "$LB_WORK/follow.iso"
fi
