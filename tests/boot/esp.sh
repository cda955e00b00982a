#!/bin/bash
# loopboot-mkmedia --esp in a booted system (issue 16): a GPT disk with an
# EFI System Partition holding a stand-in \EFI\Microsoft\Boot\bootmgfw.efi
# and BCD, and an NTFS partition with the system in /linux/root.img; the
# firmware is OVMF's Secure Boot build with Microsoft's keys (q35, SMM), its
# variables kept in one file across the QEMU runs.  The system is Debian 13
# (minbase) with the loopboot package of this tree, efibootmgr, shim-signed,
# grub-efi-amd64-signed and the signed kernel, installed as a user would;
# its /sbin/init is a script (written below) that runs the commands and
# prints what they say on the serial console.
#
#  1. QEMU's own loader starts the system's kernel and initramfs; there the
#     test makes an entry "Windows Boot Manager" first in BootOrder (as
#     Windows leaves it), then runs the installed loopboot-mkmedia --esp
#     --next, prints efibootmgr -v before and after, and makes a stick as a
#     user would (loopboot-mkmedia --iso, the default media).
#  2. No -kernel: the firmware's BootNext must start \EFI\loopboot\shimx64.efi
#     (BootCurrent is the new entry), through shim, Debian's GRUB and the
#     kernel on the ESP to the root in the file; there loopboot-mkmedia
#     --esp --remove runs.
#  3. That stick, Secure Boot on, fresh variables: to the root in the file.
#  4. A stick that follows the system (--follow), made here with the
#     system's shim and GRUB: with Secure Boot on, Debian 13's GRUB does not
#     read the NTFS partition, so the boot must stop in GRUB.
# The ESP also holds a native Debian's \EFI\debian\grub.cfg (a stand-in
# menu with the entry --esp gives for it). Debian 12's GRUB (2.06) reads
# it first: run 1 checks that --esp gives the entry, run 2 that GRUB shows
# that menu and reaches loopboot's through it. Debian 13's (2.12) reads its
# own directory's: no note, and loopboot's menu straight away. Run 2n
# starts the native Debian's own entry (GRUB started from \EFI\debian): its
# menu, then loopboot's through that entry, must boot the root in the file.
# Checked: the new entry last in BootOrder, BootNext set, the firmware's
# other entries unchanged; the ESP's other files byte for byte unchanged
# after each run (read offline with mtools); the volume clean after each
# run (loopboot's own shutdown closes it); --remove took out exactly its
# entry, and the entries that are not the firmware's own (OVMF makes those
# again at a boot by the firmware) and their order are as before --esp;
# \EFI\loopboot gone.
#
# The Debian tree is debootstrapped once and cached ($LB_SYSTEM_CACHE, else
# /var/cache/loopboot-tests); the package: LB_ESP_DEB, else ../loopboot_V_A.deb
# when it holds this tree's loopboot-mkmedia (tests/install-deb made it),
# else one built here.  2 to 4 minutes with the tree cached (1.5 to 3 in QEMU;
# run 1 makes an ISO under TCG).
#
#   tests/boot/esp.sh     TAP; logs in build/boot-esp/
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
LB_WORK=${LB_WORK:-$LB_TOP/build/boot-esp}
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
# shellcheck source=../lib/expect.sh
. "$LB_TOP/tests/lib/expect.sh"
# shellcheck source=../lib/disk.sh
. "$LB_TOP/tests/lib/disk.sh"
# shellcheck source=../lib/qemu.sh
. "$LB_TOP/tests/lib/qemu.sh"
# shellcheck source=../lib/mkmedia.sh
. "$LB_TOP/tests/lib/mkmedia.sh"
# shellcheck source=../lib/trees.sh
. "$LB_TOP/tests/lib/trees.sh"

# Debian 13 (the default) or 12 (LB_ESP_SUITE=bookworm: GRUB 2.06, which
# names its directory $cmdpath, where 2.12 has $fw_path).
SUITE=${LB_ESP_SUITE:-trixie}
FILE=/linux/root.img
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd

if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null; then
	echo "ok 1 - loopboot-mkmedia --esp in a booted system # SKIP not root, or no debootstrap"
	exit 0
fi
for f in "$OVMF_CODE" "$OVMF_VARS"; do
	[ -r "$f" ] || lb_die "$f: not found; install ovmf (make deps)"
