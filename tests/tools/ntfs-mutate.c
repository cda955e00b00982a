/* ntfs-mutate: turn a clean NTFS image into the states Windows leaves
 * behind (dirty, unclean journal, Fast Startup, BitLocker, torn record), to
 * make fixtures for ntfsprobe's tests and the QEMU boot tests.  Edits the
 * image in place; records keep valid fixups unless tearing is the point.
 * hiberfil.sys is not made here: write it with ntfs-3g or ntfscp.
 */
#include "msg.h"
#include "ntfs-edit.h"
#include "ntfs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
"Usage: ntfs-mutate [--offset BYTES] IMAGE ACTION [ARG...]\n"
"\n"
"Edits the NTFS file system in IMAGE (a bare volume, or one starting\n"
"--offset BYTES into a disk image) in place.  Actions:\n"
"\n"
"  dirty              set the dirty flag of $Volume (in $MFT and $MFTMirr)\n"
"  clean              clear every $Volume flag\n"
"  volume-flags HEX   set the $Volume flags to HEX (e.g. 0x4000)\n"
"  log-unclean        write $LogFile restart pages (version 1.1) with a\n"
"                     client in use and no clean flag: unclean journal\n"
"  log-clean          the same with the clean flag: a clean journal\n"
"  log-fast-startup   restart pages version 2.0, as Windows Fast Startup\n"
"                     leaves them\n"
"  log-empty          fill the restart pages with 0xFF (an emptied log)\n"
"  log-torn PAGE VERSION [older|clean]\n"
"                     write clean restart pages, then rewrite page PAGE\n"
"                     (0 or 1) as the newer one (or the older one) with\n"
"                     VERSION 1.1 (unclean, or clean with \"clean\") or\n"
"                     2.0 (Fast Startup), torn by a power cut: only its\n"
"                     first 512-byte sector is new, the later ones keep\n"
"                     the old sequence number\n"
"  log-garbage PAGE   write clean restart pages, then overwrite page PAGE\n"
"                     (0 or 1) with other bytes (neither a page nor 0xFF)\n"
"  log-version PAGE VERSION\n"
"                     write clean restart pages, then give page PAGE\n"
"                     VERSION (e.g. 3.0, 1.0) and make it the newer one\n"
"  attr-set RECORD TYPE OFFSET VALUE\n"
"                     store the 64-bit VALUE at byte OFFSET of the first\n"
"                     unnamed attribute TYPE (e.g. 0x80) of MFT record\n"
"                     RECORD, e.g. 24 (highest VCN), 48 (data size): for\n"
"                     hostile values (kept in $MFTMirr for records 0-3)\n"
"  bitlocker          write the BitLocker signature -FVE-FS- over the\n"
"                     NTFS one in the boot sector\n"
"  tear RECORD        break the update sequence of MFT record RECORD (a\n"
"                     torn write); 3 is $Volume, 5 the root directory\n"
"\n"
"Exit status: 0 done, 1 failure, 2 usage error.\n";

struct img {
	int fd;
	uint64_t base;		/* --offset */
};

