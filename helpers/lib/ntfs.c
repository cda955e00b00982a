/* NTFS state from bytes; see ntfs.h.
 *
 * Everything read from the volume is hostile: every offset, length and
 * count is checked against the buffer it points into before use, and every
 * loop is bounded by a buffer size or an explicit limit below.
 */
#include "ntfs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limits that keep a hostile volume from making us loop or allocate
 * without end.  Real volumes stay far below them; above them we fail
 * closed (corrupt). */
#define MAX_CLUSTER (2u << 20)		/* Windows allows up to 2 MiB */
#define MAX_RUNS 65536			/* per attribute, all extents */
#define MAX_ATTR_LIST (256u << 10)	/* bytes of $ATTRIBUTE_LIST */
#define MAX_INDEX_BLOCKS (1u << 20)	/* root directory index blocks */

/* ---- Boot sector ---- */

static int pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Sizes coded as clusters (positive) or as a power of two (negative). */
static uint64_t coded_size(int8_t v, uint32_t cluster)
{
	if (v > 0)
		return (uint64_t)v * cluster;
	if (v < -31 || v == 0)
		return 0;
	return 1ull << -v;
}

int ntfs_boot_parse(const uint8_t *s, size_t len, struct ntfs_boot *b)
{
	uint32_t spc;
	uint64_t total;

	if (len < 512)
		return -EMEDIUMTYPE;
	if (!memcmp(s + 3, "-FVE-FS-", 8))
		return NTFS_BOOT_BITLOCKER;
	if (memcmp(s + 3, "NTFS    ", 8))
		return -EMEDIUMTYPE;
	memset(b, 0, sizeof(*b));
	b->sector_size = ntfs_le16(s + 0x0B);
	if (b->sector_size < 256 || b->sector_size > 4096 ||
	    !pow2(b->sector_size))
		return -EUCLEAN;
	spc = s[0x0D];
	if (spc > 0x80) {
		if (256 - spc > 12)
			return -EUCLEAN;
		spc = 1u << (256 - spc);
	}
	if (!pow2(spc))
		return -EUCLEAN;
	b->cluster_size = b->sector_size * spc;
	if (b->cluster_size > MAX_CLUSTER)
		return -EUCLEAN;
	total = ntfs_le64(s + 0x28);
	if (!total || total > UINT64_MAX / b->sector_size)
		return -EUCLEAN;
	b->volume_size = total * b->sector_size;
	b->clusters = b->volume_size / b->cluster_size;
	b->mft_lcn = ntfs_le64(s + 0x30);
	b->mftmirr_lcn = ntfs_le64(s + 0x38);
	if (b->mft_lcn >= b->clusters || b->mftmirr_lcn >= b->clusters)
		return -EUCLEAN;
	b->record_size = (uint32_t)coded_size((int8_t)s[0x40], b->cluster_size);
	if (b->record_size < 512 || b->record_size > 4096 ||
	    !pow2(b->record_size))
		return -EUCLEAN;
	b->index_block_size =
		(uint32_t)coded_size((int8_t)s[0x44], b->cluster_size);
	if (b->index_block_size < 512 || b->index_block_size > 65536 ||
	    !pow2(b->index_block_size))
		return -EUCLEAN;
	b->serial = ntfs_le64(s + 0x48);
	return 0;
}

/* ---- Fixups ---- */

static int usa_check(const uint8_t *rec, size_t size, uint16_t *ofs,
		     uint16_t *count)
{
	if (size < 512 || size % 512)
		return -EUCLEAN;
	*ofs = ntfs_le16(rec + 4);
	*count = ntfs_le16(rec + 6);
	/* The array lies in the first block, before its protected word. */
	if (*count != size / 512 + 1 || (*ofs & 1) || *ofs < 8 ||
	    *ofs + 2u * *count > 510)
		return -EUCLEAN;
	return 0;
}

int ntfs_fixup_apply(uint8_t *rec, size_t size)
{
	uint16_t ofs, count, i;
	int err = usa_check(rec, size, &ofs, &count);

	if (err)
		return err;
	for (i = 1; i < count; i++)
		if (memcmp(rec + i * 512u - 2, rec + ofs, 2))
			return -EUCLEAN;
	for (i = 1; i < count; i++)
		memcpy(rec + i * 512u - 2, rec + ofs + 2 * i, 2);
	return 0;
}