done
rm -rf "$LB_WORK"
mkdir -p "$LB_WORK"
start=$SECONDS

# --- the package ------------------------------------------------------------------------
# mkmedia_in DEB: the .deb holds this tree's loopboot-mkmedia and shutdown.
same_as_tree() {
	local f
	for f in usr/sbin/loopboot-mkmedia:helpers/loopboot-mkmedia \
		usr/share/loopboot/shutdown:scripts/loopboot/shutdown; do
		dpkg-deb --fsys-tarfile "$1" 2>/dev/null | tar -xOf - "./${f%%:*}" 2>/dev/null |
			cmp -s - "$LB_TOP/${f#*:}" || return 1
	done
}
package() {
	local version arch deb src
	version=$(dpkg-parsechangelog -l "$LB_TOP/debian/changelog" -S Version)
	arch=$(dpkg --print-architecture)
	deb=${LB_ESP_DEB:-$LB_TOP/../loopboot_${version}_$arch.deb}
	if [ -n "${LB_ESP_DEB-}" ] || { [ -f "$deb" ] && same_as_tree "$deb"; }; then
		echo "$deb"
		return 0
	fi
	src=$LB_WORK/deb/loopboot-$version
	mkdir -p "$src"
	{ (cd "$LB_TOP" && git ls-files -z | xargs -0 cp --parents -t "$src") &&
		(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b >../build.log 2>&1); } ||
		lb_die "cannot build the package (see $LB_WORK/deb/build.log)"
	echo "$LB_WORK/deb/loopboot_${version}_$arch.deb"
}

# --- the guest's init ---------------------------------------------------------------
# Every line it prints starts with "LBESP ".  Phase 1 (lbesp=1 on the kernel
# line QEMU passes) sets up Windows' entry and runs --esp --next; phase 2
# (started by the firmware) runs --remove.  Either ends as systemd does:
# into loopboot's shutdown program, which closes the host.
guest_init() {
	cat <<'EOF'
#!/bin/sh
# The test's whole userland (tests/boot/esp.sh): commands, their output on
# the console, power off.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { echo "LBESP $*"; }
run() { # TAG COMMAND...: the command's output, each line after "LBESP TAG "
	tag=$1
	shift
	"$@" >/tmp/out 2>&1
	rc=$?
	sed "s/^/LBESP $tag /" /tmp/out
	say "$tag rc=$rc"
}
off() {
	umount /boot/efi 2>/dev/null
	sync
	say "powering off"
	# As systemd's last stage: into /run/initramfs with /dev, /proc and
	# /sys moved there (the program reads the loop device in /sys), the
	# old root at /oldroot.
	if [ -x /run/initramfs/shutdown ] && mkdir -p /run/initramfs/oldroot &&
		mount --move /dev /run/initramfs/dev && mount --move /sys /run/initramfs/sys &&
		mount --move /proc /run/initramfs/proc && cd /run/initramfs && pivot_root . oldroot; then
		# The old root's programs are under /oldroot now: busybox's chroot.
		exec /bin/busybox chroot . /shutdown poweroff
	fi
	say "no loopboot shutdown; the root read-only, power off"
	mount -o remount,ro /
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}
# The number of the firmware's entry labelled $1.
entry() { efibootmgr | awk -v l="$1" '/^Boot[0-9A-F][0-9A-F][0-9A-F][0-9A-F]/ && $2 == l { print substr($1, 5, 4); exit }'; }
mount -t tmpfs tmpfs /tmp
say "init in the file, pid $$"
mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null ||
	{ modprobe efivarfs && mount -t efivarfs efivarfs /sys/firmware/efi/efivars; } ||
	say "efivarfs: cannot mount it"
run cmdline cat /proc/cmdline
# SecureBoot: 4 bytes of attributes, then 1 when on.
run secureboot od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
run mount grep -E ' / | /boot/efi ' /proc/mounts
mkdir -p /boot/efi
case " $(cat /proc/cmdline) " in
*"BOOT_IMAGE=/loopboot/"*) ;;
*) mount -t vfat /dev/vda1 /boot/efi || say "ESP: cannot mount /dev/vda1" ;;
esac
case " $(cat /proc/cmdline) " in
*" lbesp=1 "*)
	# The native Debian's entry, then Windows', first in BootOrder, as
	# Windows' setup leaves it.
	run native efibootmgr -c -d /dev/vda -p 1 -L debian -l '\EFI\debian\shimx64.efi'
	run windows efibootmgr -c -d /dev/vda -p 1 -L "Windows Boot Manager" \
		-l '\EFI\Microsoft\Boot\bootmgfw.efi'
	run before efibootmgr -v
	run esp loopboot-mkmedia --esp --next --serial --timeout 1
	run after efibootmgr -v
	# The next boot through the native Debian's own entry instead (run
	# 2n), which sets BootNext back to loopboot's.
	run nextnative efibootmgr -n "$(entry debian)"
	# The stick, as the user makes it by default: with Secure Boot on
	# Debian's signed GRUB reads no NTFS, so the kernel goes onto it.
	run iso loopboot-mkmedia --serial --timeout 1 --iso /root/loopboot.iso
	;;
