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
# lbbench.trace=FROM-TO (seconds since the kernel started), with
# trace_event=sched:sched_switch on the kernel line (tests/bench/run's
# LB_BENCH_APPEND): which tasks had the CPU in that part of the boot, and
# how often each went to sleep in which state, to look into a slow boot.
win=$(sed -n 's/.*lbbench\.trace=\([0-9]*-[0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$win" ] && [ -r /sys/kernel/tracing/trace ]; then
	echo 0 >/sys/kernel/tracing/tracing_on
	awk -v from="${win%-*}" -v to="${win#*-}" '
	/ sched_switch: / {
		for (i = 1; i <= NF; i++) if ($(i + 1) == "sched_switch:") ts = $i + 0
		if (ts < from || ts > to) next
		p = $0; sub(/.*prev_comm=/, "", p); sub(/ prev_prio=.*/, "", p)
		st = $0; sub(/.*prev_state=/, "", st); sub(/ .*/, "", st)
		if (last) run[p] += ts - last
		sleeps[p " " st]++
		last = ts
	}
	END {
		for (t in run) printf "LBBENCH trace cpu %.3f %s\n", run[t], t
		for (t in sleeps) printf "LBBENCH trace sleeps %d %s\n", sleeps[t], t
	}' /sys/kernel/tracing/trace | sort -k3,3 -k4,4nr >/dev/console
fi
# lbbench.profile=1, with profile=2 on the kernel line: where the kernel
# spent its clock ticks up to now (the boot), by function, the top 40.
# (Addresses by their low 32 bits, awk's numbers being doubles: the
# kernel's text lies at 0xffffffff80000000 to 0xffffffffbfffffff, wherever
# KASLR puts it.)
if grep -q 'lbbench\.profile=1' /proc/cmdline && [ -r /proc/profile ]; then
	echo 0 >/proc/sys/kernel/kptr_restrict
	sort /proc/kallsyms | awk '$1 ~ /^ffffffff[89ab]/' >/run/lbbench-kallsyms
	stext=$(awk '$3 == "_stext" { print $1 }' /run/lbbench-kallsyms)
	od -An -v -tu4 -w4 /proc/profile | awk -v stext="$stext" '
	function hex(s,   i, n) {
		s = substr(s, length(s) - 7)
		n = 0
		for (i = 1; i <= 8; i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n
	}
	FILENAME != "-" { a[FNR] = hex($1); f[FNR] = $3; n = FNR; next }
	FNR == 1 { shift = log($1) / log(2); i = 1; base = hex(stext); next }
	$1 > 0 {
		addr = base + (FNR - 2) * 2 ^ shift
		while (i < n && a[i + 1] <= addr) i++
		t[f[i]] += $1
	}
	END { for (s in t) printf "LBBENCH profile %d %s\n", t[s], s }
	' /run/lbbench-kallsyms - | sort -k3,3nr | head -n 40 >/dev/console
fi
# the kernel's memory counters after the boot (page allocations, faults,
# reclaim), to compare the boots of two columns
say "vmstat $(grep -E '^(pgalloc_|pgfree |pgfault |pgmajfault |pgpgin |pgpgout |pgsteal_|pgscan_|allocstall|nr_free_pages |nr_file_pages |nr_anon_pages |workingset_refault_file |thp_fault_alloc )' /proc/vmstat | tr ' \n' '= ')"
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
# the largest request each disk takes (KiB, and the most its driver allows)
# and the most segments: the loop device's against the disk's beneath
for q in /sys/block/loop*/queue /sys/block/vd*/queue; do
	[ -e "$q/max_sectors_kb" ] && [ "$(cat "${q%/queue}/size")" != 0 ] &&
		say "queue-limits ${q#/sys/block/} max-kb $(cat "$q/max_sectors_kb") hw-max-kb $(cat "$q/max_hw_sectors_kb") segments $(cat "$q/max_segments")"
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
# does): write IOPS (terse v3 field 49).  Around it, each disk's write
# requests, sectors written and flush requests (/sys/block/DEV/stat fields
# 5, 7 and 16), so that the host can count what one fsync in the image
# costs the disks beneath it.  (An empty flush from a file system, as a
# host driver's fsync sends, counts as a write request of no sectors as
# well as a flush: the sectors are the measure of what was written.)
disk_io() { # WHEN
	for s in /sys/block/vd*/stat /sys/block/loop*/stat; do
		[ -e "$s" ] && [ "$(cat "${s%/stat}/size")" != 0 ] &&
			say "disk-io $1 $(echo "${s#/sys/block/}" | cut -d/ -f1) $(awk '{ print "writes", $5, "flushes", $16, "sectors", $7 }' "$s")"
	done
}
disk_io before
if fio --name=randfsync --filename="$dir/rand" --size=32M --bs=4k --rw=randwrite \
	--ioengine=psync --fsync=1 --runtime="$fios" --time_based \
	--output-format=terse --terse-version=3 >/run/lbbench-fio.log 2>&1; then
	say "randfsync-iops $(awk -F';' '$1 == 3 { print $49 }' /run/lbbench-fio.log)"
	say "randfsync-kib $(awk -F';' '$1 == 3 { print $47 }' /run/lbbench-fio.log)"
	disk_io after
else
	say "error fio: $(tail -n 3 /run/lbbench-fio.log | tr '\n' ' ')"
fi
# lbbench.iotrace=1: which sectors of the disk 2 s of the same fsynced
# writes hit, the most often hit first ("LBBENCH iotrace SECTOR+COUNT HITS
# RWBS"), beside the host volume's layout (its start on the disk, where its
# MFT begins, the cluster size, the MFT records of the image file and its
# folder): to tell the host's metadata writes from the file's data.
if grep -q 'lbbench\.iotrace=1' /proc/cmdline && [ -d /sys/kernel/tracing/events/block ]; then
	t=/sys/kernel/tracing
	echo 0 >$t/tracing_on
	: >$t/trace
	echo 1 >$t/events/block/block_rq_issue/enable
	echo 1 >$t/tracing_on
	fio --name=iotrace --filename="$dir/rand" --size=32M --bs=4k --rw=randwrite \
		--ioengine=psync --fsync=1 --runtime=2 --time_based \
		--output-format=terse --terse-version=3 >/run/lbbench-iotrace.log 2>&1
	echo 0 >$t/tracing_on
	say "iotrace fsynced-writes $(awk -F';' '$1 == 3 { print $47 / 4 }' /run/lbbench-iotrace.log)"
	vda=$(tr : , </sys/block/vda/dev)
	# the disk's requests: by kind (rwbs), then the sectors written most
	awk -v dev="$vda" '$0 ~ "block_rq_issue: " dev " " {
		for (i = 1; i <= NF; i++) if ($i == "block_rq_issue:") break
		kind[$(i + 2)]++
	} END { for (k in kind) print "requests", k, kind[k] }' $t/trace |
		while read -r what rwbs hits; do say "iotrace $what $rwbs $hits"; done
	awk -v dev="$vda" '$0 ~ "block_rq_issue: " dev " " {
		for (i = 1; i <= NF; i++) if ($i == "block_rq_issue:") break
		if ($(i + 2) ~ /W/) n[$(i + 5) "+" $(i + 7) " " $(i + 2)]++
	} END { for (k in n) print n[k], k }' $t/trace | sort -k1,1nr | head -n 8 |
		while read -r hits where rwbs; do say "iotrace $where $hits $rwbs"; done
	host=/run/loopboot/host
	say "iotrace layout vda1-start $(cat /sys/block/vda/vda1/start)" \
		"mft-lcn $(od -An -tu8 -j48 -N8 /dev/vda1 | tr -d ' ')" \
		"sectors-per-cluster $(od -An -tu1 -j13 -N1 /dev/vda1 | tr -d ' ')" \
		"file-record $(stat -c %i "$host/linux/root.img")" \
		"dir-record $(stat -c %i "$host/linux")"
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
