#!/bin/bash
# shellcheck disable=SC2016 # a script body and an awk program, single-quoted on purpose
# ioflusher: COMMAND runs with its arguments and name as given and its exit
# status passes through; a missing or unrunnable COMMAND and usage errors
# have their own status and message; and, where the kernel grants it (root
# with CAP_SYS_RESOURCE, not in most containers), COMMAND runs with the I/O
# flusher's kernel flags (/proc/self/stat field 9: PF_MEMALLOC_NOIO
# 0x80000, PF_LOCAL_THROTTLE 0x100000), which it does not have otherwise.
# Runs the binary of ${B:-build}/asan (the sanitizer build).
set -u
LB_TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$LB_TOP/tests/lib/tap.sh"
bin=$LB_TOP/${B:-build}/asan/bin/ioflusher
[ -x "$bin" ] || make -C "$LB_TOP" -s "${B:-build}/asan/bin/ioflusher"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

printf '#!/bin/sh\necho "$0 $*"\nexit 7\n' >"$t/@named"
chmod +x "$t/@named"
out=$(PATH=$t:$PATH "$bin" @named a 'b c' 2>"$t/err")
rc=$?
[ $rc = 7 ] && [ "$out" = "$t/@named a b c" ]
tap $? "COMMAND found in PATH, its arguments as given, its exit status (got $rc: $out)"
out=$(PATH=$t:$PATH "$bin" -- @named x 2>/dev/null)
[ "$out" = "$t/@named x" ]
tap $? "-- ends the options"
# -a NAME: COMMAND's argv[0] (what systemd reads in /proc/PID/cmdline to
# spare a daemon named "@..."), the program still the one found in PATH.
out=$("$bin" -a @named-daemon sh -c 'tr "\0" "\n" </proc/$$/cmdline | head -n 1; cat /proc/$$/comm' 2>/dev/null)
[ "$out" = "@named-daemon
sh" ]
tap $? "-a NAME: COMMAND runs with argv[0] NAME, the program found by its own name (got: $out)"
out=$("$bin" -a @x -- sh -c 'echo "$0"' 2>/dev/null)
[ "$out" = @x ]
tap $? "-a NAME before --"
for a in "-a" "-a|"; do
	IFS='|' read -r -a args <<<"$a"
	[ "$a" = "-a|" ] && args=(-a '')
	"$bin" "${args[@]}" 2>"$t/err"
	rc=$?
	[ $rc = 2 ] && grep -q '^ioflusher: -a: NAME is missing' "$t/err"
	tap $? "-a without a NAME (${#args[@]} arguments): usage error, exit 2 (got $rc: $(cat "$t/err"))"
done
"$bin" "$t/nonexistent" 2>"$t/err"
rc=$?
[ $rc = 127 ] && grep -q "^ioflusher: $t/nonexistent: cannot run: No such file" "$t/err"
tap $? "a missing COMMAND: exit 127, named (got $rc: $(cat "$t/err"))"
printf 'not a program\n' >"$t/plain"
"$bin" "$t/plain" 2>"$t/err"
rc=$?
[ $rc = 126 ] && grep -q "^ioflusher: $t/plain: cannot run" "$t/err"
tap $? "a COMMAND that cannot run: exit 126 (got $rc)"
"$bin" 2>"$t/err"
rc=$?
[ $rc = 2 ] && grep -q 'COMMAND is missing' "$t/err"
tap $? "no COMMAND: usage error, exit 2"
"$bin" --bogus 2>"$t/err"
rc=$?
[ $rc = 2 ] && grep -q '^ioflusher: --bogus: unknown option' "$t/err"
tap $? "an unknown option: exit 2, named"

flags_of() { awk '{ print $9 }' /proc/self/stat; }
plain=$(flags_of)
with=$("$bin" awk '{ print $9 }' /proc/self/stat 2>"$t/err")
if grep -q 'warning: runs without the I/O flusher state' "$t/err"; then
	[ $(((with & 0x180000) == (plain & 0x180000))) = 1 ]
	tap $? "refused by the kernel here ($(cat "$t/err")): a warning, COMMAND runs anyway, flags unchanged"
	skip "COMMAND runs as an I/O flusher" "the kernel refuses PR_SET_IO_FLUSHER here (no CAP_SYS_RESOURCE)"
else
	[ ! -s "$t/err" ] && [ $(((plain & 0x180000) == 0)) = 1 ]
	tap $? "no warning where the kernel grants it; a plain process lacks the flags ($plain)"
	[ $(((with & 0x180000) == 0x180000)) = 1 ]
	tap $? "COMMAND runs as an I/O flusher: PF_MEMALLOC_NOIO and PF_LOCAL_THROTTLE set (flags $with)"
fi

echo "1..$n"
[ "$failed" = 0 ]
