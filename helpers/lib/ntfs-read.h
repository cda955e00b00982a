/* Reading an NTFS volume: the layer under ntfs_probe().
 *
 * Inside the library (and its test tools) only: ntfs.h is the interface.
 * Reads go through struct ntfs_dev's callback in whole device blocks;
 * MFT records are found through $MFT's own runlist, attributes through
 * $ATTRIBUTE_LIST.  Whatever on the volume makes a read impossible is
 * -EUCLEAN, with the first reason kept in vol->why for the verdict; other
 * negative errno values come from the read callback or from memory
 * allocation.
 */
#ifndef LOOPBOOT_NTFS_READ_H
#define LOOPBOOT_NTFS_READ_H

#include "ntfs.h"

/* An attribute's runlist, all extents: sorted by VCN, contiguous. */
struct ntfs_runs {
	struct ntfs_run *v;
	size_t n, cap;
	int64_t next_vcn;
};

/* One attribute, all its extents. */
struct ntfs_attr_val {
	int resident;
	uint8_t *value;		/* resident: a copy */
	size_t value_len;
	struct ntfs_runs runs;
	uint64_t data_size, init_size;
	uint16_t flags;
};

struct ntfs_vol {
	const struct ntfs_dev *dev;
	struct ntfs_boot boot;
	struct ntfs_attr_val mft;	/* $MFT's $DATA */
	uint8_t *bounce;
	size_t bounce_len;
	char why[256];		/* what was corrupt, for the detail line */
};

/* Starts reading `dev` (every field of *p set): checks the block size and
 * parses the boot sector into p->boot.  0: an NTFS volume; 1: not one
 * that can be read, and *state and *why (a static string) say what it is;
 * or a negative errno (-EINVAL: a block size we cannot use).  Then
 * ntfs_vol_close() whatever it returned. */
int ntfs_vol_open(struct ntfs_vol *p, const struct ntfs_dev *dev,
		  enum ntfs_state *state, const char **why);
void ntfs_vol_close(struct ntfs_vol *p);

/* Records the first reason for a corrupt verdict; returns -EUCLEAN. */
__attribute__((format(printf, 2, 3)))
int ntfs_corrupt(struct ntfs_vol *p, const char *fmt, ...);

/* Reads volume bytes, widening the request to the device's blocks. */
int ntfs_vol_read(struct ntfs_vol *p, uint64_t off, void *buf, size_t len);

/* Loads $MFT's data attribute into p->mft from record 0 (`rec`: a
 * record-sized buffer); needed by everything below. */
int ntfs_load_mft(struct ntfs_vol *p, uint8_t *rec);

/* Reads and loads MFT record `recno` (fixups applied) into `buf`. */
int ntfs_read_record(struct ntfs_vol *p, uint64_t recno, uint8_t *buf);

/* Reads `len` bytes at `off` of an attribute's data through its runs. */
int ntfs_stream_read(struct ntfs_vol *p, const struct ntfs_runs *rl,
		     uint64_t off, uint8_t *buf, size_t len);

/* Finds attribute `type`/`name` of the file whose base record `rec` is
 * record `recno`, following $ATTRIBUTE_LIST into extension records.
 * With first_only, stops after the extent at VCN 0.  1 found (and *out,
 * for ntfs_attr_val_free()), 0 none. */
int ntfs_load_attr(struct ntfs_vol *p, uint64_t recno, const uint8_t *rec,
		   uint32_t type, const char *name, int first_only,
		   struct ntfs_attr_val *out);
void ntfs_attr_val_free(struct ntfs_attr_val *v);

#endif
