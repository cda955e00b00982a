/* The command line splitter against the kernel's results, case by case.
 *
 * Each expected value below is what Linux's next_arg()/parse_args() give for
 * the line, worked out from their rules (lib/cmdline.c, kernel/params.c,
 * lib/ctype.c), not from this implementation.
 */
#include "check.h"
#include "cmdline.h"
#include "shquote.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BARE ((const char *)1)   /* present without '=' */
#define ABSENT ((const char *)0)

static const struct lookup_case {
	const char *line;
	const char *name;
	const char *want;   /* a value, BARE or ABSENT */
	const char *what;
} lookups[] = {
	{ "loop=/a", "loop", "/a", "plain value" },
	{ "loop=/a b", "loop", "/a", "a space separates" },
	{ "\"loop=/My Linux/root.img\"", "loop", "/My Linux/root.img",
	  "GRUB's quoting of a whole token" },
	{ "loop=\"/My Linux/root.img\"", "loop", "/My Linux/root.img",
	  "a quoted value" },
	{ "root=/dev/sda1 \"loop=/My Linux/root.img\" ro", "loop",
	  "/My Linux/root.img", "GRUB's quoting between other options" },
	{ "a=\"b c\"d", "a", "b c\"d", "a quote inside a value stays" },
	{ "\"a=b c\"", "a", "b c", "a quoted token" },
	{ "a=", "a", "", "empty value" },
	{ "a", "a", BARE, "name without '='" },
	{ "quiet splash", "quiet", BARE, "bare flag among others" },
	{ "b=1", "a", ABSENT, "other name only" },
	{ "", "a", ABSENT, "empty line" },
	{ " \t \n ", "a", ABSENT, "whitespace only" },
	{ "a=1 a=2", "a", "2", "the last occurrence wins" },
	{ "a=1 a", "a", BARE, "the last occurrence wins, even bare" },
	{ "a a=3", "a", "3", "bare then value" },
	{ "a=1 -- a=2", "a", "1", "'--' ends the kernel's options" },
	{ "-- a=1", "a", ABSENT, "everything after '--' is init's" },
	{ "a=1 --=x a=2", "a", "2", "'--=x' is not the end" },
	{ "a=1 \"--\" a=2", "a", "1", "a quoted '--' ends too" },
	{ "a=1 x-- a=2", "a", "2", "'x--' is not the end" },
	{ "a=1\ta=2", "a", "2", "tab separates" },
	{ "a=1\na=2", "a", "2", "newline separates" },
	{ "a=1\va=2\fa=3\ra=4", "a", "4", "\\v \\f \\r separate" },
	{ "a=x\xA0y", "a", "x", "0xA0 separates (kernel ctype is Latin-1)" },
	{ "a=x\xA0y", "y", BARE, "the word after 0xA0 is its own token" },
	{ "a=x\xC2\xA0y", "a", "x\xC2", "UTF-8 no-break space splits after C2" },
	{ "a=\"x\xA0y\"", "a", "x\xA0y", "0xA0 inside quotes stays" },
	{ "a=\xFF\xFE\x80", "a", "\xFF\xFE\x80", "non-UTF-8 bytes pass through" },
	{ "a=\x01\x1F", "a", "\x01\x1F", "control bytes other than space pass" },
	{ "loop_fstype=ext4", "loop-fstype", "ext4", "'_' in line, '-' asked" },
	{ "loop-fstype=ext4", "loop_fstype", "ext4", "'-' in line, '_' asked" },
	{ "loop-fstype=a loop_fstype=b", "loop-fstype", "b",
	  "'-' and '_' spellings are one name: last wins" },
	{ "loopfstype=ext4", "loop-fstype", ABSENT, "'-' is not ignored" },
	{ "LOOP=/a", "loop", ABSENT, "names are case-sensitive" },
	{ "loop=/a", "loo", ABSENT, "no prefix match" },
	{ "lo=/a", "loop", ABSENT, "no prefix match the other way" },
	{ "a=\"b c", "a", "b c", "an unbalanced quote runs to the end" },
	{ "a=\"b c d=1", "a", "b c d=1", "an unbalanced quote swallows options" },
	{ "a=\"b c d=1", "d", ABSENT, "a swallowed option is absent" },
	{ "\"a=b c", "a", "b c", "unbalanced quote opening a token" },
	{ "a=b\"c d\" e=1", "a", "b\"c d\"", "quotes in mid-value group" },
	{ "a=b\"c d\" e=1", "e", "1", "after a mid-value quoted part" },
	{ "=x a=1", "a", "1", "a token starting with '='" },
	{ "a==b", "a", "=b", "only the first '=' splits" },
	{ "a=b=c", "a", "b=c", "later '=' stay in the value" },
	{ "\"a\"=b", "a", ABSENT, "\"a\"=b names 'a\"', not 'a'" },
	{ "\"a\"=b", "a\"", "b", "\"a\"=b names 'a\"'" },
	{ "a=\"\"", "a", "", "a quoted empty value" },
	{ "\"a=\"", "a", "", "a quoted token with an empty value" },
	{ "a=\"", "a", "", "a lone quote as value" },
	{ "a=1 \"", "a", "1", "a lone quote at the end" },
	{ "  a=1  ", "a", "1", "leading and trailing spaces" },
	{ "a=\"b\"\"c\"", "a", "b\"\"c", "only the outer quotes go" },
	{ "a=b\"", "a", "b\"", "a final quote stays when the value did not start with one" },
	{ "loop=/a\\b", "loop", "/a\\b", "backslash is an ordinary byte" },
	{ "a=\\\"b c\\\"", "a", "\\\"b c\\\"", "no escape: \\\" still quotes" },
	{ "a=$(x)`y`'z'", "a", "$(x)`y`'z'", "shell characters are ordinary" },
	{ "a=1 b=2 a=3 -- a=4", "a", "3", "duplicates and '--' together" },
};

