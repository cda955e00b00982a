/* FAT12/16/32 and exFAT: identify the volume and read the bits Windows
 * (and Linux) leave while they have it open.  See fat.h for the layout
 * facts.  Every field read from the disk is range-checked before use and
 * all arithmetic on them is done in 64 bits from values of at most 32, so
 * nothing overflows; an impossible value makes the volume "corrupt": a
 * read-write mount of something we cannot make sense of is not safe.
 */
#include "fat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FAT boot sector (BPB) offsets. */
enum {
	BPB_BYTES_PER_SECTOR = 0x0B,
	BPB_SECTORS_PER_CLUSTER = 0x0D,
	BPB_RESERVED = 0x0E,
	BPB_FATS = 0x10,
	BPB_ROOT_ENTRIES = 0x11,
	BPB_TOTAL16 = 0x13,
	BPB_MEDIA = 0x15,
	BPB_FAT_LENGTH16 = 0x16,
	BPB_TOTAL32 = 0x20,
	BPB_STATE16 = 0x25,		/* FAT12/16 "reserved1": dirty bit 0 */
	BPB_FAT_LENGTH32 = 0x24,
	BPB_EXT_FLAGS32 = 0x28,
	BPB_VERSION32 = 0x2A,
	BPB_ROOT_CLUSTER32 = 0x2C,
	BPB_STATE32 = 0x41,		/* FAT32 "reserved1": dirty bit 0 */
	BPB_FSTYPE16 = 0x36,
	BPB_FSTYPE32 = 0x52,
};
#define FAT_STATE_DIRTY 0x01

/* Largest cluster counts (the Microsoft specification's boundaries,
 * which the kernel's MAX_FAT12/16/32 follow). */
#define FAT12_MAX_CLUSTERS 4084u
#define FAT16_MAX_CLUSTERS 65524u
#define FAT32_MAX_CLUSTERS 0x0FFFFFF5u
#define EXFAT_MAX_CLUSTERS 0xFFFFFFF5u

static int corrupt(void)
{
	return -EUCLEAN;
}

/* A jump instruction or a file system type string: a FAT boot sector,
 * as opposed to no file system at all.  Geometry is judged afterwards. */
static int looks_fat(const uint8_t *s)
{
	if ((s[0] == 0xEB && s[2] == 0x90) || s[0] == 0xE9)
		return 1;
	return !memcmp(s + BPB_FSTYPE16, "FAT", 3) ||
	       !memcmp(s + BPB_FSTYPE32, "FAT", 3);
}