*"BOOT_IMAGE=/loopboot/"*)
	run stick uname -r
	;;
*)
	if [ "$(efibootmgr | sed -n 's/^BootCurrent: //p')" = "$(entry debian)" ]; then
		run native2 efibootmgr -v
		run nextloopboot efibootmgr -n "$(entry loopboot)"
		off
	fi
	run boot2 efibootmgr -v
	run remove loopboot-mkmedia --esp --remove
	run removed efibootmgr -v
	;;
esac
off
EOF
}

# --- the system image, the disk ---------------------------------------------------------
deb=$(package) || exit 1
echo "# loopboot package: $deb"
tar=$(lb_tree_esp "$SUITE") || exit 1
tree=$LB_WORK/tree
mkdir -p "$tree"
tar -C "$tree" -xf "$tar" || lb_die "cannot unpack $tar"
cp "$deb" "$tree/tmp/loopboot.deb"
# A small initramfs (the disk is virtio): under TCG a full one takes minutes.
sed -i -e 's/^update_initramfs=.*/update_initramfs=yes/' "$tree/etc/initramfs-tools/update-initramfs.conf"
sed -i -e 's/^MODULES=.*/MODULES=list/' "$tree/etc/initramfs-tools/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk >>"$tree/etc/initramfs-tools/modules"
kver=$(find "$tree/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
[ -n "$kver" ] || lb_die "$tar: no kernel in /boot"
# The package's postinst makes the initramfs images of every kernel.
if ! { lb_chroot "$tree" dpkg -i /tmp/loopboot.deb && [ -s "$tree/boot/initrd.img-$kver" ]; } \
	>"$LB_WORK/install.log" 2>&1; then
	tail -n 20 "$LB_WORK/install.log" >&2
	lb_die "installing the package in the tree failed (see $LB_WORK/install.log)"
fi
rm -f "$tree/tmp/loopboot.deb"
guest_init >"$tree/sbin/init"
chmod 755 "$tree/sbin/init"
echo lbesp >"$tree/etc/hostname"
mkdir -p "$LB_WORK/signed"
cp -r "$tree/usr/lib/shim" "$LB_WORK/signed/shim"
cp -r "$tree/usr/lib/grub/x86_64-efi-signed" "$LB_WORK/signed/grub"
cp "$tree/boot/vmlinuz-$kver" "$LB_WORK/vmlinuz"
cp "$tree/boot/initrd.img-$kver" "$LB_WORK/initrd.img"
size=$(du -s -m "$tree" | cut -f1)
hostdir=$LB_WORK/hostdir
mkdir -p "$hostdir/linux"
mkfs.ext4 -q -F -L lbesp -E lazy_itable_init=0,lazy_journal_init=0 -d "$tree" \
	"$hostdir$FILE" $((size + 160))M >/dev/null || lb_die "mkfs.ext4 failed"
rm -rf "$tree"
ntfs_mb=$((size + 200))
lb_fs_image ntfs "$hostdir" "$LB_WORK/ntfs.part" "$ntfs_mb" WINDOWS
rm -rf "$hostdir"
uuid=$(blkid -o value -s UUID "$LB_WORK/ntfs.part")

# The ESP as Windows leaves it: its boot manager and BCD (stand-ins); and
# a Debian installed natively beside it: its shim and signed GRUB in
# \EFI\debian (those of the system under test) and its grub.cfg, here that
# Debian's menu (a stand-in) with the entry loopboot-mkmedia --esp tells its
# user to add there when the GRUB is Debian 12's.
esp=$LB_WORK/esp
esp_uuid=5A1E-0C3D
mkdir -p "$esp/EFI/Microsoft/Boot" "$esp/EFI/debian"
echo "stand-in for Windows Boot Manager" >"$esp/EFI/Microsoft/Boot/bootmgfw.efi"
if ! { cp "$LB_WORK/signed/shim/shimx64.efi.signed" "$esp/EFI/debian/shimx64.efi" &&
	cp "$LB_WORK/signed/grub/grubx64.efi.signed" "$esp/EFI/debian/grubx64.efi"; }; then
	lb_die "cannot copy the signed boot chain into the native Debian's \\EFI\\debian"
fi
head -c 65536 /dev/urandom >"$esp/EFI/Microsoft/Boot/BCD"
native_entry() {
	# shellcheck disable=SC2016 # GRUB's variables
	printf '%s\n' "menuentry 'loopboot' {" "	search --no-floppy --fs-uuid --set=lb_esp $esp_uuid" \
		'	set lb_dir=($lb_esp)/EFI/loopboot' '	export lb_dir' '	configfile $lb_dir/grub.cfg' '}'
}
{
	echo '# A native Debian menu (stand-in, tests/boot/esp.sh)'
	echo 'set timeout=1'
	echo 'set default=0'
	native_entry
	echo "menuentry 'Native Debian (stand-in)' {"
	echo '	halt'
	echo '}'
} >"$esp/EFI/debian/grub.cfg"
esp_mb=100
if ! { mkfs.vfat -C -F 32 -n SYSTEM -i "${esp_uuid/-/}" "$LB_WORK/esp.part" $((esp_mb * 1024)) >/dev/null &&
	MTOOLS_SKIP_CHECK=1 mcopy -s -i "$LB_WORK/esp.part" "$esp/EFI" ::/; }; then
	lb_die "cannot make the ESP image"
fi
disk=$LB_WORK/disk.img
truncate -s $((1 + esp_mb + ntfs_mb + 1))M "$disk"
printf '%s\n' "start=2048, size=$((esp_mb * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B" \
	"start=$((2048 + esp_mb * 2048)), size=$((ntfs_mb * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" |
	sfdisk -q --label gpt "$disk" >/dev/null || lb_die "sfdisk $disk failed"
if ! { dd if="$LB_WORK/esp.part" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none &&
	dd if="$LB_WORK/ntfs.part" of="$disk" bs=1M seek=$((1 + esp_mb)) conv=notrunc,sparse status=none; }; then
	lb_die "cannot assemble $disk"
fi
rm -f "$LB_WORK/esp.part" "$LB_WORK/ntfs.part"
echo "# inputs ready after $((SECONDS - start)) s (kernel $kver, system $size MiB)"

# The ESP's files other than \EFI\loopboot, with their checksums (mtools,
# offline); and the volume clean (ntfsprobe on the NTFS partition).
esp_files() {
	rm -rf "$LB_WORK/esp-now"
	mkdir -p "$LB_WORK/esp-now"
	MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "$disk@@1M" '::/*' "$LB_WORK/esp-now/" 2>/dev/null
	(cd "$LB_WORK/esp-now" && find . -path ./EFI/loopboot -prune -o -type f -print0 |
		sort -z | xargs -0 sha256sum)
}
esp_before=$(cd "$esp" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
volume_clean() {
	local part=$LB_WORK/host.part
	dd if="$disk" of="$part" bs=1M skip=$((1 + esp_mb)) count="$ntfs_mb" status=none
	ntfsprobe "$part" >"$LB_WORK/ntfsprobe.log" 2>&1
}
# The ISO the system made, out of the image on the volume (read-only).
iso_out() {
	local part=$LB_WORK/host.part mnt=$LB_WORK/mnt rc
	mkdir -p "$mnt"
	ntfs-3g -o ro "$part" "$mnt" || return 1
	debugfs -R "dump /root/loopboot.iso $LB_WORK/loopboot.iso" "$mnt$FILE" >/dev/null 2>&1
	[ -s "$LB_WORK/loopboot.iso" ]
	rc=$?
	umount "$mnt"
	while pgrep -f "ntfs-3g -o ro $part" >/dev/null; do sleep 0.1; done
	rmdir "$mnt"
	return $rc
}
# The lines of one tag out of the serial log.
lines() { sed -n "s/^LBESP $1 //p" "$log"; }
# efibootmgr -v's entries and BootOrder: what --remove must give back.
nvram() { lines "$1" | grep -E '^(BootOrder|Boot[0-9A-F]{4})'; }

firmware() { # LOG VARS QEMU_OPTIONS...
	local serial=$1 vars=$2
	shift 2
	lb_qemu -m 1024 -t "${LB_BOOT_TIMEOUT:-300}" -s "file:$serial" -nic none \
		-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-global ICH9-LPC.disable_s3=1 \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,unit=1,file=$vars" "$@" </dev/null >>"$LB_WORK/qemu.log" 2>&1
	local rc=$?
	# The serial console ends its lines with CR LF.
	tr -d '\r' <"$serial" >"$serial.tmp" && mv "$serial.tmp" "$serial"
	return $rc
}

# --- 1: the kernel by QEMU's loader; --esp --next --------------------------------------
cp "$OVMF_VARS" "$LB_WORK/vars.fd"
log=$LB_WORK/serial-1.log
t0=$SECONDS
firmware "$log" "$LB_WORK/vars.fd" -drive "file=$disk,format=raw,if=virtio" -kernel "$LB_WORK/vmlinuz" -initrd "$LB_WORK/initrd.img" \
	-append "root=UUID=$uuid loop=$FILE rw console=ttyS0 panic=-1 lbesp=1"
echo "# run 1: QEMU exit $? after $((SECONDS - t0)) s"
TAP_PREFIX="1, by QEMU's loader: "
expect_log '^LBESP init in the file' "the system in the file started its init"
expect_log '^LBESP mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
expect_log '^LBESP windows rc=0' "efibootmgr made the stand-in Windows entry"
before=$(nvram before)
win=$(lines before | sed -n 's/^Boot\([0-9A-F]\{4\}\)\* Windows Boot Manager.*/\1/p')
order_before=$(lines before | sed -n 's/^BootOrder: //p')
[ -n "$win" ] && [ "${order_before%%,*}" = "$win" ]
tap $? "before --esp: Windows Boot Manager (Boot$win) first in BootOrder ($order_before)"
expect_log '^LBESP esp rc=0' "loopboot-mkmedia --esp --next ran (see $log)" ||
	lines esp | sed 's/^/#   /'
if [ "$SUITE" = bookworm ]; then
	lines esp | grep -q '/EFI/debian/grub.cfg: Debian is also installed natively.*40_custom' &&
		lines esp | grep -A5 -xF "menuentry 'loopboot' {" | diff - <(native_entry) >&2
	tap $? "--esp (GRUB 2.06) names the native Debian's \\EFI\\debian\\grub.cfg and gives the entry for its menu, the ESP by its UUID"
else
	! lines esp | grep -q 'natively\|menuentry'
	tap $? "--esp (GRUB 2.12) says nothing of the native Debian's menu: GRUB reads its own"
fi
new=$(lines after | awk '/^Boot[0-9A-F][0-9A-F][0-9A-F][0-9A-F]/ && /\\EFI\\loopboot\\shimx64.efi/ { print substr($1, 5, 4) }')
order_after=$(lines after | sed -n 's/^BootOrder: //p')
[ "$(echo "$new" | grep -c .)" = 1 ] && lines after | grep -q "^Boot$new\\* loopboot	HD(1,GPT,"
tap $? "one new entry Boot$new \"loopboot\" for \\EFI\\loopboot\\shimx64.efi on the ESP (partition 1)"
[ -n "$new" ] && [ "$order_after" = "$order_before,$new" ]
tap $? "the new entry last in BootOrder, the rest as before ($order_before -> $order_after)"
[ -n "$new" ] && lines after | grep -qx "BootNext: $new"
tap $? "BootNext is the new entry"
# The other entries as they were (efibootmgr -v: number, name, device path).
diff <(echo "$before" | grep -v '^BootOrder') <(nvram after | grep -v '^BootOrder' | grep -v "^Boot$new") \
	>"$LB_WORK/entries.diff"
tap $? "the firmware's other entries unchanged" || sed 's/^/#   /' "$LB_WORK/entries.diff"
expect_log '^LBESP iso rc=0' "loopboot-mkmedia --iso ran" || lines iso | sed 's/^/#   /'
expect_log "^LBESP iso loopboot-mkmedia: the kernel on the media, not read from inside $FILE: with Secure Boot on, Debian's signed GRUB does not read ntfs" \
	"by default the stick carries the kernel, and says why (Secure Boot, NTFS)"
expect_log '^loopboot-shutdown: /dev/vda2: closed' "loopboot's shutdown closed the host"
volume_clean
tap $? "offline: the volume is clean ($(head -c 120 "$LB_WORK/ntfsprobe.log"))"
iso_out
tap $? "offline: the ISO the system made is in the image (/root/loopboot.iso)"
now=$(esp_files)
[ "$now" = "$esp_before" ]
tap $? "offline: the ESP's other files byte for byte unchanged (\\EFI\\Microsoft\\Boot\\bootmgfw.efi, BCD)"
missing=
for f in shimx64.efi grubx64.efi grub.cfg vmlinuz initrd.img loopboot.txt; do
	[ -s "$LB_WORK/esp-now/EFI/loopboot/$f" ] || missing="$missing $f"
done
[ -z "$missing" ]
tap $? "offline: \\EFI\\loopboot\\ holds shim, GRUB, the menu, the kernel and initramfs (missing:${missing:- none})"

# --- 2n: the native Debian's own entry -------------------------------------------------
# Its GRUB, started from \EFI\debian (there $cmdpath and $fw_path name
# that directory), shows its menu; the entry --esp gives (on the ESP from
# the start) opens loopboot's menu, which must take the kernel from
# \EFI\loopboot all the same (the lb_dir the entry sets).
log=$LB_WORK/serial-2n.log
t0=$SECONDS
firmware "$log" "$LB_WORK/vars.fd" -drive "file=$disk,format=raw,if=virtio"
echo "# run 2n: QEMU exit $? after $((SECONDS - t0)) s"
TAP_PREFIX="2n, by the native Debian's entry: "
native=$(lines native2 | awk '/^Boot[0-9A-F][0-9A-F][0-9A-F][0-9A-F]/ && $2 == "debian" { print substr($1, 5, 4) }')
[ -n "$native" ] && lines native2 | grep -qx "BootCurrent: $native"
tap $? "BootCurrent is the native Debian's entry (Boot${native:-?}, \\EFI\\debian\\shimx64.efi)"
native_at=$(grep -a -b -o "Native Debian (stand-in)" "$log" | head -n 1 | cut -d: -f1)
ours_at=$(grep -a -b -o "Debian in $FILE" "$log" | head -n 1 | cut -d: -f1)
[ -n "$native_at" ] && [ -n "$ours_at" ] && [ "$native_at" -lt "$ours_at" ]
tap $? "GRUB showed the native Debian's menu, then, by the entry --esp gives, loopboot's"
expect_log "^LBESP cmdline BOOT_IMAGE=\\(hd[0-9]+,gpt1\\)/EFI/loopboot/vmlinuz root=UUID=$uuid loop=$FILE rw" \
	"GRUB started the kernel in \\EFI\\loopboot\\, not beside itself in \\EFI\\debian"
expect_log '^LBESP mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
expect_log '^LBESP nextloopboot rc=0' "BootNext set to loopboot's entry again, for run 2"
expect_log '^loopboot-shutdown: /dev/vda2: closed' "loopboot's shutdown closed the host"

# --- 2: the firmware, BootNext; --remove ---------------------------------------------------
log=$LB_WORK/serial-2.log
t0=$SECONDS
firmware "$log" "$LB_WORK/vars.fd" -drive "file=$disk,format=raw,if=virtio"
echo "# run 2: QEMU exit $? after $((SECONDS - t0)) s"
TAP_PREFIX="2, by the firmware: "
expect_log "^LBESP boot2 BootCurrent: $new" "BootCurrent is Boot$new: BootNext started \\EFI\\loopboot\\shimx64.efi"
native_at=$(grep -a -b -o "Native Debian (stand-in)" "$log" | head -n 1 | cut -d: -f1)
ours_at=$(grep -a -b -o "Debian in $FILE" "$log" | head -n 1 | cut -d: -f1)
if [ "$SUITE" = bookworm ]; then
	[ -n "$native_at" ] && [ -n "$ours_at" ] && [ "$native_at" -lt "$ours_at" ]
	tap $? "GRUB 2.06 showed the native Debian's menu (\\EFI\\debian\\grub.cfg) first, then, by the entry --esp gave, loopboot's"
else
	[ -z "$native_at" ] && [ -n "$ours_at" ]
	tap $? "GRUB 2.12 showed loopboot's menu, not the native Debian's (\\EFI\\debian\\grub.cfg)"
fi
expect_log '^LBESP secureboot +1$' "Secure Boot is on (the firmware's SecureBoot variable)"
expect_log 'secureboot: Secure boot enabled' "the kernel says Secure Boot is on"
expect_log "^LBESP cmdline BOOT_IMAGE=\\(hd[0-9]+,gpt1\\)/EFI/loopboot/vmlinuz root=UUID=$uuid loop=$FILE rw" \
	"GRUB started the kernel in \\EFI\\loopboot\\ with the kernel line of run 1"
expect_log '^LBESP mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
order_boot2=$(lines boot2 | sed -n 's/^BootOrder: //p')
[ -n "$new" ] && [ "${order_boot2%%,*}" = "$win" ] && case ",$order_boot2," in *",$new,"*) true ;; *) false ;; esac
tap $? "BootOrder still starts with Windows and holds Boot$new ($order_boot2)"
expect_no_log '^LBESP boot2 BootNext' "BootNext used up"
expect_log '^LBESP remove rc=0' "loopboot-mkmedia --esp --remove ran" || lines remove | sed 's/^/#   /'
# --remove against this boot's own variables: exactly Boot$new out of the
# entries and out of BootOrder.
diff <(nvram boot2 | grep -v "^Boot$new" | sed -e "s/^\(BootOrder: .*\),$new\(,\|\$\)/\1\2/") \
	<(nvram removed) >"$LB_WORK/nvram-remove.diff"
