#!/bin/sh
# make bench's program inside the booted Debian (tests/bench/run installs
# it as /usr/local/sbin/lbbench, run by lbbench.service once
# multi-user.target is reached).  It measures what a user of the running
# system feels and prints "LBBENCH NAME VALUE" lines on the console, then
# powers off.  The same program runs on every root: a plain partition, a
# file on NTFS through each driver.
#
# lbbench.mb= on the kernel line: the sequential files' size in MiB;
# lbbench.fio= the random-write run's seconds.
mb=$(sed -n 's/.*lbbench\.mb=\([0-9]*\).*/\1/p' /proc/cmdline)
fios=$(sed -n 's/.*lbbench\.fio=\([0-9]*\).*/\1/p' /proc/cmdline)
mb=${mb:-1024}
fios=${fios:-10}
dir=/var/tmp/lbbench
say() { echo "LBBENCH $*" >/dev/console; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# drop the guest's page cache (the image's and, on an in-kernel NTFS
# driver, the host file's: the same kernel holds both)
cold() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
# run NAME COMMAND...: its wall time in ms, "LBBENCH NAME-ms N" (or error)
run() {
	name=$1
	shift
	t0=$(now_ms)
	if "$@" >"/run/lbbench-$name.log" 2>&1; then
		t1=$(now_ms)
		say "$name-ms $((t1 - t0))"
	else
		say "error $name: $(tail -n 3 "/run/lbbench-$name.log" | tr '\n' ' ')"
	fi
}

# Kernel start to multi-user.target reached (systemd's monotonic clock).
say "boot-us $(systemctl show -P ActiveEnterTimestampMonotonic multi-user.target)"
# loopboot's trace marks, its init-top preload's two, and the benchmark's
# two around its local-premount script (debug level: in the kernel log, not on the console).
dmesg | grep -E 'loopboot: (trace |preload)|lbbench: premount ' | sed 's/^/LBBENCH kmsg /' >/dev/console
# the loop device's direct I/O (loopboot.dio; 1 on, 0 off)
for d in /sys/block/loop*/loop/dio; do
	[ -e "$d" ] && say "loop-dio ${d#/sys/block/} $(cat "$d")"
done
# its logical block size and read-ahead (loopboot.blocksize, .readahead)
for q in /sys/block/loop*/queue; do
	[ -e "$q/read_ahead_kb" ] && [ "$(cat "${q%/queue}/size")" != 0 ] &&
		say "loop-queue ${q#/sys/block/} block $(cat "$q/logical_block_size") read-ahead $(cat "$q/read_ahead_kb")"
done
grep -E ' / | /run/loopboot/host ' /proc/mounts | sed 's/^/LBBENCH mount /' >/dev/console
say "mb $mb"
rm -rf "$dir"
mkdir -p "$dir"
f=$dir/seq

# Sequential, O_DIRECT: a new file (its blocks allocated in the image), then
# read back.
cold
run write-direct dd if=/dev/zero of="$f" bs=1M count="$mb" oflag=direct conv=fsync
cold
run read-direct dd if="$f" of=/dev/null bs=1M iflag=direct
rm -f "$f"
# Buffered: a new file, written back (fsync) before the clock stops; read
# from a cold cache.
cold
run write-buffered dd if=/dev/zero of="$f" bs=1M count="$mb" conv=fsync
cold
run read-buffered dd if="$f" of=/dev/null bs=1M
rm -f "$f"
cold

# 4 KiB random writes, each followed by fsync (what a database or dpkg
# does): write IOPS (terse v3 field 49).
if fio --name=randfsync --filename="$dir/rand" --size=32M --bs=4k --rw=randwrite \
	--ioengine=psync --fsync=1 --runtime="$fios" --time_based \
	--output-format=terse --terse-version=3 >/run/lbbench-fio.log 2>&1; then
	say "randfsync-iops $(awk -F';' '$1 == 3 { print $49 }' /run/lbbench-fio.log)"
else
	say "error fio: $(tail -n 3 /run/lbbench-fio.log | tr '\n' ' ')"
fi
rm -f "$dir/rand"
cold

# apt-get install of a fixed set of local packages (dpkg: unpack, fsync of
# every file, triggers).
cd /var/local/lbbench-debs || say "error no /var/local/lbbench-debs"
run apt env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ./*.deb
cd /

say "done"
say "poweroff"
systemctl poweroff
