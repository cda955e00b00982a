#!/bin/bash
# The boot logic has what it runs on: the hook refuses to build an image
# without busybox (BUSYBOX=n), whose grep, awk, head, tr and pidof the
# boot scripts need, and says which setting and what to do; with BUSYBOX=y
# the image builds and holds those tools; a hook left behind by a removed
# package stays inert whatever BUSYBOX says.
#
# The hook, scripts and helpers are this tree's, staged by "make install"
# into a private directory; mkinitramfs -d runs on a private copy of
# /etc/initramfs-tools.  LB_HOOK names another hook to test (an older one).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
make -s -C "$top" install DESTDIR="$stage" prefix=/usr sysconfdir=/etc >"$work/make.log" 2>&1 || {
	sed 's/^/# /' "$work/make.log"
	tap 1 "make install stages this tree"
	echo "1..$n"
	exit 1
}
export LOOPBOOT_SBINDIR=$stage/usr/sbin LOOPBOOT_DATADIR=$stage/usr/share/loopboot

kver=$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)
if [ -z "$kver" ]; then
	skip "mkinitramfs with BUSYBOX=n, y" "no kernel in /boot"
	echo "1..$n"
	exit 0
fi

# conf DIR BUSYBOX: a private initramfs-tools configuration holding this
# tree's hook and scripts, BUSYBOX set in initramfs.conf, few modules.
conf() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a /etc/initramfs-tools/. "$dir/"
	cp -a "$stage/etc/initramfs-tools/." "$dir/"
	[ -n "${LB_HOOK-}" ] && cp "$LB_HOOK" "$dir/hooks/loopboot"
	sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^COMPRESS=.*/COMPRESS=zstd/' \
		-e "s/^BUSYBOX=.*/BUSYBOX=$2/" "$dir/initramfs.conf"
	grep -q "^BUSYBOX=$2\$" "$dir/initramfs.conf" || echo "BUSYBOX=$2" >>"$dir/initramfs.conf"
	printf '%s\n' sd_mod >"$dir/modules"
}
build() { # CONFDIR: mkinitramfs' status; its output in CONFDIR.log
	mkinitramfs -d "$1" -o "$1.img" "$kver" >"$1.log" 2>&1
}
says() { # LOG TEXT
	grep -qF -- "$2" "$1"
}

# --- BUSYBOX=n in initramfs.conf -------------------------------------------------
c=$work/conf-n
conf "$c" n
build "$c"
rc=$?
[ $rc != 0 ] && [ ! -s "$c.img" ]
tap $? "BUSYBOX=n: mkinitramfs fails (exit $rc), no image"
says "$c.log" "E: loopboot: BUSYBOX=n in $c/initramfs.conf: loopboot's boot scripts need busybox's grep, awk, head, tr, pidof"
tap $? "BUSYBOX=n: the hook names the setting and its file"
says "$c.log" "set BUSYBOX=auto or y there, or remove loopboot"
tap $? "BUSYBOX=n: the hook says the remedy"
grep -v '^#' "$c.log" | sed 's/^/# mkinitramfs: /' | grep -i 'loopboot' | head -n 3

# --- BUSYBOX=n set in conf.d: that file is named ------------------------------------
c=$work/conf-confd
conf "$c" auto
echo "BUSYBOX=n" >"$c/conf.d/zz-no-busybox"
build "$c"
rc=$?
[ $rc != 0 ] && says "$c.log" "BUSYBOX=n in $c/conf.d/zz-no-busybox:"
tap $? "BUSYBOX=n in conf.d: mkinitramfs fails and names conf.d/zz-no-busybox (exit $rc)"

# --- BUSYBOX=y: the image builds and holds the tools ------------------------------
c=$work/conf-y
conf "$c" y
build "$c"
rc=$?
[ $rc = 0 ] && [ -s "$c.img" ] && ! says "$c.log" "E: loopboot"
tap $? "BUSYBOX=y: mkinitramfs succeeds (exit $rc)"
[ $rc != 0 ] && sed 's/^/# mkinitramfs: /' "$c.log" | tail -n 5
if [ $rc = 0 ]; then
	list=$(lsinitramfs "$c.img" 2>/dev/null)
	missing=
	for t in grep sed awk head tr pidof sleep; do
		printf '%s\n' "$list" | grep -Eqx "(usr/)?s?bin/$t" || missing="$missing $t"
	done
	[ -z "$missing" ] && printf '%s\n' "$list" | grep -qx scripts/loopboot-functions
	tap $? "BUSYBOX=y: the image holds the boot logic and its tools${missing:+ (missing:$missing)}"

	# The image's own sh (busybox) writes param.conf-style lines with the
	# boot logic's writer and reads them back exactly.
	root=$work/unpacked
	mkdir -p "$root"
	unmkinitramfs "$c.img" "$root" 2>/dev/null
	[ -d "$root/main" ] && root=$root/main
	mkdir -p "$root/tmp" "$root/dev"
	[ -e "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3 # devtmpfs at boot
	printf '%s' $'noatime\\c it\'s "x" $(y) `z`\n\n' >"$root/tmp/value"
	# shellcheck disable=SC2016 # for the image's shell
	out=$(chroot "$root" /bin/sh -c '
		v=$(cat /tmp/value; printf x); v=${v%x}
		. /scripts/loopboot-functions
		loopboot_write_vars /tmp/param.conf append ROOTFLAGS="$v" readonly=y || exit 1
		ROOTFLAGS= readonly=
		. /tmp/param.conf
		printf %s "$ROOTFLAGS" >/tmp/got
		cmp /tmp/value /tmp/got && [ "$readonly" = y ]' 2>&1)
	tap $? "BUSYBOX=y: in the image, /bin/sh writes and reads back a hostile value${out:+ ($out)}"
fi

# --- a removed package's hook stays inert -------------------------------------------
c=$work/conf-removed
conf "$c" n
LOOPBOOT_DATADIR=$work/removed build "$c"
rc=$?
[ $rc = 0 ] && ! says "$c.log" "E: loopboot"
tap $? "package removed (hook left behind), BUSYBOX=n: the hook stays inert (exit $rc)"

echo "1..$n"
[ "$failed" = 0 ]
