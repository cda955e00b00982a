/* Unit tests of lib/ntfs-*.c on hand-made buffers: each structure valid,
 * then broken one field at a time. */
#include "check.h"
#include "ntfs.h"
#include "ntfs-edit.h"
#include "../fuzz/ntfz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- boot sector ---- */

static void boot_sector(uint8_t *s)
{
	memset(s, 0, 512);
	memcpy(s + 3, "NTFS    ", 8);
	ntfs_put16(s + 0x0B, 512);
	s[0x0D] = 8;				/* 4 KiB clusters */
	ntfs_put64(s + 0x28, 32767);		/* 16 MiB - 1 sector */
	ntfs_put64(s + 0x30, 4);
	ntfs_put64(s + 0x38, 2047);
	s[0x40] = 0xF6;				/* 1024-byte records */
	s[0x44] = 1;				/* 1 cluster index blocks */
	s[510] = 0x55;
	s[511] = 0xAA;
}

static void test_boot(void)
{
	uint8_t s[512];
	struct ntfs_boot b;

	boot_sector(s);
	CHECK(ntfs_boot_parse(s, 512, &b) == 0 && b.cluster_size == 4096 &&
	      b.record_size == 1024 && b.index_block_size == 4096 &&
	      b.volume_size == 32767ull * 512 && b.mft_lcn == 4,
	      "boot: valid sector parsed (4 KiB clusters, 1 KiB records)");
	s[510] = s[511] = 0;
	CHECK(ntfs_boot_parse(s, 512, &b) == 0, "boot: 0x55AA not required");
	CHECK(ntfs_boot_parse(s, 511, &b) == -EMEDIUMTYPE, "boot: short buffer");
	memcpy(s + 3, "-FVE-FS-", 8);
	CHECK(ntfs_boot_parse(s, 512, &b) == NTFS_BOOT_BITLOCKER, "boot: BitLocker signature");
	memcpy(s + 3, "MSDOS5.0", 8);
	CHECK(ntfs_boot_parse(s, 512, &b) == -EMEDIUMTYPE, "boot: FAT is not NTFS");
	boot_sector(s);
	ntfs_put16(s + 0x0B, 3000);
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: bytes/sector not a power of two");
	boot_sector(s);
	ntfs_put16(s + 0x0B, 8192);
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: bytes/sector above 4096");
	boot_sector(s);
	s[0x0D] = 0xF4;		/* 1 << 12 sectors: 2 MiB */
	s[0x44] = 0xF4;		/* index blocks 1 << 12 bytes */
	ntfs_put64(s + 0x38, 3);
	CHECK(ntfs_boot_parse(s, 512, &b) == 0 && b.cluster_size == 2u << 20,
	      "boot: sectors/cluster 0xF4 means 1 << 12");
	s[0x0D] = 0xF3;
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: clusters above 2 MiB refused");
	boot_sector(s);
	s[0x0D] = 3;
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: sectors/cluster 3 refused");
	s[0x0D] = 0;
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: sectors/cluster 0 refused");
	boot_sector(s);
	ntfs_put64(s + 0x30, 4096);
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: MFT beyond the volume");
	boot_sector(s);
	ntfs_put64(s + 0x28, 0);
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: zero sectors");
	boot_sector(s);
	ntfs_put64(s + 0x28, UINT64_MAX);
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: sector count overflowing bytes");
	boot_sector(s);
	s[0x40] = 0;
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: record size 0");
	s[0x40] = 0xF4;		/* 1 << 12 = 4096 */
	CHECK(ntfs_boot_parse(s, 512, &b) == 0 && b.record_size == 4096,
	      "boot: 4 KiB records");
	s[0x40] = 0xE0;		/* 1 << 32 */
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: huge record size refused");
	s[0x40] = 2;		/* 2 clusters = 8 KiB */
	CHECK(ntfs_boot_parse(s, 512, &b) == -EUCLEAN, "boot: records above 4 KiB refused");
}

/* ---- fixups ---- */

static void test_fixups(void)
{
	uint8_t r[1024], orig[1024];
	unsigned i;

	for (i = 0; i < sizeof(r); i++)
		r[i] = (uint8_t)(i * 7);
	memcpy(r, "FILE", 4);
	ntfs_put16(r + 4, 48);
	ntfs_put16(r + 6, 3);
	memcpy(orig, r, sizeof(r));
	CHECK(ntfs_fixup_protect(r, 1024) == 0 && ntfs_le16(r + 510) == ntfs_le16(r + 48) &&
	      ntfs_le16(r + 1022) == ntfs_le16(r + 48), "fixup: protect stores the USN at block ends");
	CHECK(ntfs_fixup_apply(r, 1024) == 0 && !memcmp(r + 54, orig + 54, 1024 - 54) &&
	      !memcmp(r, orig, 48), "fixup: apply restores every block end");
	ntfs_fixup_protect(r, 1024);
	r[1022] ^= 1;
	CHECK(ntfs_fixup_apply(r, 1024) == -EUCLEAN, "fixup: torn second block detected");
	r[1022] ^= 1;
	r[510] ^= 1;
	CHECK(ntfs_fixup_apply(r, 1024) == -EUCLEAN, "fixup: torn first block detected");
	r[510] ^= 1;
	CHECK(ntfs_fixup_apply(r, 1024) == 0, "fixup: intact again");
	ntfs_fixup_protect(r, 1024);
	ntfs_put16(r + 6, 2);
	CHECK(ntfs_fixup_apply(r, 1024) == -EUCLEAN, "fixup: count not size/512 + 1");
	ntfs_put16(r + 6, 3);
	ntfs_put16(r + 4, 506);
	CHECK(ntfs_fixup_apply(r, 1024) == -EUCLEAN, "fixup: array over the first block end");
	ntfs_put16(r + 4, 49);
	CHECK(ntfs_fixup_apply(r, 1024) == -EUCLEAN, "fixup: odd array offset");
	ntfs_put16(r + 4, 2);
	CHECK(ntfs_fixup_apply(r, 1024) == -EUCLEAN, "fixup: array inside the header");
	CHECK(ntfs_fixup_apply(r, 1000) == -EUCLEAN, "fixup: size not a multiple of 512");
	CHECK(ntfs_fixup_apply(r, 0) == -EUCLEAN, "fixup: empty record");
}

