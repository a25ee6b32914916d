/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is the difference between two samples real? The two-sided Mann-Whitney U
 * test, the Hodges-Lehmann shift with its distribution-free (Moses) interval,
 * and the Benjamini-Hochberg adjustment (see STATISTICS.md).
 */
#ifndef MMREPRO_MANNWHITNEY_H
#define MMREPRO_MANNWHITNEY_H

#include <stdbool.h>
#include <stddef.h>

/* Up to this many samples in total the null distribution is enumerated
 * exactly (with ties: over sums of mid-ranks); above, the normal
 * approximation with tie and continuity correction is used. */
#define MMR_MWU_EXACT_MAX_N 50

struct mmr_mwu {
	double u;   /* U of x: pairs with x_i > y_j, a tie counting 1/2 */
	double p;   /* two-sided: min(1, 2 * min(P(U <= u), P(U >= u))) */
	bool exact; /* false: normal approximation */
	bool ties;
};

/* Returns 0, -EINVAL when a side is empty, -ENOMEM. */
int mmr_mwu(const double *x, size_t m, const double *y, size_t n, struct mmr_mwu *r);

struct mmr_shift {
	double est;    /* Hodges-Lehmann: median of all y_j - x_i */
	double lo, hi; /* interval with at least `level` coverage (no-ties null) */
	double level;  /* the coverage actually reached */
};

/* Shift of y against x. -EDOM when the samples are too small for an interval
 * at this level, -EINVAL for an empty side, -ENOMEM. */
int mmr_hl_shift(const double *x, size_t m, const double *y, size_t n, double level,
		 struct mmr_shift *r);

/* True when m + n samples cannot give a two-sided p below alpha whatever the
 * data (e.g. 3 + 3: the smallest p is 0.1). */
bool mmr_mwu_too_few(size_t m, size_t n, double alpha);
/* The smallest k for which k + k samples can give p < alpha. */
size_t mmr_mwu_min_per_side(double alpha);

/* Benjamini-Hochberg q-values of n p-values (NaN entries are skipped and give
 * NaN). Returns 0 or -ENOMEM. */
int mmr_bh_adjust(const double *p, size_t n, double *q);

#endif
