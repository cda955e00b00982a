/* /init of a tiny initramfs that reports what the kernel made of its command
 * line, for tests/boot/cmdline-kernel.sh.  The kernel hands init every
 * parameter it does not know: "name=value" ones as environment, bare words
 * and everything after "--" as arguments.  Printed on the console, bytes in
 * hex so any value survives the serial line:
 *   ARG <hex>            argv[1..]
 *   ENV <hex>            each environment entry
 *   CMDLINE <hex>        /proc/cmdline as read
 *   ORACLE-END
 * then power off.  Built static by the test (cc -static).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

extern char **environ;

static void hex_line(FILE *out, const char *tag, const unsigned char *s, size_t n)
{
	size_t i;

	fprintf(out, "%s ", tag);
	for (i = 0; i < n; i++)
		fprintf(out, "%02x", s[i]);
	fputc('\n', out);
}

int main(int argc, char **argv)
{
	static unsigned char buf[65536];
	size_t used = 0;
	ssize_t n;
	FILE *out;
	char **e;
	int fd, i;

	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	out = fopen("/dev/console", "w");
	if (!out)
		out = stdout;

	for (i = 1; i < argc; i++)
		hex_line(out, "ARG", (const unsigned char *)argv[i], strlen(argv[i]));
	for (e = environ; *e; e++)
		hex_line(out, "ENV", (const unsigned char *)*e, strlen(*e));
	fd = open("/proc/cmdline", O_RDONLY);
	while (fd >= 0 && used < sizeof(buf) &&
	       (n = read(fd, buf + used, sizeof(buf) - used)) > 0)
		used += (size_t)n;
	hex_line(out, "CMDLINE", buf, used);
	fprintf(out, "ORACLE-END\n");
	fflush(out);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
