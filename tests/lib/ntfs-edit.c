/* Writing NTFS structures, for tests only; see ntfs-edit.h.
 *
 * Built on the library's reader (helpers/lib/ntfs-read.h), so the tools
 * find records exactly where ntfsprobe looks for them.
 */
#include "ntfs-edit.h"
#include "ntfs-read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ntfs_fixup_protect(uint8_t *rec, size_t size)
{
	uint16_t ofs, count, i, usn;
	int err = ntfs_usa_check(rec, size, &ofs, &count);

	if (err)
		return err;
	usn = (uint16_t)(ntfs_le16(rec + ofs) + 1);
	if (usn == 0 || usn == 0xFFFF)
		usn = 1;
	ntfs_put16(rec + ofs, usn);
	for (i = 1; i < count; i++) {
		memcpy(rec + ofs + 2 * i, rec + i * 512u - 2, 2);
		ntfs_put16(rec + i * 512u - 2, usn);
	}
	return 0;
}

int ntfs_mft_record_offset(const struct ntfs_dev *dev, uint64_t recno,
			   uint64_t *off, uint32_t *record_size)
{
	enum ntfs_state state;
	const char *why;
	struct ntfs_vol p;
	uint8_t *rec = NULL;
	int r = ntfs_vol_open(&p, dev, &state, &why);

	if (r > 0)
		r = -EMEDIUMTYPE;
	if (!r) {
		rec = malloc(p.boot.record_size);
		r = rec ? ntfs_load_mft(&p, rec) : -ENOMEM;
	}
	/* Beyond $MFT, recno * record_size could wrap. */
	if (!r && recno > p.mft.data_size / p.boot.record_size - 1)
		r = -ENOENT;
	if (!r) {
		uint64_t cs = p.boot.cluster_size, byte = recno * p.boot.record_size;
		size_t i;

		r = -ENOENT;
		for (i = 0; i < p.mft.runs.n; i++) {
			const struct ntfs_run *run = &p.mft.runs.v[i];
			uint64_t vcn = byte / cs;

			/* In the volume, so the byte offset cannot wrap. */
			if (run->lcn >= 0 && vcn >= (uint64_t)run->vcn &&
			    vcn - (uint64_t)run->vcn < run->len &&
			    (uint64_t)run->lcn + (vcn - (uint64_t)run->vcn) <
				    p.boot.clusters) {
				*off = ((uint64_t)run->lcn + vcn - (uint64_t)run->vcn) * cs +
				       byte % cs;
				*record_size = p.boot.record_size;
				r = 0;
			}
		}
	}
	free(rec);
	ntfs_vol_close(&p);
	return r;
}

int ntfs_logfile_location(const struct ntfs_dev *dev, uint64_t *off,
			  uint64_t *size)
{
	enum ntfs_state state;
	const char *why;
	struct ntfs_attr_val lg;
	struct ntfs_vol p;
	uint8_t *rec = NULL;
	int r = ntfs_vol_open(&p, dev, &state, &why);

	memset(&lg, 0, sizeof(lg));
	if (r > 0)
		r = -EMEDIUMTYPE;
	if (!r) {
		rec = malloc(p.boot.record_size);
		r = rec ? ntfs_load_mft(&p, rec) : -ENOMEM;
	}
	if (!r)
		r = ntfs_read_record(&p, NTFS_REC_LOGFILE, rec);
	if (!r) {
		r = ntfs_load_attr(&p, NTFS_REC_LOGFILE, rec, NTFS_AT_DATA, NULL,
				   0, &lg);
		if (r == 1 && !lg.resident && lg.runs.n && lg.runs.v[0].lcn >= 0 &&
		    (uint64_t)lg.runs.v[0].lcn < p.boot.clusters) {
			*off = (uint64_t)lg.runs.v[0].lcn * p.boot.cluster_size;
			*size = lg.data_size;
			r = 0;
		} else if (r >= 0) {
			r = -ENOENT;
		}
	}
	free(rec);
	ntfs_vol_close(&p);
	ntfs_attr_val_free(&lg);
	return r;
}