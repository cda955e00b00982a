/* Writing NTFS structures, for the test tools and unit tests only.
 *
 * ntfs-mutate edits test images and the unit tests build records in
 * memory with these; the installed tools only read, so none of this is
 * linked into them (the Makefile links tests/lib into tests/ only).
 */
#ifndef LOOPBOOT_NTFS_EDIT_H
#define LOOPBOOT_NTFS_EDIT_H

#include "ntfs.h"

static inline void ntfs_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void ntfs_put32(uint8_t *p, uint32_t v)
{
	ntfs_put16(p, (uint16_t)v);
	ntfs_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void ntfs_put64(uint8_t *p, uint64_t v)
{
	ntfs_put32(p, (uint32_t)v);
	ntfs_put32(p + 4, (uint32_t)(v >> 32));
}

/* The reverse of ntfs_fixup_apply(): bumps the sequence number and
 * stores it at the end of every 512-byte block.  0 or -EUCLEAN. */
int ntfs_fixup_protect(uint8_t *rec, size_t size);

/* Byte offset of MFT record `recno` in the volume, through $MFT's own
 * runlist.  0 or negative errno (-EMEDIUMTYPE: not a readable NTFS
 * volume; -ENOENT: no such record, or not in a run). */
int ntfs_mft_record_offset(const struct ntfs_dev *dev, uint64_t recno,
			   uint64_t *off, uint32_t *record_size);

/* Byte offset of the first byte of $LogFile's data, and its size. */
int ntfs_logfile_location(const struct ntfs_dev *dev, uint64_t *off,
			  uint64_t *size);

#endif
