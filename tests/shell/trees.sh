#!/bin/bash
# The test trees' cache (tests/lib/trees.sh) and its background run
# (tests/trees), with a stub debootstrap: a tree is made once and then
# reused; two runs at once make it once, the second waiting; a failed
# making leaves nothing a later run would take for a tree and says where
# its log is; what goes into a tree (its builder's code, the mirror) names
# its cache; and "tests/trees start" returns at once, its result read by
# "tests/trees wait", one line per tree in the order the tiers need them.
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
export LB_WORK=$t/work LB_SYSTEM_CACHE=$t/cache STUB_LOG=$t/debootstrap.calls
unset LB_MIRROR
mkdir -p "$t/bin"
# debootstrap [OPTION...] SUITE TARGET MIRROR: a tree with a file naming
# the suite and a .deb in apt's archive; STUB_SLEEP, STUB_FAIL.
cat >"$t/bin/debootstrap" <<'EOF'
#!/bin/bash
echo "$*" >>"$STUB_LOG"
target=${*: -2:1}
[ ! -e "$target/etc/dpkg/dpkg.cfg.d/lb-tree-unsafe-io" ] || echo "$target" >>"$STUB_LOG.unsafe"
grep -qx MODULES=list "$target/etc/initramfs-tools/conf.d/lb-tree-small" && echo "$target" >>"$STUB_LOG.small"
sleep "${STUB_SLEEP:-0}"
[ -z "${STUB_FAIL-}" ] || { echo "E: stub failure"; exit 1; }
mkdir -p "$target/var/cache/apt/archives" "$target/proc"
echo "${*: -3:1}" >"$target/suite"
touch "$target/var/cache/apt/archives/x.deb"
EOF
chmod +x "$t/bin/debootstrap"
export PATH=$t/bin:$PATH
# tree FUNCTION ARG...: the function of tests/lib/trees.sh in a new shell,
# its output in $t/out, its messages in $t/err
tree() {
	bash -c '. "$0/tests/lib/qemu.sh"; . "$0/tests/lib/trees.sh"; "$@"' "$LB_TOP" "$@" >"$t/out" 2>"$t/err"
}
calls() { wc -l <"$STUB_LOG" 2>/dev/null || echo 0; }
# text FILE: its head on one line (a TAP description must not hold a line
# of its own, least of all a "not ok")
text() { head -c 400 "$1" | tr '\n' ' '; }

# --- made once, then reused ------------------------------------------------------
tree lb_tree_system trixie
rc=$? path=$(cat "$t/out")
[ "$rc" = 0 ] && [ -s "$path" ] && case $path in "$LB_SYSTEM_CACHE"/system-trixie-*/tree.tar) ;; *) false ;; esac
tap $? "lb_tree_system trixie makes $LB_SYSTEM_CACHE/system-trixie-KEY/tree.tar (got '$path', rc $rc: $(text "$t/err"))"
grep -qx -- '--variant=minbase --include=systemd-sysv,udev,kmod trixie .*/tree http://deb.debian.org/debian' "$STUB_LOG"
tap $? "debootstrap asked for a minbase trixie with systemd (got: $(text "$STUB_LOG"))"
[ "$(tar -xOf "$path" ./suite 2>/dev/null)" = trixie ] && ! tar -tf "$path" | grep -q 'x\.deb$'
tap $? "the tarball holds the tree, without the .debs apt kept"
[ ! -e "${path%/tree.tar}/tree" ]
tap $? "the unpacked tree is gone once the tarball is made"
[ -s "$STUB_LOG.unsafe" ] && [ -s "$STUB_LOG.small" ] && ! tar -tf "$path" | grep -q 'lb-tree-unsafe-io\|lb-tree-small'
tap $? "dpkg's force-unsafe-io and initramfs-tools' MODULES=list are set while the tree is made, not in the tree kept"
tree lb_tree_system trixie
[ "$(cat "$t/out")" = "$path" ] && [ "$(calls)" = 1 ]
tap $? "a second call reuses the tarball: no debootstrap (calls: $(calls))"

# --- two at once: made once, the second waits -----------------------------------------
: >"$STUB_LOG"
(STUB_SLEEP=2 tree lb_tree_system bookworm; cp "$t/out" "$t/out1"; cp "$t/err" "$t/err1") &
sleep 0.5
bash -c '. "$0/tests/lib/qemu.sh"; . "$0/tests/lib/trees.sh"; lb_tree_system bookworm' "$LB_TOP" \
	>"$t/out2" 2>"$t/err2"
rc=$?
wait
[ "$rc" = 0 ] && [ "$(calls)" = 1 ] && [ -s "$(cat "$t/out2")" ] && [ "$(cat "$t/out1")" = "$(cat "$t/out2")" ]
tap $? "two runs at once: one debootstrap, both get the same tarball (calls: $(calls), rc $rc)"
grep -q 'system-bookworm: being made by another run' "$t/err2"
tap $? "the second says it waits for the first (got: $(text "$t/err2"))"