static const struct token_case {
	const char *line;
	const char *tokens[12];   /* name, value pairs; BARE for no value */
} token_cases[] = {
	{ "a \"b c\" d=\"e f\" -- g", { "a", BARE, "b c", BARE, "d", "e f" } },
	{ "==x", { "=", "x" } },
	{ "=x", { "=x", BARE } },
	{ "\"\" x", { "", BARE, "x", BARE } },
	{ "\"", { "", BARE } },
	/* The quote after '=' closes the token's opening one. */
	{ "\"a=\"b c\"\"", { "a", "b", "c\"\"", BARE } },
	{ "x\xA0\xA0y\t\t\"z\"", { "x", BARE, "y", BARE, "z", BARE } },
	{ "a=1 \"--\" b", { "a", "1" } },
	{ "--", { NULL } },
};

static void check_lookups(void)
{
	size_t k;

	for (k = 0; k < sizeof(lookups) / sizeof(lookups[0]); k++) {
		const struct lookup_case *c = &lookups[k];
		char *line = strdup(c->line), *value = NULL;
		int found = cmdline_lookup(line, c->name, &value);
		int ok;

		if (c->want == ABSENT)
			ok = found == 0;
		else if (c->want == BARE)
			ok = found == 1 && value == NULL;
		else
			ok = found == 1 && value && strcmp(value, c->want) == 0;
		CHECK(ok, "lookup %zu: %s", k + 1, c->what);
		free(line);
	}
}

static void check_tokens(void)
{
	size_t k;

	for (k = 0; k < sizeof(token_cases) / sizeof(token_cases[0]); k++) {
		const struct token_case *c = &token_cases[k];
		char *line = strdup(c->line), *cursor = line, *name, *value;
		size_t t = 0;
		int ok = 1;

		while (cmdline_next(&cursor, &name, &value)) {
			const char *wn, *wv;

			if (t + 2 > 12) {
				ok = 0;
				break;
			}
			wn = c->tokens[t];
			wv = c->tokens[t + 1];
			if (!wn || strcmp(name, wn) != 0 ||
			    (wv == BARE ? value != NULL :
			     !value || strcmp(value, wv) != 0))
				ok = 0;
			t += 2;
		}
		if (t < 12 && c->tokens[t])
			ok = 0;
		/* Once ended, it stays ended. */
		if (cmdline_next(&cursor, &name, &value))
			ok = 0;
		CHECK(ok, "tokens of line %zu split as the kernel splits them", k + 1);
		free(line);
	}
}

/* The kernel keeps 2047 bytes of the boot loader's line on x86. */
static void check_prepare(void)
{
	char buf[CMDLINE_SIZE + 16];
	size_t len;
	char *value;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "a=", 2);
	len = CMDLINE_SIZE - 1;
	CHECK(cmdline_prepare(buf, &len, CMDLINE_CUT) == 0 && len == 2047,
	      "a 2047-byte line is kept whole");
	CHECK(cmdline_lookup(buf, "a", &value) == 1 && strlen(value) == 2045,
	      "the value of a 2047-byte line ends at its last byte");

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "a=", 2);
	memcpy(buf + 2047, " b", 2);
	len = CMDLINE_SIZE + 1;
	CHECK(cmdline_prepare(buf, &len, CMDLINE_CUT) == 1 && len == 2047,
	      "a 2049-byte line is cut to 2047 bytes");
	CHECK(cmdline_lookup(buf, "b", &value) == 0,
	      "an option past byte 2047 is gone, as for the kernel");

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "a=", 2);
	buf[2047] = 'y';
	len = CMDLINE_SIZE;
	CHECK(cmdline_prepare(buf, &len, CMDLINE_CUT) == 1 && len == 2047 &&
	      cmdline_lookup(buf, "a", &value) == 1 && strlen(value) == 2045 &&
	      !strchr(value, 'y'),
	      "a 2048-byte line loses its last byte");

	memcpy(buf, "a=\"b c\n", 7);
	len = 7;
	CHECK(cmdline_prepare(buf, &len, CMDLINE_DROP_NEWLINE) == 0 &&
	      cmdline_lookup(buf, "a", &value) == 1 && strcmp(value, "b c") == 0,
	      "/proc/cmdline's newline does not end up in an unbalanced quote");

	memcpy(buf, "a=1\n\n", 5);
	len = 5;
	CHECK(cmdline_prepare(buf, &len, CMDLINE_DROP_NEWLINE) == 0 && len == 4,
	      "only one final newline is dropped");

	memcpy(buf, "a=1\0b=2", 7);
	len = 7;
	CHECK(cmdline_prepare(buf, &len, CMDLINE_DROP_NEWLINE | CMDLINE_CUT) ==
	      -EINVAL && len == 3, "a NUL byte is an error, at its offset");
}

