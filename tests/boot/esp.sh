#!/bin/bash
# loopboot-mkmedia --esp, booted: \EFI\loopboot\ as the tool writes it, on
# the EFI System Partition of a GPT disk that also holds a stand-in
# \EFI\Microsoft\Boot\bootmgfw.efi and the NTFS partition with the image,
# started by its own firmware entry with Secure Boot on (OVMF's Secure Boot
# build, Microsoft's keys) on Debian 12's signed 6.1 kernel.
#
# Not run inside a booted system (the test root has no shell): the tool
# writes into a directory, with findmnt, lsblk and efibootmgr as stubs that
# describe that ESP and record what is asked of the firmware; the directory
# is then copied into the disk's ESP.  The firmware entry is made in the
# guest by shim's fallback (\EFI\Boot\ holds shim and fbx64.efi here, as
# after a firmware reset of its entries) from the BOOTX64.CSV the tool
# writes, which is the entry efibootmgr -C makes: \EFI\loopboot\shimx64.efi
# on that partition.  Checked: the tool's calls and files; the boot reaches
# the root in the file through shim, GRUB and the kernel in \EFI\loopboot\;
# --remove leaves the ESP as it was.
#
#   tests/boot/esp.sh     TAP; logs in build/boot-esp/
set -u
LB_WORK=${LB_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/build/boot-esp}
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=../lib/expect.sh
. "$(dirname "$0")/../lib/expect.sh"
# shellcheck source=../lib/disk.sh
. "$(dirname "$0")/../lib/disk.sh"
# shellcheck source=../lib/qemu.sh
. "$(dirname "$0")/../lib/qemu.sh"

mkmedia=${LB_MKMEDIA:-/usr/sbin/loopboot-mkmedia}
if [ ! -x "$mkmedia" ]; then
	mkmedia=$LB_TOP/helpers/loopboot-mkmedia
