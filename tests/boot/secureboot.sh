#!/bin/bash
# loopboot-mkmedia's ISO booted by UEFI with Secure Boot on: QEMU (TCG, q35
# with SMM, a secure flash) with OVMF's Secure Boot build and Microsoft's
# keys enrolled (Debian's ovmf: OVMF_CODE_4M.secboot.fd, OVMF_VARS_4M.ms.fd),
# Debian's signed chain (shim-signed, grub-efi-amd64-signed) and Debian 12's
# signed 6.1 kernel.  The ISO as a CD and written to a USB stick must reach
# the init in the file with the kernel saying Secure Boot is on; the same
# media made without the signed packages (unsigned GRUB) must be refused by
# the firmware: the control that shows the check is real.  Also: the warning
# for an unsigned kernel (Debian 12's 6.12 is one).
#
#   tests/boot/secureboot.sh     TAP; logs in build/boot-secureboot/NAME/serial.log
#   LB_JOBS=1                    one guest at a time (default 2)
set -u
LB_WORK=${LB_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/build/boot-secureboot}
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
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
for f in "$OVMF_CODE" "$OVMF_VARS"; do
	[ -r "$f" ] || lb_die "$f: not found; install the package ovmf (make deps)"
done
for f in /usr/lib/shim/shimx64.efi.signed /usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed; do
	[ -r "$f" ] || lb_die "$f: not found; install shim-signed and grub-efi-amd64-signed (make deps)"
done
kver=$(lb_kernel 6.1) || lb_die "no Debian 6.1 kernel (tests/release/prepare bookworm)"
vmlinuz=$(lb_vmlinuz "$kver")
rm -rf "$LB_WORK"
mkdir -p "$LB_WORK"
start=$SECONDS

# --- inputs ---------------------------------------------------------------------
sbverify --list "$vmlinuz" 2>/dev/null | grep -q 'Debian Secure Boot'
tap $? "vmlinuz-$kver carries Debian's signature (sbverify --list)"
initrd=$(lb_initrd "$kver") || exit 1
lb_root_image "$LB_WORK/root.img" 16
uuid=$(lb_ntfs_disk "$LB_WORK/disk.img" LBHOST "My Linux/root.img" "$LB_WORK/root.img" 64) ||
	exit 1
rm -f "$LB_WORK/root.img"
append="root=UUID=$uuid \"loop=/My Linux/root.img\" rw panic=-1"

media() { # NAME VMLINUZ OPTIONS...: run loopboot-mkmedia, output in mkmedia-NAME.log
	local what=$1 vmlinuz=$2
	shift 2
	"$mkmedia" --vmlinuz "$vmlinuz" --initrd "$initrd" --append "$append" \
		--serial --timeout 1 --iso "$LB_WORK/$what.iso" "$@" >"$LB_WORK/mkmedia-$what.log" 2>&1
}
media signed "$vmlinuz"
tap $? "loopboot-mkmedia --iso, signed kernel (see $LB_WORK/mkmedia-signed.log)" ||
	sed 's/^/# /' "$LB_WORK/mkmedia-signed.log"
grep -q 'Secure Boot: shim, GRUB signed by Debian' "$LB_WORK/mkmedia-signed.log" &&
	! grep -q 'not signed' "$LB_WORK/mkmedia-signed.log"
tap $? "signed chain and kernel: says Secure Boot, no warning ($(tr '\n' ' ' <"$LB_WORK/mkmedia-signed.log"))"
# The boot files on the image are Debian's signed ones, byte for byte.
mkdir -p "$LB_WORK/efi"
xorriso -osirrox on -indev "$LB_WORK/signed.iso" -extract /boot/grub/efi.img "$LB_WORK/efi/efi.img" \
	>/dev/null 2>&1 &&
	MTOOLS_SKIP_CHECK=1 mcopy -n -i "$LB_WORK/efi/efi.img" ::/EFI/boot/bootx64.efi ::/EFI/boot/grubx64.efi \
		"$LB_WORK/efi/" &&
	cmp -s "$LB_WORK/efi/bootx64.efi" /usr/lib/shim/shimx64.efi.signed &&
	cmp -s "$LB_WORK/efi/grubx64.efi" /usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed &&
	! MTOOLS_SKIP_CHECK=1 mdir -i "$LB_WORK/efi/efi.img" ::/EFI/boot/fbx64.efi >/dev/null 2>&1
tap $? "the ISO's EFI image: \\EFI\\boot\\bootx64.efi is shim, grubx64.efi Debian's signed CD GRUB, no fallback (fbx64.efi)"
rm -rf "$LB_WORK/efi"

# Without the signed packages: unsigned GRUB, and a warning.
LOOPBOOT_SHIM_DIR=$LB_WORK/none media unsigned "$vmlinuz"
tap $? "loopboot-mkmedia --iso without shim-signed: made (see $LB_WORK/mkmedia-unsigned.log)" ||
	sed 's/^/# /' "$LB_WORK/mkmedia-unsigned.log"
