// SPDX-License-Identifier: GPL-2.0
/* Log-linear latency histograms (see hist.h). */
#include "mmrepro/hist.h"

#include <math.h>
#include <string.h>

void mmr_hist_reset(struct mmr_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void mmr_hist_merge(struct mmr_hist *dst, const struct mmr_hist *src)
{
	if (!src->n)
		return;
	for (unsigned i = 0; i < MMR_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	if (!dst->n || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
}

uint64_t mmr_hist_bucket_low(unsigned idx)
{
	unsigned e = idx / MMR_HIST_SUB + MMR_HIST_SUB_BITS - 1;

	if (idx < MMR_HIST_SUB)
		return idx;
	return (uint64_t)(MMR_HIST_SUB + idx % MMR_HIST_SUB) << (e - MMR_HIST_SUB_BITS);
}

uint64_t mmr_hist_bucket_width(unsigned idx)
{
	if (idx < MMR_HIST_SUB)
		return 1;
	return 1ULL << (idx / MMR_HIST_SUB - 1);
}

double mmr_hist_quantile(const struct mmr_hist *h, double q)
{
	uint64_t rank, seen = 0;
	double v;

	if (!h->n)
		return NAN;
	if (q <= 0)
		return (double)h->min;
	if (q >= 1)
		return (double)h->max;
	rank = (uint64_t)ceil(q * (double)h->n);
	for (unsigned i = 0; i < MMR_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen < rank)
			continue;
		v = (double)mmr_hist_bucket_low(i) + (double)(mmr_hist_bucket_width(i) - 1) / 2;
		return v < (double)h->min   ? (double)h->min
		       : v > (double)h->max ? (double)h->max
					    : v;
	}
	return (double)h->max;
}
