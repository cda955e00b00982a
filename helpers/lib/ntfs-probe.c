/* NTFS volume state: the checks and the verdict; see ntfs.h.
 *
 * Each check reads through ntfs-read.h and judges with ntfs-format.h; a
 * structure found damaged is a finding, not an error, so the other checks
 * still run and the most important verdict wins.
 */
#include "ntfs-read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ntfs_state_name(enum ntfs_state s)
{
	static const char *const names[] = {
		[NTFS_SAFE] = "safe",
		[NTFS_NOT_NTFS] = "not-ntfs",
		[NTFS_CORRUPT] = "corrupt",
		[NTFS_HIBERNATED] = "hibernated",
		[NTFS_FAST_STARTUP] = "fast-startup",
		[NTFS_DIRTY] = "dirty",
		[NTFS_UNCLEAN_JOURNAL] = "unclean-journal",
		[NTFS_BITLOCKER] = "bitlocker",
	};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "corrupt";
	return names[s];
}

/* ---- The checks ---- */

struct findings {
	int corrupt, hibernated, fast, unclean, dirty;
	char hib_why[160], log_why[160], dirty_why[160];
};

/* Records 0-3 of $MFTMirr must equal those of $MFT, as ntfs-3g insists. */
static int check_mirror(struct ntfs_vol *p, uint8_t *rec, uint8_t *mir)
{
	uint32_t rs = p->boot.record_size;
	struct ntfs_attr_val m;
	uint64_t i;
	int r;

	r = ntfs_read_record(p, NTFS_REC_MFTMIRR, rec);
	if (r)
		return r;
	r = ntfs_load_attr(p, NTFS_REC_MFTMIRR, rec, NTFS_AT_DATA, NULL, 0, &m);
	if (r == 0)
		return ntfs_corrupt(p, "$MFTMirr has no data attribute");
	if (r < 0)
		return r;
	if (m.resident || m.data_size < 4ull * rs) {
		ntfs_attr_val_free(&m);
		return ntfs_corrupt(p, "$MFTMirr is too small");
	}
	r = 0;
	for (i = 0; i < 4 && !r; i++) {
		r = ntfs_read_record(p, i, rec);
		if (!r)
			r = ntfs_stream_read(p, &m.runs, i * rs, mir, rs);
		if (!r && ntfs_record_load(mir, rs))
			r = ntfs_corrupt(p, "$MFTMirr record %llu is damaged (bad magic or torn write)",
					 (unsigned long long)i);
		if (!r && memcmp(rec, mir, ntfs_le32(rec + 24)))
			r = ntfs_corrupt(p, "$MFTMirr does not match $MFT (record %llu)",
					 (unsigned long long)i);
	}
	ntfs_attr_val_free(&m);
	return r;
}

static int check_volume(struct ntfs_vol *p, uint8_t *rec, struct findings *f,
			struct ntfs_result *res)
{
	int r = ntfs_read_record(p, NTFS_REC_VOLUME, rec);
	uint16_t fl;

	if (r)
		return r;
	r = ntfs_volume_info(rec, p->boot.record_size, &fl, &res->major,
			     &res->minor);
	if (r)
		return ntfs_corrupt(p, "$Volume has no valid volume information");
	res->volume_flags = fl;
	if (res->major < 1 || res->major > 3)
		return ntfs_corrupt(p, "NTFS version %u.%u is unknown", res->major,
				    res->minor);
	if (fl & NTFS_VOLUME_UNSAFE_MASK) {
		f->dirty = 1;
		snprintf(f->dirty_why, sizeof(f->dirty_why),
			 "the volume is marked %s (flags 0x%04x)",
			 (fl & NTFS_VOLUME_DIRTY) ? "dirty" :
			 (fl & 0xC000) ? "as being checked by chkdsk" :
			 "for repair on the next Windows start",
			 (unsigned)fl);
	}
	return 0;
}

static int check_logfile(struct ntfs_vol *p, uint8_t *rec, struct findings *f,
			 struct ntfs_result *res)
{
	struct ntfs_attr_val lg;
	uint8_t *buf;
	size_t len;
	int r = ntfs_read_record(p, NTFS_REC_LOGFILE, rec);

