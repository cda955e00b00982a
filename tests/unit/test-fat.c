/* Unit tests of lib/fat.c on hand-made boot sectors: the geometry
 * mkfs.vfat and mkfs.exfat write, each state bit set by itself, then
 * hostile geometry one field at a time (it must come out corrupt, never
 * safe, and never overflow: UBSan watches). */
#include "check.h"
#include "fat.h"
#include "ntfs-edit.h"
#include "../fuzz/ntfz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t boot[4096], fat[4096];

static void common(uint16_t bps, uint8_t spc, uint16_t reserved, uint8_t nfats,
		   uint16_t root_entries, uint16_t total16, uint32_t total32)
{
	memset(boot, 0, sizeof(boot));
	boot[0] = 0xEB;
	boot[1] = 0x3C;
	boot[2] = 0x90;
	memcpy(boot + 3, "mkfs.fat", 8);
	ntfs_put16(boot + 0x0B, bps);
	boot[0x0D] = spc;
	ntfs_put16(boot + 0x0E, reserved);
	boot[0x10] = nfats;
	ntfs_put16(boot + 0x11, root_entries);
	ntfs_put16(boot + 0x13, total16);
	boot[0x15] = 0xF8;
	ntfs_put32(boot + 0x20, total32);
	boot[510] = 0x55;
	boot[511] = 0xAA;
}

/* 16 MiB, mkfs.vfat -F 16: 8167 clusters of 2 KiB. */
static void fat16(void)
{
	common(512, 4, 4, 2, 512, 32768, 0);
	ntfs_put16(boot + 0x16, 32);
	boot[0x26] = 0x29;
	memcpy(boot + 0x36, "FAT16   ", 8);
	memset(fat, 0, sizeof(fat));
	ntfs_put16(fat, 0xFFF8);
	ntfs_put16(fat + 2, 0xFFFF);
}

/* 1 MiB FAT12: 502 clusters. */
static void fat12(void)
{
	common(512, 4, 1, 2, 512, 2048, 0);
	ntfs_put16(boot + 0x16, 2);
	boot[0x26] = 0x29;
	memcpy(boot + 0x36, "FAT12   ", 8);
	memset(fat, 0, sizeof(fat));
	fat[0] = 0xF8;
	fat[1] = 0xFF;
	fat[2] = 0xFF;
}

/* 64 MiB, mkfs.vfat -F 32: 129022 clusters of 512 bytes. */
static void fat32(void)
{
	common(512, 1, 32, 2, 0, 0, 131072);
	ntfs_put32(boot + 0x24, 1009);
	ntfs_put32(boot + 0x2C, 2);
	ntfs_put16(boot + 0x30, 1);
	ntfs_put16(boot + 0x32, 6);
	boot[0x42] = 0x29;
	memcpy(boot + 0x52, "FAT32   ", 8);
	memset(fat, 0, sizeof(fat));
	ntfs_put32(fat, 0x0FFFFFF8);
	ntfs_put32(fat + 4, 0x0FFFFFFF);
}

/* 8 MiB, mkfs.exfat: 1536 clusters of 4 KiB. */
static void exfat(void)
{
	memset(boot, 0, sizeof(boot));
	boot[0] = 0xEB;
	boot[1] = 0x76;
	boot[2] = 0x90;
	memcpy(boot + 3, "EXFAT   ", 8);
	ntfs_put64(boot + 72, 16384);
	ntfs_put32(boot + 80, 2048);
	ntfs_put32(boot + 84, 16);
	ntfs_put32(boot + 88, 4096);
	ntfs_put32(boot + 92, 1536);
	ntfs_put32(boot + 96, 5);
	ntfs_put16(boot + 104, 0x0100);
	boot[108] = 9;
	boot[109] = 3;
	boot[110] = 1;
	boot[111] = 0x80;
	boot[510] = 0x55;
	boot[511] = 0xAA;
	memset(fat, 0, sizeof(fat));
}