/* ---- records and attributes ---- */

/* A 1024-byte FILE record: $VOLUME_INFORMATION (resident, 12 bytes),
 * a named non-resident $DATA, end marker. */
static void record(uint8_t *r)
{
	uint8_t *a;

	memset(r, 0, 1024);
	memcpy(r, "FILE", 4);
	ntfs_put16(r + 4, 48);
	ntfs_put16(r + 6, 3);
	ntfs_put16(r + 16, 1);			/* sequence */
	ntfs_put16(r + 20, 56);			/* first attribute */
	ntfs_put16(r + 22, NTFS_RECORD_IN_USE);
	ntfs_put32(r + 28, 1024);
	a = r + 56;				/* resident, 24 + 16 */
	ntfs_put32(a, NTFS_AT_VOLUME_INFORMATION);
	ntfs_put32(a + 4, 40);
	ntfs_put32(a + 16, 12);
	ntfs_put16(a + 20, 24);
	a[24 + 8] = 3;
	a[24 + 9] = 1;
	ntfs_put16(a + 24 + 10, NTFS_VOLUME_DIRTY);
	a = r + 96;				/* non-resident "$I30" */
	ntfs_put32(a, NTFS_AT_DATA);
	ntfs_put32(a + 4, 80);
	a[8] = 1;
	a[9] = 4;
	ntfs_put16(a + 10, 64);
	ntfs_put64(a + 24, 15);			/* highest VCN */
	ntfs_put16(a + 32, 72);			/* mapping pairs */
	ntfs_put64(a + 40, 65536);
	ntfs_put64(a + 48, 65536);
	ntfs_put64(a + 56, 65536);
	memcpy(a + 64, "$\0I\0003\0000\0", 8);
	a[72] = 0x11;				/* 16 clusters at LCN 0x20 */
	a[73] = 16;
	a[74] = 0x20;
	a[75] = 0;
	ntfs_put32(r + 176, NTFS_AT_END);
	ntfs_put32(r + 24, 184);		/* bytes in use */
}

static void test_attributes(void)
{
	uint8_t r[1024];
	struct ntfs_attr a;
	size_t pos = 0;
	uint16_t fl = 0;
	uint8_t maj = 0, min = 0;
	int count = 0, ret;

	record(r);
	ntfs_fixup_protect(r, 1024);
	CHECK(ntfs_record_load(r, 1024) == 0, "record: loads");
	while ((ret = ntfs_attr_next(r, 1024, &pos, &a)) > 0)
		count++;
	CHECK(ret == 0 && count == 2, "attributes: walk finds 2 and the end");
	CHECK(ntfs_volume_info(r, 1024, &fl, &maj, &min) == 0 && fl == NTFS_VOLUME_DIRTY &&
	      maj == 3 && min == 1, "volume info: flags and version");
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, "$I30", &a) == 1 && a.non_resident &&
	      a.data_size == 65536 && a.highest_vcn == 15 && a.runs_len == 8,
	      "attributes: named non-resident found");
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, NULL, &a) == 0,
	      "attributes: unnamed is not the named one");
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_INDEX_ROOT, NULL, &a) == 0,
	      "attributes: absent type not found");

	record(r);
	ntfs_put32(r + 56 + 4, 0);
	pos = 0;
	CHECK(ntfs_attr_next(r, 1024, &pos, &a) == -EUCLEAN, "attributes: zero length stops the walk");
	record(r);
	ntfs_put32(r + 56 + 4, 2000);
	pos = 0;
	CHECK(ntfs_attr_next(r, 1024, &pos, &a) == -EUCLEAN, "attributes: length beyond the record");
	record(r);
	ntfs_put32(r + 56 + 4, 44);
	pos = 0;
	CHECK(ntfs_attr_next(r, 1024, &pos, &a) == -EUCLEAN, "attributes: unaligned length");
	record(r);
	ntfs_put16(r + 56 + 20, 36);		/* value 12 bytes at 36 > 40 */
	pos = 0;
	CHECK(ntfs_attr_next(r, 1024, &pos, &a) == -EUCLEAN, "attributes: value beyond the attribute");
	record(r);
	ntfs_put32(r + 56 + 16, 0xFFFFFFF0);
	pos = 0;
	CHECK(ntfs_attr_next(r, 1024, &pos, &a) == -EUCLEAN, "attributes: huge value length");
	record(r);
	ntfs_put16(r + 96 + 10, 76);		/* name past the attribute */
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, "$I30", &a) == -EUCLEAN,
	      "attributes: name beyond the attribute");
	record(r);
	ntfs_put16(r + 96 + 32, 80);
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, "$I30", &a) == -EUCLEAN,
	      "attributes: mapping pairs offset at the end");
	record(r);
	ntfs_put64(r + 96 + 56, 70000);
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, "$I30", &a) == -EUCLEAN,
	      "attributes: initialized size above data size");
	record(r);
	ntfs_put64(r + 96 + 48, 70000);		/* data size above allocation */
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, "$I30", &a) == -EUCLEAN,
	      "attributes: data size above allocated size");
	record(r);
	ntfs_put64(r + 96 + 16, 16);		/* a later extent: sizes undefined */
	ntfs_put64(r + 96 + 48, 70000);
	ntfs_put64(r + 96 + 56, 0);
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, "$I30", &a) == 1,
	      "attributes: sizes of a later extent not compared");
	record(r);
	ntfs_put64(r + 96 + 24, INT64_MAX);	/* highest VCN */
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_DATA, "$I30", &a) == 1 &&
	      a.highest_vcn == INT64_MAX, "attributes: highest VCN INT64_MAX parsed (judged later)");
	record(r);
	ntfs_put32(r + 176, NTFS_AT_DATA);	/* no end marker before "used" */
	CHECK(ntfs_attr_find(r, 1024, NTFS_AT_BITMAP, NULL, &a) == -EUCLEAN,
	      "attributes: missing end marker");
	record(r);
	ntfs_put16(r + 20, 1020);
	pos = 0;
	CHECK(ntfs_attr_next(r, 1024, &pos, &a) == -EUCLEAN, "attributes: first offset beyond use");
	record(r);
	ntfs_put32(r + 24, 4096);
	pos = 0;
	CHECK(ntfs_attr_next(r, 1024, &pos, &a) == -EUCLEAN, "attributes: bytes in use above size");
	record(r);
	ntfs_fixup_protect(r, 1024);
	memcpy(r, "BAAD", 4);
	CHECK(ntfs_record_load(r, 1024) == -EUCLEAN, "record: BAAD magic refused");
	record(r);
	ntfs_put16(r + 20, 57);
	ntfs_fixup_protect(r, 1024);
	CHECK(ntfs_record_load(r, 1024) == -EUCLEAN, "record: unaligned attribute offset refused");
	record(r);
	ntfs_put16(r + 56 + 24 + 10, 0);
	ntfs_put32(r + 56 + 16, 8);
	CHECK(ntfs_volume_info(r, 1024, &fl, &maj, &min) == -EUCLEAN,
	      "volume info: value shorter than 12 bytes");
}

