/* libFuzzer target for ntfsprobe's FAT and exFAT library (lib/fat.c).
 *
 * Each input is a whole volume: plain bytes, or the sparse NTFZ form of
 * ntfz.h (the seeds in corpus/fuzz-fatprobe/ are the boot sector and the
 * first FAT block of real mkfs.vfat / mkfs.exfat volumes in that form).
 * Checked:
 *   - fat_probe() reaches a verdict: the read callback never fails, so an
 *     error return is a bug; the detail is one non-empty line;
 *   - every read it asks for is aligned to the block size and inside the
 *     device;
 *   - a "safe" verdict has no unsafe flag, a parsed volume fits its
 *     geometry (FAT inside the volume, volume inside the device);
 *   - the pure functions, run on the raw bytes too, stay in bounds.
 * ASan and UBSan watch every access and every arithmetic overflow.
 */
#include "fat.h"
#include "ntfz.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void pure(const uint8_t *data, size_t size)
{
	struct fat_boot b;
	struct fat_result r;
	unsigned fl;

	if (fat_boot_parse(data, size, &b) == 0) {
		if (b.sector_size < 512 || b.sector_size > 4096 ||
		    b.clusters == 0 || b.fat_offset >= b.volume_size ||
		    b.cluster_size < b.sector_size)
			abort();	/* parsed, yet impossible */
		if (size >= 1024)
			fat_fat1_flags(&b, data + 512, size - 512, &fl);
	}
	fat_judge(data, size, size > 512 ? data + 512 : NULL,
		  size > 512 ? size - 512 : 0, size, &r);
	if (r.state == FAT_SAFE && (r.flags & FAT_FLAGS_UNSAFE))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ntfz z;
	struct fat_result r;
	struct ntfs_dev dev;
	int err;

	ntfz_device(&z, data, size, &dev);
	err = fat_probe(&dev, &r);
	if (err && err != -ENOMEM)
		abort();
	if (!err && (r.state > FAT_DIRTY || !r.detail[0] ||
		     strchr(r.detail, '\n') ||
		     !memchr(r.detail, 0, sizeof(r.detail)) ||
		     (r.state == FAT_SAFE && (r.flags & FAT_FLAGS_UNSAFE)) ||
		     (r.state == FAT_DIRTY && !(r.flags & FAT_FLAGS_UNSAFE))))
		abort();
	pure(data, size);
	return 0;
}
