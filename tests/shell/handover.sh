#!/bin/bash
# shellcheck disable=SC1003,SC2016 # values and scripts for other shells are single-quoted on purpose
# What is handed over survives any value: /conf/param.conf and the state
# file are written by loopboot_write_vars (and loopboot_handoff through it)
# under each of dash, bash, busybox ash and klibc sh, then sourced back by
# each of the four, and every value is compared byte for byte: a 4x4 matrix.
# Hostile values: quotes, backslashes, "\c" (which echo under dash and klibc
# sh takes for "stop here"), a literal "\n", "$()", backticks, real newlines
# (trailing ones too), "%s", a leading "-", empty, spaces, tabs, non-ASCII
# and invalid UTF-8 bytes.
# LOOPBOOT_FUNCTIONS names another functions file to test (an older one).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export LOOPBOOT_LIB=$top/scripts/loopboot
# The trace marks go nowhere, not into this machine's kernel log.
export LOOPBOOT_KMSG=/dev/null
funcs=${LOOPBOOT_FUNCTIONS:-$top/scripts/loopboot-functions}
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# bash matches patterns by character in a UTF-8 locale: the harder case for
# invalid bytes.
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
	export LC_ALL=C.UTF-8
fi

klibc_sh=/usr/lib/klibc/bin/sh
[ -x "$klibc_sh" ] || klibc_sh=/usr/lib/klibc/bin/sh.shared
names=(dash bash busybox-ash klibc-sh)
declare -A cmd=([dash]=dash [bash]=bash [busybox-ash]="busybox sh" [klibc-sh]=$klibc_sh)
have() { # NAME: the shell is installed
	local c=${cmd[$1]}
	command -v "${c%% *}" >/dev/null 2>&1
}

# The values, one file each: V01..V24.
vals=$work/values
mkdir -p "$vals"
i=0
val() {
	i=$((i + 1))
	printf '%s' "$1" >"$vals/$(printf 'V%02d' "$i")"
}
val "it's"
val "'"
val "''"
val "'\\''"
val 'say "hi" "'
val 'a\b\\c\'
val 'noatime\c'
val 'x\ctail\c'
val 'a\nb\t\0101'
val "\$(touch $work/pwned)"
val "\`touch $work/pwned\`"
val "\${HOME} \$HOME \$1 \$\$"
val $'line1\nline2'
val $'trailing\n\n'
val $'\n'
val $'\n\nx\n\n'
val '%s %d %% %b \x41'
val '-n'
val '-e \c x'
val ''
val '  two  spaces  '
val $'\t\ttab\t'
val $'caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xff\xfe\x80 \xc3'
val $'*?[a] ~ #x ; && | > < \r end'
val $'all: \'"\\c$(x)`y`\n%s\\\n\''
nvals=$i
all=$(cd "$vals" && echo V*)
half=$((nvals / 2))
first=$(cd "$vals" && printf '%s ' V* | cut -d' ' -f1-$half)
second=$(cd "$vals" && printf '%s ' V* | cut -d' ' -f$((half + 1))-)

# Writer: read the values from their files (keeping trailing newlines), write
# the first half by NAME and the rest as NAME=VALUE, appending, and a variable
# that is unset as empty.
writer='
. "$1" || exit 1
for f in "$2"/V*; do
	v=$(cat "$f"; printf x)
	eval "${f##*/}=\${v%x}"
done
unset UNSET_VAR
args=
for n in $4; do
	args="$args \"$n=\$$n\""
done
loopboot_write_vars "$3" replace $5 UNSET_VAR || { echo "$LOOPBOOT_ERROR"; exit 1; }
eval "loopboot_write_vars \"\$3\" append $args" || { echo "$LOOPBOOT_ERROR"; exit 1; }
'
# Reader: every name set to "stale" first, then the file sourced; each value
# printed to a file of its own.
reader='
for n in $3; do eval "$n=stale"; done
. "$1" || exit 1
for n in $3; do eval "printf %s \"\$$n\"" >"$2/$n"; done
'

