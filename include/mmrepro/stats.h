/* SPDX-License-Identifier: GPL-2.0 */
/* Summary statistics of one metric's samples (see STATISTICS.md). */
#ifndef MMREPRO_STATS_H
#define MMREPRO_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct mmr_summary {
	size_t n;
	double median, mean, stddev, cov_pct, min, max, q1, q3, mad;
	double hmean; /* harmonic mean, only meaningful for positive rates */
	bool hmean_valid;
	bool ci_valid;	     /* false when n is too small for a 95% CI of the median */
	double ci_lo, ci_hi; /* 95% CI of the median (order statistics) */
	double ci_level;     /* actual coverage of that interval (>= 0.95) */
};

/* Linear-interpolation quantile (Hyndman-Fan type 7) of sorted data. */
double mmr_quantile_sorted(const double *sorted, size_t n, double q);
/*
 * 1-based ranks (lo, hi) of the order statistics that bound the median with at
 * least `level` coverage, from Binomial(n, 1/2): exact sums for n <= 30, normal
 * approximation with continuity correction above. Returns false when n is too
 * small for any such interval.
 */
bool mmr_median_ci_ranks(size_t n, double level, size_t *lo, size_t *hi, double *coverage);
/* Standard normal CDF and its inverse (shared with the comparison tests). */
double mmr_norm_cdf(double x);
double mmr_norm_quantile(double p);
int mmr_summarize(const double *x, size_t n, struct mmr_summary *s);
json_t *mmr_summary_json(const struct mmr_summary *s);

#endif