#define DEV (1ull << 30)	/* a device larger than every volume here */

static enum fat_state judge(unsigned *flags)
{
	struct fat_result r;

	fat_judge(boot, 512, fat, 512, DEV, &r);
	if (flags)
		*flags = r.flags;
	if (!r.detail[0] || strchr(r.detail, '\n'))
		return (enum fat_state)99;	/* always one line */
	return r.state;
}

static int corrupt_now(void)
{
	struct fat_boot b;

	return fat_boot_parse(boot, 512, &b) == -EUCLEAN && judge(NULL) == FAT_CORRUPT;
}

static void test_clean(void)
{
	struct fat_boot b;
	struct fat_result r;

	fat12();
	CHECK(fat_boot_parse(boot, 512, &b) == 0 && b.kind == FAT_KIND_FAT12 &&
	      b.clusters == 502 && b.fat_offset == 512 && b.volume_size == 1u << 20,
	      "FAT12: parsed (502 clusters, FAT at 512)");
	CHECK(judge(NULL) == FAT_SAFE, "FAT12: clean is safe");
	fat16();
	CHECK(fat_boot_parse(boot, 512, &b) == 0 && b.kind == FAT_KIND_FAT16 &&
	      b.clusters == 8167 && b.fat_offset == 2048 && b.cluster_size == 2048,
	      "FAT16: parsed (8167 clusters, FAT at 2048)");
	CHECK(judge(NULL) == FAT_SAFE, "FAT16: clean is safe");
	fat32();
	CHECK(fat_boot_parse(boot, 512, &b) == 0 && b.kind == FAT_KIND_FAT32 &&
	      b.clusters == 129022 && b.fat_offset == 32 * 512,
	      "FAT32: parsed (129022 clusters, FAT at 16384)");
	CHECK(judge(NULL) == FAT_SAFE, "FAT32: clean is safe");
	exfat();
	CHECK(fat_boot_parse(boot, 512, &b) == 0 && b.kind == FAT_KIND_EXFAT &&
	      b.clusters == 1536 && b.cluster_size == 4096 &&
	      b.volume_size == 8u << 20 && b.fat_offset == 2048 * 512,
	      "exFAT: parsed (1536 clusters of 4 KiB)");
	CHECK(judge(NULL) == FAT_SAFE, "exFAT: clean is safe");
	fat_judge(boot, 512, NULL, 0, DEV, &r);
	CHECK(r.state == FAT_SAFE && r.kind == FAT_KIND_EXFAT,
	      "exFAT: no FAT sector needed");
	fat16();
	boot[510] = boot[511] = 0;
	CHECK(judge(NULL) == FAT_SAFE, "FAT16: 0x55AA not required (as the kernel)");
}

