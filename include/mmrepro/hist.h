/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Latency histograms: log-linear buckets (32 per power of two), so recording
 * is a few instructions in a timed loop and a quantile is within 1/64 (1.6%)
 * of the true value at any magnitude, from 1 ns to hours. One per thread,
 * merged after the timed window; no locks, no allocation.
 */
#ifndef MMREPRO_HIST_H
#define MMREPRO_HIST_H

#include <stdint.h>

#define MMR_HIST_SUB_BITS 5
#define MMR_HIST_SUB	  (1u << MMR_HIST_SUB_BITS)
/* values below MMR_HIST_SUB have a bucket each; above, 64 - SUB_BITS octaves */
#define MMR_HIST_BUCKETS ((64 - MMR_HIST_SUB_BITS + 1) * MMR_HIST_SUB)

struct mmr_hist {
	uint64_t n, min, max;
	uint64_t bucket[MMR_HIST_BUCKETS];
};

static inline unsigned mmr_hist_index(uint64_t v)
{
	unsigned e;

	if (v < MMR_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* v in [2^e, 2^(e+1)) */
	return (e - MMR_HIST_SUB_BITS + 1) * MMR_HIST_SUB +
	       (unsigned)((v >> (e - MMR_HIST_SUB_BITS)) & (MMR_HIST_SUB - 1));
}

static inline void mmr_hist_add(struct mmr_hist *h, uint64_t v)
{
	h->bucket[mmr_hist_index(v)]++;
	if (!h->n++ || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void mmr_hist_reset(struct mmr_hist *h);
void mmr_hist_merge(struct mmr_hist *dst, const struct mmr_hist *src);
/* Lowest value a bucket holds, and how many values it spans. */
uint64_t mmr_hist_bucket_low(unsigned idx);
uint64_t mmr_hist_bucket_width(unsigned idx);
/* The q-quantile (0 <= q <= 1): the middle of the bucket holding the value of
 * rank ceil(q * n), clamped to [min, max]. NAN when empty. */
double mmr_hist_quantile(const struct mmr_hist *h, double q);

#endif
