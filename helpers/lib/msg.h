/* One error convention for every loopboot tool.
 *
 * Library functions (the rest of helpers/lib) never print and never exit:
 * they return 0 (or a non-negative count) on success and a negative errno
 * value on failure.  Only the tools print, once, object first:
 *
 *     loopattach: /host/linux/root.img: file is empty (0 bytes); ...
 *
 * so a user at the initramfs shell always sees which device or file is meant.
 */
#ifndef LOOPBOOT_MSG_H
#define LOOPBOOT_MSG_H

#include <stdarg.h>

/* Set once from main(): the tool's name as the user typed it (basename). */
void msg_init(const char *argv0);
const char *msg_prog(void);

/* "PROG: OBJECT: TEXT\n" on stderr; OBJECT may be NULL ("PROG: TEXT"). */
void msg_error(const char *object, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As msg_error, with ": strerror(-err)" appended; err is a negative errno. */
void msg_errno(const char *object, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