static void check_read(void)
{
	int fds[2];
	char *line = NULL, big[5000];
	size_t len = 0;

	memset(big, 'x', sizeof(big));
	if (pipe(fds) != 0) {
		CHECK(0, "pipe for the read test");
		return;
	}
	/* Two writes: the reader must go on to end of file, not stop at the
	 * first short read (/proc/cmdline's size reads as 0). */
	if (write(fds[1], big, 3000) != 3000 || write(fds[1], big, 2000) != 2000)
		CHECK(0, "write to the pipe");
	close(fds[1]);
	CHECK(cmdline_read_fd(fds[0], 8192, &line, &len) == 0 && len == 5000 &&
	      line[5000] == '\0', "reads to end of file across short reads");
	free(line);
	close(fds[0]);

	if (pipe(fds) != 0)
		return;
	if (write(fds[1], big, sizeof(big)) != (ssize_t)sizeof(big))
		CHECK(0, "write to the pipe");
	close(fds[1]);
	CHECK(cmdline_read_fd(fds[0], 4999, &line, &len) == -EFBIG,
	      "a source over the limit is refused, not truncated");
	close(fds[0]);
	CHECK(cmdline_read_fd(-1, 10, &line, &len) == -EBADF,
	      "a read error comes back as -errno");
}

static void check_paths(void)
{
	static const struct {
		const char *path;
		enum cmdline_path_problem want;
	} paths[] = {
		{ "/linux/root.img", CMDLINE_PATH_OK },
		{ "/My Linux/root.img", CMDLINE_PATH_OK },
		{ "/a..b/c.", CMDLINE_PATH_OK },
		{ "/a/.../b", CMDLINE_PATH_OK },
		{ "/./a", CMDLINE_PATH_OK },
		{ "/\xC3\xA9t\xE9", CMDLINE_PATH_OK },
		{ "", CMDLINE_PATH_EMPTY },
		{ "linux/root.img", CMDLINE_PATH_RELATIVE },
		{ "/../root.img", CMDLINE_PATH_DOTDOT },
		{ "/a/..", CMDLINE_PATH_DOTDOT },
		{ "..", CMDLINE_PATH_RELATIVE },
		{ "/a\nb", CMDLINE_PATH_CONTROL },
		{ "/a\tb", CMDLINE_PATH_CONTROL },
		{ "/a\x7F", CMDLINE_PATH_CONTROL },
		{ "\\linux\\root.img", CMDLINE_PATH_BACKSLASH },
		{ "/linux\\root.img", CMDLINE_PATH_BACKSLASH },
		{ "C:\\linux\\root.img", CMDLINE_PATH_DRIVE },
		{ "c:/linux/root.img", CMDLINE_PATH_DRIVE },
	};
	char *longpath;
	size_t k;

	for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++)
		CHECK(cmdline_path_check(paths[k].path) == paths[k].want,
		      "path check %zu gives problem %d", k + 1, paths[k].want);

	longpath = malloc(PATH_MAX + 1);
	memset(longpath, 'a', PATH_MAX);
	longpath[0] = '/';
	longpath[PATH_MAX - 1] = '\0';
	CHECK(cmdline_path_check(longpath) == CMDLINE_PATH_OK,
	      "a path of PATH_MAX - 1 bytes is accepted");
	longpath[PATH_MAX - 1] = 'a';
	longpath[PATH_MAX] = '\0';
	CHECK(cmdline_path_check(longpath) == CMDLINE_PATH_TOO_LONG,
	      "a path of PATH_MAX bytes is refused");
	free(longpath);
}

static void check_shell(void)
{
	char out[64];

	shell_quote("a b", out);
	CHECK(strcmp(out, "'a b'") == 0, "a plain value is single-quoted");
	shell_quote("", out);
	CHECK(strcmp(out, "''") == 0, "an empty value is ''");
	CHECK(shell_quote("'", out) == 6 && strcmp(out, "''\\'''") == 0,
	      "a quote becomes '\\''");
	CHECK(shell_quote_size(1) >= 7, "room for a quote's worst case");
	CHECK(shell_name_ok("LOOP") && shell_name_ok("_a1") &&
	      !shell_name_ok("") && !shell_name_ok("1a") &&
	      !shell_name_ok("a-b") && !shell_name_ok("a.b"),
	      "shell variable names");
	CHECK(cmdline_name_eq("a-b_c", "a_b-c") && !cmdline_name_eq("ab", "a") &&
	      !cmdline_name_eq("a", "ab") && cmdline_name_eq("", ""),
	      "name comparison treats '-' and '_' alike, nothing else");
}

int main(void)
{
	check_lookups();
	check_tokens();
	check_prepare();
	check_read();
	check_paths();
	check_shell();
	return check_done();
}
