/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sweep table of mthp_alloc (report.analysis.mthp_alloc): one row per
 * case that ran, size set x allocator (and whatever else the sweep varied)
 * -> medians of ops/s, heap RSS, bloat, hidden bytes, fallbacks, deferred
 * splits and what reclaim gave back, each beside the same case with no THP;
 * under a set of several sizes, its fallbacks and deferred splits per size.
 */
#ifndef MMREPRO_MTHP_ALLOC_ANALYSIS_H
#define MMREPRO_MTHP_ALLOC_ANALYSIS_H

#include <jansson.h>

/* {"rows": [...], "summary_lines": [...]}, or NULL when no case ran. */
json_t *mthp_alloc_table(json_t *cases);

#endif
