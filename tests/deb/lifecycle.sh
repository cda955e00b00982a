#!/bin/bash
# The package's life on this machine, as apt drives it: install regenerates
# the initramfs, an upgrade keeps the administrator's edits to conffiles,
# remove leaves the conffiles inert and initramfs building working, purge
# removes everything.  Ends with the package installed again, as it began
# (the image and boot tiers run after this one).
#
# Rebuilding /boot's MODULES=most initramfs takes minutes per step here, so
# after checking once that installing did it, the steps run with
# update_initramfs=no (restored on exit) and build images with mkinitramfs
# from the same configuration instead.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
version=$(dpkg-parsechangelog -S Version)
deb=$(realpath "../loopboot_${version}_$(dpkg --print-architecture).deb")
work=$(mktemp -d)
uconf=/etc/initramfs-tools/update-initramfs.conf
cp "$uconf" "$work/update-initramfs.conf"
export DEBIAN_FRONTEND=noninteractive
apt_q() { apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >>"$work/apt.log" 2>&1; }
restore() {
	cp "$work/update-initramfs.conf" "$uconf"
	if ! dpkg-query -W -f '${Status} ${Version}' loopboot 2>/dev/null |
		grep -qx "install ok installed $version"; then
		apt_q install --reinstall --allow-downgrades "$deb"
	fi
	rm -rf "$work"
}
trap restore EXIT
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
kver=$(find /boot -maxdepth 1 -name 'vmlinuz-*' | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)

# An initramfs built from /etc/initramfs-tools as it is now (small module
# list so it takes seconds); prints the unpacked tree's main directory.
build_image() {
	local conf=$work/conf out=$work/initrd-$1 dir=$work/unpacked-$1
	rm -rf "$conf" "$dir"
	cp -a /etc/initramfs-tools "$conf"
	sed -i 's/^MODULES=.*/MODULES=list/' "$conf/initramfs.conf"
	mkinitramfs -d "$conf" -o "$out" "$kver" >"$work/mkinitramfs-$1.log" 2>&1 || return 1
	unmkinitramfs "$out" "$dir" 2>/dev/null
	if [ -d "$dir/main" ]; then echo "$dir/main"; else echo "$dir"; fi
}

# --- install: every kernel's initramfs was regenerated ---------------------------
# Not only the newest (initramfs-tools' trigger): an older kernel is the
# fallback when a new one fails.
for k in $(find /boot -maxdepth 1 -name 'vmlinuz-*' | sed 's|.*/vmlinuz-||'); do
	lsinitramfs "/boot/initrd.img-$k" 2>/dev/null | grep -q 'usr/sbin/loopattach$'
	tap $? "installing with apt regenerated /boot/initrd.img-$k, which has loopattach"
done

sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$uconf"

# --- upgrade keeps the administrator's edits ----------------------------------------
conf=/etc/initramfs-tools/conf.d/loopboot
echo 'LOOPBOOT_MODULES="dm_mod" # admin edit' >>"$conf"
dpkg-deb -R "$deb" "$work/pkg"
sed -i "s/^Version: .*/Version: ${version}+lifecycle1/" "$work/pkg/DEBIAN/control"
dpkg-deb -b "$work/pkg" "$work/loopboot-upgrade.deb" >/dev/null
apt_q install "$work/loopboot-upgrade.deb"
tap $? "apt upgrades to ${version}+lifecycle1"
grep -q '^LOOPBOOT_MODULES="dm_mod" # admin edit' "$conf"
tap $? "the upgrade kept the administrator's edit of $conf"
grep -q 'Processing triggers for initramfs-tools' "$work/apt.log"
tap $? "the upgrade triggered initramfs-tools (update-initramfs)"
sed -i '/# admin edit$/d' "$conf"

# --- remove: conffiles stay, inert --------------------------------------------------
: >"$work/apt.log"
apt_q remove loopboot
tap $? "apt remove loopboot"
dpkg-query -W -f '${Status}' loopboot | grep -q 'deinstall ok config-files'
tap $? "after remove only the conffiles are left"
[ ! -e /usr/sbin/loopattach ] && [ ! -e /usr/share/loopboot/functions ]
tap $? "the helpers and the boot logic are gone"
[ -x /etc/initramfs-tools/hooks/loopboot ] && [ -e /etc/initramfs-tools/scripts/local-premount/loopboot ]
tap $? "the hook and scripts (conffiles) stay"
grep -q 'Processing triggers for initramfs-tools' "$work/apt.log"
tap $? "remove triggered initramfs-tools"
mkdir -p "$work/hookdest"
DESTDIR=$work/hookdest verbose=n version=$kver /etc/initramfs-tools/hooks/loopboot &&
	[ -z "$(ls -A "$work/hookdest")" ]
tap $? "the left-over hook exits 0 and adds nothing"
root=$(build_image removed)
tap $? "an initramfs still builds with the left-over conffiles (mkinitramfs)"
[ -n "$root" ] && [ ! -e "$root/usr/sbin/loopattach" ] && [ ! -e "$root/scripts/loopboot-functions" ]
tap $? "that image holds no loopboot helpers"
printf 'root=/dev/sda2 loop=/linux/root.img\n' >"$root/cmdline"
[ -n "$root" ] && timeout 10 chroot "$root" /bin/sh -c '/scripts/local-premount/loopboot; echo rc=$?' 2>&1 | grep -q '^rc=0$'
tap $? "in it, the left-over premount script exits 0 at once (inert)"

# --- purge: nothing left ----------------------------------------------------------------
apt_q purge loopboot
tap $? "apt purge loopboot"
left=$(find /etc/initramfs-tools -name 'loopboot*' 2>/dev/null)
[ -z "$left" ] && ! dpkg-query -W loopboot >/dev/null 2>&1
tap $? "purge removed every file (left: ${left:-none})"
build_image purged >/dev/null
tap $? "an initramfs builds after purge"

# --- and back ---------------------------------------------------------------------------------
apt_q install "$deb"
tap $? "apt installs $version again"
[ -x /usr/sbin/loopattach ] && [ -x /etc/initramfs-tools/hooks/loopboot ]
tap $? "the fresh install has the helpers and the hook"
echo "1..$n"