	if (r)
		return r;
	r = ntfs_load_attr(p, NTFS_REC_LOGFILE, rec, NTFS_AT_DATA, NULL, 0,
			   &lg);
	if (r == 0)
		return ntfs_corrupt(p, "$LogFile has no data attribute");
	if (r < 0)
		return r;
	r = 0;
	len = lg.data_size < NTFS_LOG_READ ? (size_t)lg.data_size : NTFS_LOG_READ;
	buf = calloc(1, len ? len : 1);
	if (!buf) {
		ntfs_attr_val_free(&lg);
		return -ENOMEM;
	}
	if (lg.resident)
		memcpy(buf, lg.value, len);
	else
		r = ntfs_stream_read(p, &lg.runs, 0, buf,
				     lg.init_size < len ? (size_t)lg.init_size : len);
	if (!r) {
		res->log = ntfs_logfile_state(buf, len);
		if (res->log == NTFS_LOG_FAST_STARTUP) {
			f->fast = 1;
		} else if (res->log == NTFS_LOG_UNCLEAN) {
			f->unclean = 1;
			snprintf(f->log_why, sizeof(f->log_why),
				 "the $LogFile journal was not closed cleanly");
		} else if (res->log == NTFS_LOG_INVALID) {
			f->unclean = 1;
			snprintf(f->log_why, sizeof(f->log_why),
				 "the $LogFile journal has no valid restart page");
		}
	}
	free(buf);
	ntfs_attr_val_free(&lg);
	return r;
}

/* Searches the whole root index for hiberfil.sys: 1 (and *mref), 0. */
static int find_hiberfil(struct ntfs_vol *p, uint8_t *rec, uint64_t *mref)
{
	struct ntfs_attr_val root, alloc, bmp;
	uint8_t *bits = NULL, *blk = NULL;
	size_t nbits_len = 0;
	uint64_t bsz, nblocks, i;
	int r;

	memset(&alloc, 0, sizeof(alloc));
	memset(&bmp, 0, sizeof(bmp));
	r = ntfs_read_record(p, NTFS_REC_ROOT, rec);
	if (r)
		return r;
	r = ntfs_load_attr(p, NTFS_REC_ROOT, rec, NTFS_AT_INDEX_ROOT, "$I30", 1,
			   &root);
	if (r == 0)
		return ntfs_corrupt(p, "the root directory has no index");
	if (r < 0)
		return r;
	if (!root.resident || root.value_len < 32) {
		r = ntfs_corrupt(p, "the root directory index is damaged");
		goto out;
	}
	bsz = ntfs_le32(root.value + 8);
	r = ntfs_index_find(root.value + 16, root.value_len - 16,
			    "hiberfil.sys", mref);
	if (r < 0)
		r = ntfs_corrupt(p, "the root directory index is damaged");
	if (r)
		goto out;
	r = ntfs_load_attr(p, NTFS_REC_ROOT, rec, NTFS_AT_INDEX_ALLOCATION, "$I30", 0,
			   &alloc);
	if (r < 0)
		goto out;
	if (r == 0) {
		if (root.value[28] & 1)	/* "large index": blocks must exist */
			r = ntfs_corrupt(p, "the root directory index lacks its blocks");
		goto out;
	}
	if (alloc.resident || bsz < 512 || bsz > 65536 || !ntfs_pow2(bsz) ||
	    alloc.data_size / bsz > NTFS_MAX_INDEX_BLOCKS) {
		r = ntfs_corrupt(p, "the root directory index blocks are damaged");
		goto out;
	}
	nblocks = alloc.data_size / bsz;
	r = ntfs_load_attr(p, NTFS_REC_ROOT, rec, NTFS_AT_BITMAP, "$I30", 0, &bmp);
	if (r == 0)
		r = ntfs_corrupt(p, "the root directory index has no bitmap");
	if (r < 0)
		goto out;
	nbits_len = (size_t)((nblocks + 7) / 8);
	if (bmp.data_size < nbits_len) {
		r = ntfs_corrupt(p, "the root directory index bitmap is too short");
		goto out;
	}
	bits = calloc(1, nbits_len ? nbits_len : 1);
	blk = malloc(bsz);
	if (!bits || !blk) {
		r = -ENOMEM;
		goto out;
	}
	if (bmp.resident)
		memcpy(bits, bmp.value, nbits_len);
	else if ((r = ntfs_stream_read(p, &bmp.runs, 0, bits,
				       bmp.init_size < nbits_len ?
				       (size_t)bmp.init_size : nbits_len)))
		goto out;
	/* Every block in use, whatever the tree's shape: a damaged tree
	 * cannot hide an entry from us. */
	r = 0;
	for (i = 0; i < nblocks && r == 0; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		r = ntfs_stream_read(p, &alloc.runs, i * bsz, blk, (size_t)bsz);
		if (r)
			break;
		if (memcmp(blk, "INDX", 4) || ntfs_fixup_apply(blk, (size_t)bsz)) {
			r = ntfs_corrupt(p, "root directory index block %llu is damaged",
					 (unsigned long long)i);
			break;
		}
		r = ntfs_index_find(blk + 24, (size_t)bsz - 24, "hiberfil.sys",
				    mref);
		if (r < 0)
			r = ntfs_corrupt(p, "root directory index block %llu is damaged",
					 (unsigned long long)i);
	}
out:
	free(bits);
	free(blk);
	ntfs_attr_val_free(&root);
	ntfs_attr_val_free(&alloc);
	ntfs_attr_val_free(&bmp);
	return r;
}

