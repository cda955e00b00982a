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

static inline int check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}

#endif
