#!/bin/bash
# The hook's choices, fast: it runs against a stub of initramfs-tools'
# hook-functions whose manual_add_modules only queues the names, as 0.148's
# does (dracut-install copies them after the last hook), and whose copy_exec
# records what it is given; modinfo is a stub that knows the modules of a
# kernel with ntfs3 ("k-ntfs3") or without ("k-plain").  Checked: what goes
# in under MODULES=dep (from a state file, from LOOPBOOT_HOST_FS and
# LOOPBOOT_IMAGE_FS, from nothing) and MODULES=most, and that the queue
# holds module names only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

t=$(mktemp -d)
trap '[ -n "${LB_KEEP-}" ] || rm -rf "$t"' EXIT
busybox=
for d in /usr/bin /bin; do [ -x $d/busybox ] && busybox=$d/busybox && break; done
if [ -z "$busybox" ]; then
	skip "the hook's choices" "busybox is not installed (the hook requires it)"
	echo "1..$n"
	exit 0
fi

# The package as installed: helpers (any executables will do) and data.
mkdir -p "$t/sbin" "$t/data" "$t/bin"
for tool in cmdline-get ntfsprobe loopattach; do
	printf '#!/bin/sh\n' >"$t/sbin/$tool"
	chmod +x "$t/sbin/$tool"
done
cp "$top/scripts/loopboot-functions" "$t/data/functions"
cp "$top"/scripts/loopboot/* "$t/data/"
export LOOPBOOT_SBINDIR=$t/sbin LOOPBOOT_DATADIR=$t/data

cat >"$t/hook-functions" <<'EOF'
manual_add_modules() { for m in "$@"; do echo "$m" >>"$QUEUE"; done; }
copy_exec() { # and busybox into the image, as busybox's own hook does
	echo "$1 ${2-}" >>"$COPIED"
	case $1 in */busybox) cp "$1" "$DESTDIR/usr/bin/busybox" ;; esac
}
block_dev_mod_add() { echo "walk $1" >>"$QUEUE"; }
EOF
cat >"$t/bin/modinfo" <<'EOF'
#!/bin/sh
# modinfo -k VERSION [-F FIELD] MODULE.  Kernels: k-ntfs3 (has ntfs3),
# k-plain (no NTFS driver), 7.3.4-t7 (the new read-write ntfs of 7.1+, no
# ntfs3), 6.6.0-old (the old read-only module ntfs of before 6.9).
k=$2
shift 2
[ "$1" = -F ] && shift 2
case $k:$1 in
k-ntfs3:ntfs3 | *:ext4 | *:fuse | *:loop) exit 0 ;;
7.3.4-t7:ntfs | 6.6.0-old:ntfs) echo ntfs && exit 0 ;;
esac
exit 1
EOF
chmod +x "$t/bin/modinfo"
export LOOPBOOT_HOOK_FUNCTIONS=$t/hook-functions PATH=$t/bin:$PATH

printf '%s\n' "LOOPBOOT_HOST_DEV='/dev/nonexistent3'" "LOOPBOOT_HOST_DRIVER='ntfs3'" \
	"LOOPBOOT_LOOP_FILE='/linux/root.img'" "LOOPBOOT_IMAGE_TYPE='ext4'" >"$t/state-ntfs3"
printf '%s\n' "LOOPBOOT_HOST_DEV='/dev/nonexistent3'" "LOOPBOOT_HOST_DRIVER='ntfs-3g'" \
	"LOOPBOOT_LOOP_FILE='/linux/root.img'" "LOOPBOOT_IMAGE_TYPE='btrfs'" >"$t/state-ntfs3g"

# run NAME KERNEL MODULES STATE [conf.d/loopboot LINE...]: the hook's
# queue in $t/NAME.q, its copies in $t/NAME.c, its messages in $t/NAME.err.
run() {
	local name=$1 kernel=$2 modules=$3 state=$4
	shift 4
	rm -rf "${t:?}/${name:?}"
	mkdir -p "$t/$name/conf/conf.d" "$t/$name/dest/scripts" "$t/$name/dest/usr/bin" \
		"$t/$name/dest/usr/sbin"
	ln -s usr/bin "$t/$name/dest/bin" # mkinitramfs' usr-merged layout
	ln -s usr/sbin "$t/$name/dest/sbin"
	printf '%s\n' "$@" >"$t/$name/conf/conf.d/loopboot"
	: >"$t/$name.q"
	: >"$t/$name.c"
	QUEUE=$t/$name.q COPIED=$t/$name.c CONFDIR=$t/$name/conf DESTDIR=$t/$name/dest \
		version=$kernel MODULES=$modules BUSYBOX=y LOOPBOOT_STATE=$state \
		sh "$top/hooks/loopboot" 2>"$t/$name.err"
}
queued() { grep -qx -- "$2" "$t/$1.q"; }
copied() { grep -q -- "/$2 " "$t/$1.c"; }
# only NAME WORD...: the queue's modules are these (sorted, once each).
only() {
	local name=$1
	shift
	[ "$(sort -u "$t/$name.q" | grep -v '^walk ' | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')" ]
}