int ntfs_fixup_protect(uint8_t *rec, size_t size)
{
	uint16_t ofs, count, i, usn;
	int err = usa_check(rec, size, &ofs, &count);

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

int ntfs_record_load(uint8_t *rec, size_t size)
{
	uint32_t used;
	uint16_t attrs;

	if (size < 512 || memcmp(rec, "FILE", 4) || ntfs_fixup_apply(rec, size))
		return -EUCLEAN;
	attrs = ntfs_le16(rec + 20);
	used = ntfs_le32(rec + 24);
	if (used > size || used < 48 || attrs & 7 || attrs < 42 ||
	    attrs > used - 8)
		return -EUCLEAN;
	return 0;
}

/* ---- Attributes ---- */

int ntfs_attr_next(const uint8_t *rec, size_t size, size_t *pos,
		   struct ntfs_attr *a)
{
	size_t used, off;
	uint32_t len;
	const uint8_t *p;

	if (size < 48)
		return -EUCLEAN;
	used = ntfs_le32(rec + 24);
	if (used > size)
		return -EUCLEAN;
	if (*pos == 0)
		*pos = ntfs_le16(rec + 20);
	off = *pos;
	if (off < 24 || off > used || used - off < 4)
		return -EUCLEAN;
	p = rec + off;
	if (ntfs_le32(p) == NTFS_AT_END)
		return 0;
	if (used - off < 24)
		return -EUCLEAN;
	len = ntfs_le32(p + 4);
	/* A zero length would loop here for ever: it ends the walk. */
	if (len < 24 || (len & 7) || len > used - off)
		return -EUCLEAN;
	memset(a, 0, sizeof(*a));
	a->type = ntfs_le32(p);
	a->length = len;
	a->offset = off;
	a->non_resident = p[8];
	a->name_len = p[9];
	a->flags = ntfs_le16(p + 12);
	if (a->name_len) {
		uint16_t name_off = ntfs_le16(p + 10);

		if (name_off > len || 2u * a->name_len > len - name_off)
			return -EUCLEAN;
		a->name = p + name_off;
	}
	if (!a->non_resident) {
		uint16_t voff = ntfs_le16(p + 20);

		a->value_len = ntfs_le32(p + 16);
		if (voff > len || a->value_len > len - voff)
			return -EUCLEAN;
		a->value = p + voff;
	} else {
		uint16_t mp;

		if (a->non_resident != 1 || len < 64)
			return -EUCLEAN;
		a->lowest_vcn = (int64_t)ntfs_le64(p + 16);
		a->highest_vcn = (int64_t)ntfs_le64(p + 24);
		mp = ntfs_le16(p + 32);
		a->alloc_size = ntfs_le64(p + 40);
		a->data_size = ntfs_le64(p + 48);
		a->init_size = ntfs_le64(p + 56);
		/* The sizes are only defined in the first extent; there the
		 * data must fit its allocation, which NTFS rounds up to
		 * whole clusters (a huge data_size is corrupt, not read). */
		if (mp < 64 || mp >= len || a->lowest_vcn < 0 ||
		    a->highest_vcn < a->lowest_vcn - 1 ||
		    a->data_size > INT64_MAX || a->init_size > a->data_size ||
		    (a->lowest_vcn == 0 && a->data_size > a->alloc_size))
			return -EUCLEAN;
		a->runs = p + mp;
		a->runs_len = len - mp;
	}
	*pos = off + len;
	return 1;
}

int ntfs_name_is(const uint8_t *u, size_t units, const char *ascii)
{
	size_t i;

	if (strlen(ascii) != units)
		return 0;
	for (i = 0; i < units; i++)
		if (ntfs_le16(u + 2 * i) != (uint8_t)ascii[i])
			return 0;
	return 1;
}

static unsigned fold(unsigned c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 'A';
	if (c == 0x0131)
		return 'I';
	if (c == 0x017F)
		return 'S';
	return c;
}

int ntfs_name_is_nocase(const uint8_t *u, size_t units, const char *ascii)
{
	size_t i;

	if (strlen(ascii) != units)
		return 0;
	for (i = 0; i < units; i++)
		if (fold(ntfs_le16(u + 2 * i)) != fold((uint8_t)ascii[i]))
			return 0;
	return 1;
}

static int attr_named(const struct ntfs_attr *a, const char *name)
{
	if (!name)
		return a->name_len == 0;
	return ntfs_name_is(a->name, a->name_len, name);
}

int ntfs_attr_find(const uint8_t *rec, size_t size, uint32_t type,
		   const char *name, struct ntfs_attr *a)
{
	size_t pos = 0;
	int r;

	while ((r = ntfs_attr_next(rec, size, &pos, a)) > 0)
		if (a->type == type && attr_named(a, name))
			return 1;
	return r;
}

/* ---- Runlists ---- */

/* Little-endian value of n (1..8) bytes, sign-extended. */
static int64_t sle(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (n < 8 && (p[n - 1] & 0x80))
		v |= ~0ull << (8 * n);
	return (int64_t)v;
}

int ntfs_runlist_decode(const uint8_t *p, size_t len, int64_t vcn,
			struct ntfs_run *out, size_t max)
{
	size_t i = 0, n = 0;
	int64_t lcn = 0;

	for (;;) {
		unsigned lsz, osz;
		int64_t rlen;

		if (i >= len)
			return -EUCLEAN;	/* no terminating zero */
		if (!p[i])
			break;
		lsz = p[i] & 0x0F;
		osz = p[i] >> 4;
		if (!lsz || lsz > 8 || osz > 8 || len - i - 1 < lsz + osz)
			return -EUCLEAN;
		rlen = sle(p + i + 1, lsz);
		if (rlen <= 0 || __builtin_add_overflow(vcn, rlen, &vcn))
			return -EUCLEAN;
		if (n == max)
			return -E2BIG;
		out[n].vcn = vcn - rlen;
		out[n].len = (uint64_t)rlen;
		if (osz) {
			if (__builtin_add_overflow(lcn, sle(p + i + 1 + lsz, osz),
						   &lcn) || lcn < 0)
				return -EUCLEAN;
			out[n].lcn = lcn;
		} else {
			out[n].lcn = -1;
		}
		n++;
		i += 1 + lsz + osz;
	}
	return (int)n;
}

/* ---- $Volume ---- */

int ntfs_volume_info(const uint8_t *rec, size_t size, uint16_t *flags,
		     uint8_t *major, uint8_t *minor)
{
	struct ntfs_attr a;
	int r = ntfs_attr_find(rec, size, NTFS_AT_VOLUME_INFORMATION, NULL, &a);

	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	if (a.non_resident || a.value_len < 12)
		return -EUCLEAN;
	*major = a.value[8];
	*minor = a.value[9];
	*flags = ntfs_le16(a.value + 10);
	return 0;
}

/* ---- $LogFile ---- */

#define LOG_NO_CLIENT 0xFFFF
#define LOG_CLIENT_SIZE 160
#define RESTART_CLEAN 0x0002

struct restart {
	int64_t lsn;
	int v2;
	int unclean;
	uint32_t sps;		/* system page size: where the second page is */
};

/* One restart page at `pos` of the log; 1 usable (and *rs), 0 not: not a
 * restart page, an unknown version, a field out of place, or torn where
 * the restart area cannot be trusted. */
static int restart_page(uint8_t *pg, size_t avail, size_t pos,
			struct restart *rs)
{
	uint32_t sps, lps;
	uint16_t ra_ofs, ca_ofs, ra_len, clients, free_l, used_l, i, idx, steps;
	uint16_t usa_ofs, usa_count, usa_end;
	int16_t major, minor;
	int chkd, torn = 0;
	const uint8_t *ra, *ca;
	uint64_t fsize;
	unsigned bits = 0;

	if (avail < 512)	/* a short $LogFile, or its end */
		return 0;
	chkd = !memcmp(pg, "CHKD", 4);
	if (!chkd && memcmp(pg, "RSTR", 4))
		return 0;
	sps = ntfs_le32(pg + 16);
	lps = ntfs_le32(pg + 20);
	if (sps < 512 || lps < 512 || !pow2(sps) || !pow2(lps) ||
	    sps > 65536 || (pos && pos != sps) || sps > avail)
		return 0;
	major = (int16_t)ntfs_le16(pg + 28);
	minor = (int16_t)ntfs_le16(pg + 26);
	if (!((major == 1 && minor == 1) || (major == 2 && minor == 0)))
		return 0;
	if (!chkd && ntfs_le64(pg + 8))
		return 0;
	/* Chkdsk may leave a restart page without fixups; every other one
	 * has them.  A torn page (a power cut while Windows rewrote it: the
	 * first sector new, later ones old) is still read when its restart
	 * area lies wholly in the first sector, before that sector's
	 * protected word, as Windows, ntfs3 (is_client_area_valid()) and
	 * ntfs-3g (ntfs_check_and_load_restart_page()) do: that sector was
	 * written whole, so its LSN and version are the new ones.  Unlike
	 * them we also insist that the first sector itself ends with the
	 * sequence number. */
	usa_end = 30;		/* the header's size */
	if (!(chkd && !ntfs_le16(pg + 6))) {
		if (usa_check(pg, sps, &usa_ofs, &usa_count) || usa_ofs < 30)
			return 0;
		usa_end = usa_ofs + 2u * usa_count;
		if (ntfs_fixup_apply(pg, sps)) {
			if (memcmp(pg + 510, pg + usa_ofs, 2))
				return 0;
			torn = 1;
		}
	}
	/* The restart area follows the update sequence array (ntfs-3g's
	 * and ntfs3's header checks). */
	ra_ofs = ntfs_le16(pg + 24);
	if ((ra_ofs & 7) || ra_ofs < usa_end || (uint32_t)ra_ofs + 48 > sps)
		return 0;
	ra = pg + ra_ofs;
	clients = ntfs_le16(ra + 8);
	free_l = ntfs_le16(ra + 10);
	used_l = ntfs_le16(ra + 12);
	ra_len = ntfs_le16(ra + 20);
	ca_ofs = ntfs_le16(ra + 22);
	if ((ca_ofs & 7) || ca_ofs < 48 ||
	    (uint32_t)ra_ofs + ca_ofs + (uint32_t)clients * LOG_CLIENT_SIZE > sps ||
	    (uint32_t)ra_ofs + ra_len > sps ||
	    (uint32_t)ca_ofs + (uint32_t)clients * LOG_CLIENT_SIZE > ra_len)
		return 0;
	/* ra_len >= ca_ofs >= 48: every field read below lies in it. */
	if (torn && (uint32_t)ra_ofs + ra_len > 510)
		return 0;
	if ((free_l != LOG_NO_CLIENT && free_l >= clients) ||
	    (used_l != LOG_NO_CLIENT && used_l >= clients))
		return 0;
	for (fsize = ntfs_le64(ra + 24); fsize; fsize >>= 1)
		bits++;
	if (ntfs_le32(ra + 16) != 67 - bits)
		return 0;
	/* Log record header length and page data offset: multiples of 8. */
	if ((ntfs_le16(ra + 36) & 7) || (ntfs_le16(ra + 38) & 7))
		return 0;
	/* Both client lists must be well formed: each index in range, the
	 * first without a predecessor, no more steps than clients in both
	 * lists together (as ntfs_check_log_client_array() counts). */
	ca = ra + ca_ofs;
	steps = clients;
	for (i = 0; i < 2; i++) {
		int first = 1;

		for (idx = i ? used_l : free_l; idx != LOG_NO_CLIENT;
		     idx = ntfs_le16(ca + idx * LOG_CLIENT_SIZE + 18)) {
			if (!steps-- || idx >= clients)
				return 0;
			if (first &&
			    ntfs_le16(ca + idx * LOG_CLIENT_SIZE + 16) !=
				    LOG_NO_CLIENT)
				return 0;
			first = 0;
		}
	}
	rs->lsn = (int64_t)(chkd ? ntfs_le64(pg + 8) : ntfs_le64(ra));
	rs->v2 = major == 2;
	/* A torn page never says "clean": the write Windows was making
	 * when the power went did not finish.  ntfs-3g agrees: it marks the
	 * page BAAD, and ntfs_is_logfile_clean() then refuses it. */
	rs->unclean = torn || (used_l != LOG_NO_CLIENT &&
			       !(ntfs_le16(ra + 14) & RESTART_CLEAN));
	rs->sps = sps;
	return 1;
}

static int all_ff(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] == 0xFF; i++)
		;
	return i == n;
}