tap $? "--remove took out exactly its entry, from the entries and from BootOrder" ||
	sed 's/^/#   /' "$LB_WORK/nvram-remove.diff"
# Against run 1's before --esp: OVMF makes its own entries again at a boot
# by the firmware (for devices, its shell and setup: no file on a
# partition) and adds them to BootOrder, which a boot by QEMU's loader did
# not; the entries of a boot loader on a partition, HD(...)/File(...),
# Windows' among them, and their order must be as before.
own() { # LOG TAG: the boot loaders' entries, and their order
	local log=$1 nums
	nums=$(nvram "$2" | grep '^Boot[0-9A-F].*HD(.*File(' | cut -c5-8)
	nvram "$2" | grep '^Boot[0-9A-F].*HD(.*File('
	lines "$2" | sed -n 's/^BootOrder: //p' | tr ',' '\n' | grep -Fx "$nums" | paste -sd,
}
diff <(own "$LB_WORK/serial-1.log" before) <(own "$log" removed) >"$LB_WORK/nvram.diff"
tap $? "after --remove: the boot loaders' entries and their order as before --esp ($(own "$log" removed | tail -n 1))" ||
	sed 's/^/#   /' "$LB_WORK/nvram.diff"
expect_log '^loopboot-shutdown: /dev/vda2: closed' "loopboot's shutdown closed the host"
volume_clean
tap $? "offline: the volume is clean ($(head -c 120 "$LB_WORK/ntfsprobe.log"))"
now=$(esp_files)
[ "$now" = "$esp_before" ] && [ ! -e "$LB_WORK/esp-now/EFI/loopboot" ]
tap $? "offline: \\EFI\\loopboot\\ gone, the ESP's files as before --esp"

