/* NTFS volume state: is a read-write mount safe?
 *
 * ntfs_probe() reads a volume through a callback, so the same code runs on
 * a device and, in the fuzzer, on a memory buffer, and judges it with the
 * pure functions of ntfs-format.h.  Errors: negative errno values from the
 * read callback or from memory allocation.
 */
#ifndef LOOPBOOT_NTFS_H
#define LOOPBOOT_NTFS_H

#include "ntfs-format.h"

/* ---- The whole volume ---- */

enum ntfs_state {
	NTFS_SAFE,
	NTFS_NOT_NTFS,
	NTFS_CORRUPT,
	NTFS_HIBERNATED,
	NTFS_FAST_STARTUP,
	NTFS_DIRTY,
	NTFS_UNCLEAN_JOURNAL,
	NTFS_BITLOCKER,
};

/* safe, not-ntfs, corrupt, hibernated, fast-startup, dirty,
 * unclean-journal, bitlocker. */
const char *ntfs_state_name(enum ntfs_state s);

struct ntfs_dev {
	/* Reads exactly len bytes at off: 0, or a negative errno. */
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len);
	void *ctx;
	uint64_t size;		/* bytes */
	uint32_t block_size;	/* reads start and end on this boundary */
};

struct ntfs_result {
	enum ntfs_state state;
	char detail[512];	/* one line, for humans */
	uint16_t volume_flags;
	uint8_t major, minor;
	enum ntfs_log_state log;
	int hiberfil;		/* -1: none; else enum ntfs_hiber */
};

/* Reads the volume and decides.  0 with *r filled, or a negative errno
 * when the device could not be read (or memory ran out). */
int ntfs_probe(const struct ntfs_dev *dev, struct ntfs_result *r);

#endif
