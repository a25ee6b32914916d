/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How many page-table pages mappings of one file should cost: the model a
 * measurement (VmPTE per process, PageTables of the system) is set against.
 *
 * With 4 KiB base pages one PTE table maps 2 MiB and one PMD table 1 GiB;
 * each table is one base page. Counted are the PTE and PMD tables that hold
 * the entries for the touched addresses of each mapping:
 *   - folios smaller than a PMD are mapped by PTEs: one PTE table per touched
 *     2 MiB, one PMD table per touched GiB;
 *   - PMD-sized folios of a file (shmem THP) are mapped by a PMD wherever the
 *     2 MiB of address space lies inside the mapping at a 2 MiB-aligned file
 *     offset, by PTEs elsewhere;
 *   - hugetlb pages of PMD size need PMD tables only, and PUD-sized ones none;
 *   - hugetlb PMD sharing (x86, arm64, riscv): a MAP_SHARED hugetlb mapping
 *     that covers a whole PUD-aligned GiB shares that GiB's PMD table with
 *     every other such mapping that puts the same file offset at the start
 *     of a GiB. VmPTE still counts the table in every process; PageTables
 *     counts it once.
 * PUD tables and above (one page per 512 GiB) are left out: a process has
 * them already for its other mappings, mostly. So are the tables at the ends
 * of a mapping that the process's other mappings made already (a library in
 * the same GiB), when the caller says so.
 */
#ifndef MMREPRO_PTMODEL_H
#define MMREPRO_PTMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmr_pt_mapping {
	uint64_t start, len; /* the VMA */
	uint64_t file_off;   /* file offset mapped at start */
	/* touched addresses: touch_start + k * touch_stride < touch_start + touch_len */
	uint64_t touch_start, touch_len, touch_stride;
	uint64_t folio; /* bytes per folio of the file (4K, 64K, 2M, 1G) */
	bool hugetlb;
	bool share_pmd; /* the kernel shares PMD tables of hugetlb MAP_SHARED mappings */
	/* tables the process had already: other mappings of it in the 2 MiB or
	 * the GiB at either end of the touched range (not counted) */
	unsigned pte_present, pmd_present;
};

struct mmr_pt_count {
	uint64_t pte, pmd;	/* table pages */
	uint64_t pmd_shareable; /* of pmd: in whole GiBs other processes can share */
};

/* Tables one mapping needs in its process (what its VmPTE grows by). */
void mmr_pt_model_one(const struct mmr_pt_mapping *m, struct mmr_pt_count *out);
/* Tables n mappings of one file, each in its own process, need in all (what
 * PageTables grows by): shareable PMD tables counted once per GiB of file.
 * Returns 0 or -ENOMEM. */
int mmr_pt_model_all(const struct mmr_pt_mapping *m, size_t n, struct mmr_pt_count *out);
/* Bytes of (pte + pmd) table pages. */
uint64_t mmr_pt_bytes(const struct mmr_pt_count *c);

#endif
