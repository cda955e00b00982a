#!/bin/bash
# make bench's reading of a boot's serial log (tests/bench/run --figures):
# each figure the table shows comes from the right lines, in the right
# unit, and a figure whose lines are missing or cut short is left out
# rather than read as zero.
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
figures() { LB_WORK=$t/work "$LB_TOP/tests/bench/run" --figures "$@"; }
# figure NAME: its value in $t/out
figure() { awk -v n="$1" '$1 == n { print $2 }' "$t/out"; }

# A boot as the guest and the host write it: host timestamps on console
# lines, the guest's 64 MiB files, 1 GiB written in 2 s would be 512 MB/s.
cat >"$t/boot.log" <<'EOF'
100.000 [    8.000000] lbbench: premount start
101.000 LBBENCH boot-us 23070000
HOST-JIT invalidated 283456 code-mb 500
101.100 LBBENCH mb 64
101.200 LBBENCH write-direct-ms 250
101.300 LBBENCH read-direct-ms 128
101.400 LBBENCH disk-io before vda writes 100 flushes 10 sectors 1000
101.400 LBBENCH disk-io before loop0 writes 50 flushes 10 sectors 500
101.500 LBBENCH randfsync-iops 300
101.500 LBBENCH randfsync-kib 4000
101.600 LBBENCH disk-io after vda writes 4100 flushes 2010 sectors 13000
101.600 LBBENCH disk-io after loop0 writes 3050 flushes 2010 sectors 8500
101.700 LBBENCH apt-ms 24640
101.800 LBBENCH kmsg [    8.000000] lbbench: premount start pid=200
101.800 LBBENCH kmsg [    8.050000] loopboot: trace options pid=200
101.800 LBBENCH kmsg [    8.100000] loopboot: trace host-device pid=201
101.800 LBBENCH kmsg [    8.400000] loopboot: trace fsck /dev/loop0 pid=205
101.800 LBBENCH kmsg [    8.700000] loopboot: trace ready pid=209
101.800 LBBENCH kmsg [    8.750000] lbbench: premount end pid=209
102.000 LBBENCH poweroff
104.500 LBBENCH poweroff
HOST-EXIT 105.250
EOF
figures "$t/boot.log" >"$t/out"
tap $? "--figures reads a boot's log"
[ "$(figure boot)" = 23.07 ] && [ "$(figure tcg-invalidated)" = 283.5 ] && [ "$(figure apt)" = 24.64 ]
tap $? "boot in s, QEMU's invalidated translations in thousands, apt in s (got $(figure boot), $(figure tcg-invalidated), $(figure apt))"
[ "$(figure write-direct)" = 256.0 ] && [ "$(figure read-direct)" = 500.0 ]
tap $? "MB/s from the size the guest says (64 MiB), not the default 1 GiB (got $(figure write-direct), $(figure read-direct))"
[ "$(figure randfsync)" = 300 ] && [ "$(figure fsync-kib)" = 6.0 ] && [ "$(figure fsync-flushes)" = 2.0 ]
tap $? "per fsynced write (1000 of 4 KiB): the disk's 12000 sectors are 6.0 KiB, its 2000 flushes 2.0; the loop device's are not the disk's (got $(figure fsync-kib), $(figure fsync-flushes))"
[ "$(figure poweroff)" = 3.25 ]
tap $? "power-off from the first poweroff line to QEMU's exit (got $(figure poweroff))"
[ "$(figure step-host-device)" = 300 ] && [ "$(figure step-fsck)" = 300 ] && [ "$(figure step-exit)" = 50 ] &&
	[ "$(figure loopboot-own)" = 450 ]
tap $? "loopboot's steps from mark to mark, and its own time without the wait for the host device (got $(figure loopboot-own))"
[ "$(figure progs-options)" = 1 ] && [ "$(figure progs-host-device)" = 4 ] && [ "$(figure progs-fsck)" = 4 ] &&
	[ "$(figure progs-script)" = 0 ] && [ "$(figure loopboot-programs)" = 5 ]
tap $? "the programs each step started, from the process IDs in its marks, and loopboot's own without the wait (got $(figure loopboot-programs))"
sed 's/ pid=[0-9]*$//' "$t/boot.log" >"$t/nopid.log"
figures "$t/nopid.log" >"$t/out"
[ "$(figure loopboot-own)" = 450 ] && ! grep -q -e '^progs-' -e '^loopboot-programs' "$t/out"
tap $? "marks without process IDs (an older loopboot): the times, and no program counts (got: $(grep prog "$t/out" | tr '\n' ' '))"

# Cut short: fio failed (no IOPS, no KiB), the guest never said its boot
# time or powered off, an older guest without the sector counts.
grep -v -e randfsync -e boot-us -e poweroff -e HOST- "$t/boot.log" >"$t/short.log"
sed -i 's/ sectors [0-9]*$//' "$t/short.log"
figures "$t/short.log" >"$t/out"
[ -z "$(figure randfsync)$(figure fsync-kib)$(figure fsync-flushes)$(figure boot)$(figure poweroff)$(figure tcg-invalidated)" ]
tap $? "a figure whose lines are missing is left out, not zero (got: $(tr '\n' ' ' <"$t/out"))"
{ cat "$t/short.log"; echo '101.500 LBBENCH randfsync-kib 4000'; } >"$t/old.log"
figures "$t/old.log" >"$t/out"
[ -z "$(figure fsync-kib)" ] && [ "$(figure fsync-flushes)" = 2.0 ]
tap $? "a guest without the sector counts: no fsync-kib, the flushes still counted (got '$(figure fsync-kib)', $(figure fsync-flushes))"
echo "1..$n"
[ "$failed" = 0 ]