/* ---- runlists ---- */

static void test_runlists(void)
{
	struct ntfs_run rl[4];
	const uint8_t one[] = { 0x21, 0x10, 0x00, 0x01, 0 };
	const uint8_t three[] = { 0x11, 0x04, 0x20, 0x01, 0x08,	/* sparse */
				  0x11, 0x02, 0xF0, 0 };	/* -16 */
	const uint8_t neg[] = { 0x11, 0x04, 0x02, 0x11, 0x01, 0xF0, 0 };
	const uint8_t noend[] = { 0x11, 0x04, 0x20 };
	const uint8_t zero_len[] = { 0x11, 0x00, 0x20, 0 };
	const uint8_t neg_len[] = { 0x11, 0xFF, 0x20, 0 };
	const uint8_t big_nibble[] = { 0x19, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 };
	const uint8_t cut[] = { 0x31, 0x04, 0x20, 0 };
	const uint8_t five[] = { 0x11, 1, 1, 0x11, 1, 1, 0x11, 1, 1, 0x11, 1, 1,
				 0x11, 1, 1, 0 };
	const uint8_t ovf[] = { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
				0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0 };
	const uint8_t empty[] = { 0 };

	CHECK(ntfs_runlist_decode(one, sizeof(one), 0, rl, 4) == 1 && rl[0].vcn == 0 &&
	      rl[0].len == 16 && rl[0].lcn == 0x100, "runlist: one run, 2-byte LCN");
	CHECK(ntfs_runlist_decode(three, sizeof(three), 10, rl, 4) == 3 &&
	      rl[0].vcn == 10 && rl[0].lcn == 0x20 && rl[1].lcn == -1 && rl[1].vcn == 14 &&
	      rl[1].len == 8 && rl[2].vcn == 22 && rl[2].lcn == 0x10,
	      "runlist: sparse run and a negative delta");
	CHECK(ntfs_runlist_decode(neg, sizeof(neg), 0, rl, 4) == -EUCLEAN,
	      "runlist: LCN below zero refused");
	CHECK(ntfs_runlist_decode(noend, sizeof(noend), 0, rl, 4) == -EUCLEAN,
	      "runlist: missing terminator refused");
	CHECK(ntfs_runlist_decode(zero_len, sizeof(zero_len), 0, rl, 4) == -EUCLEAN,
	      "runlist: zero-length run refused");
	CHECK(ntfs_runlist_decode(neg_len, sizeof(neg_len), 0, rl, 4) == -EUCLEAN,
	      "runlist: negative length refused");
	CHECK(ntfs_runlist_decode(big_nibble, sizeof(big_nibble), 0, rl, 4) == -EUCLEAN,
	      "runlist: 9-byte length field refused");
	CHECK(ntfs_runlist_decode(cut, sizeof(cut), 0, rl, 4) == -EUCLEAN,
	      "runlist: pair cut by the buffer end refused");
	CHECK(ntfs_runlist_decode(five, sizeof(five), 0, rl, 4) == -E2BIG,
	      "runlist: more runs than room refused");
	CHECK(ntfs_runlist_decode(ovf, sizeof(ovf), 0, rl, 4) == -EUCLEAN,
	      "runlist: VCN overflow refused");
	CHECK(ntfs_runlist_decode(empty, sizeof(empty), 0, rl, 4) == 0,
	      "runlist: empty list");
	CHECK(ntfs_runlist_decode(empty, 0, 0, rl, 4) == -EUCLEAN,
	      "runlist: zero bytes refused");
}

/* ---- $LogFile restart pages ---- */

/* Restart page at buf (4096 bytes): version major.minor, client 0 in use
 * or not, clean flag, LSN. */
static void restart(uint8_t *pg, int major, int minor, int in_use, int clean,
		    uint64_t lsn, uint64_t file_size)
{
	uint8_t *ra = pg + 48, *cl = pg + 112;
	unsigned bits = 0;

	memset(pg, 0, 4096);
	memcpy(pg, "RSTR", 4);
	ntfs_put16(pg + 4, 30);
	ntfs_put16(pg + 6, 9);
	ntfs_put32(pg + 16, 4096);
	ntfs_put32(pg + 20, 4096);
	ntfs_put16(pg + 24, 48);
	ntfs_put16(pg + 26, (uint16_t)minor);
	ntfs_put16(pg + 28, (uint16_t)major);
	ntfs_put64(ra, lsn);
	ntfs_put16(ra + 8, 1);
	ntfs_put16(ra + 10, in_use ? 0xFFFF : 0);
	ntfs_put16(ra + 12, in_use ? 0 : 0xFFFF);
	ntfs_put16(ra + 14, clean ? 2 : 0);
	for (; file_size; file_size >>= 1)
		bits++;
	ntfs_put32(ra + 16, 67 - bits);
	ntfs_put16(ra + 20, 224);
	ntfs_put16(ra + 22, 64);
	ntfs_put64(ra + 24, 4u << 20);
	ntfs_put16(ra + 36, 48);
	ntfs_put16(ra + 38, 64);
	ntfs_put16(cl + 16, 0xFFFF);
	ntfs_put16(cl + 18, 0xFFFF);
	ntfs_fixup_protect(pg, 4096);
}

