#!/bin/bash
# Boot-path benchmark: kernel start to root mounted, from the kernel's own
# timestamps on the serial console (the "mounted filesystem" line of the
# root), for a loop root on NTFS with ntfs3 and with ntfs-3g against a plain
# ext4 partition root, all on Debian 12's 6.12 kernel, same initramfs (built
# from the installed package), interleaved rounds.  Target (issue 5): the
# ntfs3 loop root within 5% of the plain root.  A benchmark, not a test: it
# reports, it does not fail on the numbers.
#   BOOTBENCH_ROUNDS (default 3)
set -u
export LB_WORK=${LB_WORK:-$(cd "$(dirname "$0")/../.." && pwd)/build/bench/boot}
rm -rf "$LB_WORK"
# shellcheck source=../lib/disk.sh
. "$(dirname "$0")/../lib/disk.sh"
# shellcheck source=../lib/qemu.sh
. "$(dirname "$0")/../lib/qemu.sh"
out=$(dirname "$LB_WORK")
rounds=${BOOTBENCH_ROUNDS:-3}
kver=$(lb_kernel 6.12) || lb_die "no Debian 6.12 kernel (tests/release/prepare bookworm)"

lb_root_image "$LB_WORK/root.img" 24
uuid=$(lb_ntfs_disk "$LB_WORK/ntfs.img" LBHOST /linux/root.img "$LB_WORK/root.img" 96)
lb_root_image "$LB_WORK/ext4.part" 24
lb_assemble_disk "$LB_WORK/ext4.img" "$LB_WORK/ext4.part" 83

# Seconds from kernel start to the root's "mounted filesystem" line.
root_mounted_at() { # LOG DEVICE
	sed -n "s/^\[ *\([0-9.]*\)\] EXT4-fs ($2): mounted filesystem.*/\1/p" "$1" | head -n 1
}

configs="plain-ext4 loop-ntfs3 loop-ntfs-3g"
: >"$out/boot-path.raw"
for r in $(seq "$rounds"); do
	for c in $configs; do
		case $c in
		plain-ext4) disk=ext4.img dev=vda1 cmd='root=/dev/vda1 rw' ;;
		loop-ntfs3) disk=ntfs.img dev=loop0 cmd="root=UUID=$uuid loop=/linux/root.img rw" ;;
		loop-ntfs-3g) disk=ntfs.img dev=loop0 cmd="root=UUID=$uuid loop=/linux/root.img rootfstype=ntfs-3g rw" ;;
		esac
		cp --sparse=always "$LB_WORK/$disk" "$LB_WORK/run.img"
		log=$LB_WORK/$c-$r.log
		lb_boot "$kver" "$LB_WORK/run.img" "$log" "$cmd"
		t=$(root_mounted_at "$log" "$dev")
		echo "$c $r ${t:-NA}" | tee -a "$out/boot-path.raw"
	done
done

median() { sort -n | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2); else print "NA"}'; }
{
	echo "# boot path: kernel start to root mounted (s), Linux $kver under QEMU TCG, $rounds rounds, median"
	base=$(awk '$1=="plain-ext4" && $3!="NA" {print $3}' "$out/boot-path.raw" | median)
	for c in $configs; do
		m=$(awk -v c="$c" '$1==c && $3!="NA" {print $3}' "$out/boot-path.raw" | median)
		ratio=$(awk -v m="$m" -v b="$base" 'BEGIN { if (m=="NA" || b=="NA" || b==0) print "NA"; else printf "%.3f", m/b }')
		printf '%-14s %8s s  ratio to plain %s\n' "$c" "$m" "$ratio"
	done
	echo "# target: loop-ntfs3 ratio <= 1.05"
} | tee "$out/boot-path.txt"

if command -v gnuplot >/dev/null; then
	awk 'NR>1 && $1 !~ /^#/ {print $1, $2}' "$out/boot-path.txt" >"$LB_WORK/plot.dat"
	gnuplot <<EOF
set terminal png size 640,400
set output "$out/boot-path.png"
set title "Kernel start to root mounted (median of $rounds, QEMU TCG, $kver)"
set ylabel "seconds"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
plot "$LB_WORK/plot.dat" using 0:2:xtic(1) with boxes notitle
EOF
	mkdir -p doc && cp "$out/boot-path.png" doc/boot-path.png
fi