fi
case $mkmedia in
"$LB_TOP"/*)
	echo "# testing the source tree's $mkmedia"
	export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
	[ -x "$LB_TOP/build/bin/cmdline-get" ] || make -C "$LB_TOP" -s build/bin/cmdline-get
	PATH=$LB_TOP/build/bin:$PATH
	;;
esac
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
for f in "$OVMF_CODE" "$OVMF_VARS" /usr/lib/shim/shimx64.efi.signed /usr/lib/shim/fbx64.efi.signed; do
	[ -r "$f" ] || lb_die "$f: not found; install ovmf and shim-signed (make deps)"
done
kver=$(lb_kernel 6.1) || lb_die "no Debian 6.1 kernel (tests/release/prepare bookworm)"
rm -rf "$LB_WORK"
mkdir -p "$LB_WORK"
start=$SECONDS

# --- the NTFS partition with the image -------------------------------------------
initrd=$(lb_initrd "$kver") || exit 1
lb_root_image "$LB_WORK/root.img" 16
hostdir=$LB_WORK/hostdir
mkdir -p "$hostdir/My Linux"
mv "$LB_WORK/root.img" "$hostdir/My Linux/root.img"
lb_fs_image ntfs "$hostdir" "$LB_WORK/ntfs.part" 64 LBHOST
rm -rf "$hostdir"
uuid=$(blkid -o value -s UUID "$LB_WORK/ntfs.part")

# --- the ESP, Windows' files, the tool -------------------------------------------------
esp=$LB_WORK/esp
mkdir -p "$esp/EFI/Microsoft/Boot" "$esp/EFI/Boot"
echo "stand-in for Windows Boot Manager" >"$esp/EFI/Microsoft/Boot/bootmgfw.efi"
echo "stand-in for the BCD" >"$esp/EFI/Microsoft/Boot/BCD"
cp /usr/lib/shim/shimx64.efi.signed "$esp/EFI/Boot/bootx64.efi"
cp /usr/lib/shim/fbx64.efi.signed "$esp/EFI/Boot/fbx64.efi"
esp_sum() { (cd "$esp" && find . -path ./EFI/loopboot -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
before=$(esp_sum)
# The stubs: this directory is /dev/vda1, partition 1 of /dev/vda, an ESP.
stubs=$LB_WORK/stubs
mkdir -p "$stubs" "$LB_WORK/sys/class/block/vda1"
echo 1 >"$LB_WORK/sys/class/block/vda1/partition"
printf '#!/bin/sh\ncase "$*" in *SOURCE*) echo /dev/vda1 ;; *FSTYPE*) echo vfat ;; esac\n' >"$stubs/findmnt"
printf '#!/bin/sh\ncase "$*" in *PARTTYPE*) echo c12a7328-f81f-11d2-ba4b-00a0c93ec93b ;; *PKNAME*) echo vda ;; esac\n' \
	>"$stubs/lsblk"
cat >"$stubs/efibootmgr" <<EOF
#!/bin/sh
echo "\$*" >>"$LB_WORK/efibootmgr.calls"
case \$1 in
-v | '')
	echo "BootOrder: \$(cat "$LB_WORK/order" 2>/dev/null || echo 0000)"
	echo 'Boot0000* Windows Boot Manager	HD(1,GPT,0,0x800,0x1f800)/File(\\EFI\\Microsoft\\Boot\\bootmgfw.efi)'
	[ -e "$LB_WORK/created" ] &&
		echo 'Boot0001* loopboot	HD(1,GPT,0,0x800,0x1f800)/File(\\EFI\\loopboot\\shimx64.efi)'
	;;
-C) touch "$LB_WORK/created" ;;
-o) echo "\$2" >"$LB_WORK/order" ;;
-b) rm -f "$LB_WORK/created" ;;
esac
exit 0
EOF
chmod +x "$stubs"/*
run_esp() { # ARGS...: the tool on the stand-in ESP
	PATH=$stubs:$PATH LOOPBOOT_SYSFS=$LB_WORK/sys "$mkmedia" --esp --esp-dir "$esp" "$@"
}
run_esp --vmlinuz "$(lb_vmlinuz "$kver")" --initrd "$initrd" --serial --timeout 1 \
	--append "root=UUID=$uuid \"loop=/My Linux/root.img\" rw panic=-1" >"$LB_WORK/mkmedia.log" 2>&1
tap $? "loopboot-mkmedia --esp (see $LB_WORK/mkmedia.log)" || sed 's/^/# /' "$LB_WORK/mkmedia.log"
grep -qx -- '-C -d /dev/vda -p 1 -L loopboot -l \\EFI\\loopboot\\shimx64.efi' "$LB_WORK/efibootmgr.calls" &&
	grep -qx -- '-o 0000,0001' "$LB_WORK/efibootmgr.calls"
tap $? "efibootmgr asked for one entry \\EFI\\loopboot\\shimx64.efi on /dev/vda partition 1, last in BootOrder ($(tr '\n' ';' <"$LB_WORK/efibootmgr.calls"))"
[ "$(esp_sum)" = "$before" ] && cmp -s "$esp/EFI/loopboot/shimx64.efi" /usr/lib/shim/shimx64.efi.signed
tap $? "the ESP's other files byte for byte unchanged; \\EFI\\loopboot\\shimx64.efi is shim"

# --- the disk: GPT, ESP (FAT), NTFS -----------------------------------------------------
if ! { mkfs.vfat -C -F 32 -n ESP "$LB_WORK/esp.part" $((64 * 1024)) >/dev/null &&
	MTOOLS_SKIP_CHECK=1 mcopy -s -i "$LB_WORK/esp.part" "$esp/EFI" ::/; }; then
	lb_die "cannot make the ESP image"
fi
disk=$LB_WORK/disk.img
truncate -s $((1 + 64 + 64 + 1))M "$disk"
printf '%s\n' 'start=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B' \
	'start=133120, size=131072, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7' |
	sfdisk -q --label gpt "$disk" >/dev/null || lb_die "sfdisk $disk failed"
if ! { dd if="$LB_WORK/esp.part" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none &&
	dd if="$LB_WORK/ntfs.part" of="$disk" bs=1M seek=65 conv=notrunc,sparse status=none; }; then
	lb_die "cannot assemble $disk"
fi
rm -f "$LB_WORK/esp.part" "$LB_WORK/ntfs.part"
echo "# inputs ready after $((SECONDS - start)) s"

# --- the boot -------------------------------------------------------------------------
cp "$OVMF_VARS" "$LB_WORK/vars.fd"
t0=$SECONDS
lb_qemu -t "${LB_BOOT_TIMEOUT:-300}" -s "file:$LB_WORK/serial.log" -nic none \
	-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
	-global ICH9-LPC.disable_s3=1 \
	-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
	-drive "if=pflash,format=raw,unit=1,file=$LB_WORK/vars.fd" \
	-drive "file=$disk,format=raw,if=none,id=hd" -device virtio-blk-pci,drive=hd,bootindex=0 \
	</dev/null >"$LB_WORK/qemu.log" 2>&1
echo "# QEMU exit $? after $((SECONDS - t0)) s"
log=$LB_WORK/serial.log
# The firmware's variables now hold the entry (UTF-16: the NULs dropped).
tr -d '\0' <"$LB_WORK/vars.fd" | grep -qaF 'loopboot' &&
	tr -d '\0' <"$LB_WORK/vars.fd" | grep -qaF '\EFI\loopboot\shimx64.efi'
tap $? "the firmware has a boot entry \"loopboot\" for \\EFI\\loopboot\\shimx64.efi (made from BOOTX64.CSV)"
expect_log 'Debian in /My Linux/root.img' "GRUB read the menu in \\EFI\\loopboot\\"
expect_log 'secureboot: Secure boot enabled' "the kernel says Secure Boot is on"
expect_log '^LBTEST cmdline BOOT_IMAGE=\(hd[0-9]+,gpt1\)/EFI/loopboot/vmlinuz ' \
	"the kernel came from \\EFI\\loopboot\\ on the ESP"
expect_log '^LBTEST reached root-in-file' "the init in the file ran"
expect_log '^LBTEST mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
expect_log 'loopboot: root file system /My Linux/root.img on /dev/vda2' "the NTFS host is the disk's second partition"
if [ "$failed" -gt 0 ]; then
	echo "# serial log (last 30 lines):"
	tail -n 30 "$log" | sed 's/^/#   /'
fi

# --- --remove --------------------------------------------------------------------------------
: >"$LB_WORK/efibootmgr.calls"
run_esp --remove >"$LB_WORK/remove.log" 2>&1
tap $? "loopboot-mkmedia --esp --remove (see $LB_WORK/remove.log)" || sed 's/^/# /' "$LB_WORK/remove.log"
[ ! -e "$esp/EFI/loopboot" ] && [ "$(esp_sum)" = "$before" ] &&
	grep -qx -- '-b 0001 -B' "$LB_WORK/efibootmgr.calls"
tap $? "--remove: the entry deleted, \\EFI\\loopboot\\ gone, the ESP as it was"
echo "# total $((SECONDS - start)) s"
if [ "$failed" = 0 ]; then
	rm -rf "$disk" "$LB_WORK/vars.fd" "$esp"
fi
