/* ntfsprobe: may this Windows volume be mounted read-write right now?
 *
 * Runs before any read-write mount of an NTFS host: a hibernated, Fast
 * Startup, dirty or unclean volume mounted read-write loses the user's
 * Windows session or data.  Opens the device read-only and never writes.
 * The judgement itself is in lib/ntfs.c; see ntfsprobe(8).
 */
#include "msg.h"
#include "ntfs.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LOOPBOOT_VERSION
#define LOOPBOOT_VERSION "0.1.0"
#endif

/* Stable exit codes: the boot scripts depend on them.  12-15 are those of
 * ntfs-3g.probe, so both tools read the same. */
enum {
	EXIT_SAFE = 0,
	EXIT_USAGE = 2,		/* also: device cannot be opened or read */
	EXIT_NOT_NTFS = 12,
	EXIT_CORRUPT = 13,
	EXIT_HIBERNATED = 14,	/* also Fast Startup */
	EXIT_DIRTY = 15,	/* also an unclean journal */
	EXIT_BITLOCKER = 16,
};

static const char usage[] =
"Usage: ntfsprobe [--export] DEVICE\n"
"\n"
"Identifies the file system on DEVICE (with libblkid) and, for NTFS, says\n"
"whether a read-write mount is safe: Windows must not be hibernated or\n"
"kept open by Fast Startup, the journal must be clean and the volume not\n"
"marked dirty.  DEVICE is opened read-only; nothing is ever written.\n"
"\n"
"  -e, --export   print KEY='VALUE' lines for sh's eval: TYPE, UUID, LABEL\n"
"                 (as blkid reports them, empty when none), NTFS_STATE (safe,\n"
"                 not-ntfs, corrupt, hibernated, fast-startup, dirty,\n"
"                 unclean-journal, bitlocker) and NTFS_DETAIL (one line)\n"
"  -h, --help     this text\n"
"  -V, --version  the version\n"
"\n"
"Without --export an unsafe verdict is explained on stderr with what to do\n"
"in Windows; with --export too, except for not-ntfs.\n"
"\n"
"Exit status: 0 NTFS, safe to mount read-write; 12 not NTFS; 13 NTFS but\n"
"corrupt; 14 hibernated or Fast Startup; 15 dirty or unclean journal;\n"
"16 BitLocker; 2 usage error, or DEVICE cannot be opened or read.\n";

static int exit_code(enum ntfs_state s)
{
	switch (s) {
	case NTFS_SAFE:
		return EXIT_SAFE;
	case NTFS_NOT_NTFS:
		return EXIT_NOT_NTFS;
	case NTFS_HIBERNATED:
	case NTFS_FAST_STARTUP:
		return EXIT_HIBERNATED;
	case NTFS_DIRTY:
	case NTFS_UNCLEAN_JOURNAL:
		return EXIT_DIRTY;
	case NTFS_BITLOCKER:
		return EXIT_BITLOCKER;
	case NTFS_CORRUPT:
		break;
	}
	return EXIT_CORRUPT;
}

static const char *remedy(enum ntfs_state s)
{
	switch (s) {
	case NTFS_HIBERNATED:
	case NTFS_FAST_STARTUP:
		return "start Windows and shut it down fully (not hibernate, not "
		       "restart); 'powercfg /h off' in an administrator prompt "
		       "turns hibernation and Fast Startup off for good";
	case NTFS_DIRTY:
	case NTFS_UNCLEAN_JOURNAL:
		return "start Windows and shut it down fully; if this persists, "
		       "run 'chkdsk /f X:' in Windows (X: this volume)";
	case NTFS_CORRUPT:
		return "run 'chkdsk /f X:' in Windows (X: this volume)";
	case NTFS_BITLOCKER:
		return "loopboot cannot read BitLocker volumes: turn BitLocker "
		       "off for it in Windows ('manage-bde -off X:') or keep "
		       "the image on an unencrypted volume";
	default:
		return NULL;
	}
}

struct fd_dev {
	int fd;
};

static int fd_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct fd_dev *d = ctx;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(d->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* the device ended early */
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Size and block size, from the kernel for a block device. */
static int dev_geometry(int fd, uint64_t *size, uint32_t *bs)
{
	struct stat st;
	int ssz;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) || ioctl(fd, BLKSSZGET, &ssz))
			return -errno;
		*bs = (uint32_t)ssz;
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		*bs = (uint32_t)st.st_blksize;
	} else {
		return -ENOTBLK;
	}
	if (*bs < 512 || *bs > 65536 || (*bs & (*bs - 1)))
		*bs = 512;
	return 0;
}

