// SPDX-License-Identifier: GPL-2.0
/*
 * Reference munmap timer: the least code that measures what munmap_threads
 * measures with op=munmap mode=spin backing=thp-pmd, to check that mmrepro
 * adds nothing. Populate PMD-mapped THP, start threads spinning on the CPUs
 * other than this one (round robin), time munmap(). No harness code.
 * usage: munmap_ref SIZE_MIB THREADS REPS   -> prints one munmap ns per line
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PMD (2UL << 20)

static atomic_bool stop;
static atomic_int running;

static unsigned long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *spin(void *cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)(long)cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	atomic_fetch_add(&running, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		;
	return NULL;
}

int main(int argc, char **argv)
{
	size_t size = argc > 3 ? strtoul(argv[1], NULL, 0) << 20 : 0;
	int threads = argc > 3 ? atoi(argv[2]) : -1, reps = argc > 3 ? atoi(argv[3]) : 0;
	int me = sched_getcpu(), ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t tid[256];

	if (!size || threads < 0 || threads > 256 || reps < 1) {
		fprintf(stderr, "usage: munmap_ref SIZE_MIB THREADS(0..256) REPS\n");
		return 2;
	}
	for (int r = 0; r < reps; r++) {
		char *raw = mmap(NULL, size + PMD, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *p = (char *)(((unsigned long)raw + PMD - 1) & ~(PMD - 1));
		unsigned long long t0, t1;

		if (raw == MAP_FAILED)
			return 1;
		madvise(p, size, MADV_HUGEPAGE);
		for (size_t off = 0; off < size; off += 4096)
			p[off] = 1;
		atomic_store(&stop, false);
		atomic_store(&running, 0);
		for (int i = 0; i < threads; i++) /* the i-th CPU other than ours */
			pthread_create(
				&tid[i], NULL, spin,
				(void *)(long)(ncpu > 1 ? (me + 1 + i % (ncpu - 1)) % ncpu : me));
		while (atomic_load(&running) < threads)
			;
		t0 = now();
		munmap(p, size);
		t1 = now();
		atomic_store(&stop, true);
		for (int i = 0; i < threads; i++)
			pthread_join(tid[i], NULL);
		printf("%llu\n", t1 - t0);
		munmap(raw, (size_t)(p - raw));
		munmap(p + size, (size_t)(raw + size + PMD - (p + size)));
	}
	return 0;
}
