/* FAT12/16/32 and exFAT volume state, read from bytes: may a read-write
 * mount go ahead?
 *
 * Windows keeps its FAT and exFAT volumes mounted across hibernation and
 * Fast Startup and records "in use" on them once it has written:
 *   - FAT12/16: bit 0 of byte 0x25 of the boot sector ("dirty"; Linux's
 *     fat driver and fsck.fat use it too); FAT16 also FAT[1] bit 15
 *     (ClnShutBitMask: clear = not cleanly unmounted) and bit 14
 *     (HrdErrBitMask: clear = a disk I/O error was met);
 *   - FAT32: byte 0x41 bit 0; FAT[1] bits 27 and 26, same meanings;
 *   - FAT12 has no such bits in FAT[1]: only the boot sector flag;
 *   - exFAT: VolumeFlags (boot sector offset 106, 16 bits LE): bit 1
 *     VolumeDirty, bit 2 MediaFailure (bit 0 ActiveFat).  These bytes are
 *     left out of the boot region checksum, so Windows flips them freely.
 * Facts: ../../../shared/reference/boot-facts.md section 9, Microsoft's
 * FAT specification and exFAT specification, Linux fs/fat and fs/exfat.
 *
 * Same conventions as ntfs.h: pure functions, no printing; -EMEDIUMTYPE
 * "not this file system", -EUCLEAN "a FAT or exFAT signature with
 * impossible geometry" (corrupt: fail closed), other negative errno values
 * from the read callback.
 */
#ifndef LOOPBOOT_FAT_H
#define LOOPBOOT_FAT_H

#include <stddef.h>
#include <stdint.h>

#include "ntfs.h"	/* struct ntfs_dev: the read callback */

enum fat_kind {
	FAT_KIND_FAT12 = 12,
	FAT_KIND_FAT16 = 16,
	FAT_KIND_FAT32 = 32,
	FAT_KIND_EXFAT = 64,
};

/* Bits in fat_boot.flags / fat_result.flags: what the volume records. */
#define FAT_FLAG_BOOT_DIRTY	0x01	/* FAT12/16/32 boot sector dirty bit */
#define FAT_FLAG_NOT_CLEAN	0x02	/* FAT16/32 FAT[1] clean bit clear */
#define FAT_FLAG_HARD_ERROR	0x04	/* FAT16/32 FAT[1] hard error bit clear */
#define FAT_FLAG_EXFAT_DIRTY	0x08	/* exFAT VolumeDirty */
#define FAT_FLAG_MEDIA_FAILURE	0x10	/* exFAT MediaFailure */

#define FAT_FLAGS_UNSAFE 0x1F		/* every flag above */

#define FAT_FAT16_CLEAN		0x8000u
#define FAT_FAT16_HARD_ERROR	0x4000u
#define FAT_FAT32_CLEAN		0x08000000u
#define FAT_FAT32_HARD_ERROR	0x04000000u
#define FAT_EXFAT_FLAGS_OFFSET	106
#define FAT_EXFAT_DIRTY		0x0002u
#define FAT_EXFAT_MEDIA_FAILURE	0x0004u

struct fat_boot {
	enum fat_kind kind;
	uint32_t sector_size;		/* bytes */
	uint32_t cluster_size;		/* bytes */
	uint32_t clusters;		/* data clusters */
	uint64_t volume_size;		/* bytes the file system covers */
	uint64_t fat_offset;		/* bytes: first sector of the active FAT */
	uint16_t exfat_flags;		/* exFAT VolumeFlags */
	unsigned flags;			/* FAT_FLAG_BOOT_DIRTY, _EXFAT_DIRTY,
					 * _MEDIA_FAILURE */
};

/* Parses a boot sector (len >= 512; for sectors larger than 512 bytes the
 * whole sector is not needed).  0 with *b filled; -EMEDIUMTYPE when it is
 * neither FAT nor exFAT (NTFS, BitLocker, no signature); -EUCLEAN when
 * the signature is there but the geometry is impossible. */
int fat_boot_parse(const uint8_t *sector, size_t len, struct fat_boot *b);

/* The FAT[1] flags (FAT_FLAG_NOT_CLEAN, FAT_FLAG_HARD_ERROR) from the
 * first bytes of the active FAT (at least 8 for FAT32, 4 for FAT16; fat
 * may be NULL when len is 0).  FAT12 and exFAT have none: 0.  -EUCLEAN
 * when `len` is too short to hold FAT[1]. */
int fat_fat1_flags(const struct fat_boot *b, const uint8_t *fat, size_t len,
		   unsigned *flags);

enum fat_state {
	FAT_SAFE,
	FAT_NOT_FAT,
	FAT_CORRUPT,
	FAT_DIRTY,		/* any FAT_FLAGS_UNSAFE bit */
};

/* safe, not-fat, corrupt, dirty. */
const char *fat_state_name(enum fat_state s);

/* "FAT12", "FAT16", "FAT32", "exFAT". */
const char *fat_kind_name(enum fat_kind k);

struct fat_result {
	enum fat_state state;
	enum fat_kind kind;		/* when not FAT_NOT_FAT */
	unsigned flags;			/* FAT_FLAG_* found */
	char detail[256];		/* one line, for humans */
};

/* Judges a boot sector and the first bytes of its active FAT (fat may be
 * NULL for exFAT).  Always fills *r; returns 0. */
int fat_judge(const uint8_t *boot, size_t boot_len, const uint8_t *fat,
	      size_t fat_len, uint64_t device_size, struct fat_result *r);

/* Reads the boot sector and the first block of the active FAT through
 * dev (block-aligned reads inside the device) and judges them.  0 with
 * *r filled, or a negative errno when the device could not be read. */
int fat_probe(const struct ntfs_dev *dev, struct fat_result *r);

#endif
