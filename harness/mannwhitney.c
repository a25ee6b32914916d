// SPDX-License-Identifier: GPL-2.0
/* Mann-Whitney U, Hodges-Lehmann shift interval, Benjamini-Hochberg. */
#include "mmrepro/mannwhitney.h"
#include "mmrepro/stats.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tagged {
	double v;
	int from_x;
};

static int cmp_tagged(const void *a, const void *b)
{
	double x = ((const struct tagged *)a)->v, y = ((const struct tagged *)b)->v;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Null distribution of U without ties: f(u; a, b) = f(u - b; a - 1, b) +
 * f(u; a, b - 1), filled for a = 1..m over every b <= n. out[u] receives the
 * number of arrangements with U = u, u = 0..m*n.
 */
static int u_counts(size_t m, size_t n, double *out)
{
	size_t w = m * n + 1;
	double *prev = calloc((n + 1) * w, sizeof(double));
	double *cur = calloc((n + 1) * w, sizeof(double));

	if (!prev || !cur) {
		free(prev);
		free(cur);
		return -ENOMEM;
	}
	for (size_t b = 0; b <= n; b++)
		prev[b * w] = 1; /* a = 0: only U = 0 */
	for (size_t a = 1; a <= m; a++) {
		double *t;

		memset(cur, 0, (n + 1) * w * sizeof(double));
		cur[0] = 1; /* b = 0 */
		for (size_t b = 1; b <= n; b++)
			for (size_t u = 0; u <= a * b; u++)
				cur[b * w + u] =
					(u >= b ? prev[b * w + u - b] : 0) + cur[(b - 1) * w + u];
		t = prev;
		prev = cur;
		cur = t;
	}
	memcpy(out, prev + n * w, w * sizeof(double));
	free(prev);
	free(cur);
	return 0;
}

/*
 * With ties: the number of ways to pick k of the N doubled mid-ranks r[] with
 * each sum s = 0..N(N+1). cnt[j][s] over the first t items, j counted down so
 * each item is used once.
 */
static int ranksum_counts(const unsigned *r, size_t N, size_t k, double *out)
{
	size_t S = N * (N + 1), reach = 0;
	double *cnt = calloc((k + 1) * (S + 1), sizeof(double));

	if (!cnt)
		return -ENOMEM;
	cnt[0] = 1;
	for (size_t t = 0; t < N; t++) {
		reach += r[t];
		for (size_t j = t + 1 < k ? t + 1 : k; j >= 1; j--)
			for (size_t s = reach; s >= r[t]; s--)
				cnt[j * (S + 1) + s] += cnt[(j - 1) * (S + 1) + s - r[t]];
	}
	memcpy(out, cnt + k * (S + 1), (S + 1) * sizeof(double));
	free(cnt);
	return 0;
}

static double two_sided(const double *cnt, size_t len, size_t obs)
{
	double total = 0, lo = 0, hi = 0, p;

	for (size_t s = 0; s < len; s++) {
		total += cnt[s];
		if (s <= obs)
			lo += cnt[s];
		if (s >= obs)
			hi += cnt[s];
	}
	p = 2 * fmin(lo, hi) / total;
	return p > 1 ? 1 : p;
}

int mmr_mwu(const double *x, size_t m, const double *y, size_t n, struct mmr_mwu *r)
{
	size_t N = m + n, w2 = 0;
	struct tagged *all;
	unsigned *r2;
	double tie_term = 0;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (!m || !n)
		return -EINVAL;
	all = malloc(N * sizeof(*all));
	r2 = malloc(N * sizeof(*r2));
	if (!all || !r2) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m; i++)
		all[i] = (struct tagged){ x[i], 1 };
	for (size_t j = 0; j < n; j++)
		all[m + j] = (struct tagged){ y[j], 0 };
	qsort(all, N, sizeof(*all), cmp_tagged);
	/* Doubled mid-ranks keep everything in integers: positions i..j-1
	 * (0-based) share rank (i + 1 + j) / 2. */
	for (size_t i = 0, j; i < N; i = j) {
		for (j = i + 1; j < N && all[j].v == all[i].v; j++)
			;
		for (size_t t = i; t < j; t++) {
			r2[t] = (unsigned)(i + 1 + j);
			if (all[t].from_x)
				w2 += r2[t];
		}
		if (j - i > 1) {
			double t = (double)(j - i);

			r->ties = true;
			tie_term += t * t * t - t;
		}
	}
	r->u = (double)w2 / 2 - (double)m * (double)(m + 1) / 2;
	if (N <= MMR_MWU_EXACT_MAX_N) {
		size_t len = r->ties ? N * (N + 1) + 1 : m * n + 1;
		double *cnt = malloc(len * sizeof(double));

		if (!cnt) {
			ret = -ENOMEM;
			goto out;
		}
		r->exact = true;
		if (!r->ties) {
			ret = u_counts(m, n, cnt);
			if (!ret)
				r->p = two_sided(cnt, len, (size_t)llround(r->u));
		} else {
			/* order of the ranks does not matter to the count */
			ret = ranksum_counts(r2, N, m, cnt);
			if (!ret)
				r->p = two_sided(cnt, len, w2);
		}
		free(cnt);
	} else {
		double mu = (double)m * (double)n / 2;
		double var = (double)m * (double)n / 12 *
			     ((double)(N + 1) - tie_term / ((double)N * (double)(N - 1)));
		double z = var > 0 ? (fabs(r->u - mu) - 0.5) / sqrt(var) : 0;

		r->p = var > 0 ? fmin(1, 2 * (1 - mmr_norm_cdf(z))) : 1;
		if (z < 0)
			r->p = 1;
	}
out:
	free(all);
	free(r2);
	return ret;
}