# --- 3: the stick made in the system, Secure Boot on ------------------------------------
# A USB stick (the ISO written raw) first in the boot order, the disk second
# (OVMF connects only the devices in the boot order), fresh variables.
TAP_PREFIX="3, the stick: "
xorriso -indev "$LB_WORK/loopboot.iso" -find / -name 'vmlinuz*' 2>/dev/null >"$LB_WORK/iso-kernels"
grep -q "/loopboot/vmlinuz" "$LB_WORK/iso-kernels"
tap $? "the kernel on it (/loopboot/vmlinuz)"
cp "$OVMF_VARS" "$LB_WORK/vars-stick.fd"
log=$LB_WORK/serial-3.log
t0=$SECONDS
firmware "$log" "$LB_WORK/vars-stick.fd" \
	-drive "file=$disk,format=raw,if=none,id=hd" -device virtio-blk-pci,drive=hd,bootindex=1 \
	-device qemu-xhci -drive "file=$LB_WORK/loopboot.iso,format=raw,if=none,id=stick,snapshot=on" \
	-device usb-storage,drive=stick,bootindex=0
echo "# run 3: QEMU exit $? after $((SECONDS - t0)) s"
expect_log "^LBESP cmdline BOOT_IMAGE=/loopboot/vmlinuz root=UUID=$uuid loop=$FILE rw" \
	"shim and Debian's signed GRUB started the kernel on the stick with this boot's kernel line"
