/* Shell quoting, the one way the C tools write values for sh's eval
 * (cmdline-get --shell, ntfsprobe --export); the shell side has its own
 * twin, loopboot_shquote in scripts/loopboot/contract. */
#include "shquote.h"

#include <string.h>

size_t shell_quote_size(size_t len)
{
	/* Worst case every byte is a quote, written as four: '\'' */
	return 4 * len + 3;
}

size_t shell_quote(const char *in, char *out)
{
	char *o = out;

	*o++ = '\'';
	for (; *in; in++) {
		if (*in == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *in;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return (size_t)(o - out);
}

int shell_name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	}
	return 1;
}
