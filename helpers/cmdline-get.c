/* cmdline-get: read kernel parameters exactly as the kernel splits them.
 *
 * The boot scripts get every option through this tool, never by splitting
 * /proc/cmdline in the shell: "loop=/My Linux/root.img" must mean what the
 * kernel says it means.  See cmdline-get(8).
 */
#include "cmdline.h"
#include "shquote.h"
#include "msg.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_ABSENT 1
#define EXIT_ERROR 2

static const char usage[] =
"Usage: cmdline-get [SOURCE] [--path] NAME\n"
"       cmdline-get [SOURCE] [--path | --path=NAME...] --shell [VAR=]NAME...\n"
"\n"
"Prints the value of kernel parameter NAME, split as the kernel splits the\n"
"command line: only double quotes group (\"loop=/a b\" and loop=\"/a b\" both\n"
"give /a b), no escapes, '-' and '_' equal in names, the last occurrence\n"
"wins, nothing after a bare \"--\" (that belongs to init).\n"
"\n"
"SOURCE (default /proc/cmdline, read as the kernel's own record):\n"
"  --file FILE       a saved command line; one final newline is dropped\n"
"  --cmdline STRING  a command line as a boot loader passes it\n"
"  A line from FILE or STRING longer than 2047 bytes is cut there, as the\n"
"  x86 kernel cuts it (with a warning).  A NUL byte is an error.\n"
"\n"
"  --path            the value must be an absolute path: no \"..\" component,\n"
"                    no control character, no '\\' (use '/'), no drive\n"
"                    letter, shorter than PATH_MAX; else exit 2\n"
"  --path=NAME       the same for NAME's value only (repeatable), so that one\n"
"                    --shell call reads a path among other options\n"
"  --shell           print one line per NAME, safe to eval whatever the\n"
"                    value holds:  VAR='value'  or  unset VAR  when absent.\n"
"                    VAR defaults to NAME with '-' and '.' made '_'.\n"
"                    Check the exit status before eval:\n"
"                      vars=$(cmdline-get --shell LOOP=loop) || panic ...\n"
"                      eval \"$vars\"\n"
"  -h, --help        this text\n"
"  -V, --version     the version\n"
"\n"
"A NAME given without '=' on the command line (\"quiet\") is present with an\n"
"empty value.\n"
"\n"
"Exit status: 0 found (--shell: success), 1 NAME absent (no output),\n"
"2 error (message on stderr, no output).\n";

struct request {
	const char *var;   /* --shell only */
	char *own_var;     /* var, when made here from the name */
	const char *name;
	char *value;       /* points into the split line */
	int found;
	int path;          /* its value must be a path */
};

static int name_ok(const char *name)
{
	const char *p;

	if (!*name)
		return 0;
	for (p = name; *p; p++) {
		if (*p == '=' || *p == '"' || cmdline_isspace((unsigned char)*p))
			return 0;
	}
	return 1;
}

/* Default variable for NAME: what a shell accepts, or NULL. */
static char *var_for(const char *name)
{
	char *var = strdup(name), *p;

	if (!var)
		return NULL;
	for (p = var; *p; p++) {
		if (*p == '-' || *p == '.')
			*p = '_';
	}
	if (!shell_name_ok(var)) {
		free(var);
		return NULL;
	}
	return var;
}

static const char *path_problem_text(enum cmdline_path_problem p)
{
	switch (p) {
	case CMDLINE_PATH_OK:
		return "fine";
	case CMDLINE_PATH_EMPTY:
		return "is empty; give the file's path, e.g. /linux/root.img";
	case CMDLINE_PATH_TOO_LONG:
		return "is PATH_MAX bytes or longer";
	case CMDLINE_PATH_CONTROL:
		return "holds a control character (tab, newline, ...); "
		       "check the quoting on the kernel command line";
	case CMDLINE_PATH_BACKSLASH:
		return "holds '\\': Linux separates directories with '/' only, "
		       "write /linux/root.img, not \\linux\\root.img";
	case CMDLINE_PATH_DRIVE:
		return "starts with a drive letter: give the path inside the "
		       "partition named by root=, starting with '/'";
	case CMDLINE_PATH_RELATIVE:
		return "is not absolute: it must start with '/' "
		       "(the root of the partition named by root=)";
	case CMDLINE_PATH_DOTDOT:
		return "has a \"..\" component: give the path without it";
	}
	return "is unusable";
}

/* Reads the whole source into a writable NUL-terminated line, made the
 * line the kernel parses. */
