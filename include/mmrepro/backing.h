/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What memory a region is made of ("backing") and what it was observed to be
 * made of ("layout"). Shared by every scenario that populates anonymous memory.
 */
#ifndef MMREPRO_BACKING_H
#define MMREPRO_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mmr_backing_kind {
	MMR_B_4K,      /* order-0 pages only (MADV_NOHUGEPAGE) */
	MMR_B_THP_PMD, /* PMD-sized THP mapped by PMDs */
	MMR_B_THP_PTE, /* PMD-sized THP folios mapped by PTEs */
	MMR_B_MTHP,    /* multi-size THP folios of one order below PMD, mapped by PTEs */
};

struct mmr_backing {
	enum mmr_backing_kind kind;
	unsigned order;	     /* folio order: 0, PMD order, or the mTHP order */
	uint64_t folio_size; /* bytes */
	char name[24];	     /* canonical spelling: "4k", "thp-pmd", "mthp-64K" */
};

/* "4k" | "thp-pmd" | "thp-pte" | "mthp-<size>" (size 8K..1M, a power of two). */
extern const char *const mmr_backing_choices[];
int mmr_backing_parse(const char *s, struct mmr_backing *b);

/* Base page and PMD sizes of this machine. */
uint64_t mmr_page_size(void);
uint64_t mmr_pmd_size(void);

#define MMR_MAX_ORDER 18 /* enough for 1 GiB hugetlb folios with 4K pages */

/* What /proc/self/pagemap + /proc/kpageflags + smaps say about a range. */
struct mmr_layout {
	uint64_t pages;				 /* base pages in the range */
	uint64_t present;			 /* of those, mapped */
	uint64_t order_pages[MMR_MAX_ORDER + 1]; /* present pages, by the order of their folio */
	uint64_t hugetlb_pages;			 /* present pages in hugetlb folios */
	uint64_t pmd_mapped_bytes;		 /* bytes mapped by PMDs (PAGEMAP_SCAN or smaps) */
	bool proven;				 /* kpageflags was readable: folio orders known */
	const char *pmd_source;			 /* "pagemap_scan" or "smaps" */
	char observed[64];			 /* "thp-pte", "4k", "mthp-64K", "mixed", ... */
	char detail[160];			 /* one-line histogram for humans */
};

int mmr_layout_observe(const void *addr, size_t len, struct mmr_layout *out);
/* Pages that do not match the backing; 0 means the layout is exactly as asked. */
uint64_t mmr_layout_mismatch(const struct mmr_layout *l, const struct mmr_backing *b);

struct mmr_region {
	void *addr; /* folio-aligned start of the populated range */
	uint64_t size;
	struct mmr_backing backing;
	void *map; /* the whole reservation, including PROT_NONE guards */
	size_t map_len;
	bool unmapped; /* addr..addr+size already unmapped by the workload */
	struct mmr_layout layout;
};

#endif
