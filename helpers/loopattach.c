/* loopattach: attach the file holding the root file system to a loop device.
 *
 * Every block of the root passes through this device for as long as the
 * system runs, so it is set up once and checked: what the kernel applied
 * is read back, nothing silently becomes read-only, and a failed attach
 * leaves no device behind.  See loopattach(8).
 */
#include "loop.h"
#include "msg.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_MISSING 3

static const char usage[] =
"Usage: loopattach [OPTIONS] FILE\n"
"       loopattach [--root DIR] --associated FILE\n"
"       loopattach --detach DEVICE\n"
"       loopattach --set-capacity DEVICE\n"
"\n"
"Attaches FILE to a free loop device and prints the device (/dev/loopN),\n"
"nothing else, on stdout.  Autoclear is off: the device stays until\n"
"detached.  FILE is opened read-write unless --read-only is given; if\n"
"that fails the attach fails (no silent read-only device).  FILE is\n"
"looked at with O_PATH first: only a regular file is ever opened (through\n"
"/proc/self/fd), never a device, FIFO or socket.\n"
"\n"
"  -r, --read-only         a read-only device (FILE opened read-only)\n"
"  -o, --offset N          data starts N bytes into FILE\n"
"      --sizelimit N       the device ends after N bytes\n"
"  -P, --partscan          let the kernel scan for partitions\n"
"  -b, --sector-size N     logical block size: 512, 1024, 2048, 4096 ...\n"
"      --direct-io[=on|off] bypass the page cache for FILE (default: on,\n"
"                          except on FUSE, e.g. ntfs-3g, where loop with\n"
"                          direct I/O has hung); if the kernel refuses\n"
"                          it, a warning says so and the device is buffered\n"
"      --root DIR          FILE is a path inside DIR (the host mount):\n"
"                          \"..\" and absolute symlinks cannot leave DIR\n"
"      --reuse             FILE attached already: print that device and\n"
"                          succeed (without it: refused, the device named)\n"
"  -j, --associated FILE   print the devices backed by FILE, one a line\n"
"                          (with --root: resolved exactly as an attach)\n"
"  -d, --detach DEVICE     detach DEVICE\n"
"  -c, --set-capacity DEVICE\n"
"                          the file behind DEVICE has grown: the device\n"
"                          takes its new size, printed in bytes (what\n"
"                          loopboot-grow does before growing the root)\n"
"  -h, --help              this text\n"
"  -V, --version           the version\n"
"N takes the suffixes K, M, G, T (KiB, 1024) and KB, MB ... (1000), or 0x.\n"
"\n"
"Refused: FILE not a regular file, empty, its size not a multiple of 512,\n"
"compressed or encrypted by the host file system (statx, FIEMAP, or the\n"
"NTFS attributes in the xattr system.ntfs_attrib_be: ntfs-3g, ntfs3),\n"
"OFFSET past its end, already attached to a loop device (named).\n"
"Warned about: FILE sparse (holes; writes fail when the host fills up).\n"
"\n"
"Exit status: 0 success; 1 failure (message on stderr; --associated: no\n"
"device backed by FILE); 2 usage error; 3 FILE does not exist (attach\n"
"and --associated alike).\n";

struct options {
	struct loop_request req;
	int direct_io;		/* -1 = default, 0 off, 1 on */
	const char *root;
	const char *file;
	const char *detach;
	const char *set_capacity;
	const char *associated;
	bool reuse;		/* FILE attached already: print that device */
};

