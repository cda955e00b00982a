/* Loop devices: attach a backing file, verify, detach, find, check.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno on failure; none prints or exits (see msg.h).
 */
#ifndef LOOPBOOT_LOOP_H
#define LOOPBOOT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* What the caller asks for.  block_size 0 = the kernel's default. */
struct loop_request {
	uint64_t offset;
	uint64_t sizelimit;		/* 0 = to the end of the file */
	uint32_t block_size;
	bool read_only;
	bool partscan;
	bool direct_io;
	bool force_legacy;		/* test hook: skip LOOP_CONFIGURE */
	const char *file_name;		/* shown by losetup; may be NULL */
};

/* What the kernel did.  Filled in by loop_attach() on success. */
struct loop_result {
	int nr;				/* N of /dev/loopN */
	char path[32];			/* "/dev/loopN" */
	uint32_t flags;			/* effective LO_FLAGS_* */
	uint32_t block_size;		/* effective logical block size */
	uint64_t size;			/* device size in bytes */
	bool legacy;			/* LOOP_SET_FD + LOOP_SET_STATUS64 used */
	int attempts;			/* devices tried (races lost + 1) */
	bool created_node;		/* /dev/loopN made with mknod */
	unsigned mismatch;		/* LOOP_BAD_* when -EIO */
	int read_ahead_kb;		/* set to the host disk's (direct I/O
					   only), or -errno: left as it was */
};

/* Attach the open regular file backing_fd (opened O_RDWR, or O_RDONLY for
 * req->read_only) to a free loop device, read the device back and check
 * that the kernel applied the request.  Direct I/O is the one setting the
 * kernel may refuse: it is then off in res->flags and not an error.  On
 * failure no device is left attached.  -EBUSY: every try lost the race for
 * a free device.  -EIO: the kernel did not apply the request.  -EEXIST: a
 * loop device is already backed by this file (same st_dev and st_ino); its
 * number and path are in res->nr and res->path, nothing was attached. */
int loop_attach(int backing_fd, const struct loop_request *req,
		struct loop_result *res);

/* Detach the loop device open as loop_fd.  -ENXIO: nothing attached. */
int loop_detach(int loop_fd);

/* The backing file of the loop device open as loop_fd has grown: the
 * device takes its new size (LOOP_SET_CAPACITY), which goes to *size (may
 * be NULL) in bytes.  -ENXIO: nothing attached. */
int loop_set_capacity(int loop_fd, uint64_t *size);

/* Is fd a loop block device?  Returns its number N, or -ENOTBLK when it is
 * not a block device, -ENODEV when it is not a loop device. */
int loop_device_nr(int fd);

/* The lowest N >= from of a loop device backed by the file with st's device
 * and inode; -ENOENT when there is none. */
int loop_find_backing(const struct stat *st, int from);

/* Open /dev/loop-control read-write; when it is missing, load the loop
 * module with libkmod (and make the node if no devtmpfs made it). */
int loop_control_open(void);

/* Mismatches between a request and what the kernel reports (bit mask). */
enum {
	LOOP_BAD_OFFSET = 1 << 0,
	LOOP_BAD_SIZELIMIT = 1 << 1,
	LOOP_BAD_READ_ONLY = 1 << 2,
	LOOP_BAD_PARTSCAN = 1 << 3,
	LOOP_BAD_AUTOCLEAR = 1 << 4,
	LOOP_BAD_BLOCK_SIZE = 1 << 5,
	LOOP_BAD_SIZE = 1 << 6,
	LOOP_BAD_BACKING = 1 << 7,
};
struct loop_seen {
	uint64_t offset, sizelimit;
	uint32_t flags, block_size;
	uint64_t size;			/* BLKGETSIZE64 */
	uint64_t file_size;		/* the backing file's size */
	bool same_file;			/* lo_device/lo_inode match */
};
unsigned loop_mismatch(const struct loop_request *req,
		       const struct loop_seen *seen);
/* Bytes the device should have: what is left after offset, cut at
 * sizelimit, in whole 512-byte sectors (the kernel counts sectors). */
uint64_t loop_expected_size(uint64_t file_size, uint64_t offset,
			    uint64_t sizelimit);

