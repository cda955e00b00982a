/* The kernel command line, split exactly as the kernel splits it.
 *
 * The definition is Linux's next_arg() (lib/cmdline.c) as parse_args()
 * (kernel/params.c) drives it:
 *   - whitespace is the kernel's isspace(): \t \n \v \f \r, space, and 0xA0
 *     (Latin-1 no-break space: the kernel's ctype table is Latin-1);
 *   - whitespace inside double quotes does not separate; a token that starts
 *     with a quote loses it and a quote that ends it; a value that starts with
 *     a quote loses it and a quote that ends the token; any other quote stays;
 *   - there is no escape character;
 *   - the name is everything before the first '=' that is not the token's
 *     first character; no '=' means no value;
 *   - a token "--" without '=' ends the kernel's parameters: the rest is
 *     init's;
 *   - names compare with '-' and '_' as the same character.
 *
 * These functions work on a writable, NUL-terminated copy of the line and
 * split it in place, as the kernel does.
 */
#ifndef LOOPBOOT_CMDLINE_H
#define LOOPBOOT_CMDLINE_H

#include <stddef.h>

/* x86's COMMAND_LINE_SIZE, terminating NUL included: the kernel keeps at
 * most CMDLINE_SIZE - 1 bytes of the line the boot loader hands it. */
#if defined(__x86_64__) || defined(__i386__)
#define CMDLINE_SIZE 2048
#else
#error "CMDLINE_SIZE: set this architecture's COMMAND_LINE_SIZE"
#endif

/* Upper bound on what is read from a command line source.  /proc/cmdline can
 * exceed CMDLINE_SIZE only with bootconfig, whose data is at most 32 KiB. */
#define CMDLINE_READ_MAX (64 * 1024)

/* The kernel's isspace(). */
int cmdline_isspace(unsigned char c);

/* Reads FD to end of file (one pass; /proc/cmdline reports size 0) into a
 * malloc'd NUL-terminated buffer.  Returns 0 and sets *line, *len; -EFBIG
 * when the source holds more than MAX bytes; -errno on a read error. */
int cmdline_read_fd(int fd, size_t max, char **line, size_t *len);

/* Makes the *LEN bytes at LINE the line the kernel parses, in place, and
 * NUL-terminates it (LINE[*LEN] must be writable):
 *   CMDLINE_DROP_NEWLINE  drop one final '\n' (/proc/cmdline adds it; kept,
 *                         it would end up in an unbalanced quote's value);
 *   CMDLINE_CUT           keep at most CMDLINE_SIZE - 1 bytes, as the kernel
 *                         keeps of the boot loader's line.
 * Returns 0, 1 when the line was cut, or -EINVAL when a NUL byte is inside
 * (no kernel line holds one), with *LEN set to its offset. */
#define CMDLINE_DROP_NEWLINE 1u
#define CMDLINE_CUT 2u
int cmdline_prepare(char *line, size_t *len, unsigned flags);

/* The next parameter at *CURSOR: sets *name, *value (NULL when the token has
 * no '='), advances *cursor, returns 1.  Returns 0 at the end of the line or
 * at "--" (and then keeps returning 0). */
int cmdline_next(char **cursor, char **name, char **value);

/* 1 when kernel parameter names A and B are equal ('-' == '_'), else 0. */
int cmdline_name_eq(const char *a, const char *b);

/* Looks NAME up in LINE (split in place; LINE is spent afterwards).  The last
 * occurrence wins.  Returns 1 and sets *value (NULL for a bare name), or 0
 * when NAME is absent. */
int cmdline_lookup(char *line, const char *name, char **value);

/* What makes VALUE unusable as a file path given on the command line. */
enum cmdline_path_problem {
	CMDLINE_PATH_OK = 0,
	CMDLINE_PATH_EMPTY,
	CMDLINE_PATH_TOO_LONG,     /* PATH_MAX bytes or more, NUL included */
	CMDLINE_PATH_CONTROL,      /* a byte below 0x20, or 0x7F */
	CMDLINE_PATH_DRIVE,        /* "C:..." */
	CMDLINE_PATH_BACKSLASH,    /* Windows separator; see cmdline-get(8) */
	CMDLINE_PATH_RELATIVE,     /* does not start with '/' */
	CMDLINE_PATH_DOTDOT,       /* a ".." component */
};

/* Classifies VALUE; never fails.  Checks run in the order of the enum, so
 * the problem named is the first one a user should fix. */
enum cmdline_path_problem cmdline_path_check(const char *value);


#endif
