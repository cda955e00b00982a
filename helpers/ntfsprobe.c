/* ntfsprobe: may this Windows volume be mounted read-write right now?
 *
 * Runs before any read-write mount of an NTFS, FAT or exFAT host: a
 * hibernated, Fast Startup, dirty or unclean volume mounted read-write
 * loses the user's Windows session or data.  Opens the devices read-only
 * and never writes.  The judgements themselves are in lib/ntfs-probe.c and
 * lib/fat.c; see ntfsprobe(8).
 */
#include "fat.h"
#include "msg.h"
#include "ntfs.h"
#include "shquote.h"
#include "version.h"

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

/* Stable exit codes: the boot scripts depend on them.  12-15 are those of
 * ntfs-3g.probe, so both tools read the same. */
enum {
	EXIT_SAFE = 0,
	EXIT_USAGE = 2,		/* also: device cannot be opened or read */
	EXIT_NOT_NTFS = 12,	/* neither NTFS nor FAT/exFAT */
	EXIT_CORRUPT = 13,
	EXIT_HIBERNATED = 14,	/* also Fast Startup */
	EXIT_DIRTY = 15,	/* also an unclean journal */
	EXIT_BITLOCKER = 16,
};

static const char usage[] =
"Usage: ntfsprobe [--export] [--windows WINDEV]... [--no-windows-scan] DEVICE\n"
"\n"
"Identifies the file system on DEVICE (with libblkid) and, for NTFS, FAT\n"
"(FAT12/16/32) and exFAT, says whether a read-write mount is safe.  NTFS:\n"
"Windows must not be hibernated or kept open by Fast Startup (hiberfil.sys,\n"
"$LogFile), the journal must be clean and the volume not marked dirty.\n"
"FAT and exFAT: the volume must not be marked dirty or not cleanly\n"
"unmounted (boot sector dirty bit; FAT16/32 FAT[1] clean-shutdown and\n"
"hard-error bits; exFAT VolumeDirty and MediaFailure), and no Windows NTFS\n"
"volume of this machine may be hibernated or kept by Fast Startup: such a\n"
"Windows keeps its FAT and exFAT volumes open too, even unmarked.  Every\n"
"device is opened read-only; nothing is ever written.\n"
"\n"
"  -e, --export          print KEY='VALUE' lines for sh's eval: TYPE, UUID,\n"
"                        LABEL (as blkid reports them, empty when none),\n"
"                        NTFS_STATE (safe, not-ntfs, corrupt, hibernated,\n"
"                        fast-startup, dirty, unclean-journal, bitlocker),\n"
"                        NTFS_DETAIL (one line), then STATE and DETAIL: the\n"
"                        verdict for every type (as NTFS_STATE for NTFS;\n"
"                        safe, dirty, corrupt, hibernated, fast-startup for\n"
"                        FAT and exFAT; unchecked for anything else)\n"
"  -w, --windows WINDEV  for a FAT or exFAT DEVICE: the NTFS volume(s) whose\n"
"                        hibernation to check (repeatable), instead of every\n"
"                        NTFS volume in /proc/partitions\n"
"      --no-windows-scan for a FAT or exFAT DEVICE: check no NTFS volume\n"
"  -h, --help            this text\n"
"  -V, --version         the version\n"
"\n"
"Without --export an unsafe verdict is explained on stderr with what to do\n"
"in Windows; with --export too, except for not-ntfs/unchecked.  For FAT\n"
"and exFAT, NTFS_STATE stays not-ntfs: read STATE or the exit status.\n"
"\n"
"Exit status: 0 NTFS, FAT or exFAT, safe to mount read-write; 12 none of\n"
"them; 13 corrupt; 14 hibernated or Fast Startup (for FAT and exFAT: a\n"
"Windows NTFS volume is); 15 dirty, unclean journal, or not cleanly\n"
"unmounted; 16 BitLocker; 2 usage error, DEVICE cannot be opened or read,\n"
"or a WINDEV given cannot be opened.\n";

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

/* KEY='value' for eval, one line: line breaks become spaces, then the
 * value is quoted the one way (shquote.c). */
