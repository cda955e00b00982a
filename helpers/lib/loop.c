/* Loop devices for loopattach.  See loop.h; the facts behind each retry and
 * fallback are in the comments where they happen. */
#include "loop.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <libkmod.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/openat2.h>

#define LOOP_CONTROL "/dev/loop-control"
#define FUSE_SUPER_MAGIC 0x65735546

/* Races lost against other processes before giving up (util-linux and
 * systemd allow 64 as well). */
#define MAX_ATTEMPTS 64

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- parsing -------------------------------------------------------- */

int loop_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTPE";
	const char *p = s, *u;
	uint64_t v = 0, mult = 1, base = 1024;
	int digits = 0, radix = 10;

	if (!s)
		return -EINVAL;
	/* Hexadecimal for offsets copied from partition tools; no octal:
	 * a leading zero means nothing here. */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		radix = 16;
		p += 2;
	}
	for (; *p; p++, digits++) {
		unsigned d;

		if (isdigit((unsigned char)*p))
			d = (unsigned)(*p - '0');
		else if (radix == 16 && isxdigit((unsigned char)*p))
			d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / (uint64_t)radix)
			return -ERANGE;
		v = v * (uint64_t)radix + d;
	}
	if (!digits)
		return -EINVAL;
	if (*p) {
		if (radix == 16)
			return -EINVAL;
		u = strchr(units, toupper((unsigned char)*p));
		if (!u)
			return -EINVAL;
		p++;
		/* As losetup: K and KiB are 1024, KB is 1000. */
		if (strcmp(p, "B") == 0)
			base = 1000;
		else if (*p && strcmp(p, "iB") != 0)
			return -EINVAL;
		for (long i = 0; i <= u - units; i++) {
			if (mult > UINT64_MAX / base)
				return -ERANGE;
			mult *= base;
		}
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int loop_parse_block_size(const char *s, uint32_t *out)
{
	uint64_t v;
	int r = loop_parse_size(s, &v);

	if (r < 0)
		return -EINVAL;
	/* The kernel takes powers of two from 512 up to its page size (and
	 * more on 6.x with large folios); it decides, this only screens. */
	if (v < 512 || v > 65536 || (v & (v - 1)))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* ---- checks on the backing file ------------------------------------- */

unsigned loop_file_problems(mode_t mode, uint64_t size, uint64_t offset,
			    uint64_t stx_attributes, uint64_t allocated,
			    uint32_t extent_flags)
{
	unsigned p = 0;

	if (!S_ISREG(mode))
		return LOOP_FILE_NOT_REGULAR;
	if (size == 0)
		return LOOP_FILE_EMPTY;
	if (size % 512)
		p |= LOOP_FILE_UNALIGNED;
	if (offset >= size)
		p |= LOOP_FILE_OFFSET_PAST_END;
	if ((stx_attributes & STATX_ATTR_COMPRESSED) ||
	    (extent_flags & FIEMAP_EXTENT_ENCODED))
		p |= LOOP_FILE_COMPRESSED;
	if ((stx_attributes & STATX_ATTR_ENCRYPTED) ||
	    (extent_flags & FIEMAP_EXTENT_DATA_ENCRYPTED))
		p |= LOOP_FILE_ENCRYPTED;
	if (allocated < size)
		p |= LOOP_FILE_SPARSE;
	if (extent_flags & FIEMAP_EXTENT_UNWRITTEN)
		p |= LOOP_FILE_UNWRITTEN;
	return p;
}

/* Bytes in extents up to size, and the union of the extents' flags.
 * -EOPNOTSUPP (and friends) where the file system has no FIEMAP. */
static int fiemap_scan(int fd, uint64_t size, uint64_t *allocated,
		       uint32_t *flags)
{
	enum { BATCH = 64 };
	/* struct fiemap ends in a flexible array: room for BATCH extents. */
	union {
		struct fiemap map;
		unsigned char bytes[sizeof(struct fiemap) +
				    BATCH * sizeof(struct fiemap_extent)];
	} buf;
	uint64_t start = 0, total = 0;
	uint32_t all = 0;
	/* A file in a million pieces is already a problem of its own;
	 * stop there rather than walk on for minutes. */
	unsigned long seen = 0, limit = 1UL << 20;

	while (start < size && seen < limit) {
		unsigned i, n;
		bool last = false;

		memset(&buf, 0, sizeof(buf));
		buf.map.fm_start = start;
		buf.map.fm_length = FIEMAP_MAX_OFFSET - start;
		buf.map.fm_extent_count = BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, &buf.map) < 0)
			return -errno;
		n = buf.map.fm_mapped_extents;
		if (n == 0)
			break;
		for (i = 0; i < n && i < BATCH; i++) {
			const struct fiemap_extent *e = &buf.map.fm_extents[i];
			uint64_t a = e->fe_logical, b = a + e->fe_length;

			if (b > size)
				b = size;
			if (b > a && b > start) {
				total += b - (a > start ? a : start);
				all |= e->fe_flags;
			}
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			if (e->fe_logical + e->fe_length > start)
				start = e->fe_logical + e->fe_length;
		}
		seen += n;
		if (last)
			break;
	}
	*allocated = total;
	*flags = all & ~(uint32_t)FIEMAP_EXTENT_LAST;
	return 0;
}