static int load(const char *file, const char *string, char **line)
{
	const char *object = string ? "--cmdline" : file ? file : "/proc/cmdline";
	size_t len, full;
	unsigned flags = 0;
	int err;

	if (string) {
		len = strlen(string);
		*line = strdup(string);
		if (!*line) {
			msg_errno(object, -ENOMEM, "cannot copy the line");
			return -1;
		}
	} else {
		int fd = open(object, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			msg_errno(object, -errno, "cannot open");
			return -1;
		}
		err = cmdline_read_fd(fd, CMDLINE_READ_MAX, line, &len);
		close(fd);
		if (err == -EFBIG) {
			msg_error(object, "more than %d bytes: not a kernel "
				  "command line", CMDLINE_READ_MAX);
			return -1;
		}
		if (err < 0) {
			msg_errno(object, err, "cannot read");
			return -1;
		}
		flags |= CMDLINE_DROP_NEWLINE;
	}
	/* /proc/cmdline is what the kernel kept of the boot loader's line
	 * (longer only with bootconfig, which the kernel parsed whole), so
	 * only the other sources are cut. */
	if (file || string)
		flags |= CMDLINE_CUT;
	full = len;
	err = cmdline_prepare(*line, &len, flags);
	if (err == -EINVAL) {
		msg_error(object, "NUL byte at offset %zu: a kernel command "
			  "line cannot hold one (for the kernel's line, read "
			  "/proc/cmdline, not /proc/PID/cmdline)", len);
		return -1;
	}
	if (err == 1)
		msg_error(object, "line is %zu bytes; the kernel keeps only the "
			  "first %d, and so does cmdline-get", full, CMDLINE_SIZE - 1);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "path", optional_argument, NULL, 'p' },
		{ "shell", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *string = NULL, **path_names = NULL;
	int want_path = 0, shell = 0, opt, i, j, n = 0, n_path_names = 0, status = EXIT_ERROR;
	struct request *req = NULL;
	char *line = NULL, *cursor, *name, *value;

	msg_init(argv[0]);
	/* '+': stop at the first NAME, so no NAME is taken for an option. */
	while ((opt = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			file = optarg;
			break;
		case 'c':
			string = optarg;
			break;
		case 'p':
			if (!optarg) {
				want_path = 1;
				break;
			}
			if (!name_ok(optarg)) {
				msg_error(optarg[0] ? optarg : "\"\"", "--path=: not a "
					  "kernel parameter name (empty, or holds '=', "
					  "'\"' or a space)");
				goto out;
			}
			/* At most argc of them: the array is sized once. */
			if (!path_names &&
			    !(path_names = calloc((size_t)argc, sizeof(*path_names)))) {
				msg_errno(NULL, -ENOMEM, "out of memory");
				goto out;
			}
			path_names[n_path_names++] = optarg;
			break;
		case 's':
			shell = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			status = 0;
			goto out;
		case 'V':
			printf("cmdline-get (loopboot) %s\n", LOOPBOOT_VERSION);
			status = 0;
			goto out;
		default:
			fprintf(stderr, "Try '%s --help'.\n", msg_prog());
			goto out;
		}
	}
	if (file && string) {
		msg_error(NULL, "--file and --cmdline: give one source, not both");
		goto out;
	}
	n = argc - optind;
	if (n < 1 || (!shell && n > 1)) {
		msg_error(NULL, n < 1 ? "no NAME given" :
			  "one NAME only (several with --shell)");
		fprintf(stderr, "Try '%s --help'.\n", msg_prog());
		goto out;
	}

	req = calloc((size_t)n, sizeof(*req));
	if (!req) {
		msg_errno(NULL, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		char *arg = argv[optind + i], *eq = shell ? strchr(arg, '=') : NULL;

		if (eq) {
			*eq = '\0';
			req[i].var = arg;
			req[i].name = eq + 1;
			if (!shell_name_ok(req[i].var)) {
				msg_error(req[i].var, "not a shell variable "
					  "name (letters, digits, '_'; no "
					  "digit first)");
				goto out;
			}
		} else {
			req[i].name = arg;
			if (shell && !(req[i].var = req[i].own_var = var_for(arg)) &&
			    name_ok(arg)) {
				msg_error(arg, "makes no shell variable name; "
					  "give one: VAR=%s", arg);
				goto out;
			}
		}
		if (!name_ok(req[i].name)) {
			msg_error(req[i].name[0] ? req[i].name : "\"\"",
				  "not a kernel parameter name (empty, or "
				  "holds '=', '\"' or a space)");
			goto out;
		}
		req[i].path = want_path;
	}
	/* A --path=NAME that names nothing read would check nothing: a typo
	 * must not turn a check off without a word. */
	for (j = 0; j < n_path_names; j++) {
		int named = 0;

		for (i = 0; i < n; i++) {
			if (cmdline_name_eq(req[i].name, path_names[j]))
				req[i].path = named = 1;
		}
		if (!named) {
			msg_error(path_names[j], "--path= names a parameter not read "
				  "here; give it as a NAME too");
			goto out;
		}
	}

	if (load(file, string, &line) < 0)
		goto out;

	/* One pass over the line for every NAME: the last occurrence wins. */
	cursor = line;
	while (cmdline_next(&cursor, &name, &value)) {
		for (i = 0; i < n; i++) {
			if (cmdline_name_eq(name, req[i].name)) {
				req[i].found = 1;
				req[i].value = value ? value : "";
			}
		}
	}

	for (i = 0; i < n; i++) {
		enum cmdline_path_problem p;

		if (!req[i].found || !req[i].path)
			continue;
		p = cmdline_path_check(req[i].value);
		if (p != CMDLINE_PATH_OK) {
			if (p == CMDLINE_PATH_CONTROL)
				msg_error(req[i].name, "the path given %s",
					  path_problem_text(p));
			else
				msg_error(req[i].name, "the path \"%s\" %s",
					  req[i].value, path_problem_text(p));
			goto out;
		}
	}

	if (!shell) {
		if (!req[0].found) {
			status = EXIT_ABSENT;
			goto out;
		}
		printf("%s\n", req[0].value);
	} else {
		for (i = 0; i < n; i++) {
			char *quoted;

			if (!req[i].found) {
				printf("unset %s\n", req[i].var);
				continue;
			}
			quoted = malloc(shell_quote_size(strlen(req[i].value)));
			if (!quoted) {
				msg_errno(NULL, -ENOMEM, "out of memory");
				goto out;
			}
			shell_quote(req[i].value, quoted);
			printf("%s=%s\n", req[i].var, quoted);
			free(quoted);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		msg_errno("stdout", -errno, "cannot write");
	else
		status = 0;
out:
	for (i = 0; req && i < n; i++)
		free(req[i].own_var);
	free(req);
	free(path_names);
	free(line);
	return status;
}
