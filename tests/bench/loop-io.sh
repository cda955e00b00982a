#!/bin/bash
# Benchmark (not a test: it never fails on a number): sequential I/O through
# a loop device set up by loopattach (direct I/O on) against the same work
# on the backing file itself, on a device from losetup's defaults, and on
# one from losetup --direct-io=on (direct I/O without loopattach's
# read-ahead), on an ext4 host file.  Also the page cache each one fills per byte read: a
# buffered loop device caches every block twice (its own pages and the
# backing file's).
#
# Throughput on a shared machine varies threefold between identical runs
# (boot-facts section 8), so the three ways run interleaved, round after
# round, in a rotating order, and the summary gives medians and per-round
# ratios against the backing file.
#
#   tests/bench/loop-io.sh      results: build/bench/loop-io.txt, .png
#
# Environment: LOOPIO_MB (file size, default 1024), LOOPIO_ROUNDS (5),
# LOOPIO_DIR (work directory on the host file system, default
# build/bench/loop-io.work), LOOPATTACH (binary; default build/bin, else
# the installed one), B (build directory, default build).
set -u
B=${B:-build}
MB=${LOOPIO_MB:-1024}
ROUNDS=${LOOPIO_ROUNDS:-5}
OUT=$B/bench
WORK=${LOOPIO_DIR:-$OUT/loop-io.work}
LOOPATTACH=${LOOPATTACH:-$B/bin/loopattach}
[ -x "$LOOPATTACH" ] || LOOPATTACH=$(command -v loopattach)

die() { echo "loop-io: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (loop devices)"
[ -e /dev/loop-control ] || die "no /dev/loop-control: no loop devices here"
[ -x "$LOOPATTACH" ] || die "no loopattach: run make first"
for t in dd blockdev losetup awk; do
	command -v $t >/dev/null || die "$t is missing"
done

mkdir -p "$OUT" "$WORK"
img=$WORK/backing.img
raw=$OUT/loop-io.raw
txt=$OUT/loop-io.txt
mine=" "
# loopattach raises a device's read-ahead and the setting outlives the
# attach: put back what every device had before.
declare -A ra_before
for q in /sys/block/loop*/queue/read_ahead_kb; do
	[ -r "$q" ] && ra_before[$q]=$(cat "$q")
done
cleanup() {
	local d q
	exec 7<&- 8<&- 9<&-
	for d in $mine; do losetup -d "$d" 2>/dev/null; done
	for q in "${!ra_before[@]}"; do
		[ "$(cat "$q" 2>/dev/null)" = "${ra_before[$q]}" ] ||
			echo "${ra_before[$q]}" >"$q" 2>/dev/null
	done
	rm -f "$img"
	rmdir "$WORK" 2>/dev/null
}
trap cleanup EXIT

fstype=$(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null || stat -f -c %T "$WORK")
echo "# loop-io: ${MB} MiB on $fstype ($WORK), $ROUNDS rounds" >&2
# Written once with data, fully allocated: no holes for anyone to skip.
dd if=/dev/urandom of="$img" bs=1M count="$MB" conv=fsync status=none ||
	die "cannot write $img"

la=$("$LOOPATTACH" "$img") || die "loopattach failed"
mine="$mine$la "
lo=$(losetup -f --show "$img") || die "losetup failed"
mine="$mine$lo "
ld=$(losetup -f --show --direct-io=on "$img") || die "losetup --direct-io=on failed"
mine="$mine$ld "
# Hold both devices open for the whole run, as a mounted root does: the
# kernel drops a block device's page cache when its last user closes it, so
# without this each dd would leave no trace of the device's own cache.
exec 7<"$la" 8<"$lo" 9<"$ld"
# dio flag and read-ahead of a device, for the report
devinfo() {
	echo "$1 dio=$(cat "/sys/block/${1#/dev/}/loop/dio") read_ahead_kb=$(cat "/sys/block/${1#/dev/}/queue/read_ahead_kb")"
}

target() {
	case $1 in
	file) echo "$img" ;;
	loopattach) echo "$la" ;;
	losetup) echo "$lo" ;;
	losetup-dio) echo "$ld" ;;
	esac
}

# Drop what the page cache holds of the backing file and of both devices,
# without dropping everyone else's cache (no drop_caches).
evict() {
	sync
	dd if="$img" iflag=nocache count=0 status=none
	blockdev --flushbufs "$la" "$lo" "$ld"
}
cached_kb() { awk '/^(Buffers|Cached):/ { s += $2 } END { print s }' /proc/meminfo; }
now_ns() { date +%s%N; }

# run MODE OP -> "MB/s cache-growth-bytes"
run() {
	local t c0 c1 t0 t1
	t=$(target "$1")
	evict
	c0=$(cached_kb)
	t0=$(now_ns)
	if [ "$2" = read ]; then
		dd if="$t" of=/dev/null bs=1M count="$MB" status=none || return 1
	else
		dd if=/dev/zero of="$t" bs=1M count="$MB" conv=notrunc,fsync \
			status=none || return 1
	fi
	t1=$(now_ns)
	c1=$(cached_kb)
	awk -v mb="$MB" -v ns=$((t1 - t0)) -v dc=$((c1 - c0)) \
		'BEGIN { printf "%.1f %.0f\n", mb / (ns / 1e9), dc * 1024 }'
}