/* A restart page signature at a power of two from `from` on, where
 * ntfs-3g would still look for one: a third page, which nothing orders. */
static int stray_restart(const uint8_t *buf, size_t len, size_t from)
{
	size_t pos;

	for (pos = from; pos <= 65536 && pos + 512 <= len; pos <<= 1)
		if (!memcmp(buf + pos, "RSTR", 4) || !memcmp(buf + pos, "CHKD", 4))
			return 1;
	return 0;
}

static enum ntfs_log_state restart_state(const struct restart *rs)
{
	return rs->v2 ? NTFS_LOG_FAST_STARTUP :
	       rs->unclean ? NTFS_LOG_UNCLEAN : NTFS_LOG_CLEAN;
}

enum ntfs_log_state ntfs_logfile_state(uint8_t *buf, size_t len)
{
	struct restart first, second;
	size_t pos, end;

	if (len && all_ff(buf, len))
		return NTFS_LOG_EMPTY;
	/* The first restart page is at 0, the second at the system page
	 * size.  Only the newer (by LSN) counts, so both must be judged:
	 * when one of the two places holds anything but a usable restart
	 * page or 0xFF (a page torn beyond its first sector, an unknown
	 * version, garbage), the two cannot be ordered and the journal may
	 * be newer than the page we can read.  ntfs-3g and ntfs3 then trust
	 * the other page; we fail closed (unclean). */
	if (restart_page(buf, len, 0, &first)) {
		pos = first.sps;
		if (pos >= len)
			return restart_state(&first);
		if (restart_page(buf + pos, len - pos, pos, &second)) {
			/* Equal LSNs: the worse state, as either may be
			 * the last one written. */
			if (second.lsn > first.lsn ||
			    (second.lsn == first.lsn &&
			     restart_state(&second) > restart_state(&first)))
				return restart_state(&second);
			return restart_state(&first);
		}
		end = len - pos < first.sps ? len - pos : first.sps;
		return all_ff(buf + pos, end) && !stray_restart(buf, len, 2 * pos) ?
		       restart_state(&first) : NTFS_LOG_UNCLEAN;
	}
	/* No first page: find the second one, which states its own place,
	 * as ntfs-3g does: try each power of two. */
	for (pos = 512; pos <= 65536 && pos + 512 <= len; pos <<= 1) {
		if (!restart_page(buf + pos, len - pos, pos, &second))
			continue;
		return all_ff(buf, pos) && !stray_restart(buf, len, 2 * pos) ?
		       restart_state(&second) : NTFS_LOG_UNCLEAN;
	}
	return NTFS_LOG_INVALID;
}

