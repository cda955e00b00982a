#!/bin/bash
# loopboot-create through all its steps in seconds, no download, no QEMU:
# debootstrap is a stub that lays out the directories a real one leaves and
# a shell (/bin/sh with its libraries) whose apt-get, systemctl, useradd,
# lsinitramfs ... only write down how they were called.  What is checked is
# what loopboot-create itself does and asks for, in the file it makes:
#  --desktop: the plan names the desktop and NetworkManager; apt-get is
#    asked for task-desktop and network-manager with their recommends;
#    systemd-networkd is not enabled and has no .network file;
#  the same run without --desktop, the other way round (so the checks can
#    tell the two apart);
#  --fs btrfs (the desktop run) and --fs xfs (the other): the image and
#    the /home image are of that type, fstab mounts /home so with no fsck
#    pass, btrfs-progs or xfsprogs is asked for, conf.d/loopboot names the
#    host's and the image's file systems, and the initramfs is made again
#    when it lacks the module;
#  --cache held by another run (its lock): the plain run says so, waits,
#    and goes on;
#  --usb killed (SIGKILL) while the boot image is written to the stick (a
#    loop device; a dd stub stops after the first 4 MiB): the guardian
#    stops the dd, removes the file, releases the host and leaves the
#    stick attached and unmounted; a second run writes it to the end.
# The host is ext4 (fallocate: 12 GiB allocated at once) in a sparse file.
#
#   tests/create/stubbed.sh     (tools from build/: make all)
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
# shellcheck source=../lib/safe-rm.sh
. "$LB_TOP/tests/lib/safe-rm.sh"
WORK=$LB_TOP/build/create-stubbed
export PATH=$WORK/stubs:$LB_TOP/$B/bin:$PATH
export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
export LOOPBOOT_CREATE_RUN=$WORK/run LOOPBOOT_CREATE_LOG=$WORK/log
CREATE=$LB_TOP/helpers/loopboot-create

if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/loop-control ] || ! command -v mkfs.btrfs >/dev/null; then
	echo "ok 1 - loopboot-create with a stub system # SKIP not root, no loop devices or no mkfs.btrfs"
	echo "1..1"
	exit 0
fi
safe_rm "$WORK"
mkdir -p "$WORK/run" "$WORK/stubs" "$WORK/mnt" "$WORK/img"
dev='' usb=''
cleanup() {
	findmnt -rn "$WORK/img" >/dev/null && umount "$WORK/img"
	findmnt -rn "$WORK/mnt" >/dev/null && umount "$WORK/mnt"
	[ -n "$dev" ] && losetup -d "$dev"
	[ -n "$usb" ] && losetup -d "$usb"
	safe_rm "$WORK"
}
trap cleanup EXIT

# The stub debootstrap: SUITE TARGET MIRROR last.  It records its call.
cat >"$WORK/stubs/debootstrap" <<'EOF'
#!/bin/bash
for a; do :; done
t=${*: -2:1}
mkdir -p "$t"/{bin,boot,dev,etc/apt/apt.conf.d,etc/default,etc/systemd/system,etc/initramfs-tools/conf.d} \
	"$t"/{proc,run,sys,tmp,usr/bin,usr/sbin,var/cache/apt/archives,var/log,lib64,lib/x86_64-linux-gnu}
for f in /bin/sh $(ldd /bin/sh | grep -o '/[^ ]*'); do
	cp -L "$f" "$t$f"
done
# The commands loopboot-create runs in the new system: each writes down
# its arguments; apt-get install leaves what the kernel and loopboot's
# package would (a kernel, an initramfs, conf.d/loopboot);
# update-initramfs makes it again with the modules conf.d/loopboot names.
stub() {
	printf '#!/bin/sh\necho "%s $*" >>/var/log/stub.log\n%s\n' "$1" "${2:-exit 0}" >"$t/usr/bin/$1"
	chmod 755 "$t/usr/bin/$1"
}
stub apt-get 'case " $* " in *" install "*)
	: >/boot/vmlinuz-6.1.0-stub
	echo "scripts/local-premount/loopboot" >/boot/initrd.img-6.1.0-stub
	[ -e /etc/initramfs-tools/conf.d/loopboot ] ||
		printf "LOOPBOOT_HOST_FS=\"\"\nLOOPBOOT_IMAGE_FS=\"\"\n" >/etc/initramfs-tools/conf.d/loopboot ;;
esac
case " $* " in *" linux-image-amd64 "*)
	while read -r l; do echo "$l"; done </etc/initramfs-tools/conf.d/loopboot >/var/log/conf-at-kernel ;;