static int usage_error(const char *object, const char *text)
{
	msg_error(object, "%s (see --help)", text);
	return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_SIZELIMIT = 256, OPT_DIRECT_IO, OPT_ROOT, OPT_REUSE };
	static const struct option longopts[] = {
		{ "read-only", no_argument, NULL, 'r' },
		{ "offset", required_argument, NULL, 'o' },
		{ "sizelimit", required_argument, NULL, OPT_SIZELIMIT },
		{ "partscan", no_argument, NULL, 'P' },
		{ "sector-size", required_argument, NULL, 'b' },
		{ "direct-io", optional_argument, NULL, OPT_DIRECT_IO },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "reuse", no_argument, NULL, OPT_REUSE },
		{ "associated", required_argument, NULL, 'j' },
		{ "detach", required_argument, NULL, 'd' },
		{ "set-capacity", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->direct_io = -1;
	while ((c = getopt_long(argc, argv, "+ro:Pb:j:d:c:hV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'r':
			o->req.read_only = true;
			break;
		case 'o':
			if (loop_parse_size(optarg, &o->req.offset) < 0)
				return usage_error(optarg,
					"--offset wants a size in bytes");
			break;
		case OPT_SIZELIMIT:
			if (loop_parse_size(optarg, &o->req.sizelimit) < 0)
				return usage_error(optarg,
					"--sizelimit wants a size in bytes");
			break;
		case 'P':
			o->req.partscan = true;
			break;
		case 'b':
			if (loop_parse_block_size(optarg,
						  &o->req.block_size) < 0)
				return usage_error(optarg,
					"--sector-size wants a power of two from 512 to 65536");
			break;
		case OPT_DIRECT_IO:
			if (!optarg || strcmp(optarg, "on") == 0)
				o->direct_io = 1;
			else if (strcmp(optarg, "off") == 0)
				o->direct_io = 0;
			else
				return usage_error(optarg,
					"--direct-io takes on or off");
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_REUSE:
			o->reuse = true;
			break;
		case 'j':
			o->associated = optarg;
			break;
		case 'd':
			o->detach = optarg;
			break;
		case 'c':
			o->set_capacity = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			printf("loopattach (loopboot) %s\n", LOOPBOOT_VERSION);
			exit(0);
		default:
			return EXIT_USAGE;
		}
	}
	if (o->set_capacity) {
		if (optind != argc || o->detach || o->associated || o->root)
			return usage_error(o->set_capacity,
				"--set-capacity takes no other option or FILE");
		return 0;
	}
	if (o->detach || o->associated) {
		if (optind != argc)
			return usage_error(argv[optind],
				"no FILE with --detach or --associated");
		if (o->detach && (o->associated || o->root))
			return usage_error(o->detach,
				"--detach takes no other option");
		return 0;
	}
	if (optind + 1 != argc)
		return usage_error(NULL, optind == argc ? "FILE is missing"
						       : "one FILE only");
	o->file = argv[optind];
	return 0;
}

/* Open FILE (inside --root when given) with O_PATH: the caller's fd, or
 * -errno (-EBADF: a message was printed).  O_PATH runs no driver's open,
 * so naming a device, FIFO or socket has no effect; what it is decides
 * whether it is opened for real (loop_reopen_regular).  shown is the name
 * used in messages. */
static int open_path(const struct options *o, const char *file, char *shown,
		     size_t shown_size)
{
	int root_fd, fd;

	if (o->root)
		snprintf(shown, shown_size, "%s%s%s", o->root,
			 file[0] == '/' ? "" : "/", file);
	else
		snprintf(shown, shown_size, "%s", file);
	if (!o->root) {
		fd = open(file, O_PATH | O_CLOEXEC);
		return fd >= 0 ? fd : -errno;
	}
	root_fd = open(o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		fd = -errno;
		msg_errno(o->root, fd, "cannot open the --root directory");
		return -EBADF;
	}
	/* Test hook: the walk that stands in for openat2 before 5.6. */
	if (getenv("LOOPATTACH_FORCE_WALK"))
		fd = loop_open_in_root_walk(root_fd, file, O_PATH);
	else
		fd = loop_open_in_root(root_fd, file, O_PATH);
	close(root_fd);
	return fd;
}

/* The message for a failed open; the exit status. */
static int open_failed(const struct options *o, const char *file,
		       const char *shown, int err, bool read_only)
{
	if (err == -EBADF)		/* already said */
		return EXIT_FAIL;
	if (err == -ENOENT) {
		/* Its own status: the boot script tells "no such file"
		 * (a wrong loop=) from every other failure. */
		if (o->root)
			msg_error(file, "no such file inside %s", o->root);
		else
			msg_error(file, "no such file; check the path");
		return EXIT_MISSING;
	}
	if (!read_only && (err == -EROFS || err == -EACCES || err == -EPERM))
		msg_errno(shown, err,
			  "cannot open for writing, so the device would be "
			  "read-only; mount the host read-write, or pass "
			  "--read-only if that is what you want");
	else if (err == -ENOTDIR)
		msg_errno(shown, err, "cannot open; check the path");
	else if (err == -ELOOP)
		msg_errno(shown, err, "too many symbolic links");
	else if (err == -ESTALE)
		msg_error(shown, "the file changed while it was being opened; "
			  "try again");
	else if (err == -EOPNOTSUPP)
		msg_error(shown, "cannot reopen the file through "
			  "/proc/self/fd: mount /proc first");
	else
		msg_errno(shown, err, "cannot open");
	return EXIT_FAIL;
}

/* What a file that is not a regular file is, for the message. */
static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFBLK:
		return "a block device";
	case S_IFCHR:
		return "a character device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	default:
		return "something else";
	}
}

/* Open DEV, a loop device named by the user: the descriptor, or -1 after
 * the message that says why not. */
static int open_loop_device(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		msg_errno(dev, -errno, "cannot open the device");
		return -1;
	}
	if (loop_device_nr(fd) < 0) {
		close(fd);
		msg_error(dev, "not a loop device");
		return -1;
	}
	return fd;
}

