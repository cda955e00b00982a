#!/bin/bash
# cmdline-get against the kernel itself.  Boots each installed Debian kernel
# under QEMU with command lines full of quoting corner cases and a tiny /init
# (cmdline-oracle-init.c) that prints what the kernel handed it: every
# "name=value" parameter it does not know as an environment entry, bare words
# and whatever follows "--" as arguments.  Then cmdline-get, reading the
# /proc/cmdline of that same boot, must agree with the kernel on every name:
#   in init's environment   -> the same value (the kernel keeps the last one)
#   a bare word before "--" -> present, empty
#   anywhere else           -> absent (exit 1): swallowed by an unbalanced
#                              quote, or init's after "--"
# The lines avoid what this mapping cannot tell apart: a bare word after
# "--", one name both bare and with a value, names with '.', or names the
# kernel itself knows (all planted names start with qq_).
# KERNELS (default: every kernel of the release trees, tests/release/prepare)
# and CMDLINE_GET can be set.
set -u
G=${CMDLINE_GET:-${B:-build}/bin/cmdline-get}
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
LB_WORK=$tmp
# shellcheck source=../lib/qemu.sh
. "$(dirname "$0")/../lib/qemu.sh"

skip_all() {
	echo "ok 1 - cmdline-get against the kernel # SKIP $1"
	echo "1..1"
	exit 0
}

