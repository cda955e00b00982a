#!/bin/bash
# The package as built by dpkg-buildpackage: lintian reports no error and no
# warning, and it holds the files the design says it installs.
set -u
cd "$(dirname "$0")/../.." || exit 1
version=$(dpkg-parsechangelog -S Version)
deb=../loopboot_${version}_$(dpkg --print-architecture).deb
# shellcheck source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -f "$deb" ]
tap $? "dpkg-buildpackage made $deb"

out=$(lintian --fail-on error,warning "$deb" 2>&1)
rc=$?
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# lintian: /'
! printf '%s\n' "$out" | grep -q '^[EW]: '
tap $? "lintian: no error and no warning"
[ "$rc" = 0 ]
tap $? "lintian --fail-on error,warning exits 0"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/sbin/cmdline-get ./usr/sbin/ntfsprobe ./usr/sbin/loopattach \
	./usr/share/loopboot/functions \
	./etc/initramfs-tools/hooks/loopboot \
	./etc/initramfs-tools/scripts/init-top/loopboot \
	./etc/initramfs-tools/scripts/local-premount/loopboot \
	./etc/initramfs-tools/scripts/local-bottom/loopboot \
	./etc/initramfs-tools/scripts/panic/loopboot \
	./etc/initramfs-tools/conf.d/loopboot \
	./usr/share/man/man7/loopboot.7.gz ./usr/share/man/man8/cmdline-get.8.gz \
	./usr/share/man/man8/ntfsprobe.8.gz ./usr/share/man/man8/loopattach.8.gz \
	./usr/sbin/loopboot-create ./usr/sbin/loopboot-grow \
	./usr/share/man/man8/loopboot-create.8.gz ./usr/share/man/man8/loopboot-grow.8.gz; do
	printf '%s\n' "$contents" | grep -qx -- "$f"
	tap $? "package holds $f"
done

conffiles=$(dpkg-deb -f "$deb" Package >/dev/null && dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles 2>/dev/null)
for f in /etc/initramfs-tools/hooks/loopboot /etc/initramfs-tools/conf.d/loopboot \
	/etc/initramfs-tools/scripts/local-premount/loopboot /etc/kernel/postinst.d/zz-loopboot-menu \
	/etc/kernel/postrm.d/zz-loopboot-menu; do
	printf '%s\n' "$conffiles" | grep -qx -- "$f"
	tap $? "$f is a conffile"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./triggers 2>/dev/null | grep -qx 'activate-noawait update-initramfs'
tap $? "the package activates the update-initramfs trigger"

dpkg-query -W -f '${Status}\n' loopboot 2>/dev/null | grep -q 'install ok installed'
tap $? "loopboot is installed (by tests/install-deb, with apt)"