static void export(const char *key, const char *v)
{
	char line[2048], quoted[4 * sizeof(line) + 3];
	size_t i;

	snprintf(line, sizeof(line), "%s", v);
	for (i = 0; line[i]; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	shell_quote(line, quoted);
	printf("%s=%s\n", key, quoted);
}

/* An open device with its size and block size, read through fd_read. */
struct vol {
	struct fd_dev fdd;
	struct ntfs_dev dev;
	struct stat st;
	int opened;		/* open() worked: the size is what failed */
};

/* 0, or a negative errno (then nothing is left open). */
static int vol_open(const char *path, struct vol *v)
{
	int err;

	memset(v, 0, sizeof(*v));
	v->fdd.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (v->fdd.fd < 0)
		return -errno;
	v->opened = 1;
	v->dev.read = fd_read;
	v->dev.ctx = &v->fdd;
	err = dev_geometry(v->fdd.fd, &v->dev.size, &v->dev.block_size);
	if (!err && fstat(v->fdd.fd, &v->st))
		err = -errno;
	if (err) {
		close(v->fdd.fd);
		v->fdd.fd = -1;
	}
	return err;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* What the Windows (NTFS) volumes of this machine say about a FAT or
 * exFAT DEVICE: the first one hibernated or kept by Fast Startup. */
struct companion {
	char path[256];
	enum ntfs_state state;		/* NTFS_SAFE: none found */
	char detail[512];
};

/* Judges one NTFS volume; 1 when it is hibernated or Fast Startup (and
 * *c filled).  Unreadable, BitLocker, damaged, dirty or not NTFS at all:
 * 0, silently: only a Windows that is asleep keeps FAT volumes open, and
 * one we cannot read tells nothing. */
static int companion_check(const char *path, const struct vol *v,
			   struct companion *c)
{
	struct ntfs_result res;

	if (ntfs_probe(&v->dev, &res))
		return 0;
	if (res.state != NTFS_HIBERNATED && res.state != NTFS_FAST_STARTUP)
		return 0;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->state = res.state;
	snprintf(c->detail, sizeof(c->detail), "%s", res.detail);
	return 1;
}

/* Every block device in /proc/partitions but DEVICE itself. */
static void companion_scan(const struct stat *self, struct companion *c)
{
	FILE *f = fopen("/proc/partitions", "re");
	char line[256], name[200], path[256];
	unsigned maj, min;
	unsigned long long blocks;
	struct vol v;
	char *p;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %u %u %llu %199s", &maj, &min, &blocks,
			   name) != 4 || blocks < 2)
			continue;	/* header, or an extended partition */
		if (maj == 2)
			continue;	/* a floppy drive stalls without a disk */
		for (p = name; *p; p++)
			if (*p == '!')	/* cciss!c0d0 is /dev/cciss/c0d0 */
				*p = '/';
		snprintf(path, sizeof(path), "/dev/%s", name);
		if (vol_open(path, &v))
			continue;
		if (!same_file(self, &v.st) && companion_check(path, &v, c)) {
			close(v.fdd.fd);
			break;
		}
		close(v.fdd.fd);
	}
	fclose(f);
}

static const char *fat_remedy(const struct fat_result *r)
{
	if (r->state == FAT_CORRUPT)
		return remedy(NTFS_CORRUPT);
	if (r->flags & (FAT_FLAG_MEDIA_FAILURE | FAT_FLAG_HARD_ERROR))
		return "run 'chkdsk /f /r X:' in Windows (X: this volume) and "
		       "check the disk's health";
	return remedy(NTFS_DIRTY);
}