static int fat_parse(const uint8_t *s, struct fat_boot *b)
{
	uint32_t bps = ntfs_le16(s + BPB_BYTES_PER_SECTOR);
	uint32_t spc = s[BPB_SECTORS_PER_CLUSTER];
	uint32_t reserved = ntfs_le16(s + BPB_RESERVED);
	uint32_t nfats = s[BPB_FATS];
	uint32_t root_entries = ntfs_le16(s + BPB_ROOT_ENTRIES);
	uint32_t total16 = ntfs_le16(s + BPB_TOTAL16);
	uint32_t total32 = ntfs_le32(s + BPB_TOTAL32);
	uint32_t media = s[BPB_MEDIA];
	uint32_t fatlen = ntfs_le16(s + BPB_FAT_LENGTH16);
	uint64_t total, root_secs, meta, clusters, entries;
	uint32_t active = 0, bits;
	int fat32 = fatlen == 0;	/* as the kernel decides the layout */
	uint8_t state;

	if (bps < 512 || bps > 4096 || (bps & (bps - 1)))
		return corrupt();
	if (spc == 0 || (spc & (spc - 1)))
		return corrupt();
	if (reserved == 0 || nfats < 1 || nfats > 2)
		return corrupt();
	if (media != 0xF0 && media < 0xF8)
		return corrupt();
	if (total16 && total32 && total16 != total32)
		return corrupt();
	total = total16 ? total16 : total32;
	if (total == 0)
		return corrupt();
	if (fat32) {
		fatlen = ntfs_le32(s + BPB_FAT_LENGTH32);
		/* FAT32 has no fixed root directory, a 32-bit sector count
		 * and version 0.0; anything else is not a FAT32 Windows
		 * mounts. */
		if (fatlen == 0 || root_entries || total16 ||
		    ntfs_le16(s + BPB_VERSION32) != 0)
			return corrupt();
		state = s[BPB_STATE32];
	} else {
		/* The fixed root directory fills whole sectors. */
		if (root_entries == 0 || (root_entries * 32u) % bps)
			return corrupt();
		state = s[BPB_STATE16];
	}
	root_secs = (uint64_t)root_entries * 32u / bps;
	meta = (uint64_t)reserved + (uint64_t)nfats * fatlen + root_secs;
	if (meta >= total)
		return corrupt();
	clusters = (total - meta) / spc;
	if (clusters == 0)
		return corrupt();
	if (fat32) {
		b->kind = FAT_KIND_FAT32;
		bits = 32;
		if (clusters > FAT32_MAX_CLUSTERS)
			return corrupt();
	} else if (clusters <= FAT12_MAX_CLUSTERS) {
		b->kind = FAT_KIND_FAT12;
		bits = 12;
	} else {
		b->kind = FAT_KIND_FAT16;
		bits = 16;
		if (clusters > FAT16_MAX_CLUSTERS)
			return corrupt();
	}
	/* The FAT must have an entry for every cluster, plus FAT[0..1]. */
	entries = (uint64_t)fatlen * bps * 8u / bits;
	if (entries < clusters + 2)
		return corrupt();
	if (fat32) {
		uint32_t root = ntfs_le32(s + BPB_ROOT_CLUSTER32);
		uint16_t ext = ntfs_le16(s + BPB_EXT_FLAGS32);

		if (root < 2 || root > clusters + 1)
			return corrupt();
		/* Mirroring off: only the active FAT is kept up to date. */
		if (ext & 0x80) {
			active = ext & 0x0F;
			if (active >= nfats)
				return corrupt();
		}
	}
	b->sector_size = bps;
	b->cluster_size = bps * spc;
	b->clusters = (uint32_t)clusters;
	b->volume_size = total * bps;
	b->fat_offset = ((uint64_t)reserved + (uint64_t)active * fatlen) * bps;
	if (state & FAT_STATE_DIRTY)
		b->flags |= FAT_FLAG_BOOT_DIRTY;
	return 0;
}

/* exFAT main boot sector: the specification's field rules. */
static int exfat_parse(const uint8_t *s, struct fat_boot *b)
{
	uint64_t vol_len = ntfs_le64(s + 72);
	uint32_t fat_off = ntfs_le32(s + 80);
	uint32_t fat_len = ntfs_le32(s + 84);
	uint32_t heap = ntfs_le32(s + 88);
	uint32_t count = ntfs_le32(s + 92);
	uint32_t root = ntfs_le32(s + 96);
	uint16_t rev = ntfs_le16(s + 104);
	uint16_t vflags = ntfs_le16(s + FAT_EXFAT_FLAGS_OFFSET);
	uint32_t bss = s[108], spcs = s[109], nfats = s[110];
	uint32_t active = vflags & 1;
	size_t i;

	if (s[0] != 0xEB || s[1] != 0x76 || s[2] != 0x90)
		return corrupt();
	for (i = 11; i < 64; i++)	/* MustBeZero: no FAT BPB here */
		if (s[i])
			return corrupt();
	if (ntfs_le16(s + 510) != 0xAA55)
		return corrupt();
	if (rev >> 8 != 1)		/* revision 1.x only */
		return corrupt();
	if (bss < 9 || bss > 12 || spcs > 25 - bss)
		return corrupt();
	if (nfats < 1 || nfats > 2 || active >= nfats)
		return corrupt();
	/* At least 1 MiB; at most what 64 bits of bytes hold. */
	if (vol_len < (1u << 20) >> bss || vol_len > UINT64_MAX >> bss)
		return corrupt();
	if (fat_off < 24 || fat_len == 0)
		return corrupt();
	if ((uint64_t)fat_off + (uint64_t)fat_len * nfats > heap)
		return corrupt();
	if (count == 0 || count > EXFAT_MAX_CLUSTERS)
		return corrupt();
	if (((uint64_t)count + 2) * 4 > (uint64_t)fat_len << bss)
		return corrupt();
	if ((uint64_t)heap + ((uint64_t)count << spcs) > vol_len)
		return corrupt();
	if (root < 2 || (uint64_t)root > (uint64_t)count + 1)
		return corrupt();
	b->kind = FAT_KIND_EXFAT;
	b->sector_size = 1u << bss;
	b->cluster_size = 1u << (bss + spcs);
	b->clusters = count;
	b->volume_size = vol_len << bss;
	b->fat_offset = ((uint64_t)fat_off + (uint64_t)active * fat_len) << bss;
	b->exfat_flags = vflags;
	if (vflags & FAT_EXFAT_DIRTY)
		b->flags |= FAT_FLAG_EXFAT_DIRTY;
	if (vflags & FAT_EXFAT_MEDIA_FAILURE)
		b->flags |= FAT_FLAG_MEDIA_FAILURE;
	return 0;
}