esac'
stub lsinitramfs 'while read -r l; do echo "$l"; done <"$1"'
stub update-initramfs '. /etc/initramfs-tools/conf.d/loopboot
{ echo "scripts/local-premount/loopboot"; echo "usr/lib/modules/6.1.0-stub/kernel/fs/$LOOPBOOT_IMAGE_FS/$LOOPBOOT_IMAGE_FS.ko"; } >/boot/initrd.img-6.1.0-stub'
stub systemctl
# loopboot-mkmedia --iso FILE: an 8 MiB image ("loopboot" over and over).
stub loopboot-mkmedia 'for a; do :; done; s=loopboot; i=0
while [ $i -lt 20 ]; do s=$s$s; i=$((i + 1)); done
printf %s "$s" >"$a"'
stub useradd
stub getent 'exit 2'
stub chpasswd 'while read -r l; do :; done'
echo "debootstrap $*" >"$t/var/log/stub.log"
EOF
chmod 755 "$WORK/stubs/debootstrap"
# dd, as a slow stick: the boot image's copy onto $LB_SLOW_USB writes its
# first 4 MiB block, says so in $LB_SLOW_USB_MARK, then waits to be stopped.
cat >"$WORK/stubs/dd" <<EOF
#!/bin/bash
if [ -n "\${LB_SLOW_USB:-}" ] && [[ " \$* " == *" of=\$LB_SLOW_USB "* && " \$* " != *" if=/dev/zero "* ]]; then
	$(command -v dd) "\$@" count=1 2>/dev/null
	: >"\$LB_SLOW_USB_MARK"
	sleep 120
fi
exec $(command -v dd) "\$@"
EOF
chmod 755 "$WORK/stubs/dd"

truncate -s 24G "$WORK/host.img"
mkfs.ext4 -q -L HOST "$WORK/host.img"
dev=$(losetup -f --show "$WORK/host.img")
printf 'pw\n' >"$WORK/pw"
: >"$WORK/loopboot.deb"

# create NAME FS ARGS...: a run to the end, then its file's system mounted
# at $WORK/img (the host at $WORK/mnt).
run_create() { # NAME FS ARGS...: output in $WORK/NAME.out (exec: this process becomes it)
	local name=$1 fs=$2
	shift 2
	${RUN_EXEC:+exec} "$CREATE" --host "$dev" --file "/$name.img" --user alice --password-file "$WORK/pw" \
		--mirror http://127.0.0.1:9/debian --deb "$WORK/loopboot.deb" --locale C.UTF-8 \
		--timezone Etc/UTC --keymap us --fs "$fs" --home-size 320M --yes "$@" \
		</dev/null >"$WORK/$name.out" 2>&1
}
create() {
	local name=$1 fs=$2 rc
	shift 2
	run_create "$name" "$fs" "$@"
	rc=$?
	tap $rc "$name: loopboot-create ran to the end with the stub system (exit $rc)" ||
		tail -n 15 "$WORK/$name.out" | sed 's/^/#   /'
	mount -o ro "$dev" "$WORK/mnt" &&
		mount -o ro,loop "$WORK/mnt/$name.img" "$WORK/img" || return 1
	T=$WORK/img
	[ "$(findmnt -n -o FSTYPE "$T")" = "$fs" ] &&
		[ "$(blkid -o value -s TYPE "$WORK/mnt/$name.home.img")" = "$fs" ]
	tap $? "$name: --fs $fs: the image and the /home image are $fs"
	grep -Eq "^/host/$name\\.home\\.img +/home +$fs +loop +0 +0\$" "$T/etc/fstab"
	tap $? "$name: fstab mounts /home as $fs from /host, with no fsck pass" ||
		sed 's/^/#   /' "$T/etc/fstab"
	grep -qx "LOOPBOOT_IMAGE_FS=\"$fs\"" "$T/etc/initramfs-tools/conf.d/loopboot" &&
		grep -qx 'LOOPBOOT_HOST_FS="ext4"' "$T/etc/initramfs-tools/conf.d/loopboot"
	tap $? "$name: conf.d/loopboot names the image's ($fs) and the host's (ext4) file systems"
	grep -Eq "^apt-get install .* $([ "$fs" = btrfs ] && echo btrfs-progs || echo xfsprogs)( |\$)" "$T/var/log/stub.log"
	tap $? "$name: the $fs tools are installed (fsck.$fs in the initramfs, loopboot-grow)"
	# The kernel last, alone, with loopboot's settings in place: its own
	# installation makes its initramfs, and no trigger makes it again.
	local kernel_at deb_at
	kernel_at=$(grep -n '^apt-get install' "$T/var/log/stub.log" | grep linux-image | cut -d: -f1)
	deb_at=$(grep -n '^apt-get install.* /tmp/loopboot\.deb' "$T/var/log/stub.log" | cut -d: -f1)
	[ "$(wc -w <<<"$kernel_at")" = 1 ] && [ "$(wc -w <<<"$deb_at")" = 1 ] &&
		[ "$kernel_at" -gt "$deb_at" ] &&
		sed -n "${kernel_at}p" "$T/var/log/stub.log" | grep -Eq '^apt-get install -y -q -o [^ ]+ linux-image-amd64$' &&
		grep -qx "LOOPBOOT_IMAGE_FS=\"$fs\"" "$T/var/log/conf-at-kernel"
	tap $? "$name: the kernel is installed last, on its own, after loopboot and its settings"
	grep -q '^update-initramfs -u -k 6.1.0-stub' "$T/var/log/stub.log" &&
		grep -q "fs/$fs/$fs.ko" "$T/boot/initrd.img-6.1.0-stub"
	tap $? "$name: an initramfs without the $fs module is made again"
}
finish() {
	umount "$WORK/img"
	umount "$WORK/mnt"
}

