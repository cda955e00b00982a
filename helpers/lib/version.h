/* The package version, for --version.
 *
 * One source: debian/changelog.  The Makefile reads it there and passes
 * -DLOOPBOOT_VERSION; a build that bypasses it must not print a made-up
 * version, so it fails here instead.
 */
#ifndef LOOPBOOT_VERSION_H
#define LOOPBOOT_VERSION_H

#ifndef LOOPBOOT_VERSION
#error "LOOPBOOT_VERSION is not defined: build with make, which takes it from debian/changelog"
#endif

#endif