int fat_boot_parse(const uint8_t *sector, size_t len, struct fat_boot *b)
{
	memset(b, 0, sizeof(*b));
	if (!sector || len < 512)
		return -EMEDIUMTYPE;
	if (!memcmp(sector + 3, "EXFAT   ", 8))
		return exfat_parse(sector, b);
	/* NTFS and BitLocker sectors start with a jump too. */
	if (!memcmp(sector + 3, "NTFS    ", 8) ||
	    !memcmp(sector + 3, "-FVE-FS-", 8) || !looks_fat(sector))
		return -EMEDIUMTYPE;
	return fat_parse(sector, b);
}

int fat_fat1_flags(const struct fat_boot *b, const uint8_t *fat, size_t len,
		   unsigned *flags)
{
	*flags = 0;
	switch (b->kind) {
	case FAT_KIND_FAT16: {
		uint16_t e;

		if (!fat || len < 4)
			return -EUCLEAN;
		e = ntfs_le16(fat + 2);
		if (!(e & FAT_FAT16_CLEAN))
			*flags |= FAT_FLAG_NOT_CLEAN;
		if (!(e & FAT_FAT16_HARD_ERROR))
			*flags |= FAT_FLAG_HARD_ERROR;
		return 0;
	}
	case FAT_KIND_FAT32: {
		uint32_t e;

		if (!fat || len < 8)
			return -EUCLEAN;
		e = ntfs_le32(fat + 4);
		if (!(e & FAT_FAT32_CLEAN))
			*flags |= FAT_FLAG_NOT_CLEAN;
		if (!(e & FAT_FAT32_HARD_ERROR))
			*flags |= FAT_FLAG_HARD_ERROR;
		return 0;
	}
	default:	/* FAT12 has no such bits; exFAT keeps them elsewhere */
		return 0;
	}
}

const char *fat_state_name(enum fat_state s)
{
	static const char *const names[] = {
		[FAT_SAFE] = "safe",
		[FAT_NOT_FAT] = "not-fat",
		[FAT_CORRUPT] = "corrupt",
		[FAT_DIRTY] = "dirty",
	};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "corrupt";
	return names[s];
}

const char *fat_kind_name(enum fat_kind k)
{
	switch (k) {
	case FAT_KIND_FAT12:
		return "FAT12";
	case FAT_KIND_FAT16:
		return "FAT16";
	case FAT_KIND_FAT32:
		return "FAT32";
	case FAT_KIND_EXFAT:
		return "exFAT";
	}
	return "FAT";
}

/* Appends "; text" (or text first) to the detail, truncating safely. */
static void add(char *d, size_t size, const char *text)
{
	size_t used = strlen(d);

	if (used + 1 >= size)
		return;
	snprintf(d + used, size - used, "%s%s", used ? "; " : "", text);
}

