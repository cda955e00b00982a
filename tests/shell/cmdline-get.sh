#!/bin/bash
# cmdline-get as the boot scripts use it: exit codes, sources, the kernel's
# length limit, --path, and --shell output evaluated by every shell the
# initramfs may run (busybox sh, dash) and bash, on hostile values.
# CMDLINE_GET names the binary (default: the ASan build in ${B:-build}).
# Single-quoted '$' and backticks below are the hostile values themselves.
# shellcheck disable=SC2016
set -u
G=${CMDLINE_GET:-${B:-build}/asan/bin/cmdline-get}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

# run ARGS...: sets out, err, rc
run() {
	out=$("$G" "$@" 2>"$tmp/err"; echo "rc=$?")
	rc=${out##*rc=}
	out=${out%rc=*}
	out=${out%$'\n'}
	err=$(cat "$tmp/err")
}

if [ ! -x "$G" ]; then
	echo "not ok 1 - $G is built (make unit-tests)"
	exit 1
fi

# --- exit codes and output --------------------------------------------
run --cmdline 'root=/dev/sda1 "loop=/My Linux/root.img" ro' loop
[ "$rc" = 0 ] && [ "$out" = "/My Linux/root.img" ] && [ -z "$err" ]
ok $? "GRUB's quoted token: value printed, exit 0"

run --cmdline 'loop="/My Linux/root.img"' loop
[ "$rc" = 0 ] && [ "$out" = "/My Linux/root.img" ]
ok $? "quoted value: exit 0"

run --cmdline 'root=/dev/sda1 ro' loop
[ "$rc" = 1 ] && [ -z "$out" ] && [ -z "$err" ]
ok $? "absent: exit 1, no output at all"

run --cmdline 'quiet loop=' quiet
[ "$rc" = 0 ] && [ "$out" = "" ]
ok $? "bare name: present, empty line, exit 0"

"$G" --cmdline 'quiet' quiet | od -An -c | grep -q '\\n'
ok $? "bare name prints a newline"

run --cmdline 'loop=/a -- loop=/b' loop
[ "$rc" = 0 ] && [ "$out" = /a ]
ok $? "'--' ends the kernel's options"

run --cmdline 'loop_fstype=ext4' loop-fstype
[ "$rc" = 0 ] && [ "$out" = ext4 ]
ok $? "'-' and '_' are one character in names"

run --cmdline 'a=1' ''
[ "$rc" = 2 ] && [ -z "$out" ] && [ -n "$err" ]
ok $? "empty NAME: exit 2 with a message"

run --cmdline 'a=1'
[ "$rc" = 2 ] && [[ $err == *"no NAME"* ]]
ok $? "no NAME: exit 2"

run --cmdline 'a=1' a b
[ "$rc" = 2 ]
ok $? "two NAMEs without --shell: exit 2"

run --file /dev/null --cmdline 'a=1' a
[ "$rc" = 2 ] && [[ $err == *"not both"* ]]
ok $? "two sources: exit 2"

run --frobnicate a
[ "$rc" = 2 ]
ok $? "unknown option: exit 2"

run --file "$tmp/missing" a
[ "$rc" = 2 ] && [[ $err == "cmdline-get: $tmp/missing: cannot open: No such file or directory" ]]
ok $? "missing file: exit 2, message names the file first"

run --cmdline 'a=1' 'a=1'
[ "$rc" = 2 ] && [[ $err == *"not a kernel parameter name"* ]]
ok $? "a NAME holding '=': exit 2"

run --file / a
[ "$rc" = 2 ] && [[ $err == "cmdline-get: /: cannot read: Is a directory" ]]
ok $? "unreadable source: exit 2, message names it"

"$G" --cmdline 'a=1' a >/dev/full 2>"$tmp/err"
[ $? = 2 ] && grep -q 'stdout: cannot write' "$tmp/err"
ok $? "a failed write to stdout: exit 2, not a silent success"

run --help
[ "$rc" = 0 ] && [[ $out == *"Exit status"* ]] && [[ $out == *"--shell"* ]] && [[ $out == *"--path"* ]]
ok $? "--help documents the modes and the exit status"

# --- sources ----------------------------------------------------------
printf 'a="x y\n' >"$tmp/line"
run --file "$tmp/line" a
[ "$rc" = 0 ] && [ "$out" = "x y" ]
ok $? "--file: the final newline of /proc/cmdline's format is dropped"

printf 'a=1\0b=2\n' >"$tmp/nul"
run --file "$tmp/nul" a
[ "$rc" = 2 ] && [ -z "$out" ] && [[ $err == *"NUL byte at offset 3"* ]]
ok $? "--file with a NUL byte: exit 2, offset named"

head -c 70000 /dev/zero | tr '\0' x >"$tmp/huge"
run --file "$tmp/huge" a
[ "$rc" = 2 ] && [[ $err == *"not a kernel command line"* ]]
ok $? "--file far too large: exit 2"

if [ -r /proc/cmdline ]; then
	first=$(sed 's/^[[:space:]]*//; s/[[:space:]].*//; s/=.*//' /proc/cmdline)
	if [ -n "$first" ] && [[ $first != *'"'* ]]; then
		"$G" "$first" >/dev/null
		ok $? "default source /proc/cmdline: its first option ($first) is found"
	else
		ok 0 "default source /proc/cmdline # SKIP first word unusable"
	fi
fi

# One open of /proc/cmdline for any number of names, read until read()
# returns 0: its size reads as 0, so nothing else tells where it ends.
if command -v strace >/dev/null && [ -r /proc/cmdline ]; then
	ASAN_OPTIONS=detect_leaks=0 strace -e trace=openat,open,read -o "$tmp/strace" \
		"$G" --shell a b c >/dev/null 2>&1
	fd=$(sed -n 's|.*open.*"/proc/cmdline".* = \([0-9]*\)$|\1|p' "$tmp/strace")
	[ "$(grep -c '"/proc/cmdline"' "$tmp/strace")" = 1 ] &&
		grep "^read($fd," "$tmp/strace" | tail -n 1 | grep -q ' = 0$'
	ok $? "/proc/cmdline opened once for three names and read to end of file"
else
	ok 0 "/proc/cmdline read once # SKIP no strace"
fi

# --- the kernel's length limit (x86: 2047 bytes kept) ------------------
pad=$(head -c 2200 /dev/zero | tr '\0' x)
line=${pad:0:2040}' b=1234'            # 2047 bytes
[ ${#line} = 2047 ]
run --cmdline "$line" b
[ "$rc" = 0 ] && [ "$out" = 1234 ] && [ -z "$err" ]
ok $? "2047-byte line: whole, last option intact, no warning"

line=${pad:0:2040}' b=12345'           # 2048 bytes: the kernel drops the 5
run --cmdline "$line" b
[ "$rc" = 0 ] && [ "$out" = 1234 ] && [[ $err == *"line is 2048 bytes"* ]]
ok $? "2048-byte line: cut to 2047 as the kernel does, with a warning"

line=${pad:0:2047}' b=1'
run --cmdline "$line" b
[ "$rc" = 1 ] && [ -z "$out" ]
ok $? "an option past byte 2047 is absent"

printf '%s\n' "${pad:0:2040} b=1234" >"$tmp/2048"
run --file "$tmp/2048" b
[ "$rc" = 0 ] && [ "$out" = 1234 ] && [ -z "$err" ]
ok $? "--file of 2047 bytes plus /proc/cmdline's newline: not cut"

# --- --path -----------------------------------------------------------
path_case() { # WANT-RC VALUE-ON-LINE WHAT [ERR-PATTERN]
	run --cmdline "root=/dev/sda1 loop=$2" --path loop
	[ "$rc" = "$1" ] && { [ -z "${4:-}" ] || [[ $err == *"$4"* ]]; } &&
		{ [ "$1" = 0 ] || [ -z "$out" ]; }
	ok $? "--path: $3"
}
path_case 0 /linux/root.img "absolute path accepted"
path_case 0 '"/My Linux/root.img"' "a space inside quotes accepted"
path_case 2 linux/root.img "relative path refused" "not absolute"
path_case 2 /linux/../root.img "'..' refused" '".." component'
path_case 2 '\linux\root.img' "backslash refused, '/' suggested" "separates directories with '/'"
path_case 2 'C:\linux\root.img' "drive letter refused" "drive letter"
path_case 2 '"/a'$'\t''b"' "control character refused" "control character"
path_case 2 '' "empty value refused" "is empty"
run --cmdline 'root=/dev/sda1' --path loop
[ "$rc" = 1 ]
ok $? "--path on an absent option: exit 1"

# --- --shell on hostile values, evaluated by each shell ----------------
shells=()
for s in dash bash "busybox sh"; do
	# shellcheck disable=SC2086
	if command -v ${s%% *} >/dev/null 2>&1; then
		shells+=("$s")
	fi
done
[ ${#shells[@]} -ge 2 ]
ok $? "shells to evaluate with: ${shells[*]}"

# eval_case LINE EXPECTED-PRINTF-FORMAT WHAT: the value of a, after eval,
# must be exactly the expected bytes in every shell.
eval_case() {
	local line=$1 want=$2 what=$3 s vars got
	vars=$("$G" --cmdline "$line" --shell V=a) || { ok 1 "--shell: $what (exit)"; return; }
	# shellcheck disable=SC2059 # the format is the expected bytes
	printf -- "$want" >"$tmp/want"
	for s in "${shells[@]}"; do
		rm -f "$tmp/pwned"
		# shellcheck disable=SC2086
		(cd "$tmp" && ${s} -c 'eval "$1" && printf %s "$V"' sh "$vars") >"$tmp/got" 2>"$tmp/sherr"
		cmp -s "$tmp/want" "$tmp/got" && [ ! -e "$tmp/pwned" ] && [ ! -s "$tmp/sherr" ]
		ok $? "--shell under $s: $what"
	done
}
eval_case "a=\"it's\"" "it's" "single quote"
eval_case "a=\"'\\''\"" "'\\\\''" "the quote-escape sequence itself"
eval_case 'a="$(touch pwned)"' '$(touch pwned)' "command substitution is not run"
eval_case 'a="`touch pwned`"' '`touch pwned`' "backticks are not run"
eval_case 'a="x;touch pwned"' 'x;touch pwned' "semicolon"
eval_case $'a="line1\nline2\n"' 'line1\nline2\n' "newlines, one at the end"
eval_case 'a="$HOME ${V:-x} $1"' '$HOME ${V:-x} $1' "parameter expansions stay literal"
eval_case 'a="* ? [a]"' '* ? [a]' "glob characters stay literal"
eval_case 'a=x"y z"w' 'x"y z"w' "double quotes inside the value"
eval_case 'a="\\\\ \\n"' '\\\\\\\\ \\\\n' "backslashes"
eval_case $'a="\xa0\xff\xfe\x01"' '\240\377\376\001' "0xA0, non-UTF-8 and control bytes"
eval_case 'a=' '' "empty value"
eval_case 'a' '' "bare name: empty value"
eval_case 'a="-n"' '-n' "a value that looks like an option"

vars=$("$G" --cmdline 'b=1' --shell V=a B=b)
for s in "${shells[@]}"; do
	# shellcheck disable=SC2086
	got=$(V=stale ${s} -c 'eval "$1"; echo "${V-unset}:$B"' sh "$vars")
	[ "$got" = "unset:1" ]
	ok $? "--shell under $s: an absent option unsets its variable"
done

run --cmdline 'loop=/a loop-fstype=ext4 x.y=1' --shell loop loop-fstype x.y
[ "$rc" = 0 ] && [ "$out" = $'loop=\'/a\'\nloop_fstype=\'ext4\'\nx_y=\'1\'' ]
ok $? "--shell: default variable names, one line each, in order"

run --cmdline 'a=1' --shell 1a
[ "$rc" = 2 ] && [ -z "$out" ] && [[ $err == *"VAR=1a"* ]]
ok $? "--shell: a NAME that makes no variable: exit 2, VAR=NAME suggested"

run --cmdline 'a=1' --shell 'X-Y=a'
[ "$rc" = 2 ] && [ -z "$out" ]
ok $? "--shell: a bad VAR: exit 2"

run --cmdline 'loop=rel t=ext4' --shell --path L=loop
[ "$rc" = 2 ] && [ -z "$out" ]
ok $? "--shell --path: a bad path prints nothing to eval, exit 2"

# --path=NAME: only that option must be a path, so that the boot reads
# loop= and the other options in one call.
run --cmdline 'loop=/linux/root.img loopfstype=ext4 loopboot.dio=on' --shell --path=loop \
	L=loop T=loopfstype D=loopboot.dio
[ "$rc" = 0 ] && [ "$out" = "L='/linux/root.img'
T='ext4'
D='on'" ]
ok $? "--shell --path=loop: the others need not be paths (got: $out)"
run --cmdline 'loop=linux/root.img loopfstype=ext4' --shell --path=loop L=loop T=loopfstype
[ "$rc" = 2 ] && [ -z "$out" ] && [[ $err == *'loop: the path "linux/root.img" is not absolute'* ]]
ok $? "--shell --path=loop: a relative loop= refused, nothing to eval, exit 2 (got: $err)"
run --cmdline 'lo_op=/a/../x' --shell --path=lo-op L=lo-op
[ "$rc" = 2 ] && [[ $err == *'".." component'* ]]
ok $? "--path=NAME: '-' and '_' equal in its name too"
run --cmdline 'loop=/x' --shell --path=lop L=loop
[ "$rc" = 2 ] && [ -z "$out" ] && [[ $err == *"lop: --path= names a parameter not read here"* ]]
ok $? "--path=NAME naming nothing read (a typo): refused, not a check silently off (got: $err)"
run --cmdline 'loop=/x' --shell --path= L=loop
[ "$rc" = 2 ] && [ -z "$out" ]
ok $? "--path= with an empty name: refused"
run --cmdline 'root=/dev/sda1' --shell --path=loop L=loop
[ "$rc" = 0 ] && [ "$out" = "unset L" ]
ok $? "--shell --path=loop, loop= absent: unset, exit 0"

echo "1..$n"
[ "$failed" -eq 0 ]