static void test_states(void)
{
	struct fat_result r;
	unsigned fl;

	fat12();
	boot[0x25] = 0x01;
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_BOOT_DIRTY,
	      "FAT12: boot sector byte 0x25 bit 0: dirty");
	fat12();
	fat[1] = 0x0F;
	fat[2] = 0x00;		/* FAT[1] = 0x000: FAT12 has no such bits */
	CHECK(judge(NULL) == FAT_SAFE, "FAT12: FAT[1] bits mean nothing");
	fat12();
	boot[0x25] = 0x02;
	CHECK(judge(NULL) == FAT_SAFE, "FAT12: byte 0x25 bit 1 (surface scan) alone is safe");

	fat16();
	boot[0x25] = 0x01;
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_BOOT_DIRTY,
	      "FAT16: boot sector byte 0x25 bit 0: dirty");
	fat16();
	ntfs_put16(fat + 2, 0x7FFF);
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_NOT_CLEAN,
	      "FAT16: FAT[1] bit 15 clear: not cleanly unmounted");
	fat16();
	ntfs_put16(fat + 2, 0xBFFF);
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_HARD_ERROR,
	      "FAT16: FAT[1] bit 14 clear: hard error");
	fat16();
	ntfs_put16(fat + 2, 0x3FFF);
	boot[0x25] = 0x01;
	fat_judge(boot, 512, fat, 512, DEV, &r);
	CHECK(r.state == FAT_DIRTY && r.flags == (FAT_FLAG_BOOT_DIRTY |
	      FAT_FLAG_NOT_CLEAN | FAT_FLAG_HARD_ERROR) &&
	      strstr(r.detail, "0x25") && strstr(r.detail, "clean-shutdown") &&
	      strstr(r.detail, "hard-error"),
	      "FAT16: all three named in the detail: %s", r.detail);
	fat16();
	boot[0x41] = 0x01;	/* boot code on FAT16: not the flag */
	CHECK(judge(NULL) == FAT_SAFE, "FAT16: byte 0x41 is not its flag");
	fat16();
	fat_judge(boot, 512, fat, 3, DEV, &r);
	CHECK(r.state == FAT_CORRUPT, "FAT16: FAT[1] missing: corrupt");
	fat_judge(boot, 512, NULL, 0, DEV, &r);
	CHECK(r.state == FAT_CORRUPT, "FAT16: no FAT sector: corrupt");

	fat32();
	boot[0x41] = 0x01;
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_BOOT_DIRTY,
	      "FAT32: boot sector byte 0x41 bit 0: dirty");
	fat32();
	ntfs_put32(fat + 4, 0x07FFFFFF);
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_NOT_CLEAN,
	      "FAT32: FAT[1] bit 27 clear: not cleanly unmounted");
	fat32();
	ntfs_put32(fat + 4, 0x0BFFFFFF);
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_HARD_ERROR,
	      "FAT32: FAT[1] bit 26 clear: hard error");
	fat32();
	ntfs_put32(fat + 4, 0x0FFFFFF8);	/* any EOC value is clean */
	CHECK(judge(NULL) == FAT_SAFE, "FAT32: FAT[1] = 0x0FFFFFF8 is clean");
	fat32();
	ntfs_put32(fat + 4, 0xF7FFFFFF);	/* top 4 bits are not it */
	CHECK(judge(NULL) == FAT_DIRTY, "FAT32: bit 27, not bit 31");
	fat32();
	fat_judge(boot, 512, fat, 7, DEV, &r);
	CHECK(r.state == FAT_CORRUPT, "FAT32: FAT[1] missing: corrupt");

	exfat();
	ntfs_put16(boot + 106, 0x0002);
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_EXFAT_DIRTY,
	      "exFAT: VolumeDirty: dirty");
	exfat();
	ntfs_put16(boot + 106, 0x0004);
	CHECK(judge(&fl) == FAT_DIRTY && fl == FAT_FLAG_MEDIA_FAILURE,
	      "exFAT: MediaFailure: unsafe");
	exfat();
	ntfs_put16(boot + 106, 0x0006);
	fat_judge(boot, 512, NULL, 0, DEV, &r);
	CHECK(r.state == FAT_DIRTY && strstr(r.detail, "VolumeDirty") &&
	      strstr(r.detail, "MediaFailure"), "exFAT: both named: %s", r.detail);
	exfat();
	ntfs_put16(boot + 106, 0x0008);
	CHECK(judge(NULL) == FAT_SAFE, "exFAT: ClearToZero alone is safe");
	exfat();
	ntfs_put16(boot + 106, 0x0001);
	CHECK(corrupt_now(), "exFAT: ActiveFat 1 with one FAT: corrupt");
	exfat();
	boot[110] = 2;
	ntfs_put16(boot + 106, 0x0001);
	{
		struct fat_boot b;

		CHECK(fat_boot_parse(boot, 512, &b) == 0 &&
		      b.fat_offset == (2048u + 16) * 512 && judge(NULL) == FAT_SAFE,
		      "exFAT: ActiveFat 1 with two FATs: second FAT, safe");
	}
}