int loop_fs_is_fuse(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	return sfs.f_type == FUSE_SUPER_MAGIC;
}

int loop_ntfs_attrib_decode(const void *value, size_t len, bool big_endian,
			    uint32_t *attrib)
{
	const unsigned char *b = value;

	if (len != 4)
		return -EINVAL;
	if (big_endian)
		*attrib = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			  (uint32_t)b[2] << 8 | b[3];
	else
		*attrib = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
			  (uint32_t)b[1] << 8 | b[0];
	return 0;
}

unsigned loop_ntfs_attrib_problems(uint32_t attrib)
{
	unsigned p = 0;

	/* SPARSE_FILE is no problem by itself (Windows sets it on files
	 * that were fully written since); holes show in st_blocks. */
	if (attrib & LOOP_NTFS_COMPRESSED)
		p |= LOOP_FILE_COMPRESSED;
	if (attrib & LOOP_NTFS_ENCRYPTED)
		p |= LOOP_FILE_ENCRYPTED;
	return p;
}

int loop_ntfs_attrib(int fd, uint32_t *attrib)
{
	unsigned char v[4];
	ssize_t n;

	/* The big-endian name first: ntfs-3g has both names, but its
	 * "system.ntfs_attrib" is in the CPU's byte order; ntfs3 has the
	 * big-endian one only since 6.2 (before: the little-endian one,
	 * 5.15+).  Over FUSE, ntfs-3g answers system.* names itself. */
	n = fgetxattr(fd, LOOP_NTFS_ATTRIB_BE, v, sizeof(v));
	if (n >= 0)
		return loop_ntfs_attrib_decode(v, (size_t)n, true, attrib);
	n = fgetxattr(fd, LOOP_NTFS_ATTRIB_LE, v, sizeof(v));
	if (n < 0)
		return -errno;
	if (loop_fs_is_fuse(fd) != 0)	/* ntfs-3g's: CPU byte order */
		return -ENODATA;
	return loop_ntfs_attrib_decode(v, (size_t)n, false, attrib);
}

