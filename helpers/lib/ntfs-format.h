/* NTFS on-disk structures, read from bytes.
 *
 * Pure functions over buffers (no printing, no exits, no device): what a
 * boot sector, an MFT record, an attribute, a runlist, $Volume, a $LogFile
 * restart page, an index and hiberfil.sys's first page say.  ntfs.h reads
 * a whole volume with them.  Layout facts:
 * ../../../shared/reference/boot-facts.md section 5 (and the layout headers
 * of ntfs-3g and the kernel, which agree with it).
 *
 * Errors: -EUCLEAN means "the bytes do not form a valid structure"
 * (corrupt).
 */
#ifndef LOOPBOOT_NTFS_FORMAT_H
#define LOOPBOOT_NTFS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Limits that keep a hostile volume from making us loop or allocate
 * without end.  Real volumes stay far below them; above them we fail
 * closed (corrupt). */
#define NTFS_MAX_CLUSTER (2u << 20)	/* Windows allows up to 2 MiB */
#define NTFS_MAX_RUNS 65536		/* per attribute, all extents */
#define NTFS_MAX_ATTR_LIST (256u << 10)	/* bytes of $ATTRIBUTE_LIST */
#define NTFS_MAX_INDEX_BLOCKS (1u << 20) /* root directory index blocks */

static inline uint16_t ntfs_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t ntfs_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t ntfs_le64(const uint8_t *p)
{
	return (uint64_t)ntfs_le32(p) | (uint64_t)ntfs_le32(p + 4) << 32;
}

static inline int ntfs_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- Boot sector ---- */

#define NTFS_BOOT_BITLOCKER 1	/* ntfs_boot_parse(): "-FVE-FS-" volume */

struct ntfs_boot {
	uint32_t sector_size;
	uint32_t cluster_size;
	uint32_t record_size;		/* of an MFT record, bytes */
	uint32_t index_block_size;	/* default, bytes */
	uint64_t volume_size;		/* bytes covered by the file system */
	uint64_t clusters;
	uint64_t mft_lcn, mftmirr_lcn;
	uint64_t serial;
};

/* 0: valid NTFS; NTFS_BOOT_BITLOCKER; -EMEDIUMTYPE: no NTFS or BitLocker
 * signature; -EUCLEAN: NTFS signature with impossible geometry. */
int ntfs_boot_parse(const uint8_t *sector, size_t len, struct ntfs_boot *b);

/* ---- Multi-sector records (FILE, INDX, RSTR) ---- */

/* Checks and removes the update sequence fixups of a record of `size`
 * bytes (a multiple of 512): 0, or -EUCLEAN when the array is out of place
 * or a 512-byte block does not end with the sequence number (torn write). */
int ntfs_fixup_apply(uint8_t *rec, size_t size);

/* Where the update sequence array of a record of `size` bytes lies (*ofs)
 * and how many words it holds (*count, one more than the blocks): 0, or
 * -EUCLEAN when `size` is not a multiple of 512 or the array does not fit
 * in the first block, before its protected word. */
int ntfs_usa_check(const uint8_t *rec, size_t size, uint16_t *ofs,
		   uint16_t *count);

/* Magic "FILE", fixups, header fields inside the record.  0 or -EUCLEAN. */
int ntfs_record_load(uint8_t *rec, size_t size);

#define NTFS_RECORD_IN_USE 0x0001
#define NTFS_RECORD_IS_DIR 0x0002

/* ---- Attributes ---- */

enum {
	NTFS_AT_ATTRIBUTE_LIST = 0x20,
	NTFS_AT_FILE_NAME = 0x30,
	NTFS_AT_VOLUME_INFORMATION = 0x70,
	NTFS_AT_DATA = 0x80,
	NTFS_AT_INDEX_ROOT = 0x90,
	NTFS_AT_INDEX_ALLOCATION = 0xA0,
	NTFS_AT_BITMAP = 0xB0,
	NTFS_AT_END = 0xFFFFFFFF,
};

#define NTFS_ATTR_COMPRESSED 0x00FF
#define NTFS_ATTR_ENCRYPTED 0x4000

struct ntfs_attr {
	uint32_t type;
	uint32_t length;
	size_t offset;			/* in the record */
	uint8_t non_resident;
	uint8_t name_len;		/* UTF-16 units */
	const uint8_t *name;
	uint16_t flags;
	const uint8_t *value;		/* resident */
	uint32_t value_len;
	int64_t lowest_vcn, highest_vcn;	/* non-resident */
	const uint8_t *runs;
	size_t runs_len;
	uint64_t alloc_size, data_size, init_size;
};

/* Walks a loaded record's attributes: start with *pos = 0.  1: *a filled,
 * 0: end marker, -EUCLEAN: a length or offset leaves the record. */
int ntfs_attr_next(const uint8_t *rec, size_t size, size_t *pos,
		   struct ntfs_attr *a);