static void test_not_fat(void)
{
	struct fat_boot b;
	struct fat_result r;

	memset(boot, 0, sizeof(boot));
	CHECK(fat_boot_parse(boot, 512, &b) == -EMEDIUMTYPE && judge(NULL) == FAT_NOT_FAT,
	      "zeros: not FAT");
	fat16();
	CHECK(fat_boot_parse(boot, 511, &b) == -EMEDIUMTYPE, "short buffer: not FAT");
	CHECK(fat_boot_parse(NULL, 0, &b) == -EMEDIUMTYPE, "no buffer: not FAT");
	memcpy(boot + 3, "NTFS    ", 8);
	CHECK(fat_boot_parse(boot, 512, &b) == -EMEDIUMTYPE, "NTFS OEM id: not FAT");
	memcpy(boot + 3, "-FVE-FS-", 8);
	CHECK(fat_boot_parse(boot, 512, &b) == -EMEDIUMTYPE, "BitLocker OEM id: not FAT");
	fat16();
	boot[0] = boot[2] = 0;
	memset(boot + 0x36, ' ', 8);
	CHECK(fat_boot_parse(boot, 512, &b) == -EMEDIUMTYPE, "no jump, no FAT string: not FAT");
	fat16();
	boot[0] = boot[2] = 0;
	CHECK(fat_boot_parse(boot, 512, &b) == 0, "no jump but \"FAT16\": FAT");
	fat16();
	fat_judge(boot, 512, fat, 512, 32768u * 512 - 1, &r);
	CHECK(r.state == FAT_CORRUPT && strstr(r.detail, "truncated"),
	      "FAT16 larger than the device: corrupt (truncated)");
	exfat();
	fat_judge(boot, 512, NULL, 0, (8u << 20) - 512, &r);
	CHECK(r.state == FAT_CORRUPT, "exFAT larger than the device: corrupt");
	CHECK(!strcmp(fat_state_name(FAT_DIRTY), "dirty") &&
	      !strcmp(fat_state_name((enum fat_state)42), "corrupt") &&
	      !strcmp(fat_kind_name(FAT_KIND_EXFAT), "exFAT"), "names");
}