command -v qemu-system-x86_64 >/dev/null || skip_all "no qemu-system-x86_64"
[ -x "$G" ] || { echo "not ok 1 - $G is built"; exit 1; }
kernels=${KERNELS:-$(ls "$LB_RELEASES"/*/root/boot/vmlinuz-* 2>/dev/null)}
[ -n "$kernels" ] || { echo "not ok 1 - a kernel in $LB_RELEASES/*/root/boot (tests/release/prepare)"; exit 1; }

# The initramfs: a static /init and the directories it mounts on.
mkdir -p "$tmp/root/dev" "$tmp/root/proc"
if ! ${CC:-cc} -static -O2 -o "$tmp/root/init" "$here/cmdline-oracle-init.c"; then
	echo "not ok 1 - static /init builds"
	exit 1
fi
(cd "$tmp/root" && find . | cpio -o -H newc --quiet) >"$tmp/initrd"

hex() { od -An -tx1 -v | tr -d ' \n'; }
unhex() { perl -ne 'chomp; print pack("H*", $_)'; }

# The cases.  $'...' so that tab, newline, 0xA0 and other bytes are real.
lines=(
	# quoting, spaces, separators, duplicates, odd bytes
	$'qq_a=/plain "qq_b=/My Linux/root.img" qq_c="/My Linux/root.img" qq_d="b c"d qq_e= qq_f=1 qq_f=2 qq_g=x\xa0qq_h qq_i=\xc3\xa9\xc2\xa0qq_z qq_j="\xa0 in quotes" qq_k=a==b qq_l="" "qq_m=" qq_n=b"c d" qq_o=\\"x y\\" qq_p=x\tqq_q=1 qq_r="1\n2" qq_s=$(id)`id`\'q\' qq_t=\xff\xfe qq_bare "qq_qbare" qq_u=C:\\a\\b'
	# "--" written with quotes ends the kernel's part too
	$'qq_a=1 qq_b=x "--" qq_c=3 qq_d="4 5" qq_a=6'
	# an unbalanced quote swallows the rest, "--" included
	$'qq_a=1 qq_b="x y qq_c=3 -- qq_d=4'
	# "--=" and "x--" do not end it; a bare "--" does
	$'qq_a=1 --=x qq_b=2 qq_x-- qq_c="3" -- qq_a=7 qq_e=8'
)
# The longest line the x86 kernel takes whole: 2047 bytes with the prefix
# below, the last parameter ending on the last byte.  (A 2048-byte -append
# hangs QEMU 7.2's boot without a word, so the cut itself is left to the
# unit and shell tests.)
prefix="console=ttyS0 panic=-1 quiet "
pad=$(printf '%2100s' '' | tr ' ' y)
long="qq_a=${pad:0:$((2047 - ${#prefix} - 5 - 8))} qq_b=12"
lines+=("$long")

boot() { # boot KERNEL INDEX: the serial log goes to $tmp/KERNEL-INDEX.log
	local out
	out=$tmp/$(basename "$1")-$2
	lb_qemu -m 256 -t 300 -s "file:$out.log" -nodefaults \
		-kernel "$1" -initrd "$tmp/initrd" \
		-append "$prefix${lines[$2]}" >/dev/null 2>"$out.err"
}

# All boots first, BOOT_JOBS (default 2) at a time: each takes about 20 s.
for kernel in $kernels; do
	for i in "${!lines[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "${BOOT_JOBS:-2}" ]; do
			wait -n
		done
		boot "$kernel" "$i" &
	done
done
wait

for kernel in $kernels; do
	kname=$(basename "$kernel")
	for i in "${!lines[@]}"; do
		line=${lines[$i]}
		append="$prefix$line"
		log=$tmp/$kname-$i.log
		tr -d '\r' <"$log" >"$log.clean" 2>/dev/null
		if ! grep -q '^ORACLE-END' "$log.clean"; then
			ok 1 "$kname line $((i + 1)): the oracle init reported (qemu: $(head -c 200 "$tmp/$kname-$i.err"))"
			continue
		fi

		# The kernel's record of the line must be the line QEMU passed:
		# then cmdline-get reads exactly what the kernel parsed.
		grep '^CMDLINE ' "$log.clean" | sed 's/^CMDLINE //' | unhex >"$tmp/cmdline"
		[ "$(hex <"$tmp/cmdline")" = "$(printf '%s\n' "$append" | hex)" ] &&
			[ ${#append} -le 2047 ]
		ok $? "$kname line $((i + 1)): /proc/cmdline is the line passed, plus a newline"

		declare -A env=() bare=()
		while read -r tag h; do
			entry=$(printf '%s' "$h" | unhex; echo x)
			entry=${entry%x}
			if [ "$tag" = ENV ]; then
				env[${entry%%=*}]=$(printf '%s' "${entry#*=}" | hex)
			elif [ "$tag" = ARG ] && [[ $entry != *=* ]]; then
				bare[$entry]=1
			fi
		done < <(grep -E '^(ENV|ARG) ' "$log.clean")

		# Every name planted in the line, and every name the kernel gave.
		names=$( { printf '%s\n' "$line" | grep -ao 'qq_[A-Za-z0-9_-]*'
			   printf '%s\n' "${!env[@]}" "${!bare[@]}"; } |
			 grep -E '^[A-Za-z0-9_-]+$' | grep -vxE 'HOME|TERM' | sort -u)
		agree=0 bad=()
		for name in $names; do
			out=$("$G" --file "$tmp/cmdline" -- "$name"; echo "rc=$?")
			rc=${out##*rc=}
			out=${out%rc=*}
			out=${out%$'\n'}
			if [ -n "${env[$name]+set}" ]; then
				want="0:${env[$name]}"
			elif [ -n "${bare[$name]+set}" ]; then
				want="0:"
			else
				want="1:"
			fi
			got="$rc:$(printf '%s' "$out" | hex)"
			if [ "$got" = "$want" ]; then
				agree=$((agree + 1))
			else
				bad+=("$name kernel=$want cmdline-get=$got")
			fi
		done
		[ ${#bad[@]} -eq 0 ] && [ "$agree" -ge 2 ]
		ok $? "$kname line $((i + 1)): cmdline-get agrees with the kernel on $agree names"
		for b in "${bad[@]}"; do
			echo "#   differs: $b"
		done
		unset env bare
	done
done

echo "1..$n"
[ "$failed" -eq 0 ]
