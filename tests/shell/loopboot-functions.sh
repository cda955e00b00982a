#!/bin/bash
# shellcheck disable=SC2016,SC2181 # stub bodies are single-quoted on purpose
# The boot logic (scripts/loopboot-functions) outside an initramfs, with stub
# commands: option reading, the NTFS verdict gate, driver choice, the
# read-write check after mounting, attach failures, and what is handed to
# initramfs-tools.  The real cmdline-get is used (build/bin).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export LOOPBOOT_LIB=$top/scripts/loopboot
cmdline_get=${CMDLINE_GET:-$top/build/bin/cmdline-get}
[ -x "$cmdline_get" ] || make -C "$top" -s build/bin/cmdline-get
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"
ln -s "$cmdline_get" "$bin/cmdline-get"

# The machine's own loopboot tools (an installed package) are not the
# ones under test: the stubs below stand for them, or their absence does.
sys_path=
for d in $(printf '%s' "$PATH" | tr ':' ' '); do
	[ -e "$d/ioflusher" ] || [ -e "$d/ntfsprobe" ] || [ -e "$d/loopattach" ] || sys_path=$sys_path${sys_path:+:}$d
done
PATH=$sys_path
# Stubs log their arguments to $work/calls and act as $work/stub.* say.
stub() { # NAME BODY
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n%s\n' "$1" "$work" "$2" >"$bin/$1"
	chmod +x "$bin/$1"
}
# mount/ntfs-3g add a line to the fake /proc/mounts: device, target, type,
# and the options asked for (-o), unless $work/mount-opts overrides them.
record_mount='opts=rw; prev=; for a; do [ "$prev" = -o ] && opts=$a; prev=$a; done
[ -f '"$work"'/mount-opts ] && opts=$(cat '"$work"'/mount-opts)
eval "last=\${$#}"; eval "dev=\${$(($# - 1))}"; echo "$dev $last $TYPE $opts 0 0" >>'"$work"'/mounts'
# A mount whose arguments match $work/mount-fail (a grep -E pattern) fails.
fail_mount='if [ -f '"$work"'/mount-fail ] && echo "$*" | grep -Eq -- "$(cat '"$work"'/mount-fail)"; then
echo "mount: wrong fs type, bad option, bad superblock" >&2; exit 32; fi'
stub mount "$fail_mount; TYPE=\$2; $record_mount"
stub dmesg 'cat '"$work"'/dmesg 2>/dev/null'
stub ntfs-3g "TYPE=fuseblk; $record_mount"
stub umount ':'
# modprobe loads what the initramfs holds: $work/avail/NAME, the lines it
# adds to the fake /proc/filesystems; a loaded module gets its directory
# in the fake /sys/module.  uname -r says $work/uname (see kernel below).
stub modprobe 'for m; do case $m in -*) continue ;; esac
[ -f '"$work"'/avail/$m ] || exit 1
cat '"$work"'/avail/$m >>'"$work"'/filesystems; mkdir -p '"$work"'/sys/$m; done'
stub uname 'cat '"$work"'/uname'
export LOOPBOOT_SYS_MODULE=$work/sys
# The release as the shell reads it (/proc/sys/kernel/osrelease); the
# uname stub above only for the fallback.
export LOOPBOOT_OSRELEASE=$work/uname
# ntfsprobe: exits as $work/ntfsprobe-rc says (0 without it), says
# $work/probe-msg on stderr; with --export, TYPE as $work/probe-type says
# (quoted as ntfsprobe quotes; 'ntfs' without it) before its other lines.
stub ntfsprobe ''
cat >>"$bin/ntfsprobe" <<EOF
if [ "\$1" = --export ]; then
	printf 'TYPE=%s\nUUID=%s\n' "\$(cat "$work/probe-type" 2>/dev/null || echo "'ntfs'")" "'1234'"
fi
[ -f "$work/probe-msg" ] && cat "$work/probe-msg" >&2
exit \$(cat "$work/ntfsprobe-rc" 2>/dev/null || echo 0)
EOF
# loopattach: exit 3 for a file missing inside --root, else as $work/stub.* say.
attach_stub_head='root=; prev=; for a; do [ "$prev" = --root ] && root=$a; prev=$a; done; eval "f=\${$#}"
[ "$1" = --detach ] && exit 0
[ -e "$root$f" ] || { echo "loopattach: $f: no such file inside $root" >&2; exit 3; }'
stub loopattach "$attach_stub_head"'
echo /dev/loop7'

reset() {
	rm -f "$work/calls" "$work/mounts" "$work/mount-opts" "$work/ntfsprobe-rc" \
		"$work/probe-type" "$work/probe-msg" \
		"$work/param.conf" "$work/mount-fail" "$work/dmesg"
	rm -rf "$work/run" "$work/hostlink" "$work/sys" "$work/avail" "$work/sysblock"
	mkdir -p "$work/sys" "$work/avail" "$work/sysblock/loop7/queue"
	echo 128 >"$work/sysblock/loop7/queue/read_ahead_kb"
	: >"$work/mounts"
	printf 'nodev\tproc\n\text4\n\tfuseblk\n' >"$work/filesystems"
	echo 6.1.0-41-amd64 >"$work/uname"
	printf "0.00 0.01 0.05 1/80 4711\n" >"$work/loadavg"
}

# kernel FLAVOUR: after reset, the running kernel and the NTFS modules its
# initramfs holds (none loaded yet; fuse is built into the fake kernel).
kernel() {
	case $1 in
	6.1) # Debian 12: no ntfs3, no ntfs
		echo 6.1.0-41-amd64 >"$work/uname" ;;
	6.6-old) # another distribution's 6.6: the old read-only driver, module ntfs
		echo 6.6.0-1-amd64 >"$work/uname"
		printf '\tntfs\n' >"$work/avail/ntfs" ;;
	6.12) # Debian 12 backports, Debian 13: ntfs3, with its read-only alias "ntfs"
		echo 6.12.48+deb13-amd64 >"$work/uname"
		printf '\tntfs3\n\tntfs\n' >"$work/avail/ntfs3" ;;
	7.3) # trixie-backports: the read-write ntfs, no ntfs3
		echo 7.3.4+deb13-amd64 >"$work/uname"
		printf '\tntfs\n' >"$work/avail/ntfs" ;;
	7.3-nomod) # the same kernel, module ntfs left out of the initramfs
		echo 7.3.4+deb13-amd64 >"$work/uname" ;;
	7.1-alias) # a 7.1+ kernel whose "ntfs" is still ntfs3's alias
		echo 7.1.2-1-amd64 >"$work/uname"
		printf '\tntfs3\n\tntfs\n' >"$work/avail/ntfs3" ;;
	esac
}
# module_coming NAME: the preload is loading module NAME: its init runs
# (initstate "coming") for 0.3 s, in the background (wait for it).
module_coming() {
	mkdir -p "$work/sys/$1"
	echo coming >"$work/sys/$1/initstate"
	(sleep 0.3 && echo live >"$work/sys/$1/initstate") &
}
host_driver() { # the driver the state file records
	sed -n "s/^LOOPBOOT_HOST_DRIVER='\(.*\)'\$/\1/p" "$work/run/state" 2>/dev/null
}

# Runs loopboot_premount in a fresh shell: $1 the kernel line; prints the
# shell's LOOPBOOT_ERROR on failure, exit status as the function's.
premount() {
	printf '%s\n' "$1" >"$work/cmdline"
	PATH=$bin:$PATH LOOPBOOT_CMDLINE=$work/cmdline LOOPBOOT_RUN=$work/run \
		LOOPBOOT_PARAM_CONF=$work/param.conf LOOPBOOT_PROC_MOUNTS=$work/mounts \
		LOOPBOOT_PROC_FILESYSTEMS=$work/filesystems LOOPBOOT_HOST_LINK=$work/hostlink \
		LOOPBOOT_KMSG=$work/dmesg LOOPBOOT_SYS_BLOCK=$work/sysblock \
		LOOPBOOT_PROC_LOADAVG=$work/loadavg PRELUDE=${PRELUDE-} sh -c '
		get_fstype() { echo ext4; }
		eval "$PRELUDE"
		. "$1"
		loopboot_read_options; rc=$?
		[ $rc = 0 ] || { printf "%s\n" "read_options=$rc${LOOPBOOT_ERROR:+ $LOOPBOOT_ERROR}"; exit $rc; }
		mkdir -p "$LOOPBOOT_HOST/linux"
		: > "$LOOPBOOT_HOST/linux/root.img"
		loopboot_premount /dev/sda2 "$2" || { printf "%s\n" "$LOOPBOOT_ERROR"; exit 1; }
		' sh "$top/scripts/loopboot-functions" "${2-ntfs}"
}