/* Judges hiberfil.sys: sets f->hibernated, or returns -EUCLEAN. */
static int check_hiberfil(struct ntfs_vol *p, uint8_t *rec, struct findings *f,
			  struct ntfs_result *res)
{
	uint8_t page[NTFS_HIBER_PAGE];
	struct ntfs_attr_val d;
	uint64_t mref = 0, recno;
	size_t have = 0;
	enum ntfs_hiber h;
	const char *why = NULL;
	int r = find_hiberfil(p, rec, &mref);

	res->hiberfil = -1;
	if (r <= 0)
		return r;
	recno = mref & 0xFFFFFFFFFFFFull;
	r = ntfs_read_record(p, recno, rec);
	if (r)
		return r;
	if (!(ntfs_le16(rec + 22) & NTFS_RECORD_IN_USE) ||
	    ((mref >> 48) && (mref >> 48) != ntfs_le16(rec + 16)))
		return ntfs_corrupt(p, "the root directory lists hiberfil.sys, but its record is not in use");
	memset(page, 0, sizeof(page));
	memset(&d, 0, sizeof(d));
	r = 0;
	if (ntfs_le16(rec + 22) & NTFS_RECORD_IS_DIR)
		why = "hiberfil.sys is a directory";
	else
		r = ntfs_load_attr(p, recno, rec, NTFS_AT_DATA, NULL, 1, &d);
	if (r < 0 && r != -EUCLEAN)
		return r;
	/* From here every doubt means "hibernated": fail closed. */
	if (r == -EUCLEAN)
		why = "hiberfil.sys cannot be read (damaged record)";
	else if (!why && r == 0)
		why = "hiberfil.sys has no data";
	else if (!why && (d.flags & (NTFS_ATTR_COMPRESSED | NTFS_ATTR_ENCRYPTED)))
		why = "hiberfil.sys is compressed or encrypted and cannot be judged";
	if (!why) {
		have = d.data_size < NTFS_HIBER_PAGE ? (size_t)d.data_size :
						       NTFS_HIBER_PAGE;
		if (d.resident) {
			memcpy(page, d.value, have);
		} else {
			size_t init = d.init_size < have ? (size_t)d.init_size : have;

			r = ntfs_stream_read(p, &d.runs, 0, page, init);
			if (r == -EUCLEAN)
				why = "hiberfil.sys cannot be read (damaged runlist)";
			else if (r) {
				ntfs_attr_val_free(&d);
				return r;
			}
		}
	}
	ntfs_attr_val_free(&d);
	p->why[0] = '\0';	/* a damaged hiberfil.sys is judged, not "corrupt" */
	if (why) {
		f->hibernated = 1;
		snprintf(f->hib_why, sizeof(f->hib_why), "%s", why);
		res->hiberfil = NTFS_HIBER_OTHER;
		return 0;
	}
	h = ntfs_hiberfil_judge(page, have);
	res->hiberfil = (int)h;
	if (ntfs_hiber_is_safe(h))
		return 0;
	f->hibernated = 1;
	snprintf(f->hib_why, sizeof(f->hib_why), "%s",
		 h == NTFS_HIBER_HIBR ? "Windows is hibernated (hiberfil.sys starts with \"hibr\")" :
		 h == NTFS_HIBER_RSTR ? "Windows is resuming from hibernation (hiberfil.sys starts with \"RSTR\")" :
		 h == NTFS_HIBER_SHORT ? "hiberfil.sys is shorter than 4096 bytes, so it cannot be judged" :
		 "hiberfil.sys holds an unknown header, so Windows may be hibernated");
	return 0;
}

