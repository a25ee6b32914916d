// SPDX-License-Identifier: GPL-2.0
/* Regions: anonymous memory populated with a requested backing, its layout
 * proven before anything is timed. */
#include "ctx.h"
#include "mmrepro/config.h"
#include "mmrepro/env.h"
#include "mmrepro/workload.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int populate(struct mmr_ctx *ctx, char *addr, uint64_t size)
{
	uint64_t page = mmr_page_size();

	if (mmr_probes()->madv_populate_write) {
		if (madvise(addr, size, MADV_POPULATE_WRITE) == 0)
			return 0;
		return mmr_fail(ctx, "MADV_POPULATE_WRITE of %llu bytes: %s",
				(unsigned long long)size, strerror(errno));
	}
	for (uint64_t off = 0; off < size; off += page)
		addr[off] = 1;
	return 0;
}

/* Split every PMD mapping into PTEs while the THP stays a large folio: change
 * the protection of one page inside each PMD extent and change it back. */
static int split_pmds(struct mmr_ctx *ctx, char *addr, uint64_t size)
{
	uint64_t pmd = mmr_pmd_size(), page = mmr_page_size();

	for (uint64_t off = 0; off < size; off += pmd) {
		if (mprotect(addr + off, page, PROT_READ) ||
		    mprotect(addr + off, page, PROT_READ | PROT_WRITE))
			return mmr_fail(ctx, "mprotect to split the PMD at +%llu: %s",
					(unsigned long long)off, strerror(errno));
	}
	return 0;
}

/* Put the observation in the report; a layout that is not the requested one
 * (beyond the case's tolerance) makes the case invalid. */
static int judge_layout(struct mmr_ctx *ctx, const char *requested, const struct mmr_layout *l,
			uint64_t bad)
{
	uint64_t allowed = (uint64_t)(mmr_ctx_case(ctx)->layout_tolerance * (double)l->pages);

	mmr_ctx_send(ctx, json_pack("{s:s,s:i,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:s}", "t", "layout",
				    "rep", mmr_rep(ctx), "requested", requested, "observed",
				    l->observed, "detail", l->detail, "proven", l->proven, "pages",
				    (json_int_t)l->pages, "mismatch_pages", (json_int_t)bad,
				    "pmd_mapped_bytes", (json_int_t)l->pmd_mapped_bytes,
				    "pmd_source", l->pmd_source ? l->pmd_source : "none"));
	if (!l->proven)
		return mmr_invalid(ctx, "layout of %s could not be proven (kpageflags unreadable)",
				   requested);
	if (bad > allowed)
		return mmr_invalid(ctx,
				   "layout: requested %s, observed %s (%s); %llu of %llu pages "
				   "differ, tolerance %llu",
				   requested, l->observed, l->detail, (unsigned long long)bad,
				   (unsigned long long)l->pages, (unsigned long long)allowed);
	return 0;
}

int mmr_region_verify(struct mmr_ctx *ctx, const struct mmr_region *r_const)
{
	struct mmr_region *r = (struct mmr_region *)r_const;
	int ret = mmr_layout_observe(r->addr, r->size, &r->layout);

	if (ret)
		return mmr_fail(ctx, "layout observation failed: %s", strerror(-ret));
	return judge_layout(ctx, r->backing.name, &r->layout,
			    mmr_layout_mismatch(&r->layout, &r->backing));
}

int mmr_layout_require(struct mmr_ctx *ctx, const void *addr, uint64_t len, const char *requested,
		       unsigned order, bool hugetlb)
{
	struct mmr_layout l;
	uint64_t bad;
	int ret = mmr_layout_observe(addr, len, &l);

	if (ret)
		return mmr_fail(ctx, "layout observation failed: %s", strerror(-ret));
	if (order > MMR_MAX_ORDER)
		order = MMR_MAX_ORDER;
	bad = l.pages - l.order_pages[order];
	if (hugetlb && l.pages - l.hugetlb_pages > bad)
		bad = l.pages - l.hugetlb_pages;
	if (!hugetlb && l.hugetlb_pages > bad)
		bad = l.hugetlb_pages;
	return judge_layout(ctx, requested, &l, bad);
}

int mmr_region_create(struct mmr_ctx *ctx, uint64_t size, const struct mmr_backing *b,
		      struct mmr_region *r)
{
	uint64_t align = b->kind == MMR_B_4K ? mmr_page_size() : mmr_pmd_size();
	uint64_t page = mmr_page_size();
	uintptr_t start;
	int ret;

	memset(r, 0, sizeof(*r));
	r->backing = *b;
	if (size == 0 || size % b->folio_size)
		return mmr_invalid(
			ctx, "region size %llu is not a multiple of the %s folio size %llu",
			(unsigned long long)size, b->name, (unsigned long long)b->folio_size);
	/* Reserve with room for alignment and a PROT_NONE guard on each side, so
	 * the region is its own VMA and never merges with a neighbour. */
	r->map_len = size + 2 * align + 2 * page;
	r->map = mmap(NULL, r->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		      0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return mmr_fail(ctx, "mmap of %llu bytes: %s", (unsigned long long)r->map_len,
				strerror(errno));
	}
	start = ((uintptr_t)r->map + page + align - 1) & ~(uintptr_t)(align - 1);
	r->addr = (void *)start;
	r->size = size;
	if (mprotect(r->addr, size, PROT_READ | PROT_WRITE))
		return mmr_fail(ctx, "mprotect: %s", strerror(errno));
	if (madvise(r->addr, size, b->kind == MMR_B_4K ? MADV_NOHUGEPAGE : MADV_HUGEPAGE))
		return mmr_fail(ctx, "madvise(%s): %s",
				b->kind == MMR_B_4K ? "MADV_NOHUGEPAGE" : "MADV_HUGEPAGE",
				strerror(errno));
	ret = populate(ctx, r->addr, size);
	/* Keep khugepaged from collapsing what was just built, before it is
	 * verified and while it is timed. This must come before the PMD split:
	 * a PTE table mapping one whole THP is exactly what khugepaged collapses
	 * back into a PMD, and a scan can land between the split and a later
	 * madvise. */
	if (!ret && b->kind != MMR_B_4K && madvise(r->addr, size, MADV_NOHUGEPAGE))
		ret = mmr_fail(ctx, "madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	if (!ret && b->kind == MMR_B_THP_PTE)
		ret = split_pmds(ctx, r->addr, size);
	return ret ? ret : mmr_region_verify(ctx, r);
}

void mmr_region_destroy(struct mmr_region *r)
{
	if (r->map && r->unmapped) {
		/* The workload unmapped addr..addr+size itself, and a later mmap
		 * (malloc's, another thread's) may have been placed in that hole
		 * since: unmap only the guards and alignment slack around it. */
		char *end = (char *)r->addr + r->size, *map_end = (char *)r->map + r->map_len;

		munmap(r->map, (size_t)((char *)r->addr - (char *)r->map));
		if (map_end > end)
			munmap(end, (size_t)(map_end - end));
	} else if (r->map) {
		munmap(r->map, r->map_len);
	}
	r->map = NULL;
	r->addr = NULL;
}

void mmr_settle_page_tables(void)
{
	/* MEMBARRIER_CMD_GLOBAL is synchronize_rcu(); after the second grace
	 * period the callbacks queued before the first have run */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(50 * 1000);
}
