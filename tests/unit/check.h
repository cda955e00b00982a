/* Minimal TAP-style harness for the C unit tests.
 *
 * Each CHECK prints "ok N - what" or "not ok N - what"; tests/run counts
 * these lines across all tiers and prints the totals.  check_done() returns
 * the exit status for main().
 */
#ifndef LOOPBOOT_CHECK_H
#define LOOPBOOT_CHECK_H

#include <stdio.h>

static int check_n, check_failed;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		int check_ok_ = !!(cond);                                  \
		check_n++;                                                 \
		if (!check_ok_)                                            \
			check_failed++;                                    \
		printf("%sok %d - ", check_ok_ ? "" : "not ", check_n);    \
		printf(__VA_ARGS__);                                       \
		printf("\n");                                              \
		if (!check_ok_)                                            \
			printf("#   failed at %s:%d: %s\n", __FILE__,      \
			       __LINE__, #cond);                           \
	} while (0)

/* Reads the fuzz seed NAME of tests/fuzz/corpus/TARGET into BUF (run
 * from the top of the tree) and checks that it is there: its length, or 0. */
static inline size_t check_read_seed(const char *target, const char *name,
				     unsigned char *buf, size_t size)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/%s/%s", target, name);
	f = fopen(path, "rb");
	n = f ? fread(buf, 1, size, f) : 0;
	if (f)
		fclose(f);
	CHECK(n > 0, "seed %s: read %s (run from the top of the tree)", name,
	      path);
	return n;
}

static inline int check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}

#endif
