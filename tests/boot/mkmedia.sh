#!/bin/bash
# loopboot-mkmedia's media, booted in QEMU (TCG) on Debian 12's 6.12 kernel
# against a disk whose NTFS partition holds the test root at
# "/My Linux/root.img": the ISO by BIOS (default machine) and by UEFI (OVMF,
# q35), and the PXE files over QEMU's own user-mode network and TFTP server
# (its built-in iPXE runs boot.ipxe, by BIOS and by UEFI, or chains
# PXELINUX); the ISO also as a USB stick, by UEFI.  Each must reach
# the init in the file, with the spaced path read back intact.  Two boots
# run at a time.  The serial console entries are the default (--serial), so
# the menus and the boot are in the serial log.
#
#   tests/boot/mkmedia.sh     TAP; logs in build/boot-mkmedia/NAME/serial.log
set -u
LB_WORK=${LB_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/build/boot-mkmedia}
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
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
for f in "$OVMF_CODE" "$OVMF_VARS"; do
	[ -r "$f" ] || lb_die "$f: not found; install the package ovmf (make deps)"
done

kver=$(lb_kernel 6.12) || lb_die "no Debian 6.12 kernel (tests/release/prepare bookworm)"
rm -rf "$LB_WORK"
mkdir -p "$LB_WORK"
start=$SECONDS

# --- inputs: initramfs (installed package's files), disk, media ------------------
# tests/boot/run, just before in make check, built the same initramfs the
# same way (lb_initrd): reuse it when it is newer than the package installed
# in the kernel's release tree.
ran=$LB_TOP/build/boot/initrd-$kver.img
troot=$(lb_kernel_root "$kver")
if [ -s "$ran" ] && [ "$ran" -nt "$troot/var/lib/dpkg/info/loopboot.list" ] &&
	[ "$ran" -nt "$troot/etc/initramfs-tools/initramfs.conf" ]; then
	cp "$ran" "$LB_WORK/initrd-$kver.img"
	echo "# reusing $ran"
fi
initrd=$(lb_initrd "$kver") || exit 1
lb_root_image "$LB_WORK/root.img" 16
uuid=$(lb_ntfs_disk "$LB_WORK/disk.img" LBHOST "My Linux/root.img" "$LB_WORK/root.img" 64) ||
	exit 1
rm -f "$LB_WORK/root.img"
# GRUB's quoting; panic=-1 turns a failed boot into a QEMU exit.
append="root=UUID=$uuid \"loop=/My Linux/root.img\" rw panic=-1"

media() { # NAME OPTIONS...: run loopboot-mkmedia, one TAP line
	local what=$1
	shift
	"$mkmedia" --vmlinuz "$(lb_vmlinuz "$kver")" --initrd "$initrd" --append "$append" \
		--serial --timeout 1 "$@" >"$LB_WORK/mkmedia-$what.log" 2>&1
	tap $? "loopboot-mkmedia $* (see $LB_WORK/mkmedia-$what.log)" || sed 's/^/# /' "$LB_WORK/mkmedia-$what.log"
}
media iso --iso "$LB_WORK/loopboot.iso"
media pxe --pxe "$LB_WORK/tftp"

"$mkmedia" --append "$append" --print >"$LB_WORK/print" 2>&1
grep -qxF "root=UUID=$uuid \"loop=/My Linux/root.img\" rw panic=-1" "$LB_WORK/print"
tap $? "--print: the kernel line as given, spaced path in GRUB's quoting ($(cat "$LB_WORK/print"))"
# The line derived from a boot through loopboot, faked: its state and kernel
# line, the host being the real NTFS partition (blkid reads its UUID).
lb_extract_partition "$LB_WORK/disk.img" "$LB_WORK/host.part"
printf "LOOPBOOT_HOST_DEV='%s'\nLOOPBOOT_LOOP_FILE='/My Linux/root.img'\n" "$LB_WORK/host.part" \
	>"$LB_WORK/state"
echo 'BOOT_IMAGE=/vmlinuz root=/dev/sda2 loop="/My Linux/root.img" rw quiet' >"$LB_WORK/cmdline"
LOOPBOOT_STATE=$LB_WORK/state LOOPBOOT_CMDLINE=$LB_WORK/cmdline "$mkmedia" --print >"$LB_WORK/derived" 2>&1
grep -qxF "root=UUID=$uuid \"loop=/My Linux/root.img\" rw" "$LB_WORK/derived"
tap $? "derived from a (faked) loopboot boot: the same line, by the partition's UUID ($(cat "$LB_WORK/derived"))"
rm -f "$LB_WORK/host.part"
echo "# inputs ready after $((SECONDS - start)) s"

