/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sga_attach: what its parameters mean for this machine (the SGA's page
 * size, each process's window and where it goes), shared with the unit test
 * that checks the placements.
 */
#ifndef MMREPRO_SGA_ATTACH_H
#define MMREPRO_SGA_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sga_kind {
	SGA_SYSV,
	SGA_SYSV_HUGETLB,
	SGA_MEMFD,
	SGA_SHMEM_THP,
	SGA_HUGETLBFS_ALIGNED,
	SGA_HUGETLBFS_MISALIGNED,
	SGA_MSHARE,
};

struct sga_params {
	uint64_t sga_size;
	const char *backing;
	int64_t procs;
	double fraction;
	const char *touch;
	uint64_t touch_stride;
	int64_t concurrency;
	const char *hugetlb_size;
	uint64_t shmem_thp_size;
	double hold;
};

enum placement { PLACE_KERNEL, PLACE_ALIGNED, PLACE_MISALIGNED };

/* What the parameters mean for this machine; the same in plan() and setup(). */
struct sga_geometry {
	enum sga_kind kind;
	bool sysv, hugetlb;
	enum placement place;
	uint64_t page;	    /* folio size of the SGA */
	unsigned order;	    /* of that folio */
	uint64_t window;    /* bytes each process touches */
	uint64_t grain;	    /* window offsets are multiples of this */
	uint64_t step;	    /* from one member's window to the next one's */
	uint64_t positions; /* distinct window offsets */
	uint64_t misalign;  /* added to the congruent address (misaligned placement) */
	char label[24];	    /* its layout in the words of the report's "observed" */
};

/* 0, or -EINVAL with one line in err naming the parameter at fault. */
int sga_geometry(const struct sga_params *p, struct sga_geometry *g, char *err, size_t len);
/* Offset in the SGA of member i's window. The placed backings map it at
 * base + offset + g->misalign, base being 1 GiB-aligned. */
uint64_t sga_window_offset(const struct sga_geometry *g, unsigned i);

#endif
