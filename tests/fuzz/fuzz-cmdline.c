/* libFuzzer target for the kernel command line splitter.
 *
 * Any bytes are a command line.  Checked on each input:
 *   - cmdline_next() agrees token by token with a second, independent
 *     statement of next_arg()'s rules below, written without splitting in
 *     place (so an ordering mistake in one of them shows as a difference);
 *   - cmdline_lookup() returns the last of the equal names;
 *   - every value, quoted for the shell, reads back to the same bytes and
 *     leaves no byte outside single quotes but the \' escape;
 *   - cmdline_path_check() accepts nothing relative or with control bytes.
 * ASan and UBSan watch every access.
 */
#include "cmdline.h"
#include "shquote.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 4096

struct ref_token {
	size_t name, name_len;
	int has_value;
	size_t value, value_len;
};

/* next_arg() restated over an unmodified buffer: where the token's body
 * ends (j), where the first usable '=' is, and which of the two possible
 * quote removals (both at j - 1) happen. */
static size_t ref_split(const char *s, size_t len, struct ref_token *tok,
			size_t max)
{
	size_t pos = 0, count = 0;

	while (count < max) {
		size_t p, j, eq = 0, end;
		int quoted, in_quote, has_eq = 0, cut = 0;

		while (pos < len && cmdline_isspace((unsigned char)s[pos]))
			pos++;
		if (pos == len)
			break;
		quoted = in_quote = s[pos] == '"';
		p = pos + (size_t)quoted;
		for (j = p; j < len; j++) {
			if (!in_quote && cmdline_isspace((unsigned char)s[j]))
				break;
			/* An '=' first in the body is not a separator. */
			if (!has_eq && s[j] == '=' && j > p) {
				has_eq = 1;
				eq = j;
			}
			if (s[j] == '"')
				in_quote = !in_quote;
		}
		tok[count].name = p;
		tok[count].has_value = has_eq;
		if (has_eq) {
			size_t v = eq + 1;

			if (v < j && s[v] == '"') {
				v++;
				if (s[j - 1] == '"')
					cut = 1;
			}
			if (quoted && !cut && s[j - 1] == '"')
				cut = 1;
			end = cut ? j - 1 : j;
			tok[count].name_len = eq - p;
			tok[count].value = v;
			tok[count].value_len = end > v ? end - v : 0;
		} else {
			if (quoted && j > p && s[j - 1] == '"')
				cut = 1;
			end = cut ? j - 1 : j;
			tok[count].name_len = end - p;
		}
		pos = j < len ? j + 1 : j;
		if (!has_eq && tok[count].name_len == 2 &&
		    memcmp(s + p, "--", 2) == 0)
			break;
		count++;
	}
	return count;
}

static int same(const char *got, const char *s, size_t off, size_t n)
{
	return strlen(got) == n && memcmp(got, s + off, n) == 0;
}

static void check_shell_quote(const char *value)
{
	size_t n = strlen(value), i = 0, o = 0, len;
	char *q = malloc(shell_quote_size(n)), *back = malloc(n + 1);

	if (!q || !back)
		abort();
	len = shell_quote(value, q);
	if (len >= shell_quote_size(n) || q[len] != '\0')
		abort();
	/* Read back: '...' segments, joined by \' only. */
	while (i < len) {
		if (q[i] == '\'') {
			for (i++; i < len && q[i] != '\''; i++)
				back[o++] = q[i];
			if (i == len)
				abort();   /* unterminated */
			i++;
		} else if (q[i] == '\\' && i + 1 < len && q[i + 1] == '\'') {
			back[o++] = '\'';
			i += 2;
		} else {
			abort();   /* a byte the shell would interpret */
		}
	}
	if (o != n || memcmp(back, value, n) != 0)
		abort();
	free(q);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref_token ref[MAX_TOKENS];
	char *line, *orig, *cursor, *name, *value;
	size_t len = size, count, k;
	int rc;

	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	rc = cmdline_prepare(line, &len, CMDLINE_DROP_NEWLINE | CMDLINE_CUT);
	if (rc < 0) {
		if (rc != -EINVAL || memchr(data, 0, size) == NULL)
			abort();
		free(line);
		return 0;
	}
	if (len >= CMDLINE_SIZE || strlen(line) != len)
		abort();
	orig = malloc(len + 1);
	if (!orig)
		abort();
	memcpy(orig, line, len + 1);

	count = ref_split(orig, len, ref, MAX_TOKENS);
	cursor = line;
	for (k = 0; cmdline_next(&cursor, &name, &value); k++) {
		if (k >= count || name < line || name > line + len ||
		    !same(name, orig, ref[k].name, ref[k].name_len) ||
		    !!value != ref[k].has_value ||
		    (value && (value < line || value > line + len ||
			       !same(value, orig, ref[k].value, ref[k].value_len))))
			abort();
		if (value) {
			check_shell_quote(value);
			if (cmdline_path_check(value) == CMDLINE_PATH_OK &&
			    (value[0] != '/' || strchr(value, '\n')))
				abort();
		}
	}
	if (k != count || cmdline_next(&cursor, &name, &value))
		abort();

	/* Last one wins: look up the first token's name, expect the value of
	 * the last token whose name is equal to it. */
	if (count > 0) {
		char *want_name = strndup(orig + ref[0].name, ref[0].name_len);
		size_t last = 0;

		if (!want_name)
			abort();
		for (k = 0; k < count; k++) {
			char *n = strndup(orig + ref[k].name, ref[k].name_len);

			if (!n)
				abort();
			if (cmdline_name_eq(n, want_name))
				last = k;
			free(n);
		}
		memcpy(line, orig, len + 1);
		if (cmdline_lookup(line, want_name, &value) != 1 ||
		    !!value != ref[last].has_value ||
		    (value && !same(value, orig, ref[last].value,
				    ref[last].value_len)))
			abort();
		free(want_name);
	}
	free(orig);
	free(line);
	return 0;
}
