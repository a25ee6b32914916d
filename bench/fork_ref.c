// SPDX-License-Identifier: GPL-2.0
/*
 * Reference fork timer: the least code that measures what fork_anon's fork_ns
 * measures, to check that mmrepro adds nothing. No harness code.
 * usage: fork_ref SIZE_MIB 4k|thp-pte|thp-pmd REPS   -> prints one fork_ns per line
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PMD (2UL << 20)

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t size = argc > 3 ? strtoul(argv[1], NULL, 0) << 20 : 0;
	const char *backing = argc > 3 ? argv[2] : "";
	int reps = argc > 3 ? atoi(argv[3]) : 0;

	if (!size || reps < 1) {
		fprintf(stderr, "usage: fork_ref SIZE_MIB 4k|thp-pte|thp-pmd REPS\n");
		return 2;
	}
	for (int r = 0; r < reps; r++) {
		char *raw = mmap(NULL, size + PMD, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *p = (char *)(((unsigned long)raw + PMD - 1) & ~(PMD - 1));
		unsigned long long t0, t1;
		pid_t pid;

		if (raw == MAP_FAILED)
			return 1;
		madvise(p, size, strcmp(backing, "4k") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		for (size_t off = 0; off < size; off += 4096)
			p[off] = 1;
		for (size_t off = 0; !strcmp(backing, "thp-pte") && off < size; off += PMD) {
			mprotect(p + off, 4096, PROT_READ); /* split the PMD, keep the folio */
			mprotect(p + off, 4096, PROT_READ | PROT_WRITE);
		}
		t0 = now();
		pid = fork();
		if (pid == 0)
			_exit(0);
		t1 = now();
		waitpid(pid, NULL, 0);
		printf("%llu\n", t1 - t0);
		munmap(raw, size + PMD);
	}
	return 0;
}
