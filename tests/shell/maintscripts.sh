#!/bin/bash
# debian/postinst and debian/postrm rebuild every kernel's initramfs once:
# each kernel with an image but the newest, which initramfs-tools' trigger
# builds after the dpkg run (so not twice); outside a dpkg run, where there
# is no trigger to activate, the newest as well.  Run as root, each in a
# mount namespace with a made-up /boot (tmpfs), a stub update-initramfs that
# logs its arguments and a stub dpkg-trigger; linux-version is the real one.
# The same, for real, with Debian's kernels: tests/release/prepare counts
# the images the install builds.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
need_mount_ns "maintainer scripts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stubs=$work/stubs
mkdir -p "$stubs"
cat >"$stubs/update-initramfs" <<'EOF'
#!/bin/sh
echo "$*" >>"$LOG"
exit "${UPDATE_RC:-0}"
EOF
cat >"$stubs/dpkg-trigger" <<'EOF'
#!/bin/sh
echo "$*" >>"$LOG.trigger"
exit "${TRIGGER_RC:-0}"
EOF
chmod +x "$stubs"/*

# Kernels: 6.11 without an image (not a candidate, as for update-initramfs);
# 6.10 the newest with one, which a plain string sort would put after 6.9.
KERNELS_WITH_IMAGE="6.1.0-57-amd64 6.9.0-3-amd64 6.10.0-1-amd64"
KERNELS_WITHOUT="6.11.0-1-amd64"

# maint SCRIPT ARG [VAR=VALUE...]: runs the script with this /boot; its
# calls of update-initramfs in $work/log, its exit status in $rc.
maint() {
	local script=$1 arg=$2
	shift 2
	: >"$work/log"
	rm -f "$work/log.trigger"
	# shellcheck disable=SC2016 # expanded by the inner sh
	env "$@" LOG="$work/log" PATH="$stubs:/usr/bin:/bin" \
		unshare --mount --propagation private -- sh -c '
		mount -t tmpfs tmpfs /boot || exit 99
		for k in $0; do touch "/boot/vmlinuz-$k" "/boot/initrd.img-$k"; done
		for k in $1; do touch "/boot/vmlinuz-$k"; done
		exec sh "$2" "$3"' "$KERNELS_WITH_IMAGE" "$KERNELS_WITHOUT" \
		"$top/debian/$script" "$arg" >"$work/out" 2>&1
	rc=$?
}
calls() { tr '\n' ';' <"$work/log"; }

maint postinst configure
[ $rc = 0 ] && [ "$(calls)" = "-u -k 6.9.0-3-amd64;-u -k 6.1.0-57-amd64;" ]
ok $? "postinst configure in a dpkg run: every kernel's image but the newest's, once each ($(calls))"
grep -qx -- '--no-await update-initramfs' "$work/log.trigger" 2>/dev/null
ok $? "postinst configure: initramfs-tools' trigger activated, for the newest"

maint postinst configure TRIGGER_RC=1
[ $rc = 0 ] && [ "$(calls)" = "-u -k 6.10.0-1-amd64;-u -k 6.9.0-3-amd64;-u -k 6.1.0-57-amd64;" ]
ok $? "postinst configure outside a dpkg run (no trigger): every kernel with an image, newest too ($(calls))"

maint postinst abort-upgrade
[ $rc = 0 ] && [ ! -s "$work/log" ]
ok $? "postinst abort-upgrade: no image built"

maint postinst configure UPDATE_RC=1
[ $rc != 0 ]
ok $? "postinst configure: a failing update-initramfs fails the configuration (exit $rc)"

maint postrm remove
[ $rc = 0 ] && [ "$(calls)" = "-u -k 6.9.0-3-amd64;-u -k 6.1.0-57-amd64;" ]
ok $? "postrm remove in a dpkg run: every kernel's image but the newest's ($(calls))"

maint postrm remove TRIGGER_RC=1
[ $rc = 0 ] && [ "$(calls)" = "-u -k 6.10.0-1-amd64;-u -k 6.9.0-3-amd64;-u -k 6.1.0-57-amd64;" ]
ok $? "postrm remove outside a dpkg run: every kernel with an image ($(calls))"

maint postrm purge
[ $rc = 0 ] && [ ! -s "$work/log" ]
ok $? "postrm purge: no image built (remove made them without loopboot already)"

rm "$stubs/update-initramfs"
maint postinst configure
[ $rc = 0 ]
ok $? "postinst configure without update-initramfs: exit 0"
maint postrm remove
[ $rc = 0 ]
ok $? "postrm remove without update-initramfs: exit 0"

echo "1..$n"
[ "$failed" -eq 0 ]
