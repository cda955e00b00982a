#!/bin/bash
# scripts/loopboot/shutdown (the program systemd's last stage runs from
# shellcheck disable=SC2016,SC2028 # stub bodies are single-quoted on purpose
# /run/initramfs) outside a shutdown, with stub commands over a fake
# /proc/mounts: the order of its steps, each verb, the ntfs-3g wait, and that
# it goes down even when the host stays busy.  The real thing: tests/system/run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
prog=$top/scripts/loopboot/shutdown
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"
# The program's PATH holds the stubs alone: a command it starts that is not
# stubbed here fails (the stubs themselves find the real tools on theirs).
stub() { # NAME BODY: logs its arguments to $work/calls, then runs BODY
	printf '#!/bin/sh\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\nwork=%s\necho "%s $*" >>"$work/calls"\n%s\n' \
		"$work" "$1" "$2" >"$bin/$1"
	chmod +x "$bin/$1"
}
stub mkdir 'mkdir "$@"' 
# umount: busy while something is mounted below, or when $work/busy names it;
# -l takes the whole subtree.  mount -o move renames a mount point.
stub umount 'm=$work/mounts; lazy=; [ "$1" = -l ] && { lazy=1; shift; }
t=$(printf "%s" "$1" | sed "s/ /\\\\040/g")
grep -qF " $t " "$m" || exit 1
if [ -z "$lazy" ]; then
	grep -qF " $t/" "$m" && exit 1
	[ -f $work/busy ] && grep -qxF "$1" $work/busy && exit 1
fi
grep -vF -e " $t " -e " $t/" "$m" >"$m.new"; mv "$m.new" "$m"
[ -f $work/pid ] && [ "$1" = "$work/newroot-host" ] && rm -f $work/pid
exit 0'
stub mount 'm=$work/mounts
if [ "$1 $2" = "-o move" ]; then sed -i "s| $3 | $4 |" "$m"; fi
if [ "$1 $2" = "-t sysfs" ]; then mkdir -p $work/sys/block/loop0/loop; : >$work/sys/block/loop0/loop/backing_file; fi
exit 0'
stub losetup 'rm -f $work/sys/block/loop0/loop/backing_file
[ -f $work/pid ] && [ -f $work/lazy-host ] && rm -f $work/pid
exit 0'
stub pidof '[ -f $work/pid ] && cat $work/pid; exit 0'
stub sleep ':'
stub sync ':'
for v in poweroff reboot halt kexec; do stub $v 'kill $PPID; exit 0'; done