struct ident {
	char type[64], uuid[128], label[256];
};

static void blkid_value(blkid_probe pr, const char *name, char *out,
			size_t size)
{
	const char *v;

	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0)
		snprintf(out, size, "%s", v);
}

/* What blkid says; nothing found (or ambiguous) leaves the fields empty. */
static void identify(int fd, struct ident *id)
{
	blkid_probe pr = blkid_new_probe();

	memset(id, 0, sizeof(*id));
	if (!pr)
		return;
	if (blkid_probe_set_device(pr, fd, 0, 0) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
						  BLKID_SUBLKS_UUID |
						  BLKID_SUBLKS_LABEL);
		if (blkid_do_safeprobe(pr) == 0) {
			blkid_value(pr, "TYPE", id->type, sizeof(id->type));
			blkid_value(pr, "UUID", id->uuid, sizeof(id->uuid));
			blkid_value(pr, "LABEL", id->label, sizeof(id->label));
		}
	}
	blkid_free_probe(pr);
}

/* KEY='value' with ' written as '\'' and line breaks as spaces, so one
 * line is one variable for eval. */
static void export(const char *key, const char *v)
{
	printf("%s='", key);
	for (; *v; v++) {
		if (*v == '\'')
			fputs("'\\''", stdout);
		else if (*v == '\n' || *v == '\r')
			putchar(' ');
		else
			putchar(*v);
	}
	puts("'");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "export", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ntfs_result res;
	struct ntfs_dev dev;
	struct fd_dev fdd;
	struct ident id;
	const char *path, *fix;
	int c, exp = 0, err, rc;

	msg_init(argv[0]);
	opterr = 0;	/* one message, ours */
	while ((c = getopt_long(argc, argv, "ehV", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			exp = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("ntfsprobe (loopboot) %s\n", LOOPBOOT_VERSION);
			return 0;
		default:
			msg_error(argv[optind - 1], "unknown option (see --help)");
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		msg_error(NULL, "give exactly one DEVICE (see --help)");
		return EXIT_USAGE;
	}
	path = argv[optind];
	fdd.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fdd.fd < 0) {
		msg_errno(path, -errno, "cannot open; check the device exists");
		return EXIT_USAGE;
	}
	memset(&dev, 0, sizeof(dev));
	dev.read = fd_read;
	dev.ctx = &fdd;
	err = dev_geometry(fdd.fd, &dev.size, &dev.block_size);
	if (err) {
		msg_errno(path, err, "cannot get its size; is it a block device or an image file?");
		close(fdd.fd);
		return EXIT_USAGE;
	}
	identify(fdd.fd, &id);
	err = ntfs_probe(&dev, &res);
	close(fdd.fd);
	if (err) {
		msg_errno(path, err, "cannot read the device");
		return EXIT_USAGE;
	}
	/* BitLocker To Go keeps a FAT boot sector: only blkid sees it. */
	if (res.state == NTFS_NOT_NTFS && !strcmp(id.type, "BitLocker")) {
		res.state = NTFS_BITLOCKER;
		snprintf(res.detail, sizeof(res.detail),
			 "the volume is encrypted with BitLocker");
	}
	if (res.state == NTFS_NOT_NTFS && id.type[0])
		snprintf(res.detail, sizeof(res.detail),
			 "not NTFS: the file system is %s", id.type);
	rc = exit_code(res.state);
	if (exp) {
		export("TYPE", id.type);
		export("UUID", id.uuid);
		export("LABEL", id.label);
		export("NTFS_STATE", ntfs_state_name(res.state));
		export("NTFS_DETAIL", res.detail);
		if (fflush(stdout) || ferror(stdout)) {
			msg_errno(NULL, -EIO, "cannot write the output");
			return EXIT_USAGE;
		}
	}
	fix = remedy(res.state);
	if (rc == EXIT_SAFE && !exp)
		printf("%s: NTFS, safe to mount read-write\n", path);
	else if (rc == EXIT_NOT_NTFS && !exp)
		msg_error(path, "%s", res.detail);
	else if (fix)
		msg_error(path, "%s is not safe to mount read-write: %s. To fix: %s.",
			  res.state == NTFS_BITLOCKER ? "BitLocker volume" : "NTFS volume",
			  res.detail, fix);
	return rc;
}
