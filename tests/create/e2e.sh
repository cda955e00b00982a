#!/bin/bash
# loopboot-create end to end (issue 15): Debian 13 made by loopboot-create
# in a file on the NTFS partition of a disk image (host mounted by
# ntfs-3g on this machine), then booted under QEMU with its own kernel and
# initramfs (Debian 13's kernel: ntfs3).  On the serial console the user
# logs in with the password given; the test reads systemctl
# is-system-running, /host, the DHCP address (QEMU's user network), runs
# apt-get update against the mirror, grows the file online by 256 MiB
# (loopboot-grow) and powers off.  Offline: the volume is clean, the file
# holds exactly the new size, allocated, and e2fsck -fn finds the image
# clean.  Also --home-size (/home in a second file, mounted by fstab),
# --iso (loopboot-mkmedia run in the new system), --pxe (its files, then
# booted: a third boot over QEMU's network and TFTP server, iPXE running
# boot.ipxe, to the login prompt; --kernel-cmdline console=ttyS0 puts the
# serial console on the media's kernel line, as for a headless machine)
# and --usb (the boot image written to a loop device standing in for a
# stick, compared byte for byte).
#
# With --fs btrfs or --fs xfs: the system on that file system (root and
# /home), one boot (ntfs3) with the same checks and the online growth, the
# file system type, fstab and the initramfs' module checked, and offline
# btrfs check or xfs_repair -n instead of e2fsck; no --iso, --pxe, --usb.
#
# Packages come from $LB_SYSTEM_CACHE/create-cache (filled on the first
# run).  The loopboot package installed into the new system: LB_CREATE_DEB,
# else ../loopboot_VERSION_ARCH.deb (made by tests/install-deb in make
# check) when it has loopboot-grow, else one built here from this tree.
#
#   tests/create/e2e.sh [--fs btrfs|xfs]
# shellcheck disable=SC2016 # $(...) typed into the guest, not run here
# shellcheck disable=SC2015 # "a && b || c": c when either fails
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
FS=ext4
if [ "${1-}" = --fs ]; then
	FS=${2:?--fs needs btrfs or xfs}
