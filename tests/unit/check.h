/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal checks for unit tests: every CHECK can fail, failures are counted,
 * and the exit status follows the CTest convention (0 pass, 1 fail, 77 skip). */
#ifndef MMREPRO_TEST_CHECK_H
#define MMREPRO_TEST_CHECK_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b)) {                                                \
			fprintf(stderr, "%s:%d: expected \"%s\"\n%*sgot      \"%s\"\n", __FILE__,  \
				__LINE__, _b ? _b : "(null)", (int)strlen(__FILE__) + 8, "",       \
				_a ? _a : "(null)");                                               \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
	do {                                                                                       \
		double _a = (a), _b = (b);                                                         \
		if (!(fabs(_a - _b) <= (tol))) {                                                   \
			fprintf(stderr, "%s:%d: %s = %.9g, expected %.9g\n", __FILE__, __LINE__,   \
				#a, _a, _b);                                                       \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

static inline int check_done(const char *name)
{
	if (check_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

/*
 * Tests that read global kernel state (THP knobs, fresh THP allocations) hold
 * the same machine-wide lock as the integration tests, so a test in another
 * build tree that changes knobs cannot run in the middle of them.
 */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

static inline void machine_lock(void)
{
	int fd;

	mkdir("/run/lock", 0755);
	fd = open("/run/lock/mmrepro-tests.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		flock(fd, LOCK_EX); /* held until the test exits */
}

#define SKIP(why)                                                                                  \
	do {                                                                                       \
		printf("SKIP: %s\n", why);                                                         \
		exit(77);                                                                          \
	} while (0)

#endif