modes=(file loopattach losetup losetup-dio)
: >"$raw"
for ((r = 1; r <= ROUNDS; r++)); do
	for op in read write; do
		for ((i = 0; i < ${#modes[@]}; i++)); do
			m=${modes[$(((i + r) % ${#modes[@]}))]}	# rotate who goes first
			res=$(run "$m" "$op") || die "$op on $m failed"
			echo "$r $op $m $res" >>"$raw"
			echo "# round $r $op $m: $res" >&2
		done
	done
done
evict

# Summary: medians, min/max, per-round ratios against the file.
summary=$(awk -v mb="$MB" '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ v[$1, $2, $3] = $4; c[$1, $2, $3] = $5; if ($1 > R) R = $1 }
END {
	nm = split("file loopattach losetup losetup-dio", M, " ")
	split("read write", O, " ")
	for (oi = 1; oi <= 2; oi++) for (mi = 1; mi <= nm; mi++) {
		o = O[oi]; m = M[mi]; n = 0; lo = 1e18; hi = 0; qlo = 1e18; qhi = 0
		for (r = 1; r <= R; r++) {
			x = v[r, o, m]; a[++n] = x
			if (x < lo) lo = x; if (x > hi) hi = x
			q[n] = x / v[r, o, "file"]
			if (q[n] < qlo) qlo = q[n]; if (q[n] > qhi) qhi = q[n]
			k[n] = c[r, o, m] / (mb * 1048576)
		}
		med = median(a, n); rq = median(q, n); rk = median(k, n)
		printf "%s %s %.1f %.1f %.1f %.3f %.2f %.2f-%.2f\n", o, m, med, lo, hi, rq, rk, qlo, qhi
	}
}' "$raw")

{
	echo "loop-io benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel $(uname -r), $(nproc) CPUs, host file system $fstype"
	echo "file ${MB} MiB, $ROUNDS rounds interleaved (order rotated each round)"
	echo "host disk read_ahead_kb: $(hd=$(findmnt -n -o SOURCE -T "$WORK"); hd=$(lsblk -n -d -o PKNAME "$hd" 2>/dev/null | grep . || basename "$hd"); cat "/sys/block/$hd/queue/read_ahead_kb" 2>/dev/null)"
	echo "loopattach:           $(devinfo "$la")"
	echo "losetup defaults:     $(devinfo "$lo")"
	echo "losetup --direct-io:  $(devinfo "$ld")"
	echo "read: dd bs=1M from cold cache; write: dd bs=1M conv=fsync"
	echo "page cache: growth of Buffers+Cached during the run / bytes moved"
	echo
	echo "ratio/file: median over rounds of (this way / the file, same round);"
	echo "range: its lowest and highest round"
	printf "%-6s %-11s %9s %9s %9s %11s %11s %11s\n" op way "MB/s med" min max \
		"ratio/file" range "cache/byte"
	while read -r o m med lo hi rq rk qr; do
		printf "%-6s %-11s %9s %9s %9s %11s %11s %11s\n" "$o" "$m" "$med" "$lo" \
			"$hi" "$rq" "$qr" "$rk"
	done <<<"$summary"
	echo
	awk '
	$1 == "read" && $2 == "loopattach" {
		printf "target: loopattach read >= 95%% of the file: median ratio %.3f -> %s\n",
			$6, ($6 >= 0.95 ? "met" : "NOT met")
		printf "target: page cache <= 1.1 x bytes read: %.2f -> %s\n",
			$7, ($7 <= 1.1 ? "met" : "NOT met")
	}
	$1 == "write" && $2 == "loopattach" {
		printf "target: loopattach write >= 95%% of the file: median ratio %.3f -> %s\n",
			$6, ($6 >= 0.95 ? "met" : "NOT met")
	}' <<<"$summary"
	echo
	echo "every run (round op way MB/s cache-growth-bytes):"
	cat "$raw"
} >"$txt"
cat "$txt"

if command -v gnuplot >/dev/null; then
	dat=$OUT/loop-io.dat
	# way read-med min max write-med min max read-cache/byte
	awk '{ k = $2; if ($1 == "read") { r[k] = $3 " " $4 " " $5; c[k] = $7 }
	       else w[k] = $3 " " $4 " " $5 }
	     END { n = split("file loopattach losetup losetup-dio", M, " ")
		   for (i = 1; i <= n; i++) print M[i], r[M[i]], w[M[i]], c[M[i]] }' \
		<<<"$summary" >"$dat"
	gnuplot <<EOF || echo "loop-io: gnuplot failed; no chart" >&2
set terminal pngcairo size 1100,440 font "sans,10"
set output "$OUT/loop-io.png"
set multiplot layout 1,2 title "Loop I/O on an ext4 host file, ${MB} MiB, ${ROUNDS} interleaved rounds (kernel $(uname -r))"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.7 border -1
set yrange [0:*]
set grid ytics
set key top right
set ylabel "MB/s (median, bars: min-max)"
set title "Sequential throughput"
plot "$dat" using 2:3:4:xtic(1) title "read" lc rgb "#3070b0", \
     "" using 5:6:7 title "write" lc rgb "#d08030"
set style histogram clustered gap 1
set ylabel "page-cache growth / bytes read"
set title "Page cache per byte read (target <= 1.1)"
set yrange [0:2.5]
set arrow from graph 0, first 1.1 to graph 1, first 1.1 nohead dt 2 lc rgb "red"
unset key
plot "$dat" using 8:xtic(1) title "read" lc rgb "#3070b0"
unset multiplot
EOF
	# The README shows the chart from doc/.
	doc=$(dirname "$0")/../../doc
	if [ -s "$OUT/loop-io.png" ] && mkdir -p "$doc"; then
		cp "$OUT/loop-io.png" "$doc/loop-io.png"
	fi
else
	echo "loop-io: gnuplot missing (apt-get install gnuplot-nox); no chart" >&2
fi