/* Checks on a backing file before attaching. */
enum {
	LOOP_FILE_NOT_REGULAR = 1 << 0,
	LOOP_FILE_EMPTY = 1 << 1,
	LOOP_FILE_UNALIGNED = 1 << 2,	/* size % 512 != 0 */
	LOOP_FILE_COMPRESSED = 1 << 3,	/* statx, or FIEMAP encoded extent */
	LOOP_FILE_ENCRYPTED = 1 << 4,	/* statx, or FIEMAP encrypted extent */
	LOOP_FILE_SPARSE = 1 << 5,	/* holes (FIEMAP or st_blocks) */
	LOOP_FILE_UNWRITTEN = 1 << 6,	/* preallocated, never written */
	LOOP_FILE_OFFSET_PAST_END = 1 << 7,
};
/* Which of the above refuse an attach; the others are warnings. */
#define LOOP_FILE_REFUSE (LOOP_FILE_NOT_REGULAR | LOOP_FILE_EMPTY | \
			  LOOP_FILE_UNALIGNED | LOOP_FILE_COMPRESSED | \
			  LOOP_FILE_ENCRYPTED | LOOP_FILE_OFFSET_PAST_END)
struct loop_file_info {
	uint64_t size;
	uint64_t allocated;		/* bytes in extents (or st_blocks) */
	unsigned problems;		/* LOOP_FILE_* */
	bool fiemap;			/* FIEMAP answered */
	bool fuse;			/* backing file system is FUSE */
	bool ntfs_attrib_known;		/* an NTFS attribute xattr answered */
	uint32_t ntfs_attrib;		/* its FILE_ATTRIBUTE_* flags */
};
int loop_check_file(int fd, uint64_t offset, struct loop_file_info *info);
/* Pure part of the checks: from the facts to LOOP_FILE_* bits. */
unsigned loop_file_problems(mode_t mode, uint64_t size, uint64_t offset,
			    uint64_t stx_attributes, uint64_t allocated,
			    uint32_t extent_flags);

/* NTFS FILE_ATTRIBUTE_* flags, as the drivers show them in an extended
 * attribute: ntfs-3g and ntfs3 (6.2+) "system.ntfs_attrib_be", 4 bytes
 * big-endian; ntfs3 (5.15+) also "system.ntfs_attrib", little-endian. */
#define LOOP_NTFS_ATTRIB_BE "system.ntfs_attrib_be"
#define LOOP_NTFS_ATTRIB_LE "system.ntfs_attrib"
enum {
	LOOP_NTFS_SPARSE_FILE = 0x200,
	LOOP_NTFS_COMPRESSED = 0x800,
	LOOP_NTFS_ENCRYPTED = 0x4000,
};
/* The xattr's bytes to flags.  -EINVAL unless len is 4. */
int loop_ntfs_attrib_decode(const void *value, size_t len, bool big_endian,
			    uint32_t *attrib);
/* Flags to LOOP_FILE_COMPRESSED and LOOP_FILE_ENCRYPTED (pure). */
unsigned loop_ntfs_attrib_problems(uint32_t attrib);
/* Read fd's NTFS attributes (fd open for reading or writing, not O_PATH:
 * fgetxattr refuses those).  -ENODATA, -EOPNOTSUPP ...: not told. */
int loop_ntfs_attrib(int fd, uint32_t *attrib);

/* Reopen path_fd (an O_PATH fd) with flags (O_RDONLY or O_RDWR, and
 * O_NOCTTY ...) if and only if it is a regular file: fstat decides before
 * anything is opened, so no device, FIFO or socket is ever opened.  The
 * reopen goes through /proc/self/fd (no O_EMPTY_PATH in Linux), which
 * opens the very dentry path_fd holds; the result is checked to be the
 * same st_dev/st_ino anyway.  -EINVAL: not a regular file.  -ESTALE: not
 * the same file.  -EOPNOTSUPP: no /proc/self/fd (procfs not mounted). */
int loop_reopen_regular(int path_fd, int flags);

/* Is fd on a FUSE file system (where loop with direct I/O has hung)? */
int loop_fs_is_fuse(int fd);

/* "4096", "1M", "2GiB", "0x200": bytes.  -EINVAL, -ERANGE. */
int loop_parse_size(const char *s, uint64_t *out);
/* A power of two from 512 to 65536.  -EINVAL. */
int loop_parse_block_size(const char *s, uint32_t *out);

/* Open path below the directory root_fd, as if root_fd were "/": ".." stops
 * at it and absolute symlinks restart from it.  openat2(RESOLVE_IN_ROOT)
 * where the kernel has it (5.6+), else loop_open_in_root_walk().  flags as
 * for open(2), O_CREAT is not allowed. */
int loop_open_in_root(int root_fd, const char *path, int flags);
/* The same by hand, one component at a time (O_PATH|O_NOFOLLOW). */
int loop_open_in_root_walk(int root_fd, const char *path, int flags);

#endif
