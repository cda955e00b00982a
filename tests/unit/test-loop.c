/* Unit tests for the parts of helpers/lib/loop.c that need no loop device:
 * size parsing, the checks' verdicts, the read-back comparison, and the
 * path walk that stands in for openat2(RESOLVE_IN_ROOT) before 5.6, run
 * side by side with openat2 on a directory tree with ".." and symlinks.
 * (tests/shell/loopattach.sh covers real devices.) */
#include "check.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_parse_size(void)
{
	static const struct {
		const char *in;
		int r;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "512", 0, 512 },
		{ "010", 0, 10 },	/* no octal */
		{ "0x200", 0, 512 },
		{ "0X1f", 0, 31 },
		{ "1K", 0, 1024 },
		{ "1k", 0, 1024 },
		{ "1KiB", 0, 1024 },
		{ "1KB", 0, 1000 },
		{ "16M", 0, 16 << 20 },
		{ "2MiB", 0, 2 << 20 },
		{ "3G", 0, 3ULL << 30 },
		{ "1T", 0, 1ULL << 40 },
		{ "1GB", 0, 1000000000ULL },
		{ "15E", 0, 15ULL << 60 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "16E", -ERANGE, 0 },
		{ "0xffffffffffffffffff", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "1X", -EINVAL, 0 },
		{ "1Kib", -EINVAL, 0 },
		{ "1KiBx", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
		{ "0x1K", -EINVAL, 0 },
		{ "1.5M", -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int r = loop_parse_size(cases[i].in, &v);

		CHECK(r == cases[i].r && (r < 0 || v == cases[i].v),
		      "size \"%s\" -> %d %llu", cases[i].in, cases[i].r,
		      (unsigned long long)cases[i].v);
	}
	CHECK(loop_parse_size(NULL, &(uint64_t){ 0 }) == -EINVAL, "size NULL");
}

static void test_block_size(void)
{
	static const char *good[] = { "512", "1024", "2048", "4096", "4K",
				      "65536" };
	static const char *bad[] = { "0", "256", "1000", "3072", "131072",
				     "abc", "" };
	size_t i;
	uint32_t v;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(loop_parse_block_size(good[i], &v) == 0,
		      "sector size %s accepted", good[i]);
	CHECK(loop_parse_block_size("4K", &v) == 0 && v == 4096,
	      "sector size 4K is 4096");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(loop_parse_block_size(bad[i], &v) == -EINVAL,
		      "sector size \"%s\" refused", bad[i]);
}

static void test_file_problems(void)
{
	const mode_t reg = S_IFREG | 0644;
	const uint64_t m = 1 << 20;

	CHECK(loop_file_problems(reg, m, 0, 0, m, 0) == 0,
	      "a whole regular file: no problem");
	CHECK(loop_file_problems(S_IFDIR | 0755, 4096, 0, 0, 4096, 0) ==
	      LOOP_FILE_NOT_REGULAR, "directory: not regular");
	CHECK(loop_file_problems(S_IFBLK | 0600, 0, 0, 0, 0, 0) ==
	      LOOP_FILE_NOT_REGULAR, "block device: not regular (only that)");
	CHECK(loop_file_problems(reg, 0, 0, 0, 0, 0) == LOOP_FILE_EMPTY,
	      "empty file: empty (only that)");
	CHECK(loop_file_problems(reg, 1000, 0, 0, 4096, 0) ==
	      LOOP_FILE_UNALIGNED, "size 1000: unaligned");
	CHECK(loop_file_problems(reg, m, m, 0, m, 0) ==
	      LOOP_FILE_OFFSET_PAST_END, "offset == size: past the end");
	CHECK(loop_file_problems(reg, m, m - 512, 0, m, 0) == 0,
	      "offset one sector before the end: fine");
	CHECK(loop_file_problems(reg, m, 0, STATX_ATTR_COMPRESSED, m, 0) ==
	      LOOP_FILE_COMPRESSED, "statx compressed: compressed");
	CHECK(loop_file_problems(reg, m, 0, 0, m, FIEMAP_EXTENT_ENCODED) ==
	      LOOP_FILE_COMPRESSED, "FIEMAP encoded extent: compressed");
	CHECK(loop_file_problems(reg, m, 0, STATX_ATTR_ENCRYPTED, m, 0) ==
	      LOOP_FILE_ENCRYPTED, "statx encrypted: encrypted");
	CHECK(loop_file_problems(reg, m, 0, 0, m,
				 FIEMAP_EXTENT_DATA_ENCRYPTED) ==
	      LOOP_FILE_ENCRYPTED, "FIEMAP encrypted extent: encrypted");
	CHECK(loop_file_problems(reg, m, 0, 0, m / 2, 0) == LOOP_FILE_SPARSE,
	      "half allocated: sparse");
	CHECK(loop_file_problems(reg, m, 0, 0, m, FIEMAP_EXTENT_UNWRITTEN) ==
	      LOOP_FILE_UNWRITTEN, "preallocated: unwritten");
	CHECK(loop_file_problems(reg, m, 0, STATX_ATTR_IMMUTABLE, m, 0) == 0,
	      "other statx attributes: no problem");
	/* The verdicts: refuse these, warn about the rest. */
	CHECK((LOOP_FILE_REFUSE & (LOOP_FILE_NOT_REGULAR | LOOP_FILE_EMPTY |
				   LOOP_FILE_UNALIGNED | LOOP_FILE_COMPRESSED |
				   LOOP_FILE_ENCRYPTED |
				   LOOP_FILE_OFFSET_PAST_END)) ==
	      (LOOP_FILE_NOT_REGULAR | LOOP_FILE_EMPTY | LOOP_FILE_UNALIGNED |
	       LOOP_FILE_COMPRESSED | LOOP_FILE_ENCRYPTED |
	       LOOP_FILE_OFFSET_PAST_END), "refused: not regular, empty, "
	      "unaligned, compressed, encrypted, offset past end");
	CHECK(!(LOOP_FILE_REFUSE & (LOOP_FILE_SPARSE | LOOP_FILE_UNWRITTEN)),
	      "warned only: sparse, unwritten");
}

static void test_check_file(void)
{
	char dir[] = "/tmp/test-loop.XXXXXX", path[64];
	struct loop_file_info fi;
	int fd;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && loop_check_file(fd, 0, &fi) == 0 &&
	      fi.problems == LOOP_FILE_EMPTY, "check_file: new file is empty");
	CHECK(ftruncate(fd, 1 << 20) == 0 && loop_check_file(fd, 0, &fi) == 0 &&
	      (fi.problems & LOOP_FILE_SPARSE) && fi.size == 1 << 20,
	      "check_file: truncated file is sparse");
	if (fd >= 0 && posix_fallocate(fd, 0, 1 << 20) == 0)
		CHECK(loop_check_file(fd, 0, &fi) == 0 &&
		      !(fi.problems & LOOP_FILE_SPARSE) &&
		      fi.allocated >= 1 << 20,
		      "check_file: allocated file is not sparse "
		      "(fiemap %d, problems %#x)", fi.fiemap, fi.problems);
	if (fd >= 0)
		close(fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && loop_check_file(fd, 0, &fi) == 0 &&
	      fi.problems == LOOP_FILE_NOT_REGULAR, "check_file: directory");
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);
}