/* First attribute of `type` named `name` (ASCII; NULL = unnamed).
 * 1 found, 0 none, -EUCLEAN. */
int ntfs_attr_find(const uint8_t *rec, size_t size, uint32_t type,
		   const char *name, struct ntfs_attr *a);

/* True when the attribute's name equals `name` (NULL: it has none). */
int ntfs_attr_named(const struct ntfs_attr *a, const char *name);

/* True when the UTF-16LE name equals the ASCII one (exactly). */
int ntfs_name_is(const uint8_t *utf16, size_t units, const char *ascii);

/* As ntfs_name_is, without case: ASCII letters fold, and so do U+0131 and
 * U+017F, whose upper case is I and S (stricter than needed: fail closed). */
int ntfs_name_is_nocase(const uint8_t *utf16, size_t units,
			const char *ascii);

/* ---- Runlists (mapping pairs) ---- */

struct ntfs_run {
	int64_t vcn;
	int64_t lcn;		/* -1: sparse (reads as zeros) */
	uint64_t len;		/* clusters, > 0 */
};

/* Decodes mapping pairs starting at `vcn` into out[0..max).  Number of
 * runs, -EUCLEAN (bad encoding, no terminator, negative LCN, overflow) or
 * -E2BIG (more than max runs). */
int ntfs_runlist_decode(const uint8_t *p, size_t len, int64_t vcn,
			struct ntfs_run *out, size_t max);

/* ---- $Volume ---- */

#define NTFS_VOLUME_DIRTY 0x0001
/* Flags after which the kernel (ntfs3) mounts read-only only: dirty,
 * resize log file, upgrade on mount, repair object id, chkdsk underway,
 * modified by chkdsk. */
#define NTFS_VOLUME_UNSAFE_MASK 0xC027

/* From a loaded $Volume record: 0, or -ENOENT (no attribute 0x70),
 * -EUCLEAN. */
int ntfs_volume_info(const uint8_t *rec, size_t size, uint16_t *flags,
		     uint8_t *major, uint8_t *minor);

/* ---- $LogFile ---- */

/* CLEAN < UNCLEAN < FAST_STARTUP: worse is greater (ntfs_logfile_state()
 * relies on it). */
enum ntfs_log_state {
	NTFS_LOG_EMPTY,		/* all 0xFF: emptied after a clean unmount */
	NTFS_LOG_CLEAN,
	NTFS_LOG_UNCLEAN,	/* a client in use, no "clean" flag */
	NTFS_LOG_FAST_STARTUP,	/* restart page version 2.0 */
	NTFS_LOG_INVALID,	/* not empty, and no valid restart page */
};

/* Judges the first `len` bytes of $LogFile (enough for both restart
 * pages: NTFS_LOG_READ bytes or the whole file if shorter).  Fixups are
 * applied in place.  The newer of the two restart pages (by LSN) decides,
 * as in ntfs-3g; a torn page counts (for its LSN and version, never as
 * clean) when its restart area lies in its intact first sector.  When a
 * restart page's place holds something else than a usable page or 0xFF
 * (torn beyond the first sector, unknown version, garbage), or a third
 * page turns up, the pages cannot be ordered: NTFS_LOG_UNCLEAN. */
#define NTFS_LOG_READ (128u * 1024)
enum ntfs_log_state ntfs_logfile_state(uint8_t *buf, size_t len);

/* ---- Directory index ---- */

/* Searches the entries under an INDEX_HEADER (`hdr`, `avail` bytes from
 * hdr to the end of the buffer) for a file name equal, without case, to
 * `ascii`.  1 (and *mref), 0 not there, -EUCLEAN. */
int ntfs_index_find(const uint8_t *hdr, size_t avail, const char *ascii,
		    uint64_t *mref);

/* ---- hiberfil.sys ---- */

enum ntfs_hiber {
	NTFS_HIBER_ZERO,	/* all zero: normal shutdown (safe) */
	NTFS_HIBER_WAKE,	/* "wake"/"WAKE": image spent (safe) */
	NTFS_HIBER_HIBR,	/* "hibr"/"HIBR": hibernated */
	NTFS_HIBER_RSTR,	/* "RSTR": resume in progress */
	NTFS_HIBER_SHORT,	/* fewer than 4096 bytes */
	NTFS_HIBER_OTHER,	/* anything else: unknown, so unsafe */
};
#define NTFS_HIBER_PAGE 4096

/* Judges the first `len` bytes of hiberfil.sys (len < 4096: short). */
enum ntfs_hiber ntfs_hiberfil_judge(const uint8_t *page, size_t len);
int ntfs_hiber_is_safe(enum ntfs_hiber h);

/* ---- System files: their MFT record numbers ---- */

#define NTFS_REC_MFT 0
#define NTFS_REC_MFTMIRR 1
#define NTFS_REC_LOGFILE 2
#define NTFS_REC_VOLUME 3
#define NTFS_REC_ROOT 5

#endif
