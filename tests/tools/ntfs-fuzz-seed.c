/* ntfs-fuzz-seed: turn an NTFS image into a small seed for fuzz-ntfsprobe.
 *
 * Runs ntfs_probe() on IMAGE, remembers every 512-byte block it read, and
 * writes only those in the sparse NTFZ form (../fuzz/ntfz.h): zero blocks
 * are left out, uniform ones (an emptied $LogFile is all 0xFF) become fill
 * chunks.  The seed then drives the probe through exactly the same path.
 */
#include "msg.h"
#include "ntfs.h"
#include "../fuzz/ntfz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rec {
	int fd;
	uint64_t size;
	uint8_t *seen;		/* one byte per 512-byte block */
};

static int rec_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct rec *r = ctx;
	uint64_t b;
	ssize_t n = pread(r->fd, buf, len, (off_t)off);

	if (n < 0 || (size_t)n != len)
		return n < 0 ? -errno : -EIO;
	for (b = off / 512; b < (off + len + 511) / 512; b++)
		r->seen[b] = 1;
	return 0;
}

static void put(FILE *f, uint64_t v, int bytes)
{
	while (bytes--) {
		fputc((int)(v & 0xFF), f);
		v >>= 8;
	}
}

int main(int argc, char **argv)
{
	struct rec r;
	struct ntfs_dev dev;
	struct ntfs_result res;
	struct stat st;
	uint8_t blk[512], first[512];
	uint64_t nblk, b, e, i;
	FILE *out;
	int err;

	msg_init(argv[0]);
	if (argc != 3) {
		fputs("Usage: ntfs-fuzz-seed IMAGE OUT\n", stderr);
		return 2;
	}
	r.fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (r.fd < 0 || fstat(r.fd, &st)) {
		msg_errno(argv[1], -errno, "cannot open");
		return 1;
	}
	r.size = (uint64_t)st.st_size;
	nblk = (r.size + 511) / 512;
	r.seen = calloc(nblk + 1, 1);
	if (!r.seen)
		return 1;
	dev.read = rec_read;
	dev.ctx = &r;
	dev.size = r.size;
	dev.block_size = 512;
	err = ntfs_probe(&dev, &res);
	if (err) {
		msg_errno(argv[1], err, "cannot probe");
		return 1;
	}
	out = fopen(argv[2], "wb");
	if (!out) {
		msg_errno(argv[2], -errno, "cannot create");
		return 1;
	}
	fputs("NTFZ", out);
	put(out, r.size, 8);
	put(out, 9, 1);
	/* Runs of read blocks, split where a block changes between data and
	 * one uniform byte. */
	for (b = 0; b < nblk; b = e) {
		int uniform;

		if (!r.seen[b] || pread(r.fd, first, 512, (off_t)(b * 512)) != 512) {
			e = b + 1;
			continue;
		}
		for (i = 1; i < 512 && first[i] == first[0]; i++)
			;
		uniform = i == 512;
		for (e = b + 1; e < nblk && r.seen[e] && e - b < 65535; e++) {
			int same;

			if (pread(r.fd, blk, 512, (off_t)(e * 512)) != 512)
				break;
			same = uniform ? !memcmp(blk, first, 512) : 1;
			for (i = 1; !uniform && i < 512 && blk[i] == blk[0]; i++)
				;
			if (uniform ? !same : i == 512)
				break;
		}
		if (uniform && first[0] == 0)
			continue;
		put(out, b, 4);
		put(out, e - b, 2);
		put(out, uniform ? 1 : 0, 1);
		if (uniform) {
			fputc(first[0], out);
			continue;
		}
		for (i = b; i < e; i++) {
			if (pread(r.fd, blk, 512, (off_t)(i * 512)) != 512)
				memset(blk, 0, 512);
			fwrite(blk, 1, 512, out);
		}
	}
	if (fclose(out)) {
		msg_errno(argv[2], -errno, "cannot write");
		return 1;
	}
	printf("%s: %s (%s)\n", argv[2], ntfs_state_name(res.state), res.detail);
	return 0;
}
