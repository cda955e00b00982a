# shellcheck shell=bash
# Which loopboot-mkmedia the media tests run: the installed one, as a user
# has it; the source tree's before the package installs it (LB_MKMEDIA
# chooses).  Sets $mkmedia; for the source tree's, its library and
# cmdline-get (built when missing) too.
# shellcheck source=base.sh
. "$(dirname "${BASH_SOURCE[0]}")/base.sh"
mkmedia=${LB_MKMEDIA:-/usr/sbin/loopboot-mkmedia}
if [ ! -x "$mkmedia" ]; then
	mkmedia=$LB_TOP/helpers/loopboot-mkmedia
fi
case $mkmedia in
"$LB_TOP"/*)
	echo "# testing the source tree's $mkmedia"
	export LOOPBOOT_LIB=$LB_TOP/scripts/loopboot
	[ -x "$LB_TOP/build/bin/cmdline-get" ] || make -C "$LB_TOP" -s build/bin/cmdline-get
	PATH=$LB_TOP/build/bin:$PATH
	;;
esac
