// SPDX-License-Identifier: GPL-2.0
/* The synthetic allocator of mthp_alloc; see mthp_alloc_arena.h. */
#include "mthp_alloc_arena.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RUN_BYTES   (64 * 1024) /* a run holds slots of one small class */
#define MIN_SLOT    16
#define RUN_WORDS   (RUN_BYTES / MIN_SLOT / 64)
#define MAX_CLASSES 128
#define MAX_OBJECT  (64 * MMR_MiB)
#define NONE	    (-1)

struct run {
	int32_t next, prev; /* in the class's list of runs with a free slot */
	uint16_t cls, nfree, nslots;
	uint64_t used[RUN_WORDS]; /* a set bit is a slot in use */
};

struct zone {
	char *base;
	uint64_t len, top; /* reserved, handed out */
	uint32_t *live;	   /* live bytes per granule */
};

struct class
{
	uint64_t size;
	bool small;
	int32_t nonfull; /* small: first run with a free slot */
	uint32_t *free;	 /* large: a stack of free extents, in pages from the zone base */
	size_t nfree, free_len;
};

struct arena {
	struct arena_opts o;
	uint64_t page;
	void *map;
	size_t map_len;
	struct zone small, large;
	struct run *runs;
	size_t runs_len;
	struct class cls[MAX_CLASSES];
	unsigned ncls;
	uint64_t returned;
};

/* Metadata: out of line (freed memory is never written), out of large folios. */
static void *meta_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static void add_class(struct arena *a, uint64_t size)
{
	if (a->ncls < MAX_CLASSES && (!a->ncls || a->cls[a->ncls - 1].size < size)) {
		a->cls[a->ncls].size = size;
		a->cls[a->ncls].small = size < a->page;
		a->cls[a->ncls].nonfull = NONE;
		a->ncls++;
	}
}

/* 16-byte steps to 128, then four classes per doubling (jemalloc-like);
 * from the page size up, page multiples with four per doubling. */
static void build_classes(struct arena *a)
{
	for (uint64_t s = MIN_SLOT; s <= 128; s += MIN_SLOT)
		add_class(a, s);
	for (uint64_t base = 128; base < a->page; base *= 2)
		for (uint64_t j = 1; j <= 4 && base + base * j / 4 < a->page; j++)
			add_class(a, base + base * j / 4);
	for (uint64_t m = 1; m <= 4; m++)
		add_class(a, a->page * m);
	for (uint64_t base = 4; a->page * base < MAX_OBJECT; base *= 2)
		for (uint64_t j = 1; j <= 4; j++)
			add_class(a, a->page * (base + base * j / 4));
}

