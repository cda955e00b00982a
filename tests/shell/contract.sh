#!/bin/bash
# The contract between loopboot's parts (scripts/loopboot/contract) holds:
# the documented option tables (README, loopboot(7)) list exactly its
# options; ntfsprobe's exit codes are the named ones; the state file has
# one writer and one reader, which round-trip any value; no part reads the
# state or /proc/mounts its own way.
# shellcheck disable=SC2016,SC2086 # patterns with backquotes and $; field lists split on purpose
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
contract=$top/scripts/loopboot/contract
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=../../scripts/loopboot/contract
. "$contract"
names=$(printf '%s\n' "$LOOPBOOT_OPTIONS" | awk 'NF { print $1 }' | sort)

# --- the option tables ------------------------------------------------------------
# README: the rows of the table under "## Kernel options" ("| `loop=` |",
# "| `ro` / `rw` |").
readme=$(awk '/^## Kernel options/ { on = 1; next } /^## / { on = 0 } on && /^\| `/' "$top/README.md" |
	cut -d'|' -f2 | grep -o '`[^`]*`' | tr -d '`' | sed 's/=$//' | sort -u)
# break= is documented in its own section of the README.
diff <(printf '%s\n' "$names" | grep -vx break) <(printf '%s\n' "$readme") >"$work/d" 2>&1
tap $? "README's option table lists exactly the contract's options $(tr '\n' ' ' <"$work/d")"
grep -q '^## When it fails: `break=`' "$top/README.md"
tap $? "README documents break= (its own section)"
# loopboot(7): the tags of KERNEL OPTIONS.
man=$(awk '/^\.SH KERNEL OPTIONS/ { on = 1; next } /^\.SH / { on = 0 } on' "$top/man/loopboot.7" |
	awk 'prev == ".TP" { print } { prev = $0 }' | sed 's/^\.B[IR]* //' |
	grep -oE '(^|[ "])[a-z.]+=?' | tr -d ' "' | sed 's/=$//' | sort -u)
diff <(printf '%s\n' "$names") <(printf '%s\n' "$man") >"$work/d" 2>&1
tap $? "loopboot(7) KERNEL OPTIONS lists exactly the contract's options $(tr '\n' ' ' <"$work/d")"
args=$(loopboot_option_args | tr '\n' ' ')
[ "$args" = "lb_root=root lb_loop=loop lb_loopfstype=loopfstype lb_loopflags=loopflags lb_rootfstype=rootfstype lb_rootflags=rootflags lb_ro_word=ro lb_rw_word=rw lb_ro=loopboot.ro lb_dio=loopboot.dio lb_blocksize=loopboot.blocksize lb_readahead=loopboot.readahead " ]
tap $? "the cmdline-get arguments come from the table (got: $args)"
[ "$(loopboot_option_args copy | tr '\n' ' ')" = "lb_loopfstype=loopfstype lb_loopflags=loopflags lb_rootfstype=rootfstype lb_rootflags=rootflags lb_dio=loopboot.dio lb_blocksize=loopboot.blocksize lb_readahead=loopboot.readahead " ]
tap $? "boot media copy loopfstype=, loopflags=, rootfstype=, rootflags=, loopboot.dio=, .blocksize=, .readahead= as given"

# --- the NTFS driver tables ---------------------------------------------------------
# README's "## NTFS drivers" table and loopboot(7)'s NTFS DRIVERS table (tbl)
# list the same Debian releases, kernels and drivers, as "release|kernel|driver".
readme_drivers=$(awk '/^## NTFS drivers/ { on = 1; next } /^## / { on = 0 } on && /^\| [0-9]/' "$top/README.md" |
	awk -F' *\\| *' '{ d = $4; sub(/^`/, "", d); sub(/`.*/, "", d); print $2 "|" $3 "|" d }' | sort)
