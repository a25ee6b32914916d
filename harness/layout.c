// SPDX-License-Identifier: GPL-2.0
/*
 * Layout proof: what a range of our own address space is really made of.
 *
 * /proc/self/pagemap gives the PFN behind each base page (root only), and
 * /proc/kpageflags gives the compound head/tail bits of that PFN, from which
 * the folio's size follows. Whether a THP is mapped by a PMD or by PTEs is not
 * in kpageflags: PAGEMAP_SCAN (6.7+) reports PAGE_IS_HUGE per PMD mapping, and
 * older kernels fall back to AnonHugePages of the range's VMAs in smaps.
 */
#include "mmrepro/backing.h"
#include "mmrepro/env.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PM_PRESENT	  (1ULL << 63)
#define PM_PFN_MASK	  ((1ULL << 55) - 1)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE	  17

/* PAGEMAP_SCAN uapi (linux/fs.h, 6.7); Debian 12's headers predate it. */
struct mmr_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct mmr_page_region {
	uint64_t start, end, categories;
};
#define MMR_PAGEMAP_SCAN _IOWR('f', 16, struct mmr_pm_scan_arg)
#define MMR_PAGE_IS_HUGE (1ULL << 6)

const char *const mmr_backing_choices[] = {
	"4k",	    "thp-pmd",	 "thp-pte",   "mthp-8K",   "mthp-16K", "mthp-32K",
	"mthp-64K", "mthp-128K", "mthp-256K", "mthp-512K", "mthp-1M",  NULL,
};

static unsigned ilog2_u64(uint64_t v)
{
	unsigned r = 0;

	while (v >>= 1)
		r++;
	return r;
}

int mmr_backing_parse(const char *s, struct mmr_backing *b)
{
	uint64_t page = mmr_page_size(), pmd = mmr_pmd_size(), sz;

	memset(b, 0, sizeof(*b));
	if (!strcasecmp(s, "4k")) {
		b->kind = MMR_B_4K;
		b->folio_size = page;
		snprintf(b->name, sizeof(b->name), "4k");
		return 0;
	}
	if (!strcasecmp(s, "thp-pmd") || !strcasecmp(s, "thp-pte")) {
		b->kind = !strcasecmp(s, "thp-pmd") ? MMR_B_THP_PMD : MMR_B_THP_PTE;
		b->folio_size = pmd;
		b->order = ilog2_u64(pmd / page);
		snprintf(b->name, sizeof(b->name), "%s",
			 b->kind == MMR_B_THP_PMD ? "thp-pmd" : "thp-pte");
		return 0;
	}
	if (!strncasecmp(s, "mthp-", 5) && !mmr_parse_size(s + 5, &sz) && sz > page && sz < pmd &&
	    !(sz & (sz - 1))) {
		char text[16];

		b->kind = MMR_B_MTHP;
		b->folio_size = sz;
		b->order = ilog2_u64(sz / page);
		mmr_format_size(sz, text, sizeof(text));
		snprintf(b->name, sizeof(b->name), "mthp-%s", text);
		return 0;
	}
	return -EINVAL;
}

/* Pages of the folio holding pfn, found by walking compound bits. */
static uint64_t folio_pages(int kpf, uint64_t pfn, uint64_t *head_out)
{
	uint64_t flags[512], head = pfn, n;
	ssize_t got;

	if (pread(kpf, flags, 8, pfn * 8) != 8)
		return 1;
	if (!(flags[0] & ((1ULL << KPF_COMPOUND_HEAD) | (1ULL << KPF_COMPOUND_TAIL)))) {
		*head_out = pfn;
		return 1;
	}
	/* A tail: walk back to the head (bounded by the largest folio). */
	while (!(flags[0] & (1ULL << KPF_COMPOUND_HEAD))) {
		if (head == 0 || pfn - head > (1ULL << MMR_MAX_ORDER))
			return 1;
		head--;
		if (pread(kpf, flags, 8, head * 8) != 8)
			return 1;
	}
	*head_out = head;
	for (n = 1;;) {
		got = pread(kpf, flags, sizeof(flags), (head + n) * 8);
		if (got <= 0)
			return n;
		for (ssize_t i = 0; i < got / 8; i++, n++)
			if (!(flags[i] & (1ULL << KPF_COMPOUND_TAIL)))
				return n;
		if (n > (1ULL << MMR_MAX_ORDER))
			return n;
	}
}

static int64_t pmd_mapped_scan(int pagemap, uint64_t start, uint64_t len)
{
	struct mmr_page_region vec[256];
	struct mmr_pm_scan_arg arg;
	uint64_t total = 0, pos = start, end = start + len;
	long n;

	while (pos < end) {
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = pos;
		arg.end = end;
		arg.vec = (uint64_t)(uintptr_t)vec;
		arg.vec_len = MMR_ARRAY_SIZE(vec);
		arg.category_mask = MMR_PAGE_IS_HUGE;
		arg.return_mask = MMR_PAGE_IS_HUGE;
		n = ioctl(pagemap, MMR_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return -errno;
		for (long i = 0; i < n; i++)
			total += vec[i].end - vec[i].start;
		if (arg.walk_end <= pos)
			break;
		pos = arg.walk_end;
	}
	return (int64_t)total;
}

/* AnonHugePages of the VMAs wholly inside [start, start+len). Regions made by
 * mmr_region_create() are fenced by PROT_NONE guards, so their VMAs never
 * merge with a neighbour and this sum is exact for them. */
static int64_t pmd_mapped_smaps(uint64_t start, uint64_t len)
{
	char *text = mmr_slurp("/proc/self/smaps", NULL), *line, *save = NULL;
	unsigned long lo, hi;
	bool inside = false;
	int64_t total = 0;

	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = lo >= start && hi <= start + len;
			continue;
		}
		if (inside && !strncmp(line, "AnonHugePages:", 14))
			total += strtoll(line + 14, NULL, 10) * 1024;
	}
	free(text);
	return total;
}

