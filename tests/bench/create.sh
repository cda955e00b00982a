#!/bin/bash
# make bench, loopboot-create's row (issue 15): on an NTFS host (mkntfs in
# a sparse file, attached to a loop device) mounted by each NTFS driver this
# kernel has (ntfs-3g always; ntfs3 when the running kernel has it):
#  - loopboot-create's allocation of the file (fallocate where the driver
#    can, zeros written otherwise): its own figure from its output, in a run
#    stopped right after it (a mirror nobody answers: debootstrap fails and
#    the run cleans up);
#  - a plain dd of the same size to the same host (dd if=/dev/zero bs=4M
#    conv=fsync), the reference;
#  - the time of a whole create (Debian 13, the default driver) from a warm
#    --cache ($LB_SYSTEM_CACHE/create-cache, filled by tests/create/e2e.sh;
#    warmed here first, untimed, when it is empty).
# The machine's load average is written next to the figures: on a shared
# machine they mean little without it.  It measures, it never fails on a
# number.  Result: build/bench/create.txt.
#
#   tests/bench/create.sh        (tools from build/: make all)
#   LB_BENCH_CREATE_GB (3: the file's size), LB_BENCH_CREATE_FULL (1; 0: no
#   whole create), LB_CREATE_DEB (the loopboot package for the new system;
#   default ../loopboot_VERSION_ARCH.deb or tests/create/e2e.sh's).
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
OUT=$LB_TOP/build/bench
WORK=$OUT/create-work
GB=${LB_BENCH_CREATE_GB:-3}
CACHE=${LB_SYSTEM_CACHE:-/var/cache/loopboot-tests}/create-cache
MIRROR=${LB_MIRROR:-http://deb.debian.org/debian}
export PATH=$LB_TOP/$B/bin:$PATH
export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
export LOOPBOOT_CREATE_RUN=$WORK/run LOOPBOOT_CREATE_LOG=$WORK/log
CREATE=$LB_TOP/helpers/loopboot-create

die() {
	echo "tests/bench/create.sh: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (it attaches loop devices and mounts)"
for t in mkntfs ntfs-3g ntfsprobe loopattach; do
	command -v "$t" >/dev/null || die "$t: missing (make all; apt install ntfs-3g)"
done
findmnt -rn -o TARGET | grep -q "^$WORK\(/\|\$\)" && die "$WORK: something is mounted under it"
rm -rf "$WORK"
mkdir -p "$WORK/run" "$WORK/mnt" "$CACHE"
dev=''
cleanup() {
	findmnt -rn "$WORK/mnt" >/dev/null && umount "$WORK/mnt"
	[ -n "$dev" ] && losetup -d "$dev" 2>/dev/null
	rm -f "$WORK/ntfs.img"
}
trap cleanup EXIT
printf 'bench pw\n' >"$WORK/pw"

drivers=(ntfs-3g)
if grep -qw ntfs3 /proc/filesystems || modprobe -q ntfs3 2>/dev/null; then
	drivers+=(ntfs3)
fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
# fresh_host: a new NTFS volume (GB + 4 GiB, so that 10% and 2 GiB stay
# free), attached: $dev.
fresh_host() {
	[ -n "$dev" ] && losetup -d "$dev"
	rm -f "$WORK/ntfs.img"
	truncate -s $((GB + 4))G "$WORK/ntfs.img"
	mkntfs -Q -F -L BENCH "$WORK/ntfs.img" >/dev/null 2>&1 || die "mkntfs failed"
	dev=$(losetup -f --show "$WORK/ntfs.img")
}
# wait_closed: ntfs-3g writes the last of the volume as it exits.
wait_closed() {
	while pgrep -f "ntfs-3g.* $dev " >/dev/null || pgrep -f "ntfs-3g $dev" >/dev/null; do
		sleep 0.1
	done
}
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
rate() { # BYTES MICROSECONDS: MiB/s
	awk -v b="$1" -v us="$2" 'BEGIN { printf "%.1f", b / 1048576 / (us / 1e6) }'
}

{
	echo "loopboot-create benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cores"
	echo "commit $(git -C "$LB_TOP" rev-parse --short HEAD 2>/dev/null)"
	echo "load average at the start: $(load)"
	echo
	printf '%-8s  %-44s  %s\n' driver "loopboot-create's allocation" "plain dd, same size, same host"
} >"$WORK/create.txt"
bytes=$((GB * 1024 * 1048576))
for drv in "${drivers[@]}"; do
	# loopboot-create's own allocation, the run stopped at debootstrap.
	fresh_host
	"$CREATE" --host "$dev" --file /bench/alloc.img --size "${GB}G" --user bench \
		--password-file "$WORK/pw" --host-driver "$drv" --mirror http://127.0.0.1:9/debian \
		--yes </dev/null >"$WORK/alloc-$drv.out" 2>&1
	line=$(grep -o 'alloc\.img: .* allocated (.*' "$WORK/alloc-$drv.out")
	alloc=$(printf '%s' "$line" | sed -n 's/.*allocated (\(.*\)) in \([0-9.]*\) s (\(.*\)\/s)/\3\/s in \2 s (\1)/p')
	[ -n "$alloc" ] || alloc="(no figure: see $WORK/alloc-$drv.out)"
	[ -z "$(findmnt -rn -S "$dev")" ] || die "$dev: left mounted by loopboot-create"
	wait_closed
	# The same size written by dd on a fresh volume, mounted by the same
	# driver.
	fresh_host
	if [ "$drv" = ntfs3 ]; then
		mount -t ntfs3 "$dev" "$WORK/mnt"
	else
		ntfs-3g "$dev" "$WORK/mnt"
	fi || die "$dev: cannot mount it with $drv"
	t0=$(now_us)
	dd if=/dev/zero of="$WORK/mnt/dd.bin" bs=4M count=$((bytes / 4194304)) conv=fsync status=none ||
		die "dd to $drv failed"
	us=$(($(now_us) - t0))
	umount "$WORK/mnt"
	wait_closed
	plain="$(rate "$bytes" "$us") MiB/s in $(awk -v us="$us" 'BEGIN { printf "%.2f", us / 1e6 }') s"
	printf '%-8s  %-44s  %s\n' "$drv" "$alloc" "$plain" >>"$WORK/create.txt"
	echo "# $drv: loopboot-create $alloc; dd $plain"
done
echo "(${GB} GiB; load average after: $(load))" >>"$WORK/create.txt"

if [ "${LB_BENCH_CREATE_FULL:-1}" = 1 ]; then
	version=$(dpkg-parsechangelog -l "$LB_TOP/debian/changelog" -S Version)
	arch=$(dpkg --print-architecture)
	deb=${LB_CREATE_DEB:-$LB_TOP/../loopboot_${version}_$arch.deb}
	[ -f "$deb" ] || deb=$LB_TOP/build/create-e2e/deb/loopboot_${version}_$arch.deb
	[ -f "$deb" ] || die "no loopboot package for the new system: give LB_CREATE_DEB (make deb)"
	# full TAG: a whole create on a fresh volume, the default driver.
	full() {
		fresh_host
		"$CREATE" --host "$dev" --file /linux/debian.img --size "${GB}G" --user bench \
			--password-file "$WORK/pw" --mirror "$MIRROR" --cache "$CACHE" --deb "$deb" \
			--yes --quiet </dev/null >"$WORK/full-$1.out" 2>&1
	}
	if ! find "$CACHE" -name '*.deb' | grep -q .; then
		echo "# $CACHE is empty: a first create fills it (not timed)"
		full warm-up || die "the warm-up create failed: see $WORK/full-warm-up.out"
	fi
	l0=$(load)
	t0=$(now_us)
	full timed
	rc=$?
	us=$(($(now_us) - t0))
	{
		echo
		if [ $rc = 0 ]; then
			printf 'whole create from a warm --cache (Debian 13, %s GiB, driver %s): %s s\n' "$GB" \
				"$(sed -n 's/^  partition   .* (ntfs, \([^,]*\),.*/\1/p' "$WORK/full-timed.out")" \
				"$(awk -v us="$us" 'BEGIN { printf "%.0f", us / 1e6 }')"
		else
			echo "whole create: failed (exit $rc; see $WORK/full-timed.out)"
		fi
		echo "(load average before: $l0; after: $(load))"
	} >>"$WORK/create.txt"
fi
mkdir -p "$OUT"
cp "$WORK/create.txt" "$OUT/create.txt"
cat "$OUT/create.txt"