# --- the options: one process ----------------------------------------------------
# The kernel line is read by one cmdline-get, exec'd by its command
# substitution's shell (each process costs milliseconds under emulation):
# one fork in all, as the bench's program counts saw three before.
if command -v strace >/dev/null; then
	printf '%s\n' 'root=UUID=AB loop=/linux/root.img rw loopboot.dio=off' >"$work/cmdline"
	strace -qq -f -e trace=clone,clone3,fork,vfork -e signal=none -o "$work/forks" \
		env PATH="$bin:$PATH" LOOPBOOT_CMDLINE="$work/cmdline" busybox sh -c \
		'. "$1"; loopboot_read_options && [ "$lb_loop" = /linux/root.img ] && [ "$lb_dio" = off ]' \
		sh "$top/scripts/loopboot-functions"
	rc=$?
	forks=$(grep -c . "$work/forks")
	[ $rc = 0 ] && [ "$forks" = 1 ]
	tap $? "the options are read by one process (got $forks, status $rc)"
else
	skip "the options: processes" "strace missing"
fi

# --- loopboot_capture: VAR=$(FUNCTION) without the shell's own fork ---------------
# The same text and status as the substitution (lines inside kept, trailing
# newlines dropped); the function runs in this shell; only the programs it
# starts are processes (the substitution: one more, checked).
mkdir -p "$work/caprun"
out=$(LOOPBOOT_RUN=$work/caprun busybox sh -c '. "$1"
	f() { printf "a  b\n\n c\\n\n\n"; ran=1; return 3; }
	loopboot_capture v f; rc=$?; want=$(f)
	[ "$v" = "$want" ] && [ $rc = 3 ] && [ "$ran" = 1 ] || { printf "[%s] %s %s" "$v" $rc "${ran-}"; exit 1; }
	loopboot_capture v true && [ -z "$v" ]' sh "$top/scripts/loopboot-functions" 2>&1)
tap $? "loopboot_capture: the substitution's text and status, run in this shell (got: $out)"
if command -v strace >/dev/null; then
	for how in capture substitution; do
		strace -qq -f -e trace=clone,clone3,fork,vfork -e signal=none -o "$work/forks-$how" \
			env LOOPBOOT_RUN="$work/caprun" HOW=$how busybox sh -c '. "$1"
			f() { busybox true; echo done; }
			if [ "$HOW" = capture ]; then loopboot_capture v f; else v=$(f); fi
			[ "$v" = done ]' sh "$top/scripts/loopboot-functions" || echo failed >>"$work/forks-$how"
	done
	[ "$(grep -c . "$work/forks-capture")" = 1 ] && [ "$(grep -c . "$work/forks-substitution")" = 2 ]
	tap $? "loopboot_capture of a function that starts one program: 1 process (the substitution: 2; got $(grep -c . "$work/forks-capture"), $(grep -c . "$work/forks-substitution"))"
else
	skip "loopboot_capture: processes" "strace missing"
fi

# --- no loop=: nothing happens -------------------------------------------------
reset
out=$(premount 'root=/dev/sda2 ro quiet')
[ "$out" = "read_options=1" ] && [ ! -e "$work/calls" ]
tap $? "without loop= nothing is run and nothing is mounted"

# --- a safe NTFS volume, kernel with ntfs3 --------------------------------------
reset
printf 'nodev\tproc\n\tntfs3\n\tfuseblk\n' >"$work/filesystems"
out=$(premount 'root=UUID=AB "loop=/linux/root.img" rw')
tap $? "premount succeeds on a safe NTFS host (got: $out)"
grep -q '^ntfsprobe /dev/sda2' "$work/calls"
tap $? "ntfsprobe is asked about the host before any mount"
[ "$(grep -n '^ntfsprobe' "$work/calls" | cut -d: -f1)" -lt "$(grep -n '^mount' "$work/calls" | head -n 1 | cut -d: -f1)" ]
tap $? "ntfsprobe runs before the mount"
grep -q "^mount -t ntfs3 -o rw /dev/sda2 $work/run/host" "$work/calls"
tap $? "ntfs3 chosen when the kernel has it, mounted rw at LOOPBOOT_HOST"
grep -q -- "^loopattach --reuse --direct-io=on --root $work/run/host /linux/root.img" "$work/calls"
tap $? "the file is attached by its path inside the host (loopattach --root), direct I/O on"
# The trace marks (the kernel log, at debug level), in the order of the steps.
steps=$(sed -n 's/^<7>loopboot: trace \([^ ]*\).*/\1/p' "$work/dmesg" | grep -v -e '^loop-module$' -e '^image-module$' | tr '\n' ' ')
[ "$steps" = "premount ntfsprobe driver host-mount attach loopattach image-type fsck trial-mount handoff ready " ]
tap $? "each step leaves a debug-level mark in the kernel log, in order (got: $steps)"
# Each mark ends in the last process ID given out (/proc/loadavg's last
# field), from which make bench counts the programs a step started.
[ "$(grep -c 'loopboot: trace ' "$work/dmesg")" = "$(grep -c 'loopboot: trace .* pid=4711$' "$work/dmesg")" ]
tap $? "each mark ends in pid= and the last field of /proc/loadavg"
(
	# shellcheck disable=SC1091
	. "$work/param.conf"
	[ "$ROOT" = /dev/loop7 ] && [ "$FSTYPE" = ext4 ] && [ "$ROOTFSTYPE" = ext4 ] && [ -z "$ROOTFLAGS" ]
)
tap $? "param.conf hands ROOT=/dev/loop7, FSTYPE=ROOTFSTYPE=ext4, no ROOTFLAGS"
! grep -q -- '--read-only' "$work/calls"
tap $? "the loop device is read-write"

# --- kernel without ntfs3: ntfs-3g, never -t ntfs ----------------------------------
reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rootflags=windows_names')
tap $? "premount succeeds with ntfs-3g (got: $out)"
grep -q "^ntfs-3g -o rw,windows_names,norecover /dev/sda2 $work/run/host" "$work/calls"
tap $? "ntfs-3g used without ntfs3, with rootflags= and norecover last"
! grep -Eq -- '-t ntfs( |$)' "$work/calls"
tap $? "the ambiguous -t ntfs is never used"

reset
printf 'nodev\tproc\n\tntfs3\n\tfuseblk\n' >"$work/filesystems"
premount 'root=/dev/sda2 loop=/linux/root.img rootfstype=ntfs-3g' >/dev/null
grep -q '^ntfs-3g ' "$work/calls" && ! grep -q "^mount .* $work/run/host" "$work/calls"
tap $? "rootfstype=ntfs-3g pins ntfs-3g even where ntfs3 exists"
# With ioflusher in the image, the daemon starts through it, by the name
# that keeps systemd from killing it at shutdown (@ntfs-3g, its argv[0]:
# ioflusher -a), with no symlink made for that name.  Without ioflusher,
# through a symlink of that name, removed after.
stub ioflusher '[ "$1" = -a ] && echo "argv0 $2" >>"'"$work"'/calls" && shift 2; exec "$@"'
stub ln 'exec /bin/ln "$@"'
stub rm 'exec /bin/rm "$@"'
reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rootfstype=ntfs-3g')
[ $? = 0 ] && grep -q "^ioflusher -a @ntfs-3g ntfs-3g -o rw,norecover /dev/sda2 $work/run/host" "$work/calls" &&
	grep -q '^argv0 @ntfs-3g$' "$work/calls" &&
	grep -q "^ntfs-3g -o rw,norecover /dev/sda2 $work/run/host" "$work/calls" &&
	! grep -E '^(ln|rm) ' "$work/calls" | grep -q '@ntfs-3g'
tap $? "ntfs-3g runs as an I/O flusher named @ntfs-3g: ioflusher -a, no symlink (got: $out; $(grep -e ioflusher -e '^ln' -e '^rm' "$work/calls" | tr '\n' ' '))"
rm -f "$bin/ioflusher"
reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rootfstype=ntfs-3g')
[ $? = 0 ] && grep -q "^ln -sf $bin/ntfs-3g $work/run/@ntfs-3g\$" "$work/calls" &&
	grep -q "^rm -f $work/run/@ntfs-3g\$" "$work/calls" && [ ! -e "$work/run/@ntfs-3g" ] &&
	grep -q "^ntfs-3g -o rw,norecover /dev/sda2 $work/run/host" "$work/calls"
tap $? "without ioflusher: ntfs-3g started through a symlink named @ntfs-3g, removed after (got: $out; $(grep -e '^ln' -e '^rm' "$work/calls" | tr '\n' ' '))"
rm -f "$bin/ln" "$bin/rm"

# --- the NTFS driver on each kernel, and rootfstype= pinning it ----------------------
# flavour, kernel line's extra options, the driver expected
for t in "6.1||ntfs-3g" "6.6-old||ntfs-3g" "6.12||ntfs3" "7.3||ntfs" "7.3-nomod||ntfs-3g" \
	"7.1-alias||ntfs3" "6.12|rootfstype=ntfs3|ntfs3" "6.12|rootfstype=ntfs-3g|ntfs-3g" \
	"7.3|rootfstype=ntfs|ntfs" "7.3|rootfstype=ntfs-3g|ntfs-3g" "6.1|rootfstype=ntfs-3g|ntfs-3g"; do
	flavour=${t%%|*} want=${t##*|} extra=${t#*|} extra=${extra%|*}
	reset
	kernel "$flavour"
	out=$(premount "root=/dev/sda2 loop=/linux/root.img rw $extra")
	rc=$?
	case $want in
	ntfs-3g) grep -q "^ntfs-3g -o rw,norecover /dev/sda2 $work/run/host\$" "$work/calls" &&
		! grep -q "^mount .* $work/run/host\$" "$work/calls" ;;
	ntfs3) grep -q "^mount -t ntfs3 -o rw /dev/sda2 $work/run/host\$" "$work/calls" ;;
	ntfs) grep -q "^mount -t ntfs -o rw,errors=remount-ro /dev/sda2 $work/run/host\$" "$work/calls" ;;
	esac && [ $rc = 0 ] && [ "$(host_driver)" = "$want" ] &&
		[ "$(grep -Ec '^(mount .* '"$work"'/run/host|ntfs-3g )' "$work/calls")" = 1 ]
	tap $? "kernel $flavour${extra:+, $extra}: $want mounts the host, and only it (got: $out)"