static int find_class(const struct arena *a, size_t size)
{
	unsigned lo = 0, hi = a->ncls;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (a->cls[mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->ncls ? (int)lo : -1;
}

static int zone_init(struct zone *z, char *base, uint64_t len, uint64_t granule)
{
	z->base = base;
	z->len = len;
	z->top = 0;
	z->live = meta_map(len / granule * sizeof(uint32_t));
	return z->live ? 0 : -ENOMEM;
}

struct arena *arena_new(const struct arena_opts *o, char *err, size_t errlen)
{
	struct arena *a = calloc(1, sizeof(*a));
	uint64_t align, zone;
	uintptr_t base;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->o = *o;
	a->page = (uint64_t)sysconf(_SC_PAGESIZE);
	if (o->granule < a->page || (o->granule & (o->granule - 1))) {
		snprintf(err, errlen,
			 "free granularity %llu is not a power of two >= the page size",
			 (unsigned long long)o->granule);
		free(a);
		return NULL;
	}
	build_classes(a);
	/* zones aligned to the PMD size and the granule, so granules, runs and
	 * large folios line up the way the kernel lays folios out */
	align = o->granule > 2 * MMR_MiB ? o->granule : 2 * MMR_MiB;
	zone = (o->limit + align - 1) / align * align;
	a->map_len = 2 * zone + align;
	a->map = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->map == MAP_FAILED) {
		snprintf(err, errlen, "mmap of %zu bytes for the arena: %s", a->map_len,
			 strerror(errno));
		free(a);
		return NULL;
	}
	base = ((uintptr_t)a->map + align - 1) & ~(uintptr_t)(align - 1);
	if (o->madv_hugepage && madvise((void *)base, 2 * zone, MADV_HUGEPAGE)) {
		snprintf(err, errlen, "madvise(MADV_HUGEPAGE) on the arena: %s", strerror(errno));
		arena_destroy(a);
		return NULL;
	}
	a->runs_len = zone / RUN_BYTES * sizeof(struct run);
	a->runs = meta_map(a->runs_len);
	if (!a->runs || zone_init(&a->small, (char *)base, zone, o->granule) ||
	    zone_init(&a->large, (char *)base + zone, zone, o->granule)) {
		snprintf(err, errlen, "cannot map the arena's metadata: %s", strerror(errno));
		arena_destroy(a);
		return NULL;
	}
	return a;
}

static void zone_free(struct zone *z, uint64_t granule)
{
	if (z->live)
		munmap(z->live, z->len / granule * sizeof(uint32_t));
}

void arena_destroy(struct arena *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < a->ncls; i++)
		if (a->cls[i].free)
			munmap(a->cls[i].free, a->cls[i].free_len);
	zone_free(&a->small, a->o.granule);
	zone_free(&a->large, a->o.granule);
	if (a->runs)
		munmap(a->runs, a->runs_len);
	if (a->map && a->map != MAP_FAILED)
		munmap(a->map, a->map_len);
	free(a);
}

uint64_t arena_returned_bytes(const struct arena *a)
{
	return a->returned;
}

static void live_add(struct arena *a, struct zone *z, uint64_t off, uint64_t len)
{
	uint64_t g = a->o.granule, end = off + len;

	for (uint64_t i = off / g; i <= (end - 1) / g; i++) {
		uint64_t lo = off > i * g ? off : i * g, hi = end < (i + 1) * g ? end : (i + 1) * g;

		z->live[i] += (uint32_t)(hi - lo);
	}
}

static void give_back(struct arena *a, struct zone *z, uint64_t first, uint64_t end)
{
	static const int advice[] = { [ARENA_DONTNEED] = MADV_DONTNEED, [ARENA_FREE] = MADV_FREE };
	uint64_t g = a->o.granule;

	if (a->o.advice == ARENA_KEEP)
		return;
	if (madvise(z->base + first * g, (end - first) * g, advice[a->o.advice]) == 0)
		a->returned += (end - first) * g;
}

/* Granules the object leaves without a live byte go back to the kernel, each
 * contiguous stretch with one madvise(). */
static void live_remove(struct arena *a, struct zone *z, uint64_t off, uint64_t len)
{
	uint64_t g = a->o.granule, end = off + len, last = (end - 1) / g, empty = UINT64_MAX;

	for (uint64_t i = off / g; i <= last; i++) {
		uint64_t lo = off > i * g ? off : i * g, hi = end < (i + 1) * g ? end : (i + 1) * g;

		z->live[i] -= (uint32_t)(hi - lo);
		if (z->live[i] == 0) {
			if (empty == UINT64_MAX)
				empty = i;
		} else if (empty != UINT64_MAX) {
			give_back(a, z, empty, i);
			empty = UINT64_MAX;
		}
	}
	if (empty != UINT64_MAX)
		give_back(a, z, empty, last + 1);
}

static bool room(const struct arena *a, const struct zone *z, uint64_t bytes)
{
	return z->top + bytes <= z->len && a->small.top + a->large.top + bytes <= a->o.limit;
}

static void list_push(struct arena *a, struct class *k, int32_t ri)
{
	struct run *r = &a->runs[ri];

	r->prev = NONE;
	r->next = k->nonfull;
	if (k->nonfull != NONE)
		a->runs[k->nonfull].prev = ri;
	k->nonfull = ri;
}

static void list_del(struct arena *a, struct class *k, int32_t ri)
{
	struct run *r = &a->runs[ri];

	if (r->prev != NONE)
		a->runs[r->prev].next = r->next;
	else
		k->nonfull = r->next;
	if (r->next != NONE)
		a->runs[r->next].prev = r->prev;
}