static void describe(struct mmr_layout *l, uint64_t page)
{
	unsigned pmd_order = ilog2_u64(mmr_pmd_size() / page);
	int only = -1, orders = 0;
	size_t off;
	char sz[16];

	for (unsigned o = 0; o <= MMR_MAX_ORDER; o++) {
		if (l->order_pages[o]) {
			only = (int)o;
			orders++;
		}
	}
	if (!l->proven)
		snprintf(l->observed, sizeof(l->observed), "unproven");
	else if (l->present != l->pages)
		snprintf(l->observed, sizeof(l->observed), "partly-populated");
	else if (orders != 1)
		snprintf(l->observed, sizeof(l->observed), "mixed");
	else if (l->hugetlb_pages) {
		mmr_format_size(page << only, sz, sizeof(sz));
		snprintf(l->observed, sizeof(l->observed), "hugetlb-%s", sz);
	} else if (only == 0)
		snprintf(l->observed, sizeof(l->observed), "4k");
	else if ((unsigned)only == pmd_order && l->pmd_mapped_bytes == l->pages * page)
		snprintf(l->observed, sizeof(l->observed), "thp-pmd");
	else if ((unsigned)only == pmd_order && l->pmd_mapped_bytes == 0)
		snprintf(l->observed, sizeof(l->observed), "thp-pte");
	else if ((unsigned)only == pmd_order)
		snprintf(l->observed, sizeof(l->observed), "thp-mixed-mapping");
	else {
		mmr_format_size(page << only, sz, sizeof(sz));
		snprintf(l->observed, sizeof(l->observed), "mthp-%s", sz);
	}

	off = snprintf(l->detail, sizeof(l->detail), "present %llu/%llu pages;",
		       (unsigned long long)l->present, (unsigned long long)l->pages);
	for (unsigned o = 0; o <= MMR_MAX_ORDER && off < sizeof(l->detail); o++)
		if (l->order_pages[o])
			off += snprintf(l->detail + off, sizeof(l->detail) - off, " order%u %.1f%%",
					o, 100.0 * l->order_pages[o] / l->pages);
	mmr_format_size(l->pmd_mapped_bytes, sz, sizeof(sz));
	if (off < sizeof(l->detail))
		snprintf(l->detail + off, sizeof(l->detail) - off, "; PMD-mapped %s (%s)", sz,
			 l->pmd_source);
}

int mmr_layout_observe(const void *addr, size_t len, struct mmr_layout *l)
{
	uint64_t page = mmr_page_size(), start = (uintptr_t)addr;
	uint64_t cur_head = 0, cur_nr = 0, head, *pm = NULL;
	int pagemap = -1, kpf = -1, ret = 0;
	int64_t pmd;

	memset(l, 0, sizeof(*l));
	l->pages = len / page;
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return -errno;
	pm = malloc(l->pages * sizeof(*pm));
	if (!pm) {
		ret = -ENOMEM;
		goto out;
	}
	if (pread(pagemap, pm, l->pages * 8, (start / page) * 8) != (ssize_t)(l->pages * 8)) {
		ret = -EIO;
		goto out;
	}
	kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	l->proven = kpf >= 0;
	for (uint64_t i = 0; i < l->pages; i++) {
		uint64_t pfn = pm[i] & PM_PFN_MASK;
		unsigned order = 0;

		if (!(pm[i] & PM_PRESENT))
			continue;
		l->present++;
		if (!l->proven)
			continue;
		if (!pfn) { /* PFNs hidden: not root after all */
			l->proven = false;
			continue;
		}
		if (!(cur_nr && pfn >= cur_head && pfn < cur_head + cur_nr)) {
			cur_nr = folio_pages(kpf, pfn, &head);
			cur_head = head;
		}
		order = ilog2_u64(cur_nr);
		if (order > MMR_MAX_ORDER)
			order = MMR_MAX_ORDER;
		l->order_pages[order]++;
		if (cur_nr > 1) {
			uint64_t flags;

			if (pread(kpf, &flags, 8, cur_head * 8) == 8 &&
			    (flags & (1ULL << KPF_HUGE)))
				l->hugetlb_pages++;
		}
	}
	pmd = pmd_mapped_scan(pagemap, start, len);
	l->pmd_source = "pagemap_scan";
	if (pmd < 0) {
		pmd = pmd_mapped_smaps(start, len);
		l->pmd_source = "smaps";
	}
	l->pmd_mapped_bytes = pmd > 0 ? (uint64_t)pmd : 0;
	describe(l, page);
out:
	free(pm);
	if (kpf >= 0)
		close(kpf);
	close(pagemap);
	return ret;
}

uint64_t mmr_layout_mismatch(const struct mmr_layout *l, const struct mmr_backing *b)
{
	uint64_t pmd_pages = l->pmd_mapped_bytes / mmr_page_size();
	uint64_t wrong_order = l->pages - l->order_pages[b->order];

	switch (b->kind) {
	case MMR_B_4K:
		return wrong_order;
	case MMR_B_THP_PMD:
		return wrong_order > l->pages - pmd_pages ? wrong_order : l->pages - pmd_pages;
	case MMR_B_THP_PTE:
	case MMR_B_MTHP:
		return wrong_order + pmd_pages > l->pages ? l->pages : wrong_order + pmd_pages;
	}
	return l->pages;
}