static void add_detail(struct ntfs_result *res, const char *text)
{
	size_t n = strlen(res->detail);

	if (!text[0])
		return;
	snprintf(res->detail + n, sizeof(res->detail) - n, "%s%s",
		 n ? "; also " : "", text);
}

/* Runs one check; a structural problem becomes a finding, so the other
 * checks still run and the most important verdict wins. */
static int run_check(struct findings *f, int r)
{
	if (r == -EUCLEAN) {
		f->corrupt = 1;
		return 0;
	}
	return r;
}

static int probe_ntfs(struct ntfs_vol *p, struct ntfs_result *res)
{
	uint32_t rs = p->boot.record_size;
	struct findings f;
	uint8_t *rec = malloc(rs), *mir = malloc(rs);
	char why[256] = "";
	int r;

	memset(&f, 0, sizeof(f));
	if (!rec || !mir) {
		r = -ENOMEM;
		goto out;
	}
	/* Without $MFT nothing else can be read. */
	r = run_check(&f, ntfs_load_mft(p, rec));
	if (!r && !f.corrupt) {
		r = run_check(&f, check_mirror(p, rec, mir));
		if (!r)
			r = run_check(&f, check_volume(p, rec, &f, res));
		if (!r)
			r = run_check(&f, check_logfile(p, rec, &f, res));
		if (!r) {
			/* keep the first corrupt reason across hiberfil's reset */
			snprintf(why, sizeof(why), "%s", p->why);
			r = run_check(&f, check_hiberfil(p, rec, &f, res));
			if (!why[0])
				snprintf(why, sizeof(why), "%s", p->why);
		}
	} else {
		snprintf(why, sizeof(why), "%s", p->why);
	}
	if (r)
		goto out;
	/* The most important finding decides; the rest follow as "also". */
	res->state = f.hibernated ? NTFS_HIBERNATED :
		     f.fast ? NTFS_FAST_STARTUP :
		     f.corrupt ? NTFS_CORRUPT :
		     f.unclean ? NTFS_UNCLEAN_JOURNAL :
		     f.dirty ? NTFS_DIRTY : NTFS_SAFE;
	if (f.hibernated)
		add_detail(res, f.hib_why);
	if (f.fast)
		add_detail(res, "Windows Fast Startup kept the volume open ($LogFile restart page version 2.0)");
	if (f.corrupt)
		add_detail(res, why[0] ? why : "the file system is damaged");
	if (f.unclean)
		add_detail(res, f.log_why);
	if (f.dirty)
		add_detail(res, f.dirty_why);
	if (res->state == NTFS_SAFE)
		add_detail(res, "Windows shut down cleanly: no hibernation, clean journal, volume not dirty");
out:
	free(rec);
	free(mir);
	return r;
}

/* Opens the volume; a boot sector that rules NTFS out is the verdict. */
static int probe_setup(struct ntfs_vol *p, const struct ntfs_dev *dev,
		       struct ntfs_result *res)
{
	const char *why = "";
	int r;

	memset(res, 0, sizeof(*res));
	res->hiberfil = -1;
	r = ntfs_vol_open(p, dev, &res->state, &why);
	if (r > 0)
		add_detail(res, why);
	return r;
}

int ntfs_probe(const struct ntfs_dev *dev, struct ntfs_result *res)
{
	struct ntfs_vol p;
	int r = probe_setup(&p, dev, res);

	if (r == 0)
		r = probe_ntfs(&p, res);
	ntfs_vol_close(&p);
	return r < 0 ? r : 0;
}