static int img_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct img *im = ctx;
	ssize_t n = pread(im->fd, buf, len, (off_t)(im->base + off));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int img_write(struct img *im, uint64_t off, const void *buf, size_t len)
{
	ssize_t n = pwrite(im->fd, buf, len, (off_t)(im->base + off));

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Loads the record at `off`, lets `edit` change it, protects and writes. */
static int edit_record(struct img *im, uint64_t off, uint32_t rs,
		       uint16_t flags_and, uint16_t flags_or)
{
	uint8_t rec[4096];
	struct ntfs_attr a;
	int err = img_read(im, off, rec, rs);

	if (err)
		return err;
	if (ntfs_record_load(rec, rs) ||
	    ntfs_attr_find(rec, rs, NTFS_AT_VOLUME_INFORMATION, NULL, &a) != 1 ||
	    a.non_resident || a.value_len < 12)
		return -EUCLEAN;
	{
		uint8_t *v = rec + (a.value - rec);
		uint16_t fl = ntfs_le16(v + 10);

		ntfs_put16(v + 10, (uint16_t)((fl & flags_and) | flags_or));
	}
	if (ntfs_fixup_protect(rec, rs))
		return -EUCLEAN;
	return img_write(im, off, rec, rs);
}

static int boot_of(struct img *im, struct ntfs_boot *b)
{
	uint8_t s[512];
	int err = img_read(im, 0, s, sizeof(s));

	if (err)
		return err;
	return ntfs_boot_parse(s, sizeof(s), b) == 0 ? 0 : -EMEDIUMTYPE;
}

static int set_volume_flags(struct img *im, const struct ntfs_dev *dev,
			    uint16_t and_mask, uint16_t or_mask)
{
	struct ntfs_boot b;
	uint64_t off;
	uint32_t rs;
	int err = ntfs_mft_record_offset(dev, 3, &off, &rs);

	if (!err)
		err = edit_record(im, off, rs, and_mask, or_mask);
	if (!err)
		err = boot_of(im, &b);
	if (!err)	/* $MFTMirr holds records 0-3 contiguously */
		err = edit_record(im, b.mftmirr_lcn * b.cluster_size + 3ull * rs,
				  rs, and_mask, or_mask);
	return err;
}

enum log_kind { LOG_UNCLEAN, LOG_CLEAN, LOG_FAST, LOG_EMPTY };

/* Two restart pages (system and log page size 4096) with one client,
 * "NTFS", laid out as ntfs-3g's and the kernel's checks expect. */
static int write_log(struct img *im, const struct ntfs_dev *dev,
		     enum log_kind kind)
{
	uint8_t pg[4096];
	uint64_t off, size, fs;
	unsigned bits = 0, i;
	uint8_t *ra = pg + 48, *cl = pg + 48 + 64;
	int err = ntfs_logfile_location(dev, &off, &size);

	if (err)
		return err;
	if (size < 2 * sizeof(pg))
		return -ENOSPC;
	for (i = 0; i < 2; i++) {
		memset(pg, kind == LOG_EMPTY ? 0xFF : 0, sizeof(pg));
		if (kind != LOG_EMPTY) {
			memcpy(pg, "RSTR", 4);
			ntfs_put16(pg + 4, 30);		/* usa offset */
			ntfs_put16(pg + 6, 9);		/* usa count */
			ntfs_put32(pg + 16, 4096);	/* system page size */
			ntfs_put32(pg + 20, 4096);	/* log page size */
			ntfs_put16(pg + 24, 48);	/* restart area offset */
			ntfs_put16(pg + 26, kind == LOG_FAST ? 0 : 1);
			ntfs_put16(pg + 28, kind == LOG_FAST ? 2 : 1);
			ntfs_put64(ra, 0x100000 + i);	/* current LSN */
			ntfs_put16(ra + 8, 1);		/* log clients */
			ntfs_put16(ra + 10, 0xFFFF);	/* free list: none */
			ntfs_put16(ra + 12, 0);		/* in use: client 0 */
			/* Fast Startup leaves the clean flag off too. */
			ntfs_put16(ra + 14, kind == LOG_CLEAN ? 2 : 0);
			for (fs = size; fs; fs >>= 1)
				bits++;
			ntfs_put32(ra + 16, 67 - bits);	/* seq number bits */
			bits = 0;
			ntfs_put16(ra + 20, 64 + 160);	/* restart area length */
			ntfs_put16(ra + 22, 64);	/* client array offset */
			ntfs_put64(ra + 24, size);	/* file size */
			ntfs_put16(ra + 36, 48);	/* log record header */
			ntfs_put16(ra + 38, 64);	/* log page data offset */
			ntfs_put32(ra + 40, 1);		/* open count */
			ntfs_put16(cl + 16, 0xFFFF);	/* prev client */
			ntfs_put16(cl + 18, 0xFFFF);	/* next client */
			ntfs_put32(cl + 24, 8);		/* name length, bytes */
			memcpy(cl + 28, "N\0T\0F\0S\0", 8);
			ntfs_put16(pg + 30, 0);
			if (ntfs_fixup_protect(pg, sizeof(pg)))
				return -EUCLEAN;
		}
		err = img_write(im, off + i * sizeof(pg), pg, sizeof(pg));
		if (err)
			return err;
	}
	return 0;
}

/* After write_log(LOG_CLEAN): rewrites restart page `page` with version
 * major.minor as the newer (or older) page; with `torn`, unclean and only
 * its first sector written (the rest as before, with the old sequence
 * number), as a power cut in the middle of the write leaves it. */
static int log_page(struct img *im, const struct ntfs_dev *dev, unsigned page,
		    int major, int minor, int older, int torn, int clean)
{
	uint8_t pg[4096], old[4096];
	uint8_t *ra = pg + 48;
	uint64_t off, size;
	int err = write_log(im, dev, LOG_CLEAN);

	if (!err)
		err = ntfs_logfile_location(dev, &off, &size);
	if (!err)
		err = img_read(im, off + page * sizeof(pg), pg, sizeof(pg));
	if (err)
		return err;
	memcpy(old, pg, sizeof(pg));
	if (ntfs_fixup_apply(pg, sizeof(pg)))
		return -EUCLEAN;
	ntfs_put16(pg + 26, (uint16_t)minor);
	ntfs_put16(pg + 28, (uint16_t)major);
	/* write_log's LSNs are 0x100000 and 0x100001. */
	ntfs_put64(ra, older ? 0xFFFFF : 0x100002);
	if (torn && !clean)
		ntfs_put16(ra + 14, 0);		/* no clean flag */
	if (ntfs_fixup_protect(pg, sizeof(pg)))
		return -EUCLEAN;
	if (torn)
		memcpy(pg + 512, old + 512, sizeof(pg) - 512);
	return img_write(im, off + page * sizeof(pg), pg, sizeof(pg));
}

/* Stores `v` at `field` of attribute `type` in the record at `off`. */
static int set_attr_at(struct img *im, uint64_t off, uint32_t rs,
		       uint32_t type, uint32_t field, uint64_t v)
{
	uint8_t rec[4096];
	struct ntfs_attr a;
	int err = img_read(im, off, rec, rs);

	if (err)
		return err;
	if (ntfs_record_load(rec, rs) ||
	    ntfs_attr_find(rec, rs, type, NULL, &a) != 1 ||
	    field > a.length - 8)
		return -EUCLEAN;
	ntfs_put64(rec + a.offset + field, v);
	if (ntfs_fixup_protect(rec, rs))
		return -EUCLEAN;
	return img_write(im, off, rec, rs);
}

static int set_attr(struct img *im, const struct ntfs_dev *dev, uint64_t recno,
		    uint32_t type, uint32_t field, uint64_t v)
{
	struct ntfs_boot b;
	uint64_t off;
	uint32_t rs;
	int err = ntfs_mft_record_offset(dev, recno, &off, &rs);

	if (!err)
		err = boot_of(im, &b);
	if (!err)
		err = set_attr_at(im, off, rs, type, field, v);
	if (!err && recno < 4)	/* $MFTMirr holds records 0-3 contiguously */
		err = set_attr_at(im, b.mftmirr_lcn * b.cluster_size + recno * rs,
				  rs, type, field, v);
	return err;
}

/* After write_log(LOG_CLEAN): restart page `page` becomes bytes that are
 * neither a restart page nor 0xFF. */
static int log_garbage(struct img *im, const struct ntfs_dev *dev, unsigned page)
{
	uint8_t pg[4096];
	uint64_t off, size;
	unsigned i;
	int err = write_log(im, dev, LOG_CLEAN);

	if (!err)
		err = ntfs_logfile_location(dev, &off, &size);
	if (err)
		return err;
	for (i = 0; i < sizeof(pg); i++)
		pg[i] = (uint8_t)(i * 151 + 7);
	return img_write(im, off + page * sizeof(pg), pg, sizeof(pg));
}

/* "MAJOR.MINOR" */
static int parse_version(const char *s, int *major, int *minor)
{
	char *end;
	long a = strtol(s, &end, 10), b;

	if (end == s || *end != '.')
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end || a < 0 || a > 0x7FFF || b < 0 || b > 0x7FFF)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

static int tear(struct img *im, const struct ntfs_dev *dev, uint64_t recno)
{
	uint64_t off;
	uint32_t rs;
	uint8_t w[2];
	int err = ntfs_mft_record_offset(dev, recno, &off, &rs);

	/* The last word of the first 512 bytes no longer matches the
	 * update sequence number: half of the record was written. */
	if (!err)
		err = img_read(im, off + 510, w, 2);
	if (!err) {
		w[0] ^= 0x5A;
		err = img_write(im, off + 510, w, 2);
	}
	return err;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct img im = { -1, 0 };
	struct ntfs_dev dev;
	struct stat st;
	const char *path, *action, *arg;
	char *end;
	int c, err, nargs;

	msg_init(argv[0]);
	while ((c = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			errno = 0;
			im.base = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg) {
				msg_error(optarg, "--offset wants a number of bytes");
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			msg_error(NULL, "unknown option (see --help)");
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 6) {
		msg_error(NULL, "give IMAGE and ACTION (see --help)");
		return 2;
	}
	path = argv[optind];
	action = argv[optind + 1];
	arg = argv[optind + 2];	/* NULL when absent */
	nargs = argc - optind - 2;
	if (nargs > 1 && strcmp(action, "log-torn") && strcmp(action, "log-version") &&
	    strcmp(action, "attr-set")) {
		msg_error(action, "too many arguments (see --help)");
		return 2;
	}
	im.fd = open(path, O_RDWR | O_CLOEXEC);
	if (im.fd < 0 || fstat(im.fd, &st) || (uint64_t)st.st_size <= im.base) {
		msg_errno(path, -(errno ? errno : EINVAL), "cannot open the image");
		return 1;
	}
	memset(&dev, 0, sizeof(dev));
	dev.read = img_read;
	dev.ctx = &im;
	dev.size = (uint64_t)st.st_size - im.base;
	dev.block_size = 512;
	if (!strcmp(action, "dirty") && !arg) {
		err = set_volume_flags(&im, &dev, 0xFFFF, NTFS_VOLUME_DIRTY);
	} else if (!strcmp(action, "clean") && !arg) {
		err = set_volume_flags(&im, &dev, 0, 0);
	} else if (!strcmp(action, "volume-flags") && arg) {
		unsigned long v = strtoul(arg, &end, 16);

		if (*end || v > 0xFFFF) {
			msg_error(arg, "volume-flags wants a 16-bit hex value");
			return 2;
		}
		err = set_volume_flags(&im, &dev, 0, (uint16_t)v);
	} else if (!strcmp(action, "log-unclean") && !arg) {
		err = write_log(&im, &dev, LOG_UNCLEAN);
	} else if (!strcmp(action, "log-clean") && !arg) {
		err = write_log(&im, &dev, LOG_CLEAN);
	} else if (!strcmp(action, "log-fast-startup") && !arg) {
		err = write_log(&im, &dev, LOG_FAST);
	} else if (!strcmp(action, "log-empty") && !arg) {
		err = write_log(&im, &dev, LOG_EMPTY);
	} else if ((!strcmp(action, "log-torn") && nargs >= 2 && nargs <= 3) ||
		   (!strcmp(action, "log-version") && nargs == 2)) {
		int torn = !strcmp(action, "log-torn"), major, minor;
		const char *when = nargs == 3 ? argv[optind + 4] : "newer";

		if ((strcmp(arg, "0") && strcmp(arg, "1")) ||
		    parse_version(argv[optind + 3], &major, &minor) ||
		    (torn && !((major == 1 && minor == 1) ||
			       (major == 2 && minor == 0))) ||
		    (strcmp(when, "newer") && strcmp(when, "older") &&
		     strcmp(when, "clean"))) {
			msg_error(action, "wants PAGE (0 or 1) and VERSION (see --help)");
			return 2;
		}
		err = log_page(&im, &dev, (unsigned)(*arg - '0'), major, minor,
			       !strcmp(when, "older"), torn, !strcmp(when, "clean"));
	} else if (!strcmp(action, "log-garbage") && nargs == 1) {
		if (strcmp(arg, "0") && strcmp(arg, "1")) {
			msg_error(arg, "log-garbage wants PAGE 0 or 1");
			return 2;
		}
		err = log_garbage(&im, &dev, (unsigned)(*arg - '0'));
	} else if (!strcmp(action, "attr-set") && nargs == 4) {
		unsigned long long v[4];
		int k;

		for (k = 0; k < 4; k++) {
			errno = 0;
			v[k] = strtoull(argv[optind + 2 + k], &end, 0);
			if (errno || *end || end == argv[optind + 2 + k]) {
				msg_error(argv[optind + 2 + k], "attr-set wants numbers");
				return 2;
			}
		}
		if (v[1] > 0xFFFFFFFF || v[2] > 4096) {
			msg_error(action, "TYPE or OFFSET out of range");
			return 2;
		}
		err = set_attr(&im, &dev, v[0], (uint32_t)v[1], (uint32_t)v[2], v[3]);
	} else if (!strcmp(action, "bitlocker") && !arg) {
		err = img_write(&im, 3, "-FVE-FS-", 8);
	} else if (!strcmp(action, "tear") && arg) {
		unsigned long long r = strtoull(arg, &end, 0);

		if (*end || end == arg) {
			msg_error(arg, "tear wants an MFT record number");
			return 2;
		}
		err = tear(&im, &dev, r);
	} else {
		msg_error(action, "unknown action or wrong arguments (see --help)");
		return 2;
	}
	if (!err && fsync(im.fd))
		err = -errno;
	close(im.fd);
	if (err) {
		msg_errno(path, err, "%s failed; is it a clean NTFS image (mkntfs)?",
			  action);
		return 1;
	}
	return 0;
}