static int do_detach(const char *dev)
{
	struct loop_info64 info;
	int fd, r;

	fd = open_loop_device(dev);
	if (fd < 0)
		return EXIT_FAIL;
	r = loop_detach(fd);
	if (r == -ENXIO) {
		close(fd);
		msg_error(dev, "nothing attached to this loop device");
		return EXIT_FAIL;
	}
	if (r < 0) {
		close(fd);
		msg_errno(dev, r, "cannot detach");
		return EXIT_FAIL;
	}
	/* A device still open elsewhere (mounted) is only marked for
	 * autoclear by the kernel: say so rather than pretend. */
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0)
		msg_error(dev, "still in use; it will be detached when the "
			  "last user closes it");
	close(fd);
	return 0;
}

static int do_set_capacity(const char *dev)
{
	uint64_t size = 0;
	int fd, r;

	fd = open_loop_device(dev);
	if (fd < 0)
		return EXIT_FAIL;
	r = loop_set_capacity(fd, &size);
	close(fd);
	if (r == -ENXIO) {
		msg_error(dev, "nothing attached to this loop device");
		return EXIT_FAIL;
	}
	if (r < 0) {
		msg_errno(dev, r, "cannot set the capacity");
		return EXIT_FAIL;
	}
	printf("%" PRIu64 "\n", size);
	return 0;
}

static int do_associated(const struct options *o)
{
	char shown[PATH_MAX + 64];
	struct stat st;
	int fd, nr, found = 0;

	/* The same resolution as the attach (open_path), so both always
	 * mean the same file. */
	fd = open_path(o, o->associated, shown, sizeof(shown));
	if (fd < 0)
		return open_failed(o, o->associated, shown, fd, true);
	if (fstat(fd, &st) < 0) {
		msg_errno(shown, -errno, "cannot stat");
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	for (nr = loop_find_backing(&st, 0); nr >= 0;
	     nr = loop_find_backing(&st, nr + 1)) {
		printf("/dev/loop%d\n", nr);
		found++;
	}
	if (nr != -ENOENT) {
		msg_errno("/sys/block", nr, "cannot list loop devices");
		return EXIT_FAIL;
	}
	if (!found) {
		msg_error(shown, "no loop device is backed by this file");
		return EXIT_FAIL;
	}
	return 0;
}

/* Messages for the checks; false when the attach must not go on. */
static bool report_checks(const char *shown, const struct loop_file_info *fi,
			  uint64_t offset)
{
	unsigned p = fi->problems;

	if (p & LOOP_FILE_NOT_REGULAR)
		msg_error(shown, "not a regular file; give the image file");
	if (p & LOOP_FILE_EMPTY)
		msg_error(shown, "file is empty (0 bytes); Windows' chkdsk "
			  "can truncate a file it cannot place: restore the "
			  "image from a backup");
	if (p & LOOP_FILE_UNALIGNED)
		msg_error(shown, "size %" PRIu64 " is not a multiple of 512 "
			  "bytes, so the file is cut or damaged; check it",
			  fi->size);
	if (p & LOOP_FILE_OFFSET_PAST_END)
		msg_error(shown, "offset %" PRIu64 " is past the end of the "
			  "file (%" PRIu64 " bytes)", offset, fi->size);
	if (p & LOOP_FILE_COMPRESSED)
		msg_error(shown, "file is compressed by the host file system; "
			  "every write would recompress it and fragment it "
			  "without bound: uncompress it (Windows: Properties > "
			  "Advanced, clear \"Compress contents to save disk "
			  "space\", or compact /u on the file)");
	if (p & LOOP_FILE_ENCRYPTED)
		msg_error(shown, "file is encrypted by the host file system "
			  "(on NTFS, EFS: Linux reads only ciphertext): "
			  "decrypt it (Windows: Properties > Advanced, clear "
			  "\"Encrypt contents to secure data\", or cipher /d "
			  "on the file)");
	if (p & LOOP_FILE_REFUSE)
		return false;
	if (p & LOOP_FILE_SPARSE)
		msg_error(shown, "warning: sparse file (%" PRIu64 " of %" PRIu64
			  " bytes allocated): writes fail when the host "
			  "fills up; allocate it fully (fallocate, or copy "
			  "with --sparse=never)", fi->allocated, fi->size);
	return true;
}

static void report_mismatch(const char *shown, unsigned bad)
{
	static const struct {
		unsigned bit;
		const char *what;
	} names[] = {
		{ LOOP_BAD_OFFSET, "offset" },
		{ LOOP_BAD_SIZELIMIT, "size limit" },
		{ LOOP_BAD_READ_ONLY, "read-only flag" },
		{ LOOP_BAD_PARTSCAN, "partition scan flag" },
		{ LOOP_BAD_AUTOCLEAR, "autoclear flag" },
		{ LOOP_BAD_BLOCK_SIZE, "sector size" },
		{ LOOP_BAD_SIZE, "device size" },
		{ LOOP_BAD_BACKING, "backing file" },
	};
	char list[200] = "";
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bad & names[i].bit) {
			if (*list)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, names[i].what,
				sizeof(list) - strlen(list) - 1);
		}
	msg_error(shown, "the kernel did not apply the %s asked for; the "
		  "device was detached again", list);
}

