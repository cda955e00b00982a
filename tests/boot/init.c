/* The whole "distribution" in the boot tests' root image: a static
 * /sbin/init that reports on the console what the boot achieved and powers
 * off.  Every line starts with "LBTEST " so tests/boot/run can assert on it.
 *
 * Kernel options it reads from its environment (the kernel passes unknown
 * name=value options to init): lbtest_remount=1 remounts / read-write first
 * (the "ro, then rw later" case), lbtest_nowrite=1 skips the writes,
 * lbtest_loopqueue=1 reports the loop devices' block size and read-ahead,
 * lbtest_flusher=1 whether the ntfs-3g daemon runs as an I/O flusher.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static void cat(const char *tag, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("LBTEST %s unreadable %s: %s\n", tag, path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f))
		printf("LBTEST %s %s", tag, line);
	fclose(f);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t len = (ssize_t)strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return close(fd) ? -errno : 0;
}

static void try_write(const char *tag, const char *path)
{
	int err = write_file(path, "written by the loopboot test init\n");

	if (err)
		printf("LBTEST %s failed %s: %s\n", tag, path, strerror(-err));
	else
		printf("LBTEST %s ok %s\n", tag, path);
}

/* The first word of the file at path, into buf; 0 when unreadable. */
static int read_word(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok = f && fscanf(f, "%31s", buf) == 1 && len >= 32;

	if (f)
		fclose(f);
	return ok;
}

static int flag(const char *name)
{
	const char *v = getenv(name);

	return v && strcmp(v, "1") == 0;
}

/* "LBTEST loopqueue loopN block B read-ahead KB" for each attached loop
 * device (loopboot.blocksize, loopboot.readahead). */
static void loop_queues(void)
{
	char path[64], size[32], block[32], ahead[32];

	mkdir("/sys", 0755);
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) != 0 && errno != EBUSY) {
		printf("LBTEST loopqueue sysfs-mount failed: %s\n", strerror(errno));
		return;
	}
	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof path, "/sys/block/loop%d/size", i);
		if (!read_word(path, size, sizeof size) || strcmp(size, "0") == 0)
			continue;
		snprintf(path, sizeof path, "/sys/block/loop%d/queue/logical_block_size", i);
		if (!read_word(path, block, sizeof block))
			strcpy(block, "?");
		snprintf(path, sizeof path, "/sys/block/loop%d/queue/read_ahead_kb", i);
		if (!read_word(path, ahead, sizeof ahead))
			strcpy(ahead, "?");
		printf("LBTEST loopqueue loop%d block %s read-ahead %s\n", i, block, ahead);
	}
}

/* "LBTEST io-flusher @ntfs-3g yes|no" for each process whose argv[0] is
 * @ntfs-3g (the name loopboot gives the daemon, which systemd reads in
 * /proc/PID/cmdline to spare it): its kernel flags (/proc/PID/stat, field
 * 9) hold PF_MEMALLOC_NOIO (0x80000) and PF_LOCAL_THROTTLE (0x100000),
 * which PR_SET_IO_FLUSHER sets. */
static void io_flushers(void)
{
	char path[64], line[1024], argv0[64];
	int found = 0;

	for (int pid = 2; pid < 32768; pid++) {
		FILE *f;
		char *comm_end;
		unsigned long flags = 0;
		size_t n;

		snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(argv0, 1, sizeof argv0 - 1, f);
		fclose(f);
		argv0[n] = '\0';
		if (strcmp(argv0, "@ntfs-3g") != 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(line, sizeof line, f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		comm_end = strrchr(line, ')');
		if (!comm_end ||
		    sscanf(comm_end + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
			continue;
		found = 1;
		printf("LBTEST io-flusher @ntfs-3g %s (flags %#lx)\n",
		       (flags & 0x180000UL) == 0x180000UL ? "yes" : "no", flags);
	}
	if (!found)
		printf("LBTEST io-flusher no @ntfs-3g process\n");
}

int main(void)
{
	struct stat st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL) != 0 && errno != EBUSY)
		printf("LBTEST proc-mount failed: %s\n", strerror(errno));
	printf("LBTEST reached root-in-file init pid=%d\n", (int)getpid());
	cat("cmdline", "/proc/cmdline");
	cat("mount", "/proc/mounts");

	if (flag("lbtest_loopqueue"))
		loop_queues();
	if (flag("lbtest_flusher"))
		io_flushers();
	if (flag("lbtest_remount")) {
		if (mount(NULL, "/", NULL, MS_REMOUNT, NULL) != 0)
			printf("LBTEST remount-rw failed: %s\n", strerror(errno));
		else
			printf("LBTEST remount-rw ok\n");
	}
	if (!flag("lbtest_nowrite")) {
		try_write("write-root", "/lbtest-root-written");
		if (stat("/host", &st) == 0 && S_ISDIR(st.st_mode))
			try_write("write-host", "/host/lbtest-host-written");
		if (stat("/run/loopboot/host", &st) == 0)
			printf("LBTEST run-host present\n");
		/* Put there by the /usr image test: /usr came from its own
		 * image, mounted by the initramfs. */
		if (stat("/usr/lbtest-usr-marker", &st) == 0)
			printf("LBTEST usr-marker present\n");
	}
	/* No shutdown stage here: the power goes off right after.  The root's
	 * writes reach the host through the loop device, whose worker may
	 * still be writing into the host's cache while sync() flushes the
	 * host: a read-only remount and a second sync() leave both flushed. */
	mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
	sync();
	sync();
	printf("LBTEST done, powering off\n");
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 0;
}