static void test_ntfs_attrib(void)
{
	static const unsigned char be[4] = { 0x00, 0x00, 0x08, 0x20 };
	static const unsigned char le[4] = { 0x20, 0x08, 0x00, 0x00 };
	static const unsigned char enc[4] = { 0x00, 0x00, 0x40, 0x20 };
	uint32_t a = 0;

	CHECK(loop_ntfs_attrib_decode(be, 4, true, &a) == 0 && a == 0x820,
	      "ntfs_attrib_be 00 00 08 20 -> 0x820 (got %#x)", a);
	a = 0;
	CHECK(loop_ntfs_attrib_decode(le, 4, false, &a) == 0 && a == 0x820,
	      "ntfs_attrib (little-endian) 20 08 00 00 -> 0x820 (got %#x)", a);
	CHECK(loop_ntfs_attrib_decode(be, 3, true, &a) == -EINVAL &&
	      loop_ntfs_attrib_decode(be, 0, true, &a) == -EINVAL &&
	      loop_ntfs_attrib_decode(be, 5, false, &a) == -EINVAL,
	      "ntfs_attrib of another length than 4: -EINVAL");
	CHECK(loop_ntfs_attrib_decode(enc, 4, true, &a) == 0 && a == 0x4020 &&
	      loop_ntfs_attrib_problems(a) == LOOP_FILE_ENCRYPTED,
	      "ENCRYPTED 0x4000: encrypted");
	CHECK(loop_ntfs_attrib_problems(0x820) == LOOP_FILE_COMPRESSED,
	      "COMPRESSED 0x800 (with ARCHIVE): compressed");
	CHECK(loop_ntfs_attrib_problems(0x4800) ==
	      (LOOP_FILE_COMPRESSED | LOOP_FILE_ENCRYPTED),
	      "both: both");
	CHECK(loop_ntfs_attrib_problems(0x20) == 0 &&
	      loop_ntfs_attrib_problems(0x220) == 0 &&
	      loop_ntfs_attrib_problems(0x80) == 0,
	      "ARCHIVE, SPARSE_FILE, NORMAL: no problem by themselves");
	CHECK((loop_ntfs_attrib_problems(0xffffffff) & LOOP_FILE_REFUSE) ==
	      (LOOP_FILE_COMPRESSED | LOOP_FILE_ENCRYPTED),
	      "every flag set: only compressed and encrypted, both refused");
}