static void build_log(uint8_t *log, int major0, int minor0, int use0, int clean0,
		      uint64_t lsn0, int major1, int clean1, uint64_t lsn1)
{
	memset(log, 0xFF, NTFS_LOG_READ);
	restart(log, major0, minor0, use0, clean0, lsn0, 4u << 20);
	if (major1)
		restart(log + 4096, major1, major1 == 2 ? 0 : 1, 1, clean1, lsn1,
			4u << 20);
}

/* Judging applies the fixups in place: build, then judge once. */
static enum ntfs_log_state log_of(uint8_t *log, int major0, int minor0, int use0,
				  int clean0, uint64_t lsn0, int major1, int clean1,
				  uint64_t lsn1)
{
	build_log(log, major0, minor0, use0, clean0, lsn0, major1, clean1, lsn1);
	return ntfs_logfile_state(log, NTFS_LOG_READ);
}

/* A power cut while the page at `pg` was rewritten: its first sector is
 * new, the later ones keep the previous write's sequence number (how 0),
 * are zero (1) or garbage (2). */
static void tear_page(uint8_t *pg, int how)
{
	uint16_t usn = ntfs_le16(pg + ntfs_le16(pg + 4));
	unsigned i, j;

	for (i = 1; i < 8; i++) {
		uint8_t *sec = pg + 512 * i;

		if (how == 0)
			ntfs_put16(sec + 510, (uint16_t)(usn - 1));
		for (j = 0; how && j < 512; j++)
			sec[j] = how == 1 ? 0 : (uint8_t)(j * 37 + i);
	}
}

/* Changes a protected page's header or restart area field of `bytes`
 * (2 or 8) at `off`, and protects it again. */
static void edit_page(uint8_t *pg, size_t off, int bytes, uint64_t v)
{
	ntfs_fixup_apply(pg, 4096);
	if (bytes == 2)
		ntfs_put16(pg + off, (uint16_t)v);
	else
		ntfs_put64(pg + off, v);
	ntfs_fixup_protect(pg, 4096);
}

static void test_torn_logs(uint8_t *log)
{
	static const struct { int major, minor; enum ntfs_log_state want; } v[] = {
		{ 1, 1, NTFS_LOG_UNCLEAN }, { 2, 0, NTFS_LOG_FAST_STARTUP },
	};
	size_t i, at;
	int how;

	/* The newer page, unclean 1.1 or 2.0, torn in either place: it
	 * decides (ntfs-3g.probe --readwrite: 15 or 14), not the clean
	 * older one. */
	for (i = 0; i < 2; i++) {
		for (at = 0; at <= 4096; at += 4096) {
			memset(log, 0xFF, NTFS_LOG_READ);
			restart(log + at, v[i].major, v[i].minor, 1, 0, 9, 4u << 20);
			restart(log + (4096 - at), 1, 1, 1, 1, 5, 4u << 20);
			tear_page(log + at, 0);
			CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == v[i].want,
			      "log: torn newer %d.%d page at %zu decides (%d)",
			      v[i].major, v[i].minor, at, v[i].want);
			/* The same page, older than the clean one. */
			memset(log, 0xFF, NTFS_LOG_READ);
			restart(log + at, v[i].major, v[i].minor, 1, 0, 5, 4u << 20);
			restart(log + (4096 - at), 1, 1, 1, 1, 9, 4u << 20);
			tear_page(log + at, 0);
			CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_CLEAN,
			      "log: torn older %d.%d page at %zu: the newer clean one decides",
			      v[i].major, v[i].minor, at);
		}
	}
	/* A torn page's clean flag is not believed (ntfs-3g: 15). */
	for (at = 0; at <= 4096; at += 4096) {
		memset(log, 0xFF, NTFS_LOG_READ);
		restart(log + at, 1, 1, 1, 1, 9, 4u << 20);
		restart(log + (4096 - at), 1, 1, 1, 1, 5, 4u << 20);
		tear_page(log + at, 0);
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
		      "log: torn newer clean page at %zu: unclean", at);
	}
	/* ntfs-3g's header checks: the restart area after the update
	 * sequence array; header length and data offset multiples of 8;
	 * no more clients in both lists than in the array. */
	build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
	edit_page(log + 4096, 4, 2, 32);	/* array at 32..50, area at 48 */
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: restart area over the update sequence array: unclean");
	build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
	edit_page(log + 4096, 48 + 36, 2, 44);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: record header length not a multiple of 8: unclean");
	build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
	edit_page(log + 4096, 48 + 10, 2, 0);	/* client 0 free and in use */
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: one client in both lists: unclean");
	for (how = 1; how <= 2; how++) {
		build_log(log, 1, 1, 1, 1, 5, 1, 0, 9);
		tear_page(log + 4096, how);
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
		      "log: torn newer page, later sectors %s: first sector decides",
		      how == 1 ? "zero" : "garbage");
	}
	/* Restart area beyond the first sector: the torn page's LSN and
	 * state cannot be trusted, so the pages cannot be ordered. */
	for (at = 0; at <= 4096; at += 4096) {
		build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
		edit_page(log + at, 48 + 20, 2, 480);	/* restart area length */
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_CLEAN,
		      "log: long restart area, intact: clean");
		build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
		edit_page(log + at, 48 + 20, 2, 480);
		tear_page(log + at, 0);
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
		      "log: page at %zu torn inside its restart area: unordered, unclean", at);
	}
	build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
	log[4096 + 510] ^= 1;	/* the first sector itself is torn */
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: first sector of a page torn: unordered, unclean");
	/* Unknown versions (ntfs-3g skips such a page) next to a clean one. */
	for (at = 0; at <= 4096; at += 4096) {
		build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
		edit_page(log + at, 28, 2, 3);		/* version 3.1 */
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
		      "log: version 3.1 page at %zu next to a clean one: unclean", at);
		build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
		edit_page(log + at, 26, 2, 0);		/* version 1.0 */
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
		      "log: version 1.0 page at %zu next to a clean one: unclean", at);
	}
	/* Garbage, or zeros, where a restart page belongs. */
	for (at = 0; at <= 4096; at += 4096) {
		build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
		memset(log + at, 0, 4096);
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
		      "log: zeros instead of the page at %zu: unclean", at);
		build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
		memcpy(log + at, "RCRD", 4);
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
		      "log: no restart page at %zu: unclean", at);
		build_log(log, 1, 1, 1, 1, 5, 1, 1, 9);
		memset(log + at, 0xFF, 4096);
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_CLEAN,
		      "log: page at %zu emptied (0xFF), the other decides", at);
	}
	build_log(log, 1, 1, 1, 1, 5, 1, 0, 5);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: equal LSNs: the worse state");
	/* A second page emptied, and another restart page further on
	 * (ntfs-3g would find it at 8192 and might trust it). */
	build_log(log, 1, 1, 1, 1, 5, 0, 0, 0);
	restart(log + 8192, 1, 1, 1, 0, 9, 4u << 20);
	ntfs_fixup_apply(log + 8192, 4096);
	ntfs_put32(log + 8192 + 16, 8192);	/* it says it is the second */
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: a restart page at 8192 after an empty second place: unclean");
	memset(log, 0xFF, 8192);
	restart(log + 4096, 1, 1, 1, 1, 5, 4u << 20);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: only a second page, and another at 8192: unclean");
	memset(log + 8192, 0xFF, 4096);
	restart(log + 4096, 1, 1, 1, 1, 5, 4u << 20);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_CLEAN,
	      "log: only a second page, the first place 0xFF: it decides");
	/* chkdsk's pages: "CHKD", its LSN in the header, maybe no fixups. */
	for (how = 0; how < 2; how++) {
		build_log(log, 1, 1, 1, 0, 5, 1, 0, 6);
		ntfs_fixup_apply(log, 4096);
		memcpy(log, "CHKD", 4);
		ntfs_put16(log + 6, 0);
		ntfs_put64(log + 8, how ? 4 : 7);
		ntfs_put16(log + 48 + 14, 2);
		CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) ==
		      (how ? NTFS_LOG_UNCLEAN : NTFS_LOG_CLEAN),
		      how ? "log: older clean CHKD page does not count" :
			    "log: newer clean CHKD page without fixups decides");
	}
}