done
reset
kernel 6.12
premount 'root=/dev/sda2 loop=/linux/root.img rw' >/dev/null
! grep -Eq -- '-t ntfs( |$)' "$work/calls" && ! grep -q '^modprobe -q ntfs$' "$work/calls"
tap $? "kernel 6.12: ntfs3's read-only alias is neither mounted nor loaded by name"

# The host's type, when local-premount does not give it: rootfstype=, else
# one "ntfsprobe --export" (libblkid's TYPE), whose verdict then stands for
# a Windows volume: no second ntfsprobe, no get_fstype for the host.
# type ntfsprobe gives | its status | kernel line's extra | expected: the
# host's driver, or "fail: MESSAGE"
for t in "'ntfs'|0||ntfs3" "'ntfs'|14||fail: not mounted, nothing was written to it. Or boot with loopboot.ro" \
	"'ntfs'|14|loopboot.ro|ntfs3" "'vfat'|0||vfat" "'ext4'|12||ext4" \
	"'BitLocker'|16||fail: BitLocker-test-message" \
	"''|2||fail: file system type unknown; check root= names the partition.*ntfsprobe says: cannot-open-test-message" \
	"'ext4'\\'';reboot'|12||fail: file system type unknown" \
	"'ntfs'|14|rootfstype=ntfs3|fail: not mounted, nothing was written"; do
	IFS='|' read -r ptype prc extra want <<EOF
$t
EOF
	reset
	kernel 6.12
	printf '%s\n' "$ptype" >"$work/probe-type"
	echo "$prc" >"$work/ntfsprobe-rc"
	case $prc in
	16) echo BitLocker-test-message >"$work/probe-msg" ;;
	2) echo cannot-open-test-message >"$work/probe-msg" ;;
	14) echo hibernated-test-message >"$work/probe-msg" ;;
	esac
	printf '\tvfat\n' >"$work/avail/vfat"
	out=$(PRELUDE='get_fstype() { echo "get_fstype $1" >>"$LOOPBOOT_RUN.fstype"; echo ext4; }' \
		premount "root=/dev/sda2 loop=/linux/root.img rw $extra" '')
	rc=$?
	probes=$(grep -c '^ntfsprobe ' "$work/calls")
	case $want in
	fail:*)
		[ $rc = 1 ] && printf '%s' "$out" | tr '\n' ' ' | grep -q -- "${want#fail: }" &&
			! grep -Eq "^(mount|ntfs-3g) .*/dev/sda2" "$work/calls" ;;
	*)
		[ $rc = 0 ] && [ "$(host_driver)" = "$want" ] &&
			grep -q "^mount -t $want -o .*/dev/sda2 $work/run/host\$" "$work/calls" ;;
	esac && [ "$probes" = 1 ] && { [ -n "$extra" ] || grep -q '^ntfsprobe --export /dev/sda2$' "$work/calls"; } &&
		! grep -q "/dev/sda2" "$work/run.fstype" 2>/dev/null
	tap $? "host: ntfsprobe gives type $ptype, status $prc${extra:+, $extra}: $want; one ntfsprobe, no get_fstype (got $rc, $probes probes: $out)"
	rm -f "$work/run.fstype"
done

# Kernel 7.3 with module ntfs loaded by init-top's preload: no modprobe
# for it, and the kernel's release read by the shell (no uname).
reset
kernel 7.3
cat "$work/avail/ntfs" >>"$work/filesystems"
mkdir -p "$work/sys/ntfs"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw rootfstype=ntfs')
[ $? = 0 ] && [ "$(host_driver)" = ntfs ] && ! grep -q -e '^modprobe -q ntfs$' -e '^uname' "$work/calls"
tap $? "kernel 7.3, ntfs loaded already: mounted by ntfs, no modprobe, no uname (got: $out; $(grep -e modprobe -e uname "$work/calls" | tr '\n' ' '))"
# Kernel 7.3 without rootfstype=: where the hook found the read-write ntfs
# and no ntfs3 (its preload file says "ntfs"), no modprobe ntfs3 that must
# fail; without that file the ntfs3 try stays; a file saying "ntfs" on a
# kernel whose ntfs is not the read-write driver changes nothing.
printf 'LOOPBOOT_PRELOAD_HOST="ntfs"\nLOOPBOOT_PRELOAD_IMAGE="ext4"\n' >"$work/preload-ntfs"
for t in "7.3|preload-ntfs|ntfs|no" "7.3|none|ntfs|yes" "6.12|preload-ntfs|ntfs3|yes" \
	"7.3-nomod|preload-ntfs|ntfs-3g|yes"; do
	IFS='|' read -r flavour file want asked <<EOF
$t
EOF
	reset
	kernel "$flavour"
	if [ "$flavour" = 7.3 ]; then # loaded by init-top's preload
		cat "$work/avail/ntfs" >>"$work/filesystems"
		mkdir -p "$work/sys/ntfs"
	fi
	out=$(PRELUDE="LOOPBOOT_PRELOAD_FILE=$work/$file" premount 'root=/dev/sda2 loop=/linux/root.img rw')
	rc=$?
	got=no
	grep -q '^modprobe -q ntfs3$' "$work/calls" && got=yes
	[ $rc = 0 ] && [ "$(host_driver)" = "$want" ] && [ $got = "$asked" ]
	tap $? "kernel $flavour, no rootfstype=, preload file $file: $want, modprobe ntfs3 asked: $asked (got: $got, $(host_driver), $out)"
done

reset
kernel 7.3
module_coming ntfs
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw rootfstype=ntfs')
rc=$?
wait
[ $rc = 0 ] && [ "$(host_driver)" = ntfs ] && grep -q '^modprobe -q ntfs$' "$work/calls"
tap $? "kernel 7.3, ntfs still loading (the preload's): modprobe after its init (got: $out)"

