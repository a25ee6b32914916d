// SPDX-License-Identifier: GPL-2.0
/* Summary statistics against values computed by hand (see comments). */
#include "check.h"
#include "mmrepro/stats.h"

int main(void)
{
	/* 1..10 shuffled: the summary must not depend on order */
	const double ten[] = { 7, 3, 10, 1, 5, 9, 2, 8, 6, 4 };
	const double rates[] = { 1, 2, 4 };
	struct mmr_summary s;
	size_t lo, hi;
	double cov;

	CHECK(mmr_summarize(ten, 10, &s) == 0);
	CHECK(s.n == 10);
	CHECK_NEAR(s.median, 5.5, 1e-12);
	CHECK_NEAR(s.mean, 5.5, 1e-12);
	/* sum of squared deviations = 82.5; / 9 = 9.1666..; sqrt = 3.0276503541 */
	CHECK_NEAR(s.stddev, 3.0276503541, 1e-9);
	CHECK_NEAR(s.cov_pct, 100 * 3.0276503541 / 5.5, 1e-7);
	CHECK_NEAR(s.min, 1, 0);
	CHECK_NEAR(s.max, 10, 0);
	/* type 7: h = 9 * 0.25 = 2.25 -> 3 + 0.25 * (4 - 3) */
	CHECK_NEAR(s.q1, 3.25, 1e-12);
	CHECK_NEAR(s.q3, 7.75, 1e-12);
	/* |x - 5.5| = .5 .5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 4.5 -> median 2.5 */
	CHECK_NEAR(s.mad, 2.5, 1e-12);
	/* Binomial(10, 1/2): P(B<=1) = 11/1024 <= .025 < P(B<=2) = 56/1024, so
	 * ranks 2 and 9: [2, 9] with coverage 1 - 22/1024 */
	CHECK(s.ci_valid);
	CHECK_NEAR(s.ci_lo, 2, 0);
	CHECK_NEAR(s.ci_hi, 9, 0);
	CHECK_NEAR(s.ci_level, 1 - 22.0 / 1024, 1e-12);

	/* n = 6 is the smallest with a 95% interval: [x(1), x(6)], 1 - 2/64 */
	CHECK(mmr_median_ci_ranks(6, 0.95, &lo, &hi, &cov));
	CHECK(lo == 1 && hi == 6);
	CHECK_NEAR(cov, 1 - 2.0 / 64, 1e-12);
	CHECK(!mmr_median_ci_ranks(5, 0.95, &lo, &hi, &cov));
	/* n = 40 (normal approximation): ranks 14 and 27, as in the usual tables */
	CHECK(mmr_median_ci_ranks(40, 0.95, &lo, &hi, &cov));
	CHECK(lo == 14 && hi == 27);
	/* n = 30 exact: P(B<=9) = 0.0214 <= .025 < P(B<=10) = 0.0494 -> ranks 10, 21 */
	CHECK(mmr_median_ci_ranks(30, 0.95, &lo, &hi, &cov));
	CHECK(lo == 10 && hi == 21);

	/* harmonic mean of 1, 2, 4 = 3 / 1.75 */
	CHECK(mmr_summarize(rates, 3, &s) == 0);
	CHECK(s.hmean_valid);
	CHECK_NEAR(s.hmean, 3 / 1.75, 1e-12);
	CHECK(!s.ci_valid);
	CHECK_NEAR(s.median, 2, 0);

	/* one sample: no spread, no interval */
	CHECK(mmr_summarize(rates, 1, &s) == 0);
	CHECK(s.n == 1 && s.stddev == 0 && !s.ci_valid && s.median == 1);

	/* an even count's median interpolates */
	{
		const double two[] = { 10, 20 };

		CHECK(mmr_summarize(two, 2, &s) == 0);
		CHECK_NEAR(s.median, 15, 0);
		CHECK_NEAR(mmr_quantile_sorted(two, 2, 0.25), 12.5, 1e-12);
	}
	return check_done("test_stats");
}