fi
case $FS in ext4 | btrfs | xfs) ;; *) echo "usage: $0 [--fs btrfs|xfs]" >&2; exit 2 ;; esac
export LB_WORK=$LB_TOP/build/create-e2e
[ "$FS" = ext4 ] || LB_WORK=$LB_WORK-$FS
B=${B:-build}
# shellcheck source=../lib/qemu.sh
. "$LB_TOP/tests/lib/qemu.sh"
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
# shellcheck source=../lib/safe-rm.sh
. "$LB_TOP/tests/lib/safe-rm.sh"
CACHE=${LB_SYSTEM_CACHE:-/var/cache/loopboot-tests}/create-cache
MIRROR=${LB_MIRROR:-http://deb.debian.org/debian}
FILE=/linux/debian.img
PASSWORD='lb e2e pw'
export PATH=$LB_TOP/$B/bin:$PATH
export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
export LOOPBOOT_CREATE_RUN=$LB_WORK/run LOOPBOOT_CREATE_LOG=$LB_WORK/log


if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "ok 1 - loopboot-create end to end # SKIP not root, or no debootstrap or QEMU"
	echo "1..1"
	exit 0
fi
start=$(date +%s)
qemu=''
safe_rm "$LB_WORK"
mkdir -p "$LB_WORK/run" "$LB_WORK/mnt" "$CACHE"
part='' usbdev=''
cleanup() {
	findmnt -rn "$LB_WORK/img" >/dev/null && umount "$LB_WORK/img"
	findmnt -rn "$LB_WORK/mnt" >/dev/null && umount "$LB_WORK/mnt"
	[ -n "$part" ] && losetup -d "$part" 2>/dev/null
	[ -n "$usbdev" ] && losetup -d "$usbdev" 2>/dev/null
	[ -n "${qemu-}" ] && kill "$qemu" 2>/dev/null
	rm -f "$LB_WORK/disk.img" "$LB_WORK/console" "$LB_WORK/usb.img"
}
trap cleanup EXIT

# --- the loopboot package for the new system -------------------------------
version=$(dpkg-parsechangelog -l "$LB_TOP/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb=${LB_CREATE_DEB:-$LB_TOP/../loopboot_${version}_$arch.deb}
if [ ! -f "$deb" ] || ! dpkg-deb -c "$deb" 2>/dev/null | grep -q 'usr/sbin/loopboot-grow$'; then
	src=$LB_WORK/deb/loopboot-$version
	mkdir -p "$src"
	(cd "$LB_TOP" && git ls-files -z | xargs -0 cp --parents -t "$src") &&
		(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b >../build.log 2>&1) ||
		lb_die "cannot build the package (see $LB_WORK/deb/build.log)"
	deb=$LB_WORK/deb/loopboot_${version}_$arch.deb
fi
echo "# loopboot package: $deb"

# --- the disk: MBR, one NTFS partition at 1 MiB ------------------------------
disk=$LB_WORK/disk.img
truncate -s $((6 * 1024 + 2))M "$disk"
echo "start=2048, type=7" | sfdisk -q --label dos "$disk" >/dev/null || lb_die "sfdisk failed"
part=$(losetup -f --show -o 1048576 --sizelimit $((6 * 1024 * 1048576)) "$disk")
mkntfs -Q -F -p 2048 -H 255 -S 63 -L WINDOWS "$part" >/dev/null 2>&1 || lb_die "mkntfs failed"
uuid=$(blkid -o value -s UUID "$part")

# --- the stick: a loop device, its last MiB not zero (an old backup GPT) ----
media=()
if [ "$FS" = ext4 ]; then
	truncate -s 600M "$LB_WORK/usb.img"
	head -c 1048576 /dev/urandom | dd of="$LB_WORK/usb.img" bs=1M seek=599 conv=notrunc status=none
	usbdev=$(losetup -f --show "$LB_WORK/usb.img")
	media=(--iso "$LB_WORK/loopboot.iso" --pxe "$LB_WORK/pxe" --usb "$usbdev" --yes-usb "$usbdev"
		--kernel-cmdline console=ttyS0)
fi

# --- create ----------------------------------------------------------------------
printf '%s\n' "$PASSWORD" >"$LB_WORK/pw"
t0=$(date +%s)
cp "$LB_TOP/helpers/loopboot-create" "$LB_WORK/loopboot-create"
"$LB_WORK/loopboot-create" --host "$part" --file "$FILE" --size 3G --user alice \
	--password-file "$LB_WORK/pw" --hostname lbcreate --mirror "$MIRROR" --cache "$CACHE" \
	--deb "$deb" --host-driver ntfs-3g --home-size 320M --fs "$FS" "${media[@]}" --yes \
	</dev/null >"$LB_WORK/create.log" 2>&1
if ! tap $? "loopboot-create made the system ($(($(date +%s) - t0)) s)"; then
	tail -n 30 "$LB_WORK/create.log" | sed 's/^/#   /'
	echo "1..$n"
	exit 1
fi
grep -q "kernel line: root=UUID=$uuid loop=$FILE rw" "$LB_WORK/create.log"
tap $? "it prints the kernel line (root=UUID=$uuid loop=$FILE rw)"
[ -z "$(findmnt -rn -S "$part")" ] && ! losetup -a | grep -qF "$LB_WORK/run"
tap $? "afterwards: the partition is unmounted, no loop device left"
# The kernel's initramfs made once: by the kernel's own installation,
# after loopboot's (no trigger, no step 8 making it again).
builds=$(cat "$LB_WORK"/log/*/apt*.log "$LB_WORK"/log/*/initramfs.log 2>/dev/null |
	grep -c 'update-initramfs: Generating /boot/initrd.img-')
[ "$builds" = 1 ]
tap $? "the new system's initramfs was made once (made $builds times)"
ntfsprobe "$part" >/dev/null 2>&1
tap $? "afterwards: ntfsprobe finds the volume clean"
if [ "$FS" = ext4 ]; then
[ "$(blkid -o value -s TYPE "$LB_WORK/loopboot.iso")" = iso9660 ] &&
	xorriso -indev "$LB_WORK/loopboot.iso" -ls /loopboot 2>/dev/null | grep -q vmlinuz &&
	xorriso -osirrox on -indev "$LB_WORK/loopboot.iso" -extract /boot/grub/grub.cfg \
		"$LB_WORK/grub.cfg" >/dev/null 2>&1 &&
	grep -q "linux /loopboot/vmlinuz 'root=UUID=$uuid' 'loop=$FILE' 'rw' 'console=ttyS0'\$" "$LB_WORK/grub.cfg"
tap $? "--iso: the boot image was made, its menu has the kernel line (loopboot-mkmedia in the new system)" ||
	stat -c '#   %n: %s bytes' "$LB_WORK/loopboot.iso" 2>&1
isize=$(stat -c %s "$LB_WORK/loopboot.iso")
cmp -n "$isize" "$LB_WORK/loopboot.iso" "$usbdev"
tap $? "--usb: the stick holds the boot image, byte for byte ($isize bytes)"
grep -q "$usbdev: written and read back" "$LB_WORK/create.log" &&
	grep -q "$usbdev: the boot stick is ready" "$LB_WORK/create.log"
tap $? "--usb: it says the stick was written and read back"
[ "$(dd if="$usbdev" bs=1M skip=599 count=1 status=none | tr -d '\0' | wc -c)" = 0 ]
tap $? "--usb: the stick's last MiB (an old backup GPT's place) is zeroed"
rm -f "$LB_WORK/loopboot.iso"
losetup -d "$usbdev"
usbdev=''
rm -f "$LB_WORK/usb.img"
[ -s "$LB_WORK/pxe/vmlinuz-loopboot" ] && [ -s "$LB_WORK/pxe/initrd.img-loopboot" ] &&
	grep -q "^kernel vmlinuz-loopboot initrd=initrd.img-loopboot root=UUID=$uuid loop=$FILE rw console=ttyS0\$" \
		"$LB_WORK/pxe/boot.ipxe" &&
	grep -q "root=UUID=$uuid loop=$FILE rw console=ttyS0" "$LB_WORK/pxe/pxelinux.cfg/default"
tap $? "--pxe: the kernel, the initramfs, boot.ipxe and pxelinux.cfg/default with the kernel line" ||
	{ ls -l "$LB_WORK/pxe" && head -n 20 "$LB_WORK/pxe/boot.ipxe"; } 2>&1 | sed 's/^/#   /'
fi

# The kernel and initramfs, out of the image (read-only).
ntfs-3g -o ro "$part" "$LB_WORK/mnt" || lb_die "cannot mount $part"
img=$LB_WORK/mnt$FILE
if [ "$FS" = ext4 ]; then
	kver=$(debugfs -R 'ls /boot' "$img" 2>/dev/null | tr -s ' ' '\n' | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1)
	debugfs -R "dump /boot/vmlinuz-$kver $LB_WORK/vmlinuz" "$img" >/dev/null 2>&1
	debugfs -R "dump /boot/initrd.img-$kver $LB_WORK/initrd.img" "$img" >/dev/null 2>&1
else
	mkdir -p "$LB_WORK/img"
	ro=ro
	[ "$FS" = xfs ] && ro=ro,norecovery
	mount -t "$FS" -o "$ro,loop" "$img" "$LB_WORK/img" || lb_die "cannot mount the $FS image"
	[ "$(findmnt -n -o FSTYPE "$LB_WORK/img")" = "$FS" ]
	tap $? "--fs $FS: the image holds $FS"
	kver=$(find "$LB_WORK/img/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
	cp "$LB_WORK/img/boot/vmlinuz-$kver" "$LB_WORK/vmlinuz"
	cp "$LB_WORK/img/boot/initrd.img-$kver" "$LB_WORK/initrd.img"
	grep -Eq "^/host${FILE%.img}\.home\.img +/home +$FS +loop +0 +0\$" "$LB_WORK/img/etc/fstab"
	tap $? "--fs $FS: fstab mounts /home as $FS, with no fsck pass" ||
		sed 's/^/#   /' "$LB_WORK/img/etc/fstab"
	grep -qx "LOOPBOOT_IMAGE_FS=\"$FS\"" "$LB_WORK/img/etc/initramfs-tools/conf.d/loopboot" &&
		grep -qx 'LOOPBOOT_HOST_FS="ntfs"' "$LB_WORK/img/etc/initramfs-tools/conf.d/loopboot"
	tap $? "--fs $FS: conf.d/loopboot names the image's and the host's file systems (for MODULES=dep)"
	tool=$([ "$FS" = btrfs ] && echo btrfs || echo xfs_growfs)
	[ -x "$LB_WORK/img/usr/bin/$tool" ] || [ -x "$LB_WORK/img/usr/sbin/$tool" ]
	tap $? "--fs $FS: the tools to grow it are installed ($tool)"
	umount "$LB_WORK/img"
	lsinitramfs "$LB_WORK/initrd.img" >"$LB_WORK/initrd.list" 2>/dev/null
	grep -Eq "/$FS\.ko(\.[a-z]+)?\$" "$LB_WORK/initrd.list" && grep -q "sbin/fsck\.$FS\$" "$LB_WORK/initrd.list"
	tap $? "--fs $FS: the initramfs has the $FS module and fsck.$FS"
fi
size_before=$(stat -c %s "$img")
# (the image's loop device, if any, lets go of the file on its last close)
for _ in $(seq 20); do umount "$LB_WORK/mnt" 2>/dev/null && break; sleep 0.5; done
while pgrep -f "ntfs-3g -o ro $part" >/dev/null; do sleep 0.1; done
losetup -d "$part"
part=''
[ -s "$LB_WORK/vmlinuz" ] && [ -s "$LB_WORK/initrd.img" ]
tap $? "the system has its kernel ($kver) and initramfs" || exit 1

# --- boot, log in, look, grow, power off ----------------------------------------
# boot TAG APPEND: boot the disk with the system's own kernel and initramfs
# (APPEND "pxe": from the --pxe files instead, over the network), serial
# console through a FIFO; log in as alice.  Then "run" types a command and
# waits for its marker.
boot() {
	local from
	# shellcheck disable=SC2054 # QEMU's own comma lists
	if [ "$2" = pxe ]; then
		from=(-netdev "user,id=n0,tftp=$LB_WORK/pxe,bootfile=boot.ipxe" -device e1000,netdev=n0 -boot n)
	else
		from=(-nic user,model=virtio-net-pci -kernel "$LB_WORK/vmlinuz" -initrd "$LB_WORK/initrd.img"
			-append "root=UUID=$uuid loop=$FILE rw console=ttyS0 panic=-1 no_timer_check $2")
	fi
	log=$LB_WORK/serial-$1.log
	fifo=$LB_WORK/console
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$log"
	t0=$(date +%s)
	lb_qemu -m 1024 -t 600 -s stdio -drive "file=$disk,format=raw,if=virtio" "${from[@]}" \
		<"$fifo" >"$log" 2>&1 &
	qemu=$!
	trap '' PIPE
	exec 7>"$fifo"
	TAP_PREFIX="$1: "
	wait_for 'lbcreate login:' 400
	tap $? "the system reached the login prompt on the serial console ($(($(date +%s) - t0)) s)" ||
		tail -n 30 "$log" | sed 's/^/#   /'
	type_line alice
	wait_for 'Password:' 60
	type_line "$PASSWORD"
	wait_for 'alice@lbcreate:~\$' 60
	tap $? "alice logs in with the password given"
}
# wait_for REGEX SECONDS: the regex shows up in the serial log.
wait_for() {
	local i
	for ((i = 0; i < $2 * 2; i++)); do
		grep -Eaq -- "$1" "$log" && return 0
		kill -0 "$qemu" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}
type_line() { # typed slowly: the UART drops what comes too fast
	local i s=$1
	for ((i = 0; i < ${#s}; i++)); do
		printf '%s' "${s:i:1}" >&7
		sleep 0.01
	done
	printf '\r' >&7
}
# run NAME SECONDS COMMAND: COMMAND's output after "LBT-NAME " on one line.
# The marker is typed as LBT""-NAME, so the echo of the line never matches.
run() {
	type_line "echo LBT\"\"-$1 \$($3)"
	wait_for "LBT-$1([^A-Z0-9]|\$)" "$2"
}
sudo_cmd() { echo "echo '$PASSWORD' | sudo -S -p '' $*"; }
poweroff() {
	type_line "$(sudo_cmd systemctl poweroff)"
	wait "$qemu"
	qemu=''
	exec 7>&-
	echo "# ${TAP_PREFIX}boot to power-off: $(($(date +%s) - t0)) s"
}
expect() { # REGEX DESCRIPTION
	grep -Eaq -- "$1" "$log"
	tap $? "$2" || grep -Ea 'LBT-|loopboot' "$log" | tail -n 8 | sed 's/^/#   /'
}
expect_none() { ! grep -Eaq -- "$1" "$log"; tap $? "$2"; }
after_poweroff() {
	expect 'reboot: Power down' "the system powered off"
	expect 'loopboot-shutdown: /dev/vda1: closed' "loopboot's shutdown closed the host"
	# (Not the floppy drive of QEMU's pc machine, which has no disk: the
	# initramfs' btrfs device scan reads every block device.)
	! grep -a 'I/O error' "$log" | grep -vq 'I/O error, dev fd0,'
	tap $? "no I/O error (but on the empty floppy drive)" || grep -a 'I/O error' "$log" | head -n 3 | sed 's/^/#   /' 
}

# The first boot: ntfs3 (Debian 13's kernel has it), growing online.
boot ntfs3 ''
run STATE 300 'systemctl is-system-running --wait'
run HOST 30 'findmnt -n -o FSTYPE,OPTIONS /host | cut -c1-40'
run IP 30 'ip -4 -o addr show scope global | awk "{ print \$2, \$4 }"'
run APT 240 "$(sudo_cmd apt-get -q update) >/dev/null 2>&1; echo rc=\$?"
run DF1 30 'df -B1 --output=size / | tail -n 1'
run GROW 240 "$(sudo_cmd loopboot-grow +256M --yes) >/dev/null 2>&1; echo rc=\$?"
run DF2 30 'df -B1 --output=size / | tail -n 1'
run ZRAM 30 'grep -o "^/dev/zram[0-9]*" /proc/swaps'
run HOME 30 'findmnt -n -o SOURCE,FSTYPE /home'
run ROOTFS 30 'findmnt -n -o FSTYPE /'
poweroff
expect 'LBT-STATE (running|degraded)' "systemctl is-system-running: running (or degraded)"
grep -aq 'LBT-STATE running' "$log" || grep -a 'LBT-STATE' "$log" | sed 's/^/# /'
expect 'LBT-HOST ntfs3 rw' "/host is the NTFS partition, read-write, ntfs3"
expect 'LBT-IP (en|eth)[a-z0-9]* 10\.0\.2\.[0-9]+/' "a DHCP address on the wired interface (systemd-networkd)"
expect 'LBT-APT rc=0' "apt-get update works against the mirror"
expect 'LBT-GROW rc=0' "loopboot-grow +256M, online"
df1=$(sed -n 's/.*LBT-DF1 \([0-9]*\).*/\1/p' "$log" | tail -n 1)
df2=$(sed -n 's/.*LBT-DF2 \([0-9]*\).*/\1/p' "$log" | tail -n 1)
[ -n "$df1" ] && [ -n "$df2" ] && [ "$df2" -gt $((df1 + 200 * 1048576)) ]
tap $? "df shows the grown root ($df1 -> $df2 bytes)"
expect 'LBT-ZRAM /dev/zram0' "swap is zram"
expect "LBT-HOME /dev/loop[0-9]+ +$FS" "--home-size: /home is the second image, mounted from /host by fstab"
expect "LBT-ROOTFS $FS" "the root is $FS"
after_poweroff

# The second boot: ntfs-3g (rootfstype= pins it), after the growth.
if [ "$FS" = ext4 ]; then
boot ntfs-3g rootfstype=ntfs-3g
run STATE 300 'systemctl is-system-running --wait'
run HOST 30 'findmnt -n -o FSTYPE,OPTIONS /host | cut -c1-40'
run DF3 30 'df -B1 --output=size / | tail -n 1'
poweroff
expect 'LBT-STATE (running|degraded)' "systemctl is-system-running: running (or degraded)"
expect 'LBT-HOST fuseblk rw' "/host is the NTFS partition, read-write, ntfs-3g"
df3=$(sed -n 's/.*LBT-DF3 \([0-9]*\).*/\1/p' "$log" | tail -n 1)
[ -n "$df3" ] && [ "$df3" = "$df2" ]
tap $? "the grown size after the reboot ($df3)"
after_poweroff

# The third boot: from the --pxe files, as a PC booting from the network
# would (QEMU's iPXE fetches boot.ipxe, the kernel and the initramfs by
# TFTP; its menu's first entry starts after the timeout).
boot pxe pxe
run CMDLINE 30 'cat /proc/cmdline'
run HOST 30 'findmnt -n -o FSTYPE,OPTIONS /host | cut -c1-40'
run DF4 30 'df -B1 --output=size / | tail -n 1'
poweroff
expect "LBT-CMDLINE (BOOT_IMAGE=)?(vmlinuz-loopboot )?initrd=initrd.img-loopboot root=UUID=$uuid loop=$FILE rw console=ttyS0" \
	"the kernel line is boot.ipxe's (the kernel and initramfs came over TFTP)"
expect 'LBT-HOST ntfs3 rw' "/host is the NTFS partition, read-write, ntfs3"
df4=$(sed -n 's/.*LBT-DF4 \([0-9]*\).*/\1/p' "$log" | tail -n 1)
[ -n "$df4" ] && [ "$df4" = "$df2" ]
tap $? "the root in the file, grown ($df4)"
after_poweroff
fi
TAP_PREFIX=''

# --- offline ----------------------------------------------------------------------
part=$(losetup -f --show -o 1048576 --sizelimit $((6 * 1024 * 1048576)) "$disk")
ntfsprobe "$part" >"$LB_WORK/probe" 2>&1
tap $? "offline: ntfsprobe finds the volume clean ($(head -c 100 "$LB_WORK/probe"))"
ntfs-3g.probe --readwrite "$part" >/dev/null 2>&1
tap $? "offline: ntfs-3g.probe --readwrite returns 0"
ntfs-3g -o ro "$part" "$LB_WORK/mnt"
size=$(stat -c %s "$img")
[ "$size" = $((size_before + 256 * 1048576)) ] && [ $(($(stat -c '%b*%B' "$img"))) -ge "$size" ]
tap $? "offline: the file is exactly 256 MiB bigger, allocated ($size_before -> $size)"
# fsck_image FILE: the image's own checker, read-only.
fsck_image() {
	case $FS in
	ext4) e2fsck -fn "$1" ;;
	btrfs) btrfs check --readonly "$1" ;;
	xfs) xfs_repair -n -f "$1" ;;
	esac >"$LB_WORK/fsck.log" 2>&1
}
fsck_image "$img"
tap $? "offline: the $FS checker finds the image clean" || tail -n 5 "$LB_WORK/fsck.log" | sed 's/^/#   /'
fsck_image "${img%.img}.home.img"
tap $? "offline: the $FS checker finds the /home image clean" || tail -n 5 "$LB_WORK/fsck.log" | sed 's/^/#   /'
umount "$LB_WORK/mnt"
while pgrep -f "ntfs-3g -o ro $part" >/dev/null; do sleep 0.1; done

echo "# loopboot-create end to end took $(($(date +%s) - start)) s"
echo "1..$n"
[ "$failed" = 0 ]
