// SPDX-License-Identifier: GPL-2.0
/* Latency histograms: bucket edges, quantiles against exact order statistics,
 * merging, and the error bound the header promises. */
#include "check.h"
#include "mmrepro/hist.h"

static struct mmr_hist a, b, all;

int main(void)
{
	/* buckets tile the value range: each one starts where the last ended */
	for (unsigned i = 1; i < MMR_HIST_BUCKETS; i++)
		CHECK(mmr_hist_bucket_low(i) ==
		      mmr_hist_bucket_low(i - 1) + mmr_hist_bucket_width(i - 1));
	for (uint64_t v = 0; v < 100000; v = v * 3 / 2 + 1) {
		unsigned i = mmr_hist_index(v);

		CHECK(mmr_hist_bucket_low(i) <= v &&
		      v < mmr_hist_bucket_low(i) + mmr_hist_bucket_width(i));
	}
	CHECK(mmr_hist_index(UINT64_MAX) == MMR_HIST_BUCKETS - 1);
	CHECK(mmr_hist_index(31) == 31 && mmr_hist_bucket_width(31) == 1);

	/* empty: no quantile */
	CHECK(isnan(mmr_hist_quantile(&a, 0.5)));

	/* 1..1000 ns into a, 1001..2000 into b: the merge has 1..2000, whose
	 * p50 is 1000, p99 1980, p99.9 1998 (rank ceil(q n)) */
	for (uint64_t v = 1; v <= 1000; v++)
		mmr_hist_add(&a, v);
	for (uint64_t v = 1001; v <= 2000; v++)
		mmr_hist_add(&b, v);
	CHECK(a.n == 1000 && a.min == 1 && a.max == 1000);
	mmr_hist_merge(&all, &a);
	mmr_hist_merge(&all, &b);
	CHECK(all.n == 2000 && all.min == 1 && all.max == 2000);
	CHECK_NEAR(mmr_hist_quantile(&all, 0.5), 1000, 1000.0 / 64);
	CHECK_NEAR(mmr_hist_quantile(&all, 0.99), 1980, 1980.0 / 64);
	CHECK_NEAR(mmr_hist_quantile(&all, 0.999), 1998, 1998.0 / 64);
	CHECK_NEAR(mmr_hist_quantile(&all, 1), 2000, 0);
	CHECK_NEAR(mmr_hist_quantile(&all, 0), 1, 0);
	/* small values are exact */
	CHECK_NEAR(mmr_hist_quantile(&a, 0.01), 10, 0);

	/* a long tail: 999 fast ops and one of 5 ms; p99.9 sees only the fast */
	mmr_hist_reset(&a);
	for (int i = 0; i < 999; i++)
		mmr_hist_add(&a, 2000);
	mmr_hist_add(&a, 5000000);
	CHECK_NEAR(mmr_hist_quantile(&a, 0.999), 2000, 2000.0 / 64);
	CHECK_NEAR(mmr_hist_quantile(&a, 0.9995), 5000000, 5000000.0 / 64);

	/* the relative error bound holds at large magnitudes too */
	for (uint64_t v = 1000; v < (1ULL << 50); v = v * 7 / 3) {
		mmr_hist_reset(&b);
		mmr_hist_add(&b, v);
		mmr_hist_add(&b, v + 1); /* min and max no longer pin the answer */
		mmr_hist_add(&b, 3 * v);
		CHECK_NEAR(mmr_hist_quantile(&b, 0.5), (double)v, (double)v / 64 + 1);
	}
	return check_done("test_hist");
}