static void test_hostile_fat(void)
{
	static const uint16_t bad_bps[] = { 0, 256, 511, 3000, 8192, 65535 };
	static const uint8_t bad_spc[] = { 0, 3, 6, 255 };
	size_t i;

	for (i = 0; i < sizeof(bad_bps) / sizeof(bad_bps[0]); i++) {
		fat16();
		ntfs_put16(boot + 0x0B, bad_bps[i]);
		CHECK(corrupt_now(), "FAT16: bytes/sector %u: corrupt", bad_bps[i]);
	}
	for (i = 0; i < sizeof(bad_spc) / sizeof(bad_spc[0]); i++) {
		fat32();
		boot[0x0D] = bad_spc[i];
		CHECK(corrupt_now(), "FAT32: sectors/cluster %u: corrupt", bad_spc[i]);
	}
	fat16();
	ntfs_put16(boot + 0x0E, 0);
	CHECK(corrupt_now(), "FAT16: no reserved sector: corrupt");
	fat16();
	boot[0x10] = 0;
	CHECK(corrupt_now(), "FAT16: no FAT: corrupt");
	fat16();
	boot[0x10] = 3;
	CHECK(corrupt_now(), "FAT16: 3 FATs: corrupt");
	fat16();
	boot[0x15] = 0x00;
	CHECK(corrupt_now(), "FAT16: media byte 0x00: corrupt");
	fat16();
	ntfs_put16(boot + 0x13, 0);
	CHECK(corrupt_now(), "FAT16: no sectors: corrupt");
	fat16();
	ntfs_put32(boot + 0x20, 40000);
	CHECK(corrupt_now(), "FAT16: two different sector counts: corrupt");
	fat16();
	ntfs_put16(boot + 0x11, 0);
	CHECK(corrupt_now(), "FAT16: no root entries: corrupt");
	fat16();
	ntfs_put16(boot + 0x11, 17);
	CHECK(corrupt_now(), "FAT16: root directory not whole sectors: corrupt");
	fat16();
	ntfs_put16(boot + 0x16, 31);	/* 7936 entries < 8169 */
	CHECK(corrupt_now(), "FAT16: FAT too small for its clusters: corrupt");
	fat16();
	ntfs_put16(boot + 0x16, 0xFFFF);	/* FATs larger than the volume */
	CHECK(corrupt_now(), "FAT16: metadata beyond the volume: corrupt");
	fat16();
	ntfs_put16(boot + 0x0E, 32768 - 64 - 32);	/* no data sector */
	CHECK(corrupt_now(), "FAT16: no data clusters: corrupt");
	fat16();
	boot[0x0D] = 1;		/* 32668 clusters: FAT16 needs 128 sectors */
	CHECK(corrupt_now(), "FAT16: 1 sector/cluster with a FAT for 8192: corrupt");
	fat16();
	boot[0x0D] = 1;
	ntfs_put16(boot + 0x13, 0);
	ntfs_put32(boot + 0x20, 4000000);
	ntfs_put16(boot + 0x16, 256);
	CHECK(corrupt_now(), "FAT16 layout with ~4 million clusters: corrupt");

	fat32();
	ntfs_put32(boot + 0x24, 0);
	ntfs_put16(boot + 0x16, 0);
	CHECK(corrupt_now(), "FAT32: FAT length 0: corrupt");
	fat32();
	ntfs_put32(boot + 0x24, 0xFFFFFFFF);
	CHECK(corrupt_now(), "FAT32: FAT length 2^32-1: corrupt, no overflow");
	fat32();
	ntfs_put32(boot + 0x20, 0xFFFFFFFF);
	boot[0x0D] = 128;
	ntfs_put16(boot + 0x0B, 4096);
	CHECK(corrupt_now(), "FAT32: 2^32-1 sectors of 4 KiB, FAT too small: corrupt, no overflow");
	fat32();
	ntfs_put16(boot + 0x11, 512);
	CHECK(corrupt_now(), "FAT32: root entries: corrupt");
	fat32();
	ntfs_put16(boot + 0x13, 1000);
	CHECK(corrupt_now(), "FAT32: 16-bit sector count: corrupt");
	fat32();
	ntfs_put16(boot + 0x2A, 0x0100);
	CHECK(corrupt_now(), "FAT32: version 1.0: corrupt");
	fat32();
	ntfs_put32(boot + 0x2C, 1);
	CHECK(corrupt_now(), "FAT32: root cluster 1: corrupt");
	fat32();
	ntfs_put32(boot + 0x2C, 129024);
	CHECK(corrupt_now(), "FAT32: root cluster past the last: corrupt");
	fat32();
	ntfs_put32(boot + 0x2C, 129023);
	CHECK(judge(NULL) == FAT_SAFE, "FAT32: root cluster the last one: fine");
	fat32();
	ntfs_put32(boot + 0x24, 1000);	/* 128000 entries < 129022 + 2 */
	CHECK(corrupt_now(), "FAT32: FAT too small: corrupt");
	fat32();
	ntfs_put16(boot + 0x28, 0x81);	/* mirroring off, FAT 1 active */
	{
		struct fat_boot b;

		CHECK(fat_boot_parse(boot, 512, &b) == 0 &&
		      b.fat_offset == (32u + 1009) * 512,
		      "FAT32: mirroring off: the active (second) FAT is read");
	}
	ntfs_put16(boot + 0x28, 0x82);
	CHECK(corrupt_now(), "FAT32: active FAT 2 of 2: corrupt");
	ntfs_put16(boot + 0x28, 0x02);	/* mirroring on: number ignored */
	CHECK(judge(NULL) == FAT_SAFE, "FAT32: mirroring on: FAT 0");
}