grep -q 'starts only with Secure Boot off' "$LB_WORK/mkmedia-unsigned.log"
tap $? "without shim-signed: warns that Secure Boot must be off"
# An unsigned kernel (the same one, its signature removed, as a kernel
# built here would be): a warning, and the image still made.
unsigned=$LB_WORK/vmlinuz-$kver-unsigned
cp "$vmlinuz" "$unsigned" && sbattach --remove "$unsigned" >/dev/null 2>&1
media unsigned-kernel "$unsigned" && grep -q "vmlinuz-$kver-unsigned: not signed: with Secure Boot on, GRUB refuses" \
	"$LB_WORK/mkmedia-unsigned-kernel.log"
tap $? "an unsigned kernel: warned, image made ($(tr '\n' ' ' <"$LB_WORK/mkmedia-unsigned-kernel.log"))"
rm -f "$LB_WORK/unsigned-kernel.iso" "$unsigned"
echo "# inputs ready after $((SECONDS - start)) s"

# --- boots ----------------------------------------------------------------------
# q35 with SMM and a secure flash: what OVMF's Secure Boot build needs to
# keep its variables out of the guest's reach.  Each boot: its own copy of
# the variables (Microsoft's keys) and of the disk.  No network card: the
# refused boot would otherwise go on to PXE.
# UNTIL: a regex of the serial log that ends the boot early (a refusal).
boot() { # NAME SECONDS UNTIL QEMU_OPTIONS...
	local name=$1 secs=$2 until=$3 dir=$LB_WORK/$1 t0=$SECONDS
	shift 3
	mkdir -p "$dir"
	cp --sparse=always "$LB_WORK/disk.img" "$dir/disk.img"
	cp "$OVMF_VARS" "$dir/vars.fd"
	lb_qemu_until "$dir/serial.log" "$until" -t "$secs" -s "file:$dir/serial.log" \
		-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-global ICH9-LPC.disable_s3=1 -nic none \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,unit=1,file=$dir/vars.fd" \
		-drive "file=$dir/disk.img,format=raw,if=virtio" "$@" </dev/null >"$dir/qemu.log" 2>&1
	echo "$? $((SECONDS - t0))" >"$dir/result"
	rm -f "$dir/disk.img" "$dir/vars.fd"
}
cd_of() { # ISO: the ISO as a CD
	echo -drive "file=$1,format=raw,media=cdrom,if=none,id=cd,readonly=on" -device ide-cd,drive=cd,bootindex=0
}
boot_sb_cd() {
	# shellcheck disable=SC2046 # words
	boot sb-cd "${LB_BOOT_TIMEOUT:-300}" '^$.' $(cd_of "$LB_WORK/signed.iso")
}
boot_sb_stick() {
	boot sb-stick "${LB_BOOT_TIMEOUT:-300}" '^$.' -device qemu-xhci \
		-drive "file=$LB_WORK/signed.iso,format=raw,if=none,id=stick,snapshot=on" \
		-device usb-storage,drive=stick,bootindex=0
}
# The control: nothing to wait for once the firmware has refused it.
boot_sb_unsigned() {
	# shellcheck disable=SC2046 # words
	boot sb-unsigned "${LB_REFUSED_TIMEOUT:-120}" 'No bootable option|Linux version' \
		$(cd_of "$LB_WORK/unsigned.iso")
}
names=(sb-cd sb-stick sb-unsigned)
for name in "${names[@]}"; do
	[ "$(jobs -rp | wc -l)" -lt "${LB_JOBS:-2}" ] || wait -n
	"boot_${name//-/_}" &
done
wait

# --- what each boot reached -------------------------------------------------------
for name in "${names[@]}"; do
	read -r rc secs <"$LB_WORK/$name/result"
	echo "# $name: QEMU exit $rc after $secs s"
	failed_before=$failed
	log=$LB_WORK/$name/serial.log
	TAP_PREFIX="$name: "
	case $name in
	sb-unsigned)
		expect_no_log 'Linux version' "the firmware refused the unsigned GRUB: no kernel started"
		expect_no_log 'Debian in /My Linux' "no GRUB menu either"
		expect_log 'failed to load Boot[0-9A-F]+ "UEFI QEMU DVD-ROM[^"]*" .*: Access Denied' \
			"the firmware refused the CD's boot loader: Access Denied"
		;;
	*)
		[ "$name" = sb-stick ] &&
			expect_log 'BdsDxe: starting Boot[0-9A-F]+ "UEFI QEMU QEMU USB HARDDRIVE' "the firmware started the stick"
		expect_log 'Debian in /My Linux/root.img' "shim started Debian's signed GRUB; its menu is on the serial console"
		expect_log 'secureboot: Secure boot enabled' "the kernel says Secure Boot is on"
		expect_log 'Kernel is locked down from EFI Secure Boot' "the kernel is in lockdown"
		expect_log '^LBTEST reached root-in-file' "the init in the file ran"
		expect_log '^LBTEST mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
		expect_log '^LBTEST mount /dev/vda1 /run/loopboot/host ' "the NTFS host is mounted"
		expect_log 'loopboot: root file system /My Linux/root.img on /dev/vda1' \
			"loopboot read loop= with its space intact"
		;;
	esac
	TAP_PREFIX=
	if [ "$failed" -gt "$failed_before" ]; then
		echo "# $name serial log (last 40 lines):"
		tail -n 40 "$log" | sed 's/^/#   /'
	fi
done
echo "# total $((SECONDS - start)) s"
if [ "$failed" = 0 ]; then
	rm -rf "$LB_WORK/disk.img" "$LB_WORK"/*.iso
fi