expect_log "^LBESP stick ${kver//+/\\+}\$" "the system's kernel ($kver) runs the init in the file"
expect_log '^LBESP secureboot +1$' "Secure Boot is on (the firmware's SecureBoot variable)"
expect_log 'secureboot: Secure boot enabled' "the kernel says Secure Boot is on"
expect_log '^LBESP mount /dev/loop[0-9]+ / ext4 rw' "/ is the loop device, read-write"
expect_log '^loopboot-shutdown: /dev/vda2: closed' "loopboot's shutdown closed the host"

# --- 4: a stick that follows the system, Secure Boot on: refused -----------------------
# Made here with the system's shim and signed GRUB: Debian 13's has ntfs
# built in but, with Secure Boot on, does not read the partition ("unknown
# filesystem"; it does with Secure Boot off), Debian 12's has no ntfs and
# may load no module: why the default above copies.
TAP_PREFIX="4, --follow: "
if LOOPBOOT_SHIM_DIR=$LB_WORK/signed/shim LOOPBOOT_GRUB_SIGNED_DIR=$LB_WORK/signed/grub \
	"$mkmedia" --follow --append "root=UUID=$uuid loop=$FILE rw" --serial --timeout 1 \
	--iso "$LB_WORK/follow.iso" >"$LB_WORK/follow.log" 2>&1; then
	cp "$OVMF_VARS" "$LB_WORK/vars-stick.fd"
	log=$LB_WORK/serial-4.log
	t0=$SECONDS
	lb_qemu_until "$log" 'loopboot: no partition|Linux version' -m 1024 -t "${LB_REFUSED_TIMEOUT:-150}" \
		-s "file:$log" -nic none \
		-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on \
		-global ICH9-LPC.disable_s3=1 \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,unit=1,file=$LB_WORK/vars-stick.fd" \
		-drive "file=$disk,format=raw,if=none,id=hd,snapshot=on" -device virtio-blk-pci,drive=hd,bootindex=1 \
		-device qemu-xhci -drive "file=$LB_WORK/follow.iso,format=raw,if=none,id=stick,snapshot=on" \
		-device usb-storage,drive=stick,bootindex=0 </dev/null >>"$LB_WORK/qemu.log" 2>&1
	echo "# run 4: QEMU exit $? after $((SECONDS - t0)) s"
	expect_log 'GNU GRUB +version 2\.' "Debian's signed GRUB started (shim, Secure Boot)"
	expect_log "loopboot: no partition UUID=$uuid" "it does not read the NTFS partition: loopboot's message"
	expect_no_log 'Linux version' "no kernel started"
else
	tap 1 "loopboot-mkmedia --follow with the system's signed chain (see $LB_WORK/follow.log)"
fi
TAP_PREFIX=
if [ "$failed" -gt 0 ]; then
	for f in "$LB_WORK"/serial-*.log; do
		echo "# $f (last 25 lines):"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
fi
echo "# total $((SECONDS - start)) s"
if [ "$failed" = 0 ]; then
	rm -rf "$disk" "$LB_WORK/esp-now" "$LB_WORK/host.part" "$LB_WORK/loopboot.iso" "$LB_WORK/follow.iso"
fi