man_drivers=$(awk '/^\.SH NTFS DRIVERS/ { on = 1; next } /^\.SH / { on = 0 }
	on && /^\.TS/ { t = 1; n = 0; next } on && /^\.TE/ { t = 0 } t && ++n > 2' "$top/man/loopboot.7" |
	awk -F'\t' '{ d = $3; sub(/^\\fB/, "", d); sub(/\\fR.*/, "", d); print $1 "|" $2 "|" d }' | sort)
[ -n "$readme_drivers" ] && [ "$readme_drivers" = "$man_drivers" ]
tap $? "README's and loopboot(7)'s NTFS driver tables agree (README: $(printf '%s' "$readme_drivers" | tr '\n' ';'); man: $(printf '%s' "$man_drivers" | tr '\n' ';'))"
# Every driver of the table is one the drivers part knows: a Windows file
# system (ntfsprobe first), a daemon only for the FUSE one.
(
	# shellcheck source=../../scripts/loopboot/drivers
	. "$top/scripts/loopboot/drivers"
	for d in $(printf '%s\n' "$readme_drivers" | cut -d'|' -f3 | sort -u); do
		loopboot_driver_windows "$d" || exit 1
		case $d in
		ntfs-3g) loopboot_driver_daemon "$d" >/dev/null || exit 1 ;;
		*) ! loopboot_driver_daemon "$d" >/dev/null || exit 1 ;;
		esac
		grep -q "^	${d}[ )|]" "$top/scripts/loopboot/drivers" || exit 1
	done
)
tap $? "each driver of the tables is a case in scripts/loopboot/drivers, judged as Windows', daemon only for ntfs-3g"

# --- ntfsprobe's exit codes ---------------------------------------------------------
for v in SAFE USAGE NOT_NTFS CORRUPT HIBERNATED DIRTY BITLOCKER; do
	c=$(sed -n "s/^[[:space:]]*EXIT_$v = \([0-9]*\),.*/\1/p" "$top/helpers/ntfsprobe.c")
	eval "s=\${LOOPBOOT_PROBE_$v}"; s=${s-}
	[ -n "$c" ] && [ "$c" = "$s" ]
	tap $? "LOOPBOOT_PROBE_$v is ntfsprobe's EXIT_$v ($s = ${c:-missing})"
done
! grep -nE '^\s*(1[2-6]( \| 1[2-6])*)\)' "$top/scripts/loopboot/"* "$top/scripts/loopboot-functions" >"$work/d"
tap $? "no part tests ntfsprobe's exit codes as bare numbers $(cat "$work/d")"

# --- the state file -----------------------------------------------------------------
hostile="a'b\"c\\d \$(touch $work/pwned) \`x\` \\c %s
second line
"
(
	for f in $LOOPBOOT_STATE_FIELDS; do eval "$f=\$hostile\$f"; done
	loopboot_state_write "$work/state"
) || tap 1 "the state is written"
for sh in dash bash "busybox sh"; do
	# shellcheck disable=SC2016 # expanded by the inner shell
	$sh -c '. "$1"; loopboot_state_read "$2" || exit 1
		for f in $LOOPBOOT_STATE_FIELDS; do eval "printf %s \"\$$f\""; printf "|\n"; done' \
		sh "$contract" "$work/state" >"$work/got.$$" 2>&1
	for f in $LOOPBOOT_STATE_FIELDS; do printf '%s|\n' "$hostile$f"; done >"$work/want"
	cmp -s "$work/want" "$work/got.$$" && [ ! -e "$work/pwned" ]
	tap $? "$sh: the state reads back byte for byte, nothing run"