# compare DIR NAMES: prints the names whose value differs from the expected.
compare() {
	local n bad=
	for n in $2; do
		if [ "$n" = UNSET_VAR ]; then
			[ -f "$1/$n" ] && [ ! -s "$1/$n" ] || bad="$bad $n"
		else
			cmp -s "$vals/$n" "$1/$n" || bad="$bad $n"
		fi
	done
	echo "${bad# }"
}
# A first differing value in full, as od -c shows it.
show() { # DIR NAME
	echo "# expected $2:"
	od -c "$vals/$2" | sed 's/^/#   /'
	echo "# got:"
	od -c "$1/$2" 2>/dev/null | sed 's/^/#   /'
}

for w in "${names[@]}"; do
	if ! have "$w"; then
		for r in "${names[@]}"; do skip "written by $w, read by $r" "$w not installed"; done
		continue
	fi
	out=$work/written-by-$w
	rm -f "$work/pwned"
	# shellcheck disable=SC2086 # a command and its arguments
	msg=$(${cmd[$w]} -c "$writer" sh "$funcs" "$vals" "$out" "$second" "$first" 2>&1)
	rc=$?
	[ $rc = 0 ] && [ -s "$out" ] && [ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" = '\n' ]
	tap $? "$w: loopboot_write_vars writes all $nvals values, the file ends with a newline${msg:+ ($msg)}"
	for r in "${names[@]}"; do
		if ! have "$r"; then
			skip "written by $w, read by $r" "$r not installed"
			continue
		fi
		got=$work/got-$w-$r
		rm -rf "$got"
		mkdir -p "$got"
		# shellcheck disable=SC2086
		(cd "$work" && ${cmd[$r]} -c "$reader" sh "$out" "$got" "$all UNSET_VAR" 2>"$got.err")
		bad=$(compare "$got" "$all UNSET_VAR")
		[ -z "$bad" ] && [ ! -s "$got.err" ] && [ ! -e "$work/pwned" ]
		tap $? "written by $w, read by $r: all $nvals values byte for byte${bad:+ (differ: $bad)}"
		[ -s "$got.err" ] && sed 's/^/# stderr: /' "$got.err"
		[ -e "$work/pwned" ] && echo "# a value was run as a command"
		[ -n "$bad" ] && show "$got" "${bad%% *}"
	done
done

# --- loopboot_handoff: param.conf and the state file -----------------------------
# What local-premount hands over with hostile kernel options: loopflags=
# ending in "\c" (echo made the rest of param.conf vanish, and the next
# script's line was glued to it), a file name with a quote, a backslash and a
# trailing newline.  param.conf has a line before, and one is appended after
# as initramfs-tools' next script would.
handoff_vals=$work/handoff
mkdir -p "$handoff_vals"
hval() { printf '%s' "$2" >"$handoff_vals/$1"; }
hval BEFORE 'before'
hval ROOT /dev/loop7
hval ROOTFSTYPE ext4
hval FSTYPE ext4
hval ROOTFLAGS '-o noatime\c'
hval readonly y
hval fastboot y
hval AFTER 'after'
hval LOOPBOOT_HOST_DEV '/dev/disk/by-label/Win\nDows'
hval LOOPBOOT_HOST_DRIVER ntfs3
hval LOOPBOOT_HOST_RO 1
hval LOOPBOOT_LOOP_DEV /dev/loop7
hval LOOPBOOT_LOOP_FILE $'/My Linux/it\'s \\c "root".img\n'
hval LOOPBOOT_IMAGE_TYPE ext4
param_names="BEFORE ROOT ROOTFSTYPE FSTYPE ROOTFLAGS readonly fastboot AFTER"
state_names="LOOPBOOT_HOST_DEV LOOPBOOT_HOST_DRIVER LOOPBOOT_HOST_RO LOOPBOOT_LOOP_DEV LOOPBOOT_LOOP_FILE LOOPBOOT_IMAGE_TYPE"
handoff='
. "$1" || exit 1
v() { eval "$1=\$(cat \"\$2/$1\"; printf x)"; eval "$1=\${$1%x}"; }
v lb_loop_dev "$2/../handoff-in"; v lb_image_type "$2/../handoff-in"
v lb_loopflags "$2/../handoff-in"; v lb_host_dev "$2/../handoff-in"
v lb_host_driver "$2/../handoff-in"; v lb_host_ro "$2/../handoff-in"
v lb_loop "$2/../handoff-in"
loopboot_handoff || { echo "handoff failed: $LOOPBOOT_ERROR"; exit 1; }
printf "%s\n" "AFTER=after" >>"$LOOPBOOT_PARAM_CONF"
'
hin=$work/handoff-in
mkdir -p "$hin"
printf '%s' /dev/loop7 >"$hin/lb_loop_dev"
printf '%s' ext4 >"$hin/lb_image_type"
printf '%s' 'noatime\c' >"$hin/lb_loopflags"
cp "$handoff_vals/LOOPBOOT_HOST_DEV" "$hin/lb_host_dev"
printf '%s' ntfs3 >"$hin/lb_host_driver"
printf '%s' 1 >"$hin/lb_host_ro"
cp "$handoff_vals/LOOPBOOT_LOOP_FILE" "$hin/lb_loop"

for w in "${names[@]}"; do
	have "$w" || {
		skip "$w: loopboot_handoff" "$w not installed"
		continue
	}
	dir=$work/handoff-$w
	mkdir -p "$dir/run"
	printf "BEFORE='before'\n" >"$dir/param.conf"
	# shellcheck disable=SC2086
	msg=$(LOOPBOOT_RUN=$dir/run LOOPBOOT_PARAM_CONF=$dir/param.conf \
		${cmd[$w]} -c "$handoff" sh "$funcs" "$dir" 2>&1)
	tap $? "$w: loopboot_handoff writes param.conf and the state file${msg:+ ($msg)}"
	for r in "${names[@]}"; do
		have "$r" || continue
		bad=
		for f in param.conf:"$param_names" run/state:"$state_names"; do
			got=$dir/got-$r-${f%%[.:/]*}
			rm -rf "$got"
			mkdir -p "$got"
			# shellcheck disable=SC2086
			${cmd[$r]} -c "$reader" sh "$dir/${f%%:*}" "$got" "${f#*:}" 2>"$got.err" ||
				bad="$bad (${f%%:*}: not sourced: $(cat "$got.err"))"
			for nm in ${f#*:}; do
				cmp -s "$handoff_vals/$nm" "$got/$nm" || bad="$bad $nm"
			done
		done
		[ -z "$bad" ]
		tap $? "handed over by $w, read by $r: param.conf and state byte for byte${bad:+ (differ:$bad)}"
	done
done

# A write that fails is a failed handoff, said as such: without its ROOT=,
# initramfs-tools would mount the host partition as the root.
dir=$work/handoff-unwritable
mkdir -p "$dir/run" "$dir/param.conf"
msg=$(LOOPBOOT_RUN=$dir/run LOOPBOOT_PARAM_CONF=$dir/param.conf sh -c '
	. "$1"; lb_loop_dev=/dev/loop7 lb_image_type=ext4 lb_loopflags= lb_host_ro=
	loopboot_handoff 2>/dev/null && exit 0
	printf "%s\n" "$LOOPBOOT_ERROR"; exit 1' sh "$funcs")
rc=$?
[ $rc = 1 ] && case $msg in *"$dir/param.conf"*) true ;; *) false ;; esac
tap $? "loopboot_handoff fails and names param.conf when it cannot write it (rc $rc: $msg)"

# The writer refuses what is not a variable name, and writes nothing then.
rm -f "$work/refused"
msg=$(sh -c '. "$1"; loopboot_write_vars "$2" replace GOOD "x;touch $3" && exit 0
	printf "%s\n" "$LOOPBOOT_ERROR"; exit 1' sh "$funcs" "$work/refused" "$work/pwned" 2>&1)
rc=$?
[ $rc = 1 ] && [ ! -e "$work/refused" ] && [ ! -e "$work/pwned" ]
tap $? "loopboot_write_vars refuses a bad name and writes nothing (rc $rc: $msg)"

# Its own variables cannot be read by name (they hold its state), only given
# as NAME=VALUE.
out=$(sh -c '. "$1"; _lb_wval=mine; loopboot_write_vars "$2" replace _lb_wval &&
	exit 1; loopboot_write_vars "$2" replace "_lb_wval=$_lb_wval" || exit 1
	_lb_wval=; . "$2"; printf %s "$_lb_wval"' sh "$funcs" "$work/own" 2>&1)
[ "$out" = mine ]
tap $? "loopboot_write_vars: its own _lb_wval refused by NAME, written as NAME=VALUE (got: $out)"

echo "1..$n"
[ "$failed" = 0 ]
