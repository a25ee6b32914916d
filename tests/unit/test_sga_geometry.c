// SPDX-License-Identifier: GPL-2.0
/*
 * sga_attach's placements: the hugetlbfs backings start every window at a
 * GiB of the file (aligned: at a GiB of address space too, so the page-table
 * model finds a shareable PMD table per GiB; misaligned: 2 MiB past it, so
 * none), windows fit in the SGA and all offsets are used; an aligned window
 * below 1 GiB is refused with one line naming the parameters; the kernel's
 * placements keep their page-stepped windows.
 */
#include "check.h"
#include "mmrepro/backing.h"
#include "mmrepro/ptmodel.h"
#include "mmrepro/util.h"
#include "sga_attach.h"

#define G1   MMR_GiB
#define BASE (64 * G1)

static struct sga_params params(const char *backing, uint64_t size, double fraction,
				const char *hugetlb)
{
	return (struct sga_params){ .sga_size = size,
				    .backing = backing,
				    .procs = 1500,
				    .fraction = fraction,
				    .touch = "read",
				    .touch_stride = 2 * MMR_MiB,
				    .hugetlb_size = hugetlb,
				    .shmem_thp_size = 2 * MMR_MiB };
}

/* Every member's window is GiB-aligned in the file, fits, and each of the
 * `want` distinct offsets is used. */
static void check_placed(const struct sga_params *p, uint64_t want)
{
	struct sga_geometry g;
	char err[256] = "";
	uint64_t used = 0;

	CHECK(sga_geometry(p, &g, err, sizeof(err)) == 0);
	CHECK(g.grain == G1 && g.step % G1 == 0 && g.step >= g.window);
	CHECK(g.positions == want);
	for (unsigned i = 0; i < 1500; i++) {
		uint64_t off = sga_window_offset(&g, i);

		CHECK(off % G1 == 0 && off + g.window <= p->sga_size);
		if (off % G1 == 0 && off / G1 < 64)
			used |= 1ULL << (off / G1);
	}
	CHECK(used == (1ULL << want) - 1);
}

/* The model of n members mapped as sga_attach maps them. */
static void model(const struct sga_geometry *g, unsigned n, struct mmr_pt_count *all)
{
	struct mmr_pt_mapping m[16];

	for (unsigned i = 0; i < n && i < 16; i++) {
		uint64_t off = sga_window_offset(g, i), at = BASE + off + g->misalign;

		m[i] = (struct mmr_pt_mapping){ .start = at,
						.len = g->window,
						.file_off = off,
						.touch_start = at,
						.touch_len = g->window,
						.touch_stride = 2 * MMR_MiB,
						.folio = g->page,
						.hugetlb = true,
						.share_pmd = true };
	}
	CHECK(mmr_pt_model_all(m, n, all) == 0);
}

int main(void)
{
	struct sga_params p;
	struct sga_geometry g;
	struct mmr_pt_count c;
	char err[256] = "";

	/* quarter windows of 4 GiB: GiBs 0..3, each shared by its members */
	p = params("hugetlbfs-aligned", 4 * G1, 0.25, "2M");
	check_placed(&p, 4);
	CHECK(sga_geometry(&p, &g, err, sizeof(err)) == 0 && g.misalign == 0);
	CHECK(sga_window_offset(&g, 1) == G1 && sga_window_offset(&g, 5) == G1);
	model(&g, 16, &c);
	CHECK(c.pmd_shareable == 4 && c.pmd == 4);
	/* the same windows 2 MiB off: the same file offsets, nothing shared */
	p = params("hugetlbfs-misaligned", 4 * G1, 0.25, "2M");
	check_placed(&p, 4);
	CHECK(sga_geometry(&p, &g, err, sizeof(err)) == 0 && g.misalign == mmr_pmd_size());
	model(&g, 16, &c);
	CHECK(c.pmd_shareable == 0 && c.pmd == 16 * 2);
	/* windows a little over 1 GiB step 2 GiB; later laps use GiB 1 too */
	p = params("hugetlbfs-aligned", 3 * G1, 0.4, "2M");
	check_placed(&p, 2);
	/* 2.5 GiB windows of 5 GiB: starts 0, 1G, 2G, each covering 2 whole GiBs */
	p = params("hugetlbfs-aligned", 5 * G1, 0.5, "2M");
	check_placed(&p, 3);
	CHECK(sga_geometry(&p, &g, err, sizeof(err)) == 0);
	model(&g, 3, &c);
	CHECK(c.pmd_shareable == 4);
	/* 1G pages: halves of 2 GiB */
	p = params("hugetlbfs-aligned", 2 * G1, 0.5, "1G");
	check_placed(&p, 2);
	/* all of a 1 GiB SGA: one window */
	p = params("hugetlbfs-aligned", G1, 1, "2M");
	check_placed(&p, 1);

	/* an aligned window below 1 GiB cannot share: refused, naming why */
	p = params("hugetlbfs-aligned", G1, 0.5, "2M");
	CHECK(sga_geometry(&p, &g, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "sga_size") && strstr(err, "fraction") && strstr(err, "512M") &&
	      !strchr(err, '\n'));
	p = params("hugetlbfs-aligned", 256 * MMR_MiB, 1, "2M");
	CHECK(sga_geometry(&p, &g, err, sizeof(err)) == -EINVAL);
	/* misaligned has nothing to share anyway: small windows are fine */
	p = params("hugetlbfs-misaligned", 256 * MMR_MiB, 1, "2M");
	CHECK(sga_geometry(&p, &g, err, sizeof(err)) == 0 && sga_window_offset(&g, 7) == 0);

	/* the kernel's placements: consecutive windows, a page further each lap */
	p = params("memfd", 4 * G1, 0.25, "2M");
	CHECK(sga_geometry(&p, &g, err, sizeof(err)) == 0);
	CHECK(g.grain == mmr_page_size() && g.positions == 3 * G1 / mmr_page_size() + 1);
	CHECK(sga_window_offset(&g, 3) == 3 * G1);
	CHECK(sga_window_offset(&g, 4) == G1 - mmr_page_size());
	return check_done("test_sga_geometry");
}