run dep-ntfs3 k-ntfs3 dep "$t/state-ntfs3"
tap $? "dep, state ntfs3 + ext4: the hook succeeds"
only dep-ntfs3 loop overlay ntfs3 ntfs nls_utf8 ext4
tap $? "dep, state ntfs3 + ext4, kernel with ntfs3: loop overlay ntfs3 ntfs nls_utf8 ext4 ($(sort -u "$t/dep-ntfs3.q" | tr '\n' ' '))"
copied dep-ntfs3 e2fsck && ! copied dep-ntfs3 ntfs-3g && ! copied dep-ntfs3 fsck.xfs &&
	copied dep-ntfs3 busybox && copied dep-ntfs3 loopattach &&
	[ -L "$t/dep-ntfs3/dest/usr/sbin/fsck.ext4" ]
tap $? "dep, state ntfs3 + ext4: e2fsck (fsck.ext4), busybox, the helpers; no ntfs-3g, no fsck.xfs"
grep -q "W: loopboot: the host partition /dev/nonexistent3 is not here" "$t/dep-ntfs3.err"
tap $? "dep: a host partition that is not here: a warning naming LOOPBOOT_MODULES"
# The shutdown environment, staged: busybox a hard link to the image's own
# (no byte more in the image), each applet name the shutdown program runs a
# hard link to it, the libraries busybox needs (no copy of them in this
# stub's image: copied from the system), the program (executable), the
# contract and the drivers.
tree=$t/dep-ntfs3/dest/usr/lib/loopboot/shutdown-root
ok=0
for app in sh mount umount losetup sleep tac grep tr pidof mkdir sync reboot halt poweroff cat; do
	[ "$tree/bin/$app" -ef "$t/dep-ntfs3/dest/usr/bin/busybox" ] || { ok=1; echo "# not the image's busybox: $app"; }
done
libs=$(ldd "$busybox" 2>/dev/null | sed -n 's|.*[[:space:]]\(/[^[:space:]]*\) (0x.*|\1|p')
for lib in $libs; do cmp -s "$lib" "$tree$lib" || { ok=1; echo "# missing: $lib"; }; done
[ $ok = 0 ] && [ -x "$tree/shutdown" ] && [ -d "$tree/oldroot" ] && [ -d "$tree/proc" ] &&
	cmp -s "$tree/contract" "$top/scripts/loopboot/contract" &&
	cmp -s "$tree/drivers" "$top/scripts/loopboot/drivers" &&
	cmp -s "$tree/shutdown" "$top/scripts/loopboot/shutdown"
tap $? "dep: the shutdown environment staged: busybox (the image's, hard-linked) with its applet names, $(echo "$libs" | wc -w) libraries, the program, the contract"
[ "$(readlink "$t/dep-ntfs3/dest/host")" = /run/loopboot/host ]
tap $? "dep: /host in the image leads to /run/loopboot/host (no ln at boot)"

run dep-plain k-plain dep "$t/state-ntfs3"
only dep-plain loop overlay ntfs3 ntfs nls_utf8 ext4 fuse && { ! [ -x /usr/bin/ntfs-3g ] || copied dep-plain ntfs-3g; }
tap $? "dep, state ntfs3 + ext4, kernel without ntfs3: fuse and ntfs-3g too"

printf '%s\n' "LOOPBOOT_HOST_DEV='/dev/nonexistent3'" "LOOPBOOT_HOST_DRIVER='ntfs'" \
	"LOOPBOOT_LOOP_FILE='/linux/root.img'" "LOOPBOOT_IMAGE_TYPE='ext4'" >"$t/state-ntfs"
run dep-k7 7.3.4-t7 dep "$t/state-ntfs"
only dep-k7 loop overlay ntfs3 ntfs nls_utf8 ext4 && ! copied dep-k7 ntfs-3g
tap $? "dep, state ntfs (7.1+'s driver) + ext4, kernel 7.3: its ntfs, no fuse, no ntfs-3g"
run dep-old 6.6.0-old dep "$t/state-ntfs3"
only dep-old loop overlay ntfs3 ntfs nls_utf8 ext4 fuse
tap $? "dep, kernel 6.6 whose module ntfs is the old read-only driver: fuse (ntfs-3g) too"