static void test_logfile(void)
{
	uint8_t *log = malloc(NTFS_LOG_READ);

	if (!log)
		return;
	memset(log, 0xFF, NTFS_LOG_READ);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_EMPTY, "log: all 0xFF is empty");
	CHECK(log_of(log, 1, 1, 1, 1, 5, 1, 1, 6) == NTFS_LOG_CLEAN, "log: client in use, clean flag");
	CHECK(log_of(log, 1, 1, 0, 0, 5, 0, 0, 0) == NTFS_LOG_CLEAN, "log: no client in use");
	CHECK(log_of(log, 1, 1, 1, 0, 5, 1, 0, 6) == NTFS_LOG_UNCLEAN, "log: in use without clean flag");
	CHECK(log_of(log, 2, 0, 1, 1, 5, 2, 1, 6) == NTFS_LOG_FAST_STARTUP, "log: version 2.0");
	CHECK(log_of(log, 1, 1, 1, 1, 5, 1, 0, 9) == NTFS_LOG_UNCLEAN,
	      "log: the newer (second) page decides: unclean");
	CHECK(log_of(log, 1, 1, 1, 0, 9, 1, 1, 5) == NTFS_LOG_UNCLEAN,
	      "log: the newer (first) page decides: unclean");
	CHECK(log_of(log, 1, 1, 1, 1, 9, 1, 0, 5) == NTFS_LOG_CLEAN,
	      "log: an older unclean page does not count");
	CHECK(log_of(log, 1, 1, 1, 1, 5, 2, 0, 9) == NTFS_LOG_FAST_STARTUP,
	      "log: newer version 2.0 page decides");
	CHECK(log_of(log, 1, 0, 1, 1, 5, 0, 0, 0) == NTFS_LOG_INVALID,
	      "log: version 1.0 unknown: no valid page");
	build_log(log, 1, 1, 1, 1, 5, 1, 0, 9);
	log[4096 + 1022] ^= 1;	/* tear the newer page after its first sector */
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: torn newer page, restart area in its first sector, decides");
	build_log(log, 1, 1, 1, 1, 5, 0, 0, 0);
	log[1022] ^= 1;
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_UNCLEAN,
	      "log: only page torn after its first sector, clean flag: unclean");
	test_torn_logs(log);
	build_log(log, 1, 1, 1, 0, 5, 0, 0, 0);
	ntfs_put64(log + 8, 1);		/* chkdsk LSN on an RSTR page */
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_INVALID,
	      "log: RSTR with a chkdsk LSN refused");
	build_log(log, 1, 1, 1, 0, 5, 0, 0, 0);
	ntfs_fixup_apply(log, 4096);
	ntfs_put16(log + 48 + 12, 3);	/* in-use list beyond the clients */
	ntfs_fixup_protect(log, 4096);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_INVALID,
	      "log: client index beyond the array refused");
	build_log(log, 1, 1, 1, 0, 5, 0, 0, 0);
	ntfs_fixup_apply(log, 4096);
	ntfs_put16(log + 112 + 18, 0);	/* client 0 is its own successor */
	ntfs_fixup_protect(log, 4096);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_INVALID,
	      "log: looping client list refused");
	build_log(log, 1, 1, 1, 0, 5, 0, 0, 0);
	ntfs_fixup_apply(log, 4096);
	ntfs_put16(log + 48 + 20, 4090);	/* restart area past the page */
	ntfs_fixup_protect(log, 4096);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_INVALID,
	      "log: restart area longer than the page refused");
	build_log(log, 1, 1, 1, 0, 5, 0, 0, 0);
	ntfs_put32(log + 16, 3000);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_INVALID,
	      "log: system page size not a power of two");
	build_log(log, 1, 1, 1, 0, 5, 0, 0, 0);
	CHECK(ntfs_logfile_state(log, 2048) == NTFS_LOG_INVALID,
	      "log: page cut by the buffer end");
	memset(log, 0, NTFS_LOG_READ);
	CHECK(ntfs_logfile_state(log, NTFS_LOG_READ) == NTFS_LOG_INVALID, "log: zeros are not empty");
	CHECK(ntfs_logfile_state(log, 0) == NTFS_LOG_INVALID, "log: nothing read");
	/* Buffers of exactly the bytes read: ASan sees any read beyond. */
	{
		uint8_t *cut = malloc(4098);

		if (cut) {
			memset(cut, 0, 2);
			CHECK(ntfs_logfile_state(cut, 2) == NTFS_LOG_INVALID,
			      "log: 2 bytes read");
			build_log(log, 1, 1, 1, 1, 5, 0, 0, 0);
			memcpy(cut, log, 4096);
			memset(cut + 4096, 0, 2);
			CHECK(ntfs_logfile_state(cut, 4098) == NTFS_LOG_UNCLEAN,
			      "log: 2 bytes of a second page, not 0xFF: unclean");
			free(cut);
		}
	}
	free(log);
}

