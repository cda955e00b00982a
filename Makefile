# loopboot: boot a Linux root file system stored in a file on a Windows
# (or other) partition, through Debian's initramfs-tools.
#
#   make            build the helpers
#   make demo       build the package, make a demo disk, boot it in QEMU
#   make check      every test (installs what it needs with apt-get)
#   make fuzz       the fuzz targets, at length
#   make bench      benchmarks (results in build/bench)
#   make deb        ../loopboot_<version>_<arch>.deb

CC       ?= cc
CLANG    ?= clang
CFLAGS   ?= -O2 -g
CPPFLAGS ?=
LDFLAGS  ?=
WARN      = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
ALL_CFLAGS = $(WARN) -Ihelpers/lib $(CPPFLAGS) $(CFLAGS)
SAN_FLAGS  = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer

DESTDIR  ?=
prefix   ?= /usr
sbindir  ?= $(prefix)/sbin
datadir  ?= $(prefix)/share
mandir   ?= $(datadir)/man
sysconfdir ?= /etc

TOOLS     = cmdline-get ntfsprobe loopattach ioflusher
LIB_SRC   = $(wildcard helpers/lib/*.c)
LIB_HDR   = $(wildcard helpers/lib/*.h)
UNIT_SRC  = $(wildcard tests/unit/test-*.c)
FUZZ_SRC  = $(wildcard tests/fuzz/fuzz-*.c)
TOOL_SRC  = $(wildcard tests/tools/*.c)
TEST_HDR  = $(wildcard tests/unit/*.h tests/fuzz/*.h tests/lib/*.h)
# Code only the tests use (writers for test images): linked into
# tests/unit and tests/tools, never into the installed tools.
TLIB_SRC  = $(wildcard tests/lib/*.c)

# One version for every tool: debian/changelog's (its first line when
# dpkg-parsechangelog is not installed).
LOOPBOOT_VERSION := $(shell dpkg-parsechangelog -S Version 2>/dev/null || \
	sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
ifeq ($(LOOPBOOT_VERSION),)
$(error no version in debian/changelog)
endif
VERSION_DEF = -DLOOPBOOT_VERSION='"$(LOOPBOOT_VERSION)"'

# Libraries each tool links; the unit tests link them all.
LIBS_cmdline-get =
LIBS_ntfsprobe   = -lblkid
LIBS_loopattach  = -lkmod
LIBS_ioflusher   =
LIBS_ALL         = -lblkid -lkmod

B = build

.PHONY: all clean install deps deb demo check check-c check-unit fuzz bench \
	lint unit-tests
all: $(TOOLS:%=$(B)/bin/%)

# One set of rules per build variant: $(1) output dir, $(2) extra flags.
define variant
$(1)/lib/%.o: helpers/lib/%.c $(LIB_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $(2) -c -o $$@ $$<
$(1)/libloopboot.a: $(patsubst helpers/lib/%.c,$(1)/lib/%.o,$(LIB_SRC))
	$$(AR) rcs $$@ $$^
$(1)/bin/%: helpers/%.c $(1)/libloopboot.a debian/changelog
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(VERSION_DEF) $(2) $$(LDFLAGS) -o $$@ $$< $(1)/libloopboot.a $$(LIBS_$$*)
$(1)/tlib/%.o: tests/lib/%.c $(LIB_HDR) $(TEST_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -Itests/lib $(2) -c -o $$@ $$<
$(1)/libloopboot-test.a: $(patsubst tests/lib/%.c,$(1)/tlib/%.o,$(TLIB_SRC))
	$$(AR) rcs $$@ $$^
$(1)/test/%: tests/unit/%.c $(1)/libloopboot-test.a $(1)/libloopboot.a $(TEST_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -Itests/unit -Itests/lib $(2) $$(LDFLAGS) -o $$@ $$< $(1)/libloopboot-test.a $(1)/libloopboot.a $$(LIBS_ALL)
$(1)/tools/%: tests/tools/%.c $(1)/libloopboot-test.a $(1)/libloopboot.a $(TEST_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) -Itests/lib $(2) $$(LDFLAGS) -o $$@ $$< $(1)/libloopboot-test.a $(1)/libloopboot.a $$(LIBS_ALL)
endef
$(eval $(call variant,$(B),))
$(eval $(call variant,$(B)/asan,$(SAN_FLAGS)))

# libFuzzer targets (clang): the library is rebuilt with clang's sanitizers.
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(LIB_HDR) $(TEST_HDR)
	@mkdir -p $(@D)
	$(CLANG) $(WARN) -Ihelpers/lib $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(LIBS_ALL)

UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(B)/asan/test/%)
FUZZ_BINS = $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
TEST_TOOLS = $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
unit-tests: $(UNIT_BINS) $(TOOLS:%=$(B)/asan/bin/%) $(TEST_TOOLS) all

clean:
	rm -rf $(B)

install: all
	install -d $(DESTDIR)$(sbindir)
	install -m 0755 $(TOOLS:%=$(B)/bin/%) $(DESTDIR)$(sbindir)/
	install -d $(DESTDIR)$(datadir)/loopboot
	install -m 0644 scripts/loopboot-functions $(DESTDIR)$(datadir)/loopboot/functions
	install -m 0644 $(BOOT_PARTS:%=scripts/loopboot/%) $(DESTDIR)$(datadir)/loopboot/
	install -m 0755 scripts/loopboot/shutdown $(DESTDIR)$(datadir)/loopboot/shutdown
	install -d $(DESTDIR)$(sysconfdir)/initramfs-tools/hooks \
		$(DESTDIR)$(sysconfdir)/initramfs-tools/conf.d
	install -m 0755 hooks/loopboot $(DESTDIR)$(sysconfdir)/initramfs-tools/hooks/loopboot
	for stage in init-top local-premount local-bottom panic; do \
		install -d $(DESTDIR)$(sysconfdir)/initramfs-tools/scripts/$$stage; \
		install -m 0755 scripts/$$stage/loopboot \
			$(DESTDIR)$(sysconfdir)/initramfs-tools/scripts/$$stage/loopboot; \
	done
	install -m 0644 conf/loopboot $(DESTDIR)$(sysconfdir)/initramfs-tools/conf.d/loopboot
	install -m 0755 helpers/loopboot-mkmedia $(DESTDIR)$(sbindir)/loopboot-mkmedia
	for tool in loopboot-create loopboot-grow; do \
		sed 's/@VERSION@/$(LOOPBOOT_VERSION)/' helpers/$$tool >$(DESTDIR)$(sbindir)/$$tool && \
		chmod 0755 $(DESTDIR)$(sbindir)/$$tool || exit 1; \
	done
	install -d $(DESTDIR)$(sysconfdir)/loopboot \
		$(DESTDIR)$(sysconfdir)/initramfs/post-update.d
	install -m 0644 conf/loopboot-mkmedia $(DESTDIR)$(sysconfdir)/loopboot/mkmedia.conf
	install -m 0755 helpers/loopboot-mkmedia-refresh \
		$(DESTDIR)$(sysconfdir)/initramfs/post-update.d/loopboot-mkmedia
	install -d $(DESTDIR)$(sysconfdir)/kernel/postinst.d $(DESTDIR)$(sysconfdir)/kernel/postrm.d
	install -m 0755 helpers/loopboot-kernel-menu $(DESTDIR)$(sysconfdir)/kernel/postinst.d/zz-loopboot-menu
	install -m 0755 helpers/loopboot-kernel-menu $(DESTDIR)$(sysconfdir)/kernel/postrm.d/zz-loopboot-menu

# The sourced parts of the boot logic (scripts/loopboot-functions loads them).
BOOT_PARTS = contract drivers core initramfs-tools shutdown-setup

# Everything the build, the tests and the demo need, from Debian's archive.
deps:
	tests/install-deps

deb:
	dpkg-buildpackage -us -uc -b
	@ls -l ../loopboot_*.deb

# Shell scripts shipped or used by tests (POSIX sh unless they say bash).
SHELL_SCRIPTS = hooks/loopboot scripts/loopboot-functions conf/loopboot \
	$(BOOT_PARTS:%=scripts/loopboot/%) scripts/loopboot/shutdown tests/system/run \
	scripts/init-top/loopboot scripts/local-premount/loopboot \
	scripts/local-bottom/loopboot scripts/panic/loopboot $(wildcard tests/*/*.sh) tests/run \
	tests/install-deps tests/install-deb tests/boot/run tests/boot/demo tests/bench/run \
	tests/release/tree tests/release/prepare tests/parallel tests/trees \
	tests/fuzz/smoke helpers/loopboot-mkmedia helpers/loopboot-mkmedia-refresh helpers/loopboot-kernel-menu \
	helpers/loopboot-create helpers/loopboot-grow conf/loopboot-mkmedia
