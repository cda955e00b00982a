/* ioflusher: run a command as an I/O flusher (prctl PR_SET_IO_FLUSHER).
 *
 * loopboot runs ntfs-3g through it.  With the root on a loop device over a
 * FUSE host, the FUSE daemon writes on behalf of the kernel's writeback of
 * the root; throttled like any other writer once the dirty pages pile up,
 * it stalls the very writeback it serves (make bench, 1 GiB written in the
 * root: 4 MB/s).  An I/O flusher is throttled only on its own device's
 * dirty pages and never recurses into I/O to reclaim memory, as the
 * kernel's own loop workers are.  See ioflusher(8).
 */
#include "msg.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57	/* Linux 5.6 */
#endif

#define EXIT_USAGE 2
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

static const char usage[] =
"Usage: ioflusher [-a NAME] [--] COMMAND [ARG...]\n"
"\n"
"Runs COMMAND (looked up in PATH; its argv[0] as given, or NAME) as an\n"
"I/O flusher (prctl PR_SET_IO_FLUSHER, Linux 5.6 and later, needs\n"
"CAP_SYS_RESOURCE): it and its children are throttled only on their own\n"
"device's dirty pages and do no I/O to reclaim memory.  For a process that\n"
"writes on behalf of the kernel's writeback, such as a FUSE daemon holding\n"
"a loop device's file.  When the kernel refuses, a warning says so and\n"
"COMMAND runs anyway.\n"
"\n"
"  -a NAME         run COMMAND under the name NAME (its argv[0]), as\n"
"                  exec -a does: loopboot names ntfs-3g @ntfs-3g, which\n"
"                  systemd spares at shutdown\n"
"  -h, --help      this text\n"
"  -V, --version   the version\n"
"\n"
"Exit status: COMMAND's; 126 COMMAND cannot run, 127 not found, 2 usage.\n";

int main(int argc, char **argv)
{
	int arg = 1;
	const char *command, *name = NULL;

	msg_init(argv[0]);
	while (arg < argc && argv[arg][0] == '-') {
		if (strcmp(argv[arg], "--") == 0) {
			arg++;
			break;
		} else if (strcmp(argv[arg], "-h") == 0 ||
			   strcmp(argv[arg], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[arg], "-V") == 0 ||
			   strcmp(argv[arg], "--version") == 0) {
			printf("ioflusher (loopboot) %s\n", LOOPBOOT_VERSION);
			return 0;
		} else if (strcmp(argv[arg], "-a") == 0) {
			if (arg + 1 >= argc || argv[arg + 1][0] == '\0') {
				msg_error("-a", "NAME is missing (see --help)");
				return EXIT_USAGE;
			}
			name = argv[arg + 1];
			arg += 2;
		} else {
			msg_error(argv[arg], "unknown option (see --help)");
			return EXIT_USAGE;
		}
	}
	if (arg >= argc) {
		msg_error(NULL, "COMMAND is missing (see --help)");
		return EXIT_USAGE;
	}
	command = argv[arg];
	if (name)
		argv[arg] = (char *)name;
	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0)
		msg_errno(command, -errno, "warning: runs without the I/O "
			  "flusher state (kernel before 5.6, or no "
			  "CAP_SYS_RESOURCE)");
	execvp(command, argv + arg);
	msg_errno(command, -errno, "cannot run");
	return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
