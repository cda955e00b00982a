#!/bin/bash
# make bench's table (tests/bench/run --report) from a run's figures: each
# cell is the median over the rounds as a ratio to the right baseline, with
# the spread; the targets' verdicts come only from figures (no ratio, no
# verdict); the header says what the run measured (bench.run), not this
# shell's settings; and a report never replaces the README's chart.
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
# report DIR: the table of the run in DIR, into DIR/out
report() {
	LB_BENCH_OUT=$1 LB_WORK=$1/work "$LB_TOP/tests/bench/run" --report >"$1/out" 2>"$1/err"
}
# row DIR FIGURE: the table's line of FIGURE (the first table's)
row() { awk -v f="$2" '$1 == f { print; exit }' "$1/out"; }
# cell DIR FIGURE COLUMN: one cell of that line, spaces squeezed
cell() {
	awk -v f="$2" -v c="$3" '
	/^figure / { n = split($0, h, "|"); for (i = 2; i <= n; i++) { x = h[i]; gsub(/ /, "", x); col[x] = i } }
	$1 == f && !done { split($0, v, "|"); x = v[col[c]]; gsub(/^ +| +$/, "", x); gsub(/  +/, " ", x); print x; done = 1 }' "$1/out"
}
# the README's chart, to see that a report leaves it alone
sums() { md5sum "$LB_TOP/doc/bench.png" 2>/dev/null; }

# --- a run of the four default columns, three rounds ------------------------
d=$t/full
mkdir -p "$d"
# write-direct: plain 300/310/320 (median 310), ntfs3 279/300/310 (279 over
# 310 is 0.90, met), ntfs 250/260/400 (260: 0.84, NOT met); boot: plain
# 20/21/22, ntfs3 22.05/22 /30 (22.05: 1.05, met); loopboot-own 250 and 900.
for r in 1 2 3; do
	case $r in
	1) pw=300 nw=279 fw=250 pb=20 nb=22.05 own3=250 ownf=900 ;;
	2) pw=310 nw=300 fw=260 pb=21 nb=22 own3=240 ownf=910 ;;
	3) pw=320 nw=310 fw=400 pb=22 nb=30 own3=800 ownf=920 ;;
	esac
	printf '%s plain write-direct %s\n%s plain boot %s\n%s plain loopboot 70\n%s plain loopboot-own 70\n' \
		$r "$pw" $r "$pb" $r $r
	printf '%s ntfs3 write-direct %s\n%s ntfs3 boot %s\n%s ntfs3 loopboot-own %s\n' $r "$nw" $r "$nb" $r "$own3"
	printf '%s ntfs3 randfsync NA\n' $r
	printf '%s ntfs3 step-fsck 240\n%s ntfs3 progs-fsck 4\n%s ntfs3 loopboot-programs 19\n' $r $r $r
	printf '%s ntfs-3g write-direct 85\n%s ntfs-3g boot 25\n' $r $r
	printf '%s ntfs write-direct %s\n%s ntfs loopboot-own %s\n' $r "$fw" $r "$ownf"
done >"$d/bench.raw"
printf 'mb 256\nfio 5\ntook 1184\ndiagnostic 1\nkernel-t612 6.12.99-test\nkernel-t7 7.3.99-test\n' >"$d/bench.run"
before=$(sums)
report "$d"
tap $? "--report reads a run's figures without its kernels or images (err: $(head -c 300 "$d/err"))"
[ "$(cell "$d" write-direct ntfs3)" = "0.97 300 [279-310]" ] &&
	[ "$(cell "$d" write-direct plain)" = "1.00 310 [300-320]" ] &&
	[ "$(cell "$d" write-direct ntfs)" = "0.84 260 [250-400]" ]
tap $? "a cell: the median's ratio to plain's median, the median, the lowest and highest round (got: $(row "$d" write-direct))"
row "$d" write-direct | grep -q '>=0.90 ntfs3 met ntfs NOT met'
tap $? "the ratio targets: 0.97 met, 0.84 not (got: $(row "$d" write-direct))"
[ "$(cell "$d" boot ntfs3)" = "1.05 22.05 [22-30]" ] && row "$d" boot | grep -q '<=1.05 ntfs3 met *$'
tap $? "boot: 1.05 meets <= 1.05; a column without the figure gets no verdict (got: $(row "$d" boot))"
[ "$(cell "$d" loopboot-own ntfs3)" = "250 [240-800]" ] &&
	row "$d" loopboot-own | grep -q '<=300ms ntfs3 met ntfs NOT met'