int loop_check_file(int fd, uint64_t offset, struct loop_file_info *info)
{
	struct statx stx;
	struct stat st;
	uint64_t attrs = 0, allocated;
	uint32_t ext_flags = 0;
	int r;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) < 0)
		return -errno;
	info->size = (uint64_t)st.st_size;
	allocated = (uint64_t)st.st_blocks * 512;
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		/* statx: kernel 4.11+; its attributes only where the file
		 * system fills them in (attributes_mask says which). */
		if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0)
			attrs = stx.stx_attributes & stx.stx_attributes_mask;
		r = fiemap_scan(fd, info->size, &allocated, &ext_flags);
		if (r == 0)
			info->fiemap = true;
		else
			allocated = (uint64_t)st.st_blocks * 512;
		r = loop_fs_is_fuse(fd);
		info->fuse = r > 0;
		/* ntfs-3g (FUSE) fills in neither statx attributes nor
		 * FIEMAP: the NTFS attributes are the only word on
		 * compression there.  No answer is no information. */
		if (loop_ntfs_attrib(fd, &info->ntfs_attrib) == 0)
			info->ntfs_attrib_known = true;
	}
	info->allocated = allocated;
	info->problems = loop_file_problems(st.st_mode, info->size, offset,
					    attrs, allocated, ext_flags);
	/* Known only for a regular, non-empty file (read above). */
	if (info->ntfs_attrib_known)
		info->problems |= loop_ntfs_attrib_problems(info->ntfs_attrib);
	return 0;
}

/* ---- verification --------------------------------------------------- */

uint64_t loop_expected_size(uint64_t file_size, uint64_t offset,
			    uint64_t sizelimit)
{
	uint64_t left = file_size > offset ? file_size - offset : 0;

	if (sizelimit && sizelimit < left)
		left = sizelimit;
	return left & ~(uint64_t)511;
}

unsigned loop_mismatch(const struct loop_request *req,
		       const struct loop_seen *seen)
{
	unsigned m = 0;
	uint64_t want = loop_expected_size(seen->file_size, req->offset,
					   req->sizelimit);

	if (seen->offset != req->offset)
		m |= LOOP_BAD_OFFSET;
	if (seen->sizelimit != req->sizelimit)
		m |= LOOP_BAD_SIZELIMIT;
	if (!!(seen->flags & LO_FLAGS_READ_ONLY) != req->read_only)
		m |= LOOP_BAD_READ_ONLY;
	if (!!(seen->flags & LO_FLAGS_PARTSCAN) != req->partscan)
		m |= LOOP_BAD_PARTSCAN;
	if (seen->flags & LO_FLAGS_AUTOCLEAR)
		m |= LOOP_BAD_AUTOCLEAR;
	if (req->block_size && seen->block_size != req->block_size)
		m |= LOOP_BAD_BLOCK_SIZE;
	/* With a logical block size above 512 the kernel may also round the
	 * capacity down to whole blocks. */
	if (seen->size != want &&
	    !(seen->block_size > 512 &&
	      seen->size == (want & ~(uint64_t)(seen->block_size - 1))))
		m |= LOOP_BAD_SIZE;
	if (!seen->same_file)
		m |= LOOP_BAD_BACKING;
	return m;
}

static int read_back(int lfd, const struct stat *backing, struct loop_seen *s)
{
	struct loop_info64 info;
	int bsz;

	memset(s, 0, sizeof(*s));
	/* Zeroed first: valgrind does not know what the loop ioctls write. */
	memset(&info, 0, sizeof(info));
	if (ioctl(lfd, LOOP_GET_STATUS64, &info) < 0)
		return -errno;
	if (ioctl(lfd, BLKSSZGET, &bsz) < 0)
		return -errno;
	if (ioctl(lfd, BLKGETSIZE64, &s->size) < 0)
		return -errno;
	s->offset = info.lo_offset;
	s->sizelimit = info.lo_sizelimit;
	s->flags = info.lo_flags;
	s->block_size = (uint32_t)bsz;
	s->file_size = (uint64_t)backing->st_size;
	s->same_file = info.lo_device == (uint64_t)backing->st_dev &&
		       info.lo_inode == (uint64_t)backing->st_ino;
	return 0;
}

/* ---- module, control device, device nodes --------------------------- */

static int load_loop_module(void)
{
	struct kmod_ctx *ctx;
	struct kmod_list *list = NULL, *it;
	int r = -ENOENT;

	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return -ENOMEM;
	if (kmod_module_new_from_lookup(ctx, "loop", &list) < 0)
		list = NULL;
	kmod_list_foreach(it, list) {
		struct kmod_module *mod = kmod_module_get_module(it);

		r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL,
						    NULL);
		kmod_module_unref(mod);
		if (r == 0)
			break;
	}
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	return r > 0 ? -EIO : r;
}

