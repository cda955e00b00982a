#!/bin/sh
# The system test's program inside the booted Debian: tests/system/run
# installs it as /usr/local/sbin/lbtest, run by lbtest.service (beside it).
#
# lbtest.action= on the kernel line: poweroff, reboot, hibernate (try it,
# then power off), powercut-root (write to / until QEMU is killed),
# powercut (write to / and the host, then wait to be killed right after a
# file is created on the host).
action=$(sed -n 's/.*lbtest\.action=\([a-z-]*\).*/\1/p' /proc/cmdline)
n=$(($(cat /lbtest-count 2>/dev/null || echo 0) + 1))
echo "$n" >/lbtest-count
echo "cycle $n" >"/lbtest-root-$n"
echo "cycle $n" >"/home/lbtest-home-$n"
[ "$action" = powercut-root ] || echo "cycle $n" >"/host/lbtest-host-$n"
echo "LBTEST cycle $n action $action"
grep -E ' / | /home | /host | /run/loopboot/host ' /proc/mounts | sed 's/^/LBTEST mount /'
[ -x /run/initramfs/shutdown ] && echo "LBTEST shutdown-program present"
case $action in
hibernate)
	# Without D-Bus (minbase) systemctl starts hibernate.target itself;
	# systemd-sleep, behind it, is what logind would ask as well.
	systemctl hibernate >/lbtest-hibernate 2>&1
	echo "systemctl rc $?" >>/lbtest-hibernate
	journalctl -b -o cat -u systemd-hibernate.service >>/lbtest-hibernate 2>&1
	/lib/systemd/systemd-sleep hibernate >>/lbtest-hibernate 2>&1
	echo "systemd-sleep rc $?" >>/lbtest-hibernate
	sed 's/^/LBTEST hibernate: /' /lbtest-hibernate
	systemctl poweroff
	;;
powercut-root)
	i=0
	while :; do
		i=$((i + 1))
		dd if=/dev/urandom of=/lbtest-big bs=1M count=8 conv=notrunc 2>/dev/null
		echo "LBTEST writing $i"
	done
	;;
powercut)
	for i in 1 2 3; do
		dd if=/dev/urandom of=/lbtest-big bs=1M count=8 conv=notrunc 2>/dev/null
		echo "$i" >"/host/lbtest-host-cut-$i"
		echo "LBTEST writing $i"
	done
	# ntfs3 marks the volume dirty when it creates a file and clean
	# again on every sync or fsync of a file on it, which the loop
	# devices do at each journal commit of the images.  Frozen images
	# commit nothing: the cut comes while the volume is dirty, as it
	# would some time after any change on the host.
	fsfreeze -f /home && fsfreeze -f / &&
		echo last >/host/lbtest-host-cut-last &&
		echo "LBTEST host changed, images frozen" >/dev/console
	sleep 3600
	;;
reboot) systemctl reboot ;;
*) systemctl poweroff ;;
esac
