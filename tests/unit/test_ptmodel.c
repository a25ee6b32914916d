// SPDX-License-Identifier: GPL-2.0
/* The page-table model on mappings whose tables can be counted by hand. */
#include "check.h"
#include "mmrepro/ptmodel.h"
#include "mmrepro/util.h"

#define M2 (2 * MMR_MiB)
#define G1 MMR_GiB

static struct mmr_pt_mapping mapping(uint64_t start, uint64_t len, uint64_t folio, bool hugetlb)
{
	return (struct mmr_pt_mapping){ .start = start,
					.len = len,
					.touch_start = start,
					.touch_len = len,
					.touch_stride = 4096,
					.folio = folio,
					.hugetlb = hugetlb,
					.share_pmd = hugetlb };
}

static struct mmr_pt_count one(struct mmr_pt_mapping m)
{
	struct mmr_pt_count c;

	mmr_pt_model_one(&m, &c);
	return c;
}

int main(void)
{
	struct mmr_pt_mapping m, many[3];
	struct mmr_pt_count c;

	/* 4K pages, 1 GiB at a GiB boundary: 512 PTE tables, one PMD table */
	c = one(mapping(4 * G1, G1, 4096, false));
	CHECK(c.pte == 512 && c.pmd == 1 && c.pmd_shareable == 0);
	CHECK(mmr_pt_bytes(&c) == 513 * 4096);
	/* 2 MiB off a GiB: as many PTE tables, but two GiBs */
	c = one(mapping(4 * G1 + M2, G1, 4096, false));
	CHECK(c.pte == 512 && c.pmd == 2);
	/* 4 KiB off: 513 PTE tables */
	c = one(mapping(4 * G1 + 4096, G1, 4096, false));
	CHECK(c.pte == 513 && c.pmd == 2);
	/* a stride of 4 MiB touches every other 2 MiB */
	m = mapping(4 * G1, G1, 4096, false);
	m.touch_stride = 2 * M2;
	c = one(m);
	CHECK(c.pte == 256 && c.pmd == 1);
	/* a window in the middle of a SysV-style whole-segment mapping */
	m = mapping(4 * G1, 2 * G1, 4096, false);
	m.touch_start = 4 * G1 + G1 / 2;
	m.touch_len = G1 / 4;
	c = one(m);
	CHECK(c.pte == 128 && c.pmd == 1);
	/* nothing touched: nothing needed */
	m.touch_len = 0;
	c = one(m);
	CHECK(c.pte == 0 && c.pmd == 0);
	/* tables the process had already at the ends are not counted */
	m = mapping(4 * G1 + M2, G1, 4096, false);
	m.pte_present = 1;
	m.pmd_present = 1;
	c = one(m);
	CHECK(c.pte == 511 && c.pmd == 1);

	/* shmem THP: PMD-mapped where 2 MiB-aligned in both address and file */
	c = one(mapping(4 * G1, G1, M2, false));
	CHECK(c.pte == 0 && c.pmd == 1);
	m = mapping(4 * G1 + 64 * 1024, G1, M2, false); /* address and offset disagree */
	c = one(m);
	CHECK(c.pte == 513 && c.pmd == 2);
	m.file_off = 64 * 1024; /* now they agree again, but the ends are partial */
	c = one(m);
	CHECK(c.pte == 2 && c.pmd == 2);
	/* mTHP folios below the PMD size are mapped by PTEs */
	c = one(mapping(4 * G1, G1, 64 * 1024, false));
	CHECK(c.pte == 512);

	/* hugetlb: PMD tables only, or nothing for 1 GiB pages */
	c = one(mapping(4 * G1, G1, M2, true));
	CHECK(c.pte == 0 && c.pmd == 1 && c.pmd_shareable == 1);
	c = one(mapping(4 * G1, 2 * G1, G1, true));
	CHECK(c.pte == 0 && c.pmd == 0);
	/* three processes at the same congruent place share one PMD table */
	for (int i = 0; i < 3; i++)
		many[i] = mapping((uint64_t)(4 + i) * G1, G1, M2, true);
	CHECK(mmr_pt_model_all(many, 3, &c) == 0);
	CHECK(c.pmd == 1 && c.pmd_shareable == 1);
	/* ... unless the kernel does not share (another arch) */
	for (int i = 0; i < 3; i++)
		many[i].share_pmd = false;
	CHECK(mmr_pt_model_all(many, 3, &c) == 0 && c.pmd == 3);
	/* 2 MiB off a GiB: the two partial GiBs are private to each process */
	for (int i = 0; i < 3; i++)
		many[i] = mapping((uint64_t)(4 + 4 * i) * G1 + M2, G1, M2, true);
	CHECK(mmr_pt_model_all(many, 3, &c) == 0 && c.pmd == 6 && c.pmd_shareable == 0);
	/* 3 GiB 2 MiB off: the two whole GiBs inside are shared, the ends not */
	for (int i = 0; i < 3; i++)
		many[i] = mapping((uint64_t)(4 + 4 * i) * G1 + M2, 3 * G1, M2, true);
	CHECK(mmr_pt_model_all(many, 3, &c) == 0 && c.pmd == 3 * 2 + 2 && c.pmd_shareable == 2);
	/* different windows of the file: shared only where the file offsets agree */
	many[1].file_off = G1;
	many[1].start -= G1;
	many[1].touch_start -= G1; /* keys 2G-2M (shared with many[0]) and 3G-2M */
	CHECK(mmr_pt_model_all(many, 3, &c) == 0 && c.pmd_shareable == 3);
	many[2].file_off = 2 * M2; /* keys 1G+2M and 2G+2M: nobody else's */
	CHECK(mmr_pt_model_all(many, 3, &c) == 0 && c.pmd_shareable == 5);
	return check_done("test_ptmodel");
}