/* loop_reopen_regular opens nothing but a regular file. */
static void test_reopen_regular(void)
{
	char dir[] = "/tmp/test-loop-reopen.XXXXXX", p[96];
	struct stat st, st2;
	int pfd, fd;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(p, sizeof(p), "%s/f", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		close(fd);
	pfd = open(p, O_PATH | O_CLOEXEC);
	fd = loop_reopen_regular(pfd, O_RDWR);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && fstat(pfd, &st2) == 0 &&
	      st.st_ino == st2.st_ino && (fcntl(fd, F_GETFL) & O_ACCMODE) ==
	      O_RDWR && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	      "reopen a regular file O_RDWR: the same inode, read-write, "
	      "close-on-exec (%d)", fd);
	if (fd >= 0)
		close(fd);
	/* Renamed away and replaced after the O_PATH open: still the file
	 * the O_PATH fd holds. */
	{
		char q[112];
		int x;

		snprintf(q, sizeof(q), "%s/moved", dir);
		x = rename(p, q);
		if (x == 0)
			x = mkfifo(p, 0600);
		fd = x == 0 ? loop_reopen_regular(pfd, O_RDONLY) : -1;
		CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		      st.st_ino == st2.st_ino,
		      "reopen after the name was swapped for a FIFO: the "
		      "original file, no hang");
		if (fd >= 0)
			close(fd);
		unlink(p);
		unlink(q);
	}
	if (pfd >= 0)
		close(pfd);

	snprintf(p, sizeof(p), "%s/fifo", dir);
	pfd = mkfifo(p, 0600) == 0 ? open(p, O_PATH | O_CLOEXEC) : -1;
	CHECK(pfd >= 0 && loop_reopen_regular(pfd, O_RDWR) == -EINVAL &&
	      loop_reopen_regular(pfd, O_RDONLY) == -EINVAL,
	      "a FIFO: -EINVAL, without blocking");
	if (pfd >= 0)
		close(pfd);
	unlink(p);
	pfd = open("/dev/null", O_PATH | O_CLOEXEC);
	CHECK(loop_reopen_regular(pfd, O_RDWR) == -EINVAL,
	      "a character device: -EINVAL");
	if (pfd >= 0)
		close(pfd);
	pfd = open(dir, O_PATH | O_CLOEXEC);
	CHECK(loop_reopen_regular(pfd, O_RDONLY) == -EINVAL,
	      "a directory: -EINVAL");
	if (pfd >= 0)
		close(pfd);
	rmdir(dir);
}

