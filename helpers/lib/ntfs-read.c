/* Reading an NTFS volume through struct ntfs_dev; see ntfs-read.h.
 *
 * Every offset and length taken from the volume is checked before it is
 * read (limits: ntfs-format.h).
 */
#include "ntfs-read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ntfs_vol_open(struct ntfs_vol *p, const struct ntfs_dev *dev,
		  enum ntfs_state *state, const char **why)
{
	uint8_t sector[512];
	int r;

	memset(p, 0, sizeof(*p));
	p->dev = dev;
	if (!dev->block_size || !ntfs_pow2(dev->block_size) ||
	    dev->block_size > (1u << 20))
		return -EINVAL;
	if (dev->size < 512) {
		*state = NTFS_NOT_NTFS;
		*why = "the device is too small for a file system";
		return 1;
	}
	p->boot.volume_size = dev->size;	/* bounds the reads for now */
	r = ntfs_vol_read(p, 0, sector, sizeof(sector));
	if (r)
		return r;
	r = ntfs_boot_parse(sector, sizeof(sector), &p->boot);
	if (r == NTFS_BOOT_BITLOCKER) {
		*state = NTFS_BITLOCKER;
		*why = "the volume is encrypted with BitLocker";
		return 1;
	}
	if (r == -EMEDIUMTYPE) {
		*state = NTFS_NOT_NTFS;
		*why = "no NTFS boot sector";
		return 1;
	}
	if (r) {
		*state = NTFS_CORRUPT;
		*why = "the NTFS boot sector holds impossible values";
		return 1;
	}
	if (p->boot.volume_size > dev->size) {
		*state = NTFS_CORRUPT;
		*why = "the device is smaller than the NTFS volume on it (truncated?)";
		return 1;
	}
	return 0;
}

void ntfs_vol_close(struct ntfs_vol *p)
{
	free(p->bounce);
	ntfs_attr_val_free(&p->mft);
	p->bounce = NULL;
	p->bounce_len = 0;
}

void ntfs_attr_val_free(struct ntfs_attr_val *v)
{
	free(v->value);
	free(v->runs.v);
	memset(v, 0, sizeof(*v));
}

/* Records the first reason for a corrupt verdict; returns -EUCLEAN. */
__attribute__((format(printf, 2, 3)))
int ntfs_corrupt(struct ntfs_vol *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->why[0]) {
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
	}
	return -EUCLEAN;
}

/* Reads volume bytes, widening the request to the device's blocks. */
int ntfs_vol_read(struct ntfs_vol *p, uint64_t off, void *buf, size_t len)
{
	const struct ntfs_dev *d = p->dev;
	uint64_t bs = d->block_size, start, end;
	size_t n;
	int err;

	if (off > p->boot.volume_size || len > p->boot.volume_size - off)
		return ntfs_corrupt(p, "a structure points beyond the end of the volume");
	start = off & ~(bs - 1);
	end = (off + len + bs - 1) & ~(bs - 1);
	if (end > d->size)	/* a device whose size is not a block multiple */
		end = d->size;
	n = (size_t)(end - start);
	if (n > p->bounce_len) {
		uint8_t *nb = realloc(p->bounce, n);

		if (!nb)
			return -ENOMEM;
		p->bounce = nb;
		p->bounce_len = n;
	}
	err = d->read(d->ctx, start, p->bounce, n);
	if (err)
		return err < 0 ? err : -EIO;
	memcpy(buf, p->bounce + (off - start), len);
	return 0;
}

