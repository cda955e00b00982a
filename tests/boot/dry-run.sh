# shellcheck shell=bash
# LB_DRY_RUN=1 for tests/boot/run (and for the older runner that
# tests/boot/dry-run-diff.sh compares it with): no initramfs, no master disk,
# no QEMU.  A master disk is an empty file whose UUID is "UUID-of-NAME"; a
# boot is a line in $dir/boot.txt naming the kernel, the number of disks, the
# masters copied and the kernel line.  The checks then run against an empty
# serial log: their TAP descriptions, and the "# log REGEX" lines of
# tests/lib/expect.sh, are what can be compared.
# shellcheck disable=SC2034 # LB_DRY_RUN is read by tests/lib/expect.sh
LB_DRY_RUN=1

lb_initrd() { echo "$LB_WORK/initrd-$1.img"; }

# shellcheck disable=SC2154 # dir: the scenario's directory (tests/boot/run)
master_disk() { # NAME: prints its (empty) file
	: >"$LB_WORK/master-$1.img"
	echo "UUID-of-$1" >"$LB_WORK/master-$1.uuid"
	echo "$1" >>"$dir/masters"
	echo "$LB_WORK/master-$1.img"
}

# What lb_qemu (or an older runner's own QEMU line) would run, written down.
timeout() {
	local kver='' append='' disks=0
	while [ $# -gt 0 ]; do
		case $1 in
		-kernel) kver=${2##*/vmlinuz-} && shift ;;
		-append) append=$2 && shift ;;
		-drive) disks=$((disks + 1)) && shift ;;
		esac
		shift
	done
	echo "# boot $kver, $disks disks, masters $(sort "$dir/masters" | tr '\n' ' ')- $append" \
		>>"$dir/boot.txt"
}
