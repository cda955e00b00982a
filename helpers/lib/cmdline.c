#include "cmdline.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmdline_isspace(unsigned char c)
{
	/* 0xA0 too: the kernel's ctype table marks it as space, so a UTF-8
	 * no-break space (C2 A0) typed into a path splits the token. */
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0;
}

static char *skip_spaces(char *s)
{
	while (cmdline_isspace((unsigned char)*s))
		s++;
	return s;
}

int cmdline_read_fd(int fd, size_t max, char **line, size_t *len)
{
	size_t size = 4096, used = 0;
	char *buf = malloc(size);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (used + 1 == size) {
			char *bigger;

			if (used > max)
				break;
			/* Grow only as far as one byte past MAX: enough to
			 * tell "too big" without reading the rest. */
			size = size * 2 > max + 2 ? max + 2 : size * 2;
			bigger = realloc(buf, size);
			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		n = read(fd, buf + used, size - 1 - used);
		if (n < 0) {
			int err = -errno;

			if (err == -EINTR)
				continue;
			free(buf);
			return err;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(buf);
		return -EFBIG;
	}
	buf[used] = '\0';
	*line = buf;
	*len = used;
	return 0;
}

int cmdline_prepare(char *line, size_t *len, unsigned flags)
{
	const char *nul;
	int cut = 0;

	if ((flags & CMDLINE_DROP_NEWLINE) && *len > 0 && line[*len - 1] == '\n')
		(*len)--;
	nul = memchr(line, '\0', *len);
	if (nul) {
		*len = (size_t)(nul - line);
		return -EINVAL;
	}
	if ((flags & CMDLINE_CUT) && *len > CMDLINE_SIZE - 1) {
		*len = CMDLINE_SIZE - 1;
		cut = 1;
	}
	line[*len] = '\0';
	return cut;
}

/* One token, as next_arg() splits it; the statements keep the kernel's
 * order because each quote removal can see what the previous one wrote. */
static char *next_token(char *args, char **name, char **value)
{
	size_t i, equals = 0;
	int in_quote = 0, quoted = 0;
	char *next;

	if (*args == '"') {
		args++;
		in_quote = quoted = 1;
	}
	for (i = 0; args[i]; i++) {
		if (cmdline_isspace((unsigned char)args[i]) && !in_quote)
			break;
		/* An '=' at index 0 does not count: the kernel uses 0 as
		 * "not found", so "=x" is a name with no value. */
		if (equals == 0 && args[i] == '=')
			equals = i;
		if (args[i] == '"')
			in_quote = !in_quote;
	}

	*name = args;
	if (!equals) {
		*value = NULL;
	} else {
		args[equals] = '\0';
		*value = args + equals + 1;
		if (**value == '"') {
			(*value)++;
			if (args[i - 1] == '"')
				args[i - 1] = '\0';
		}
	}
	/* With i == 0 the kernel clears the opening quote, before *name:
	 * no visible effect, so skip it rather than write before ARGS. */
	if (quoted && i > 0 && args[i - 1] == '"')
		args[i - 1] = '\0';

	if (args[i]) {
		args[i] = '\0';
		next = args + i + 1;
	} else {
		next = args + i;
	}
	return skip_spaces(next);
}

int cmdline_next(char **cursor, char **name, char **value)
{
	char *args = skip_spaces(*cursor);

	if (!*args) {
		*cursor = args;
		return 0;
	}
	args = next_token(args, name, value);
	if (!*value && strcmp(*name, "--") == 0) {
		/* Park the cursor on the terminator so later calls end too. */
		*cursor = args + strlen(args);
		return 0;
	}
	*cursor = args;
	return 1;
}

int cmdline_name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = *a == '-' ? '_' : *a;
		char cb = *b == '-' ? '_' : *b;

		if (ca != cb)
			return 0;
		if (!ca)
			return 1;
	}
}

int cmdline_lookup(char *line, const char *name, char **value)
{
	char *cursor = line, *n, *v;
	int found = 0;

	while (cmdline_next(&cursor, &n, &v)) {
		if (cmdline_name_eq(n, name)) {
			found = 1;
			*value = v;
		}
	}
	return found;
}

static int is_drive(const char *v)
{
	return ((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')) &&
	       v[1] == ':';
}

static int has_dotdot(const char *v)
{
	const char *p = v;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == v || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return 1;
		p++;
	}
	return 0;
}

enum cmdline_path_problem cmdline_path_check(const char *value)
{
	size_t len = strlen(value), i;

	if (len == 0)
		return CMDLINE_PATH_EMPTY;
	if (len >= PATH_MAX)
		return CMDLINE_PATH_TOO_LONG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x20 || c == 0x7F)
			return CMDLINE_PATH_CONTROL;
	}
	if (is_drive(value))
		return CMDLINE_PATH_DRIVE;
	if (strchr(value, '\\'))
		return CMDLINE_PATH_BACKSLASH;
	if (value[0] != '/')
		return CMDLINE_PATH_RELATIVE;
	if (has_dotdot(value))
		return CMDLINE_PATH_DOTDOT;
	return CMDLINE_PATH_OK;
}