int fat_judge(const uint8_t *boot, size_t boot_len, const uint8_t *fat,
	      size_t fat_len, uint64_t device_size, struct fat_result *r)
{
	struct fat_boot b;
	unsigned f1;
	int err;

	memset(r, 0, sizeof(*r));
	err = fat_boot_parse(boot, boot_len, &b);
	if (err == -EMEDIUMTYPE) {
		r->state = FAT_NOT_FAT;
		snprintf(r->detail, sizeof(r->detail),
			 "no FAT or exFAT boot sector");
		return 0;
	}
	if (err) {
		r->state = FAT_CORRUPT;
		snprintf(r->detail, sizeof(r->detail),
			 "%s boot sector with impossible geometry",
			 boot_len >= 11 && !memcmp(boot + 3, "EXFAT   ", 8) ?
			 "exFAT" : "FAT");
		return 0;
	}
	r->kind = b.kind;
	if (b.volume_size > device_size) {
		r->state = FAT_CORRUPT;
		snprintf(r->detail, sizeof(r->detail),
			 "the %s file system (%llu bytes) is larger than the "
			 "device (%llu bytes): truncated", fat_kind_name(b.kind),
			 (unsigned long long)b.volume_size,
			 (unsigned long long)device_size);
		return 0;
	}
	if (fat_fat1_flags(&b, fat, fat_len, &f1)) {
		r->state = FAT_CORRUPT;
		snprintf(r->detail, sizeof(r->detail),
			 "the first sector of the FAT cannot be read");
		return 0;
	}
	r->flags = b.flags | f1;
	if (!(r->flags & FAT_FLAGS_UNSAFE)) {
		r->state = FAT_SAFE;
		snprintf(r->detail, sizeof(r->detail),
			 "%s, cleanly unmounted", fat_kind_name(b.kind));
		return 0;
	}
	r->state = FAT_DIRTY;
	if (r->flags & FAT_FLAG_BOOT_DIRTY)
		add(r->detail, sizeof(r->detail), b.kind == FAT_KIND_FAT32 ?
		    "marked dirty (boot sector byte 0x41)" :
		    "marked dirty (boot sector byte 0x25)");
	if (r->flags & FAT_FLAG_NOT_CLEAN)
		add(r->detail, sizeof(r->detail),
		    "not cleanly unmounted (FAT[1] clean-shutdown bit clear)");
	if (r->flags & FAT_FLAG_HARD_ERROR)
		add(r->detail, sizeof(r->detail),
		    "a disk error was recorded (FAT[1] hard-error bit clear)");
	if (r->flags & FAT_FLAG_EXFAT_DIRTY)
		add(r->detail, sizeof(r->detail),
		    "marked dirty (VolumeDirty): in use or not cleanly unmounted");
	if (r->flags & FAT_FLAG_MEDIA_FAILURE)
		add(r->detail, sizeof(r->detail),
		    "the disk reported failures (MediaFailure)");
	return 0;
}

/* Reads `len` bytes at `off` through whole blocks: the block-aligned
 * span around them, clipped to the device end.  *out points into buf. */
static int read_span(const struct ntfs_dev *dev, uint64_t off, size_t len,
		     uint8_t *buf, size_t bufsize, const uint8_t **out,
		     size_t *got)
{
	uint64_t bs = dev->block_size, start, end;
	int err;

	*out = NULL;
	*got = 0;
	if (off >= dev->size)
		return 0;
	start = off - off % bs;
	end = off + len;	/* off < size <= 2^64 - 1: len is small */
	if (end < off || end > dev->size)
		end = dev->size;
	if (end % bs && end != dev->size)
		end += bs - end % bs;
	if (end > dev->size)
		end = dev->size;
	if (end - start > bufsize)
		return -EINVAL;
	err = dev->read(dev->ctx, start, buf, (size_t)(end - start));
	if (err)
		return err;
	*out = buf + (off - start);
	*got = (size_t)(end - off);
	return 0;
}

int fat_probe(const struct ntfs_dev *dev, struct fat_result *r)
{
	uint32_t bs = dev->block_size;
	uint8_t *boot = NULL, *fatbuf = NULL;
	const uint8_t *bp, *fp = NULL;
	size_t blen, flen = 0;
	struct fat_boot b;
	int err;

	memset(r, 0, sizeof(*r));
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		return -EINVAL;
	/* Two blocks: a boot sector larger than the block may still be
	 * whole in them (sector 4096, block 512 reads only 512: enough,
	 * every field is in the first 512 bytes). */
	boot = calloc(1, 2u * bs);
	fatbuf = calloc(1, 2u * bs);
	if (!boot || !fatbuf) {
		err = -ENOMEM;
		goto out;
	}
	err = read_span(dev, 0, 512, boot, 2u * bs, &bp, &blen);
	if (err)
		goto out;
	if (fat_boot_parse(bp, blen, &b) == 0 && b.kind != FAT_KIND_EXFAT &&
	    b.volume_size <= dev->size) {
		err = read_span(dev, b.fat_offset, 8, fatbuf, 2u * bs, &fp,
				&flen);
		if (err)
			goto out;
	}
	err = fat_judge(bp, blen, fp, flen, dev->size, r);
out:
	free(boot);
	free(fatbuf);
	return err;
}