run dep-3g k-ntfs3 dep "$t/state-ntfs3g"
only dep-3g loop overlay fuse btrfs && copied dep-3g fsck.btrfs && ! copied dep-3g e2fsck
tap $? "dep, state ntfs-3g + btrfs: fuse, btrfs, fsck.btrfs; no ntfs3, no e2fsck"

run dep-conf k-ntfs3 dep "$t/none" 'LOOPBOOT_HOST_FS="vfat"' 'LOOPBOOT_IMAGE_FS="xfs"'
only dep-conf loop overlay vfat nls_cp437 nls_iso8859_1 nls_ascii nls_utf8 xfs &&
	copied dep-conf fsck.xfs && [ ! -s "$t/dep-conf.err" ]
tap $? "dep, no state, LOOPBOOT_HOST_FS=vfat LOOPBOOT_IMAGE_FS=xfs: those, silently"

run dep-both k-ntfs3 dep "$t/state-ntfs3" 'LOOPBOOT_HOST_FS="exfat"'
only dep-both loop overlay ntfs3 ntfs nls_utf8 ext4 exfat
tap $? "dep, state and LOOPBOOT_HOST_FS: both hosts' drivers"

run dep-none k-ntfs3 dep "$t/none"
for m in ntfs3 vfat exfat ext4 btrfs xfs loop overlay; do queued dep-none "$m" || break; done &&
	grep -q "I: loopboot: MODULES=dep, but the host's and the image's file system is not known" "$t/dep-none.err" &&
	copied dep-none fsck.xfs && copied dep-none e2fsck
tap $? "dep, nothing known: every driver and fsck, with a note"

run dep-mods k-ntfs3 dep "$t/state-ntfs3" 'LOOPBOOT_MODULES="nvme"'
queued dep-mods nvme
tap $? "dep: LOOPBOOT_MODULES still goes in"

for k in k-ntfs3 k-plain; do
	run most-$k $k most "$t/state-ntfs3"
	only most-$k loop ntfs3 ntfs fuse ext4 vfat nls_cp437 nls_iso8859_1 nls_ascii nls_utf8 exfat btrfs xfs overlay &&
		copied most-$k e2fsck && copied most-$k fsck.btrfs && [ ! -s "$t/most-$k.err" ]
	tap $? "most ($k): every module of the list, names only, and every fsck (state ignored)"
done
{ ! [ -x /usr/bin/ntfs-3g ] || { copied most-k-plain ntfs-3g && ! copied most-k-ntfs3 ntfs-3g; }; }
tap $? "most: ntfs-3g only for the kernel without ntfs3 (LOOPBOOT_NTFS3G=auto)"

# The preload file (init-top loads these early), whatever MODULES says.
preload_of() { tr '\n' ' ' <"$t/$1/dest/usr/share/loopboot/preload"; }
[ "$(preload_of most-k-ntfs3)" = 'LOOPBOOT_PRELOAD_HOST="ntfs3" LOOPBOOT_PRELOAD_IMAGE="ext4" ' ]
tap $? "most: the preload file names the state's driver and image type ($(preload_of most-k-ntfs3))"
run pre-conf k-ntfs3 most "$t/none" 'LOOPBOOT_HOST_FS="ntfs vfat"' 'LOOPBOOT_IMAGE_FS="btrfs"'
run pre-plain k-plain most "$t/none" 'LOOPBOOT_HOST_FS="ntfs"' 'LOOPBOOT_IMAGE_FS="ext4"'
run pre-k7 7.3.4-t7 most "$t/none" 'LOOPBOOT_HOST_FS="ntfs"' 'LOOPBOOT_IMAGE_FS="ext4"'
[ "$(preload_of pre-conf)" = 'LOOPBOOT_PRELOAD_HOST="ntfs3 vfat" LOOPBOOT_PRELOAD_IMAGE="btrfs" ' ] &&
	[ "$(preload_of pre-plain)" = 'LOOPBOOT_PRELOAD_HOST="ntfs-3g" LOOPBOOT_PRELOAD_IMAGE="ext4" ' ] &&
	[ "$(preload_of pre-k7)" = 'LOOPBOOT_PRELOAD_HOST="ntfs" LOOPBOOT_PRELOAD_IMAGE="ext4" ' ]
tap $? "preload file from conf.d: LOOPBOOT_HOST_FS=ntfs is the driver each kernel gets: ntfs3, ntfs-3g, 7.x's ntfs"
run pre-none k-ntfs3 most "$t/none" 'LOOPBOOT_IMAGE_FS="ext4;x y/z"'
[ "$(preload_of pre-none)" = 'LOOPBOOT_PRELOAD_HOST="" LOOPBOOT_PRELOAD_IMAGE="ext4x yz" ' ]
tap $? "preload file: nothing known, nothing named; only letters, digits, _ and - pass ($(preload_of pre-none))"

echo "1..$n"
[ "$failed" = 0 ]
