/* libFuzzer target for ntfsprobe's NTFS library.
 *
 * Each input is a whole volume (plain bytes, or the sparse NTFZ form of
 * ntfz.h, so seeds from real mkntfs volumes stay a few KB).  Checked:
 *   - ntfs_probe() reaches a verdict: the read callback never fails, so
 *     an error return is a bug; the detail is one non-empty line;
 *   - every read it asks for is aligned to the block size and inside the
 *     device;
 *   - the pure parsers, run on the raw bytes too, stay in bounds.
 * ASan and UBSan watch every access.
 */
#include "ntfs.h"
#include "ntfz.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void pure(const uint8_t *data, size_t size)
{
	static uint8_t buf[NTFS_LOG_READ];
	struct ntfs_boot b;
	struct ntfs_run runs[64];
	struct ntfs_attr a;
	size_t n = size < sizeof(buf) ? size : sizeof(buf), pos = 0;
	uint64_t mref;
	uint16_t fl;
	uint8_t maj, min;
	int i;

	ntfs_boot_parse(data, size, &b);
	ntfs_runlist_decode(data, size, 0, runs, 64);
	ntfs_index_find(data, size, "hiberfil.sys", &mref);
	ntfs_hiberfil_judge(data, size);
	memcpy(buf, data, n);
	ntfs_logfile_state(buf, n);
	if (size >= 1024) {
		memcpy(buf, data, 1024);
		if (ntfs_record_load(buf, 1024) == 0) {
			for (i = 0; ntfs_attr_next(buf, 1024, &pos, &a) > 0; i++)
				if (i > 1024)
					abort();	/* the walk must end */
			ntfs_volume_info(buf, 1024, &fl, &maj, &min);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ntfz z;
	struct ntfs_result r;
	struct ntfs_dev dev;
	int err;

	ntfz_device(&z, data, size, &dev);
	err = ntfs_probe(&dev, &r);
	if (err && err != -ENOMEM)
		abort();
	if (!err && (r.state > NTFS_BITLOCKER || !r.detail[0] ||
		     strchr(r.detail, '\n') || !memchr(r.detail, 0, sizeof(r.detail))))
		abort();
	pure(data, size);
	return 0;
}