# --- a failure leaves nothing behind ---------------------------------------------------
: >"$STUB_LOG"
STUB_FAIL=1 tree lb_tree_esp bookworm
rc=$?
dir=$(find "$LB_SYSTEM_CACHE" -maxdepth 1 -type d -name 'esp-bookworm-*')
[ "$rc" != 0 ] && [ ! -s "$t/out" ] && [ -n "$dir" ] && [ ! -e "$dir/tree.tar" ] && [ ! -e "$dir/tree" ]
tap $? "a failed debootstrap: non-zero, no tarball and no tree left (rc $rc, dir '$dir')"
grep -q "debootstrap bookworm failed (see $dir/debootstrap.log)" "$t/err" &&
	grep -q "esp-bookworm: could not be made (logs in $dir)" "$t/err" &&
	grep -q 'E: stub failure' "$dir/debootstrap.log"
tap $? "the messages name the tree and its log, which holds debootstrap's error (got: $(text "$t/err"))"
tree lb_tree_system bookworm
STUB_FAIL=1 tree lb_tree_system bookworm && [ -s "$(cat "$t/out")" ]
tap $? "a failure elsewhere leaves a made tree as it was"

# --- what goes into a tree names its cache ----------------------------------------------
: >"$STUB_LOG"
LB_MIRROR=http://mirror.example/debian tree lb_tree_system trixie
[ "$(cat "$t/out")" != "$path" ] && [ "$(calls)" = 1 ] && grep -q 'http://mirror.example/debian$' "$STUB_LOG"
tap $? "another mirror: another tree (got '$(cat "$t/out")')"
bash -c '. "$0/tests/lib/qemu.sh"; . "$0/tests/lib/trees.sh"
	tree_system_build() { lb_tree_debootstrap "$1" "$2" "$3" --include="$4,vim-tiny"; }
	lb_tree_system trixie' "$LB_TOP" >"$t/out" 2>"$t/err"
[ "$(cat "$t/out")" != "$path" ] && [ "$(calls)" = 2 ] && grep -q 'kmod,vim-tiny trixie' "$STUB_LOG"
tap $? "a builder whose code changed: another tree (got '$(cat "$t/out")')"

# --- tests/trees start and wait ---------------------------------------------------------
export LB_SYSTEM_CACHE=$t/cache2
if [ "$(id -u)" != 0 ]; then
	skip "tests/trees start and wait" "not root (the trees need chroot)"
else
	t0=$SECONDS
	STUB_SLEEP=2 "$LB_TOP/tests/trees" start >"$t/start" 2>&1
	rc=$?
	[ "$rc" = 0 ] && [ $((SECONDS - t0)) -le 1 ] && grep -q 'making the test trees in the background' "$t/start"
	tap $? "start returns at once, the trees being made (rc $rc, $((SECONDS - t0)) s: $(text "$t/start"))"
	"$LB_TOP/tests/trees" wait >"$t/wait" 2>&1
	grep -v '^#' "$t/wait" | sed 's/ tree.*//' >"$t/lines"
	printf '%s\n' "not ok - release bookworm" "not ok - release trixie" "not ok - esp trixie" \
		"not ok - esp bookworm" "ok - system bookworm" "ok - system trixie" | diff - "$t/lines" >"$t/diff"
	tap $? "wait gives one line per tree, in order; the stub trees fail where apt must run in them ($(text "$t/diff"))"
	grep -q "^ok - system trixie tree: $LB_SYSTEM_CACHE/system-trixie-.*/tree.tar" "$t/wait" &&
		grep -q '^#   .*release-bookworm: could not be made' "$t/wait"
	tap $? "a made tree's line names its tarball, a failed one's says why"
	grep -q '^#   not ok - esp trixie tree' "$t/wait"
	tap $? "what the background run said comes first, as comments"
	made=$(grep -c systemd-sysv "$STUB_LOG")
	"$LB_TOP/tests/trees" start >"$t/start" 2>&1 && "$LB_TOP/tests/trees" wait >"$t/wait" 2>&1
	grep -q "^ok - system bookworm tree: " "$t/wait" && [ "$(grep -c systemd-sysv "$STUB_LOG")" = "$made" ]
	tap $? "a second run takes the made trees as they are: no debootstrap of them"
	# A tree the background run could not make, made by its tier meanwhile.
	export LB_SYSTEM_CACHE=$t/cache3
	STUB_FAIL=1 "$LB_TOP/tests/trees" start >"$t/start" 2>&1
	flock "$LB_SYSTEM_CACHE/.fill/run.lock" true
	tree lb_tree_system bookworm
	"$LB_TOP/tests/trees" wait >"$t/wait" 2>&1
	grep -q '^#   not ok - system bookworm tree could not be made' "$t/wait" &&
		grep -q '^ok - system bookworm tree: ' "$t/wait"
	tap $? "a tree the background run failed to make but a tier made: a comment, then ok"
	export LB_SYSTEM_CACHE=$t/cache4
	"$LB_TOP/tests/trees" wait >"$t/wait" 2>&1
	grep -q '^#   nothing (.*: no result; tests/trees start)' "$t/wait" &&
		grep -q '^ok - system trixie tree: ' "$t/wait"
	tap $? "wait without a start says so and makes the trees itself"
fi
echo "1..$n"
[ "$failed" = 0 ]