done
(
	for f in $LOOPBOOT_STATE_FIELDS; do eval "$f=x"; done
	loopboot_state_write "$work/plain"
)
[ "$(printf '%s\n' $LOOPBOOT_STATE_FIELDS | sed "s/\$/='x'/")" = "$(cat "$work/plain")" ]
tap $? "the writer writes every field, one line each"
printf "LOOPBOOT_HOST_DEV='/dev/sda1'\n" >"$work/partial"
! (loopboot_state_read "$work/partial") && ! (loopboot_state_read "$work/nonexistent")
tap $? "the reader refuses a missing state or one without host and file"
# Every reader goes through loopboot_state_read; nothing else sources it.
! grep -nE '^\s*\. +"?\$(LOOPBOOT_STATE|LB_STATE|_state)' \
	"$top/scripts/loopboot/"* "$top/scripts/"*/loopboot "$top/helpers/loopboot-mkmedia" >"$work/d"
tap $? "no part sources the state file but the contract's reader $(cat "$work/d")"
# The mount table's reader: octal escapes decoded (a space in a mount
# point is \040), plain fields as they are.
printf '%s\n' 'proc /proc proc rw 0 0' '/dev/sda1 /run/loopboot/host ntfs3 rw,noatime 0 0' \
	'/dev/my\040disk /mnt/a\040b\134c fuseblk ro 0 0' '/dev/loop0 /root ext4 rw 0 0' \
	'/dev/sda1 /media/w ntfs3 rw 0 0' >"$work/mounts"
(
	# shellcheck disable=SC2030 # this subshell's own
	LOOPBOOT_PROC_MOUNTS=$work/mounts
	[ "$(loopboot_mount_field /run/loopboot/host options)" = rw,noatime ] &&
		[ "$(loopboot_mount_field '/mnt/a b\c' device)" = '/dev/my disk' ] &&
		[ "$(loopboot_mount_field '/mnt/a b\c' type)" = fuseblk ] &&
		! loopboot_mount_field /mnt/a >/dev/null && loopboot_is_mounted /root &&
		! loopboot_is_mounted /mnt &&
		loopboot_mounts_of_device /dev/sda1 && [ "$lb_mounts" = '/run/loopboot/host
/media/w
' ] &&
		loopboot_mounts_of_device '/dev/my disk' && [ "$lb_mounts" = '/mnt/a b\c
' ] &&
		loopboot_mounts_newest_first && [ "${lb_mounts%%/run/*}" = '/media/w
/root
/mnt/a b\c
' ]
)
tap $? "the mount table is read with its octal escapes decoded, plain fields as they are"
# The kernel escapes four characters in a path; anything else stays as it
# is (printf %b would have taken \t for a tab), decoded left to right.
# shellcheck disable=SC1003 # a backslash at the end, on purpose
for t in 'a\011b\012c' 'x\134040' 'a\tb' 'end\' 'a\01' '\134\134'; do
	loopboot_mount_decode "$t"
	printf '%s|' "$lb_decoded"
done >"$work/decoded"
[ "$(cat "$work/decoded")" = "a	b
c|x\\040|a\\tb|end\\|a\\01|\\\\|" ]
tap $? "the octal escapes \\040 \\011 \\012 \\134 are decoded, nothing else"
# Read without a process: each costs tens of milliseconds under emulation.
(
	# shellcheck disable=SC2031 # this subshell's own, for sh -c
	export LOOPBOOT_PROC_MOUNTS=$work/mounts
	strace -qq -f -e trace=clone,clone3,fork,vfork -o "$work/forks" sh -c '
		. "$1"; loopboot_mount_lookup "/mnt/a b\c" device && loopboot_is_mounted /root &&
		loopboot_mounts_of_device /dev/sda1 && loopboot_mounts_newest_first' sh "$top/scripts/loopboot/contract" &&
		! grep -q . "$work/forks"
)
tap $? "the mount table's readers start no process $(cat "$work/forks")"
! grep -lE 'while read -r [^ ]+ [^ ]+ [^ ]+ [^ ]+.*' "$top/scripts/loopboot/"{drivers,core,initramfs-tools,shutdown-setup,shutdown} >"$work/d"
tap $? "/proc/mounts is parsed by the contract only $(cat "$work/d")"

echo "1..$n"
