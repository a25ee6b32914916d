/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The synthetic allocator of mthp_alloc: size classes over two large
 * anonymous zones (64 KiB runs of small slots, page-aligned extents for the
 * rest), its metadata out of line, and a free policy that gives every aligned
 * granule of `granule` bytes back to the kernel (MADV_DONTNEED or MADV_FREE)
 * as soon as no live object overlaps it. A granule smaller than the folio
 * size leaves partially mapped large folios behind: the case in question.
 */
#ifndef MMREPRO_MTHP_ALLOC_ARENA_H
#define MMREPRO_MTHP_ALLOC_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum arena_advice { ARENA_DONTNEED, ARENA_FREE, ARENA_KEEP };

struct arena_opts {
	uint64_t limit;	  /* bytes the zones may hand out in total */
	uint64_t granule; /* free granularity: a power of two >= the page size */
	enum arena_advice advice;
	bool madv_hugepage; /* MADV_HUGEPAGE on the zones (thp_mode=madvise) */
};

struct arena;

struct arena *arena_new(const struct arena_opts *o, char *err, size_t errlen);
/* NULL with errno ENOMEM when the zones are exhausted. */
void *arena_alloc(struct arena *a, size_t size);
void arena_free(struct arena *a, void *p, size_t size);
/* Bytes given back to the kernel with madvise() so far. */
uint64_t arena_returned_bytes(const struct arena *a);
void arena_destroy(struct arena *a);

/* Adapters for struct churn_heap. */
void *arena_heap_alloc(void *a, size_t size);
void arena_heap_free(void *a, void *p, size_t size);

#endif