/* ---- Index ---- */

#define INDEX_ENTRY_END 0x0002

int ntfs_index_find(const uint8_t *hdr, size_t avail, const char *ascii,
		    uint64_t *mref)
{
	uint32_t first, used, off;

	if (avail < 16)
		return -EUCLEAN;
	first = ntfs_le32(hdr);
	used = ntfs_le32(hdr + 4);
	if (first < 16 || (first & 7) || used > avail || first > used)
		return -EUCLEAN;
	/* Each entry is at least 16 bytes: the walk ends within `used`. */
	for (off = first; off <= used - 16;) {
		const uint8_t *e = hdr + off;
		uint16_t len = ntfs_le16(e + 8), klen = ntfs_le16(e + 10);

		if (ntfs_le16(e + 12) & INDEX_ENTRY_END)
			return 0;
		if (len < 16 || (len & 7) || len > used - off || klen > len - 16)
			return -EUCLEAN;
		if (klen >= 66) {
			const uint8_t *key = e + 16;
			uint8_t n = key[64];

			if (66u + 2u * n > klen)
				return -EUCLEAN;
			if (ntfs_name_is_nocase(key + 66, n, ascii)) {
				*mref = ntfs_le64(e);
				return 1;
			}
		}
		off += len;
	}
	return -EUCLEAN;	/* no end entry */
}