static int32_t new_run(struct arena *a, unsigned ci)
{
	struct class *k = &a->cls[ci];
	int32_t ri;
	struct run *r;

	if (!room(a, &a->small, RUN_BYTES))
		return NONE;
	ri = (int32_t)(a->small.top / RUN_BYTES);
	a->small.top += RUN_BYTES;
	r = &a->runs[ri];
	r->cls = (uint16_t)ci;
	r->nslots = r->nfree = (uint16_t)(RUN_BYTES / k->size);
	memset(r->used, 0, sizeof(r->used));
	for (unsigned s = r->nslots; s < RUN_WORDS * 64; s++)
		r->used[s / 64] |= 1ULL << (s % 64);
	list_push(a, k, ri);
	return ri;
}

static void *small_alloc(struct arena *a, unsigned ci)
{
	struct class *k = &a->cls[ci];
	int32_t ri = k->nonfull != NONE ? k->nonfull : new_run(a, ci);
	struct run *r;
	unsigned w = 0, s;
	uint64_t off;

	if (ri == NONE)
		return NULL;
	r = &a->runs[ri];
	while (!~r->used[w])
		w++;
	s = w * 64 + (unsigned)__builtin_ctzll(~r->used[w]);
	r->used[w] |= 1ULL << (s % 64);
	if (--r->nfree == 0)
		list_del(a, k, ri);
	off = (uint64_t)ri * RUN_BYTES + s * k->size;
	live_add(a, &a->small, off, k->size);
	return a->small.base + off;
}

static void small_free(struct arena *a, uint64_t off)
{
	int32_t ri = (int32_t)(off / RUN_BYTES);
	struct run *r = &a->runs[ri];
	struct class *k = &a->cls[r->cls];
	unsigned s = (unsigned)(off % RUN_BYTES / k->size);

	r->used[s / 64] &= ~(1ULL << (s % 64));
	if (r->nfree++ == 0)
		list_push(a, k, ri);
	live_remove(a, &a->small, off, k->size);
}

static void *large_alloc(struct arena *a, unsigned ci)
{
	struct class *k = &a->cls[ci];
	uint64_t off;

	if (k->nfree) {
		off = (uint64_t)k->free[--k->nfree] * a->page;
	} else {
		if (!room(a, &a->large, k->size))
			return NULL;
		off = a->large.top;
		a->large.top += k->size;
	}
	live_add(a, &a->large, off, k->size);
	return a->large.base + off;
}

static void large_free(struct arena *a, unsigned ci, uint64_t off)
{
	struct class *k = &a->cls[ci];

	live_remove(a, &a->large, off, k->size);
	if (!k->free) {
		/* every extent of this class the zone can hold, mapped on first use */
		k->free_len = (a->large.len / k->size + 1) * sizeof(uint32_t);
		k->free = meta_map(k->free_len);
		if (!k->free)
			return; /* the extent is not reused; its memory went back already */
	}
	k->free[k->nfree++] = (uint32_t)(off / a->page);
}

void *arena_alloc(struct arena *a, size_t size)
{
	int ci = size <= MAX_OBJECT ? find_class(a, size ? size : 1) : -1;
	void *p = NULL;

	if (ci >= 0)
		p = a->cls[ci].small ? small_alloc(a, (unsigned)ci) : large_alloc(a, (unsigned)ci);
	if (!p)
		errno = ENOMEM;
	return p;
}

void arena_free(struct arena *a, void *p, size_t size)
{
	int ci = find_class(a, size ? size : 1);

	if (!p || ci < 0)
		return;
	if ((char *)p < a->large.base)
		small_free(a, (uint64_t)((char *)p - a->small.base));
	else
		large_free(a, (unsigned)ci, (uint64_t)((char *)p - a->large.base));
}

void *arena_heap_alloc(void *a, size_t size)
{
	return arena_alloc(a, size);
}

void arena_heap_free(void *a, void *p, size_t size)
{
	arena_free(a, p, size);
}
