# shellcheck shell=bash
# Kernels, initramfs images built from the installed package's files, and
# the one QEMU command line every test boots with (lb_qemu), under TCG.
# shellcheck source=base.sh
. "$(dirname "${BASH_SOURCE[0]}")/base.sh"

# The kernels the tests boot are Debian's own, in the release trees
# tests/release/prepare made (build/releases/SUITE/root): Debian 12's 6.1
# (no ntfs3) and 6.12 (ntfs3), Debian 13's 6.12 (ntfs3) and
# trixie-backports' 7.x (the new "ntfs" driver), whatever this machine
# runs; their initramfs images are made in the same tree, by its own
# mkinitramfs from its own installed package.
LB_RELEASES=${LB_RELEASES:-$LB_TOP/build/releases}

# The tree kernel KVER is installed in.
lb_kernel_root() {
	local suite
	for suite in bookworm trixie; do
		[ -e "$LB_RELEASES/$suite/root/boot/vmlinuz-$1" ] || continue
		echo "$LB_RELEASES/$suite/root"
		return 0
	done
	return 1
}

# The kernel image of KVER.
lb_vmlinuz() {
	local root
	root=$(lb_kernel_root "$1") || lb_die "no kernel $1 in $LB_RELEASES/*/root/boot (tests/release/prepare)"
	echo "$root/boot/vmlinuz-$1"
}

# The kernel version of a kernel tag: 6.1 or 61, 6.12 or 612 (Debian 12's),
# t612 or t7 (Debian 13's 6.12 and 7.x).
lb_kernel() {
	local suite=bookworm series k
	case $1 in
	6.1 | 61) series=6.1 ;;
	6.12 | 612) series=6.12 ;;
	t612) suite=trixie series=6.12 ;;
	t7) suite=trixie series=7 ;;
	*) return 1 ;;
	esac
	k=$(find "$LB_RELEASES/$suite/root/boot" -maxdepth 1 -name "vmlinuz-$series.*" 2>/dev/null |
		sort -V | tail -n 1)
	[ -n "$k" ] || return 1
	basename "$k" | sed 's/^vmlinuz-//'
}

# Runs COMMAND... chrooted into ROOT with /proc mounted, in a mount
# namespace of its own: nothing stays mounted under build/ whatever happens.
# The namespace starts as a copy of every mount of that moment, other
# tests' loop and FUSE mounts among them, and its copies would keep those
# busy ("still in use", "target is busy") until COMMAND ends: all but what
# ROOT needs are dropped first (lb_ns_only_tree).
lb_chroot() { # ROOT COMMAND...
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded by that bash
	unshare --mount --propagation private -- bash -c \
		"$(declare -f lb_ns_only_tree)"'
		lb_ns_only_tree "$0" 2>/dev/null
		mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" "$@"
}

# lb_ns_only_tree ROOT: in a mount namespace of its own, unmounts (lazily)
# every mount but "/", those on the way to ROOT, those inside it, and
# /dev, /proc and /sys; does nothing (returns 1) when a mount here is
# still shared with another namespace, where an unmount would reach it.
lb_ns_only_tree() {
	local root=${1%/} m
	grep -q ' shared:' /proc/self/mountinfo && return 1
	awk '{ print $5 }' /proc/self/mountinfo | sort -r -u | while read -r m; do
		case $m in
		/ | /dev | /dev/* | /proc | /proc/* | /sys | /sys/* | "$root" | "$root"/*) continue ;;
		esac
		case $root/ in
		"$m"/*) continue ;;
		esac
		umount -l "$m"
	done
}

# An initramfs for kernel $1 built, in its release tree, by that release's
# mkinitramfs from a private copy of the tree's /etc/initramfs-tools, i.e.
# from what the installed package put there, with a small module list so
# that a boot under TCG takes seconds, not minutes.
# Cached per kernel for one test run ($LB_WORK is cleared by tests/boot/run).
lb_initrd() {
	local kver=$1 out=$LB_WORK/initrd-$1.img conf root
	if [ -s "$out" ]; then
		echo "$out"
		return 0
	fi
	root=$(lb_kernel_root "$kver") || lb_die "no kernel $kver in $LB_RELEASES/*/root/boot (tests/release/prepare)"
	conf=$(mktemp -d "$root/tmp/lbconf.XXXXXX")
	cp -a "$root/etc/initramfs-tools/." "$conf/"
	sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^COMPRESS=.*/COMPRESS=zstd/' \
		-e 's/^BUSYBOX=.*/BUSYBOX=y/' "$conf/initramfs.conf"
	printf '%s\n' virtio_pci virtio_blk ata_piix sd_mod ahci >"$conf/modules"
	if ! lb_chroot "$root" mkinitramfs -d "${conf#"$root"}" -o "${conf#"$root"}/initrd" "$kver" \
		>"$LB_WORK/mkinitramfs-$kver.log" 2>&1; then
		cat "$LB_WORK/mkinitramfs-$kver.log" >&2
		rm -rf "$conf"
		lb_die "mkinitramfs failed for $kver"
	fi
	mv "$conf/initrd" "$out"
	rm -rf "$conf"
	echo "$out"
}