/* ---- hiberfil.sys ---- */

enum ntfs_hiber ntfs_hiberfil_judge(const uint8_t *pg, size_t len)
{
	size_t i;

	if (len < NTFS_HIBER_PAGE)
		return NTFS_HIBER_SHORT;
	if (!memcmp(pg, "hibr", 4) || !memcmp(pg, "HIBR", 4))
		return NTFS_HIBER_HIBR;
	if (!memcmp(pg, "RSTR", 4))
		return NTFS_HIBER_RSTR;
	if (!memcmp(pg, "wake", 4) || !memcmp(pg, "WAKE", 4))
		return NTFS_HIBER_WAKE;
	for (i = 0; i < NTFS_HIBER_PAGE; i++)
		if (pg[i])
			return NTFS_HIBER_OTHER;
	return NTFS_HIBER_ZERO;
}

int ntfs_hiber_is_safe(enum ntfs_hiber h)
{
	return h == NTFS_HIBER_ZERO || h == NTFS_HIBER_WAKE;
}

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

/* ==== Reading a volume ==== */

struct runs {
	struct ntfs_run *v;
	size_t n, cap;
	int64_t next_vcn;
};

/* One attribute, all its extents. */
struct attr_val {
	int resident;
	uint8_t *value;		/* resident: a copy */
	size_t value_len;
	struct runs runs;
	uint64_t data_size, init_size;
	uint16_t flags;
};

struct probe {
	const struct ntfs_dev *dev;
	struct ntfs_boot boot;
	struct attr_val mft;	/* $MFT's $DATA */
	uint8_t *bounce;
	size_t bounce_len;
	char why[256];		/* what was corrupt, for the detail line */
};

static void attr_free(struct attr_val *v)
{
	free(v->value);
	free(v->runs.v);
	memset(v, 0, sizeof(*v));
}