/* Largest c with P(U <= c - 1) <= tail under the no-ties null (0: none). */
static int shift_rank(size_t m, size_t n, double tail, size_t *c, double *cover)
{
	size_t mn = m * n;

	if (m + n <= MMR_MWU_EXACT_MAX_N) {
		double *cnt = malloc((mn + 1) * sizeof(double)), total = 0, cum = 0;
		int ret;

		if (!cnt)
			return -ENOMEM;
		ret = u_counts(m, n, cnt);
		if (ret) {
			free(cnt);
			return ret;
		}
		for (size_t u = 0; u <= mn; u++)
			total += cnt[u];
		*c = 0;
		/* counts are exact integers; the tail is not (1 - 0.8 != 0.2) */
		while (*c < mn / 2 && cum + cnt[*c] <= tail * total * (1 + 1e-12))
			cum += cnt[(*c)++];
		*cover = 1 - 2 * cum / total;
		free(cnt);
	} else {
		double sd = sqrt((double)mn * (double)(m + n + 1) / 12);
		double cc = floor((double)mn / 2 + 0.5 - mmr_norm_quantile(1 - tail) * sd);

		*c = cc < 0 ? 0 : (size_t)cc;
		*cover = 1 - 2 * mmr_norm_cdf(((double)*c - 0.5 - (double)mn / 2) / sd);
	}
	return 0;
}

int mmr_hl_shift(const double *x, size_t m, const double *y, size_t n, double level,
		 struct mmr_shift *r)
{
	size_t mn = m * n, c = 0, k = 0;
	double *d;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!m || !n)
		return -EINVAL;
	ret = shift_rank(m, n, (1 - level) / 2, &c, &r->level);
	if (ret)
		return ret;
	if (c == 0)
		return -EDOM;
	d = malloc(mn * sizeof(double));
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++)
			d[k++] = y[j] - x[i];
	qsort(d, mn, sizeof(double), cmp_double);
	r->est = mn % 2 ? d[mn / 2] : (d[mn / 2 - 1] + d[mn / 2]) / 2;
	r->lo = d[c - 1];
	r->hi = d[mn - c];
	free(d);
	return 0;
}

static double log_choose(size_t n, size_t k)
{
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

bool mmr_mwu_too_few(size_t m, size_t n, double alpha)
{
	if (!m || !n)
		return true;
	/* the most extreme arrangement has probability 1 / C(m+n, m) per tail */
	return log(2) - log_choose(m + n, m) >= log(alpha);
}

size_t mmr_mwu_min_per_side(double alpha)
{
	size_t k = 1;

	while (k < 1000 && mmr_mwu_too_few(k, k, alpha))
		k++;
	return k;
}

struct ranked_p {
	double p;
	size_t i;
};

static int cmp_ranked_p(const void *a, const void *b)
{
	double x = ((const struct ranked_p *)a)->p, y = ((const struct ranked_p *)b)->p;

	return (x > y) - (x < y);
}

int mmr_bh_adjust(const double *p, size_t n, double *q)
{
	struct ranked_p *s = malloc((n ? n : 1) * sizeof(*s));
	size_t k = 0;
	double run = 1;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		q[i] = NAN;
		if (!isnan(p[i]))
			s[k++] = (struct ranked_p){ p[i], i };
	}
	qsort(s, k, sizeof(*s), cmp_ranked_p);
	for (size_t j = k; j-- > 0;) {
		double v = s[j].p * (double)k / (double)(j + 1);

		run = fmin(run, v);
		q[s[j].i] = run;
	}
	free(s);
	return 0;
}
