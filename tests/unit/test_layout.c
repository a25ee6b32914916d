// SPDX-License-Identifier: GPL-2.0
/* Layout proof on real memory: 4K pages, PMD-mapped THP, PTE-mapped THP.
 * Reads knobs, never writes them (the integration tests cover mTHP sizes,
 * which need a knob changed). */
#include "check.h"
#include "mmrepro/backing.h"
#include "mmrepro/env.h"
#include "mmrepro/util.h"

#include <sys/mman.h>
#include <unistd.h>

static char *aligned_region(size_t size)
{
	size_t pmd = mmr_pmd_size();
	char *raw =
		mmap(NULL, size + pmd, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (raw == MAP_FAILED)
		return NULL;
	return (char *)(((uintptr_t)raw + pmd - 1) & ~(uintptr_t)(pmd - 1));
}

static void touch(char *p, size_t size)
{
	for (size_t off = 0; off < size; off += 4096)
		p[off] = 1;
}

int main(void)
{
	const size_t size = 8 << 20;
	struct mmr_layout l;
	struct mmr_backing b4k, pmd, pte;
	char val[64];
	char *p;

	if (!mmr_probes()->kpageflags)
		SKIP("needs root: /proc/kpageflags and PFNs in /proc/self/pagemap");
	machine_lock();
	CHECK(mmr_backing_parse("4k", &b4k) == 0);
	CHECK(mmr_backing_parse("thp-pmd", &pmd) == 0);
	CHECK(mmr_backing_parse("thp-pte", &pte) == 0);
	CHECK(mmr_backing_parse("mthp-2M", &pte) != 0);	 /* not below PMD size */
	CHECK(mmr_backing_parse("mthp-48K", &pte) != 0); /* not a power of two */
	CHECK(mmr_backing_parse("thp-pte", &pte) == 0);

	p = aligned_region(size);
	CHECK(p != NULL);
	madvise(p, size, MADV_NOHUGEPAGE);
	touch(p, size / 2);
	CHECK(mmr_layout_observe(p, size, &l) == 0);
	CHECK(l.proven);
	CHECK(l.present == size / 2 / 4096);
	CHECK_STR(l.observed, "partly-populated");
	touch(p, size);
	CHECK(mmr_layout_observe(p, size, &l) == 0);
	CHECK_STR(l.observed, "4k");
	CHECK(mmr_layout_mismatch(&l, &b4k) == 0);
	CHECK(mmr_layout_mismatch(&l, &pmd) == l.pages);

	if (mmr_read_file("/sys/kernel/mm/transparent_hugepage/enabled", val, sizeof(val)) < 0 ||
	    strstr(val, "[never]"))
		return printf("THP is off here: only the 4k layout was checked\n"),
		       check_done("test_layout");
	p = aligned_region(size);
	CHECK(p != NULL);
	madvise(p, size, MADV_HUGEPAGE);
	touch(p, size);
	CHECK(mmr_layout_observe(p, size, &l) == 0);
	CHECK_STR(l.observed, "thp-pmd");
	CHECK(l.pmd_mapped_bytes == size);
	CHECK(mmr_layout_mismatch(&l, &pmd) == 0);
	CHECK(mmr_layout_mismatch(&l, &pte) == l.pages);
	/* khugepaged would collapse the PTE-mapped THPs below back into PMDs if
	 * a scan of this mm landed before the observation; it skips NOHUGEPAGE
	 * VMAs, and the mappings already made stay as they are. */
	CHECK(madvise(p, size, MADV_NOHUGEPAGE) == 0);
	/* split the PMDs: the folios stay order 9, now mapped by PTEs */
	for (size_t off = 0; off < size; off += mmr_pmd_size()) {
		mprotect(p + off, 4096, PROT_READ);
		mprotect(p + off, 4096, PROT_READ | PROT_WRITE);
	}
	CHECK(mmr_layout_observe(p, size, &l) == 0);
	CHECK_STR(l.observed, "thp-pte");
	CHECK(l.pmd_mapped_bytes == 0);
	CHECK(l.order_pages[9] == l.pages);
	CHECK(mmr_layout_mismatch(&l, &pte) == 0);
	return check_done("test_layout");
}