tap $? "loopboot-own: the median in ms against 300, no ratio (got: $(row "$d" loopboot-own))"
[ "$(cell "$d" randfsync ntfs3)" = "-" ] && ! row "$d" randfsync | grep -q met
tap $? "a figure every round missed (NA) is '-', not 0, and has no verdict (got: $(row "$d" randfsync))"
grep -q '^Debian 13 system (ext4 image, 256 MiB files, fio 5 s), 3 interleaved rounds, 19 min (1184 s)$' "$d/out" &&
	grep -q '^kernel t612: 6.12.99-test$' "$d/out" && grep -q '^kernel t7: 7.3.99-test$' "$d/out" &&
	grep -q '^rounds per column: plain 3, ntfs3 3, ntfs-3g 3, ntfs 3$' "$d/out"
tap $? "the header: the run's file size, fio time, duration, kernels and rounds (bench.run), not this shell's"
awk '$1 == "fsck" && /240 \[240-240\] 4p/ { f = 1 } $1 == "own" && /250 \[240-800\] 19p/ { o = 1 } END { exit !(f && o) }' "$d/out"
tap $? "the steps' table: a step's time and processes, loopboot's own total (got: $(grep -E '^(fsck|own) ' "$d/out" | tr -s ' '))"
if command -v gnuplot >/dev/null; then
	[ -s "$d/bench.png" ] && [ "$(sums)" = "$before" ]
	tap $? "the chart made in the run's directory; the README's (doc/bench.png) left as it is"
else
	skip "the chart and the README's" "no gnuplot"
fi

# --- kernel 7's baseline: plain-t7 when the run has it ------------------------
d=$t/t7
mkdir -p "$d"
for r in 1 2 3; do
	printf '%s plain write-direct 400\n%s plain-t7 write-direct 200\n%s ntfs write-direct 190\n' $r $r $r
	printf '%s ntfs3 write-direct 380\n' $r
done >"$d/bench.raw"
printf 'kernel-t612 6.12.99-test\nkernel-t7 7.3.99-test\n' >"$d/bench.run"
report "$d"
[ "$(cell "$d" write-direct ntfs)" = "0.95 190 [190-190]" ] &&
	[ "$(cell "$d" write-direct ntfs3)" = "0.95 380 [380-380]" ] &&
	[ "$(cell "$d" write-direct plain-t7)" = "0.50 200 [200-200]" ]
tap $? "ntfs against plain-t7 (its own kernel), ntfs3 and plain-t7 against plain (got: $(row "$d" write-direct))"

# --- a run without plain: no ratios, so no ratio verdicts ---------------------
d=$t/noplain
mkdir -p "$d"
for r in 1 2; do
	printf '%s ntfs3 write-direct 300\n%s ntfs3 loopboot-own 800\n%s ntfs write-direct 5\n' $r $r $r
done >"$d/bench.raw"
printf 'kernel-t612 6.12.99-test\nkernel-t7 7.3.99-test\n' >"$d/bench.run"
report "$d"
[ "$(cell "$d" write-direct ntfs3)" = "300 [300-300]" ] && ! row "$d" write-direct | grep -q met &&
	row "$d" loopboot-own | grep -q '<=300ms ntfs3 NOT met *$' &&
	grep -q 'no plain column, so no ratios and no chart' "$d/err"
tap $? "without plain: no ratio, no 'met' from an empty ratio, loopboot-own judged (got: $(row "$d" write-direct); $(row "$d" loopboot-own))"

# --- nothing to report -------------------------------------------------------
d=$t/none
mkdir -p "$d"
! report "$d" && grep -q "^tests/bench/run: no $d/bench.raw: run tests/bench/run first" "$d/err"
tap $? "--report without a run: fails, naming the missing file (got: $(cat "$d/err"))"
echo "1..$n"
[ "$failed" = 0 ]