# --- boots ------------------------------------------------------------------------
# Each boot gets its own copy of the disk (the booted system writes to it).
boot() { # NAME QEMU_OPTIONS...
	local name=$1 dir=$LB_WORK/$1
	shift
	mkdir -p "$dir"
	cp --sparse=always "$LB_WORK/disk.img" "$dir/disk.img"
	local t0=$SECONDS
	lb_qemu -t "${LB_BOOT_TIMEOUT:-300}" -s "file:$dir/serial.log" \
		-drive "file=$dir/disk.img,format=raw,if=virtio" "$@" </dev/null \
		>"$dir/qemu.log" 2>&1
	echo "$? $((SECONDS - t0))" >"$dir/result"
	rm -f "$dir/disk.img"
}
boot_bios() { boot bios -cdrom "$LB_WORK/loopboot.iso" -boot d; }
uefi() { # NAME QEMU_OPTIONS...: q35 with OVMF, its own copy of the variables
	local name=$1
	shift
	cp "$OVMF_VARS" "$LB_WORK/$name-vars.fd"
	boot "$name" -machine q35 \
		-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,file=$LB_WORK/$name-vars.fd" "$@"
}
boot_uefi() {
	uefi uefi -drive "file=$LB_WORK/loopboot.iso,format=raw,media=cdrom,if=none,id=cd" \
		-device ide-cd,drive=cd,bootindex=0
}
# The image written raw to a USB stick (snapshot: the image stays as made).
boot_uefi_stick() {
	uefi uefi-stick -device qemu-xhci \
		-drive "file=$LB_WORK/loopboot.iso,format=raw,if=none,id=stick,snapshot=on" \
		-device usb-storage,drive=stick,bootindex=0
}
boot_ipxe() {
	boot ipxe -netdev "user,id=n0,tftp=$LB_WORK/tftp,bootfile=boot.ipxe" \
		-device e1000,netdev=n0 -boot n
}
# QEMU's UEFI iPXE (the network card's EFI ROM under OVMF).
boot_ipxe_uefi() {
	uefi ipxe-uefi -netdev "user,id=n0,tftp=$LB_WORK/tftp,bootfile=boot.ipxe" \
		-device e1000,netdev=n0,bootindex=0
}
boot_pxelinux() {
	boot pxelinux -netdev "user,id=n0,tftp=$LB_WORK/tftp,bootfile=pxelinux.0" \
		-device e1000,netdev=n0 -boot n
}
# Two at a time (LB_JOBS), longest first; LB_BOOTS: only these.
read -ra names <<<"${LB_BOOTS:-uefi uefi-stick ipxe-uefi bios ipxe pxelinux}"
for name in "${names[@]}"; do
	[ "$(jobs -rp | wc -l)" -lt "${LB_JOBS:-2}" ] || wait -n
	"boot_${name//-/_}" &
done
wait

# --- what each boot reached ------------------------------------------------------------
# TAP lines "ok N - NAME: ..." (expect_log reads $log).
for name in "${names[@]}"; do
	read -r rc secs <"$LB_WORK/$name/result"
	echo "# $name: QEMU exit $rc after $secs s"
	failed_before=$failed
	log=$LB_WORK/$name/serial.log
	TAP_PREFIX="$name: "
	expect_log '^LBTEST reached root-in-file' "the init in the file ran"
	expect_log '^LBTEST mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
	expect_log '^LBTEST mount /dev/vda1 /run/loopboot/host ntfs3 rw' "the NTFS host is mounted (ntfs3)"
	expect_log 'loopboot: root file system /My Linux/root.img on /dev/vda1' \
		"loopboot read loop= with its space intact"
	expect_log '^LBTEST cmdline .*"loop=/My Linux/root.img" rw panic=-1 console=tty0 console=ttyS0,115200n8' \
		"the kernel got the spaced path in double quotes, then the serial entry's console="
	case $name in
	bios | uefi*) expect_log 'Debian in /My Linux/root.img' "GRUB's menu is on the serial console" ;;
	# iPXE's own menu is on the screen only; its entries alone add initrd=
	# (after the image's name, by UEFI).
	ipxe*) expect_log '^LBTEST cmdline (vmlinuz-loopboot )?initrd=initrd.img-loopboot root=' \
		"the kernel line came from boot.ipxe" ;;
	pxelinux) expect_log 'PXELINUX' "PXELINUX ran" ;;
	esac
	if [ "${name%-stick}" = uefi ] || [ "$name" = ipxe-uefi ]; then
		expect_log 'efi: EFI v' "booted by UEFI (the kernel found EFI firmware)"
	else
		expect_no_log 'efi: EFI v' "booted by BIOS, not UEFI"
	fi
	TAP_PREFIX=
	# The serial log, for a failing boot, helps more than anything else.
	if [ "$failed" -gt "$failed_before" ]; then
		echo "# $name serial log (last 40 lines):"
		tail -n 40 "$log" | sed 's/^/#   /'
	fi
done
echo "# total $((SECONDS - start)) s"
# The large inputs go when all went well; the logs stay.
if [ "$failed" = 0 ]; then
	rm -rf "$LB_WORK/disk.img" "$LB_WORK/loopboot.iso" "$LB_WORK/tftp" "$LB_WORK"/*-vars.fd
fi
