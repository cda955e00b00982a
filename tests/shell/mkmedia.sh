#!/bin/bash
# shellcheck disable=SC2016 # stub bodies are single-quoted on purpose
# loopboot-mkmedia with stub commands: the kernel line derived from a fake
# /run/loopboot/state and kernel line, --append's quoting and what it
# refuses, the files each medium gets, the messages naming the package of
# a missing tool, and the refresh hook.  The real cmdline-get is used
# (build/bin), also as the judge of what the kernel would read back.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cmdline_get=${CMDLINE_GET:-$top/build/bin/cmdline-get}
[ -x "$cmdline_get" ] || make -C "$top" -s build/bin/cmdline-get
tool=$top/helpers/loopboot-mkmedia
export LOOPBOOT_LIB=$top/scripts/loopboot
hook=$top/helpers/loopboot-mkmedia-refresh
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/bin
# Every run's TMPDIR: it must be left empty.
mkdir -p "$bin" "$work/tmp"
ln -s "$cmdline_get" "$bin/cmdline-get"
stub() { # NAME BODY
	printf '#!/bin/sh\n%s\n' "$2" >"$bin/$1"
	chmod +x "$bin/$1"
}
stub blkid 'cat '"$work"'/uuid 2>/dev/null'
stub lsinitramfs 'cat '"$work"'/initrd-list 2>/dev/null'
# The running kernel, for the media that carry it by default.
stub uname 'echo 6.12.9-amd64'
# xorriso: keeps the grub.cfg and the list of files of the tree it was
# given (the last argument) and writes the -o file; mcopy: the list of the
# UEFI image's files.
stub xorriso '[ -e '"$work"'/grub-fail ] && { echo "xorriso : FAILURE : no space" >&2; exit 5; }
out=; while [ $# -gt 1 ]; do [ "$1" = -o ] && out=$2; shift; done
cp "$1/boot/grub/grub.cfg" '"$work"'/grub.cfg && (cd "$1" && find .) >'"$work"'/iso-tree &&
cat "$1/.disk/info" >'"$work"'/disk-info && echo ISO >"$out"'
stub mcopy 'rm -rf '"$work"'/efi-copy && cp -r "$4" '"$work"'/efi-copy'
# mformat, grub-mkimage: make their output file (-i, -o) empty.
stub mformat 'while [ $# -gt 1 ]; do [ "$1" = -i ] && : >"$2"; shift; done'
stub grub-mkimage 'while [ $# -gt 1 ]; do [ "$1" = -o ] && : >"$2"; shift; done'
mkdir -p "$work/grub/i386-pc" "$work/grub/x86_64-efi/monolithic" "$work/boot" "$work/shim" \
	"$work/grub-signed"
echo unsigned-gcd >"$work/grub/x86_64-efi/monolithic/gcdx64.efi"
echo mod >"$work/grub/x86_64-efi/ntfs.mod"
echo kernel >"$work/boot/vmlinuz-6.12.9-amd64"
echo initrd >"$work/boot/initrd.img-6.12.9-amd64"

reset() {
	printf 'usr/share/loopboot/functions\nscripts/local-premount/loopboot\n' >"$work/initrd-list"
	echo 5FEE2DCE542A5FBE >"$work/uuid"
	cat >"$work/state" <<'EOF'
LOOPBOOT_HOST_DEV='/dev/sda2'
LOOPBOOT_HOST_DRIVER='ntfs3'
LOOPBOOT_HOST_RO=''
LOOPBOOT_LOOP_DEV='/dev/loop0'
LOOPBOOT_LOOP_FILE='/My Linux/root.img'
LOOPBOOT_IMAGE_TYPE='ext4'
EOF
	rm -rf "$work/out.iso" "$work/grub.cfg" "$work/pxe" "$work/efi-copy" "$work"/shim/* \
		"$work"/grub-signed/* "$work/root" "$work/boot/loopboot"
}
# The signed boot chain, as shim-signed and grub-efi-amd64-signed install it.
signed_chain() {
	for f in shimx64 mmx64 fbx64; do
		echo "$f-signed" >"$work/shim/$f.efi.signed"
	done
	echo gcd-signed >"$work/grub-signed/gcdx64.efi.signed"
	echo grub-signed >"$work/grub-signed/grubx64.efi.signed"
}
# mkmedia KERNEL_LINE ARGS...: the tool on a system booted with KERNEL_LINE;
# output (stdout and stderr) in $out, status in $rc.
mkmedia() {
	printf '%s\n' "$1" >"$work/cmdline"
	shift
	out=$(PATH=$bin:$PATH TMPDIR=$work/tmp LOOPBOOT_STATE=$work/state LOOPBOOT_CMDLINE=$work/cmdline \
		LOOPBOOT_BOOT_DIR=$work/boot LOOPBOOT_GRUB_LIB=$work/grub \
		LOOPBOOT_SHIM_DIR=$work/shim LOOPBOOT_GRUB_SIGNED_DIR=$work/grub-signed \
		LOOPBOOT_SYSFS=$work/sys LOOPBOOT_ROOT_DIR=$work/root \
		LOOPBOOT_KERNEL_MENU=$top/helpers/loopboot-kernel-menu sh "$tool" "$@" 2>&1)
	rc=$?
}
# The value the kernel would read for NAME from kernel line $1.
kernel_reads() { "$cmdline_get" --cmdline "$1" "$2"; }

# --- the kernel line of this boot --------------------------------------------------
reset
mkmedia 'BOOT_IMAGE=/vmlinuz root=/dev/sda2 "loop=/My Linux/root.img" loopfstype=ext4 loopflags=noatime rootflags=windows_names rw quiet loopboot.ro' --print
[ $rc = 0 ] && [ "$out" = 'root=UUID=5FEE2DCE542A5FBE "loop=/My Linux/root.img" loopfstype=ext4 loopflags=noatime rootflags=windows_names rw' ]
tap $? "derived: root=UUID= of the host, loop= of the state, loop options given, rw; not quiet, BOOT_IMAGE or loopboot.ro (got: $out)"
[ "$(kernel_reads "$out" loop)" = '/My Linux/root.img' ]
tap $? "derived: the kernel reads the spaced path back exactly"

reset
mkmedia 'root=/dev/sda2 loop=/linux/root.img ro' --print
[ $rc = 0 ] && [ "$out" = 'root=UUID=5FEE2DCE542A5FBE "loop=/My Linux/root.img" ro' ]
tap $? "derived: the file attached at boot (state), not the loop= typed; ro kept (got: $out)"

reset
mkmedia 'root=/dev/sda2 loop=/x rw ro' --print
[ $rc = 0 ] && printf '%s\n' "$out" | grep -q 'both ro and rw' && printf '%s\n' "$out" | tail -n 1 | grep -q ' rw$'
tap $? "derived: ro and rw both given: rw, with a warning (got: $out)"

reset
mkmedia 'root=/dev/sda2 loop=/x' --print
[ $rc = 0 ] && [ "$out" = 'root=UUID=5FEE2DCE542A5FBE "loop=/My Linux/root.img"' ]
tap $? "derived: neither ro nor rw: neither written (got: $out)"

reset
: >"$work/uuid"
mkmedia 'root=LABEL=WIN loop=/x rw' --print
[ $rc = 0 ] && printf '%s\n' "$out" | tail -n 1 | grep -qx 'root=LABEL=WIN "loop=/My Linux/root.img" rw' &&
	printf '%s\n' "$out" | grep -q '/dev/sda2: no UUID found'
tap $? "derived: no UUID: root= as this boot had it, with a warning (got: $out)"

reset
rm -f "$work/state"
mkmedia 'root=/dev/sda1 rw' --iso "$work/out.iso"
[ $rc = 1 ] && [ ! -e "$work/out.iso" ] && printf '%s\n' "$out" | grep -q 'not booted through loopboot.*--append'
tap $? "not booted through loopboot: refuses to guess, asks for --append, makes nothing (got: $out)"

mkmedia 'root=/dev/sda1 rw' --print --append 'root=UUID=AB loop=/linux/root.img rw'
[ $rc = 0 ] && [ "$out" = 'root=UUID=AB loop=/linux/root.img rw' ]
tap $? "not booted through loopboot: --append is used (got: $out)"

# --- --append: quoting ---------------------------------------------------------------
reset
for given in 'root=UUID=AB "loop=/My Linux/root.img" rw' 'root=UUID=AB loop="/My Linux/root.img" rw' \
	'  root=UUID=AB	 loop="/My Linux/root.img"   rw '; do
	mkmedia '' --print --append "$given"
	[ $rc = 0 ] && [ "$out" = 'root=UUID=AB "loop=/My Linux/root.img" rw' ] &&
		[ "$(kernel_reads "$out" loop)" = "$(kernel_reads "$given" loop)" ]
	tap $? "--append '$given': written in GRUB's quoting, the kernel reads the same loop= (got: $out)"
done

mkmedia '' --print --append 'root=UUID=AB "loop=/a b" rw -- single'
[ $rc = 0 ] && [ "$out" = 'root=UUID=AB "loop=/a b" rw -- single' ]
tap $? "--append: init's arguments after -- are kept (got: $out)"

for bad in 'loop=/a"b c"d' 'loop="/a b' "loop=/it's/root.img" 'loop=/a\b' '"loop=/My  Linux/r.img"' \
	'"loop=/a #b/r.img"' '"loop=/a ; b"' 'loop=/${x}/r.img' "$(printf '"loop=/a\tb"')"; do
	mkmedia '' --print --append "root=UUID=AB $bad rw"
	[ $rc = 1 ] && printf '%s\n' "$out" | grep -q '^loopboot-mkmedia: '
	tap $? "--append refuses what a boot loader cannot carry intact: $bad (got: $out)"
done

for given in 'root=UUID=AB rw' 'loop=/x rw'; do
	mkmedia '' --print --append "$given"
	[ $rc = 1 ] && printf '%s\n' "$out" | grep -q 'give root= (the partition) and loop= (the file)'
	tap $? "--append '$given': refused, both root= and loop= are needed (got: $out)"
done
long=$(printf 'x%.0s' $(seq 1 1990))
mkmedia '' --print --append "root=UUID=AB loop=/x rw foo=$long"
[ $rc = 0 ]
tap $? "--print shows a long line"
mkmedia '' --pxe "$work/pxe" --kernel 6.12.9-amd64 --append "root=UUID=AB loop=/x rw foo=$long"
[ $rc = 1 ] && printf '%s\n' "$out" | grep -q 'the kernel reads 2047'
tap $? "a line the kernel would cut is refused (got: $out)"

# --- ISO ------------------------------------------------------------------------------------
reset
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --iso "$work/out.iso"
[ $rc = 0 ] && [ "$(cat "$work/out.iso")" = ISO ]
tap $? "--iso: xorriso makes FILE (got: $out)"
grep -q "^	linux /loopboot/vmlinuz 'root=UUID=5FEE2DCE542A5FBE' 'loop=/My Linux/root.img' 'rw'$" "$work/grub.cfg"
tap $? "--iso: GRUB gets the spaced path as one word (single quotes)"
[ "$(grep -c '^	linux ' "$work/grub.cfg")" = 3 ] && grep -q "'rw' 'loopboot.ro'$" "$work/grub.cfg" &&
	grep -q "'rw' 'break=premount'$" "$work/grub.cfg"
tap $? "--iso: normal, read-only (loopboot.ro) and debug (break=premount) entries"
grep -q "^submenu 'On the serial console ttyS0, 115200 baud'" "$work/grub.cfg" &&
	[ "$(grep -c "'console=tty0' 'console=ttyS0,115200n8'$" "$work/grub.cfg")" = 3 ] &&
	grep -q '^if serial --unit=0 --speed=115200; then' "$work/grub.cfg"
tap $? "--iso: the same three on the serial console, in a submenu; the menu on the serial port too"
grep -q 'vmlinuz' "$work/iso-tree" && grep -q 'initrd.img' "$work/iso-tree"
tap $? "--iso: the kernel and initramfs are on the image"
grep -qx './.disk/info' "$work/iso-tree" && grep -q 'loopboot' "$work/disk-info" &&
	grep -qx './boot/grub/efi.img' "$work/iso-tree" && grep -qx './boot/grub/i386-pc/eltorito.img' "$work/iso-tree"
tap $? "--iso: /.disk/info (UEFI GRUB finds the medium by it), the UEFI and the BIOS boot images"
[ "$(cat "$work/efi-copy/boot/bootx64.efi")" = unsigned-gcd ] && [ ! -e "$work/efi-copy/boot/grubx64.efi" ] &&
	printf '%s\n' "$out" | grep -q 'unsigned GRUB, which starts only with Secure Boot off.*apt install shim-signed grub-efi-amd64-signed' &&
	! printf '%s\n' "$out" | grep -q 'not signed'
tap $? "--iso without shim-signed: unsigned GRUB as bootx64.efi, a warning naming the packages (got: $out)"

reset
signed_chain
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --iso "$work/out.iso"
[ $rc = 0 ] && [ "$(cat "$work/efi-copy/boot/bootx64.efi")" = shimx64-signed ] &&
	[ "$(cat "$work/efi-copy/boot/grubx64.efi")" = gcd-signed ] &&
	[ "$(cat "$work/efi-copy/boot/mmx64.efi")" = mmx64-signed ] && [ ! -e "$work/efi-copy/boot/fbx64.efi" ] &&
	printf '%s\n' "$out" | grep -q 'Secure Boot: shim, GRUB signed by Debian'
tap $? "--iso with shim-signed and grub-efi-amd64-signed: shim, signed CD GRUB, MokManager, no fallback (got: $out)"
printf '%s\n' "$out" | grep -q 'vmlinuz-6.12.9-amd64: not signed: with Secure Boot on, GRUB refuses'
tap $? "--iso, signed chain, unsigned kernel: warned (got: $out)"
# A PE image with a certificate table (data directory 4) of 8 bytes.
pe=$work/boot/vmlinuz-6.12.10-amd64
head -c 512 /dev/zero >"$pe"
printf 'MZ' | dd of="$pe" conv=notrunc status=none
printf '\100' | dd of="$pe" bs=1 seek=60 conv=notrunc status=none
printf 'PE\0\0' | dd of="$pe" bs=1 seek=64 conv=notrunc status=none
printf '\013\002' | dd of="$pe" bs=1 seek=88 conv=notrunc status=none
printf '\010' | dd of="$pe" bs=1 seek=236 conv=notrunc status=none
cp "$work/boot/initrd.img-6.12.9-amd64" "$work/boot/initrd.img-6.12.10-amd64"
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.10-amd64 --iso "$work/out.iso"
[ $rc = 0 ] && ! printf '%s\n' "$out" | grep -q 'not signed'
tap $? "--iso, signed chain, a kernel with a signature: no warning (got: $out)"
rm -f "$pe" "$work/boot/initrd.img-6.12.10-amd64"

# --- --follow: GRUB only, the kernel from inside the image ------------------------------------
reset
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --iso "$work/out.iso"
[ $rc = 0 ] && ! grep -q 'loopboot/vmlinuz\|loopboot/initrd' "$work/iso-tree" &&
	grep -qx 'if search --no-floppy --set=lb_host --fs-uuid 5FEE2DCE542A5FBE; then' "$work/grub.cfg" &&
	grep -qxF '	loopback lb_root "($lb_host)/My Linux/root.img"' "$work/grub.cfg" &&
	grep -qxF 'insmod ntfs' "$work/grub.cfg" && grep -qxF 'export lb_kernel lb_initrd' "$work/grub.cfg" &&
	[ "$(grep -c "^	*linux (lb_root)\$lb_kernel 'root=UUID=5FEE2DCE542A5FBE' 'loop=/My Linux/root.img' 'rw'" "$work/grub.cfg")" = 6 ] &&
	[ "$(grep -c '^	*initrd (lb_root)\$lb_initrd$' "$work/grub.cfg")" = 6 ] &&
	grep -q 'x86_64-efi/ntfs.mod' "$work/iso-tree" && ! printf '%s\n' "$out" | grep -q 'NTFS'
tap $? "--follow: no kernel on the image; GRUB searches the UUID, loopbacks the file, loads its kernel; ntfs.mod on it; unsigned GRUB: no NTFS warning (got: $out)"
reset
signed_chain
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --iso "$work/out.iso"
[ $rc = 0 ] && printf '%s\n' "$out" | grep -q 'not NTFS or exFAT'
tap $? "--follow, Debian's signed GRUB: the Secure Boot warning (got: $out)"
if command -v grub-script-check >/dev/null; then
	grub-script-check "$work/grub.cfg"
	tap $? "--follow: grub-script-check accepts grub.cfg"
fi
reset
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --append 'root=LABEL=Windows loop=/l.img rw' --iso "$work/out.iso"
[ $rc = 0 ] && grep -qx 'if search --no-floppy --set=lb_host --label Windows; then' "$work/grub.cfg"
tap $? "--follow, root=LABEL=: GRUB searches the label (got: $out)"
rm -f "$work/out.iso"
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --append 'root=/dev/sda2 loop=/l.img rw' --iso "$work/out.iso"
[ $rc = 1 ] && [ ! -e "$work/out.iso" ] && printf '%s\n' "$out" | grep -q 'by root=UUID= or root=LABEL='
tap $? "--follow, root=/dev/sda2: refused, GRUB cannot find it by that name (got: $out)"
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --append 'root=UUID=AB loop=/l.img loopfstype=ntfs rw' --iso "$work/out.iso"
[ $rc = 1 ] && printf '%s\n' "$out" | grep -q 'loopfstype=ntfs: GRUB cannot read it'
tap $? "--follow, an image type GRUB cannot read: refused (got: $out)"
reset
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --copy-kernel --kernel 6.12.9-amd64 --iso "$work/out.iso"
[ $rc = 0 ] && grep -q 'loopboot/vmlinuz' "$work/iso-tree" && ! grep -q 'lb_root' "$work/grub.cfg"
tap $? "--follow --copy-kernel: the last one wins, the kernel is on the media (got: $out)"
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --pxe "$work/pxe"
[ $rc = 2 ]
tap $? "--follow --pxe: usage error (PXE media carry the kernel)"
mkmedia 'root=/dev/sda2 loop=/x rw' --follow --kernel 6.12.9-amd64 --iso "$work/out.iso"
[ $rc = 2 ]
tap $? "--follow --kernel: usage error"

# --- the default: follow where GRUB can ------------------------------------------------------
# root_links: Debian's /vmlinuz and /initrd.img in the running system.
root_links() {
	mkdir -p "$work/root"
	echo kernel >"$work/root/vmlinuz"
	echo initrd >"$work/root/initrd.img"
}
follows() { [ $rc = 0 ] && grep -q 'lb_root' "$work/grub.cfg" && ! grep -q 'loopboot/vmlinuz' "$work/iso-tree"; }
copies() { [ $rc = 0 ] && ! grep -q 'lb_root' "$work/grub.cfg" && grep -q 'loopboot/vmlinuz' "$work/iso-tree"; }
reset
root_links
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --iso "$work/out.iso"
copies && ! printf '%s\n' "$out" | grep -q 'GRUB only'
tap $? "default, --kernel given: the kernel on the media, no word on following (got: $out)"
reset
root_links
mkmedia 'root=/dev/sda2 loop=/x rw' --iso "$work/out.iso"
follows && printf '%s\n' "$out" | grep -q 'GRUB only on the media: it boots the newest kernel inside /My Linux/root.img'
tap $? "default, NTFS host (ntfs3), ext4 image, unsigned GRUB, links there: GRUB only (got: $out)"
grep -qxF "	linux \"(lb_root)\$1\" 'root=UUID=5FEE2DCE542A5FBE' 'loop=/My Linux/root.img' 'rw'" "$work/grub.cfg" &&
	grep -qxF '	initrd "(lb_root)$2"' "$work/grub.cfg" &&
	grep -qxF '	source (lb_root)/boot/loopboot/grub.cfg' "$work/grub.cfg"
tap $? "follow: lb_boot with the kernel line, the image's own menu read first"
grep -qxF '	lb_boot /boot/vmlinuz-6.12.9-amd64 /boot/initrd.img-6.12.9-amd64' "$work/boot/loopboot/grub.cfg"
tap $? "follow: the menu of the system's kernels made in its /boot/loopboot/grub.cfg"
if command -v grub-script-check >/dev/null; then
	grub-script-check "$work/grub.cfg" && grub-script-check "$work/boot/loopboot/grub.cfg"
	tap $? "follow: grub-script-check accepts the media's grub.cfg and the image's menu"
fi
reset
root_links
signed_chain
mkmedia 'root=/dev/sda2 loop=/x rw' --iso "$work/out.iso"
copies && printf '%s\n' "$out" | grep -q "the kernel on the media, not read from inside /My Linux/root.img: with Secure Boot on, Debian's signed GRUB does not read ntfs"
tap $? "default, NTFS host, signed GRUB: the kernel on the media, and why (got: $out)"
reset
root_links
sed -i "s/^LOOPBOOT_HOST_DRIVER=.*/LOOPBOOT_HOST_DRIVER='exfat'/" "$work/state"
signed_chain
mkmedia 'root=/dev/sda2 loop=/x rw' --iso "$work/out.iso"
copies && printf '%s\n' "$out" | grep -q 'does not read exfat'
tap $? "default, exFAT host, signed GRUB: the kernel on the media (got: $out)"
reset
root_links
sed -i "s/^LOOPBOOT_HOST_DRIVER=.*/LOOPBOOT_HOST_DRIVER='ext4'/" "$work/state"
signed_chain
mkmedia 'root=/dev/sda2 loop=/x rw' --iso "$work/out.iso"
follows && [ "$(cat "$work/efi-copy/boot/grubx64.efi")" = gcd-signed ]
tap $? "default, ext4 host, signed GRUB (reads ext4 under Secure Boot): GRUB only (got: $out)"
reset
mkmedia 'root=/dev/sda2 loop=/x rw' --iso "$work/out.iso"
copies && printf '%s\n' "$out" | grep -q 'no /vmlinuz and /initrd.img links'
tap $? "default, no /vmlinuz link: the kernel on the media (got: $out)"
reset
root_links
sed -i "s/^LOOPBOOT_IMAGE_TYPE=.*/LOOPBOOT_IMAGE_TYPE='f2fs'/" "$work/state"
mkmedia 'root=/dev/sda2 loop=/x rw' --iso "$work/out.iso"
copies && printf '%s\n' "$out" | grep -q "GRUB does not read the image's file system (f2fs"
tap $? "default, an image GRUB cannot read: the kernel on the media (got: $out)"
reset
root_links
printf 'scripts/local-top/other\n' >"$work/initrd-list"
mkmedia 'root=/dev/sda2 loop=/x rw' --iso "$work/out.iso"
[ $rc = 1 ] || copies
printf '%s\n' "$out" | grep -q '/initrd.img: has no loopboot in it'
tap $? "default, the linked initramfs without loopboot: not followed, said (got: $out)"
reset
root_links
mkmedia 'root=/dev/sda2 loop=/x rw' --append 'root=UUID=AB loop=/l.img loopfstype=ext4 rw' --iso "$work/out.iso"
copies && printf '%s\n' "$out" | grep -q 'with --append'
tap $? "default, --append: the kernel on the media (the image cannot be looked into) (got: $out)"
reset
root_links
mkmedia 'root=/dev/sda2 loop=/x rw' --copy-kernel --iso "$work/out.iso"
copies
tap $? "--copy-kernel: the kernel on the media where it could follow (got: $out)"
# --- the kernel hook: the menu inside the image ------------------------------------------
kmenu() { # ARGS...: the hook on $work/kb
	LOOPBOOT_BOOT_DIR=$work/kb LOOPBOOT_STATE=$work/kstate PATH=$work/kbin:/bin:/usr/bin \
		sh "$top/helpers/loopboot-kernel-menu" "$@"
}
rm -rf "$work/kb" "$work/kbin" "$work/kstate"
mkdir -p "$work/kb" "$work/kbin"
for v in 6.1.0-30-amd64 6.12.9-amd64 6.12.10-amd64; do
	echo k >"$work/kb/vmlinuz-$v"
	echo i >"$work/kb/initrd.img-$v"
done
echo k >"$work/kb/vmlinuz-7.0.1-amd64"
kmenu 6.12.10-amd64 "$work/kb/vmlinuz-6.12.10-amd64" && [ ! -e "$work/kb/loopboot" ]
tap $? "kernel hook: not booted through loopboot, no menu yet: writes nothing"
: >"$work/kstate"
kmenu 6.12.10-amd64 "$work/kb/vmlinuz-6.12.10-amd64" && [ ! -e "$work/kb/loopboot" ]
tap $? "kernel hook: the package removed (no loopboot-mkmedia): inert"
printf '#!/bin/sh\n' >"$work/kbin/loopboot-mkmedia"
chmod +x "$work/kbin/loopboot-mkmedia"
kmenu 6.12.10-amd64 "$work/kb/vmlinuz-6.12.10-amd64"
[ "$(grep -o 'lb_boot /boot/vmlinuz-[^ ]*' "$work/kb/loopboot/grub.cfg" | tr '\n' ' ')" = \
	'lb_boot /boot/vmlinuz-6.12.10-amd64 lb_boot /boot/vmlinuz-6.12.9-amd64 lb_boot /boot/vmlinuz-6.1.0-30-amd64 ' ]
tap $? "kernel hook, booted through loopboot: newest first, only kernels with an initramfs ($(grep -c lb_boot "$work/kb/loopboot/grub.cfg") entries)"
rm -f "$work/kstate" "$work/kb/vmlinuz-6.12.10-amd64" "$work/kb/initrd.img-6.12.10-amd64"
kmenu 6.12.10-amd64 "$work/kb/vmlinuz-6.12.10-amd64"
! grep -q 6.12.10 "$work/kb/loopboot/grub.cfg" && grep -q 'vmlinuz-6.12.9-amd64' "$work/kb/loopboot/grub.cfg"
tap $? "kernel hook after a removal (postrm.d): the kernel gone from the menu (the menu exists: kept up)"
if command -v grub-script-check >/dev/null; then
	grub-script-check "$work/kb/loopboot/grub.cfg"
	tap $? "kernel hook: grub-script-check accepts the menu"
fi

if command -v grub-script-check >/dev/null; then
	grub-script-check "$work/grub.cfg"
	tap $? "--iso: grub-script-check accepts grub.cfg"
else
	echo "ok $((n += 1)) - grub-script-check # SKIP grub-common not installed"
fi

reset
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --serial=ttyS1,9600 --iso "$work/out.iso"
[ $rc = 0 ] && grep -A2 -m1 '^menuentry' "$work/grub.cfg" | grep -q "'console=tty0' 'console=ttyS1,9600n8'$" &&
	grep -q "^submenu 'On the screen'" "$work/grub.cfg" && grep -q '^if serial --unit=1 --speed=9600; then' "$work/grub.cfg"
tap $? "--iso --serial=ttyS1,9600: the serial entries first (the default), the screen's in a submenu"

reset
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --timeout 0 --iso "$work/out.iso"
[ $rc = 0 ] && grep -qx 'set timeout=0' "$work/grub.cfg"
tap $? "--timeout 0: GRUB starts the first entry at once"
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --timeout 0 --pxe "$work/pxe"
[ $rc = 0 ] && grep -qx 'TIMEOUT 1' "$work/pxe/pxelinux.cfg/default" &&
	grep -q '^choose .*--timeout 1 ' "$work/pxe/boot.ipxe"
tap $? "--timeout 0: PXELINUX and iPXE wait the least they can (their 0 means for ever)"
mkmedia 'root=/dev/sda2 loop=/x rw' --timeout 1s --print
[ $rc = 2 ]
tap $? "--timeout 1s: usage error, exit 2"

reset
echo OLD >"$work/out.iso"
touch "$work/grub-fail"
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --iso "$work/out.iso"
rm -f "$work/grub-fail"
[ $rc = 1 ] && [ "$(cat "$work/out.iso")" = OLD ] && ! ls "$work"/out.iso.tmp* >/dev/null 2>&1 &&
	printf '%s\n' "$out" | grep -q 'no space' && printf '%s\n' "$out" | grep -q 'out.iso: xorriso failed'
tap $? "xorriso failing: its message shown, the old image left as it was, nothing half-written (got: $out)"

reset
printf 'scripts/local-premount/cryptroot\n' >"$work/initrd-list"
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --iso "$work/out.iso"
[ $rc = 1 ] && [ ! -e "$work/out.iso" ] && printf '%s\n' "$out" | grep -q 'has no loopboot in it; run update-initramfs -u -k 6.12.9-amd64'
tap $? "an initramfs without loopboot is refused, with the command that fixes it (got: $out)"

reset
mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 9.9.9 --iso "$work/out.iso"
[ $rc = 1 ] && printf '%s\n' "$out" | grep -q 'vmlinuz-9.9.9: cannot read it'
tap $? "--kernel of a kernel not installed: the file is named (got: $out)"

# --- missing tools: the message names the package ------------------------------------
# A PATH without GRUB's tools: every other command of this machine, linked.
sys=$work/sys
mkdir -p "$sys"
ln -s /usr/local/bin/* /usr/bin/* /usr/sbin/* /bin/* /sbin/* "$sys/" 2>/dev/null
rm -f "$sys/grub-mkimage" "$sys/xorriso" "$sys/mformat" "$sys/mcopy"
missing() { # TOOL PACKAGE
	rm -f "$bin/grub-mkimage" "$bin/xorriso" "$bin/mformat" "$bin/mcopy"
	for t in grub-mkimage xorriso mformat mcopy; do
		[ "$t" = "$1" ] || stub "$t" ':'
	done
	printf '%s\n' "root=/dev/sda2 loop=/x rw" >"$work/cmdline"
	out=$(PATH=$bin:$sys LOOPBOOT_STATE=$work/state LOOPBOOT_CMDLINE=$work/cmdline \
		LOOPBOOT_BOOT_DIR=$work/boot LOOPBOOT_GRUB_LIB=$work/grub \
		sh "$tool" --kernel 6.12.9-amd64 --iso "$work/out.iso" 2>&1)
	rc=$?
	[ $rc = 1 ] && printf '%s\n' "$out" | grep -q "^loopboot-mkmedia: $1: not found; install the package $2"
	tap $? "no $1: the message names the package $2 (got: $out)"
}
reset
missing grub-mkimage grub-common
missing xorriso xorriso
missing mformat mtools
missing mcopy mtools
for platform in i386-pc:grub-pc-bin x86_64-efi:grub-efi-amd64-signed; do
	reset
	mv "$work/grub/${platform%%:*}" "$work/grub/gone"
	mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --iso "$work/out.iso"
	mv "$work/grub/gone" "$work/grub/${platform%%:*}"
	[ $rc = 1 ] && [ ! -e "$work/out.iso" ] && printf '%s\n' "$out" | grep -q "install the package.*${platform#*:}"
	tap $? "no GRUB ${platform%%:*} files: refused rather than a half-bootable image, names ${platform#*:} (got: $out)"
done

# --- --esp: \EFI\loopboot\ and a firmware entry ---------------------------------------------
# A stand-in ESP (a directory "mounted" per the findmnt and lsblk stubs)
# with Windows' files, and a stand-in NVRAM (efibootmgr's stub keeps the
# entries, BootOrder and BootNext in files; -v lists device paths).
espd=$work/espdir
nv=$work/nvram
esp_reset() {
	rm -rf "$espd" "$nv" "$work/df-avail"
	mkdir -p "$espd/EFI/Microsoft/Boot" "$espd/EFI/Boot" "$nv" "$work/sys/class/block/sda1"
	echo bootmgfw >"$espd/EFI/Microsoft/Boot/bootmgfw.efi"
	echo bcd >"$espd/EFI/Microsoft/Boot/BCD"
	echo fallback >"$espd/EFI/Boot/bootx64.efi"
	echo 1 >"$work/sys/class/block/sda1/partition"
	printf '0000|Windows Boot Manager|\\EFI\\Microsoft\\Boot\\bootmgfw.efi\n' >"$nv/entries"
	echo 0000 >"$nv/order"
	echo "/dev/sda1 vfat" >"$work/mounted"
	echo c12a7328-f81f-11d2-ba4b-00a0c93ec93b >"$work/parttype"
	echo 5A1E-0C3D >"$work/esp-uuid"
}
stub findmnt 'read -r src fs <'"$work"'/mounted 2>/dev/null || exit 1
case "$*" in *SOURCE*) echo "$src" ;; *FSTYPE*) echo "$fs" ;; esac'
stub lsblk 'case "$*" in *PARTTYPE*) cat '"$work"'/parttype ;; *PKNAME*) echo sda ;;
*UUID*) cat '"$work"'/esp-uuid 2>/dev/null ;; esac'
stub df '[ -e '"$work"'/df-avail ] || exec /bin/df "$@"; echo Avail; cat '"$work"'/df-avail'
stub efibootmgr 'nv='"$work"'/nvram; echo "$*" >>$nv/calls
case $1 in
-v | "")
	[ -s $nv/next ] && echo "BootNext: $(cat $nv/next)"
	echo "BootOrder: $(cat $nv/order)"
	while IFS="|" read -r n l p; do
		if [ "$1" = -v ]; then printf "Boot%s* %s\tHD(1,GPT,0000,0x800,0x32000)/File(%s)\n" "$n" "$l" "$p"
		else printf "Boot%s* %s\n" "$n" "$l"; fi
	done <$nv/entries ;;
-C)
	shift; while [ $# -gt 0 ]; do case $1 in -L) l=$2 ;; -l) p=$2 ;; -d) d=$2 ;; -p) pn=$2 ;; esac; shift 2; done
	[ "$d $pn" = "/dev/sda 1" ] || exit 3
	n=$(printf "%04X" $(($(wc -l <$nv/entries))))
	echo "$n|$l|$p" >>$nv/entries ;;
-o) echo "$2" >$nv/order ;;
-n) echo "$2" >$nv/next ;;
-N) rm -f $nv/next ;;
-b) [ "$3" = -B ] || exit 4
	grep -v "^$2|" $nv/entries >$nv/e; mv $nv/e $nv/entries
	tr , "\n" <$nv/order | grep -vx "$2" | paste -sd, >$nv/o; mv $nv/o $nv/order ;;
*) exit 5 ;;
esac'
esp_sum() { (cd "$espd" && find . -path ./EFI/loopboot -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
esp() { # ARGS...: the tool with --esp on the stand-ins
	mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --esp --esp-dir "$espd" "$@"
}
reset
signed_chain
esp_reset
before=$(esp_sum)
esp
lb=$espd/EFI/loopboot
[ $rc = 0 ] && for f in shimx64.efi grubx64.efi mmx64.efi grub.cfg vmlinuz initrd.img loopboot.txt BOOTX64.CSV; do
	[ -s "$lb/$f" ] || false
done && [ "$(cat "$lb/shimx64.efi")" = shimx64-signed ] && [ "$(cat "$lb/grubx64.efi")" = grub-signed ] &&
	[ ! -e "$lb/fbx64.efi" ] && [ "$(esp_sum)" = "$before" ]
tap $? "--esp: shim, signed GRUB, MokManager, menu, kernel, initramfs, BOOTX64.CSV in \\EFI\\loopboot\\; the ESP's other files unchanged (got: $out)"
iconv -f UTF-16LE -t UTF-8 "$lb/BOOTX64.CSV" | grep -qx 'shimx64.efi,loopboot,,This is the boot entry for loopboot'
tap $? "--esp: BOOTX64.CSV in UTF-16 as Debian's, for shim's fallback"
grep -A6 -xF 'if [ -z "$lb_dir" ]; then' "$lb/grub.cfg" | tr '\n' '|' |
	grep -qF '|	set lb_dir="$cmdpath"|fi|if [ -z "$lb_dir" ]; then|	set lb_dir="$fw_path"|fi|export lb_dir|' &&
	! printf '%s\n' "$out" | grep -q 'natively' &&
	[ "$(grep -c "^	*linux \$lb_dir/vmlinuz 'root=UUID=5FEE2DCE542A5FBE'" "$lb/grub.cfg")" = 6 ] &&
	[ "$(grep -c '^	*initrd \$lb_dir/initrd.img$' "$lb/grub.cfg")" = 6 ]
tap $? "--esp: GRUB's menu loads the kernel and initramfs from beside GRUB (\$cmdpath), unless lb_dir is set already; no note of a native Debian (got: $out)"
if command -v grub-script-check >/dev/null; then
	grub-script-check "$lb/grub.cfg"
	tap $? "--esp: grub-script-check accepts grub.cfg"
fi
grep -qxF '0001|loopboot|\EFI\loopboot\shimx64.efi' "$nv/entries" && [ "$(cat "$nv/order")" = 0000,0001 ] &&
	[ ! -e "$nv/next" ] && grep -qx -- '-C -d /dev/sda -p 1 -L loopboot -l \\EFI\\loopboot\\shimx64.efi' "$nv/calls" &&
	grep -qxF '0000|Windows Boot Manager|\EFI\Microsoft\Boot\bootmgfw.efi' "$nv/entries"
tap $? "--esp: one entry \"loopboot\" for \\EFI\\loopboot\\shimx64.efi, created with -C, last in BootOrder; Windows' entry as it was (got: $out; $(cat "$nv/order"))"
esp --next
[ $rc = 0 ] && [ "$(wc -l <"$nv/entries")" = 2 ] && [ "$(cat "$nv/order")" = 0000,0001 ] && [ "$(cat "$nv/next")" = 0001 ]
tap $? "--esp again, --next: the same entry (not a second one), BootNext set, BootOrder as it was (got: $out)"
esp --first
[ $rc = 0 ] && [ "$(cat "$nv/order")" = 0001,0000 ]
tap $? "--esp --first: the entry first in BootOrder (got: $out)"
esp --remove
[ $rc = 0 ] && [ "$(cat "$nv/entries")" = '0000|Windows Boot Manager|\EFI\Microsoft\Boot\bootmgfw.efi' ] &&
	[ "$(cat "$nv/order")" = 0000 ] && [ ! -e "$nv/next" ] && [ ! -e "$lb" ] && [ "$(esp_sum)" = "$before" ]
tap $? "--esp --remove: the entry, BootNext and \\EFI\\loopboot\\ gone; ESP and NVRAM as before (got: $out)"

esp_reset
: >"$nv/order"
esp --first
[ $rc = 0 ] && [ "$(cat "$nv/order")" = 0001 ]
tap $? "--esp --first with no BootOrder yet: the entry alone (got: $out; $(cat "$nv/order"))"

esp_reset
mkdir -p "$lb"
echo theirs >"$lb/grubx64.efi"
esp
[ $rc = 1 ] && [ "$(cat "$lb/grubx64.efi")" = theirs ] && [ ! -e "$nv/calls" ] &&
	printf '%s\n' "$out" | grep -q 'not made by loopboot-mkmedia'
tap $? "--esp: a \\EFI\\loopboot\\ it did not make is left alone, nothing done (got: $out)"
esp --remove
[ $rc = 0 ] && [ "$(cat "$lb/grubx64.efi")" = theirs ] && printf '%s\n' "$out" | grep -q 'left alone'
tap $? "--esp --remove: a \\EFI\\loopboot\\ it did not make is left alone (got: $out)"

esp_reset
echo 4096 >"$work/df-avail"
before=$(esp_sum)
esp
[ $rc = 1 ] && [ ! -e "$lb" ] && [ ! -e "$nv/calls" ] && [ "$(esp_sum)" = "$before" ] &&
	printf '%s\n' "$out" | grep -q 'MiB free.*needed'
tap $? "--esp on a full ESP: refused before writing anything (got: $out)"

esp_reset
echo "/dev/sda2 ntfs3" >"$work/mounted"
esp
[ $rc = 1 ] && [ ! -e "$lb" ] && printf '%s\n' "$out" | grep -q 'not the FAT of an EFI System Partition'
tap $? "--esp on a partition that is not FAT: refused (got: $out)"
esp_reset
echo ebd0a0a2-b9e5-4433-87c0-68b6b72699c7 >"$work/parttype"
esp
[ $rc = 1 ] && [ ! -e "$lb" ] && printf '%s\n' "$out" | grep -q 'not an EFI System Partition'
tap $? "--esp on a FAT partition of another type: refused (got: $out)"
esp_reset
: >"$work/mounted"
esp
[ $rc = 1 ] && printf '%s\n' "$out" | grep -q 'no partition mounted there; mount the EFI System Partition'
tap $? "--esp with nothing mounted at the directory: says how to mount it (got: $out)"
# A Debian installed natively: its \EFI\debian\grub.cfg is what Debian 12's
# signed GRUB (2.06; the stand-in here has no "fw_path" in it) reads first
# (tests/boot/esp.sh boots through it): --esp installs all the same, then
# says so and gives the menu entry for that Debian's 40_custom, which finds
# the ESP by its UUID (by loopboot.txt when lsblk tells none).  Debian 13's
# (2.12, "fw_path") reads loopboot's own menu: no note.
native_entry() { # SEARCH: the lines --esp prints for that Debian's menu
	printf '%s\n' "menuentry 'loopboot' {" "	$1" '	set lb_dir=($lb_esp)/EFI/loopboot' \
		'	export lb_dir' '	configfile $lb_dir/grub.cfg' '}'
}
esp_reset
mkdir -p "$espd/EFI/debian"
echo native-menu >"$espd/EFI/debian/grub.cfg"
before=$(esp_sum)
esp
[ $rc = 0 ] && [ -s "$lb/grubx64.efi" ] && [ "$(esp_sum)" = "$before" ] &&
	printf '%s\n' "$out" | grep -q "$espd/EFI/debian/grub.cfg: Debian is also installed natively.*40_custom.*update-grub" &&
	printf '%s\n' "$out" | grep -A5 -xF "menuentry 'loopboot' {" | diff - <(native_entry 'search --no-floppy --fs-uuid --set=lb_esp 5A1E-0C3D') >&2
tap $? "--esp beside a native Debian's \\EFI\\debian\\grub.cfg: installed, that menu untouched, the entry for its 40_custom given, the ESP by UUID (got: $out)"
if command -v grub-script-check >/dev/null; then
	printf '%s\n' "$out" | grep -A5 -xF "menuentry 'loopboot' {" | grub-script-check
	tap $? "--esp: grub-script-check accepts the entry for the native Debian's menu"
fi
esp_reset
mkdir -p "$espd/EFI/debian"
echo native-menu >"$espd/EFI/debian/grub.cfg"
: >"$work/esp-uuid"
esp
[ $rc = 0 ] && printf '%s\n' "$out" | grep -A5 -xF "menuentry 'loopboot' {" |
	diff - <(native_entry 'search --no-floppy --file --set=lb_esp /EFI/loopboot/loopboot.txt') >&2
tap $? "--esp beside a native Debian, no UUID known: the entry finds the ESP by \\EFI\\loopboot\\loopboot.txt (got: $out)"
esp_reset
mkdir -p "$espd/EFI/debian"
echo native-menu >"$espd/EFI/debian/grub.cfg"
echo '5A1E-0C3D;reboot' >"$work/esp-uuid"
esp
[ $rc = 0 ] && printf '%s\n' "$out" | grep -q 'search --no-floppy --file --set=lb_esp' &&
	! printf '%s\n' "$out" | grep -q reboot
tap $? "--esp: a UUID with other characters is not put in GRUB's script (got: $out)"
esp_reset
mkdir -p "$espd/EFI/debian"
echo native-menu >"$espd/EFI/debian/grub.cfg"
echo 'grub-signed, knows fw_path' >"$work/grub-signed/grubx64.efi.signed"
esp
[ $rc = 0 ] && [ -s "$lb/grubx64.efi" ] && ! printf '%s\n' "$out" | grep -q 'natively\|menuentry'
tap $? "--esp beside a native Debian with GRUB 2.12 (fw_path): no note, its menu is loopboot's (got: $out)"
signed_chain

reset
esp_reset
esp
[ $rc = 1 ] && [ ! -e "$lb" ] && printf '%s\n' "$out" | grep -q 'apt install shim-signed grub-efi-amd64-signed'
tap $? "--esp without the signed chain: refused, names the packages (got: $out)"
mkmedia '' --iso "$work/out.iso" --first
[ $rc = 2 ]
tap $? "--first without --esp: usage error"
mkmedia 'root=UUID=AB loop=/x rw' --esp --follow
[ $rc = 2 ]
tap $? "--esp --follow: usage error (GRUB on the ESP would need NTFS, refused under Secure Boot)"
mkmedia '' --esp --remove --next
[ $rc = 2 ]
tap $? "--remove --next: usage error"

# --- PXE ---------------------------------------------------------------------------------
reset
mkdir -p "$work/pxelinux" "$work/syslinux"
for f in pxelinux/pxelinux.0 syslinux/ldlinux.c32 syslinux/menu.c32 syslinux/libutil.c32; do
	echo "$f" >"$work/$f"
done
pxe() { mkmedia 'root=/dev/sda2 loop=/x rw' --kernel 6.12.9-amd64 --pxe "$work/pxe"; }
LOOPBOOT_PXELINUX_DIR=$work/pxelinux LOOPBOOT_SYSLINUX_DIR=$work/syslinux pxe
[ $rc = 0 ] && for f in vmlinuz-loopboot initrd.img-loopboot boot.ipxe pxelinux.cfg/default \
	pxelinux.0 ldlinux.c32 menu.c32 libutil.c32; do [ -s "$work/pxe/$f" ] || false; done
tap $? "--pxe: kernel, initramfs, iPXE script, PXELINUX with its configuration (got: $out)"
line='root=UUID=5FEE2DCE542A5FBE "loop=/My Linux/root.img" rw'
[ "$(grep -cxF "	APPEND $line" "$work/pxe/pxelinux.cfg/default")" = 1 ] &&
	grep -qxF "	APPEND $line loopboot.ro" "$work/pxe/pxelinux.cfg/default" &&
	grep -qxF "	APPEND $line break=premount console=tty0 console=ttyS0,115200n8" "$work/pxe/pxelinux.cfg/default" &&
	grep -q '^DEFAULT screen-loopboot$' "$work/pxe/pxelinux.cfg/default"
tap $? "--pxe: PXELINUX's entries carry the kernel line as the kernel reads it"
head -n 1 "$work/pxe/boot.ipxe" | grep -qx '#!ipxe' &&
	grep -qxF "kernel vmlinuz-loopboot initrd=initrd.img-loopboot $line" "$work/pxe/boot.ipxe" &&
	[ "$(grep -c '^boot$' "$work/pxe/boot.ipxe")" = 6 ] &&
	grep -q '^choose --default screen-loopboot ' "$work/pxe/boot.ipxe"
tap $? "--pxe: iPXE's menu has the six entries, the default is the normal one"

reset
LOOPBOOT_PXELINUX_DIR=$work/nowhere pxe
[ $rc = 0 ] && [ -s "$work/pxe/boot.ipxe" ] && [ ! -e "$work/pxe/pxelinux.0" ] &&
	printf '%s\n' "$out" | grep -q 'install the packages pxelinux and syslinux-common'
tap $? "--pxe without PXELINUX installed: iPXE's files made, the packages for PXELINUX named (got: $out)"

# --- usage ---------------------------------------------------------------------------------
reset
mkmedia '' --append 'root=/dev/sda1 loop=/x'
[ $rc = 2 ]
tap $? "no medium named: usage error, exit 2"
mkmedia '' --iso "$work/a" --pxe "$work/b"
[ $rc = 2 ]
tap $? "--iso and --pxe together: usage error, exit 2"
mkmedia '' --vmlinuz /boot/x --print
[ $rc = 2 ]
tap $? "--vmlinuz without --initrd: usage error, exit 2"

# --- the refresh hook ------------------------------------------------------------------------
# The hook with a stub loopboot-mkmedia that logs its arguments.
stub loopboot-mkmedia 'printf "%s|" "$@" >>'"$work"'/calls; echo >>'"$work"'/calls; exit $(cat '"$work"'/mkmedia-rc 2>/dev/null || echo 0)'
refresh() { # CONF_TEXT VERSION
	printf '%s\n' "$1" >"$work/mkmedia.conf"
	rm -f "$work/calls"
	out=$(PATH=$bin:$PATH LOOPBOOT_MKMEDIA_CONF=$work/mkmedia.conf LOOPBOOT_BOOT_DIR=$work/boot \
		sh "$hook" "$2" "$work/boot/initrd.img-$2" 2>&1)
	rc=$?
}
echo kernel >"$work/boot/vmlinuz-6.1.0-9-amd64"
refresh 'LOOPBOOT_MKMEDIA_ISO=""' 6.12.9-amd64
[ $rc = 0 ] && [ ! -e "$work/calls" ] && [ -z "$out" ]
tap $? "hook: off by default: nothing run, nothing said"
refresh 'LOOPBOOT_MKMEDIA_ISO="/srv/my stick.iso"' 6.12.9-amd64
[ $rc = 0 ] && [ "$(cat "$work/calls")" = "--vmlinuz|$work/boot/vmlinuz-6.12.9-amd64|--initrd|$work/boot/initrd.img-6.12.9-amd64|--iso|/srv/my stick.iso|" ]
tap $? "hook: the newest kernel's update remakes the ISO (got: $(cat "$work/calls" 2>&1))"
refresh 'LOOPBOOT_MKMEDIA_ISO=/srv/s.iso LOOPBOOT_MKMEDIA_APPEND="root=UUID=AB \"loop=/a b\" rw" LOOPBOOT_MKMEDIA_SERIAL=yes' 6.12.9-amd64
[ $rc = 0 ] && grep -qF '|--append|root=UUID=AB "loop=/a b" rw|--serial|' "$work/calls"
tap $? "hook: the settings' kernel line and serial console are passed on (got: $(cat "$work/calls" 2>&1))"
refresh 'LOOPBOOT_MKMEDIA_ISO=/srv/s.iso' 6.1.0-9-amd64
[ $rc = 0 ] && [ ! -e "$work/calls" ]
tap $? "hook: an older kernel's initramfs update leaves the ISO alone"
echo 1 >"$work/mkmedia-rc"
refresh 'LOOPBOOT_MKMEDIA_ISO=/srv/s.iso' 6.12.9-amd64
[ $rc = 0 ] && printf '%s\n' "$out" | grep -q '/srv/s.iso: NOT made again; it still holds the previous kernel'
tap $? "hook: a failure is reported loudly but does not fail update-initramfs (got: $out)"
rm -f "$work/mkmedia-rc"
mkdir -p "$work/hookesp/EFI"
refresh 'LOOPBOOT_MKMEDIA_ESP='"$work/hookesp" 6.12.9-amd64
[ $rc = 0 ] && [ ! -e "$work/calls" ] && printf '%s\n' "$out" | grep -q 'EFI/loopboot: not there'
tap $? "hook, ESP set but never made there (or not mounted): nothing run, said why (got: $out)"
mkdir -p "$work/hookesp/EFI/loopboot" && : >"$work/hookesp/EFI/loopboot/loopboot.txt"
refresh 'LOOPBOOT_MKMEDIA_ISO=/srv/s.iso LOOPBOOT_MKMEDIA_ESP='"$work/hookesp" 6.12.9-amd64
[ $rc = 0 ] && [ "$(sed -n 2p "$work/calls")" = "--vmlinuz|$work/boot/vmlinuz-6.12.9-amd64|--initrd|$work/boot/initrd.img-6.12.9-amd64|--esp|--esp-dir|$work/hookesp|" ] &&
	[ "$(sed -n 1p "$work/calls")" = "--vmlinuz|$work/boot/vmlinuz-6.12.9-amd64|--initrd|$work/boot/initrd.img-6.12.9-amd64|--iso|/srv/s.iso|" ]
tap $? "hook: the ISO and the ESP's \\EFI\\loopboot\\ made again with the new kernel (got: $(cat "$work/calls" 2>&1))"
left=$(ls -A "$work/tmp")
[ -z "$left" ]
tap $? "loopboot-mkmedia left no temporary file in TMPDIR, after every run above (left: ${left:-none})"