/* Make a device node from the "MAJOR:MINOR" in a sysfs dev file.  Needed
 * only without devtmpfs (a static /dev): devtmpfs makes loop nodes itself,
 * before LOOP_CTL_GET_FREE returns. */
static int mknod_from_sysfs(const char *sys_dev, const char *node, mode_t type)
{
	unsigned maj, min;
	FILE *f = fopen(sys_dev, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	if (n != 2)
		return -EIO;
	if (mknod(node, type | 0600, makedev(maj, min)) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int loop_control_open(void)
{
	int fd, r;

	fd = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	/* No loop-control: loop is a module not loaded yet (Debian builds
	 * it as one).  A failed load is reported only if the device is
	 * still missing afterwards: a built-in loop needs no module. */
	r = load_loop_module();
	fd = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (access("/sys/class/misc/loop-control/dev", R_OK) < 0)
		return r < 0 ? r : -ENOENT;
	r = mknod_from_sysfs("/sys/class/misc/loop-control/dev", LOOP_CONTROL,
			     S_IFCHR);
	if (r < 0)
		return r;
	fd = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

static int open_loop_node(int nr, int flags, bool *created)
{
	char node[32], sys[64];
	int fd, r;

	snprintf(node, sizeof(node), "/dev/loop%d", nr);
	fd = open(node, flags | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	snprintf(sys, sizeof(sys), "/sys/block/loop%d/dev", nr);
	r = mknod_from_sysfs(sys, node, S_IFBLK);
	if (r < 0)
		return r;
	*created = true;
	fd = open(node, flags | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

/* ---- attach --------------------------------------------------------- */

static void fill_info(struct loop_info64 *info, const struct loop_request *req)
{
	memset(info, 0, sizeof(*info));
	info->lo_offset = req->offset;
	info->lo_sizelimit = req->sizelimit;
	if (req->read_only)
		info->lo_flags |= LO_FLAGS_READ_ONLY;
	if (req->partscan)
		info->lo_flags |= LO_FLAGS_PARTSCAN;
	if (req->direct_io)
		info->lo_flags |= LO_FLAGS_DIRECT_IO;
	if (req->file_name)
		snprintf((char *)info->lo_file_name, LO_NAME_SIZE, "%s",
			 req->file_name);
}

static int configure(int lfd, int backing_fd, const struct loop_request *req)
{
	struct loop_config c;

	memset(&c, 0, sizeof(c));
	c.fd = (uint32_t)backing_fd;
	c.block_size = req->block_size;
	fill_info(&c.info, req);
	return ioctl(lfd, LOOP_CONFIGURE, &c) < 0 ? -errno : 0;
}

/* Kernels before 5.8: bind, then set the rest ioctl by ioctl. */
static int configure_legacy(int lfd, int backing_fd,
			    const struct loop_request *req)
{
	struct loop_info64 info;
	int r = 0, tries;

	if (ioctl(lfd, LOOP_SET_FD, backing_fd) < 0)
		return -errno;
	fill_info(&info, req);
	/* READ_ONLY comes from the open modes; DIRECT_IO has its own ioctl
	 * (LOOP_SET_STATUS64 ignores flags it cannot set before 5.x). */
	info.lo_flags &= LOOP_SET_STATUS_SETTABLE_FLAGS;
	/* Since 5.0 a change of offset fails with EAGAIN while someone else
	 * (udev, blkid) still has pages of the device cached; they let go
	 * within milliseconds. */
	for (tries = 0; ioctl(lfd, LOOP_SET_STATUS64, &info) < 0; tries++) {
		if (errno != EAGAIN || tries >= MAX_ATTEMPTS) {
			r = -errno;
			goto fail;
		}
		sleep_ms(10);
	}
	/* Before 5.0 a new offset or size left stale pages of the old
	 * geometry in the device's cache; flushing drops them. */
	if (req->offset || req->sizelimit)
		(void)ioctl(lfd, BLKFLSBUF, 0);
	if (req->block_size &&
	    ioctl(lfd, LOOP_SET_BLOCK_SIZE, (unsigned long)req->block_size) < 0) {
		r = -errno;
		goto fail;
	}
	/* The kernel may refuse direct I/O for this file; read back later
	 * and reported, not an error. */
	if (req->direct_io)
		(void)ioctl(lfd, LOOP_SET_DIRECT_IO, 1UL);
	return 0;
fail:
	(void)ioctl(lfd, LOOP_CLR_FD, 0);
	return r;
}

/* The read-ahead, in KiB, of the disk holding the file system of dev
 * (a partition's is its disk's); -ENOENT when dev has none (btrfs, FUSE,
 * tmpfs: no block device of that number). */
static int backing_read_ahead_kb(dev_t dev)
{
	static const char *const under[] = { "queue", "../queue" };
	size_t i;

	for (i = 0; i < sizeof(under) / sizeof(under[0]); i++) {
		char path[96];
		FILE *f;
		int kb, n;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s/read_ahead_kb",
			 major(dev), minor(dev), under[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fscanf(f, "%d", &kb);
		fclose(f);
		if (n == 1 && kb >= 0)
			return kb;
	}
	return -ENOENT;
}

/* With direct I/O the host file system's read-ahead no longer applies to
 * the file: reads reach it only as the loop device asks.  So the loop
 * device gets at least the host disk's read-ahead, or sequential reads
 * fall behind reading the file itself.  Best effort: a failure leaves the
 * kernel's default. */
static int match_read_ahead(int lfd, dev_t backing_dev)
{
	long cur;
	int want = backing_read_ahead_kb(backing_dev);

	if (want < 0)
		return want;
	if (ioctl(lfd, BLKRAGET, &cur) < 0)
		return -errno;
	if (cur >= (long)want * 2)	/* BLKRA* count 512-byte sectors */
		return (int)(cur / 2);
	if (ioctl(lfd, BLKRASET, (unsigned long)want * 2) < 0)
		return -errno;
	return want;
}

int loop_attach(int backing_fd, const struct loop_request *req,
		struct loop_result *res)
{
	struct stat st;
	bool legacy = req->force_legacy;
	int ctl, r = -EBUSY, attempt;

	memset(res, 0, sizeof(*res));
	res->nr = -1;
	if (fstat(backing_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	ctl = loop_control_open();
	if (ctl < 0)
		return ctl;
	/* Serialise with other users of this lock (loopattach, systemd) so
	 * that they do not keep taking the same free device from each
	 * other; processes that do not lock are handled by the retry. */
	(void)flock(ctl, LOCK_EX);
	/* One device per file: a second would cache the same blocks apart
	 * from the first, and two mounts of one file system corrupt it.
	 * Under the lock, so two loopattach cannot both miss each other.
	 * Without /sys (no answer) there is nothing to compare with. */
	r = loop_find_backing(&st, 0);
	if (r >= 0) {
		res->nr = r;
		snprintf(res->path, sizeof(res->path), "/dev/loop%d", r);
		close(ctl);
		return -EEXIST;
	}
	r = -EBUSY;

	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		struct loop_seen seen;
		bool created = false;
		unsigned bad;
		int nr, lfd;

		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0) {
			r = -errno;
			break;
		}
		res->attempts = attempt;
		/* The loop fd's mode matters too: LOOP_SET_FD makes the
		 * device read-only when it is not open for writing. */
		lfd = open_loop_node(nr, req->read_only ? O_RDONLY : O_RDWR,
				     &created);
		res->created_node |= created;
		if (lfd == -ENOENT || lfd == -ENXIO) {
			/* Removed (LOOP_CTL_REMOVE) since GET_FREE: next. */
			r = lfd;
			continue;
		}
		if (lfd < 0) {
			r = lfd;
			break;
		}
		r = -EINVAL;
		if (!legacy) {
			r = configure(lfd, backing_fd, req);
			/* No LOOP_CONFIGURE before 5.8: older kernels answer
			 * an unknown loop ioctl with EINVAL or ENOTTY. */
			if (r == -EINVAL || r == -ENOTTY || r == -ENOSYS)
				legacy = true;
		}
		if (legacy)
			r = configure_legacy(lfd, backing_fd, req);
		if (r == -EBUSY) {
			/* Another process bound this device between our
			 * GET_FREE and our ioctl.  Back off a little, by a
			 * different amount in each process, and ask again. */
			close(lfd);
			sleep_ms(1 + (getpid() + attempt) % 7);
			continue;
		}
		if (r < 0) {
			close(lfd);
			break;
		}

		r = read_back(lfd, &st, &seen);
		bad = r < 0 ? ~0u : loop_mismatch(req, &seen);
		if (bad) {
			(void)ioctl(lfd, LOOP_CLR_FD, 0);
			close(lfd);
			if (r < 0)
				break;
			res->mismatch = bad;
			r = -EIO;
			if (legacy)
				break;
			/* Plain 5.8 ignores the size limit and partscan in
			 * LOOP_CONFIGURE: set up again the old way, on a new
			 * device because LOOP_CLR_FD may finish later. */
			legacy = true;
			continue;
		}
		if (seen.flags & LO_FLAGS_DIRECT_IO)
			res->read_ahead_kb = match_read_ahead(lfd, st.st_dev);
		close(lfd);
		res->nr = nr;
		snprintf(res->path, sizeof(res->path), "/dev/loop%d", nr);
		res->flags = seen.flags;
		res->block_size = seen.block_size;
		res->size = seen.size;
		res->legacy = legacy;
		res->mismatch = 0;
		r = 0;
		break;
	}
	close(ctl);
	return r;
}

int loop_detach(int loop_fd)
{
	return ioctl(loop_fd, LOOP_CLR_FD, 0) < 0 ? -errno : 0;
}

int loop_set_capacity(int loop_fd, uint64_t *size)
{
	if (ioctl(loop_fd, LOOP_SET_CAPACITY, 0) < 0)
		return -errno;
	if (size && ioctl(loop_fd, BLKGETSIZE64, size) < 0)
		return -errno;
	return 0;
}

int loop_device_nr(int fd)
{
	struct stat st;
	char sys[64], target[PATH_MAX], *name;
	ssize_t n;
	int nr, end = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	n = readlink(sys, target, sizeof(target) - 1);
	if (n < 0)
		return -ENODEV;
	target[n] = '\0';
	name = strrchr(target, '/');
	name = name ? name + 1 : target;
	/* "loopN" only: a partition "loopNpM" is no loop device. */
	if (sscanf(name, "loop%d%n", &nr, &end) != 1 || name[end] || nr < 0)
		return -ENODEV;
	return nr;
}

int loop_find_backing(const struct stat *st, int from)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int best = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct loop_info64 info;
		char path[300];
		int nr, end = 0, fd, ok;

		if (sscanf(e->d_name, "loop%d%n", &nr, &end) != 1 ||
		    e->d_name[end] || nr < from || (best >= 0 && nr > best))
			continue;
		/* backing_file exists only while the device is bound. */
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 e->d_name);
		if (access(path, F_OK) < 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		ok = ioctl(fd, LOOP_GET_STATUS64, &info) == 0 &&
		     info.lo_device == (uint64_t)st->st_dev &&
		     info.lo_inode == (uint64_t)st->st_ino;
		close(fd);
		if (ok)
			best = nr;
	}
	closedir(d);
	return best;
}

/* ---- opening a path inside a root ----------------------------------- */

int loop_reopen_regular(int path_fd, int flags)
{
	struct stat st, st2;
	char link[64];
	int fd;

	if (fstat(path_fd, &st) < 0)
		return -errno;
	/* Only a regular file is opened for real.  Opening a device node
	 * runs its driver's open (a "b 7 N" node makes /dev/loopN appear:
	 * CONFIG_BLOCK_LEGACY_AUTOLOAD), a FIFO blocks until a writer
	 * comes, a socket cannot be opened at all. */
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* The magic link opens the dentry path_fd holds, whatever the name
	 * points to now (a rename or a swapped symlink does not matter).
	 * O_NOFOLLOW would refuse the magic link itself (ELOOP). */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", path_fd);
	fd = open(link, flags | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		if (err == -ENOENT && access("/proc/self/fd", F_OK) < 0)
			return -EOPNOTSUPP;
		return err;
	}
	if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int loop_open_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	/* openat2 is 5.6+; before, walk the path ourselves. */
	if (errno == ENOSYS)
		return loop_open_in_root_walk(root_fd, path, flags);
	return -errno;
}

#define WALK_MAX_DEPTH 128
#define WALK_MAX_LINKS 40	/* as the kernel's MAXSYMLINKS */

/* The walk keeps a stack of directory fds from root_fd down; ".." pops it
 * (never past root_fd) instead of asking the file system, so a rename
 * during the walk cannot lead outside.  Each component is opened with
 * O_PATH|O_NOFOLLOW; a symlink's text is spliced in front of the rest. */
int loop_open_in_root_walk(int root_fd, const char *path, int flags)
{
	int stack[WALK_MAX_DEPTH];
	int depth = 0, links = 0, r = 0;
	char *rest, *buf = NULL;
	size_t cap = 2 * PATH_MAX;

	if (flags & O_CREAT)
		return -EINVAL;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	snprintf(buf, cap, "%s", path);
	rest = buf;
	stack[0] = root_fd;

	for (;;) {
		char name[NAME_MAX + 1], target[PATH_MAX];
		struct stat st, st2;
		size_t len;
		bool last, want_dir;
		int fd, cur = stack[depth];
		ssize_t n;

		while (*rest == '/')
			rest++;
		if (!*rest) {
			/* Ends on a directory (the root, or after "x/.."). */
			fd = openat(cur, ".", flags | O_CLOEXEC);
			r = fd >= 0 ? fd : -errno;
			break;
		}
		len = strcspn(rest, "/");
		if (len > NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(name, rest, len);
		name[len] = '\0';
		rest += len;
		want_dir = *rest == '/';
		while (*rest == '/')
			rest++;
		last = !*rest;

		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			size_t tlen, rlen = strlen(rest);

			n = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (n < 0) {
				r = -errno;
				break;
			}
			if (++links > WALK_MAX_LINKS) {
				r = -ELOOP;
				break;
			}
			target[n] = '\0';
			tlen = (size_t)n;
			if (tlen + 1 + rlen + 1 > PATH_MAX) {
				r = -ENAMETOOLONG;
				break;
			}
			/* The new rest is "target/rest"; rest lives in buf,
			 * so move it out of the way first. */
			memmove(buf + tlen + 1, rest, rlen + 1);
			memcpy(buf, target, tlen);
			buf[tlen] = (rlen || want_dir) ? '/' : '\0';
			rest = buf;
			/* An absolute symlink starts again at the root. */
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			continue;
		}
		if (!last || want_dir) {
			if (!S_ISDIR(st.st_mode)) {
				close(fd);
				r = -ENOTDIR;
				break;
			}
			if (!last) {
				if (depth + 1 >= WALK_MAX_DEPTH) {
					close(fd);
					r = -ENAMETOOLONG;
					break;
				}
				stack[++depth] = fd;
				continue;
			}
		}
		/* The last component: open it for real, without following,
		 * and make sure it is still what the O_PATH walk found. */
		r = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
		if (r < 0)
			r = -errno;
		else if (fstat(r, &st2) < 0 || st2.st_dev != st.st_dev ||
			 st2.st_ino != st.st_ino) {
			close(r);
			r = -EAGAIN;
		}
		close(fd);
		break;
	}
	while (depth > 0)
		close(stack[depth--]);
	free(buf);
	return r;
}