/* Records the first reason for a corrupt verdict; returns -EUCLEAN. */
__attribute__((format(printf, 2, 3)))
static int corrupt(struct probe *p, const char *fmt, ...)
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
static int dev_read(struct probe *p, uint64_t off, void *buf, size_t len)
{
	const struct ntfs_dev *d = p->dev;
	uint64_t bs = d->block_size, start, end;
	size_t n;
	int err;

	if (off > p->boot.volume_size || len > p->boot.volume_size - off)
		return corrupt(p, "a structure points beyond the end of the volume");
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
static int stream_read(struct probe *p, const struct runs *rl, uint64_t off,
		       uint8_t *buf, size_t len)
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
			return corrupt(p, "data lies outside its runlist");
		avail = r->len - (vcn - (uint64_t)r->vcn);
		n = len;
		if (avail < (n + in + cs - 1) / cs)
			n = (size_t)(avail * cs - in);
		if (r->lcn < 0) {
			memset(buf, 0, n);
		} else {
			if ((uint64_t)r->lcn + (vcn - (uint64_t)r->vcn) >
			    p->boot.clusters)
				return corrupt(p, "a run lies beyond the end of the volume");
			err = dev_read(p, ((uint64_t)r->lcn + vcn -
					   (uint64_t)r->vcn) * cs + in, buf, n);
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
static int read_record(struct probe *p, uint64_t recno, uint8_t *buf)
{
	uint32_t rs = p->boot.record_size;
	int err;

	if (p->mft.data_size < rs || recno > p->mft.data_size / rs - 1)
		return corrupt(p, "MFT record %llu lies beyond $MFT",
			       (unsigned long long)recno);
	err = stream_read(p, &p->mft.runs, recno * rs, buf, rs);
	if (err)
		return err;
	if (ntfs_record_load(buf, rs))
		return corrupt(p, "MFT record %llu is damaged (bad magic or torn write)",
			       (unsigned long long)recno);
	return 0;
}

static int runs_add(struct probe *p, struct runs *rl, const struct ntfs_attr *a)
{
	/* Every run takes at least 2 bytes of mapping pairs. */
	size_t room = a->runs_len / 2 + 1;
	struct ntfs_run *last;
	int64_t end;
	int n;

	if (a->lowest_vcn != rl->next_vcn)
		return corrupt(p, "an attribute's extents do not follow each other");
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
		return corrupt(p, "a runlist is damaged");
	last = n ? rl->v + rl->n + n - 1 : NULL;
	/* highest_vcn comes from the disk: INT64_MAX + 1 would overflow.
	 * (The decoder already checked last->vcn + last->len.) */
	if (__builtin_add_overflow(a->highest_vcn, 1, &end))
		return corrupt(p, "an attribute's last VCN is impossible");
	if (last ? last->vcn + (int64_t)last->len != end :
		   a->highest_vcn != a->lowest_vcn - 1)
		return corrupt(p, "a runlist does not match its attribute");
	if (rl->n + (size_t)n > MAX_RUNS)
		return corrupt(p, "an attribute has too many runs");
	rl->n += (size_t)n;
	rl->next_vcn = end;
	return 0;
}

/* Adds one extent (attribute record) to *out. */
static int add_extent(struct probe *p, struct attr_val *out,
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
			return corrupt(p, "an attribute's first extent does not start at 0");
		out->data_size = a->data_size;
		out->init_size = a->init_size;
	} else if (!a->non_resident || out->resident) {
		return corrupt(p, "a resident attribute has several extents");
	}
	return runs_add(p, &out->runs, a);
}

/* Reads a whole small attribute value (resident or not) into a buffer. */
static int read_small(struct probe *p, const struct ntfs_attr *a,
		      size_t max, uint8_t **buf, size_t *len)
{
	struct attr_val v;
	int err;

	memset(&v, 0, sizeof(v));
	err = add_extent(p, &v, a, 1);
	if (err)
		goto out;
	if (v.data_size > max) {
		err = corrupt(p, "an attribute is implausibly large");
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
	err = stream_read(p, &v.runs, 0, *buf,
			  (size_t)(v.init_size < *len ? v.init_size : *len));
	if (err) {
		free(*buf);
		*buf = NULL;
	}
out:
	attr_free(&v);
	return err;
}

/* Finds attribute `type`/`name` of the file whose base record `rec` is
 * record `recno`, following $ATTRIBUTE_LIST into extension records.
 * With first_only, stops after the extent at VCN 0.  1 found, 0 none. */
static int load_attr(struct probe *p, uint64_t recno, const uint8_t *rec,
		     uint32_t type, const char *name, int first_only,
		     struct attr_val *out)
{
	uint32_t rs = p->boot.record_size;
	struct ntfs_attr a;
	uint8_t *list = NULL, *ext = NULL;
	size_t pos = 0, list_len = 0, off;
	int r, found = 0;

	memset(out, 0, sizeof(*out));
	r = ntfs_attr_find(rec, rs, NTFS_AT_ATTRIBUTE_LIST, NULL, &a);
	if (r < 0)
		return corrupt(p, "MFT record %llu has a damaged attribute",
			       (unsigned long long)recno);
	if (r == 0) {
		/* Every extent is in the base record. */
		while ((r = ntfs_attr_next(rec, rs, &pos, &a)) > 0) {
			if (a.type != type || !attr_named(&a, name))
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
	r = read_small(p, &a, MAX_ATTR_LIST, &list, &list_len);
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
			r = read_record(p, xno, ext);
			if (r < 0)
				goto fail;
			if ((ntfs_le64(ext + 32) & 0xFFFFFFFFFFFFull) != recno)
				goto bad;
			xrec = ext;
		}
		/* The extent with this type, name and first VCN. */
		while ((r = ntfs_attr_next(xrec, rs, &xpos, &a)) > 0)
			if (a.type == type && attr_named(&a, name) &&
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
	r = corrupt(p, "the attributes of MFT record %llu are damaged",
		    (unsigned long long)recno);
fail:
	free(list);
	free(ext);
	attr_free(out);
	return r;
}

/* ---- The checks ---- */

#define REC_MFT 0
#define REC_MFTMIRR 1
#define REC_LOGFILE 2
#define REC_VOLUME 3
#define REC_ROOT 5

struct findings {
	int corrupt, hibernated, fast, unclean, dirty;
	char hib_why[160], log_why[160], dirty_why[160];
};

static int load_mft(struct probe *p, uint8_t *rec)
{
	uint32_t rs = p->boot.record_size;
	int r;

	/* Record 0 sits at the start of $MFT; its own runlist finds the
	 * rest. */
	r = dev_read(p, p->boot.mft_lcn * p->boot.cluster_size, rec, rs);
	if (r)
		return r;
	if (ntfs_record_load(rec, rs))
		return corrupt(p, "$MFT record 0 is damaged (bad magic or torn write)");
	r = load_attr(p, REC_MFT, rec, NTFS_AT_DATA, NULL, 0, &p->mft);
	if (r == 0)
		return corrupt(p, "$MFT has no data attribute");
	if (r < 0)
		return r;
	if (p->mft.resident || p->mft.data_size < 16ull * rs)
		return corrupt(p, "$MFT is too small");
	return 0;
}

/* Records 0-3 of $MFTMirr must equal those of $MFT, as ntfs-3g insists. */
static int check_mirror(struct probe *p, uint8_t *rec, uint8_t *mir)
{
	uint32_t rs = p->boot.record_size;
	struct attr_val m;
	uint64_t i;
	int r;

	r = read_record(p, REC_MFTMIRR, rec);
	if (r)
		return r;
	r = load_attr(p, REC_MFTMIRR, rec, NTFS_AT_DATA, NULL, 0, &m);
	if (r == 0)
		return corrupt(p, "$MFTMirr has no data attribute");
	if (r < 0)
		return r;
	if (m.resident || m.data_size < 4ull * rs) {
		attr_free(&m);
		return corrupt(p, "$MFTMirr is too small");
	}
	r = 0;
	for (i = 0; i < 4 && !r; i++) {
		r = read_record(p, i, rec);
		if (!r)
			r = stream_read(p, &m.runs, i * rs, mir, rs);
		if (!r && ntfs_record_load(mir, rs))
			r = corrupt(p, "$MFTMirr record %llu is damaged (bad magic or torn write)",
				    (unsigned long long)i);
		if (!r && memcmp(rec, mir, ntfs_le32(rec + 24)))
			r = corrupt(p, "$MFTMirr does not match $MFT (record %llu)",
				    (unsigned long long)i);
	}
	attr_free(&m);
	return r;
}

static int check_volume(struct probe *p, uint8_t *rec, struct findings *f,
			struct ntfs_result *res)
{
	int r = read_record(p, REC_VOLUME, rec);
	uint16_t fl;

	if (r)
		return r;
	r = ntfs_volume_info(rec, p->boot.record_size, &fl, &res->major,
			     &res->minor);
	if (r)
		return corrupt(p, "$Volume has no valid volume information");
	res->volume_flags = fl;
	if (res->major < 1 || res->major > 3)
		return corrupt(p, "NTFS version %u.%u is unknown", res->major,
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

static int check_logfile(struct probe *p, uint8_t *rec, struct findings *f,
			 struct ntfs_result *res)
{
	struct attr_val lg;
	uint8_t *buf;
	size_t len;
	int r = read_record(p, REC_LOGFILE, rec);

	if (r)
		return r;
	r = load_attr(p, REC_LOGFILE, rec, NTFS_AT_DATA, NULL, 0, &lg);
	if (r == 0)
		return corrupt(p, "$LogFile has no data attribute");
	if (r < 0)
		return r;
	r = 0;
	len = lg.data_size < NTFS_LOG_READ ? (size_t)lg.data_size : NTFS_LOG_READ;
	buf = calloc(1, len ? len : 1);
	if (!buf) {
		attr_free(&lg);
		return -ENOMEM;
	}
	if (lg.resident)
		memcpy(buf, lg.value, len);
	else
		r = stream_read(p, &lg.runs, 0, buf,
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
	attr_free(&lg);
	return r;
}

/* Searches the whole root index for hiberfil.sys: 1 (and *mref), 0. */
static int find_hiberfil(struct probe *p, uint8_t *rec, uint64_t *mref)
{
	struct attr_val root, alloc, bmp;
	uint8_t *bits = NULL, *blk = NULL;
	size_t nbits_len = 0;
	uint64_t bsz, nblocks, i;
	int r;

	memset(&alloc, 0, sizeof(alloc));
	memset(&bmp, 0, sizeof(bmp));
	r = read_record(p, REC_ROOT, rec);
	if (r)
		return r;
	r = load_attr(p, REC_ROOT, rec, NTFS_AT_INDEX_ROOT, "$I30", 1, &root);
	if (r == 0)
		return corrupt(p, "the root directory has no index");
	if (r < 0)
		return r;
	if (!root.resident || root.value_len < 32) {
		r = corrupt(p, "the root directory index is damaged");
		goto out;
	}
	bsz = ntfs_le32(root.value + 8);
	r = ntfs_index_find(root.value + 16, root.value_len - 16,
			    "hiberfil.sys", mref);
	if (r < 0)
		r = corrupt(p, "the root directory index is damaged");
	if (r)
		goto out;
	r = load_attr(p, REC_ROOT, rec, NTFS_AT_INDEX_ALLOCATION, "$I30", 0,
		      &alloc);
	if (r < 0)
		goto out;
	if (r == 0) {
		if (root.value[28] & 1)	/* "large index": blocks must exist */
			r = corrupt(p, "the root directory index lacks its blocks");
		goto out;
	}
	if (alloc.resident || bsz < 512 || bsz > 65536 || !pow2(bsz) ||
	    alloc.data_size / bsz > MAX_INDEX_BLOCKS) {
		r = corrupt(p, "the root directory index blocks are damaged");
		goto out;
	}
	nblocks = alloc.data_size / bsz;
	r = load_attr(p, REC_ROOT, rec, NTFS_AT_BITMAP, "$I30", 0, &bmp);
	if (r == 0)
		r = corrupt(p, "the root directory index has no bitmap");
	if (r < 0)
		goto out;
	nbits_len = (size_t)((nblocks + 7) / 8);
	if (bmp.data_size < nbits_len) {
		r = corrupt(p, "the root directory index bitmap is too short");
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
	else if ((r = stream_read(p, &bmp.runs, 0, bits,
				  bmp.init_size < nbits_len ?
				  (size_t)bmp.init_size : nbits_len)))
		goto out;
	/* Every block in use, whatever the tree's shape: a damaged tree
	 * cannot hide an entry from us. */
	r = 0;
	for (i = 0; i < nblocks && r == 0; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		r = stream_read(p, &alloc.runs, i * bsz, blk, (size_t)bsz);
		if (r)
			break;
		if (memcmp(blk, "INDX", 4) || ntfs_fixup_apply(blk, (size_t)bsz)) {
			r = corrupt(p, "root directory index block %llu is damaged",
				    (unsigned long long)i);
			break;
		}
		r = ntfs_index_find(blk + 24, (size_t)bsz - 24, "hiberfil.sys",
				    mref);
		if (r < 0)
			r = corrupt(p, "root directory index block %llu is damaged",
				    (unsigned long long)i);
	}
out:
	free(bits);
	free(blk);
	attr_free(&root);
	attr_free(&alloc);
	attr_free(&bmp);
	return r;
}

/* Judges hiberfil.sys: sets f->hibernated, or returns -EUCLEAN. */
static int check_hiberfil(struct probe *p, uint8_t *rec, struct findings *f,
			  struct ntfs_result *res)
{
	uint8_t page[NTFS_HIBER_PAGE];
	struct attr_val d;
	uint64_t mref = 0, recno;
	size_t have = 0;
	enum ntfs_hiber h;
	const char *why = NULL;
	int r = find_hiberfil(p, rec, &mref);

	res->hiberfil = -1;
	if (r <= 0)
		return r;
	recno = mref & 0xFFFFFFFFFFFFull;
	r = read_record(p, recno, rec);
	if (r)
		return r;
	if (!(ntfs_le16(rec + 22) & NTFS_RECORD_IN_USE) ||
	    ((mref >> 48) && (mref >> 48) != ntfs_le16(rec + 16)))
		return corrupt(p, "the root directory lists hiberfil.sys, but its record is not in use");
	memset(page, 0, sizeof(page));
	memset(&d, 0, sizeof(d));
	r = 0;
	if (ntfs_le16(rec + 22) & NTFS_RECORD_IS_DIR)
		why = "hiberfil.sys is a directory";
	else
		r = load_attr(p, recno, rec, NTFS_AT_DATA, NULL, 1, &d);
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

			r = stream_read(p, &d.runs, 0, page, init);
			if (r == -EUCLEAN)
				why = "hiberfil.sys cannot be read (damaged runlist)";
			else if (r) {
				attr_free(&d);
				return r;
			}
		}
	}
	attr_free(&d);
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

static int probe_ntfs(struct probe *p, struct ntfs_result *res)
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
	r = run_check(&f, load_mft(p, rec));
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

static int probe_setup(struct probe *p, const struct ntfs_dev *dev,
		       struct ntfs_result *res)
{
	uint8_t sector[512];
	int r;

	memset(p, 0, sizeof(*p));
	memset(res, 0, sizeof(*res));
	res->hiberfil = -1;
	p->dev = dev;
	if (!dev->block_size || !pow2(dev->block_size) ||
	    dev->block_size > (1u << 20))
		return -EINVAL;
	if (dev->size < 512) {
		res->state = NTFS_NOT_NTFS;
		add_detail(res, "the device is too small for a file system");
		return 1;
	}
	p->boot.volume_size = dev->size;	/* bounds dev_read for now */
	r = dev_read(p, 0, sector, sizeof(sector));
	if (r)
		return r;
	r = ntfs_boot_parse(sector, sizeof(sector), &p->boot);
	if (r == NTFS_BOOT_BITLOCKER) {
		res->state = NTFS_BITLOCKER;
		add_detail(res, "the volume is encrypted with BitLocker");
		return 1;
	}
	if (r == -EMEDIUMTYPE) {
		res->state = NTFS_NOT_NTFS;
		add_detail(res, "no NTFS boot sector");
		return 1;
	}
	if (r) {
		res->state = NTFS_CORRUPT;
		add_detail(res, "the NTFS boot sector holds impossible values");
		return 1;
	}
	if (p->boot.volume_size > dev->size) {
		res->state = NTFS_CORRUPT;
		add_detail(res, "the device is smaller than the NTFS volume on it (truncated?)");
		return 1;
	}
	return 0;
}

int ntfs_probe(const struct ntfs_dev *dev, struct ntfs_result *res)
{
	struct probe p;
	int r = probe_setup(&p, dev, res);

	if (r == 0)
		r = probe_ntfs(&p, res);
	free(p.bounce);
	attr_free(&p.mft);
	return r < 0 ? r : 0;
}

/* ---- For the test tool ---- */

int ntfs_mft_record_offset(const struct ntfs_dev *dev, uint64_t recno,
			   uint64_t *off, uint32_t *record_size)
{
	struct ntfs_result res;
	struct probe p;
	uint8_t *rec = NULL;
	int r = probe_setup(&p, dev, &res);

	if (r > 0)
		r = -EMEDIUMTYPE;
	if (!r) {
		rec = malloc(p.boot.record_size);
		r = rec ? load_mft(&p, rec) : -ENOMEM;
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
	free(p.bounce);
	attr_free(&p.mft);
	return r;
}

int ntfs_logfile_location(const struct ntfs_dev *dev, uint64_t *off,
			  uint64_t *size)
{
	struct ntfs_result res;
	struct attr_val lg;
	struct probe p;
	uint8_t *rec = NULL;
	int r = probe_setup(&p, dev, &res);

	memset(&lg, 0, sizeof(lg));
	if (r > 0)
		r = -EMEDIUMTYPE;
	if (!r) {
		rec = malloc(p.boot.record_size);
		r = rec ? load_mft(&p, rec) : -ENOMEM;
	}
	if (!r)
		r = read_record(&p, REC_LOGFILE, rec);
	if (!r) {
		r = load_attr(&p, REC_LOGFILE, rec, NTFS_AT_DATA, NULL, 0, &lg);
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
	free(p.bounce);
	attr_free(&p.mft);
	attr_free(&lg);
	return r;
}
