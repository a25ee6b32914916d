// SPDX-License-Identifier: GPL-2.0
/* Summary statistics of one metric: order statistics, moments, the 95% CI of
 * the median from Binomial(n, 1/2). */
#include "mmrepro/stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double mmr_quantile_sorted(const double *s, size_t n, double q)
{
	double h, lo;
	size_t i;

	if (n == 0)
		return NAN;
	if (n == 1)
		return s[0];
	h = (double)(n - 1) * q;
	lo = floor(h);
	i = (size_t)lo;
	if (i + 1 >= n)
		return s[n - 1];
	return s[i] + (h - lo) * (s[i + 1] - s[i]);
}

/* P(B <= k) for B ~ Binomial(n, 1/2), summed exactly in log space. */
static double binom_half_cdf(size_t n, size_t k)
{
	double sum = 0, logc = 0; /* log C(n, 0) */

	for (size_t i = 0; i <= k && i <= n; i++) {
		if (i > 0)
			logc += log((double)(n - i + 1)) - log((double)i);
		sum += exp(logc - (double)n * M_LN2);
	}
	return sum;
}

double mmr_norm_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/* z with mmr_norm_cdf(z) = p, by bisection (only used for CI levels). */
double mmr_norm_quantile(double p)
{
	double lo = -10, hi = 10;

	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (mmr_norm_cdf(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

bool mmr_median_ci_ranks(size_t n, double level, size_t *lo, size_t *hi, double *coverage)
{
	double tail = (1 - level) / 2;
	size_t k = 0;

	if (n == 0)
		return false;
	if (n <= 30) {
		/* Largest k with P(B <= k-1) <= tail: [x(k), x(n-k+1)]. */
		while (k + 1 <= n / 2 && binom_half_cdf(n, k) <= tail)
			k++;
		if (k == 0)
			return false;
		*coverage = 1 - 2 * binom_half_cdf(n, k - 1);
	} else {
		double z = mmr_norm_quantile(1 - tail);
		double kk = floor((double)n / 2 + 0.5 - z * sqrt((double)n) / 2);

		if (kk < 1)
			return false;
		k = (size_t)kk;
		*coverage = 1 - 2 * mmr_norm_cdf(((double)k - 1 + 0.5 - (double)n / 2) /
						 (sqrt((double)n) / 2));
	}
	*lo = k;
	*hi = n - k + 1;
	return true;
}

int mmr_summarize(const double *x, size_t n, struct mmr_summary *s)
{
	double *sorted, *dev, sum = 0, sq = 0, inv = 0;
	size_t lo, hi;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if (n == 0)
		return 0;
	sorted = malloc(n * sizeof(double));
	dev = malloc(n * sizeof(double));
	if (!sorted || !dev) {
		free(sorted);
		free(dev);
		return -ENOMEM;
	}
	memcpy(sorted, x, n * sizeof(double));
	qsort(sorted, n, sizeof(double), cmp_double);
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->median = mmr_quantile_sorted(sorted, n, 0.5);
	s->q1 = mmr_quantile_sorted(sorted, n, 0.25);
	s->q3 = mmr_quantile_sorted(sorted, n, 0.75);
	s->hmean_valid = true;
	for (size_t i = 0; i < n; i++) {
		sum += x[i];
		if (x[i] > 0)
			inv += 1 / x[i];
		else
			s->hmean_valid = false;
	}
	s->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		sq += (x[i] - s->mean) * (x[i] - s->mean);
	s->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
	s->cov_pct = s->mean != 0 ? 100 * s->stddev / fabs(s->mean) : 0;
	s->hmean = s->hmean_valid ? (double)n / inv : 0;
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(x[i] - s->median);
	qsort(dev, n, sizeof(double), cmp_double);
	s->mad = mmr_quantile_sorted(dev, n, 0.5);
	s->ci_valid = mmr_median_ci_ranks(n, 0.95, &lo, &hi, &s->ci_level);
	if (s->ci_valid) {
		s->ci_lo = sorted[lo - 1];
		s->ci_hi = sorted[hi - 1];
	}
	free(sorted);
	free(dev);
	return 0;
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *mmr_summary_json(const struct mmr_summary *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "n", json_integer((json_int_t)s->n));
	if (s->n == 0)
		return o;
	json_object_set_new(o, "median", num(s->median));
	json_object_set_new(o, "mean", num(s->mean));
	json_object_set_new(o, "stddev", num(s->stddev));
	json_object_set_new(o, "cov_pct", num(s->cov_pct));
	json_object_set_new(o, "min", num(s->min));
	json_object_set_new(o, "max", num(s->max));
	json_object_set_new(o, "q1", num(s->q1));
	json_object_set_new(o, "q3", num(s->q3));
	json_object_set_new(o, "mad", num(s->mad));
	json_object_set_new(o, "hmean", s->hmean_valid ? num(s->hmean) : json_null());
	if (s->ci_valid) {
		json_t *ci = json_object();

		json_object_set_new(ci, "lo", num(s->ci_lo));
		json_object_set_new(ci, "hi", num(s->ci_hi));
		json_object_set_new(ci, "level", num(s->ci_level));
		json_object_set_new(o, "median_ci95", ci);
	} else {
		json_object_set_new(o, "median_ci95", json_null());
		json_object_set_new(o, "note",
				    json_string("need >= 6 samples for a 95% CI of the median"));
	}
	return o;
}