lint:
	shellcheck -x $(SHELL_SCRIPTS)

# C unit tests only (the package build runs these).
check-c: $(UNIT_BINS)
	tests/run $(UNIT_BINS)

# Fast tiers only: no package install, no QEMU.
check-unit: unit-tests $(FUZZ_BINS)
	tests/run $(UNIT_BINS) "tests/fuzz/smoke $(FUZZ_BINS)" \
		$(wildcard tests/shell/*.sh)

# Everything.  The package is built and installed here first (its build
# cleans build/), then built and installed again in a tree of each Debian
# release (tests/release/prepare), whose kernels and mkinitramfs the image,
# boot and system tiers use.  The debootstrapped trees are cached outside
# build/ for that reason.  Tests that boot one QEMU guest at a time run two
# side by side (tests/parallel), the longest first, so that the last to
# end is a short one; tests/boot/run and tests/system/run do so themselves.  The debootstrapped trees are made first, in the background
# (tests/trees), while the installs, the build and the fast tiers run; the
# tiers wait for a tree still being made.
export LB_SYSTEM_CACHE ?= /var/cache/loopboot-tests
check:
	tests/install-deps debootstrap
	tests/trees start
	tests/install-deps
	tests/install-deb
	$(MAKE) unit-tests $(FUZZ_BINS)
	tests/run "$(MAKE) -s lint && echo 'ok - shellcheck'" \
		$(UNIT_BINS) "tests/fuzz/smoke $(FUZZ_BINS)" \
		$(wildcard tests/shell/*.sh) tests/deb/lintian.sh tests/deb/lifecycle.sh \
		tests/system/shutdown.sh tests/create/refusals.sh tests/create/grow.sh \
		tests/create/stubbed.sh \
		"tests/release/prepare bookworm trixie" \
		"tests/parallel tests/image/size.sh $(filter-out tests/image/size.sh,$(wildcard tests/image/*.sh))" \
		tests/boot/run \
		"tests/parallel 'tests/create/e2e.sh; tests/create/e2e.sh --fs btrfs' \
			'LB_ESP_SUITE=bookworm LB_WORK=$(CURDIR)/build/boot-esp-bookworm tests/boot/esp.sh' \
			tests/boot/esp.sh tests/create/interrupt.sh tests/boot/cmdline-kernel.sh \
			tests/boot/mkmedia.sh tests/boot/mkmedia-follow.sh tests/boot/secureboot.sh" \
		tests/system/run "tests/trees wait"

fuzz: $(FUZZ_BINS)
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/smoke $(FUZZ_BINS)

demo: deps
	tests/install-deb
	tests/release/prepare trixie
	tests/boot/demo

# The benchmark boots the release trees' kernels (their installed package
# builds the initramfs): tests/release/prepare, as for demo.
bench: deps
	tests/release/prepare trixie
	tests/bench/run
	tests/bench/create.sh