/* ---- index entries ---- */

/* Appends an entry for `name` (ASCII, or raw UTF-16 when u16 != NULL). */
static size_t entry(uint8_t *e, uint64_t mref, const char *name,
		    const uint16_t *u16, size_t units)
{
	size_t klen = 66 + 2 * units, len = (16 + klen + 7) & ~(size_t)7, i;

	memset(e, 0, len);
	ntfs_put64(e, mref);
	ntfs_put16(e + 8, (uint16_t)len);
	ntfs_put16(e + 10, (uint16_t)klen);
	e[16 + 64] = (uint8_t)units;
	for (i = 0; i < units; i++)
		ntfs_put16(e + 16 + 66 + 2 * i, u16 ? u16[i] : (uint8_t)name[i]);
	return len;
}

static size_t index_hdr(uint8_t *h, const char *const *names, size_t count)
{
	size_t off = 16, i;

	memset(h, 0, 1024);
	for (i = 0; i < count; i++)
		off += entry(h + off, 100 + i, names[i], NULL, strlen(names[i]));
	ntfs_put16(h + off + 8, 16);		/* end entry */
	ntfs_put16(h + off + 12, 2);
	off += 16;
	ntfs_put32(h, 16);
	ntfs_put32(h + 4, (uint32_t)off);
	ntfs_put32(h + 8, (uint32_t)off);
	return off;
}

static void test_index(void)
{
	static const char *const names[] = { "$MFT", "bootmgr", "HIBERFIL.SYS", "pagefile.sys" };
	static const char *const other[] = { "hiberfil.sy", "hiberfil.sys.bak", "xhiberfil.sys" };
	static const uint16_t dotless[] = { 'h', 0x0131, 'b', 'e', 'r', 'f', 0x0131, 'l', '.',
					    's', 'y', 0x017F };
	static const uint16_t wide[] = { 'h', 0x0169, 'b', 'e', 'r', 'f', 'i', 'l', '.', 's', 'y', 's' };
	uint8_t h[1024];
	uint64_t mref = 0;
	size_t used;

	index_hdr(h, names, 4);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == 1 && mref == 102,
	      "index: HIBERFIL.SYS found as hiberfil.sys");
	index_hdr(h, other, 3);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == 0,
	      "index: near names do not match");
	index_hdr(h, names, 0);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == 0, "index: only the end entry");
	memset(h, 0, sizeof(h));
	used = 16 + entry(h + 16, 7, NULL, dotless, 12);
	ntfs_put16(h + used + 8, 16);
	ntfs_put16(h + used + 12, 2);
	ntfs_put32(h, 16);
	ntfs_put32(h + 4, (uint32_t)used + 16);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == 1 && mref == 7,
	      "index: U+0131 and U+017F fold to I and S (fail closed)");
	entry(h + 16, 7, NULL, wide, 12);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == 0,
	      "index: other non-ASCII letters do not fold");

	used = index_hdr(h, names, 4);
	CHECK(ntfs_index_find(h, used - 8, "hiberfil.sys", &mref) == -EUCLEAN,
	      "index: entries beyond the buffer refused");
	index_hdr(h, names, 4);
	ntfs_put16(h + 16 + 8, 0);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == -EUCLEAN,
	      "index: zero-length entry refused");
	index_hdr(h, names, 4);
	ntfs_put16(h + 16 + 10, 500);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == -EUCLEAN,
	      "index: key longer than its entry refused");
	index_hdr(h, names, 4);
	h[16 + 16 + 64] = 200;
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == -EUCLEAN,
	      "index: name longer than its key refused");
	used = index_hdr(h, names, 4);
	ntfs_put32(h + 4, (uint32_t)used - 16);	/* drop the end entry */
	CHECK(ntfs_index_find(h, sizeof(h), "zzz", &mref) == -EUCLEAN,
	      "index: missing end entry refused");
	index_hdr(h, names, 4);
	ntfs_put32(h, 12);
	CHECK(ntfs_index_find(h, sizeof(h), "hiberfil.sys", &mref) == -EUCLEAN,
	      "index: first entry inside the header refused");
	CHECK(ntfs_index_find(h, 8, "hiberfil.sys", &mref) == -EUCLEAN,
	      "index: header cut short refused");
}

/* ---- names and signatures ---- */