static void test_mismatch(void)
{
	struct loop_request req = { .offset = 1 << 20, .sizelimit = 16 << 20,
				    .block_size = 4096, .partscan = true };
	struct loop_seen seen = { .offset = 1 << 20, .sizelimit = 16 << 20,
				  .flags = LO_FLAGS_PARTSCAN,
				  .block_size = 4096, .size = 16 << 20,
				  .file_size = 64 << 20, .same_file = true };
	struct loop_seen s;

	CHECK(loop_mismatch(&req, &seen) == 0, "mismatch: all as asked");
	s = seen;
	s.flags |= LO_FLAGS_DIRECT_IO;
	CHECK(loop_mismatch(&req, &s) == 0, "mismatch: direct I/O is no mismatch");
	s = seen;
	s.offset = 0;
	CHECK(loop_mismatch(&req, &s) == LOOP_BAD_OFFSET, "mismatch: offset");
	s = seen;
	s.sizelimit = 0;
	CHECK(loop_mismatch(&req, &s) == LOOP_BAD_SIZELIMIT,
	      "mismatch: size limit");
	s = seen;
	s.size = 63 << 20;	/* 5.8: LOOP_CONFIGURE ignored the limit */
	CHECK(loop_mismatch(&req, &s) == LOOP_BAD_SIZE,
	      "mismatch: device size (5.8 LOOP_CONFIGURE bug)");
	s = seen;
	s.flags = 0;		/* 5.8: partscan not propagated */
	CHECK(loop_mismatch(&req, &s) == LOOP_BAD_PARTSCAN,
	      "mismatch: partscan");
	s = seen;
	s.flags |= LO_FLAGS_READ_ONLY;
	CHECK(loop_mismatch(&req, &s) == LOOP_BAD_READ_ONLY,
	      "mismatch: read-only when rw was asked");
	s = seen;
	s.flags |= LO_FLAGS_AUTOCLEAR;
	CHECK(loop_mismatch(&req, &s) == LOOP_BAD_AUTOCLEAR,
	      "mismatch: autoclear");
	s = seen;
	s.block_size = 512;
	CHECK(loop_mismatch(&req, &s) & LOOP_BAD_BLOCK_SIZE,
	      "mismatch: block size");
	s = seen;
	s.same_file = false;
	CHECK(loop_mismatch(&req, &s) == LOOP_BAD_BACKING,
	      "mismatch: another backing file");

	CHECK(loop_expected_size(64 << 20, 0, 0) == 64 << 20,
	      "expected size: whole file");
	CHECK(loop_expected_size(64 << 20, 1 << 20, 0) == 63 << 20,
	      "expected size: after offset");
	CHECK(loop_expected_size(64 << 20, 1 << 20, 80 << 20) == 63 << 20,
	      "expected size: limit beyond the end is cut");
	CHECK(loop_expected_size(1000, 0, 0) == 512,
	      "expected size: whole sectors only");
	CHECK(loop_expected_size(4096, 8192, 0) == 0,
	      "expected size: offset past the end");
	req = (struct loop_request){ .sizelimit = 6144 + 512 };
	s = (struct loop_seen){ .sizelimit = 6144 + 512, .block_size = 4096,
				.size = 4096, .file_size = 1 << 20,
				.same_file = true };
	CHECK(loop_mismatch(&req, &s) == 0,
	      "size rounded down to the 4096 block size is accepted");
}

/* ---- open in root ---------------------------------------------------- */

static char tree[] = "/tmp/test-loop-root.XXXXXX";
static struct stat img_st, secret_st;

static int mk(const char *name, int kind)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", tree, name);
	if (kind == 'd')
		return mkdir(p, 0755);
	if (kind == 'f') {
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			return -1;
		return close(fd);
	}
	return -1;
}

static int lnk(const char *target, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/root/%s", tree, name);
	return symlink(target, p);
}

/* Result of opening path: 'I' the image, 'S' the secret outside the root,
 * 'D' a directory, 'O' something else, or -errno. */
static int what(int fd)
{
	struct stat st;
	int r;

	if (fd < 0)
		return fd;
	r = fstat(fd, &st) < 0 ? -errno : 'O';
	if (r == 'O' && st.st_dev == img_st.st_dev && st.st_ino == img_st.st_ino)
		r = 'I';
	else if (r == 'O' && st.st_ino == secret_st.st_ino &&
		 st.st_dev == secret_st.st_dev)
		r = 'S';
	else if (r == 'O' && S_ISDIR(st.st_mode))
		r = 'D';
	close(fd);
	return r;
}