# lb_qemu [-m MB] [-t SECONDS] [-s SERIAL] [QEMU_OPTIONS...]: the QEMU
# every test boots: x86-64 under TCG, one CPU, no display, no monitor, no
# reboot (a reboot ends QEMU).  MB: memory (768); SECONDS: how long before
# QEMU is killed (LB_BOOT_TIMEOUT, else 240); SERIAL: the serial port
# (-serial's argument, e.g. file:LOG or stdio; default none).  The rest
# goes to QEMU as given (disks, kernel or firmware, network).
# LB_QEMU_ACCEL replaces "tcg" (e.g. "tcg,tb-size=64", to look into the
# emulator's own costs in make bench).
lb_qemu() {
	local mem=768 secs=${LB_BOOT_TIMEOUT:-240} serial=none
	while [ $# -gt 0 ]; do
		case $1 in
		-m) mem=$2 ;;
		-t) secs=$2 ;;
		-s) serial=$2 ;;
		*) break ;;
		esac
		shift 2
	done
	timeout "$secs" qemu-system-x86_64 -accel "${LB_QEMU_ACCEL:-tcg}" -m "$mem" -smp 1 \
		-display none -monitor none -serial "$serial" -no-reboot "$@"
}

# lb_boot_kernel SERIAL SECONDS KVER DISK APPEND: DISK (virtio, and
# $LB_DISK2 when set, vdb) booted by QEMU's own loader with the kernel KVER,
# its lb_initrd and exactly the kernel line APPEND.
lb_boot_kernel() {
	local serial=$1 secs=$2 kver=$3 disk=$4 append=$5 initrd
	initrd=$(lb_initrd "$kver") || return 1
	lb_qemu -t "$secs" -s "$serial" -drive "file=$disk,format=raw,if=virtio" \
		${LB_DISK2:+-drive "file=$LB_DISK2,format=raw,if=virtio"} \
		-kernel "$(lb_vmlinuz "$kver")" -initrd "$initrd" -append "$append"
}

# lb_boot KVER DISK LOG CMDLINE...: boot under QEMU (TCG), serial console to
# LOG; returns when the guest powers off, panics (panic=-1) or times out.
# LB_DISK2, when set, is a second disk (vdb).
lb_boot() {
	local kver=$1 disk=$2 log=$3
	shift 3
	lb_boot_kernel "file:$log" "${LB_BOOT_TIMEOUT:-240}" "$kver" "$disk" \
		"console=ttyS0 panic=-1 $*" </dev/null
}

# lb_boot_console KVER DISK LOG CMDLINE COMMAND...: boot (no panic=: with
# it, break= reboots instead of giving a shell) with the serial console
# driven through a FIFO: each COMMAND is typed once the initramfs shell's
# next prompt is in LOG (the UART would drop input sent earlier).  Returns
# when QEMU has ended (300 s at most).
lb_boot_console() {
	local kver=$1 disk=$2 log=$3 append="console=ttyS0 $4" fifo qemu prompts=0 cmd i
	shift 4
	fifo=$log.in
	rm -f "$fifo"
	mkfifo "$fifo"
	lb_initrd "$kver" >/dev/null || return 1
	lb_boot_kernel stdio 300 "$kver" "$disk" "$append" <"$fifo" >"$log" 2>&1 &
	qemu=$!
	# If QEMU is gone, a write must fail, not kill this test.
	trap '' PIPE
	exec 7>"$fifo"
	for cmd in "$@"; do
		prompts=$((prompts + 1))
		for _ in $(seq 400); do
			[ "$(grep -c '(initramfs) ' "$log")" -ge "$prompts" ] && break
			kill -0 "$qemu" 2>/dev/null || break
			sleep 0.5
		done
		for ((i = 0; i < ${#cmd}; i++)); do
			printf '%s' "${cmd:i:1}" >&7
			sleep 0.02
		done
		printf '\r' >&7
	done
	wait "$qemu"
	exec 7>&-
	rm -f "$fifo"
}

# lb_qemu_until LOG REGEX [LB_QEMU_ARGUMENTS...]: lb_qemu (its -s should be
# file:LOG), ended two seconds after LOG first matches REGEX (grep -E): for
# boots meant to stop, e.g. refused by the firmware, which would otherwise
# wait for the timeout.  0 when REGEX matched, else lb_qemu's status.
lb_qemu_until() {
	local log=$1 regex=$2 pid
	shift 2
	lb_qemu "$@" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -Eaq -- "$regex" "$log" 2>/dev/null; then
			sleep 2
			# The subshell's child is timeout, which passes it on to QEMU.
			pkill -TERM -P "$pid" 2>/dev/null
			wait "$pid"
			return 0
		fi
		sleep 1
	done
	wait "$pid"
}
