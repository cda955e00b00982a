#!/bin/bash
# loopboot-create stopped at several stages, no QEMU: Ctrl-C (SIGINT) while
# the file is allocated, SIGKILL during debootstrap (the guardian process
# cleans up), SIGTERM while apt installs.  Each time: the NTFS volume is
# unmounted and clean (ntfsprobe, ntfs-3g.probe --readwrite), holds what it
# held before (no half file, no directory left), no loop device, no process
# left in the new system, no state in /run; and the message says which
# step was stopped.  Packages come from $LB_SYSTEM_CACHE/create-cache
# (downloaded on the first run).
#
#   tests/create/interrupt.sh     (tools from build/: make all unit-tests)
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
B=${B:-build}
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
WORK=$LB_TOP/build/create-interrupt
CACHE=${LB_SYSTEM_CACHE:-/var/cache/loopboot-tests}/create-cache
MIRROR=${LB_MIRROR:-http://deb.debian.org/debian}
DEB=${LB_CREATE_DEB:-}
export PATH=$LB_TOP/$B/bin:$PATH
export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
export LOOPBOOT_CREATE_RUN=$WORK/run LOOPBOOT_CREATE_LOG=$WORK/log

if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/loop-control ] || ! command -v debootstrap >/dev/null; then
	echo "ok 1 - loopboot-create interrupted # SKIP not root, no loop devices or no debootstrap"
	echo "1..1"
	exit 0
fi
if [ -z "$DEB" ]; then
	for d in "$LB_TOP"/../loopboot_*_"$(dpkg --print-architecture)".deb; do
		[ -f "$d" ] && DEB=$d
	done
fi
rm -rf "$WORK"
mkdir -p "$WORK/run" "$CACHE"
dev=''
cleanup() {
	[ -n "$dev" ] && losetup -d "$dev"
	rm -rf "$WORK"
}
trap cleanup EXIT
truncate -s 8G "$WORK/ntfs.img"
mkntfs -Q -F -L WIN "$WORK/ntfs.img" >/dev/null 2>&1
dev=$(losetup -f --show "$WORK/ntfs.img")
printf 'pw\n' >"$WORK/pw"
listing() { ntfsls -a "$dev" 2>/dev/null | sort; }
before=$(listing)

# stop_at STAGE_REGEX DELAY SIGNAL DESCRIPTION: run loopboot-create, send
# SIGNAL DELAY seconds after a line matching STAGE_REGEX, then check.
stop_at() {
	local re=$1 delay=$2 sig=$3 what=$4 pid rc out=$WORK/out
	: >"$out"
	# A copy: the test may run while the source is edited.
	cp "$LB_TOP/helpers/loopboot-create" "$WORK/loopboot-create"
	# A background job of a script starts with SIGINT ignored, which
	# bash cannot trap: put it back to the default, as in a terminal.
	env --default-signal=INT "$WORK/loopboot-create" --host "$dev" --file /Linux/debian.img --size 3G --user alice \
		--password-file "$WORK/pw" --yes --mirror "$MIRROR" --cache "$CACHE" \
		${DEB:+--deb "$DEB"} </dev/null >"$out" 2>&1 &
	pid=$!
	for _ in $(seq 3000); do
		grep -Eq -- "$re" "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	sleep "$delay"
	kill -0 $pid 2>/dev/null
	tap $? "$what: still running at the moment wanted ($re, +${delay}s)" ||
		sed 's/^/#   /' "$out"
	kill "-$sig" $pid
	wait $pid
	rc=$?
	# After SIGKILL the guardian cleans up: wait for it (its message).
	for _ in $(seq 600); do
		[ -z "$(ls -A "$WORK/run")" ] && break
		sleep 0.1
	done
	case $sig in
	KILL) [ $rc = 137 ] && grep -q 'was killed; cleaning up' "$out" ;;
	*) [ $rc = 130 ] && grep -q "interrupted" "$out" ;;
	esac
	tap $? "$what: it stopped, and says so (exit $rc)" || sed 's/^/#   /' "$out"
	grep -q "stopped during: .*cleaned up: .*removed /Linux/debian.img, removed the directory /Linux, unmounted $dev" "$out"
	tap $? "$what: the message names the step and what was cleaned up" || sed 's/^/#   /' "$out"
	[ -z "$(findmnt -rn -S "$dev")" ]
	tap $? "$what: the volume is unmounted"
	! losetup -a | grep -qF "$WORK/run"
	tap $? "$what: no loop device left"
	[ -z "$(pgrep -f -- "$WORK/run")" ] && ! find /proc/[0-9]*/root -maxdepth 0 -printf '%l\n' 2>/dev/null | grep -qF "$WORK/run"
	tap $? "$what: no process left (debootstrap, apt, dpkg, ntfs-3g)"
	[ -z "$(ls -A "$WORK/run")" ]
	tap $? "$what: no state left in the run directory"
	ntfsprobe "$dev" >"$WORK/probe" 2>&1
	tap $? "$what: ntfsprobe: the volume is clean ($(head -c 120 "$WORK/probe"))"
	ntfs-3g.probe --readwrite "$dev" >/dev/null 2>&1
	tap $? "$what: ntfs-3g.probe --readwrite returns 0"
	[ "$(listing)" = "$before" ]
	tap $? "$what: the volume holds what it held before (no half file, no directory)"
}

start=$(date +%s)
stop_at '\[1/8\] allocating' 4 INT "Ctrl-C while allocating"
stop_at '\[3/8\] debootstrap' 8 KILL "SIGKILL during debootstrap"
stop_at '\[5/8\] installing' 15 TERM "SIGTERM while apt installs"

echo "# loopboot-create interrupted three times in $(($(date +%s) - start)) s"
echo "1..$n"
[ "$failed" = 0 ]
