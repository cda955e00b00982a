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
# clean.  Also --home-size (/home in a second file, mounted by fstab) and
# --iso (loopboot-mkmedia run in the new system).
#
# Packages come from $LB_SYSTEM_CACHE/create-cache (filled on the first
# run).  The loopboot package installed into the new system: LB_CREATE_DEB,
# else ../loopboot_VERSION_ARCH.deb (made by tests/install-deb in make
# check) when it has loopboot-grow, else one built here from this tree.
#
#   tests/create/e2e.sh
# shellcheck disable=SC2016 # $(...) typed into the guest, not run here
# shellcheck disable=SC2015 # "a && b || c": c when either fails
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
export LB_WORK=$LB_TOP/build/create-e2e
B=${B:-build}
# shellcheck source=../lib/qemu.sh
. "$LB_TOP/tests/lib/qemu.sh"
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
CACHE=${LB_SYSTEM_CACHE:-/var/cache/loopboot-tests}/create-cache
MIRROR=${LB_MIRROR:-http://deb.debian.org/debian}
FILE=/linux/debian.img
PASSWORD='lb e2e pw'
export PATH=$LB_TOP/$B/bin:$PATH
export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
export LOOPBOOT_CREATE_RUN=$LB_WORK/run LOOPBOOT_CREATE_LOG=$LB_WORK/log

# Never rm -rf a tree with a mount in it (a bind of /dev in a chroot).
safe_rm() {
	if findmnt -rn -o TARGET | grep -q "^$1\(/\|\$\)"; then
		echo "# $1: something is still mounted under it; not removed" >&2
		return 1
	fi
	rm -rf "$1"
}

if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "ok 1 - loopboot-create end to end # SKIP not root, or no debootstrap or QEMU"
	echo "1..1"
	exit 0
fi
start=$(date +%s)
qemu=''
safe_rm "$LB_WORK"
mkdir -p "$LB_WORK/run" "$LB_WORK/mnt" "$CACHE"
part=''
cleanup() {
	findmnt -rn "$LB_WORK/mnt" >/dev/null && umount "$LB_WORK/mnt"
	[ -n "$part" ] && losetup -d "$part" 2>/dev/null
	[ -n "${qemu-}" ] && kill "$qemu" 2>/dev/null
	rm -f "$LB_WORK/disk.img" "$LB_WORK/console"
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

# --- create ----------------------------------------------------------------------
printf '%s\n' "$PASSWORD" >"$LB_WORK/pw"
t0=$(date +%s)
cp "$LB_TOP/helpers/loopboot-create" "$LB_WORK/loopboot-create"
"$LB_WORK/loopboot-create" --host "$part" --file "$FILE" --size 3G --user alice \
	--password-file "$LB_WORK/pw" --hostname lbcreate --mirror "$MIRROR" --cache "$CACHE" \
	--deb "$deb" --host-driver ntfs-3g --home-size 256M --iso "$LB_WORK/loopboot.iso" --yes \
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
ntfsprobe "$part" >/dev/null 2>&1
tap $? "afterwards: ntfsprobe finds the volume clean"
[ "$(blkid -o value -s TYPE "$LB_WORK/loopboot.iso")" = iso9660 ] &&
	xorriso -indev "$LB_WORK/loopboot.iso" -ls /loopboot 2>/dev/null | grep -q vmlinuz &&
	xorriso -osirrox on -indev "$LB_WORK/loopboot.iso" -extract /boot/grub/grub.cfg \
		"$LB_WORK/grub.cfg" >/dev/null 2>&1 &&
	grep -q "linux /loopboot/vmlinuz 'root=UUID=$uuid' 'loop=$FILE' 'rw'\$" "$LB_WORK/grub.cfg"
tap $? "--iso: the boot image was made, its menu has the kernel line (loopboot-mkmedia in the new system)" ||
	stat -c '#   %n: %s bytes' "$LB_WORK/loopboot.iso" 2>&1
rm -f "$LB_WORK/loopboot.iso"

# The kernel and initramfs, out of the image (read-only).
ntfs-3g -o ro "$part" "$LB_WORK/mnt" || lb_die "cannot mount $part"
img=$LB_WORK/mnt$FILE
kver=$(debugfs -R 'ls /boot' "$img" 2>/dev/null | tr -s ' ' '\n' | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1)
debugfs -R "dump /boot/vmlinuz-$kver $LB_WORK/vmlinuz" "$img" >/dev/null 2>&1
debugfs -R "dump /boot/initrd.img-$kver $LB_WORK/initrd.img" "$img" >/dev/null 2>&1
size_before=$(stat -c %s "$img")
umount "$LB_WORK/mnt"
while pgrep -f "ntfs-3g -o ro $part" >/dev/null; do sleep 0.1; done
losetup -d "$part"
part=''
[ -s "$LB_WORK/vmlinuz" ] && [ -s "$LB_WORK/initrd.img" ]
tap $? "the system has its kernel ($kver) and initramfs" || exit 1

# --- boot, log in, look, grow, power off ----------------------------------------
# boot TAG APPEND: boot the disk with the system's own kernel and initramfs,
# serial console through a FIFO; log in as alice.  Then "run" types a
# command and waits for its marker.
boot() {
	log=$LB_WORK/serial-$1.log
	fifo=$LB_WORK/console
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$log"
	t0=$(date +%s)
	lb_qemu -m 1024 -t 600 -s stdio -drive "file=$disk,format=raw,if=virtio" \
		-nic user,model=virtio-net-pci -kernel "$LB_WORK/vmlinuz" -initrd "$LB_WORK/initrd.img" \
		-append "root=UUID=$uuid loop=$FILE rw console=ttyS0 panic=-1 no_timer_check $2" \
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
	expect_none 'I/O error|Buffer I/O error' "no I/O error"
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
expect 'LBT-HOME /dev/loop[0-9]+ +ext4' "--home-size: /home is the second image, mounted from /host by fstab"
after_poweroff

# The second boot: ntfs-3g (rootfstype= pins it), after the growth.
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
e2fsck -fn "$img" >"$LB_WORK/e2fsck.log" 2>&1
tap $? "offline: e2fsck -fn finds the image clean" || tail -n 5 "$LB_WORK/e2fsck.log" | sed 's/^/#   /'
e2fsck -fn "${img%.img}.home.img" >"$LB_WORK/e2fsck.log" 2>&1
tap $? "offline: e2fsck -fn finds the /home image clean" || tail -n 5 "$LB_WORK/e2fsck.log" | sed 's/^/#   /'
umount "$LB_WORK/mnt"
while pgrep -f "ntfs-3g -o ro $part" >/dev/null; do sleep 0.1; done

echo "# loopboot-create end to end took $(($(date +%s) - start)) s"
echo "1..$n"
[ "$failed" = 0 ]