# run VERB DRIVER: a root on /dev/loop0, the host at run/loopboot/host and
# bound at /host, a user mount with a space; output in $work/out.
run() { (run_ "$@") 2>/dev/null; }
run_() {
	local verb=$1 driver=$2
	rm -f "$work/calls" "$work/busy" "$work/pid" "$work/lazy-host"
	mkdir -p "$work/sys/block/loop0/loop"
	: >"$work/sys/block/loop0/loop/backing_file"
	o=$work/oldroot
	{
		echo "/dev/loop0 $o ext4 ro 0 0"
		echo "proc $o/proc proc rw 0 0"
		echo "tmpfs $o/run tmpfs rw 0 0"
		if [ "${sd257:-}" ]; then
			# systemd 257 moved the mount it could not unmount.
			echo "/dev/vda1 $o/run/shutdown/mounts/0cc7cd0bb300071c $driver rw 0 0"
		elif [ -z "${hide:-}" ]; then
			echo "/dev/vda1 $o/run/loopboot/host $driver rw 0 0"
		fi
		[ "${hide:-}" ] || echo "/dev/vda1 $o/host $driver rw 0 0"
		echo "tmpfs $o/run/initramfs tmpfs rw 0 0"
		echo "/dev/loop1 $o/home/My\\040Files ext4 rw 0 0"
	} >"$work/mounts"
	# The state as the boot writes it (the contract's writer).
	LOOPBOOT_HOST_DEV=/dev/vda1 LOOPBOOT_HOST_DRIVER=$driver LOOPBOOT_HOST_RO='' \
		LOOPBOOT_HOST_MNT=/run/loopboot/host LOOPBOOT_LOOP_DEV=/dev/loop0 \
		LOOPBOOT_LOOP_FILE=/linux/root.img LOOPBOOT_IMAGE_TYPE=ext4 \
		sh -c '. "$1" && loopboot_state_write "$2"' sh "$top/scripts/loopboot/contract" "$work/state"
	[ "$driver" = ntfs-3g ] && echo 4242 >"$work/pid"
	[ "${hide:-}" ] && : >"$work/lazy-host"
	[ "${busy:-}" ] && echo "$work/newroot-host" >"$work/busy"
	[ "${busyroot:-}" ] && echo "$o" >"$work/busy"
	[ "${nosys:-}" ] && rm -rf "$work/sys/block"
	LB_PATH=$bin LB_LIB=$top/scripts/loopboot LB_OLDROOT=$o LB_STATE=$work/state LB_HOSTMNT=$work/newroot-host \
		LB_PROC_MOUNTS=$work/mounts LB_SYS=$work/sys LB_CONSOLE=/nonexistent LB_WAIT=1 \
		timeout 20 ${trace:+strace -qq -e trace=fork,vfork,clone,clone3 -o "$work/forks"} \
		busybox sh "$prog" "$verb" >"$work/out" 2>&1
	echo "exit $?" >>"$work/out"
	# (The verb stubs end the program with SIGTERM, as the kernel would.)
}
before() { # FIRST SECOND: line FIRST comes before line SECOND in calls
	local a b
	a=$(grep -nxF -- "$1" "$work/calls" | head -n 1 | cut -d: -f1)
	b=$(grep -nxF -- "$2" "$work/calls" | tail -n 1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

o=$work/oldroot
trace=1 run poweroff ntfs3
# Under emulation each process costs tens of milliseconds, and power-off
# waits for every one: no subshell, pipe or command substitution, only the
# commands that do the work (each logs itself in calls).
forks=$(grep -cE '^(fork|vfork|clone|clone3)\(' "$work/forks")
[ "$forks" -eq "$(wc -l <"$work/calls")" ] &&
	! grep -vE '^(mount|umount|losetup|mkdir|sync|poweroff) ' "$work/calls"
tap $? "ntfs3: every process started is a mount, umount, losetup, mkdir, sync or poweroff ($forks forks, $(wc -l <"$work/calls") commands)"
before "mount -o move $o/run/loopboot/host $work/newroot-host" "umount $o"
tap $? "ntfs3: the host is moved out of the old root before the old root is unmounted"
before "umount $o/home/My Files" "umount $o"
tap $? "mounts under the old root go first (a path with a space, decoded)"
before "mount -o move $o/host $work/newroot-host.1" "umount $o" &&
	before "losetup -d /dev/loop0" "umount $work/newroot-host.1" &&
	before "umount $work/newroot-host.1" "umount $work/newroot-host"
tap $? "the /host bind is moved out too, and unmounted after the loop device, before the host"
before "umount $o" "losetup -d /dev/loop0" && before "losetup -d /dev/loop0" "umount $work/newroot-host"
tap $? "then the loop device is detached, then the host unmounted"
tail -n 1 "$work/calls" | grep -qx 'poweroff -f'
tap $? "poweroff: poweroff -f, last"
grep -q 'loopboot-shutdown: /dev/vda1: closed (ntfs3)' "$work/out"
tap $? "says the host is closed"

sd257=1 run poweroff ntfs3
before "mount -o move $o/run/shutdown/mounts/0cc7cd0bb300071c $work/newroot-host" "umount $o" &&
	! grep -q "umount -l $o\$" "$work/calls" && grep -q 'closed (ntfs3)' "$work/out"
tap $? "systemd 257 moved the host to /run/shutdown/mounts/HASH: found by its device and moved out; the old root unmounted, not detached lazily"

for v in reboot halt; do
	run $v ntfs3
	tail -n 1 "$work/calls" | grep -qx "$v -f"
	tap $? "$v: $v -f"
done
run kexec ntfs3
grep -qx 'kexec -e' "$work/calls"
tap $? "kexec: kexec -e"

hide=1 run poweroff ntfs-3g
! grep -q "mount -o move" "$work/calls" && grep -qx "losetup -d /dev/loop0" "$work/calls" &&
	grep -q 'closed (ntfs-3g)' "$work/out" && grep -c '^pidof' "$work/calls" | grep -qv '^0$'
tap $? "ntfs-3g, host hidden by the unit: loop detached, daemon waited for, closed"
# A daemon that does not exit: waited for, bounded, said.
stub losetup 'rm -f $work/sys/block/loop0/loop/backing_file; exit 0'
hide=1 run poweroff ntfs-3g
grep -q 'ntfs-3g (pid 4242) still running' "$work/out" && tail -n 1 "$work/calls" | grep -qx 'poweroff -f'
tap $? "ntfs-3g that does not exit: the wait is bounded, said, and the machine powers off"

# A new root without /sys (systemd moves it there; another init may not):
# every loop device would look released, and the host stay busy.
nosys=1 run poweroff ntfs3
grep -qx "mount -t sysfs sysfs $work/sys" "$work/calls" && before "losetup -d /dev/loop0" "umount $work/newroot-host" &&
	grep -q 'closed (ntfs3)' "$work/out"
tap $? "no sysfs in the new root: mounted, then the loop device detached before the host is closed"

# An old root that stays busy: four tries, the mounts still there named
# (the path with a space whole), then detached lazily; the machine goes down.
busyroot=1 run poweroff ntfs3
grep -qF "loopboot-shutdown: $o: still busy after 4 tries: $o" "$work/out" &&
	grep -qx "umount -l $o" "$work/calls" && [ "$(grep -cx "umount $o" "$work/calls")" = 4 ] &&
	tail -n 1 "$work/calls" | grep -qx 'poweroff -f'
tap $? "an old root that stays busy: four tries, named, detached lazily, and the machine powers off" ||
	sed 's/^/#   /' "$work/out"

busy=1 run poweroff ntfs3
grep -q 'cannot unmount the host' "$work/out" && tail -n 1 "$work/calls" | grep -qx 'poweroff -f'
tap $? "a host that stays busy: said, and the machine still powers off"
! grep -q 'closed (ntfs3)' "$work/out"
tap $? "a host that stays busy is not reported closed"
echo "1..$n"