# rootfstype=ntfs where "ntfs" is not the read-write driver: refused, no fallback.
for t in "6.12|ntfs3's legacy alias on 6.9 to 7.0" "6.6-old|the old driver before 6.9" \
	"6.1|the read-write ntfs driver came with kernel 7.1" \
	"7.1-alias|is ntfs3's read-only alias, not the read-write ntfs driver" \
	"7.3-nomod|has no ntfs driver: module ntfs is not in the initramfs"; do
	flavour=${t%%|*} why=${t#*|}
	reset
	kernel "$flavour"
	if [ "$flavour" = 7.1-alias ]; then # ntfs3 loaded already (by an earlier try)
		cat "$work/avail/ntfs3" >>"$work/filesystems"
		mkdir -p "$work/sys/ntfs3"
	fi
	out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw rootfstype=ntfs')
	[ $? = 1 ] && ! grep -Eq "^(mount|ntfs-3g) " "$work/calls" &&
		printf '%s' "$out" | grep -q "^loopboot: /dev/sda2: rootfstype=ntfs: .*$why" &&
		printf '%s' "$out" | grep -q 'use rootfstype=ntfs3 or rootfstype=ntfs-3g'
	tap $? "kernel $flavour, rootfstype=ntfs: refused, nothing mounted, device and remedy named (got: $out)"
done
reset
kernel 7.3
premount 'root=/dev/sda2 loop=/linux/root.img rw rootfstype=ntfs3' >/dev/null
[ $? = 1 ] && ! grep -Eq "^(mount|ntfs-3g) " "$work/calls"
tap $? "kernel 7.3, rootfstype=ntfs3: refused (no ntfs3), not replaced by ntfs"

# The read-write ntfs: errors=remount-ro wins over rootflags=, ro stays last.
reset
kernel 7.3
premount 'root=/dev/sda2 loop=/linux/root.img rw rootflags=errors=continue,windows_names' >/dev/null
grep -q "^mount -t ntfs -o rw,errors=continue,windows_names,errors=remount-ro /dev/sda2 $work/run/host\$" "$work/calls"
tap $? "ntfs: errors=remount-ro after rootflags=, so a dirty volume never comes up rw"
reset
kernel 7.3
echo 14 >"$work/ntfsprobe-rc"
premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro rootflags=noatime' >/dev/null
grep -q "^mount -t ntfs -o errors=remount-ro,noatime,ro /dev/sda2 $work/run/host\$" "$work/calls" &&
	grep -q -- '--read-only' "$work/calls"
tap $? "ntfs, loopboot.ro: mounted with ro last, loop device read-only"
reset
kernel 7.3
echo 14 >"$work/ntfsprobe-rc"
premount 'root=/dev/sda2 loop=/linux/root.img rw' >/dev/null
! grep -Eq '^(mount|ntfs-3g) ' "$work/calls"
tap $? "ntfs: a volume ntfsprobe refuses is not mounted (ntfsprobe decides before the driver)"
reset
kernel 7.3
echo 'errors=remount-ro,ro' >"$work/mount-opts"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw')
[ $? = 1 ] && printf '%s' "$out" | grep -q '/dev/sda2: mounted by ntfs but not rw' &&
	grep -q "^umount $work/run/host" "$work/calls"
tap $? "ntfs came up read-only by itself (hibernated, dirty): refused and unmounted (got: $out)"

# A host mounted by hand at the shell with -t ntfs: whose driver it is.
for t in "7.3|ntfs|ntfs" "6.12|ntfs3|ntfs3"; do
	flavour=${t%%|*} mod=${t#*|} mod=${mod%|*} want=${t##*|}
	reset
	kernel "$flavour"
	cat "$work/avail/$mod" >>"$work/filesystems"
	mkdir -p "$work/sys/$mod"
	echo "/dev/sda2 $work/run/host ntfs rw 0 0" >"$work/mounts"
	premount 'root=/dev/sda2 loop=/linux/root.img' >/dev/null
	[ $? = 0 ] && [ "$(host_driver)" = "$want" ]
	tap $? "kernel $flavour: a host mounted by hand as ntfs is recorded as $want (got: $(host_driver))"
done

# --- ntfs-3g fell back to read-only by itself ------------------------------------
reset
echo ro >"$work/mount-opts"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img')
rc=$?
[ $rc = 1 ] && printf '%s' "$out" | grep -q '/dev/sda2: mounted by ntfs-3g but not rw'
tap $? "a host that came up read-only when rw was asked is refused (got: $out)"
grep -q '^umount ' "$work/calls"
tap $? "... and unmounted again"

# --- unsafe verdicts ---------------------------------------------------------------
for rc in 14 15; do
	reset
	echo "$rc" >"$work/ntfsprobe-rc"
	out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw')
	[ $? = 1 ] && ! grep -Eq '^(mount|ntfs-3g) ' "$work/calls" &&
		printf '%s' "$out" | grep -q 'loopboot: /dev/sda2: not mounted, nothing was written'
	tap $? "ntfsprobe exit $rc: nothing mounted, the message names the device (got: $out)"
done
reset
echo 14 >"$work/ntfsprobe-rc"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro')
grep -q '^ntfs-3g -o norecover,ro ' "$work/calls" && grep -q -- '--read-only' "$work/calls"
tap $? "loopboot.ro: a hibernated host is mounted ro and the loop device is read-only"
reset
echo 13 >"$work/ntfsprobe-rc"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro')
[ $? = 1 ] && ! grep -Eq '^(mount|ntfs-3g) ' "$work/calls"
tap $? "a corrupt volume is refused even with loopboot.ro"

# --- FAT and exFAT hosts: the same gate -----------------------------------------------
for t in vfat exfat; do
	reset
	echo 15 >"$work/ntfsprobe-rc"
	out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw' "$t")
	[ $? = 1 ] && grep -q '^ntfsprobe /dev/sda2' "$work/calls" && ! grep -Eq '^(mount|ntfs-3g) ' "$work/calls" &&
		printf '%s' "$out" | grep -q 'loopboot: /dev/sda2: not mounted, nothing was written'
	tap $? "a $t host ntfsprobe refuses is not mounted (got: $out)"
	reset
	echo 14 >"$work/ntfsprobe-rc"
	printf 'nodev\tproc\n\text4\n\t%s\n' "$t" >"$work/filesystems"
	premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro' "$t" >/dev/null
	grep -q "^mount -t $t -o ro /dev/sda2 $work/run/host" "$work/calls" && grep -q -- '--read-only' "$work/calls"
	tap $? "loopboot.ro: a $t host Windows keeps open is mounted read-only"
done

# --- other hosts, bad paths, missing files --------------------------------------------
reset
premount 'root=/dev/sda2 loop=/linux/root.img rootflags=noatime' ext4 >/dev/null
grep -q "^mount -t ext4 -o rw,noatime /dev/sda2 $work/run/host" "$work/calls" &&
	! grep -q '^ntfsprobe' "$work/calls"
tap $? "an ext4 host is mounted as ext4 with rootflags=, without ntfsprobe"

reset
out=$(premount 'root=/dev/sda2 loop=/linux/missing.img' ext4)
[ $? = 1 ] && printf '%s' "$out" | grep -q "loopboot: $work/run/host/linux/missing.img: no such file on the host partition (/dev/sda2)"
tap $? "a missing file is named with the host device (got: $out)"

reset
out=$(premount 'root=/dev/sda2 loop=linux/root.img' ext4)
[ $? = 2 ] && [ "$out" = "read_options=2 loopboot: loop=: the path \"linux/root.img\" is not absolute: it must start with '/' (the root of the partition named by root=)" ] &&
	[ ! -e "$work/calls" ]
tap $? "a relative loop= path is refused as the options are read, before the host is mounted (got: $out)"
reset
out=$(premount 'root=/dev/sda2 loop="/a\b"' ext4)
[ $? = 2 ] && case $out in "read_options=2 loopboot: loop=: the path \"/a\\b\" holds '\\'"*) true ;; *) false ;; esac &&
	[ ! -e "$work/calls" ]
tap $? "a loop= path with a backslash is refused with cmdline-get's advice (got: $out)"

reset
stub loopattach "$attach_stub_head"'
echo "loopattach: /x/root.img: file is empty" >&2; exit 1'
out=$(premount 'root=/dev/sda2 loop=/linux/root.img' ext4)
[ $? = 1 ] && printf '%s' "$out" | grep -q 'file is empty' && printf '%s' "$out" | grep -q 'cannot attach'
tap $? "an attach failure passes loopattach's message on (got: $out)"
grep -q "^umount $work/run/host" "$work/calls"
tap $? "after a failure the host is unmounted again, so a reboot leaves it closed"
# loopattach: exit 3 for a file missing inside --root, else as $work/stub.* say.
attach_stub_head='root=; prev=; for a; do [ "$prev" = --root ] && root=$a; prev=$a; done; eval "f=\${$#}"
[ "$1" = --detach ] && exit 0
[ -e "$root$f" ] || { echo "loopattach: $f: no such file inside $root" >&2; exit 3; }'
stub loopattach "$attach_stub_head"'
echo /dev/loop7'

reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img' unknown)
[ $? = 1 ] && printf '%s' "$out" | grep -q '/dev/sda2: file system type unknown'
tap $? "a host of unknown type is refused with the device named"

reset
out=$(premount 'root=/dev/sda2 loop=/Linux/Root.img' ext4)
[ $? = 1 ] && printf '%s' "$out" | grep -q 'Only the letter case differs: did you mean loop=/linux/root.img ?'
tap $? "a path whose letter case is wrong gets the right spelling (got: $out)"

reset
out=$(premount 'root=/dev/sda2 loop=/linux/nothere.img' ext4)
[ $? = 1 ] && printf '%s' "$out" | grep -q "$work/run/host/linux holds: root.img - check loop="
tap $? "a missing file gets what its directory holds (got: $out)"

reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rootfstype=ntfs3')
[ $? = 1 ] && printf '%s' "$out" | grep -q "/dev/sda2: this kernel (.*) has no ntfs3 driver: module ntfs3" &&
	! grep -Eq '^(mount|ntfs-3g) ' "$work/calls"
tap $? "a missing kernel driver is named, with the remedy, before any mount (got: $out)"

reset
premount 'root=/dev/sda2 loop=/linux/root.img' ext4 >/dev/null
[ "$(readlink "$work/hostlink")" = "$work/run/host" ]
tap $? "/host in the initramfs leads to the host (for /usr images in the root's fstab)"

# --- hostile loopflags= cannot break param.conf ----------------------------------------
reset
premount "root=/dev/sda2 loop=/linux/root.img \"loopflags=a'b\$(touch $work/pwned)\"" ext4 >/dev/null
(
	# shellcheck disable=SC1091
	. "$work/param.conf"
	[ "$ROOTFLAGS" = "-o a'b\$(touch $work/pwned)" ]
) && [ ! -e "$work/pwned" ]
tap $? "loopflags= with quotes and \$( ) reaches ROOTFLAGS intact and runs nothing"

# --- one resolution of loop= for every check: loopattach's, inside the host ----------
reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img' ext4)
[ "$(grep -c '^loopattach' "$work/calls")" = 1 ] &&
	grep -q -- "^loopattach --reuse .*--root $work/run/host /linux/root.img" "$work/calls"
tap $? "one loopattach, through --root, for every question about loop=; --reuse takes a file attached already"
stub loopattach "$attach_stub_head"'
echo /dev/loop3'
reset
premount 'root=/dev/sda2 loop=/linux/root.img' ext4 >/dev/null
(
	# shellcheck disable=SC1091
	. "$work/param.conf"
	[ "$ROOT" = /dev/loop3 ]
)
tap $? "the device loopattach names (a new one, or the one the file is on already) is handed over"
stub loopattach "$attach_stub_head"'
echo /dev/loop7'
reset
mkdir -p "$work/run/host/linux"
ln -s /nonexistent "$work/run/host/linux/link.img"
out=$(premount 'root=/dev/sda2 loop=/linux/link.img' ext4)
[ $? = 1 ] && printf '%s' "$out" | grep -q 'link.img: no such file on the host partition'
tap $? "a symlink on the host leading nowhere inside it is a missing file (got: $out)"

# --- idempotent: a retry after the panic shell reuses the mount ---------------------------
reset
printf 'nodev\tproc\n\tntfs3\n\tfuseblk\n' >"$work/filesystems"
echo "/dev/sda2 $work/run/host ntfs3 rw 0 0" >"$work/mounts"
premount 'root=/dev/sda2 loop=/linux/root.img' >/dev/null
[ $? = 0 ] && ! grep -Eq "^(mount|ntfs-3g) .* $work/run/host\$" "$work/calls"
tap $? "a host already mounted (by hand, at the panic shell) is reused"

# --- read-only hosts: no kernel option can make them writable ------------------------
reset
echo 14 >"$work/ntfsprobe-rc"
printf 'nodev\tproc\n\tntfs3\n\tfuseblk\n' >"$work/filesystems"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro rootflags=noatime')
grep -q "^mount -t ntfs3 -o noatime,ro /dev/sda2 $work/run/host" "$work/calls"
tap $? "loopboot.ro: rootflags= come first, 'ro' last, from the first mount (got: $out)"
for flags in rw noatime,rw rw,noatime; do
	for fs in ntfs3 fuseblk; do
		reset
		echo 14 >"$work/ntfsprobe-rc"
		printf 'nodev\tproc\n\t%s\n' "$fs" >"$work/filesystems"
		out=$(premount "root=/dev/sda2 loop=/linux/root.img rw loopboot.ro rootflags=$flags")
		[ $? = 1 ] && ! grep -Eq "^(mount|ntfs-3g) .*/dev/sda2" "$work/calls" &&
			printf '%s' "$out" | grep -q "rootflags=$flags: 'rw' asked for, but this mount must be read-only"
		tap $? "loopboot.ro with rootflags=$flags ($fs): refused before any mount (got: $out)"
	done
done
reset
echo 15 >"$work/ntfsprobe-rc"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro loopflags=noatime')
(
	# shellcheck disable=SC1091
	. "$work/param.conf"
	# shellcheck disable=SC2154 # set by param.conf
	[ "$ROOTFLAGS" = "-o noatime,ro" ] && [ "$readonly" = y ]
)
tap $? "loopboot.ro: loopflags= get 'ro' last for the root on the read-only loop device"
reset
echo 15 >"$work/ntfsprobe-rc"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro loopflags=rw')
[ $? = 1 ] && [ ! -s "$work/param.conf" ] &&
	printf '%s' "$out" | grep -q "loopflags=rw: 'rw' asked for, but this mount must be read-only"
tap $? "loopboot.ro with loopflags=rw: refused, nothing handed over (got: $out)"
grep -q "^umount $work/run/host" "$work/calls"
tap $? "... and the host is unmounted again"

# --- the driver's own reason, from the kernel log -------------------------------
reset
printf 'nodev\tproc\n\tntfs3\n' >"$work/filesystems"
echo 'ntfs3' >"$work/mount-fail"
printf '%s\n' '[    1.0] virtio_blk virtio1: [vda] 1000 512-byte logical blocks' \
	'[    1.1] ntfs3(sda2): an older line, before the mount' >"$work/dmesg"
stub mount "printf '%s\n' '[    2.5] ntfs3(sda2): failed to replay log file. Can'\''t mount rw!' >>$work/dmesg; $fail_mount; TYPE=\$2; $record_mount"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw')
[ $? = 1 ] && printf '%s' "$out" | grep -q "ntfs3 refuses to mount the host partition: ntfs3(sda2): failed to replay log file" &&
	printf '%s' "$out" | grep -q "shut it down fully" && ! printf '%s' "$out" | grep -q 'check root=' &&
	! printf '%s' "$out" | grep -q 'an older line'
tap $? "a driver that refuses the volume's state: its words and the Windows remedy, not 'check root=' (got: $out)"
stub mount "printf '%s\n' '[    2.5] ntfs3(sda2): Unknown parameter bogus' >>$work/dmesg; $fail_mount; TYPE=\$2; $record_mount"
reset
printf 'nodev\tproc\n\tntfs3\n' >"$work/filesystems"
echo 'ntfs3' >"$work/mount-fail"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rootflags=bogus rw')
[ $? = 1 ] && printf '%s' "$out" | grep -q "the kernel says: ntfs3(sda2): Unknown parameter bogus" &&
	printf '%s' "$out" | grep -q 'check root= and rootfstype=/rootflags='
tap $? "any other refusal: the kernel's words, and what to check on the kernel line (got: $out)"
stub mount "$fail_mount; TYPE=\$2; $record_mount"

# --- the root is checked and mounted once before the hand-over --------------------
reset
echo '/dev/loop7' >"$work/mount-fail"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
[ $? = 1 ] && [ ! -s "$work/param.conf" ] &&
	printf '%s' "$out" | grep -q "loopboot: $work/run/host/linux/root.img: cannot mount the ext4 file system in it (/dev/loop7)" &&
	printf '%s' "$out" | grep -q 'Check loopfstype= and loopflags='