static void test_hiberfil(void)
{
	static uint8_t pg[NTFS_HIBER_PAGE];
	static const struct { const char *sig; enum ntfs_hiber h; int safe; } sigs[] = {
		{ "hibr", NTFS_HIBER_HIBR, 0 }, { "HIBR", NTFS_HIBER_HIBR, 0 },
		{ "RSTR", NTFS_HIBER_RSTR, 0 }, { "wake", NTFS_HIBER_WAKE, 1 },
		{ "WAKE", NTFS_HIBER_WAKE, 1 }, { "Hibr", NTFS_HIBER_OTHER, 0 },
		{ "wakE", NTFS_HIBER_OTHER, 0 }, { "\x01", NTFS_HIBER_OTHER, 0 },
	};
	uint8_t n[24];
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		memset(pg, 0, sizeof(pg));
		memcpy(pg, sigs[i].sig, strlen(sigs[i].sig));
		CHECK(ntfs_hiberfil_judge(pg, sizeof(pg)) == sigs[i].h &&
		      ntfs_hiber_is_safe(sigs[i].h) == sigs[i].safe,
		      "hiberfil: \"%s\" is %s", sigs[i].sig, sigs[i].safe ? "safe" : "unsafe");
	}
	memset(pg, 0, sizeof(pg));
	CHECK(ntfs_hiberfil_judge(pg, sizeof(pg)) == NTFS_HIBER_ZERO, "hiberfil: all zero is safe");
	pg[4095] = 1;
	CHECK(ntfs_hiberfil_judge(pg, sizeof(pg)) == NTFS_HIBER_OTHER,
	      "hiberfil: one byte set in the last position is unsafe");
	memset(pg, 0, sizeof(pg));
	CHECK(ntfs_hiberfil_judge(pg, 4095) == NTFS_HIBER_SHORT &&
	      !ntfs_hiber_is_safe(NTFS_HIBER_SHORT), "hiberfil: 4095 zero bytes are short, unsafe");
	memcpy(pg, "wake", 4);
	CHECK(ntfs_hiberfil_judge(pg, 0) == NTFS_HIBER_SHORT, "hiberfil: empty file is short");

	for (i = 0; i < 12; i++)
		ntfs_put16(n + 2 * i, (uint8_t)"HiberFil.Sys"[i]);
	CHECK(ntfs_name_is_nocase(n, 12, "hiberfil.sys"), "names: case folds");
	CHECK(!ntfs_name_is(n, 12, "hiberfil.sys"), "names: exact compare keeps case");
	CHECK(!ntfs_name_is_nocase(n, 11, "hiberfil.sys"), "names: length must match");
	ntfs_put16(n, 'H' + 0x100);
	CHECK(!ntfs_name_is_nocase(n, 12, "hiberfil.sys"), "names: high byte counts");
	CHECK(!strcmp(ntfs_state_name(NTFS_UNCLEAN_JOURNAL), "unclean-journal") &&
	      !strcmp(ntfs_state_name((enum ntfs_state)99), "corrupt"), "state names");
}

/* ---- ntfs_probe over memory ---- */

struct mem {
	const uint8_t *p;
	size_t n;
	int fail;
	int misaligned;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct mem *m = ctx;

	if (off % 512 || len % 512)
		m->misaligned = 1;
	if (m->fail)
		return -EIO;
	if (off > m->n || len > m->n - off)
		return -EIO;
	memcpy(buf, m->p + off, len);
	return 0;
}

static void test_probe(void)
{
	static uint8_t img[1 << 20];
	struct mem m = { img, sizeof(img), 0, 0 };
	struct ntfs_dev dev = { mem_read, &m, sizeof(img), 512 };
	struct ntfs_result r;

	CHECK(ntfs_probe(&dev, &r) == 0 && r.state == NTFS_NOT_NTFS, "probe: zeros are not NTFS");
	boot_sector(img);
	CHECK(ntfs_probe(&dev, &r) == 0 && r.state == NTFS_CORRUPT && strstr(r.detail, "truncated"),
	      "probe: volume larger than the device is corrupt (truncated)");
	ntfs_put64(img + 0x28, 2047);
	CHECK(ntfs_probe(&dev, &r) == 0 && r.state == NTFS_CORRUPT && r.detail[0],
	      "probe: boot sector without an MFT is corrupt");
	CHECK(!m.misaligned, "probe: every read is aligned to the block size");
	memcpy(img + 3, "-FVE-FS-", 8);
	CHECK(ntfs_probe(&dev, &r) == 0 && r.state == NTFS_BITLOCKER, "probe: BitLocker");
	m.fail = 1;
	CHECK(ntfs_probe(&dev, &r) == -EIO, "probe: read error is returned, not judged");
	m.fail = 0;
	dev.size = 100;
	CHECK(ntfs_probe(&dev, &r) == 0 && r.state == NTFS_NOT_NTFS, "probe: 100-byte device");
	dev.size = sizeof(img);
	dev.block_size = 3;
	CHECK(ntfs_probe(&dev, &r) == -EINVAL, "probe: block size not a power of two refused");
}

/* ---- ntfs_probe on the fuzz seeds: real mkntfs volumes, each state ---- */

struct seed_read {
	struct ntfz z;
	int misaligned;
};

static int seed_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct seed_read *s = ctx;

	if (off % s->z.block_size || (len % s->z.block_size && off + len != s->z.size))
		s->misaligned = 1;
	return ntfz_read(&s->z, off, buf, len);
}

static void test_seeds(void)
{
	static const struct { const char *name; enum ntfs_state want; } seeds[] = {
		{ "clean", NTFS_SAFE }, { "dirty", NTFS_DIRTY },
		{ "log-clean", NTFS_SAFE }, { "log-unclean", NTFS_UNCLEAN_JOURNAL },
		{ "fast", NTFS_FAST_STARTUP }, { "torn", NTFS_CORRUPT },
		{ "sect4k", NTFS_SAFE }, { "hibr", NTFS_HIBERNATED },
		{ "short", NTFS_HIBERNATED }, { "bigroot", NTFS_SAFE },
		{ "log-torn0", NTFS_UNCLEAN_JOURNAL },
		{ "log-torn1-v2", NTFS_FAST_STARTUP },
		{ "log-torn1-older", NTFS_SAFE }, { "log-v3", NTFS_UNCLEAN_JOURNAL },
		{ "log-torn-clean", NTFS_UNCLEAN_JOURNAL },
		{ "vcn-max", NTFS_CORRUPT }, { "log-vcn-max", NTFS_CORRUPT },
		{ "log-size-max", NTFS_CORRUPT },
	};
	static struct seed_read sr;
	static uint8_t buf[1 << 20];
	struct ntfs_result r;
	size_t i, n;
	unsigned bs;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		n = check_read_seed("fuzz-ntfsprobe", seeds[i].name, buf, sizeof(buf));
		if (!n)
			continue;
		for (bs = 512; bs <= 4096; bs *= 8) {
			struct ntfs_dev dev;

			ntfz_parse(&sr.z, buf, n);
			sr.z.block_size = bs;
			sr.misaligned = 0;
			dev.read = seed_read;
			dev.ctx = &sr;
			dev.size = sr.z.size;
			dev.block_size = bs;
			CHECK(ntfs_probe(&dev, &r) == 0 && r.state == seeds[i].want &&
			      !sr.misaligned,
			      "seed %s, %u-byte blocks: %s, reads aligned (%s: %s)",
			      seeds[i].name, bs, ntfs_state_name(seeds[i].want),
			      ntfs_state_name(r.state), r.detail);
		}
	}
}

