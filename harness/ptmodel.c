// SPDX-License-Identifier: GPL-2.0
/* The page-table model; see ptmodel.h for what it counts and why. */
#include "mmrepro/ptmodel.h"
#include "mmrepro/backing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT64_MAX

static uint64_t pte_span(void) /* bytes one PTE table maps: 2 MiB with 4K pages */
{
	return mmr_page_size() / 8 * mmr_page_size();
}

static uint64_t pmd_span(void) /* bytes one PMD table maps: 1 GiB */
{
	return mmr_page_size() / 8 * pte_span();
}

/* The first touched address >= from, or NONE. */
static uint64_t touched_from(const struct mmr_pt_mapping *m, uint64_t from)
{
	uint64_t stride = m->touch_stride ? m->touch_stride : mmr_page_size();
	uint64_t end = m->touch_start + m->touch_len, x = m->touch_start;

	if (from > x)
		x += (from - x + stride - 1) / stride * stride;
	return x < end ? x : NONE;
}

/* The first touched address in a region of `span` bytes (a power of two)
 * after the one holding x, or NONE. */
static uint64_t next_region(const struct mmr_pt_mapping *m, uint64_t x, uint64_t span)
{
	return touched_from(m, (x & ~(span - 1)) + span);
}

static bool inside(const struct mmr_pt_mapping *m, uint64_t start, uint64_t len)
{
	return start >= m->start && start + len <= m->start + m->len;
}

/* Is this 2 MiB of address space mapped by one PMD entry? */
static bool pmd_mapped(const struct mmr_pt_mapping *m, uint64_t chunk)
{
	uint64_t span = pte_span();

	return m->folio >= span && inside(m, chunk, span) &&
	       (chunk - m->start + m->file_off) % span == 0;
}

void mmr_pt_model_one(const struct mmr_pt_mapping *m, struct mmr_pt_count *out)
{
	memset(out, 0, sizeof(*out));
	if (m->hugetlb && m->folio >= pmd_span())
		return; /* PUD entries only */
	for (uint64_t x = touched_from(m, 0); x != NONE; x = next_region(m, x, pmd_span())) {
		out->pmd++;
		if (m->hugetlb && m->share_pmd && inside(m, x & ~(pmd_span() - 1), pmd_span()))
			out->pmd_shareable++;
	}
	out->pmd -= out->pmd > m->pmd_present ? m->pmd_present : out->pmd;
	if (m->hugetlb)
		return; /* PMD entries only */
	for (uint64_t x = touched_from(m, 0); x != NONE; x = next_region(m, x, pte_span()))
		if (!pmd_mapped(m, x & ~(pte_span() - 1)))
			out->pte++;
	out->pte -= out->pte > m->pte_present ? m->pte_present : out->pte;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int mmr_pt_model_all(const struct mmr_pt_mapping *m, size_t n, struct mmr_pt_count *out)
{
	uint64_t *keys = NULL, nkeys = 0, cap = 0;
	struct mmr_pt_count one;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		mmr_pt_model_one(&m[i], &one);
		out->pte += one.pte;
		out->pmd += one.pmd > one.pmd_shareable ? one.pmd - one.pmd_shareable : 0;
		cap += one.pmd_shareable;
	}
	if (!cap)
		return 0;
	keys = malloc(cap * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	/* a shared table is named by the file offset at the start of its GiB */
	for (size_t i = 0; i < n; i++) {
		if (!m[i].hugetlb || !m[i].share_pmd)
			continue;
		for (uint64_t x = touched_from(&m[i], 0); x != NONE;
		     x = next_region(&m[i], x, pmd_span())) {
			uint64_t g = x & ~(pmd_span() - 1);

			if (inside(&m[i], g, pmd_span()) && nkeys < cap)
				keys[nkeys++] = g - m[i].start + m[i].file_off;
		}
	}
	qsort(keys, nkeys, sizeof(*keys), cmp_u64);
	for (uint64_t i = 0; i < nkeys; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			out->pmd_shareable++;
	out->pmd += out->pmd_shareable;
	free(keys);
	return 0;
}

uint64_t mmr_pt_bytes(const struct mmr_pt_count *c)
{
	return (c->pte + c->pmd) * mmr_page_size();
}