tap $? "an image that does not mount: named, nothing handed over (got: $out)"
grep -q "^umount $work/run/host" "$work/calls" && grep -q '^loopattach --detach /dev/loop7' "$work/calls"
tap $? "... the loop device is detached and the host unmounted before the panic"
reset
out=$(PRELUDE='_checkfs_once() { echo "_checkfs_once $*" >>"$LOOPBOOT_RUN/../calls"; return 1; }' \
	premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
[ $? = 1 ] && [ ! -s "$work/param.conf" ] && grep -q '^_checkfs_once /dev/loop7 root ext4' "$work/calls" &&
	printf '%s' "$out" | grep -q 'root.img: the ext4 file system in it has errors fsck did not repair' &&
	grep -q "^umount $work/run/host" "$work/calls"
tap $? "an image fsck cannot repair: named, host released before the panic (got: $out)"
reset
out=$(PRELUDE='readonly=n; _checkfs_once() { echo "_checkfs_once $*" >>"$LOOPBOOT_RUN/../calls"; }' \
	premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
c=$(grep -n '^_checkfs_once' "$work/calls" | cut -d: -f1)
m=$(grep -n "^mount -w -t ext4 /dev/loop7 $work/run/trial" "$work/calls" | cut -d: -f1)
[ -n "$c" ] && [ -n "$m" ] && [ "$c" -lt "$m" ] && grep -q '^ROOT=' "$work/param.conf"
tap $? "fsck, then a mount as initramfs-tools will do it, then the hand-over (got: $out)"
reset
echo 14 >"$work/ntfsprobe-rc"
out=$(PRELUDE='readonly=n; _checkfs_once() { echo "_checkfs_once $*" >>"$LOOPBOOT_RUN/../calls"; }' \
	premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.ro')
grep -q '^ROOT=' "$work/param.conf" && ! grep -q '^_checkfs_once' "$work/calls" &&
	grep -q "^mount -r -t ext4 -o ro /dev/loop7 $work/run/trial" "$work/calls"
tap $? "loopboot.ro on a rw kernel line: no fsck (it would write); the trial mount is read-only (got: $out)"
# --- the image's module: loaded only when the kernel lacks its type ---------------
reset
printf 'nodev\tproc\n\tntfs3\n' >"$work/filesystems"
printf '\text4\n' >"$work/avail/ext4"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw')
[ $? = 0 ] && grep -q '^modprobe -q ext4' "$work/calls" && grep -q '^<7>loopboot: trace image-module ext4' "$work/dmesg"
tap $? "ext4 not in the kernel yet: modprobe ext4, with a trace mark of its own (got: $out)"
reset
printf 'nodev\tproc\n\tntfs3\n\text4\n' >"$work/filesystems"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw')
[ $? = 0 ] && ! grep -q -e '^modprobe -q ntfs3' -e '^modprobe -q ext4' "$work/calls" && ! grep -q 'trace image-module' "$work/dmesg"
tap $? "ntfs3 and ext4 in the kernel already: neither is modprobed (got: $out)"

# --- loopboot.dio: the loop device's direct I/O -----------------------------------
for v in "loopboot.dio=on|--direct-io=on" "loopboot.dio=off|--direct-io=off" "loopboot.dio|--direct-io=on"; do
	reset
	out=$(premount "root=/dev/sda2 loop=/linux/root.img rw ${v%%|*}" ext4)
	[ $? = 0 ] && grep -q -- "^loopattach --reuse ${v#*|} --root $work/run/host /linux/root.img" "$work/calls"
	tap $? "${v%%|*}: loopattach ${v#*|} (got: $out)"
done
reset
printf 'nodev\tproc\n\tfuseblk\n' >"$work/filesystems"
stub ntfs-3g "TYPE=fuseblk; $record_mount"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rootfstype=ntfs-3g rw')
grep -q -- "^loopattach --reuse --direct-io=on --root $work/run/host /linux/root.img" "$work/calls" && [ "$(host_driver)" = ntfs-3g ]
tap $? "without loopboot.dio, on ntfs-3g (FUSE) too: direct I/O on, not loopattach's own default (off on FUSE) (got: $out)"
reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.dio=yes' ext4)
[ $? = 1 ] && printf '%s' "$out" | grep -q 'loopboot.dio=yes: give on or off' &&
	! grep -q -- "^loopattach .*--root" "$work/calls" && grep -q "^umount $work/run/host" "$work/calls"
tap $? "loopboot.dio=yes: refused by name, nothing attached, the host released (got: $out)"

# initramfs-tools' own check of the root would repeat loopboot's: skipped
# (fastboot=y) when loopboot's ran and the root's fstab has no /usr.
checked='readonly=n; _checkfs_once() { echo "_checkfs_once $*" >>"$LOOPBOOT_RUN/../calls"; }'
reset
out=$(PRELUDE="$checked"'; read_fstab_entry() { echo "read_fstab_entry $* in $rootmnt" >>"$LOOPBOOT_RUN/../calls"; return 1; }' \
	premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
m=$(grep -n "^mount -w -t ext4 /dev/loop7 $work/run/trial" "$work/calls" | cut -d: -f1)
r=$(grep -n "^read_fstab_entry /usr in $work/run/trial\$" "$work/calls" | cut -d: -f1)
u=$(grep -n "^umount $work/run/trial" "$work/calls" | cut -d: -f1)
[ -n "$m" ] && [ -n "$r" ] && [ -n "$u" ] && [ "$m" -lt "$r" ] && [ "$r" -lt "$u" ] &&
	grep -qx "fastboot='y'" "$work/param.conf" && printf '%s' "$out" | grep -q 'skips its own check'
tap $? "checked, no /usr in the root's fstab (read while trial-mounted): initramfs-tools' second check skipped, fastboot=y (got: $out)"
reset
out=$(PRELUDE="$checked"'; read_fstab_entry() { return 0; }' \
	premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
grep -q '^ROOT=' "$work/param.conf" && ! grep -q '^fastboot=' "$work/param.conf"
tap $? "a /usr line in the root's fstab: initramfs-tools checks root and /usr itself, no fastboot (got: $out)"
reset
out=$(PRELUDE="$checked" premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
grep -q '^ROOT=' "$work/param.conf" && ! grep -q '^fastboot=' "$work/param.conf"
tap $? "no way to read the fstab: no fastboot (got: $out)"
reset
out=$(PRELUDE='readonly=n; read_fstab_entry() { return 1; }' premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
grep -q '^ROOT=' "$work/param.conf" && ! grep -q '^fastboot=' "$work/param.conf"
tap $? "no fsck of loopboot's own (outside initramfs-tools): no fastboot (got: $out)"

# --- initramfs-tools' panic: the host is flushed, and released without a root ------
panic_run() { # prints what loopboot_panic said
	PATH=$bin:$PATH LOOPBOOT_RUN=$work/run LOOPBOOT_PROC_MOUNTS=$work/mounts rootmnt=$work/root \
		sh -c '. "$1"; loopboot_panic' sh "$top/scripts/loopboot-functions"
}
stub sync ':'
reset
mkdir -p "$work/run"
printf "LOOPBOOT_HOST_DEV='/dev/sda2'\nLOOPBOOT_LOOP_DEV='/dev/loop7'\nLOOPBOOT_LOOP_FILE='/linux/root.img'\n" >"$work/run/state"
echo "/dev/sda2 $work/run/host ntfs3 rw 0 0" >"$work/mounts"
out=$(panic_run)
grep -q '^sync' "$work/calls" && grep -q '^loopattach --detach /dev/loop7' "$work/calls" &&
	grep -q "^umount $work/run/host" "$work/calls" && printf '%s' "$out" | grep -q '^loopboot: /dev/sda2: unmounted again'
tap $? "a panic before the root is mounted: host flushed, loop detached, host unmounted (got: $out)"
reset
mkdir -p "$work/run"
printf "LOOPBOOT_HOST_DEV='/dev/sda2'\nLOOPBOOT_LOOP_DEV='/dev/loop7'\nLOOPBOOT_LOOP_FILE='/linux/root.img'\n" >"$work/run/state"
printf '%s\n' "/dev/sda2 $work/run/host ntfs3 rw 0 0" "/dev/loop7 $work/root ext4 rw 0 0" >"$work/mounts"
panic_run >/dev/null
grep -q '^sync' "$work/calls" && ! grep -Eq '^(umount|loopattach)' "$work/calls"
tap $? "a panic with the root mounted (no init, /usr): the host is flushed, the root left alone"
reset
panic_run >/dev/null
[ ! -e "$work/calls" ]
tap $? "a panic without loopboot's host does nothing"

# --- loopboot.blocksize and loopboot.readahead: the loop device's block size and read-ahead ---
reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.blocksize=4096 loopboot.readahead=1024' ext4)
[ $? = 0 ] && grep -q -- "^loopattach --reuse --direct-io=on --sector-size 4096 --root $work/run/host /linux/root.img" "$work/calls" &&
	[ "$(cat "$work/sysblock/loop7/queue/read_ahead_kb")" = 1024 ]
tap $? "loopboot.blocksize=4096: loopattach --sector-size 4096; loopboot.readahead=1024: read_ahead_kb of loop7 is 1024 (got: $out)"
reset
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw' ext4)
[ $? = 0 ] && ! grep -q -- '--sector-size' "$work/calls" && [ "$(cat "$work/sysblock/loop7/queue/read_ahead_kb")" = 128 ]
tap $? "neither option: no --sector-size, read-ahead left as the kernel set it"
for v in "loopboot.blocksize=4097|loopboot.blocksize=4097: give 512, 1024, 2048 or 4096" \
	"loopboot.blocksize=-r|loopboot.blocksize=-r: give 512" "loopboot.blocksize|loopboot.blocksize=: give 512" \
	"loopboot.readahead=1m|loopboot.readahead=1m: give the loop device's read-ahead in KiB" \
	"loopboot.readahead=100000|loopboot.readahead=100000: give" "loopboot.readahead=-1|loopboot.readahead=-1: give"; do
	reset
	out=$(premount "root=/dev/sda2 loop=/linux/root.img rw ${v%%|*}" ext4)
	[ $? = 1 ] && printf '%s' "$out" | grep -qF -- "${v#*|}" && ! grep -q '^loopattach --reuse' "$work/calls" &&
		! grep -q '^mount -w -t ext4' "$work/calls" && grep -q "^umount $work/run/host" "$work/calls"
	tap $? "${v%%|*}: refused before the attach, the host released (got: $out)"
done
reset
rm -rf "$work/sysblock/loop7"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw loopboot.readahead=512' ext4)
[ $? = 1 ] && printf '%s' "$out" | grep -qF "loopboot.readahead=512: cannot write $work/sysblock/loop7/queue/read_ahead_kb" &&
	grep -q '^loopattach --detach /dev/loop7' "$work/calls"
tap $? "loopboot.readahead the kernel will not take: the boot stops, the loop device detached (got: $out)"

# --- init-top's preload: the modules loaded early, in the background ----------------
preload() { # CMDLINE: runs loopboot_preload with $work/preload as the hook's file
	printf '%s\n' "$1" >"$work/cmdline"
	PATH=$bin:$PATH LOOPBOOT_CMDLINE=$work/cmdline LOOPBOOT_RUN=$work/run \
		LOOPBOOT_KMSG=$work/dmesg LOOPBOOT_PRELOAD_FILE=$work/preload \
		sh -c '. "$1"; loopboot_preload' sh "$top/scripts/loopboot-functions"
}
modprobed() { sed -n 's/^modprobe -q //p' "$work/calls" 2>/dev/null | tr '\n' ' '; }
# The preload's modules: its one modprobe's (-a), or every call's when not so.
preloaded() {
	if [ "$(grep -c '^modprobe' "$work/calls" 2>/dev/null)" = 1 ]; then
		sed -n 's/^modprobe -q -a //p' "$work/calls"
	else
		modprobed
	fi
}
reset
rm -f "$work/preload"
preload 'root=/dev/sda2 ro quiet rootfstype=ntfs3'
[ ! -e "$work/calls" ] && [ ! -e "$work/dmesg" ]
tap $? "preload without loop=: nothing is loaded, nothing logged"
reset
preload 'root=/dev/sda2 loop=/linux/root.img rootfstype=ntfs-3g loopfstype=ext3'
[ "$(preloaded)" = "fuse loop ext4" ] && grep -qx '<7>loopboot: preload: fuse loop ext4' "$work/dmesg" &&
	[ "$(tail -n 1 "$work/dmesg")" = '<7>loopboot: preload done' ]
tap $? "preload: rootfstype=ntfs-3g and loopfstype=ext3 load fuse, loop and ext4, in that order, in one modprobe, with two marks (got: $(tr '\n' '|' <"$work/calls"))"
# Two processes in the background, while udev works on the one vCPU:
# cmdline-get (exec'd by its substitution's shell) and the one modprobe.
if command -v strace >/dev/null; then
	reset
	strace -qq -f -e trace=clone,clone3,fork,vfork -e signal=none -o "$work/forks" \
		bash -c "$(declare -f preload); work=$work bin=$bin top=$top preload 'root=/dev/sda2 loop=/l.img'"
	forks=$(grep -c . "$work/forks")
	# bash's own fork for sh, then the preload's
	[ "$(preloaded)" = loop ] && [ "$forks" = 3 ]
	tap $? "preload: two processes, cmdline-get and modprobe (got $((forks - 1)))"
else
	skip "preload: processes" "strace missing"
fi
reset
printf 'LOOPBOOT_PRELOAD_HOST="ntfs3"\nLOOPBOOT_PRELOAD_IMAGE="btrfs"\n' >"$work/preload"
preload 'root=/dev/sda2 loop=/linux/root.img rw'
[ "$(preloaded)" = "ntfs3 loop btrfs" ]
tap $? "preload: the hook's file names the host's driver and the image's type (got: $(preloaded))"
reset
preload 'root=/dev/sda2 loop=/linux/root.img rw rootfstype=ntfs loopfstype=xfs'
[ "$(preloaded)" = "ntfs loop xfs" ]
tap $? "preload: rootfstype= and loopfstype= win over the hook's file (got: $(preloaded))"
reset
rm -f "$work/preload"
preload 'root=/dev/sda2 loop=/linux/root.img rootfstype=-r "loopfstype=a;reboot" rw'
[ "$(preloaded)" = "loop" ] && ! grep -q -e ' -r' -e 'reboot' "$work/calls" &&
	grep -qx '<7>loopboot: preload: loop' "$work/dmesg"
tap $? "preload: option values no module can be named after are not passed to modprobe (got: $(preloaded))"
# A module the preload is loading (initstate "coming"): loopboot_modprobe
# waits for its init before asking modprobe, which may take it for loaded.
reset
mkdir -p "$work/sys/ext4"
echo coming >"$work/sys/ext4/initstate"
printf '\text4\n' >"$work/avail/ext4"
(sleep 0.4 && echo "init done" >>"$work/calls" && echo live >"$work/sys/ext4/initstate") &
PATH=$bin:$PATH LOOPBOOT_KMSG=$work/dmesg LOOPBOOT_PROC_FILESYSTEMS=$work/filesystems \
	sh -c '. "$1"; loopboot_modprobe ext4' sh "$top/scripts/loopboot-functions"
wait
[ "$(cat "$work/calls")" = "init done
modprobe -q ext4" ]
tap $? "loopboot_modprobe waits while the module's init runs (got: $(tr '\n' '|' <"$work/calls"))"
reset
module_coming loop
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw')
rc=$?
wait
[ $rc = 0 ] && grep -q '^modprobe -q loop$' "$work/calls" && grep -q 'trace loop-module' "$work/dmesg"
tap $? "premount: loop still loading (the preload's): modprobe loop, after its init (got: $out)"
reset
mkdir -p "$work/sys/loop"
echo live >"$work/sys/loop/initstate"
out=$(premount 'root=/dev/sda2 loop=/linux/root.img rw')
[ $? = 0 ] && ! grep -q '^modprobe -q loop$' "$work/calls"
tap $? "premount: loop loaded already: no modprobe (got: $out)"

# --- local-bottom's shutdown environment (loopboot_prepare_shutdown) -----------------
# The tree the hook staged in the image (here: the host's busybox with the
# program's applet names as hard links, its libraries, the program, the
# contract and the drivers) is copied into LOOPBOOT_SHUTDOWN_ROOT with the
# state, by one cp; the hibernation drop-in is written; few programs are
# started (each costs tens of milliseconds under emulation).  mount is a
# stub that starts nothing (no tmpfs here); umount one that logs and fails.
apps="sh mount umount losetup sleep tac grep tr pidof mkdir sync reboot halt poweroff cat"
tree=$work/tree
rm -rf "$tree"
mkdir -p "$tree/bin" "$tree/proc" "$tree/oldroot" "$work/sdbin"
cp /usr/bin/busybox "$tree/bin/busybox"
for app in $apps; do ln "$tree/bin/busybox" "$tree/bin/$app"; done
cp "$top/scripts/loopboot/contract" "$top/scripts/loopboot/drivers" "$tree/"
cp "$top/scripts/loopboot/shutdown" "$tree/shutdown"
chmod 0755 "$tree/shutdown"
ldd /usr/bin/busybox 2>/dev/null | sed -n 's|.*[[:space:]]\(/[^[:space:]]*\) (0x.*|\1|p' >"$work/libs"
while read -r lib; do
	mkdir -p "$tree${lib%/*}" && cp -L "$lib" "$tree$lib"
done <"$work/libs"
printf '#!/bin/sh\nexit 0\n' >"$work/sdbin/mount"
printf '#!/bin/sh\necho "umount $*" >>"%s"\nexit 1\n' "$work/calls" >"$work/sdbin/umount"
chmod +x "$work/sdbin/mount" "$work/sdbin/umount"
prepare_shutdown() { # [TREE]: runs loopboot_prepare_shutdown, under strace when there
	rm -rf "$work/sd" "$work/sleep" "$work/trace" "$work/units"
	echo state >"$work/state"
	set -- env PATH="$work/sdbin:$PATH" LOOPBOOT_SHUTDOWN_ROOT="$work/sd" \
		LOOPBOOT_SHUTDOWN_TREE="${1:-$tree}" LOOPBOOT_STATE="$work/state" \
		LOOPBOOT_SLEEP_CONF="$work/sleep/loopboot.conf" LOOPBOOT_SYSTEMD_UNITS="$work/units" \
		LOOPBOOT_HOST_DEV=/dev/sda2 LOOPBOOT_HOST_DRIVER="${DRIVER:-ntfs3}" LOOPBOOT_HOST_RO= \
		LOOPBOOT_HOST_MNT=/run/loopboot/host \
		busybox sh -c '. "$1"; loopboot_prepare_shutdown' \
		sh "$top/scripts/loopboot-functions"
	if command -v strace >/dev/null; then
		strace -f -qq -e trace=execve -e signal=none -o "$work/trace" "$@"
	else
		"$@"
	fi
}
reset
prepare_shutdown >/dev/null
sd=$work/sd
ok=0
for app in $apps; do
	[ "$sd/bin/$app" -ef "$sd/bin/busybox" ] || { ok=1; echo "# missing or not a hard link of busybox: $app"; }
done
[ $ok = 0 ] && [ -x "$sd/shutdown" ] && [ -x "$sd/bin/busybox" ] && [ -d "$sd/oldroot" ] &&
	cmp -s "$sd/contract" "$top/scripts/loopboot/contract" &&
	cmp -s "$sd/drivers" "$top/scripts/loopboot/drivers" && [ "$(cat "$sd/state")" = state ] &&
	[ -s "$work/libs" ] && while read -r lib; do cmp -s "$lib" "$sd$lib" || exit 1; done <"$work/libs"
tap $? "shutdown environment: the staged tree copied (busybox, every applet name the program uses as its hard link, $(wc -l <"$work/libs") libraries, the program, the contract), the state beside it"
[ "$(cat "$work/sleep/loopboot.conf")" = "# Written at boot by loopboot: the Windows partition /dev/sda2 is
# mounted read-write; hibernating would leave it open under Windows' feet.
[Sleep]
AllowHibernation=no
AllowHybridSleep=no
AllowSuspendThenHibernate=no" ]
tap $? "shutdown environment: hibernation refused by the sleep.conf drop-in"
# started_at_most N WHAT: prepare_shutdown's trace shows at most N
# programs that ran (not PATH's misses), env's own not counted.
started_at_most() {
	local started
	if [ -s "$work/trace" ]; then
		started=$(($(grep 'execve(' "$work/trace" | grep -c ' = 0$') - 1))
		[ "$started" -le "$1" ]
		tap $? "$2: $started programs started (at most $1${3:+; $3})"
	else
		skip "$2: programs started" "strace missing"
	fi
}
# busybox sh itself, a mkdir for sleep.conf's folder and one for the
# environment's, mount, cp.
started_at_most 5 "shutdown environment" "whatever the libraries; before the tree was staged by the hook 15 plus one per library, at first 33"
# ntfs-3g: the unit that keeps the FUSE host open until the loop root is
# closed, pulled in by a drop-in of local-fs-pre.target; written by the
# shell (before: tr, cat and ln besides the mkdir).
reset
DRIVER=ntfs-3g prepare_shutdown >/dev/null
[ "$(cat "$work/units/loopboot-host.service")" = "# Written at boot by loopboot (see loopboot(7), SHUTDOWN).
[Unit]
Description=Keep the ntfs-3g host /dev/sda2 open until the loop root is closed
DefaultDependencies=no
Conflicts=umount.target
Before=umount.target local-fs-pre.target host.mount run-loopboot-host.mount

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=-/bin/umount -l /host
ExecStop=-/bin/umount -l /run/loopboot/host" ] &&
	[ "$(sed -n '2,$p' "$work/units/local-fs-pre.target.d/loopboot.conf")" = "[Unit]
Wants=loopboot-host.service" ] && [ -x "$work/sd/shutdown" ]
tap $? "ntfs-3g: loopboot-host.service (its mount unit named by the shell) and local-fs-pre.target's Wants= drop-in"
started_at_most 6 ntfs-3g "one mkdir more than ntfs3; 9 before"
# sysvinit's sendsigs spares the ntfs-3g daemon; a root without sendsigs
# (systemd's) gets nothing, and no program is started for it.
spare() { # ROOT DRIVER
	rm -rf "$work/omit" "$work/trace"
	strace -f -qq -e trace=execve -e signal=none -o "$work/trace" \
		env PATH="$bin:$PATH" rootmnt="$1" LOOPBOOT_HOST_DRIVER="$2" LOOPBOOT_SENDSIGS_OMIT="$work/omit" \
		busybox sh -c '. "$1"; loopboot_spare_daemon' sh "$top/scripts/loopboot-functions"
}
if command -v strace >/dev/null; then
	reset
	stub pidof 'echo 321'
	mkdir -p "$work/sysv/etc/init.d" "$work/sysd/etc"
	: >"$work/sysv/etc/init.d/sendsigs"
	spare "$work/sysv" ntfs-3g && [ "$(cat "$work/omit/loopboot-host-daemon")" = 321 ] &&
		grep -q '^pidof @ntfs-3g ntfs-3g' "$work/calls"
	tap $? "sysvinit root, ntfs-3g: its daemon listed in sendsigs.omit.d"
	spare "$work/sysd" ntfs-3g && [ ! -e "$work/omit" ] &&
		[ "$(grep 'execve(' "$work/trace" | grep -c ' = 0$')" = 2 ]
	tap $? "root without sendsigs: nothing listed, no program started"
	spare "$work/sysv" ntfs3 && [ ! -e "$work/omit" ]
	tap $? "sysvinit root, ntfs3 (no daemon): nothing listed"
else
	skip "sendsigs.omit.d" "strace missing"
fi
# A copy that fails half-way (a cp that copies, then fails): nothing that
# systemd would switch into is left, and the boot is told.
reset
printf '#!/bin/sh\n/bin/cp "$@"\nexit 1\n' >"$work/sdbin/cp"
chmod +x "$work/sdbin/cp"
out=$(prepare_shutdown)
rm -f "$work/sdbin/cp"
[ ! -e "$work/sd/shutdown" ] && grep -qx "umount $work/sd" "$work/calls" &&
	case $out in *"$work/sd: cannot copy the shutdown environment there"*"/dev/sda2 will not be closed cleanly"*) true ;; *) false ;; esac
tap $? "shutdown environment: a failed copy is unmounted or its program removed, and said (got: $out)"
# An image without the tree (built before it, or by hand): said, the boot goes on.
reset
out=$(prepare_shutdown "$work/no-tree")
[ $? = 0 ] && [ ! -e "$work/sd/shutdown" ] &&
	case $out in *"/dev/sda2 will not be closed cleanly at shutdown: no shutdown environment in the initramfs ($work/no-tree)"*"update-initramfs -u"*) true ;; *) false ;; esac
tap $? "shutdown environment: no staged tree in the image: said, with the remedy (got: $out)"

echo "1..$n"