static void test_hostile_exfat(void)
{
	exfat();
	boot[1] = 0x3C;
	CHECK(corrupt_now(), "exFAT: wrong jump: corrupt");
	exfat();
	boot[0x0B] = 0x02;	/* a FAT BPB where MustBeZero is */
	CHECK(corrupt_now(), "exFAT: MustBeZero not zero: corrupt");
	exfat();
	boot[510] = 0;
	CHECK(corrupt_now(), "exFAT: no 0xAA55: corrupt");
	exfat();
	ntfs_put16(boot + 104, 0x0200);
	CHECK(corrupt_now(), "exFAT: revision 2.0: corrupt");
	exfat();
	boot[108] = 8;
	CHECK(corrupt_now(), "exFAT: 256-byte sectors: corrupt");
	exfat();
	boot[108] = 13;
	CHECK(corrupt_now(), "exFAT: 8 KiB sectors: corrupt");
	exfat();
	boot[109] = 17;		/* 9 + 17 > 25 */
	CHECK(corrupt_now(), "exFAT: 64 MiB clusters: corrupt");
	exfat();
	boot[109] = 255;
	CHECK(corrupt_now(), "exFAT: sectors/cluster shift 255: corrupt, no UB");
	exfat();
	boot[110] = 0;
	CHECK(corrupt_now(), "exFAT: no FAT: corrupt");
	exfat();
	boot[110] = 3;
	CHECK(corrupt_now(), "exFAT: 3 FATs: corrupt");
	exfat();
	ntfs_put64(boot + 72, 2047);
	CHECK(corrupt_now(), "exFAT: volume under 1 MiB: corrupt");
	exfat();
	ntfs_put64(boot + 72, UINT64_MAX);
	CHECK(corrupt_now(), "exFAT: volume length 2^64-1 sectors: corrupt");
	exfat();
	ntfs_put32(boot + 80, 0);
	CHECK(corrupt_now(), "exFAT: FAT offset 0: corrupt");
	exfat();
	ntfs_put32(boot + 84, 0);
	CHECK(corrupt_now(), "exFAT: FAT length 0: corrupt");
	exfat();
	ntfs_put32(boot + 84, 0xFFFFFFFF);
	CHECK(corrupt_now(), "exFAT: FAT length 2^32-1: corrupt, no overflow");
	exfat();
	ntfs_put32(boot + 88, 2050);
	CHECK(corrupt_now(), "exFAT: cluster heap inside the FAT: corrupt");
	exfat();
	ntfs_put32(boot + 92, 0);
	CHECK(corrupt_now(), "exFAT: no clusters: corrupt");
	exfat();
	ntfs_put32(boot + 92, 0xFFFFFFFF);
	CHECK(corrupt_now(), "exFAT: 2^32-1 clusters: corrupt");
	exfat();
	ntfs_put32(boot + 92, 1537);
	CHECK(corrupt_now(), "exFAT: clusters past the volume end: corrupt");
	exfat();
	ntfs_put32(boot + 84, 1);	/* 128 entries for 1538 */
	CHECK(corrupt_now(), "exFAT: FAT too small: corrupt");
	exfat();
	ntfs_put32(boot + 96, 1);
	CHECK(corrupt_now(), "exFAT: root cluster 1: corrupt");
	exfat();
	ntfs_put32(boot + 96, 1538);
	CHECK(corrupt_now(), "exFAT: root cluster past the last: corrupt");
}

/* fat_probe through a memory device: block sizes, reads in bounds. */
struct mem {
	const uint8_t *data;
	uint64_t size;
	uint32_t bs;
	int fail;
	int bad;		/* a read was unaligned or out of bounds */
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct mem *m = ctx;