create desktop btrfs --size 12G --desktop
plan=$WORK/desktop.out
grep -q '^  system      Debian trixie from .*, desktop (task-desktop)$' "$plan" &&
	grep -q '^  network     NetworkManager$' "$plan"
tap $? "--desktop: the plan names the desktop and NetworkManager" || sed -n '1,20s/^/#   /p' "$plan"
grep -q '^apt-get install -y -q -o APT::Install-Recommends=true task-desktop network-manager$' "$T/var/log/stub.log"
tap $? "--desktop: apt-get installs task-desktop and network-manager, with their recommends" ||
	sed 's/^/#   /' "$T/var/log/stub.log"
! grep -q 'enable systemd-networkd' "$T/var/log/stub.log" && [ ! -e "$T/etc/systemd/network" ]
tap $? "--desktop: systemd-networkd is not enabled and has no .network file"
finish

mkdir -p "$WORK/cache"
flock "$WORK/cache/.loopboot-create.lock" sleep 4 &
sleep 0.5
t0=$SECONDS
create plain xfs --size 3G --cache "$WORK/cache"
grep -q "$WORK/cache: in use by another run; its steps that download wait for it" "$WORK/plain.out" &&
	[ $((SECONDS - t0)) -ge 3 ]
tap $? "--cache in use by another run: it says so and waits for it ($((SECONDS - t0)) s)"
grep -q '^  network     DHCP on every wired interface (systemd-networkd)$' "$WORK/plain.out"
tap $? "without --desktop: the plan names systemd-networkd"
! grep -q 'task-desktop\|network-manager' "$T/var/log/stub.log" &&
	grep -q '^systemctl enable systemd-networkd' "$T/var/log/stub.log" &&
	grep -q '^DHCP=yes' "$T/etc/systemd/network/20-wired.network"
tap $? "without --desktop: no desktop; systemd-networkd enabled, DHCP on the wired interfaces" ||
	sed 's/^/#   /' "$T/var/log/stub.log"
finish

# --usb, killed while the stick is written.
truncate -s 600M "$WORK/usb.img"
usb=$(losetup -f --show "$WORK/usb.img")
RUN_EXEC=1 LB_SLOW_USB=$usb LB_SLOW_USB_MARK=$WORK/usb-half run_create usbkill ext4 --size 3G --usb "$usb" --yes-usb "$usb" &
pid=$!
for _ in $(seq 600); do
	[ -e "$WORK/usb-half" ] || ! kill -0 "$pid" 2>/dev/null && break
	sleep 0.2
done
[ -e "$WORK/usb-half" ]
tap $? "--usb: the run reached the stick and wrote its first 4 MiB" || tail -n 15 "$WORK/usbkill.out" | sed 's/^/#   /'
# $pid is loopboot-create itself (RUN_EXEC), not a subshell around it.
grep -q loopboot-create "/proc/$pid/cmdline" 2>/dev/null && kill -KILL "$pid"
wait "$pid" 2>/dev/null
# The guardian (a process of the same command line) cleans up.
for _ in $(seq 300); do
	pgrep -f -- "--file /usbkill.img" >/dev/null || break
	sleep 0.2
done
out=$WORK/usbkill.out
grep -q 'was killed; cleaning up' "$out" && grep -q 'stopped during: boot media' "$out" &&
	! pgrep -f -- "--file /usbkill.img" >/dev/null
tap $? "--usb killed mid-write: the guardian cleans up and says which step was stopped" || sed 's/^/#   /' "$out"
! pgrep -f -- "of=$usb" >/dev/null
tap $? "--usb killed mid-write: no dd is left writing to the stick"
! findmnt -rn -S "$dev" >/dev/null && mount -o ro "$dev" "$WORK/mnt" &&
	[ ! -e "$WORK/mnt/usbkill.img" ] && [ ! -e "$WORK/mnt/usbkill.home.img" ]
tap $? "--usb killed mid-write: the host is released, the run's files removed"
umount "$WORK/mnt"
[ "$(losetup -n -O BACK-FILE "$usb")" = "$WORK/usb.img" ] && ! findmnt -rn -S "$usb" >/dev/null
tap $? "--usb killed mid-write: the stick (not this run's loop device) is left attached, unmounted"
run_create usbkill ext4 --size 3G --usb "$usb" --yes-usb "$usb"
rc=$?
s=loopboot
for _ in $(seq 20); do s=$s$s; done
[ $rc = 0 ] && grep -q 'written and read back' "$WORK/usbkill.out" &&
	cmp -s -n 8388608 "$usb" <(printf %s "$s")
tap $? "--usb again on the half-written stick: written to the end and read back (exit $rc)" ||
	tail -n 15 "$WORK/usbkill.out" | sed 's/^/#   /'

echo "1..$n"
[ "$failed" = 0 ]