static void test_open_in_root(void)
{
	static const struct {
		const char *path;
		int want;
	} cases[] = {
		{ "/linux/root.img", 'I' },
		{ "linux/root.img", 'I' },
		{ "//linux//./root.img", 'I' },
		{ "/linux/../linux/root.img", 'I' },
		{ "/../../linux/root.img", 'I' },	/* ".." stops at root */
		{ "../secret.img", -ENOENT },
		{ "/../secret.img", -ENOENT },
		{ "linux/../../secret.img", -ENOENT },
		{ "abs", 'I' },				/* -> /linux/root.img */
		{ "absdir/root.img", 'I' },		/* -> /linux */
		{ "abs-escape", -ENOENT },		/* -> TREE/secret.img */
		{ "rel-escape", -ENOENT },		/* -> ../secret.img */
		{ "linux/deep-escape", -ENOENT },	/* -> ../../../../secret.img */
		{ "linux/up/linux/root.img", 'I' },	/* up -> ../.. */
		{ "chain1", 'I' },			/* -> chain2 -> abs */
		{ "loop1", -ELOOP },			/* -> loop2 -> loop1 */
		{ "linux/root.img/", -ENOTDIR },
		{ "abs/x", -ENOTDIR },
		{ "missing", -ENOENT },
		{ "/", 'D' },
		{ "linux/..", 'D' },
		{ "dangling", -ENOENT },
	};
	char p[512];
	int root_fd;
	size_t i;

	if (!mkdtemp(tree)) {
		CHECK(0, "mkdtemp for the root tree");
		return;
	}
	if (mk("root", 'd') < 0 || mk("root/linux", 'd') < 0 ||
	    mk("root/linux/root.img", 'f') < 0 || mk("secret.img", 'f') < 0) {
		CHECK(0, "build the root tree");
		return;
	}
	snprintf(p, sizeof(p), "%s/root/linux/root.img", tree);
	stat(p, &img_st);
	snprintf(p, sizeof(p), "%s/secret.img", tree);
	stat(p, &secret_st);
	lnk("/linux/root.img", "abs");
	lnk("/linux", "absdir");
	lnk(p, "abs-escape");
	lnk("../secret.img", "rel-escape");
	lnk("../../../../secret.img", "linux/deep-escape");
	lnk("../..", "linux/up");
	lnk("chain2", "chain1");
	lnk("abs", "chain2");
	lnk("loop2", "loop1");
	lnk("loop1", "loop2");
	lnk("nowhere", "dangling");

	snprintf(p, sizeof(p), "%s/root", tree);
	root_fd = open(p, O_PATH | O_DIRECTORY);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int flags = cases[i].want == 'D' ? O_RDONLY : O_RDONLY | O_NOCTTY;
		int walk = what(loop_open_in_root_walk(root_fd, cases[i].path,
						       flags));
		int kernel = what(loop_open_in_root(root_fd, cases[i].path,
						    flags));

		CHECK(walk == cases[i].want, "walk: \"%s\" -> %d (got %d)",
		      cases[i].path, cases[i].want, walk);
		CHECK(kernel == walk, "openat2 agrees with the walk on \"%s\" "
		      "(%d, %d)", cases[i].path, kernel, walk);
	}
	CHECK(loop_open_in_root_walk(root_fd, "x", O_RDWR | O_CREAT) == -EINVAL,
	      "walk refuses O_CREAT");
	CHECK(what(loop_open_in_root_walk(root_fd, "linux/root.img", O_RDWR)) ==
	      'I', "walk opens read-write");
	/* O_PATH, as loopattach opens: both resolve a symlink to a FIFO
	 * inside the root without opening it (no hang). */
	snprintf(p, sizeof(p), "%s/root/fifo", tree);
	if (mkfifo(p, 0600) == 0 && lnk("/fifo", "fifolink") == 0) {
		int a = loop_open_in_root(root_fd, "fifolink", O_PATH);
		int b = loop_open_in_root_walk(root_fd, "fifolink", O_PATH);
		struct stat sa, sb;

		CHECK(a >= 0 && b >= 0 && fstat(a, &sa) == 0 &&
		      fstat(b, &sb) == 0 && S_ISFIFO(sa.st_mode) &&
		      sa.st_ino == sb.st_ino &&
		      loop_reopen_regular(a, O_RDWR) == -EINVAL,
		      "O_PATH through a symlink in the root to a FIFO: found, "
		      "not opened, not reopened");
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	} else {
		CHECK(0, "make a FIFO and a symlink to it in the root tree");
	}
	CHECK(what(loop_open_in_root(root_fd, "abs", O_PATH)) == 'I' &&
	      what(loop_open_in_root_walk(root_fd, "abs", O_PATH)) == 'I',
	      "O_PATH through an absolute symlink: the image, both ways");
	close(root_fd);
}

int main(void)
{
	char cmd[600];

	test_parse_size();
	test_block_size();
	test_file_problems();
	test_check_file();
	test_ntfs_attrib();
	test_reopen_regular();
	test_mismatch();
	test_open_in_root();
	if (strncmp(tree, "/tmp/test-loop-root.", 20) == 0 &&
	    !strchr(tree, '\'')) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
		if (system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", tree);
	}
	return check_done();
}