/* ---- ntfs_probe on an edited mkntfs volume: values that overflow ---- */

/* The seed "clean" (a 4 MiB mkntfs volume) as flat bytes. */
static uint8_t *flat_seed(size_t *size)
{
	static struct ntfz z;
	static uint8_t raw[1 << 20];
	FILE *f = fopen("tests/fuzz/corpus/fuzz-ntfsprobe/clean", "rb");
	size_t n = f ? fread(raw, 1, sizeof(raw), f) : 0;
	uint8_t *img;

	if (f)
		fclose(f);
	if (!n)
		return NULL;
	ntfz_parse(&z, raw, n);
	img = malloc(z.size);
	if (img && ntfz_read(&z, 0, img, z.size)) {
		free(img);
		img = NULL;
	}
	*size = z.size;
	return img;
}

/* MFT record `recno` of the flat volume, fixups removed; re-protect with
 * ntfs_fixup_protect(rec, 1024) after editing. */
static uint8_t *flat_record(uint8_t *img, uint64_t recno)
{
	struct ntfs_boot b;
	uint8_t *rec;

	if (ntfs_boot_parse(img, 512, &b) || b.record_size != 1024)
		return NULL;
	rec = img + b.mft_lcn * b.cluster_size + recno * 1024;
	return ntfs_record_load(rec, 1024) ? NULL : rec;
}

/* Protects an edited record and copies it to $MFTMirr (records 0-3), so
 * the probe gets past the mirror check to the edited value. */
static void flat_commit(uint8_t *img, uint8_t *rec, uint64_t recno)
{
	struct ntfs_boot b;

	ntfs_fixup_protect(rec, 1024);
	if (recno < 4 && !ntfs_boot_parse(img, 512, &b))
		memcpy(img + b.mftmirr_lcn * b.cluster_size + recno * 1024, rec, 1024);
}

static enum ntfs_state flat_probe(uint8_t *img, size_t size, char *detail,
				  size_t dlen)
{
	struct mem m = { img, size, 0, 0 };
	struct ntfs_dev dev = { mem_read, &m, size, 512 };
	struct ntfs_result r;

	if (ntfs_probe(&dev, &r))
		return (enum ntfs_state)-1;
	snprintf(detail, dlen, "%s", r.detail);
	return r.state;
}

static void test_overflow(void)
{
	static const uint64_t recs[] = { 0, 2 };	/* $MFT, $LogFile */
	size_t size = 0, i;
	uint8_t *img = flat_seed(&size), *rec, *a;
	char detail[512];
	struct ntfs_attr at;

	CHECK(img != NULL, "overflow: the clean seed loads");
	if (!img)
		return;
	CHECK(flat_probe(img, size, detail, sizeof(detail)) == NTFS_SAFE,
	      "overflow: the unedited volume is safe (%s)", detail);
	for (i = 0; i < 2; i++) {
		/* highest_vcn + 1 overflowed (UBSan aborts here before
		 * the fix). */
		free(img);
		img = flat_seed(&size);
		rec = flat_record(img, recs[i]);
		if (!rec || ntfs_attr_find(rec, 1024, NTFS_AT_DATA, NULL, &at) != 1)
			break;
		a = rec + at.offset;
		ntfs_put64(a + 24, INT64_MAX);
		flat_commit(img, rec, recs[i]);
		CHECK(flat_probe(img, size, detail, sizeof(detail)) == NTFS_CORRUPT,
		      "overflow: record %llu $DATA highest VCN INT64_MAX is corrupt (%s)",
		      (unsigned long long)recs[i], detail);
		/* A huge data size (and initialized size) with 1 MiB of runs. */
		free(img);
		img = flat_seed(&size);
		rec = flat_record(img, recs[i]);
		a = rec + at.offset;
		ntfs_put64(a + 48, INT64_MAX);
		ntfs_put64(a + 56, INT64_MAX);
		flat_commit(img, rec, recs[i]);
		CHECK(flat_probe(img, size, detail, sizeof(detail)) == NTFS_CORRUPT,
		      "overflow: record %llu $DATA size INT64_MAX is corrupt (%s)",
		      (unsigned long long)recs[i], detail);
	}
	/* $LogFile's run moved to LCN 2^62: times the cluster size it
	 * overflows 64 bits.  The run needs 11 bytes of mapping pairs: grow
	 * the last attribute by 8. */
	free(img);
	img = flat_seed(&size);
	rec = flat_record(img, 2);
	if (rec && ntfs_attr_find(rec, 1024, NTFS_AT_DATA, NULL, &at) == 1 &&
	    at.offset + at.length == ntfs_le32(rec + 24) - 8) {
		static const uint8_t run[] = { 0x82, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x40, 0 };

		a = rec + at.offset;
		ntfs_put32(a + 4, at.length + 8);
		memcpy(a + 64, run, sizeof(run));
		memset(a + 64 + sizeof(run), 0, at.length + 8 - 64 - sizeof(run));
		ntfs_put32(a + at.length + 8, NTFS_AT_END);
		ntfs_put32(rec + 24, ntfs_le32(rec + 24) + 8);
		flat_commit(img, rec, 2);
		CHECK(flat_probe(img, size, detail, sizeof(detail)) == NTFS_CORRUPT,
		      "overflow: $LogFile run at LCN 2^62 is corrupt (%s)", detail);
	} else {
		CHECK(0, "overflow: $LogFile's $DATA is the last attribute");
	}
	free(img);
}

int main(void)
{
	test_boot();
	test_fixups();
	test_attributes();
	test_runlists();
	test_logfile();
	test_index();
	test_hiberfil();
	test_probe();
	test_seeds();
	test_overflow();
	return check_done();
}
