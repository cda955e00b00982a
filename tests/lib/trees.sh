# shellcheck shell=bash
# The Debian trees the tests build in and boot, each debootstrapped once and
# kept as a tarball in $LB_SYSTEM_CACHE (default /var/cache/loopboot-tests),
# in a directory named after the tree and a hash of what goes into it (its
# builder's code and arguments): a change to either makes a new one.
#
# Each tree is made under a lock of its own, so that make check can make
# them all side by side at its start (tests/trees start), while the fast
# tiers run, and a tier that reaches a tree still being made waits for it
# rather than making it a second time or reading half of it.
#
#   lb_tree_release SUITE   the release tiers' tree (tests/release/tree)
#   lb_tree_esp SUITE       tests/boot/esp.sh's installed system
#   lb_tree_system SUITE    tests/system/run's system (systemd)
#   lb_tree_bench           the benchmark's system (tests/bench/run)
# each prints its tarball's path (making it first when missing).
# Needs lb_chroot and lb_die (tests/lib/qemu.sh).
LB_TREE_CACHE=${LB_SYSTEM_CACHE:-/var/cache/loopboot-tests}
LB_TREE_MIRROR=${LB_MIRROR:-http://deb.debian.org/debian}
LB_TREE_SECURITY_MIRROR=${LB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# lb_tree NAME BUILDER ARG...: the tarball of tree NAME, made when missing
# by "BUILDER TREE DIR ARG..." (in a subshell: an lb_die there ends the
# making, not the caller) in the directory DIR, where it leaves its logs.
lb_tree() {
	local name=$1 builder=$2 key dir fd rc=0
	shift 2
	# The shared making steps count too: a change there is a change to
	# every tree.
	key=$({
		declare -f "$builder" lb_tree_debootstrap lb_tree_apt lb_tree_no_initramfs
		echo "$LB_TREE_MAKING_ONLY"
		printf '%s\n' "$@"
	} | sha256sum | cut -c1-16)
	dir=$LB_TREE_CACHE/$name-$key
	mkdir -p "$LB_TREE_CACHE" || return 1
	exec {fd}>>"$dir.lock" || return 1
	if ! flock -n "$fd"; then
		echo "# $name: being made by another run (tests/trees); waiting for it" >&2
		flock "$fd"
	fi
	if [ ! -s "$dir/tree.tar" ]; then
		command -v debootstrap >/dev/null || lb_die "debootstrap is missing (make deps)"
		echo "# $name: debootstrap (once; cached in $dir)" >&2
		rm -rf "$dir"
		mkdir -p "$dir/tree"
		# shellcheck disable=SC2086 # LB_TREE_MAKING_ONLY: a list of paths
		{
			("$builder" "$dir/tree" "$dir" "$@") &&
				(cd "$dir/tree" && rm -f var/cache/apt/archives/*.deb $LB_TREE_MAKING_ONLY) &&
				tar -C "$dir/tree" -cf "$dir/tree.tar.tmp" . &&
				mv "$dir/tree.tar.tmp" "$dir/tree.tar"
		} || rc=1
		rm -rf "$dir/tree" "$dir/tree.tar.tmp"
	fi
	exec {fd}>&-
	[ "$rc" = 0 ] || { echo "$name: could not be made (logs in $dir)" >&2; return 1; }
	echo "$dir/tree.tar"
}

# Settings for the making only, removed before the tree is kept (lb_tree):
# dpkg does not sync each file it unpacks (debootstrap's second stage and
# apt read dpkg.cfg.d; a tree that a crash leaves half-made is made again
# anyway), and the initramfs images a kernel's installation makes hold no
# modules (MODULES=list): the tiers remake them all from the installed
# package with the tree's own settings, and the syncs and the MODULES=most
# images were a good part of the making's time.
LB_TREE_MAKING_ONLY="etc/dpkg/dpkg.cfg.d/lb-tree-unsafe-io etc/initramfs-tools/conf.d/lb-tree-small"

# lb_tree_debootstrap TREE DIR SUITE [OPTION...]: a minbase tree, logged.
lb_tree_debootstrap() {
	local tree=$1 dir=$2 suite=$3
	shift 3
	mkdir -p "$tree/etc/dpkg/dpkg.cfg.d" "$tree/etc/initramfs-tools/conf.d" &&
		echo force-unsafe-io >"$tree/etc/dpkg/dpkg.cfg.d/lb-tree-unsafe-io" &&
		echo MODULES=list >"$tree/etc/initramfs-tools/conf.d/lb-tree-small" || return 1
	debootstrap --variant=minbase "$@" "$suite" "$tree" "$LB_TREE_MIRROR" >"$dir/debootstrap.log" 2>&1 ||
		lb_die "debootstrap $suite failed (see $dir/debootstrap.log)"
}

# lb_tree_apt TREE DIR SOURCES PACKAGES: apt installs PACKAGES (a list)
# from SOURCES (sources.list lines), without recommends, logged.
lb_tree_apt() {
	local tree=$1 dir=$2
	printf '%s\n' "$3" >"$tree/etc/apt/sources.list"
	# shellcheck disable=SC2086 # a list
	{
		lb_chroot "$tree" apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive lb_chroot "$tree" apt-get install -y -q \
				--no-install-recommends $4
	} >>"$dir/packages.log" 2>&1 || lb_die "apt-get install $4 failed (see $dir/packages.log)"
}

# Initramfs images of the trees' kernels are made by the tiers, from the
# installed package: none at install time.
lb_tree_no_initramfs() {
	sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$1/etc/initramfs-tools/update-initramfs.conf"
}

# --- the release tiers' tree --------------------------------------------------------
# The package's build dependencies, lintian, initramfs-tools, busybox,
# ntfs-3g and the release's kernels the tests boot:
#   bookworm (Debian 12): 6.1 (no ntfs3: ntfs-3g) and 6.12 from
#             bookworm-security (ntfs3)
#   trixie (Debian 13):   6.12 (ntfs3) and trixie-backports' 7.x (the new
#             in-kernel "ntfs" driver, no ntfs3)
tree_release_build() { # TREE DIR SUITE SOURCES PACKAGES KERNELS
	local tree=$1 dir=$2
	lb_tree_debootstrap "$tree" "$dir" "$3"
	# debootstrap's own dependency order breaks on a long --include list
	# (seen: lintian's perl modules left unconfigured): apt installs them.
	lb_tree_apt "$tree" "$dir" "$4" "$5"
	lb_tree_no_initramfs "$tree"
	DEBIAN_FRONTEND=noninteractive lb_chroot "$tree" sh -c "$6" >>"$dir/packages.log" 2>&1 ||
		lb_die "installing the kernels failed (see $dir/packages.log)"
}

lb_tree_release() { # SUITE
	local m=$LB_TREE_MIRROR s=$LB_TREE_SECURITY_MIRROR sources kernels
	local packages="build-essential debhelper dpkg-dev fakeroot lintian libblkid-dev libkmod-dev
	pkg-config initramfs-tools busybox kmod udev e2fsprogs zstd xz-utils ntfs-3g"
	case $1 in
	bookworm)
		# 6.1 is linux-image-amd64; the newest 6.12 of the security archive.
		sources="deb $m bookworm main
deb $s bookworm-security main"
		# shellcheck disable=SC2016 # run by the tree's sh
		kernels='apt-get install -y -q --no-install-recommends linux-image-amd64 \
		$(apt-cache search --names-only "^linux-image-6\.12\.[0-9]+\+deb12-amd64\$" |
			cut -d" " -f1 | sort -V | tail -n 1)'
		;;
	trixie)
		sources="deb $m trixie main
deb $m trixie-backports main"
		kernels='apt-get install -y -q --no-install-recommends linux-image-amd64 &&
		apt-get install -y -q --no-install-recommends -t trixie-backports linux-image-amd64'
		;;
	*)
		echo "no release tree for suite '$1' (bookworm, trixie)" >&2
		return 1
		;;
	esac
	lb_tree "release-$1" tree_release_build "$1" "$sources" "$packages" "$kernels"
}

# --- tests/boot/esp.sh's system ------------------------------------------------------
# What a user of --esp has installed, and what the boot needs; busybox and
# initramfs-tools are the package's own dependencies, installed here
# first so that the package goes in at each run with dpkg alone.  Debian
# 12's 6.1 has no ntfs3: the host through ntfs-3g.
tree_esp_build() { # TREE DIR SUITE PACKAGES
	local tree=$1 dir=$2
	lb_tree_debootstrap "$tree" "$dir" "$3"
	lb_tree_apt "$tree" "$dir" "deb $LB_TREE_MIRROR $3 main" initramfs-tools
	lb_tree_no_initramfs "$tree"
	lb_tree_apt "$tree" "$dir" "deb $LB_TREE_MIRROR $3 main" "$4"
	rm -f "$tree/var/lib/apt/lists"/*_Packages
}

lb_tree_esp() { # SUITE
	local packages="initramfs-tools busybox udev kmod e2fsprogs zstd efibootmgr
	shim-signed grub-efi-amd64-signed linux-image-amd64 grub-pc-bin xorriso mtools"
	[ "$1" != bookworm ] || packages="$packages ntfs-3g"
	lb_tree "esp-$1" tree_esp_build "$1" "$packages" "$LB_TREE_MIRROR"
}

# --- tests/system/run's system --------------------------------------------------------
# systemd in a minbase tree; the test's own files are added at each run.
tree_system_build() { # TREE DIR SUITE INCLUDE
	lb_tree_debootstrap "$1" "$2" "$3" --include="$4"
}

lb_tree_system() { # SUITE
	lb_tree "system-$1" tree_system_build "$1" systemd-sysv,udev,kmod "$LB_TREE_MIRROR"
}

# --- the benchmark's system -------------------------------------------------------------
# Debian 13 with systemd and fio; the .debs of the packages apt-get
# installs in the benchmark (BENCH_PKGS: leaves of a minbase system, some
# small, one large) kept in /var/local/lbbench-debs, the packages
# themselves purged again.
LB_TREE_BENCH_PKGS="vim-tiny vim-common less bc file libmagic1t64 libmagic-mgc tree libicu76"
tree_bench_build() { # TREE DIR INCLUDE BENCH_PKGS
	local tree=$1 dir=$2 p
	lb_tree_debootstrap "$tree" "$dir" trixie --include="$3"
	mkdir -p "$tree/var/local/lbbench-debs"
	for p in $4; do
		cp "$tree/var/cache/apt/archives/${p}_"*.deb "$tree/var/local/lbbench-debs/" ||
			lb_die "no .deb of $p in the debootstrapped tree"
	done
	# shellcheck disable=SC2086 # a list of names
	lb_chroot "$tree" dpkg --purge $4 >"$dir/purge.log" 2>&1 ||
		lb_die "dpkg --purge in the tree failed (see $dir/purge.log)"
}

lb_tree_bench() {
	lb_tree bench tree_bench_build systemd-sysv,udev,kmod,fio,vim-tiny,less,bc,file,tree,libicu76 \
		"$LB_TREE_BENCH_PKGS" "$LB_TREE_MIRROR"
}