	if (off % m->bs || (len % m->bs && off + len != m->size) ||
	    off > m->size || len > m->size - off)
		m->bad = 1;
	if (m->fail || m->bad)
		return -EIO;
	memcpy(buf, m->data + off, len);
	return 0;
}

static void test_probe(void)
{
	static const uint32_t sizes[] = { 512, 4096, 65536 };
	uint8_t *img = calloc(1, 1u << 20);
	struct ntfs_dev dev;
	struct fat_result r;
	struct mem m;
	size_t i;
	int err;

	if (!img) {
		CHECK(0, "memory for the probe tests");
		return;
	}
	fat12();
	memcpy(img, boot, 512);
	memcpy(img + 512, fat, 512);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.data = img;
		m.size = 1u << 20;
		m.bs = sizes[i];
		dev.read = mem_read;
		dev.ctx = &m;
		dev.size = m.size;
		dev.block_size = m.bs;
		img[512 + 2] = 0xFF;
		img[0x25] = 0;
		err = fat_probe(&dev, &r);
		CHECK(!err && !m.bad && r.state == FAT_SAFE && r.kind == FAT_KIND_FAT12,
		      "probe, %u-byte blocks: FAT12 clean", sizes[i]);
		img[0x25] = 1;
		err = fat_probe(&dev, &r);
		CHECK(!err && !m.bad && r.state == FAT_DIRTY,
		      "probe, %u-byte blocks: FAT12 dirty", sizes[i]);
	}
	m.fail = 1;
	CHECK(fat_probe(&dev, &r) == -EIO, "probe: a read error is returned");
	m.fail = 0;
	dev.size = m.size = 300;
	CHECK(fat_probe(&dev, &r) == 0 && !m.bad && r.state == FAT_NOT_FAT,
	      "probe: a 300-byte device is not FAT");
	dev.size = m.size = 0;
	CHECK(fat_probe(&dev, &r) == 0 && !m.bad && r.state == FAT_NOT_FAT,
	      "probe: an empty device is not FAT");
	dev.block_size = 1000;
	CHECK(fat_probe(&dev, &r) == -EINVAL, "probe: block size 1000 refused");
	free(img);
}

/* The fuzz seeds (tests/fuzz/fatprobe-corpus.sh) reach the states they
 * are named after: the fuzzer starts from every verdict. */
static void test_seeds(void)
{
	static const struct { const char *name; enum fat_state want; } seeds[] = {
		{ "fat12-clean", FAT_SAFE }, { "fat16-clean", FAT_SAFE },
		{ "fat32-clean", FAT_SAFE }, { "exfat-clean", FAT_SAFE },
		{ "fat16-boot-dirty", FAT_DIRTY }, { "fat16-not-clean", FAT_DIRTY },
		{ "fat32-boot-dirty", FAT_DIRTY }, { "fat32-not-clean", FAT_DIRTY },
		{ "exfat-dirty-media-failure", FAT_DIRTY },
	};
	static struct ntfz z;
	static uint8_t buf[1 << 16];
	struct fat_result r;
	struct ntfs_dev dev;
	size_t i, n;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		n = check_read_seed("fuzz-fatprobe", seeds[i].name, buf, sizeof(buf));
		if (!n)
			continue;
		ntfz_parse(&z, buf, n);
		dev.read = ntfz_read;
		dev.ctx = &z;
		dev.size = z.size;
		dev.block_size = z.block_size;
		CHECK(fat_probe(&dev, &r) == 0 && r.state == seeds[i].want,
		      "seed %s: %s (%s: %s)", seeds[i].name,
		      fat_state_name(seeds[i].want), fat_state_name(r.state),
		      r.detail);
	}
}

int main(void)
{
	test_clean();
	test_states();
	test_not_fat();
	test_hostile_fat();
	test_hostile_exfat();
	test_probe();
	test_seeds();
	return check_done();
}