/* Reads `len` bytes at `off` of an attribute's data through its runs. */
int ntfs_stream_read(struct ntfs_vol *p, const struct ntfs_runs *rl,
		     uint64_t off, uint8_t *buf, size_t len)
{
	uint64_t cs = p->boot.cluster_size;

	while (len) {
		uint64_t vcn = off / cs, in = off % cs, avail;
		size_t lo = 0, hi = rl->n, n;
		const struct ntfs_run *r = NULL;
		int err;

		while (lo < hi) {	/* runs are sorted and contiguous */
			size_t mid = lo + (hi - lo) / 2;

			if ((uint64_t)rl->v[mid].vcn > vcn)
				hi = mid;
			else if (vcn - (uint64_t)rl->v[mid].vcn >= rl->v[mid].len)
				lo = mid + 1;
			else {
				r = &rl->v[mid];
				break;
			}
		}
		if (!r)
			return ntfs_corrupt(p, "data lies outside its runlist");
		avail = r->len - (vcn - (uint64_t)r->vcn);
		n = len;
		if (avail < (n + in + cs - 1) / cs)
			n = (size_t)(avail * cs - in);
		if (r->lcn < 0) {
			memset(buf, 0, n);
		} else {
			if ((uint64_t)r->lcn + (vcn - (uint64_t)r->vcn) >
			    p->boot.clusters)
				return ntfs_corrupt(p, "a run lies beyond the end of the volume");
			err = ntfs_vol_read(p, ((uint64_t)r->lcn + vcn -
						(uint64_t)r->vcn) * cs + in,
					    buf, n);
			if (err)
				return err;
		}
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Reads and loads MFT record `recno` (fixups applied). */
int ntfs_read_record(struct ntfs_vol *p, uint64_t recno, uint8_t *buf)
{
	uint32_t rs = p->boot.record_size;
	int err;

	if (p->mft.data_size < rs || recno > p->mft.data_size / rs - 1)
		return ntfs_corrupt(p, "MFT record %llu lies beyond $MFT",
				    (unsigned long long)recno);
	err = ntfs_stream_read(p, &p->mft.runs, recno * rs, buf, rs);
	if (err)
		return err;
	if (ntfs_record_load(buf, rs))
		return ntfs_corrupt(p, "MFT record %llu is damaged (bad magic or torn write)",
				    (unsigned long long)recno);
	return 0;
}

static int runs_add(struct ntfs_vol *p, struct ntfs_runs *rl,
		    const struct ntfs_attr *a)
{
	/* Every run takes at least 2 bytes of mapping pairs. */
	size_t room = a->runs_len / 2 + 1;
	struct ntfs_run *last;
	int64_t end;
	int n;

	if (a->lowest_vcn != rl->next_vcn)
		return ntfs_corrupt(p, "an attribute's extents do not follow each other");
	if (rl->n + room > rl->cap) {
		size_t cap = rl->cap ? rl->cap : 64;
		struct ntfs_run *nv;

		while (cap < rl->n + room)
			cap *= 2;
		nv = realloc(rl->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		rl->v = nv;
		rl->cap = cap;
	}
	n = ntfs_runlist_decode(a->runs, a->runs_len, a->lowest_vcn,
				rl->v + rl->n, room);
	if (n < 0)
		return ntfs_corrupt(p, "a runlist is damaged");
	last = n ? rl->v + rl->n + n - 1 : NULL;
	/* highest_vcn comes from the disk: INT64_MAX + 1 would overflow.
	 * (The decoder already checked last->vcn + last->len.) */
	if (__builtin_add_overflow(a->highest_vcn, 1, &end))
		return ntfs_corrupt(p, "an attribute's last VCN is impossible");
	if (last ? last->vcn + (int64_t)last->len != end :
		   a->highest_vcn != a->lowest_vcn - 1)
		return ntfs_corrupt(p, "a runlist does not match its attribute");
	if (rl->n + (size_t)n > NTFS_MAX_RUNS)
		return ntfs_corrupt(p, "an attribute has too many runs");
	rl->n += (size_t)n;
	rl->next_vcn = end;
	return 0;
}

/* Adds one extent (attribute record) to *out. */
static int add_extent(struct ntfs_vol *p, struct ntfs_attr_val *out,
		      const struct ntfs_attr *a, int first)
{
	if (first) {
		out->flags = a->flags;
		if (!a->non_resident) {
			out->resident = 1;
			out->value_len = a->value_len;
			out->value = malloc(a->value_len ? a->value_len : 1);
			if (!out->value)
				return -ENOMEM;
			memcpy(out->value, a->value, a->value_len);
			out->data_size = out->init_size = a->value_len;
			return 0;
		}
		if (a->lowest_vcn != 0)
			return ntfs_corrupt(p, "an attribute's first extent does not start at 0");
		out->data_size = a->data_size;
		out->init_size = a->init_size;
	} else if (!a->non_resident || out->resident) {
		return ntfs_corrupt(p, "a resident attribute has several extents");
	}
	return runs_add(p, &out->runs, a);
}

/* Reads a whole small attribute value (resident or not) into a buffer. */
static int read_small(struct ntfs_vol *p, const struct ntfs_attr *a,
		      size_t max, uint8_t **buf, size_t *len)
{
	struct ntfs_attr_val v;
	int err;

	memset(&v, 0, sizeof(v));
	err = add_extent(p, &v, a, 1);
	if (err)
		goto out;
	if (v.data_size > max) {
		err = ntfs_corrupt(p, "an attribute is implausibly large");
		goto out;
	}
	*len = (size_t)v.data_size;
	if (v.resident) {
		*buf = v.value;
		v.value = NULL;
		goto out;
	}
	*buf = calloc(1, *len ? *len : 1);
	if (!*buf) {
		err = -ENOMEM;
		goto out;
	}
	err = ntfs_stream_read(p, &v.runs, 0, *buf, (size_t)(v.init_size < *len ?
						       v.init_size : *len));
	if (err) {
		free(*buf);
		*buf = NULL;
	}
out:
	ntfs_attr_val_free(&v);
	return err;
}

/* Finds attribute `type`/`name` of the file whose base record `rec` is
 * record `recno`, following $ATTRIBUTE_LIST into extension records.
 * With first_only, stops after the extent at VCN 0.  1 found, 0 none. */
int ntfs_load_attr(struct ntfs_vol *p, uint64_t recno, const uint8_t *rec,
		   uint32_t type, const char *name, int first_only,
		   struct ntfs_attr_val *out)
{
	uint32_t rs = p->boot.record_size;
	struct ntfs_attr a;
	uint8_t *list = NULL, *ext = NULL;
	size_t pos = 0, list_len = 0, off;
	int r, found = 0;

	memset(out, 0, sizeof(*out));
	r = ntfs_attr_find(rec, rs, NTFS_AT_ATTRIBUTE_LIST, NULL, &a);
	if (r < 0)
		return ntfs_corrupt(p, "MFT record %llu has a damaged attribute",
				    (unsigned long long)recno);
	if (r == 0) {
		/* Every extent is in the base record. */
		while ((r = ntfs_attr_next(rec, rs, &pos, &a)) > 0) {
			if (a.type != type || !ntfs_attr_named(&a, name))
				continue;
			r = add_extent(p, out, &a, !found);
			if (r < 0)
				goto fail;
			found = 1;
			if (first_only || out->resident)
				break;
		}
		if (r < 0)
			goto bad;
		return found;
	}
	r = read_small(p, &a, NTFS_MAX_ATTR_LIST, &list, &list_len);
	if (r < 0)
		goto fail;
	ext = malloc(rs);
	if (!ext) {
		r = -ENOMEM;
		goto fail;
	}
	/* Entries: type, length, name length and offset, lowest VCN, MFT
	 * reference; each at least 26 bytes, so the walk is bounded. */
	for (off = 0; list_len - off >= 26;) {
		const uint8_t *e = list + off;
		uint16_t len = ntfs_le16(e + 4);
		uint8_t nlen = e[6], noff = e[7];
		uint64_t mref = ntfs_le64(e + 16), xno = mref & 0xFFFFFFFFFFFFull;
		int64_t lvcn = (int64_t)ntfs_le64(e + 8);
		const uint8_t *xrec = rec;
		size_t xpos = 0;

		if (len < 26 || len > list_len - off ||
		    noff + 2u * nlen > len)
			goto bad;
		off += len;
		if (ntfs_le32(e) != type ||
		    (name ? !ntfs_name_is(e + noff, nlen, name) : nlen != 0))
			continue;
		if (found && first_only)
			break;
		if (xno != recno) {
			r = ntfs_read_record(p, xno, ext);
			if (r < 0)
				goto fail;
			if ((ntfs_le64(ext + 32) & 0xFFFFFFFFFFFFull) != recno)
				goto bad;
			xrec = ext;
		}
		/* The extent with this type, name and first VCN. */
		while ((r = ntfs_attr_next(xrec, rs, &xpos, &a)) > 0)
			if (a.type == type && ntfs_attr_named(&a, name) &&
			    (a.non_resident ? a.lowest_vcn : 0) == lvcn)
				break;
		if (r <= 0)
			goto bad;
		r = add_extent(p, out, &a, !found);
		if (r < 0)
			goto fail;
		found = 1;
		if (out->resident)
			break;
	}
	free(list);
	free(ext);
	return found;
bad:
	r = ntfs_corrupt(p, "the attributes of MFT record %llu are damaged",
			 (unsigned long long)recno);
fail:
	free(list);
	free(ext);
	ntfs_attr_val_free(out);
	return r;
}

int ntfs_load_mft(struct ntfs_vol *p, uint8_t *rec)
{
	uint32_t rs = p->boot.record_size;
	int r;

	/* Record 0 sits at the start of $MFT; its own runlist finds the
	 * rest. */
	r = ntfs_vol_read(p, p->boot.mft_lcn * p->boot.cluster_size, rec, rs);
	if (r)
		return r;
	if (ntfs_record_load(rec, rs))
		return ntfs_corrupt(p, "$MFT record 0 is damaged (bad magic or torn write)");
	r = ntfs_load_attr(p, NTFS_REC_MFT, rec, NTFS_AT_DATA, NULL, 0,
			   &p->mft);
	if (r == 0)
		return ntfs_corrupt(p, "$MFT has no data attribute");
	if (r < 0)
		return r;
	if (p->mft.resident || p->mft.data_size < 16ull * rs)
		return ntfs_corrupt(p, "$MFT is too small");
	return 0;
}