static int do_attach(struct options *o)
{
	char shown[PATH_MAX + 64];
	struct loop_file_info fi;
	struct loop_result res;
	struct stat st;
	int pfd, fd, r;

	pfd = open_path(o, o->file, shown, sizeof(shown));
	if (pfd < 0)
		return open_failed(o, o->file, shown, pfd, o->req.read_only);
	if (fstat(pfd, &st) < 0) {
		msg_errno(shown, -errno, "cannot stat");
		close(pfd);
		return EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode)) {
		msg_error(shown, "not a regular file but %s; give the image "
			  "file", file_kind(st.st_mode));
		close(pfd);
		return EXIT_FAIL;
	}
	/* Refused before the checks' warnings; loop_attach asks again under
	 * loop-control's lock, against a concurrent attach. */
	r = loop_find_backing(&st, 0);
	if (r >= 0 && o->reuse) {
		printf("/dev/loop%d\n", r);
		close(pfd);
		return 0;
	}
	if (r >= 0) {
		msg_error(shown, "already attached to /dev/loop%d (loopattach "
			  "--detach /dev/loop%d first, or use that device)", r, r);
		close(pfd);
		return EXIT_FAIL;
	}
	fd = loop_reopen_regular(pfd, (o->req.read_only ? O_RDONLY : O_RDWR) |
				 O_NOCTTY);
	close(pfd);
	if (fd < 0)
		return open_failed(o, o->file, shown, fd, o->req.read_only);
	r = loop_check_file(fd, o->req.offset, &fi);
	if (r < 0) {
		msg_errno(shown, r, "cannot check the file");
		close(fd);
		return EXIT_FAIL;
	}
	if (!report_checks(shown, &fi, o->req.offset)) {
		close(fd);
		return EXIT_FAIL;
	}

	o->req.direct_io = o->direct_io < 0 ? !fi.fuse : o->direct_io == 1;
	o->req.file_name = shown;
	/* Test hook: the LOOP_SET_FD path that kernels before 5.8 take. */
	o->req.force_legacy = getenv("LOOPATTACH_FORCE_LEGACY") != NULL;

	r = loop_attach(fd, &o->req, &res);
	close(fd);
	if (r == -EIO && res.mismatch) {
		report_mismatch(shown, res.mismatch);
		return EXIT_FAIL;
	}
	if (r == -EEXIST && o->reuse) {
		printf("%s\n", res.path);
		return 0;
	}
	if (r == -EEXIST) {
		msg_error(shown, "already attached to %s (loopattach --detach "
			  "%s first, or use that device)", res.path, res.path);
		return EXIT_FAIL;
	}
	if (r == -EBUSY) {
		msg_error(shown, "no free loop device after %d tries: other "
			  "programs kept taking them; try again", res.attempts);
		return EXIT_FAIL;
	}
	if (r == -ENOENT || r == -ENODEV) {
		msg_errno("/dev/loop-control", r, "no loop support: the loop "
			  "module could not be loaded; check that it is in "
			  "the initramfs");
		return EXIT_FAIL;
	}
	if (r < 0) {
		msg_errno(shown, r, "cannot attach to a loop device");
		return EXIT_FAIL;
	}
	if (o->req.direct_io && !(res.flags & LO_FLAGS_DIRECT_IO))
		msg_error(res.path, "warning: direct I/O is off: the kernel "
			  "refused it for %s (offset or sector size not "
			  "aligned to the host's, or a file system without "
			  "it); every block is cached twice", shown);
	printf("%s\n", res.path);
	if (fflush(stdout) != 0) {
		/* The caller never learns the device: do not leave it. */
		int err = -errno, lfd = open(res.path, O_RDONLY | O_CLOEXEC);

		if (lfd >= 0) {
			(void)loop_detach(lfd);
			close(lfd);
		}
		msg_errno(res.path, err, "cannot write the device name");
		return EXIT_FAIL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	int r;

	msg_init(argv[0]);
	r = parse_args(argc, argv, &o);
	if (r)
		return r;
	if (o.detach)
		return do_detach(o.detach);
	if (o.set_capacity)
		return do_set_capacity(o.set_capacity);
	if (o.associated)
		return do_associated(&o);
	return do_attach(&o);
}
