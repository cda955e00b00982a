#include "msg.h"

#include <stdio.h>
#include <string.h>

static const char *prog = "loopboot";

void msg_init(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	prog = slash ? slash + 1 : argv0;
}

const char *msg_prog(void)
{
	return prog;
}

__attribute__((format(printf, 3, 0)))
static void vmsg(const char *object, int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	if (object)
		fprintf(stderr, "%s: ", object);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(-err));
	fputc('\n', stderr);
}

void msg_error(const char *object, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(object, 0, fmt, ap);
	va_end(ap);
}

void msg_errno(const char *object, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(object, err, fmt, ap);
	va_end(ap);
}