int main(int argc, char **argv)
{
	enum { OPT_NO_SCAN = 256 };
	static const struct option longopts[] = {
		{ "export", no_argument, NULL, 'e' },
		{ "windows", required_argument, NULL, 'w' },
		{ "no-windows-scan", no_argument, NULL, OPT_NO_SCAN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ntfs_result res;
	struct fat_result fres;
	struct companion comp;
	struct vol vol;
	struct ident id;
	const char *path, *fix, *state, *detail, *kind = NULL;
	static const char *windows[64];
	int c, exp = 0, scan = 1, nwin = 0, err, rc, i;
	int is_fat;
	char fdetail[1536];

	msg_init(argv[0]);
	opterr = 0;	/* one message, ours */
	while ((c = getopt_long(argc, argv, "ew:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			exp = 1;
			break;
		case 'w':
			if (nwin == (int)(sizeof(windows) / sizeof(windows[0]))) {
				msg_error(optarg, "too many --windows volumes");
				return EXIT_USAGE;
			}
			windows[nwin++] = optarg;
			break;
		case OPT_NO_SCAN:
			scan = 0;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("ntfsprobe (loopboot) %s\n", LOOPBOOT_VERSION);
			return 0;
		default:
			msg_error(argv[optind - 1], optopt == 'w' ?
				  "needs a device (see --help)" :
				  "unknown option (see --help)");
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		msg_error(NULL, "give exactly one DEVICE (see --help)");
		return EXIT_USAGE;
	}
	path = argv[optind];
	err = vol_open(path, &vol);
	if (err && !vol.opened) {
		msg_errno(path, err, "cannot open; check the device exists");
		return EXIT_USAGE;
	}
	if (err) {
		msg_errno(path, err, "cannot get its size; is it a block device or an image file?");
		return EXIT_USAGE;
	}
	identify(vol.fdd.fd, &id);
	err = ntfs_probe(&vol.dev, &res);
	if (err) {
		close(vol.fdd.fd);
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
	is_fat = res.state == NTFS_NOT_NTFS &&
		 (!strcmp(id.type, "vfat") || !strcmp(id.type, "exfat"));
	rc = exit_code(res.state);
	state = res.state == NTFS_NOT_NTFS ? "unchecked" : ntfs_state_name(res.state);
	detail = res.detail;
	memset(&comp, 0, sizeof(comp));
	if (is_fat) {
		err = fat_probe(&vol.dev, &fres);
		if (err) {
			close(vol.fdd.fd);
			msg_errno(path, err, "cannot read the device");
			return EXIT_USAGE;
		}
		if (fres.state == FAT_NOT_FAT) {
			/* blkid saw FAT where we see none: fail closed. */
			fres.state = FAT_CORRUPT;
			snprintf(fres.detail, sizeof(fres.detail),
				 "libblkid reports %s, but the boot sector is "
				 "not one ntfsprobe accepts", id.type);
		}
		kind = fres.state == FAT_CORRUPT ?
		       (!strcmp(id.type, "exfat") ? "exFAT" : "FAT") :
		       fat_kind_name(fres.kind);
		/* The Windows volumes: named ones must open (a typo must
		 * not pass for "not hibernated"); scanned ones may not. */
		for (i = 0; i < nwin && comp.state == NTFS_SAFE; i++) {
			struct vol w;

			err = vol_open(windows[i], &w);
			if (err) {
				close(vol.fdd.fd);
				msg_errno(windows[i], err, "cannot open this --windows volume; check the device exists");
				return EXIT_USAGE;
			}
			if (!same_file(&vol.st, &w.st))
				companion_check(windows[i], &w, &comp);
			close(w.fdd.fd);
		}
		if (!nwin && scan)
			companion_scan(&vol.st, &comp);
		if (comp.state != NTFS_SAFE) {
			rc = EXIT_HIBERNATED;
			state = ntfs_state_name(comp.state);
			snprintf(fdetail, sizeof(fdetail),
				 "Windows on %s is hibernated%s; it keeps its "
				 "FAT and exFAT volumes open too (%s: %s)%s%s",
				 comp.path, comp.state == NTFS_FAST_STARTUP ?
				 " (Fast Startup)" : "", comp.path, comp.detail,
				 fres.state != FAT_SAFE ? "; this volume: " : "",
				 fres.state != FAT_SAFE ? fres.detail : "");
		} else {
			rc = fres.state == FAT_SAFE ? EXIT_SAFE :
			     fres.state == FAT_DIRTY ? EXIT_DIRTY : EXIT_CORRUPT;
			state = fat_state_name(fres.state);
			snprintf(fdetail, sizeof(fdetail), "%s", fres.detail);
		}
		detail = fdetail;
	}
	close(vol.fdd.fd);
	if (exp) {
		export("TYPE", id.type);
		export("UUID", id.uuid);
		export("LABEL", id.label);
		export("NTFS_STATE", ntfs_state_name(res.state));
		export("NTFS_DETAIL", res.detail);
		export("STATE", state);
		export("DETAIL", detail);
		if (fflush(stdout) || ferror(stdout)) {
			msg_errno(NULL, -EIO, "cannot write the output");
			return EXIT_USAGE;
		}
	}
	if (is_fat) {
		if (rc == EXIT_SAFE && !exp)
			printf("%s: %s, safe to mount read-write\n", path, kind);
		else if (rc == EXIT_HIBERNATED)
			msg_error(path, "%s volume is not safe to mount read-write: %s. To fix: %s.",
				  kind, detail, remedy(comp.state));
		else if (rc != EXIT_SAFE)
			msg_error(path, "%s volume is not safe to mount read-write: %s. To fix: %s.",
				  kind, detail, fat_remedy(&fres));
		return rc;
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
