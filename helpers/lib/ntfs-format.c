/* NTFS structures from bytes; see ntfs-format.h.
 *
 * Everything read from the volume is hostile: every offset, length and
 * count is checked against the buffer it points into before use, and every
 * loop is bounded by a buffer size or a limit in ntfs-format.h.
 */
#include "ntfs-format.h"

#include <errno.h>
#include <string.h>

/* ---- Boot sector ---- */

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
	    !ntfs_pow2(b->sector_size))
		return -EUCLEAN;
	spc = s[0x0D];
	if (spc > 0x80) {
		if (256 - spc > 12)
			return -EUCLEAN;
		spc = 1u << (256 - spc);
	}
	if (!ntfs_pow2(spc))
		return -EUCLEAN;
	b->cluster_size = b->sector_size * spc;
	if (b->cluster_size > NTFS_MAX_CLUSTER)
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
	    !ntfs_pow2(b->record_size))
		return -EUCLEAN;
	b->index_block_size =
		(uint32_t)coded_size((int8_t)s[0x44], b->cluster_size);
	if (b->index_block_size < 512 || b->index_block_size > 65536 ||
	    !ntfs_pow2(b->index_block_size))
		return -EUCLEAN;
	b->serial = ntfs_le64(s + 0x48);
	return 0;
}

/* ---- Fixups ---- */

int ntfs_usa_check(const uint8_t *rec, size_t size, uint16_t *ofs,
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
	int err = ntfs_usa_check(rec, size, &ofs, &count);

	if (err)
		return err;
	for (i = 1; i < count; i++)
		if (memcmp(rec + i * 512u - 2, rec + ofs, 2))
			return -EUCLEAN;
	for (i = 1; i < count; i++)
		memcpy(rec + i * 512u - 2, rec + ofs + 2 * i, 2);
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

int ntfs_attr_named(const struct ntfs_attr *a, const char *name)
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
		if (a->type == type && ntfs_attr_named(a, name))
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
	if (sps < 512 || lps < 512 || !ntfs_pow2(sps) || !ntfs_pow2(lps) ||
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
		if (ntfs_usa_check(pg, sps, &usa_ofs, &usa_count) ||
		    usa_ofs < 30)
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
