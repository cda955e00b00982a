/* The "NTFZ" sparse image format shared by fuzz-ntfsprobe and the tool
 * that makes its seeds (tests/tools/ntfs-fuzz-seed.c).
 *
 * A whole NTFS volume is megabytes, mostly zeros; ntfsprobe reads a few
 * kilobytes of it.  So an input is either a plain image (any bytes), or:
 *
 *   "NTFZ", u64 device size, u8 block shift (9-16),
 *   then chunks: u32 first 512-byte block, u16 blocks, u8 kind,
 *   kind 0: blocks*512 data bytes follow; kind 1: one fill byte follows.
 *
 * (little-endian).  Blocks no chunk covers read as zeros.
 */
#ifndef LOOPBOOT_NTFZ_H
#define LOOPBOOT_NTFZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntfs.h"

#define NTFZ_MAX_CHUNKS 512
#define NTFZ_MAX_SIZE (1ull << 40)

struct ntfz_chunk {
	uint64_t off, len;
	const uint8_t *data;	/* NULL: fill */
	uint8_t fill;
};

struct ntfz {
	const uint8_t *plain;	/* not NTFZ: the bytes are the image */
	uint64_t size;
	uint32_t block_size;
	struct ntfz_chunk c[NTFZ_MAX_CHUNKS];
	size_t n;
};

/* Parses what it can; a cut-off chunk ends the list. */
static inline void ntfz_parse(struct ntfz *z, const uint8_t *p, size_t len)
{
	size_t i = 13;

	memset(z, 0, sizeof(*z));
	z->block_size = 512;
	if (len < 13 || memcmp(p, "NTFZ", 4)) {
		z->plain = p;
		z->size = len;
		return;
	}
	z->size = ntfs_le64(p + 4) % NTFZ_MAX_SIZE;
	if (p[12] >= 9 && p[12] <= 16)
		z->block_size = 1u << p[12];
	while (z->n < NTFZ_MAX_CHUNKS && len - i >= 7) {
		struct ntfz_chunk *c = &z->c[z->n];
		uint32_t blk = ntfs_le32(p + i);
		uint16_t cnt = ntfs_le16(p + i + 4);
		uint8_t kind = p[i + 6];

		i += 7;
		c->off = (uint64_t)blk * 512;
		c->len = (uint64_t)cnt * 512;
		if (kind == 0) {
			if (len - i < c->len)
				break;
			c->data = p + i;
			i += c->len;
		} else {
			if (len - i < 1)
				break;
			c->fill = p[i++];
		}
		z->n++;
	}
}

static inline int ntfz_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct ntfz *z = ctx;
	uint8_t *out = buf;
	size_t i;

	if (off > z->size || len > z->size - off)
		return -5;	/* EIO: the library must not ask for this */
	if (z->plain) {
		memcpy(out, z->plain + off, len);
		return 0;
	}
	memset(out, 0, len);
	for (i = 0; i < z->n; i++) {
		const struct ntfz_chunk *c = &z->c[i];
		uint64_t s = off > c->off ? off : c->off;
		uint64_t e = off + len < c->off + c->len ? off + len : c->off + c->len;

		if (s >= e)
			continue;
		if (c->data)
			memcpy(out + (s - off), c->data + (s - c->off), e - s);
		else
			memset(out + (s - off), c->fill, e - s);
	}
	return 0;
}

/* The fuzzers' reader: ntfz_read, and abort() on a read the probing
 * library must never make (unaligned, or beyond the device). */
static inline int ntfz_checked_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	const struct ntfz *z = ctx;
	uint64_t bs = z->block_size;

	if (off % bs || (len % bs && off + len != z->size))
		abort();	/* unaligned read */
	if (off > z->size || len > z->size - off)
		abort();	/* read beyond the device */
	return ntfz_read(ctx, off, buf, len);
}

/* DEV reads the input DATA as parsed into Z, through ntfz_checked_read. */
static inline void ntfz_device(struct ntfz *z, const uint8_t *data, size_t size,
			       struct ntfs_dev *dev)
{
	ntfz_parse(z, data, size);
	dev->read = ntfz_checked_read;
	dev->ctx = z;
	dev->size = z->size;
	dev->block_size = z->block_size;
}

#endif
