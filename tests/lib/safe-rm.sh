# shellcheck shell=bash
# safe_rm DIR: rm -rf DIR, unless something is still mounted under it (a
# bind of /dev in a chroot, a host volume): rm -rf would go through it.
safe_rm() {
	if findmnt -rn -o TARGET | grep -q "^$1\(/\|\$\)"; then
		echo "# $1: something is still mounted under it; not removed" >&2
		return 1
	fi
	rm -rf "$1"
}
