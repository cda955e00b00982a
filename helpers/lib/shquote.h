/* Shell quoting for values that sh will eval: pure functions. */
#ifndef LOOPBOOT_SHQUOTE_H
#define LOOPBOOT_SHQUOTE_H

#include <stddef.h>

/* Writes IN to OUT as one single-quoted POSIX shell word ('\'' for each
 * quote), NUL-terminated.  OUT must hold shell_quote_size(strlen(IN))
 * bytes.  Returns the length written. */
size_t shell_quote(const char *in, char *out);
size_t shell_quote_size(size_t len);

/* 1 when S is a portable shell variable name ([A-Za-z_][A-Za-z0-9_]*). */
int shell_name_ok(const char *s);

#endif
